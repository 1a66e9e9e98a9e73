/*
 * crc32c_test.c - CRC-32C against published vectors, and hardware vs
 * software paths against each other on every length/alignment.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/crc32c.h"

START_TEST(test_known_vectors)
{
    const char *s = "123456789";
    ck_assert_uint_eq(crc32c(0, s, 9), 0xE3069283u);
    ck_assert_uint_eq(crc32c_sw(0, s, 9), 0xE3069283u);
    ck_assert_uint_eq(crc32c(0, "", 0), 0);
    /* RFC 3720 B.4: 32 bytes of zeros, of 0xff, ascending. */
    uint8_t b[32];
    memset(b, 0, sizeof b);
    ck_assert_uint_eq(crc32c_sw(0, b, 32), 0x8A9136AAu);
    memset(b, 0xff, sizeof b);
    ck_assert_uint_eq(crc32c_sw(0, b, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)i;
    ck_assert_uint_eq(crc32c_sw(0, b, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)(31 - i);
    ck_assert_uint_eq(crc32c_sw(0, b, 32), 0x113FDB5Cu);
    if (crc32c_hw_available()) {
        ck_assert_uint_eq(crc32c_hw(0, s, 9), 0xE3069283u);
        ck_assert_uint_eq(crc32c_hw(0, b, 32), 0x113FDB5Cu);
    }
}
END_TEST

START_TEST(test_chaining)
{
    const char *s = "123456789";
    uint32_t c = crc32c(0, s, 4);
    c = crc32c(c, s + 4, 5);
    ck_assert_uint_eq(c, 0xE3069283u);
    c = crc32c_sw(0, s, 3);
    c = crc32c_sw(c, s + 3, 6);
    ck_assert_uint_eq(c, 0xE3069283u);
}
END_TEST

START_TEST(test_hw_matches_sw)
{
    if (!crc32c_hw_available())
        return; /* nothing to compare on this CPU */
    uint8_t buf[1100];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t off = 0; off < 9; off++)
        for (size_t n = 0; n + off <= sizeof buf; n += (n < 64 ? 1 : 37))
            ck_assert_uint_eq(crc32c_hw(7, buf + off, n), crc32c_sw(7, buf + off, n));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("crc32c");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_known_vectors);
    tcase_add_test(tc, test_chaining);
    tcase_add_test(tc, test_hw_matches_sw);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
