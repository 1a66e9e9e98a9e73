/*
 * brk_records_test.c - the record iterator over hand-built v2 batches:
 * keys/values/headers (null and empty), offsets and timestamps, every
 * codec (payloads compressed here with the codec's own library, snappy
 * also in xerial framing), LogAppendTime, and malformed input: overlong
 * varints, lengths past the record or the batch, negative lengths and
 * counts, too few / too many records, limits, and a byte-flip sweep.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "broker/log/brk_batch.h"
#include "broker/log/brk_records.h"
#include "common/be.h"
#include "common/crc32c.h"
#include "common/kwire.h"

#define CODEC_XERIAL 9 /* test-only: snappy in xerial framing */

struct trec {
    int64_t ts_delta;
    int32_t offset_delta;
    const char *key;   /* NULL = null */
    const char *value; /* NULL = null */
    int headers;       /* number of headers "h<k>" = "v<k>" (the last one null-valued) */
};

static void enc_rec(struct buf *b, const struct trec *t)
{
    struct buf body;
    buf_init(&body, 0);
    ck_assert_int_eq(kwire_write_i8(&body, 0), 0);
    ck_assert_int_eq(kwire_write_varlong(&body, t->ts_delta), 0);
    ck_assert_int_eq(kwire_write_varint(&body, t->offset_delta), 0);
    ck_assert_int_eq(kwire_write_varint(&body, t->key ? (int32_t)strlen(t->key) : -1), 0);
    if (t->key)
        ck_assert_int_eq(kwire_write_raw(&body, t->key, strlen(t->key)), 0);
    ck_assert_int_eq(kwire_write_varint(&body, t->value ? (int32_t)strlen(t->value) : -1), 0);
    if (t->value)
        ck_assert_int_eq(kwire_write_raw(&body, t->value, strlen(t->value)), 0);
    ck_assert_int_eq(kwire_write_varint(&body, t->headers), 0);
    for (int k = 0; k < t->headers; k++) {
        char hk[16], hv[16];
        int nk = snprintf(hk, sizeof hk, "h%d", k);
        int nv = snprintf(hv, sizeof hv, "v%d", k);
        ck_assert_int_eq(kwire_write_varint(&body, nk), 0);
        ck_assert_int_eq(kwire_write_raw(&body, hk, (size_t)nk), 0);
        bool null_value = k == t->headers - 1;
        ck_assert_int_eq(kwire_write_varint(&body, null_value ? -1 : nv), 0);
        if (!null_value)
            ck_assert_int_eq(kwire_write_raw(&body, hv, (size_t)nv), 0);
    }
    ck_assert_int_eq(kwire_write_varint(b, (int32_t)body.len), 0);
    ck_assert_int_eq(kwire_write_raw(b, body.ptr, body.len), 0);
    buf_deinit(&body);
}

/* pack - compress in with codec into out (appending) */
static void pack(int codec, struct bytes in, struct buf *out)
{
    size_t cap = in.len * 2 + 1024;
    ck_assert_int_eq(buf_reserve(out, cap), 0);
    uint8_t *dst = out->ptr + out->len;
    size_t got = 0;
    switch (codec) {
    case BRK_BATCH_CODEC_NONE:
        memcpy(dst, in.ptr, in.len);
        got = in.len;
        break;
    case BRK_BATCH_CODEC_GZIP: {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
        zs.next_in = (Bytef *)(uintptr_t)in.ptr;
        zs.avail_in = (uInt)in.len;
        zs.next_out = dst;
        zs.avail_out = (uInt)cap;
        ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
        got = cap - zs.avail_out;
        deflateEnd(&zs);
        break;
    }
    case BRK_BATCH_CODEC_SNAPPY:
        got = cap;
        ck_assert_int_eq(snappy_compress((const char *)in.ptr, in.len, (char *)dst, &got), SNAPPY_OK);
        break;
    case CODEC_XERIAL: {
        static const uint8_t hdr[16] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1 };
        memcpy(dst, hdr, 16);
        got = 16;
        for (size_t off = 0; off < in.len; off += 1000) { /* small blocks: several frames */
            size_t chunk = in.len - off < 1000 ? in.len - off : 1000;
            size_t n = cap - got - 4;
            ck_assert_int_eq(snappy_compress((const char *)in.ptr + off, chunk, (char *)dst + got + 4, &n),
                             SNAPPY_OK);
            be_put32(dst + got, (uint32_t)n);
            got += 4 + n;
        }
        break;
    }
    case BRK_BATCH_CODEC_LZ4:
        got = LZ4F_compressFrame(dst, cap, in.ptr, in.len, NULL);
        ck_assert(!LZ4F_isError(got));
        break;
    case BRK_BATCH_CODEC_ZSTD:
        got = ZSTD_compress(dst, cap, in.ptr, in.len, 3);
        ck_assert(!ZSTD_isError(got));
        break;
    default:
        ck_abort();
    }
    out->len += got;
}

