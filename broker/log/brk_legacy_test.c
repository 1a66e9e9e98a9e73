/*
 * brk_legacy_test.c - magic 0/1 message sets to v2 batches and back:
 * plain and gzip/snappy/lz4-wrapped sets of both magics (keys, null keys/values,
 * timestamps, LogAppendTime wrappers), the errors (bad CRC-32, truncation,
 * magic 2, unknown codec, nested compression, empty set, output ceiling),
 * down-conversion's first offset and size limit, and a byte-flip sweep.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>

#include "broker/log/brk_batch.h"
#include "broker/log/brk_legacy.h"
#include "broker/log/brk_records.h"
#include "common/be.h"
#include "common/kwire.h"

static void put_bytes(struct buf *b, const char *s)
{
    ck_assert_int_eq(kwire_write_bytes(b, s ? bytes_cstr(s) : bytes_make(NULL, 0)), 0);
}

/* One legacy message appended to b. */
static void msg(struct buf *b, int8_t magic, int8_t attrs, int64_t ts, const char *key, const char *value,
                const void *raw_value, size_t raw_len, bool bad_crc)
{
    struct buf body;
    buf_init(&body, 0);
    ck_assert_int_eq(kwire_write_i8(&body, magic), 0);
    ck_assert_int_eq(kwire_write_i8(&body, attrs), 0);
    if (magic == 1)
        ck_assert_int_eq(kwire_write_i64(&body, ts), 0);
    put_bytes(&body, key);
    if (raw_value)
        ck_assert_int_eq(kwire_write_bytes(&body, bytes_make(raw_value, raw_len)), 0);
    else
        put_bytes(&body, value);
    uint32_t crc = (uint32_t)crc32(0, body.ptr, (uInt)body.len) ^ (bad_crc ? 1u : 0u);
    ck_assert_int_eq(kwire_write_i64(b, 0), 0);
    ck_assert_int_eq(kwire_write_i32(b, (int32_t)(body.len + 4)), 0);
    ck_assert_int_eq(kwire_write_u32(b, crc), 0);
    ck_assert_int_eq(kwire_write_raw(b, body.ptr, body.len), 0);
    buf_deinit(&body);
}

static void gzip_wrap(struct buf *out, int8_t magic, int8_t extra_attrs, int64_t ts, const struct buf *inner)
{
    uint8_t z[4096];
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = inner->ptr;
    zs.avail_in = (uInt)inner->len;
    zs.next_out = z;
    zs.avail_out = sizeof z;
    ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t zn = sizeof z - zs.avail_out;
    deflateEnd(&zs);
    msg(out, magic, (int8_t)(1 | extra_attrs), ts, NULL, NULL, z, zn, false);
}

static void check_record(struct brk_records_iter *it, int64_t offset, int64_t ts, const char *key, const char *value)
{
    struct brk_record r;
    ck_assert_int_eq(brk_records_next(it, &r), 1);
    ck_assert_int_eq(r.offset, offset);
    ck_assert_int_eq(r.timestamp_ms, ts);
    if (key)
        ck_assert(r.key.ptr && r.key.len == strlen(key) && memcmp(r.key.ptr, key, r.key.len) == 0);
    else
        ck_assert_ptr_null(r.key.ptr);
    if (value)
        ck_assert(r.value.ptr && r.value.len == strlen(value) && memcmp(r.value.ptr, value, r.value.len) == 0);
    else
        ck_assert_ptr_null(r.value.ptr);
    ck_assert_int_eq(r.headers_count, 0);
}

static int convert(const struct buf *set, struct buf *out)
{
    struct buf scratch;
    buf_init(&scratch, 1u << 20);
    int rc = brk_legacy_to_v2(buf_bytes(set), out, &scratch);
    buf_deinit(&scratch);
    return rc;
}

static void check_valid_batch(const struct buf *out, int64_t count)
{
    struct brk_batch_summary sum;
    ck_assert_int_eq(brk_batch_validate_produce(buf_bytes(out), 1 << 20, &sum), 0);
    ck_assert_int_eq(sum.batch_count, 1);
    ck_assert_int_eq(sum.record_count, count);
    ck_assert_int_eq(sum.codec, BRK_BATCH_CODEC_NONE);
    ck_assert_int_eq(sum.producer_id, -1);
}

START_TEST(magic1_plain)
{
    struct buf set, out, scratch;
    buf_init(&set, 0);
    buf_init(&out, 0);
    buf_init(&scratch, 0);
    msg(&set, 1, 0, 1000, "a", "one", NULL, 0, false);
    msg(&set, 1, 0, 990, NULL, "two", NULL, 0, false);
    msg(&set, 1, 0, 1500, "c", NULL, NULL, 0, false);
    ck_assert_int_eq(convert(&set, &out), 3);
    check_valid_batch(&out, 3);
    struct brk_batch_hdr h;
    ck_assert_int_gt(brk_batch_parse(out.ptr, out.len, &h), 0);
    ck_assert_int_eq(h.base_timestamp_ms, 1000);
    ck_assert_int_eq(h.max_timestamp_ms, 1500);
    struct brk_records_iter it;
    ck_assert_int_eq(brk_records_iter_init(&it, buf_bytes(&out), &scratch), 0);
    check_record(&it, 0, 1000, "a", "one");
    check_record(&it, 1, 990, NULL, "two");
    check_record(&it, 2, 1500, "c", NULL);
    struct brk_record r;
    ck_assert_int_eq(brk_records_next(&it, &r), 0);
    buf_deinit(&set);
    buf_deinit(&out);
    buf_deinit(&scratch);
}
END_TEST

