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

START_TEST(test_lane_constants)
{
    /* the constants crc32c_hw joins its lanes with (crc32c.c) */
    ck_assert_uint_eq(crc32c_x_pow(0), 0x80000000u);
    ck_assert_uint_eq(crc32c_x_pow(1), 0x40000000u);
    ck_assert_uint_eq(crc32c_x_pow(32), 0x82F63B78u); /* x^32 = P - x^32 */
    ck_assert_uint_eq(crc32c_x_pow(8 * 8192 - 33), 0x54a86326u);
    ck_assert_uint_eq(crc32c_x_pow(16 * 8192 - 33), 0x1dc403ccu);
    ck_assert_uint_eq(crc32c_x_pow(8 * 256 - 33), 0xb9e02b86u);
    ck_assert_uint_eq(crc32c_x_pow(16 * 256 - 33), 0xdd7e3b0cu);
}
END_TEST

START_TEST(test_hw_lanes_match_sw)
{
    /* lengths around the 3-lane block sizes (3 * 256, 3 * 8192) and a
     * produce-sized buffer, at every alignment */
    if (!crc32c_hw_available())
        return;
    size_t cap = (1u << 20) + 64;
    uint8_t *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    uint32_t x = 987654321u;
    for (size_t i = 0; i < cap; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    static const size_t lens[] = { 767, 768, 769, 1536, 2303, 24575, 24576, 24577, 49152 + 768 + 13,
                                   100000, (1u << 20) };
    for (size_t off = 0; off < 9; off++)
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++)
            ck_assert_uint_eq(crc32c_hw(0x1234567u, buf + off, lens[k]), crc32c_sw(0x1234567u, buf + off, lens[k]));
    /* chaining across a lane boundary */
    uint32_t c = crc32c_hw(0, buf, 30000);
    ck_assert_uint_eq(crc32c_hw(c, buf + 30000, 70000), crc32c_sw(0, buf, 100000));
    free(buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("crc32c");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_known_vectors);
    tcase_add_test(tc, test_chaining);
    tcase_add_test(tc, test_hw_matches_sw);
    tcase_add_test(tc, test_lane_constants);
    tcase_add_test(tc, test_hw_lanes_match_sw);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