/* wrap - a v2 batch around an already-encoded (maybe compressed) records payload */
static void wrap(struct buf *out, int attributes, int64_t base_offset, int32_t count, int64_t base_ts,
                 int64_t max_ts, struct bytes payload)
{
    buf_reset(out);
    size_t size = BRK_BATCH_HDR_BYTES + payload.len;
    ck_assert_int_eq(buf_reserve(out, size), 0);
    uint8_t *p = out->ptr;
    memset(p, 0, BRK_BATCH_HDR_BYTES);
    be_put64(p, (uint64_t)base_offset);
    be_put32(p + 8, (uint32_t)(size - 12));
    p[16] = 2;
    p[21] = (uint8_t)(attributes >> 8);
    p[22] = (uint8_t)attributes;
    be_put32(p + 23, (uint32_t)(count - 1));
    be_put64(p + 27, (uint64_t)base_ts);
    be_put64(p + 35, (uint64_t)max_ts);
    be_put64(p + 43, (uint64_t)-1);
    be_put32(p + 57, (uint32_t)count);
    if (payload.len)
        memcpy(p + BRK_BATCH_HDR_BYTES, payload.ptr, payload.len);
    be_put32(p + 17, crc32c(0, p + 21, size - 21));
    out->len = size;
}

static void build(struct buf *out, int codec, int64_t base_offset, int64_t base_ts, int64_t max_ts,
                  bool log_append_time, const struct trec *recs, int n)
{
    struct buf raw, packed;
    buf_init(&raw, 0);
    buf_init(&packed, 0);
    for (int i = 0; i < n; i++)
        enc_rec(&raw, &recs[i]);
    pack(codec, buf_bytes(&raw), &packed);
    int attr = (codec == CODEC_XERIAL ? BRK_BATCH_CODEC_SNAPPY : codec) |
               (log_append_time ? BRK_BATCH_ATTR_LOG_APPEND_TIME : 0);
    wrap(out, attr, base_offset, n, base_ts, max_ts, buf_bytes(&packed));
    buf_deinit(&raw);
    buf_deinit(&packed);
}

/* raw_batch - uncompressed batch from hand-written record bytes */
static void raw_batch(struct buf *out, int32_t count, const uint8_t *rec, size_t n)
{
    wrap(out, 0, 100, count, 1000, 1000, bytes_make(rec, n));
}

static int iter_all(struct bytes batch, struct buf *scratch, int *count_out)
{
    struct brk_records_iter it;
    int rc = brk_records_iter_init(&it, batch, scratch);
    *count_out = 0;
    if (rc < 0)
        return rc;
    struct brk_record r;
    while ((rc = brk_records_next(&it, &r)) == 1)
        (*count_out)++;
    return rc;
}