START_TEST(gzip_wrappers)
{
    struct buf inner, set, out, scratch;
    buf_init(&inner, 0);
    buf_init(&set, 0);
    buf_init(&out, 0);
    buf_init(&scratch, 0);
    /* magic 0: timestamps -1 */
    for (int i = 0; i < 4; i++) {
        char k[16], v[16];
        snprintf(k, sizeof k, "k%d", i);
        snprintf(v, sizeof v, "v%d", i);
        msg(&inner, 0, 0, 0, k, v, NULL, 0, false);
    }
    gzip_wrap(&set, 0, 0, 0, &inner);
    msg(&set, 0, 0, 0, "tail", "plain", NULL, 0, false); /* a plain one after the wrapper */
    ck_assert_int_eq(convert(&set, &out), 5);
    check_valid_batch(&out, 5);
    struct brk_records_iter it;
    ck_assert_int_eq(brk_records_iter_init(&it, buf_bytes(&out), &scratch), 0);
    check_record(&it, 0, -1, "k0", "v0");
    check_record(&it, 1, -1, "k1", "v1"); /* offsets are the record index */
    check_record(&it, 2, -1, "k2", "v2");
    check_record(&it, 3, -1, "k3", "v3");
    check_record(&it, 4, -1, "tail", "plain");
    /* magic 1 wrapper that says LogAppendTime: the wrapper's timestamp */
    buf_reset(&inner);
    buf_reset(&set);
    buf_reset(&out);
    msg(&inner, 1, 0, 5, "x", "y", NULL, 0, false);
    gzip_wrap(&set, 1, BRK_LEGACY_ATTR_LOG_APPEND_TIME, 777, &inner);
    ck_assert_int_eq(convert(&set, &out), 1);
    ck_assert_int_eq(brk_records_iter_init(&it, buf_bytes(&out), &scratch), 0);
    check_record(&it, 0, 777, "x", "y");
    /* nested compression is refused */
    buf_reset(&set);
    buf_reset(&out);
    struct buf nested;
    buf_init(&nested, 0);
    gzip_wrap(&nested, 1, 0, 1, &inner);
    gzip_wrap(&set, 1, 0, 1, &nested);
    ck_assert_int_eq(convert(&set, &out), ERR_CORRUPT);
    ck_assert_int_eq(out.len, 0);
    buf_deinit(&nested);
    buf_deinit(&inner);
    buf_deinit(&set);
    buf_deinit(&out);
    buf_deinit(&scratch);
}
END_TEST

/* magic 1 inner set wrapped in snappy (raw) and lz4 (frame), as magic 1 producers write them */
START_TEST(snappy_lz4_wrappers)
{
    struct buf inner, set, out, scratch;
    buf_init(&inner, 0);
    buf_init(&set, 0);
    buf_init(&out, 0);
    buf_init(&scratch, 0);
    msg(&inner, 1, 0, 11, "s", "first", NULL, 0, false);
    msg(&inner, 1, 0, 12, NULL, "second", NULL, 0, false);
    static char z[4096];
    size_t zn = sizeof z;
    ck_assert_int_eq(snappy_compress((const char *)inner.ptr, inner.len, z, &zn), SNAPPY_OK);
    msg(&set, 1, 2, 12, NULL, NULL, z, zn, false);
    zn = LZ4F_compressFrame(z, sizeof z, inner.ptr, inner.len, NULL);
    ck_assert(!LZ4F_isError(zn));
    msg(&set, 1, 3, 12, NULL, NULL, z, zn, false);
    ck_assert_int_eq(convert(&set, &out), 4);
    check_valid_batch(&out, 4);
    struct brk_records_iter it;
    ck_assert_int_eq(brk_records_iter_init(&it, buf_bytes(&out), &scratch), 0);
    check_record(&it, 0, 11, "s", "first");
    check_record(&it, 1, 12, NULL, "second");
    check_record(&it, 2, 11, "s", "first");
    check_record(&it, 3, 12, NULL, "second");
    buf_deinit(&inner);
    buf_deinit(&set);
    buf_deinit(&out);
    buf_deinit(&scratch);
}
END_TEST

