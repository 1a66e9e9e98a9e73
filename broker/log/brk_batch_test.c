/*
 * brk_batch_test.c - v2 batch parsing and produce validation on batches
 * built here (records are opaque to the broker, so the builder fills the
 * record area with a pattern), every corruption class, split batches and
 * the LogAppendTime rewrite.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/brk_batch.h"
#include "common/be.h"
#include "common/crc32c.h"

/* build - one v2 batch of `count` records with `payload_bytes` of record area. */
static size_t build(uint8_t *out, int32_t count, int codec, int16_t extra_attr, int64_t max_ts,
                    size_t payload_bytes)
{
    size_t size = BRK_BATCH_HDR_BYTES + payload_bytes;
    memset(out, 0, BRK_BATCH_HDR_BYTES);
    be_put64(out, 0);
    be_put32(out + 8, (uint32_t)(size - 12));
    be_put32(out + 12, (uint32_t)-1);
    out[16] = 2;
    uint16_t attr = (uint16_t)(codec | extra_attr);
    out[21] = (uint8_t)(attr >> 8);
    out[22] = (uint8_t)attr;
    be_put32(out + 23, (uint32_t)(count - 1));
    be_put64(out + 27, (uint64_t)(max_ts - 5));
    be_put64(out + 35, (uint64_t)max_ts);
    be_put64(out + 43, (uint64_t)1234);
    out[51] = 0;
    out[52] = 7;
    be_put32(out + 53, 42);
    be_put32(out + 57, (uint32_t)count);
    for (size_t k = 0; k < payload_bytes; k++)
        out[BRK_BATCH_HDR_BYTES + k] = (uint8_t)(k * 7 + 3);
    be_put32(out + 17, crc32c(0, out + 21, size - 21));
    return size;
}

static void recrc(uint8_t *b)
{
    size_t size = be_get32(b + 8) + 12u;
    be_put32(b + 17, crc32c(0, b + 21, size - 21));
}

START_TEST(test_parse_header)
{
    uint8_t b[256];
    size_t n = build(b, 3, 0, 0, 1000, 40);
    struct brk_batch_hdr h;
    ck_assert_int_eq(brk_batch_parse(b, n, &h), (int)n);
    ck_assert_int_eq(h.magic, 2);
    ck_assert_int_eq(h.batch_length, (int)n - 12);
    ck_assert_int_eq(h.last_offset_delta, 2);
    ck_assert_int_eq(h.records_count, 3);
    ck_assert_int_eq(h.max_timestamp_ms, 1000);
    ck_assert_int_eq(h.base_timestamp_ms, 995);
    ck_assert_int_eq(h.producer_id, 1234);
    ck_assert_int_eq(h.producer_epoch, 7);
    ck_assert_int_eq(h.base_sequence, 42);
    ck_assert_int_eq(h.leader_epoch, -1);
    ck_assert(brk_batch_crc_ok(b, &h));
    /* need more: a header cut short */
    ck_assert_int_eq(brk_batch_parse(b, 60, &h), 0);
    ck_assert_int_eq(brk_batch_parse(b, 10, &h), 0);
    /* header complete, body beyond len: still parses, reports full size */
    ck_assert_int_eq(brk_batch_parse(b, 70, &h), (int)n);
    b[16] = 1;
    ck_assert_int_eq(brk_batch_parse(b, 17, &h), ERR_UNSUPPORTED);
}
END_TEST

START_TEST(test_validate_ok_multi)
{
    uint8_t b[1024];
    size_t n = build(b, 2, 0, 0, 100, 30);
    n += build(b + n, 5, 3 /* lz4, opaque */, 0, 300, 50);
    n += build(b + n, 1, 0, 0, 200, 10);
    struct brk_batch_summary s;
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n), 1 << 20, &s), 0);
    ck_assert_int_eq(s.batch_count, 3);
    ck_assert_int_eq(s.record_count, 8);
    ck_assert_int_eq(s.max_timestamp_ms, 300);
    ck_assert_int_eq(s.max_timestamp_delta, 6); /* last record of batch 2: 2 + 4 */
    ck_assert_int_eq(s.codec, BRK_BATCH_CODEC_NONE);
    ck_assert_int_eq(s.producer_id, 1234);
    ck_assert_int_eq(s.producer_epoch, 7);
    ck_assert(!s.transactional);
    ck_assert(!s.control);
    for (int codec = 1; codec <= 4; codec++) {
        n = build(b, 4, codec, BRK_BATCH_ATTR_TRANSACTIONAL, 9, 20);
        ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n), 1 << 20, &s), 0);
        ck_assert_int_eq(s.codec, codec);
        ck_assert(s.transactional);
    }
}
END_TEST