START_TEST(test_fields)
{
    const struct trec recs[] = {
        { 0, 0, NULL, "v0", 0 },
        { 5, 1, "k1", "", 2 },
        { -3, 2, "", NULL, 1 },
    };
    struct buf b, scratch;
    buf_init(&b, 0);
    buf_init(&scratch, 1 << 20);
    build(&b, BRK_BATCH_CODEC_NONE, 1000, 50000, 50005, false, recs, 3);
    struct brk_records_iter it;
    ck_assert_int_eq(brk_records_iter_init(&it, buf_bytes(&b), &scratch), 0);
    struct brk_record r;
    ck_assert_int_eq(brk_records_next(&it, &r), 1);
    ck_assert_int_eq(r.offset, 1000);
    ck_assert_int_eq(r.timestamp_ms, 50000);
    ck_assert_ptr_null(r.key.ptr);
    ck_assert(bytes_eq_cstr(r.value, "v0"));
    ck_assert_int_eq(r.headers_count, 0);
    ck_assert_uint_eq(r.headers.len, 0);

    ck_assert_int_eq(brk_records_next(&it, &r), 1);
    ck_assert_int_eq(r.offset, 1001);
    ck_assert_int_eq(r.timestamp_ms, 50005);
    ck_assert(bytes_eq_cstr(r.key, "k1"));
    ck_assert_ptr_nonnull(r.value.ptr);
    ck_assert_uint_eq(r.value.len, 0);
    ck_assert_int_eq(r.headers_count, 2);
    struct kwire_reader hr;
    kwire_reader_init(&hr, r.headers);
    struct brk_record_header h;
    ck_assert_int_eq(brk_records_header_next(&hr, &h), 1);
    ck_assert(bytes_eq_cstr(h.key, "h0"));
    ck_assert(bytes_eq_cstr(h.value, "v0"));
    ck_assert_int_eq(brk_records_header_next(&hr, &h), 1);
    ck_assert(bytes_eq_cstr(h.key, "h1"));
    ck_assert_ptr_null(h.value.ptr);
    ck_assert_int_eq(brk_records_header_next(&hr, &h), 0);

    ck_assert_int_eq(brk_records_next(&it, &r), 1);
    ck_assert_int_eq(r.offset, 1002);
    ck_assert_int_eq(r.timestamp_ms, 49997);
    ck_assert_ptr_nonnull(r.key.ptr);
    ck_assert_uint_eq(r.key.len, 0);
    ck_assert_ptr_null(r.value.ptr);
    ck_assert_int_eq(r.headers_count, 1);
    ck_assert_int_eq(brk_records_next(&it, &r), 0);
    ck_assert_int_eq(brk_records_next(&it, &r), 0);
    ck_assert_uint_eq(scratch.cap, 0); /* uncompressed: borrowed in place */
    buf_deinit(&b);
    buf_deinit(&scratch);
}
END_TEST

static const int codec_list[] = { BRK_BATCH_CODEC_NONE, BRK_BATCH_CODEC_GZIP, BRK_BATCH_CODEC_SNAPPY,
                                  CODEC_XERIAL,         BRK_BATCH_CODEC_LZ4,  BRK_BATCH_CODEC_ZSTD };
#define CODEC_LIST_COUNT ((int)(sizeof codec_list / sizeof codec_list[0]))

/* 500 records with timestamps t0 + 10*i in one batch: kafka-python's shape */
START_TEST(test_codecs_500)
{
    enum { N = 500 };
    static struct trec recs[N];
    static char vals[N][32];
    for (int i = 0; i < N; i++) {
        snprintf(vals[i], sizeof vals[i], "value-%d", i);
        recs[i] = (struct trec){ 10 * i, i, i % 2 ? "key" : NULL, vals[i], i % 3 };
    }
    const int64_t t0 = 1700000000000;
    struct buf b, scratch;
    buf_init(&b, 0);
    buf_init(&scratch, 1 << 20);
    build(&b, codec_list[_i], 7000, t0, t0 + 10 * (N - 1), false, recs, N);
    struct brk_records_iter it;
    ck_assert_int_eq(brk_records_iter_init(&it, buf_bytes(&b), &scratch), 0);
    struct brk_record r;
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(brk_records_next(&it, &r), 1);
        ck_assert_int_eq(r.offset, 7000 + i);
        ck_assert_int_eq(r.timestamp_ms, t0 + 10 * i);
        ck_assert(bytes_eq_cstr(r.value, vals[i]));
        ck_assert_int_eq(r.headers_count, i % 3);
    }
    ck_assert_int_eq(brk_records_next(&it, &r), 0);
    if (codec_list[_i] != BRK_BATCH_CODEC_NONE) {
        /* inflated size over scratch's ceiling */
        buf_deinit(&scratch);
        buf_init(&scratch, 1000);
        ck_assert_int_eq(brk_records_iter_init(&it, buf_bytes(&b), &scratch), ERR_LIMIT);
        /* the compressed payload corrupted */
        b.ptr[BRK_BATCH_HDR_BYTES + (b.len - BRK_BATCH_HDR_BYTES) / 2] ^= 0x5a;
        b.ptr[BRK_BATCH_HDR_BYTES + 1] ^= 0xff;
        buf_deinit(&scratch);
        buf_init(&scratch, 1 << 20);
        int count, rc = iter_all(buf_bytes(&b), &scratch, &count);
        ck_assert_msg(rc == ERR_CORRUPT || rc == ERR_LIMIT || (rc == 0 && count == N), "rc=%d count=%d", rc, count);
    }
    buf_deinit(&b);
    buf_deinit(&scratch);
}
END_TEST