START_TEST(errors)
{
    struct buf set, out;
    buf_init(&set, 0);
    buf_init(&out, 0);
    ck_assert_int_eq(convert(&set, &out), ERR_CORRUPT); /* empty */
    msg(&set, 1, 0, 1, "k", "v", NULL, 0, true);
    ck_assert_int_eq(convert(&set, &out), ERR_CORRUPT); /* CRC-32 */
    buf_reset(&set);
    msg(&set, 1, 0, 1, "k", "v", NULL, 0, false);
    set.len--;
    ck_assert_int_eq(convert(&set, &out), ERR_CORRUPT); /* truncated */
    buf_reset(&set);
    msg(&set, 2, 0, 1, "k", "v", NULL, 0, false);
    ck_assert_int_eq(convert(&set, &out), ERR_INVALID); /* magic 2 */
    buf_reset(&set);
    msg(&set, 1, 4, 1, "k", "v", NULL, 0, false);
    ck_assert_int_eq(convert(&set, &out), ERR_UNSUPPORTED); /* zstd is not a magic 1 codec */
    buf_reset(&set);
    msg(&set, 1, 1, 1, "k", "not gzip", NULL, 0, false);
    ck_assert_int_eq(convert(&set, &out), ERR_CORRUPT);
    /* the output ceiling */
    buf_reset(&set);
    msg(&set, 1, 0, 1, "k", "a value longer than the ceiling allows", NULL, 0, false);
    struct buf small;
    buf_init(&small, 70);
    ck_assert_int_eq(convert(&set, &small), ERR_LIMIT);
    ck_assert_int_eq(small.len, 0);
    buf_deinit(&small);
    ck_assert_int_eq(out.len, 0);
    buf_deinit(&set);
    buf_deinit(&out);
}
END_TEST

START_TEST(down_convert)
{
    struct buf set, v2, out, scratch;
    buf_init(&set, 0);
    buf_init(&v2, 0);
    buf_init(&out, 0);
    buf_init(&scratch, 0);
    msg(&set, 1, 0, 100, "a", "1", NULL, 0, false);
    msg(&set, 1, 0, 200, NULL, "2", NULL, 0, false);
    msg(&set, 1, 0, 300, "c", NULL, NULL, 0, false);
    ck_assert_int_eq(convert(&set, &v2), 3);
    brk_batch_patch(v2.ptr, 10, 0);
    /* magic 1 from offset 11: two messages, CRC-32 valid, back to v2 again */
    ck_assert_int_eq(brk_legacy_from_v2(buf_bytes(&v2), 1, 11, 1 << 20, true, &out, &scratch), 0);
    ck_assert_int_eq(be_get64(out.ptr), 11);
    struct buf again;
    buf_init(&again, 0);
    ck_assert_int_eq(convert(&out, &again), 2);
    struct brk_records_iter it;
    ck_assert_int_eq(brk_records_iter_init(&it, buf_bytes(&again), &scratch), 0);
    check_record(&it, 0, 200, NULL, "2");
    check_record(&it, 1, 300, "c", NULL);
    buf_deinit(&again);
    /* magic 0: no timestamp, 14 + key + value bytes a message */
    buf_reset(&out);
    ck_assert_int_eq(brk_legacy_from_v2(buf_bytes(&v2), 0, 0, 1 << 20, true, &out, &scratch), 0);
    ck_assert_int_eq(out.len, 3 * (12 + 14) + 1 + 1 + 1 + 1);
    ck_assert_int_eq(out.ptr[16], 0);
    /* the limit: one message when at_least_one, none otherwise */
    buf_reset(&out);
    ck_assert_int_eq(brk_legacy_from_v2(buf_bytes(&v2), 1, 0, 10, true, &out, &scratch), 0);
    ck_assert_int_eq(out.len, 12 + 22 + 2);
    buf_reset(&out);
    ck_assert_int_eq(brk_legacy_from_v2(buf_bytes(&v2), 1, 0, 10, false, &out, &scratch), 0);
    ck_assert_int_eq(out.len, 0);
    /* a corrupt batch leaves out as it was */
    v2.ptr[61] = 0x7f; /* the first record's length: negative */
    ck_assert_int_lt(brk_legacy_from_v2(buf_bytes(&v2), 1, 0, 1 << 20, true, &out, &scratch), 0);
    ck_assert_int_eq(out.len, 0);
    buf_deinit(&set);
    buf_deinit(&v2);
    buf_deinit(&out);
    buf_deinit(&scratch);
}
END_TEST

START_TEST(byte_flips)
{
    struct buf inner, set, out;
    buf_init(&inner, 0);
    buf_init(&set, 0);
    buf_init(&out, 0);
    msg(&inner, 1, 0, 5, "x", "y", NULL, 0, false);
    msg(&set, 1, 0, 9, "k", "v", NULL, 0, false);
    gzip_wrap(&set, 1, 0, 7, &inner);
    for (size_t i = 0; i < set.len; i++)
        for (int bit = 0; bit < 8; bit++) {
            set.ptr[i] ^= (uint8_t)(1u << bit);
            buf_reset(&out);
            int rc = convert(&set, &out);
            ck_assert(rc < 0 || rc == 2); /* offsets are outside the CRC */
            set.ptr[i] ^= (uint8_t)(1u << bit);
        }
    buf_deinit(&inner);
    buf_deinit(&set);
    buf_deinit(&out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("brk_legacy");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, magic1_plain);
    tcase_add_test(tc, gzip_wrappers);
    tcase_add_test(tc, snappy_lz4_wrappers);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, down_convert);
    tcase_add_test(tc, byte_flips);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