START_TEST(test_validate_corruptions)
{
    uint8_t b[512];
    struct brk_batch_summary s;
    size_t n = build(b, 2, 0, 0, 100, 30);
    /* wrong magic (v1) */
    b[16] = 1;
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n), 1 << 20, &s), ERR_UNSUPPORTED);
    b[16] = 2;
    /* CRC: flip a record byte */
    b[n - 1] ^= 0x40;
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n), 1 << 20, &s), ERR_CORRUPT);
    b[n - 1] ^= 0x40;
    /* CRC field itself */
    b[18] ^= 1;
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n), 1 << 20, &s), ERR_CORRUPT);
    b[18] ^= 1;
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n), 1 << 20, &s), 0);
    /* batchLength beyond the buffer */
    be_put32(b + 8, (uint32_t)(n - 12 + 1));
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n), 1 << 20, &s), ERR_CORRUPT);
    /* batchLength below header size, and negative */
    be_put32(b + 8, 48);
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n), 1 << 20, &s), ERR_CORRUPT);
    be_put32(b + 8, 0xffffff00u);
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n), 1 << 20, &s), ERR_CORRUPT);
    be_put32(b + 8, (uint32_t)(n - 12));
    /* too large */
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n), (int32_t)n, &s), 0);
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n), (int32_t)n - 1, &s), ERR_TOO_LARGE);
    /* codecs 5..7 */
    for (int codec = 5; codec <= 7; codec++) {
        n = build(b, 2, codec, 0, 100, 30);
        ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n), 1 << 20, &s), ERR_UNSUPPORTED);
    }
    /* count inconsistent with lastOffsetDelta; negative and zero counts */
    n = build(b, 3, 0, 0, 100, 30);
    be_put32(b + 57, 4);
    recrc(b);
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n), 1 << 20, &s), ERR_INVALID);
    be_put32(b + 57, (uint32_t)-1);
    recrc(b);
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n), 1 << 20, &s), ERR_INVALID);
    n = build(b, 0, 0, 0, 100, 0);
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n), 1 << 20, &s), ERR_INVALID);
    /* empty / null records */
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(NULL, 0), 1 << 20, &s), ERR_CORRUPT);
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, 0), 1 << 20, &s), ERR_CORRUPT);
}
END_TEST

START_TEST(test_split_across_end)
{
    uint8_t b[512];
    struct brk_batch_summary s;
    size_t n1 = build(b, 2, 0, 0, 100, 30);
    size_t n2 = build(b + n1, 2, 0, 0, 100, 30);
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n1 + n2), 1 << 20, &s), 0);
    /* second batch cut at every point: header partial, body partial */
    for (size_t cut = 1; cut < n2; cut++)
        ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n1 + cut), 1 << 20, &s), ERR_CORRUPT);
    /* a partial header whose magic is already visible and wrong */
    b[n1 + 16] = 0;
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n1 + 20), 1 << 20, &s), ERR_UNSUPPORTED);
}
END_TEST

START_TEST(test_log_append_time_and_patch)
{
    uint8_t b[256];
    size_t n = build(b, 3, 0, 0, 100, 30);
    brk_batch_set_log_append_time(b, 5555);
    struct brk_batch_hdr h;
    ck_assert_int_eq(brk_batch_parse(b, n, &h), (int)n);
    ck_assert(brk_batch_crc_ok(b, &h));
    ck_assert_int_eq(h.max_timestamp_ms, 5555);
    ck_assert(h.attributes & BRK_BATCH_ATTR_LOG_APPEND_TIME);
    struct brk_batch_summary s;
    ck_assert_int_eq(brk_batch_validate_produce(bytes_make(b, n), 1 << 20, &s), 0);
    ck_assert(s.log_append_time);
    ck_assert_int_eq(s.max_timestamp_ms, 5555);
    brk_batch_patch(b, 1000000007, 9);
    ck_assert_int_eq(brk_batch_parse(b, n, &h), (int)n);
    ck_assert_int_eq(h.base_offset, 1000000007);
    ck_assert_int_eq(h.leader_epoch, 9);
    ck_assert(brk_batch_crc_ok(b, &h)); /* CRC does not cover them */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("brk_batch");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_header);
    tcase_add_test(tc, test_validate_ok_multi);
    tcase_add_test(tc, test_validate_corruptions);
    tcase_add_test(tc, test_split_across_end);
    tcase_add_test(tc, test_log_append_time_and_patch);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