START_TEST(test_log_append_time)
{
    const struct trec recs[] = { { 0, 0, NULL, "a", 0 }, { 7, 1, NULL, "b", 0 } };
    struct buf b, scratch;
    buf_init(&b, 0);
    buf_init(&scratch, 1 << 20);
    build(&b, BRK_BATCH_CODEC_GZIP, 0, 100, 999, true, recs, 2);
    struct brk_records_iter it;
    ck_assert_int_eq(brk_records_iter_init(&it, buf_bytes(&b), &scratch), 0);
    struct brk_record r;
    ck_assert_int_eq(brk_records_next(&it, &r), 1);
    ck_assert_int_eq(r.timestamp_ms, 999);
    ck_assert_int_eq(brk_records_next(&it, &r), 1);
    ck_assert_int_eq(r.timestamp_ms, 999);
    ck_assert_int_eq(brk_records_next(&it, &r), 0);
    buf_deinit(&b);
    buf_deinit(&scratch);
}
END_TEST

/* hand-written record bytes: len, attr, tsDelta, offDelta, keyLen, [key], valLen, [val], hdrCount */
START_TEST(test_malformed)
{
    struct buf b, scratch;
    buf_init(&b, 0);
    buf_init(&scratch, 1 << 20);
    int count;
    /* a good record: len 7, attr 0, ts 0, off 0, key null(-1=1), value 1 byte 'x', 0 headers */
    static const uint8_t good[] = { 14, 0, 0, 0, 1, 2, 'x', 0 };
    raw_batch(&b, 1, good, sizeof good);
    ck_assert_int_eq(iter_all(buf_bytes(&b), &scratch, &count), 0);
    ck_assert_int_eq(count, 1);

    static const struct {
        const char *what;
        int32_t count;
        uint8_t rec[16];
        size_t n;
        int rc;
    } bad[] = {
        { "overlong record length varint", 1, { 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 6, ERR_CORRUPT },
        { "record length past the batch", 1, { 40, 0, 0, 0, 1, 2, 'x', 0 }, 8, ERR_CORRUPT },
        { "negative record length", 1, { 1, 0, 0, 0, 1, 2, 'x', 0 }, 8, ERR_CORRUPT },
        { "key length past the record", 1, { 14, 0, 0, 0, 20, 2, 'x', 0 }, 8, ERR_CORRUPT },
        { "key length -2", 1, { 14, 0, 0, 0, 3, 2, 'x', 0 }, 8, ERR_CORRUPT },
        { "value length past the record", 1, { 14, 0, 0, 0, 1, 4, 'x', 0 }, 8, ERR_CORRUPT },
        { "negative header count", 1, { 14, 0, 0, 0, 1, 2, 'x', 1 }, 8, ERR_CORRUPT },
        { "header count past the record", 1, { 14, 0, 0, 0, 1, 2, 'x', 2 }, 8, ERR_CORRUPT },
        { "null header key", 1, { 18, 0, 0, 0, 1, 2, 'x', 2, 1, 0 }, 10, ERR_CORRUPT },
        { "bytes left inside the record", 1, { 16, 0, 0, 0, 1, 2, 'x', 0, 0 }, 9, ERR_CORRUPT },
        { "fewer records than declared", 2, { 14, 0, 0, 0, 1, 2, 'x', 0 }, 8, ERR_CORRUPT },
        { "bytes after the last record", 1, { 14, 0, 0, 0, 1, 2, 'x', 0, 0 }, 9, ERR_CORRUPT },
        { "overlong timestamp varlong", 1,
          { 26, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 1, 0 }, 16,
          ERR_CORRUPT },
        { "truncated varint at the end", 1, { 0x80 }, 1, ERR_CORRUPT },
        { "empty records with a count", 1, { 0 }, 0, ERR_CORRUPT },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        raw_batch(&b, bad[k].count, bad[k].rec, bad[k].n);
        int rc = iter_all(buf_bytes(&b), &scratch, &count);
        ck_assert_msg(rc == bad[k].rc, "%s: rc=%d", bad[k].what, rc);
    }
    /* header-level problems */
    raw_batch(&b, 1, good, sizeof good);
    struct brk_records_iter it;
    ck_assert_int_eq(brk_records_iter_init(&it, bytes_make(b.ptr, b.len - 1), &scratch), ERR_CORRUPT);
    ck_assert_int_eq(brk_records_iter_init(&it, bytes_make(b.ptr, 40), &scratch), ERR_CORRUPT);
    wrap(&b, 5, 0, 1, 0, 0, bytes_make(good, sizeof good));
    ck_assert_int_eq(brk_records_iter_init(&it, buf_bytes(&b), &scratch), ERR_UNSUPPORTED);
    wrap(&b, 0, 0, 1, 0, 0, bytes_make(good, sizeof good));
    be_put32(b.ptr + 57, (uint32_t)-5);
    ck_assert_int_eq(brk_records_iter_init(&it, buf_bytes(&b), &scratch), ERR_CORRUPT);
    be_put32(b.ptr + 57, BRK_RECORDS_PER_BATCH_MAX + 1);
    ck_assert_int_eq(brk_records_iter_init(&it, buf_bytes(&b), &scratch), ERR_LIMIT);
    /* too many headers */
    uint8_t many[] = { 0, 0, 0, 0, 1, 2, 'x', 0x82, 0x80, 0x08 }; /* zigzag 65537 */
    many[0] = (uint8_t)((sizeof many - 1) * 2);
    raw_batch(&b, 1, many, sizeof many);
    ck_assert_int_eq(iter_all(buf_bytes(&b), &scratch, &count), ERR_LIMIT);
    /* offset overflow */
    static const uint8_t big_delta[] = { 18, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0x0f, 1, 1, 0 };
    wrap(&b, 0, INT64_MAX - 5, 1, 0, 0, bytes_make(big_delta, sizeof big_delta));
    ck_assert_int_eq(iter_all(buf_bytes(&b), &scratch, &count), ERR_CORRUPT);
    buf_deinit(&b);
    buf_deinit(&scratch);
}
END_TEST

/* flip every byte of every record to every value class: no crash, a clean answer */
START_TEST(test_flip_sweep)
{
    const struct trec recs[] = { { 0, 0, "k", "v0", 1 }, { 5, 1, NULL, "v1", 2 }, { 9, 2, "kk", NULL, 0 } };
    struct buf b, scratch;
    buf_init(&b, 0);
    buf_init(&scratch, 1 << 20);
    build(&b, BRK_BATCH_CODEC_NONE, 0, 0, 9, false, recs, 3);
    static const uint8_t vals[] = { 0x00, 0x01, 0x7f, 0x80, 0xff, 0x3f };
    for (size_t pos = BRK_BATCH_HDR_BYTES; pos < b.len; pos++) {
        uint8_t save = b.ptr[pos];
        for (size_t v = 0; v < sizeof vals; v++) {
            b.ptr[pos] = vals[v];
            uint8_t *copy = malloc(b.len);
            memcpy(copy, b.ptr, b.len);
            int count;
            int rc = iter_all(bytes_make(copy, b.len), &scratch, &count);
            ck_assert(rc == 0 || rc == ERR_CORRUPT || rc == ERR_LIMIT);
            ck_assert(count <= 3);
            free(copy);
        }
        b.ptr[pos] = save;
    }
    buf_deinit(&b);
    buf_deinit(&scratch);
}
END_TEST

static Suite *brk_records_suite(void)
{
    Suite *s = suite_create("brk_records");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fields);
    tcase_add_loop_test(tc, test_codecs_500, 0, CODEC_LIST_COUNT);
    tcase_add_test(tc, test_log_append_time);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_flip_sweep);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(brk_records_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
