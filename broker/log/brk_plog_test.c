/*
 * brk_plog_test.c - the partition log on real files in a temp dir, with
 * fake clock values.  Every test runs twice: _i == 0 over io_uring, _i == 1
 * over the synchronous fallback; results must be identical.  And every
 * test runs in three test cases: buffered appends, direct appends with a
 * 4 MiB tail ring, and direct appends with the smallest ring (64 KiB), so
 * that appends wrap it and stream through it.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "broker/log/brk_batch.h"
#include "broker/log/brk_plog.h"
#include "common/be.h"
#include "common/crc32c.h"
#include "common/kwire.h"
#include "common/log.h"

static char dir[64];
static struct brk_plog_shared g_shared_store;
static struct brk_plog_shared *g_shared; /* NULL: buffered appends */

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/samsa_plog_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    strncat(dir, "/t-0", sizeof dir - strlen(dir) - 1);
}

static void setup_direct(void)
{
    setup();
    brk_plog_shared_init(&g_shared_store, true, 4 << 20, 1 << 30);
    g_shared = &g_shared_store;
}

static void setup_direct_small(void)
{
    setup();
    brk_plog_shared_init(&g_shared_store, true, BRK_PLOG_TAIL_MIN_BYTES, 1 << 30);
    g_shared = &g_shared_store;
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %.*s", (int)(strlen(dir) - 4), dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* build - one v2 batch of `count` records, max timestamp max_ts, opaque record bytes. */
static size_t build(uint8_t *out, int32_t count, int64_t max_ts, size_t payload_bytes, uint8_t fill)
{
    size_t size = BRK_BATCH_HDR_BYTES + payload_bytes;
    memset(out, 0, BRK_BATCH_HDR_BYTES);
    be_put32(out + 8, (uint32_t)(size - 12));
    be_put32(out + 12, (uint32_t)-1);
    out[16] = 2;
    be_put32(out + 23, (uint32_t)(count - 1));
    be_put64(out + 27, (uint64_t)max_ts);
    be_put64(out + 35, (uint64_t)max_ts);
    be_put64(out + 43, (uint64_t)-1);
    be_put32(out + 57, (uint32_t)count);
    memset(out + BRK_BATCH_HDR_BYTES, fill, payload_bytes);
    be_put32(out + 17, crc32c(0, out + 21, size - 21));
    return size;
}

struct res {
    int rc[256];
    int count;
};

static void res_cb(void *arg, int rc)
{
    struct res *r = arg;
    r->rc[r->count++] = rc;
}

static struct uring *mk_uring(int mode)
{
    struct uring *u;
    ck_assert_int_eq(uring_create(64, mode == 0, &u), 0);
    return u;
}

static struct brk_plog_config cfg_small(void)
{
    struct brk_plog_config c;
    brk_plog_config_default(&c);
    c.index_interval_bytes = 100;
    return c;
}

static struct brk_plog *open_log(struct uring *u, const struct brk_plog_config *c, int64_t hint)
{
    struct brk_plog *pl;
    ck_assert_int_eq(brk_plog_open(u, g_shared, dir, c, hint, &pl), 0);
    ck_assert(brk_plog_is_direct(pl) == (g_shared != NULL));
    return pl;
}

/* append one batch of `count` records, complete it, return its base offset. */
static int64_t app1(struct uring *u, struct brk_plog *pl, int32_t count, int64_t ts, size_t payload,
                    int64_t now_ms)
{
    uint8_t b[8192];
    size_t n = build(b, count, ts, payload, (uint8_t)ts);
    struct res r = { .count = 0 };
    int64_t base = -1;
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, n), 5, now_ms, &base, res_cb, &r), 0);
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(r.count, 1);
    ck_assert_int_eq(r.rc[0], 0);
    return base;
}

static void read_all(struct brk_plog *pl, int64_t from, struct buf *out, int64_t *next)
{
    buf_reset(out);
    ck_assert_int_eq(brk_plog_read(pl, from, INT64_MAX, 1 << 24, true, out, next), 0);
}

/* check that out holds whole batches with consecutive offsets starting at first_base. */
static int64_t check_batches(struct bytes b, int64_t first_base)
{
    int64_t expect = first_base;
    size_t pos = 0;
    while (pos < b.len) {
        struct brk_batch_hdr h;
        ck_assert_int_gt(brk_batch_parse(b.ptr + pos, b.len - pos, &h), 0);
        ck_assert_uint_le(h.size_bytes, b.len - pos);
        ck_assert(brk_batch_crc_ok(b.ptr + pos, &h));
        ck_assert_int_eq(h.base_offset, expect);
        ck_assert_int_eq(h.leader_epoch, 5);
        expect += h.last_offset_delta + 1;
        pos += h.size_bytes;
    }
    return expect;
}

START_TEST(test_append_read_back)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    struct brk_plog *pl = open_log(u, &c, 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), 0);
    uint8_t in[4096];
    size_t n = build(in, 3, 100, 50, 0xa1);
    n += build(in + n, 2, 110, 70, 0xa2);
    struct res r = { .count = 0 };
    int64_t base;
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(in, n), 5, 1000, &base, res_cb, &r), 0);
    ck_assert_int_eq(base, 0);
    /* queued, not submitted: invisible, but offsets are assigned */
    ck_assert_int_eq(brk_plog_end_offset(pl), 0);
    ck_assert_int_eq(brk_plog_next_offset(pl), 5);
    uint8_t in2[1024];
    size_t n2 = build(in2, 4, 120, 30, 0xa3);
    int64_t base2;
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(in2, n2), 5, 1000, &base2, res_cb, &r), 0);
    ck_assert_int_eq(base2, 5);
    struct buf out;
    buf_init(&out, 0);
    int64_t next;
    ck_assert_int_eq(brk_plog_read(pl, 0, INT64_MAX, 1 << 20, true, &out, &next), 0);
    ck_assert_uint_eq(out.len, 0); /* nothing visible yet */
    /* buffered: a write per append; direct: the first write flies, the second waits in the ring */
    ck_assert_int_eq(uring_submit(u), g_shared ? 1 : 2);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(r.count, 2);
    ck_assert_int_eq(r.rc[0], 0);
    ck_assert_int_eq(r.rc[1], 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), 9);
    /* byte-for-byte, except the patched offset/epoch */
    read_all(pl, 0, &out, &next);
    ck_assert_int_eq(next, 9);
    ck_assert_uint_eq(out.len, n + n2);
    ck_assert_int_eq(check_batches(buf_bytes(&out), 0), 9);
    /* expected bytes: the input with only baseOffset and leader epoch patched */
    uint8_t want[4096];
    memcpy(want, in, n);
    memcpy(want + n, in2, n2);
    brk_batch_patch(want, 0, 5);
    brk_batch_patch(want + 111, 3, 5);
    brk_batch_patch(want + n, 5, 5);
    ck_assert_int_eq(memcmp(out.ptr, want, n + n2), 0);
    /* a read from the middle of a batch returns the whole batch */
    read_all(pl, 1, &out, &next);
    ck_assert_uint_eq(out.len, n + n2);
    read_all(pl, 4, &out, &next);
    ck_assert_uint_eq(out.len, n + n2 - 111);
    ck_assert_int_eq(check_batches(buf_bytes(&out), 3), 9);
    /* max_bytes: only what fits; KIP-74 min one batch */
    buf_reset(&out);
    ck_assert_int_eq(brk_plog_read(pl, 0, INT64_MAX, 120, false, &out, &next), 0);
    ck_assert_uint_eq(out.len, 111);
    ck_assert_int_eq(next, 3);
    buf_reset(&out);
    ck_assert_int_eq(brk_plog_read(pl, 0, INT64_MAX, 10, false, &out, &next), 0);
    ck_assert_uint_eq(out.len, 0);
    ck_assert_int_eq(next, 0);
    ck_assert_int_eq(brk_plog_read(pl, 0, INT64_MAX, 10, true, &out, &next), 0);
    ck_assert_uint_eq(out.len, 111);
    ck_assert_int_eq(next, 3);
    /* max_offset (high watermark) excludes the batch holding it */
    buf_reset(&out);
    ck_assert_int_eq(brk_plog_read(pl, 0, 4, 1 << 20, true, &out, &next), 0);
    ck_assert_uint_eq(out.len, 111);
    /* at the end: empty; beyond: out of range */
    buf_reset(&out);
    ck_assert_int_eq(brk_plog_read(pl, 9, INT64_MAX, 1 << 20, true, &out, &next), 0);
    ck_assert_uint_eq(out.len, 0);
    ck_assert_int_eq(next, 9);
    ck_assert_int_eq(brk_plog_read(pl, 10, INT64_MAX, 1 << 20, true, &out, &next), ERR_OFFSET_RANGE);
    ck_assert_int_eq(brk_plog_read(pl, -1, INT64_MAX, 1 << 20, true, &out, &next), ERR_OFFSET_RANGE);
    /* malformed input is refused without queuing anything */
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(in, 30), 5, 1000, &base, res_cb, &r), ERR_CORRUPT);
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(in, 0), 5, 1000, &base, res_cb, &r), ERR_INVALID);
    ck_assert_uint_eq(uring_pending_count(u), 0);
    buf_deinit(&out);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

static bool file_exists(int64_t base, const char *ext)
{
    char p[160];
    snprintf(p, sizeof p, "%s/%020lld%s", dir, (long long)base, ext);
    return access(p, F_OK) == 0;
}

START_TEST(test_roll_on_bytes_and_index_lookup)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 1024;
    struct brk_plog *pl = open_log(u, &c, 0);
    /* 40 batches of 2 records, 161 bytes each: 6 per segment */
    for (int k = 0; k < 40; k++)
        ck_assert_int_eq(app1(u, pl, 2, 1000 + k, 100, 0), 2 * k);
    ck_assert_int_eq(brk_plog_end_offset(pl), 80);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 7);
    ck_assert(file_exists(0, ".log"));
    ck_assert(file_exists(12, ".log"));
    ck_assert(file_exists(12, ".index"));
    ck_assert(file_exists(12, ".timeindex"));
    ck_assert(file_exists(72, ".log"));
    struct stat st;
    char p[160];
    snprintf(p, sizeof p, "%s/%020d.index", dir, 12);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_gt(st.st_size, 0);
    ck_assert_int_eq(st.st_size % 8, 0);
    /* every offset: the first batch returned holds it */
    struct buf out;
    buf_init(&out, 0);
    for (int64_t off = 0; off < 80; off++) {
        int64_t next;
        buf_reset(&out);
        ck_assert_int_eq(brk_plog_read(pl, off, INT64_MAX, 200, true, &out, &next), 0);
        ck_assert_uint_eq(out.len, 161);
        struct brk_batch_hdr h;
        ck_assert_int_gt(brk_batch_parse(out.ptr, out.len, &h), 0);
        ck_assert_int_eq(h.base_offset, off - off % 2);
        ck_assert_int_eq(next, off - off % 2 + 2);
    }
    /* a big read stops at the segment boundary and continues from next */
    int64_t next = 0, total = 0;
    while (next < 80) {
        buf_reset(&out);
        ck_assert_int_eq(brk_plog_read(pl, next, INT64_MAX, 1 << 20, true, &out, &next), 0);
        int64_t first;
        struct brk_batch_hdr h;
        ck_assert_int_gt(brk_batch_parse(out.ptr, out.len, &h), 0);
        first = h.base_offset;
        ck_assert_int_eq(check_batches(buf_bytes(&out), first), next);
        total += (int64_t)out.len;
    }
    ck_assert_int_eq(total, 40 * 161);
    buf_deinit(&out);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

START_TEST(test_roll_on_time)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.roll_ms = 1000;
    struct brk_plog *pl = open_log(u, &c, 0);
    app1(u, pl, 1, 10, 10, 0);
    app1(u, pl, 1, 10, 10, 500);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 1);
    app1(u, pl, 1, 10, 10, 1000);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 2);
    ck_assert(file_exists(2, ".log"));
    app1(u, pl, 1, 10, 10, 1999);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 2);
    app1(u, pl, 1, 10, 10, 2000);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 3);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

START_TEST(test_offset_for_time)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 1024;
    struct brk_plog *pl = open_log(u, &c, 0);
    for (int k = 0; k < 30; k++)
        app1(u, pl, 3, 100 * (k + 1), 100, 0); /* batch k: offsets 3k..3k+2, ts 100(k+1) */
    int64_t off, ts;
    ck_assert_int_eq(brk_plog_offset_for_time(pl, 0, &off, &ts), 0);
    ck_assert_int_eq(off, 0);
    ck_assert_int_eq(ts, 100);
    ck_assert_int_eq(brk_plog_offset_for_time(pl, 150, &off, &ts), 0);
    ck_assert_int_eq(off, 3);
    ck_assert_int_eq(ts, 200);
    for (int k = 0; k < 30; k++) {
        ck_assert_int_eq(brk_plog_offset_for_time(pl, 100 * (k + 1), &off, &ts), 0);
        ck_assert_int_eq(off, 3 * k);
        ck_assert_int_eq(brk_plog_offset_for_time(pl, 100 * (k + 1) - 1, &off, &ts), 0);
        ck_assert_int_eq(off, 3 * k);
    }
    ck_assert_int_eq(brk_plog_offset_for_time(pl, 3001, &off, &ts), ERR_NOT_FOUND);
    /* below the log start offset */
    ck_assert_int_eq(brk_plog_delete_records(pl, 4), 0);
    ck_assert_int_eq(brk_plog_offset_for_time(pl, 0, &off, &ts), 0);
    ck_assert_int_eq(off, 4);
    ck_assert_int_eq(ts, 200);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* ---- record-level offset_for_time ---------------------------------------- */

/* rec_batch - a real v2 batch: n records, record i has timestamp ts[i] and
 * value "v<i>", records compressed with codec (the codec's own library). */
static void rec_batch(struct buf *out, int codec, const int64_t *ts, int n, bool log_append_time,
                      int64_t log_append_ts)
{
    struct buf raw;
    buf_init(&raw, 0);
    int64_t base_ts = ts[0], max_ts = ts[0];
    for (int i = 1; i < n; i++)
        max_ts = ts[i] > max_ts ? ts[i] : max_ts;
    for (int i = 0; i < n; i++) {
        uint8_t body[64];
        struct buf rb = { body, 0, sizeof body, sizeof body };
        char v[16];
        int vn = snprintf(v, sizeof v, "v%d", i);
        ck_assert_int_eq(kwire_write_i8(&rb, 0), 0);
        ck_assert_int_eq(kwire_write_varlong(&rb, ts[i] - base_ts), 0);
        ck_assert_int_eq(kwire_write_varint(&rb, i), 0);
        ck_assert_int_eq(kwire_write_varint(&rb, -1), 0);
        ck_assert_int_eq(kwire_write_varint(&rb, vn), 0);
        ck_assert_int_eq(kwire_write_raw(&rb, v, (size_t)vn), 0);
        ck_assert_int_eq(kwire_write_varint(&rb, 0), 0);
        ck_assert_int_eq(kwire_write_varint(&raw, (int32_t)rb.len), 0);
        ck_assert_int_eq(kwire_write_raw(&raw, rb.ptr, rb.len), 0);
    }
    size_t cap = raw.len * 2 + 1024, got = 0;
    buf_reset(out);
    ck_assert_int_eq(buf_reserve(out, BRK_BATCH_HDR_BYTES + cap), 0);
    uint8_t *dst = out->ptr + BRK_BATCH_HDR_BYTES;
    switch (codec) {
    case BRK_BATCH_CODEC_NONE:
        memcpy(dst, raw.ptr, raw.len);
        got = raw.len;
        break;
    case BRK_BATCH_CODEC_GZIP: {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
        zs.next_in = raw.ptr;
        zs.avail_in = (uInt)raw.len;
        zs.next_out = dst;
        zs.avail_out = (uInt)cap;
        ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
        got = cap - zs.avail_out;
        deflateEnd(&zs);
        break;
    }
    case BRK_BATCH_CODEC_SNAPPY: {
        /* xerial framing, as kafka-python writes it */
        static const uint8_t hdr[16] = { 0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1 };
        memcpy(dst, hdr, sizeof hdr);
        size_t n2 = cap - 20;
        ck_assert_int_eq(snappy_compress((const char *)raw.ptr, raw.len, (char *)dst + 20, &n2), SNAPPY_OK);
        be_put32(dst + 16, (uint32_t)n2);
        got = 20 + n2;
        break;
    }
    case BRK_BATCH_CODEC_LZ4:
        got = LZ4F_compressFrame(dst, cap, raw.ptr, raw.len, NULL);
        ck_assert(!LZ4F_isError(got));
        break;
    case BRK_BATCH_CODEC_ZSTD:
        got = ZSTD_compress(dst, cap, raw.ptr, raw.len, 3);
        ck_assert(!ZSTD_isError(got));
        break;
    default:
        ck_abort();
    }
    buf_deinit(&raw);
    size_t size = BRK_BATCH_HDR_BYTES + got;
    uint8_t *p = out->ptr;
    memset(p, 0, BRK_BATCH_HDR_BYTES);
    be_put32(p + 8, (uint32_t)(size - 12));
    be_put32(p + 12, (uint32_t)-1);
    p[16] = 2;
    int attr = codec | (log_append_time ? BRK_BATCH_ATTR_LOG_APPEND_TIME : 0);
    p[22] = (uint8_t)attr;
    be_put32(p + 23, (uint32_t)(n - 1));
    be_put64(p + 27, (uint64_t)base_ts);
    be_put64(p + 35, (uint64_t)(log_append_time ? log_append_ts : max_ts));
    be_put64(p + 43, (uint64_t)-1);
    be_put32(p + 57, (uint32_t)n);
    be_put32(p + 17, crc32c(0, p + 21, size - 21));
    out->len = size;
}

static int64_t app_buf(struct uring *u, struct brk_plog *pl, const struct buf *b)
{
    struct res r = { .count = 0 };
    int64_t base = -1;
    ck_assert_int_eq(brk_plog_append(pl, buf_bytes(b), 5, 0, &base, res_cb, &r), 0);
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(r.count, 1);
    ck_assert_int_eq(r.rc[0], 0);
    return base;
}

/*
 * The integration engineer's repro: 500 records t0 + 10*i in ONE batch;
 * ListOffsets(t0 + 2495) is offset 250 with that record's timestamp, not
 * the batch's first offset and max timestamp.  _i: uring mode x codec.
 */
START_TEST(test_offset_for_time_records)
{
    int mode = _i % 2, codec = _i / 2;
    struct uring *u = mk_uring(mode);
    struct brk_plog_config c = cfg_small();
    struct brk_plog *pl = open_log(u, &c, 0);
    enum { N = 500 };
    const int64_t t0 = 1700000000000;
    int64_t ts[N];
    struct buf b;
    buf_init(&b, 0);
    app1(u, pl, 1, 5, 10, 0); /* offset 0: an older batch first */
    for (int i = 0; i < N; i++)
        ts[i] = t0 + 10 * i;
    rec_batch(&b, codec, ts, N, false, 0);
    ck_assert_int_eq(app_buf(u, pl, &b), 1); /* offsets 1..500 */
    for (int i = 0; i < N; i++)
        ts[i] = t0 + 10 * N + 10 * i;
    rec_batch(&b, codec, ts, N, false, 0);
    ck_assert_int_eq(app_buf(u, pl, &b), 501); /* offsets 501..1000 */

    int64_t off, t;
    ck_assert_int_eq(brk_plog_offset_for_time(pl, t0 + 2495, &off, &t), 0);
    ck_assert_int_eq(off, 1 + 250);
    ck_assert_int_eq(t, t0 + 2500);
    ck_assert_int_eq(brk_plog_offset_for_time(pl, t0 + 2500, &off, &t), 0);
    ck_assert_int_eq(off, 1 + 250);
    ck_assert_int_eq(t, t0 + 2500);
    ck_assert_int_eq(brk_plog_offset_for_time(pl, t0, &off, &t), 0);
    ck_assert_int_eq(off, 1);
    ck_assert_int_eq(t, t0);
    ck_assert_int_eq(brk_plog_offset_for_time(pl, 6, &off, &t), 0);
    ck_assert_int_eq(off, 1);
    /* the last record of batch 1, then the first of batch 2 */
    ck_assert_int_eq(brk_plog_offset_for_time(pl, t0 + 4990, &off, &t), 0);
    ck_assert_int_eq(off, 500);
    ck_assert_int_eq(brk_plog_offset_for_time(pl, t0 + 4991, &off, &t), 0);
    ck_assert_int_eq(off, 501);
    ck_assert_int_eq(t, t0 + 5000);
    ck_assert_int_eq(brk_plog_offset_for_time(pl, t0 + 7777, &off, &t), 0);
    ck_assert_int_eq(off, 501 + 278);
    ck_assert_int_eq(t, t0 + 7780);
    /* past the last record */
    ck_assert_int_eq(brk_plog_offset_for_time(pl, t0 + 9990, &off, &t), 0);
    ck_assert_int_eq(off, 1000);
    ck_assert_int_eq(brk_plog_offset_for_time(pl, t0 + 9991, &off, &t), ERR_NOT_FOUND);
    /* records below the log start never answer, even inside the batch */
    ck_assert_int_eq(brk_plog_delete_records(pl, 300), 0);
    ck_assert_int_eq(brk_plog_offset_for_time(pl, t0 + 2495, &off, &t), 0);
    ck_assert_int_eq(off, 300);
    ck_assert_int_eq(t, t0 + 2990);
    /* all qualifying records of batch 1 are below the start: batch 2 answers */
    ck_assert_int_eq(brk_plog_delete_records(pl, 501), 0);
    ck_assert_int_eq(brk_plog_offset_for_time(pl, t0 + 2495, &off, &t), 0);
    ck_assert_int_eq(off, 501);
    ck_assert_int_eq(t, t0 + 5000);
    buf_deinit(&b);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* timestamps out of order inside a batch: the first record in OFFSET order wins */
START_TEST(test_offset_for_time_unordered)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    struct brk_plog *pl = open_log(u, &c, 0);
    const int64_t ts[] = { 50, 300, 100, 400, 90 };
    struct buf b;
    buf_init(&b, 0);
    rec_batch(&b, BRK_BATCH_CODEC_GZIP, ts, 5, false, 0);
    app_buf(u, pl, &b);
    int64_t off, t;
    ck_assert_int_eq(brk_plog_offset_for_time(pl, 90, &off, &t), 0);
    ck_assert_int_eq(off, 1);
    ck_assert_int_eq(t, 300);
    ck_assert_int_eq(brk_plog_offset_for_time(pl, 350, &off, &t), 0);
    ck_assert_int_eq(off, 3);
    ck_assert_int_eq(t, 400);
    ck_assert_int_eq(brk_plog_offset_for_time(pl, 401, &off, &t), ERR_NOT_FOUND);
    buf_deinit(&b);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* LogAppendTime: every record carries the batch's max timestamp */
START_TEST(test_offset_for_time_log_append_time)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    struct brk_plog *pl = open_log(u, &c, 0);
    const int64_t ts[] = { 10, 20, 30 };
    struct buf b;
    buf_init(&b, 0);
    rec_batch(&b, BRK_BATCH_CODEC_NONE, ts, 3, false, 0);
    app_buf(u, pl, &b); /* 0..2, create time 10..30 */
    rec_batch(&b, BRK_BATCH_CODEC_LZ4, ts, 3, true, 5000);
    app_buf(u, pl, &b); /* 3..5, append time 5000 */
    int64_t off, t;
    ck_assert_int_eq(brk_plog_offset_for_time(pl, 25, &off, &t), 0);
    ck_assert_int_eq(off, 2);
    ck_assert_int_eq(t, 30);
    ck_assert_int_eq(brk_plog_offset_for_time(pl, 31, &off, &t), 0);
    ck_assert_int_eq(off, 3);
    ck_assert_int_eq(t, 5000);
    ck_assert_int_eq(brk_plog_delete_records(pl, 4), 0);
    ck_assert_int_eq(brk_plog_offset_for_time(pl, 5000, &off, &t), 0);
    ck_assert_int_eq(off, 4);
    ck_assert_int_eq(t, 5000);
    ck_assert_int_eq(brk_plog_offset_for_time(pl, 5001, &off, &t), ERR_NOT_FOUND);
    buf_deinit(&b);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* many segments and index entries: the time-index seek lands before the answer */
START_TEST(test_offset_for_time_segments)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 4096;
    struct brk_plog *pl = open_log(u, &c, 0);
    struct buf b;
    buf_init(&b, 0);
    int64_t ts[20];
    for (int k = 0; k < 40; k++) { /* batch k: offsets 20k.., ts 1000k + 7j */
        for (int j = 0; j < 20; j++)
            ts[j] = 1000 * k + 7 * j;
        rec_batch(&b, k % 2 ? BRK_BATCH_CODEC_ZSTD : BRK_BATCH_CODEC_NONE, ts, 20, false, 0);
        app_buf(u, pl, &b);
    }
    ck_assert_uint_ge(brk_plog_segment_count(pl), 3);
    for (int k = 0; k < 40; k++) {
        for (int j = 0; j < 20; j++) {
            int64_t off, t;
            ck_assert_int_eq(brk_plog_offset_for_time(pl, 1000 * k + 7 * j - 3, &off, &t), 0);
            ck_assert_int_eq(off, 20 * k + j);
            ck_assert_int_eq(t, 1000 * k + 7 * j);
        }
    }
    /* reopen (indexes loaded from disk / rebuilt): same answers */
    brk_plog_destroy(pl);
    pl = open_log(u, &c, 0);
    int64_t off, t;
    ck_assert_int_eq(brk_plog_offset_for_time(pl, 25000, &off, &t), 0);
    ck_assert_int_eq(off, 500);
    ck_assert_int_eq(t, 25000);
    ck_assert_int_eq(brk_plog_offset_for_time(pl, 25001, &off, &t), 0);
    ck_assert_int_eq(off, 501);
    ck_assert_int_eq(t, 25007);
    buf_deinit(&b);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* records that do not parse: answered at batch granularity, never an error */
START_TEST(test_offset_for_time_opaque_fallback)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    struct brk_plog *pl = open_log(u, &c, 0);
    app1(u, pl, 4, 100, 50, 0); /* 4 records of 0xff.. filler */
    int64_t off, t;
    ck_assert_int_eq(brk_plog_offset_for_time(pl, 99, &off, &t), 0);
    ck_assert_int_eq(off, 0);
    ck_assert_int_eq(t, 100);
    ck_assert_int_eq(brk_plog_delete_records(pl, 2), 0);
    ck_assert_int_eq(brk_plog_offset_for_time(pl, 99, &off, &t), 0);
    ck_assert_int_eq(off, 2);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

START_TEST(test_delete_records)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 1024;
    struct brk_plog *pl = open_log(u, &c, 0);
    for (int k = 0; k < 20; k++)
        app1(u, pl, 2, 10, 100, 0);
    size_t segs = brk_plog_segment_count(pl);
    ck_assert_uint_eq(segs, 4);
    ck_assert_int_eq(brk_plog_delete_records(pl, 41), ERR_OFFSET_RANGE);
    ck_assert_int_eq(brk_plog_delete_records(pl, 5), 0);
    ck_assert_int_eq(brk_plog_start_offset(pl), 5);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 4); /* segment 0 holds 0..11 */
    struct buf out;
    buf_init(&out, 0);
    int64_t next;
    ck_assert_int_eq(brk_plog_read(pl, 4, INT64_MAX, 1 << 20, true, &out, &next), ERR_OFFSET_RANGE);
    ck_assert_int_eq(brk_plog_read(pl, 5, INT64_MAX, 1 << 20, true, &out, &next), 0);
    ck_assert_int_eq(check_batches(buf_bytes(&out), 4), 12);
    ck_assert_int_eq(brk_plog_delete_records(pl, 25), 0);
    ck_assert_int_eq(brk_plog_start_offset(pl), 25);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 2);
    ck_assert(!file_exists(0, ".log"));
    ck_assert(!file_exists(12, ".log"));
    ck_assert(!file_exists(12, ".index"));
    ck_assert(file_exists(24, ".log"));
    ck_assert_int_eq(brk_plog_delete_records(pl, 3), 0); /* backwards: no-op */
    ck_assert_int_eq(brk_plog_start_offset(pl), 25);
    /* all of it: the active segment stays */
    ck_assert_int_eq(brk_plog_delete_records(pl, 40), 0);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 1);
    ck_assert_int_eq(brk_plog_start_offset(pl), 40);
    app1(u, pl, 1, 10, 10, 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), 41);
    buf_deinit(&out);
    brk_plog_destroy(pl);
    /* the hint keeps the start offset across a reopen */
    pl = open_log(u, &c, 40);
    ck_assert_int_eq(brk_plog_start_offset(pl), 40);
    ck_assert_int_eq(brk_plog_end_offset(pl), 41);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

START_TEST(test_retention_time_and_size)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 1024;
    c.retention_ms = 1000;
    struct brk_plog *pl = open_log(u, &c, 0);
    /* segment k holds timestamps 1000k.. */
    for (int k = 0; k < 24; k++)
        app1(u, pl, 1, 1000 * (k / 6) + k % 6, 100, 0);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 4);
    int deleted = -1;
    ck_assert_int_eq(brk_plog_retention(pl, 1005, &deleted), 0);
    ck_assert_int_eq(deleted, 0); /* segment 0's max ts 5: 1000 ms old, not more */
    ck_assert_int_eq(brk_plog_retention(pl, 2005, &deleted), 0);
    ck_assert_int_eq(deleted, 1); /* segment 1's max ts 1005 is exactly 1000 ms old: kept */
    ck_assert_int_eq(brk_plog_start_offset(pl), 6);
    /* never the active segment, however old */
    ck_assert_int_eq(brk_plog_retention(pl, 1000000, &deleted), 0);
    ck_assert_int_eq(deleted, 2);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 1);
    ck_assert_int_eq(brk_plog_start_offset(pl), 18);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

START_TEST(test_retention_size)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 1024;
    c.retention_ms = -1;
    c.retention_bytes = 2000;
    struct brk_plog *pl = open_log(u, &c, 0);
    for (int k = 0; k < 24; k++) /* 161-byte batches, 6 per segment = 966 bytes */
        app1(u, pl, 1, 10, 100, 0);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 4);
    ck_assert_int_eq(brk_plog_size_bytes(pl), 24 * 161);
    int deleted;
    ck_assert_int_eq(brk_plog_retention(pl, 0, &deleted), 0);
    /* Kafka's rule: delete while (size - retention_bytes) covers the whole
     * oldest segment: 3864 - 2000 = 1864 covers one 966-byte segment only */
    ck_assert_int_eq(deleted, 1);
    ck_assert_int_eq(brk_plog_size_bytes(pl), 18 * 161);
    ck_assert_int_eq(brk_plog_start_offset(pl), 6);
    c.retention_bytes = 900;
    brk_plog_set_config(pl, &c);
    ck_assert_int_eq(brk_plog_retention(pl, 0, &deleted), 0);
    ck_assert_int_eq(deleted, 2); /* 2898 - 900 covers two; the active one stays */
    ck_assert_int_eq(brk_plog_start_offset(pl), 18);
    ck_assert_int_eq(brk_plog_retention(pl, 0, &deleted), 0);
    ck_assert_int_eq(deleted, 0);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

static void seg_path(int64_t base, const char *ext, char *out, size_t n)
{
    snprintf(out, n, "%s/%020lld%s", dir, (long long)base, ext);
}

static int64_t file_size(const char *p)
{
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    return st.st_size;
}

/* 10 batches of 1 record each (161 bytes), one segment; returns the log bytes. */
static void fill10(int mode, struct buf *before)
{
    struct uring *u = mk_uring(mode);
    struct brk_plog_config c = cfg_small();
    struct brk_plog *pl = open_log(u, &c, 0);
    for (int k = 0; k < 10; k++)
        app1(u, pl, 1, 100 + k, 100, 0);
    int64_t next;
    read_all(pl, 0, before, &next);
    ck_assert_uint_eq(before->len, 1610);
    brk_plog_destroy(pl);
    uring_destroy(u);
}

static void expect_recovered(int mode, const struct buf *before, int64_t end)
{
    struct uring *u = mk_uring(mode);
    struct brk_plog_config c = cfg_small();
    struct brk_plog *pl = open_log(u, &c, 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), end);
    char p[160];
    seg_path(0, ".log", p, sizeof p);
    ck_assert_int_eq(file_size(p), end * 161);
    struct buf out;
    buf_init(&out, 0);
    int64_t next;
    read_all(pl, 0, &out, &next);
    ck_assert_uint_eq(out.len, (size_t)end * 161);
    size_t cmp = out.len < before->len ? out.len : before->len;
    ck_assert_int_eq(memcmp(out.ptr, before->ptr, cmp), 0);
    /* index usable: each offset found */
    for (int64_t off = 0; off < end; off++) {
        buf_reset(&out);
        ck_assert_int_eq(brk_plog_read(pl, off, INT64_MAX, 1, true, &out, &next), 0);
        ck_assert_int_eq(next, off + 1);
    }
    /* appends continue at the right offset */
    ck_assert_int_eq(app1(u, pl, 1, 500, 100, 0), end);
    buf_deinit(&out);
    brk_plog_destroy(pl);
    uring_destroy(u);
}

START_TEST(test_recovery_truncated_mid_batch)
{
    struct buf before;
    buf_init(&before, 0);
    fill10(_i, &before);
    char p[160];
    seg_path(0, ".log", p, sizeof p);
    ck_assert_int_eq(truncate(p, 1610 - 50), 0);
    expect_recovered(_i, &before, 9);
    buf_deinit(&before);
}
END_TEST

/* A sealed segment that lost its tail (killed while its last writes were in
 * flight and the next segment already had data): recovery must cut the log at
 * the hole and delete every later segment, never serve a log with a gap. */
START_TEST(test_recovery_hole_in_sealed_segment)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 1024;
    struct brk_plog *pl = open_log(u, &c, 0);
    for (int k = 0; k < 12; k++)
        app1(u, pl, 1, 1000 + k, 300, 1000 + k);
    ck_assert_uint_ge(brk_plog_segment_count(pl), 3);
    int64_t end = brk_plog_end_offset(pl);
    brk_plog_destroy(pl);
    uring_destroy(u);
    /* tear the tail of the first segment */
    char p[160];
    seg_path(0, ".log", p, sizeof p);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(truncate(p, st.st_size - 100), 0);
    u = mk_uring(_i);
    pl = open_log(u, &c, 0);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 1);
    ck_assert_int_lt(brk_plog_end_offset(pl), end);
    int64_t kept = brk_plog_end_offset(pl);
    struct buf out;
    buf_init(&out, 0);
    int64_t next = 0;
    read_all(pl, 0, &out, &next);
    ck_assert_int_eq(next, kept);
    /* the log takes appends again right after the cut */
    ck_assert_int_eq(app1(u, pl, 1, 5000, 100, 5000), kept);
    buf_deinit(&out);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* Borrowed appends write the caller's bytes in place (patched), without a copy. */
START_TEST(test_append_borrowed)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    struct brk_plog *pl = open_log(u, &c, 0);
    app1(u, pl, 2, 1000, 50, 1000); /* offsets 0-1 through the copying path */
    uint8_t b[4096];
    size_t n = build(b, 3, 2000, 100, 7);
    struct res r = { .count = 0 };
    int64_t base = -1;
    ck_assert_int_eq(brk_plog_append_borrowed(pl, b, n, 9, 2000, &base, res_cb, &r), 0);
    ck_assert_int_eq(base, 2);
    /* patched in place: baseOffset 2, leader epoch 9 */
    ck_assert_int_eq((int64_t)be_get64(b + BRK_BATCH_OFF_BASE_OFFSET), 2);
    ck_assert_int_eq((int32_t)be_get32(b + BRK_BATCH_OFF_LEADER_EPOCH), 9);
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(r.count, 1);
    ck_assert_int_eq(r.rc[0], 0);
    struct buf out;
    buf_init(&out, 0);
    int64_t next;
    read_all(pl, 2, &out, &next);
    ck_assert_int_eq(next, 5);
    ck_assert_uint_eq(out.len, n);
    ck_assert_mem_eq(out.ptr, b, n);
    buf_deinit(&out);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

START_TEST(test_recovery_garbage_tail)
{
    struct buf before;
    buf_init(&before, 0);
    fill10(_i, &before);
    char p[160];
    seg_path(0, ".log", p, sizeof p);
    int fd = open(p, O_WRONLY | O_APPEND);
    ck_assert_int_ge(fd, 0);
    uint8_t junk[300];
    for (size_t k = 0; k < sizeof junk; k++)
        junk[k] = (uint8_t)(k * 31 + 7);
    ck_assert_int_eq(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    close(fd);
    expect_recovered(_i, &before, 10);
    /* zeros (a preallocated or lost-write tail) too */
    fd = open(p, O_WRONLY | O_APPEND);
    memset(junk, 0, sizeof junk);
    ck_assert_int_eq(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
    close(fd);
    expect_recovered(_i, &before, 11);
    buf_deinit(&before);
}
END_TEST

START_TEST(test_recovery_crc_flip_last_batch)
{
    struct buf before;
    buf_init(&before, 0);
    fill10(_i, &before);
    char p[160];
    seg_path(0, ".log", p, sizeof p);
    int fd = open(p, O_RDWR);
    ck_assert_int_ge(fd, 0);
    uint8_t x;
    ck_assert_int_eq(pread(fd, &x, 1, 1610 - 10), 1);
    x ^= 0x5a;
    ck_assert_int_eq(pwrite(fd, &x, 1, 1610 - 10), 1);
    close(fd);
    expect_recovered(_i, &before, 9);
    buf_deinit(&before);
}
END_TEST

START_TEST(test_deleted_index_rebuilt)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 1024;
    struct brk_plog *pl = open_log(u, &c, 0);
    for (int k = 0; k < 20; k++)
        app1(u, pl, 2, 100 + k, 100, 0);
    struct buf before, after;
    buf_init(&before, 0);
    buf_init(&after, 0);
    char p[160], q[160];
    seg_path(12, ".index", p, sizeof p);
    seg_path(12, ".timeindex", q, sizeof q);
    FILE *f = fopen(p, "rb");
    ck_assert_ptr_nonnull(f);
    uint8_t idx_before[256];
    size_t idx_n = fread(idx_before, 1, sizeof idx_before, f);
    fclose(f);
    ck_assert_uint_gt(idx_n, 0);
    int64_t next;
    read_all(pl, 0, &before, &next);
    brk_plog_destroy(pl);

    ck_assert_int_eq(unlink(p), 0);
    ck_assert_int_eq(unlink(q), 0);
    /* a corrupt (odd-sized) index on another sealed segment */
    seg_path(0, ".index", p, sizeof p);
    f = fopen(p, "ab");
    fputc(1, f);
    fclose(f);

    pl = open_log(u, &c, 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), 40);
    seg_path(12, ".index", p, sizeof p);
    f = fopen(p, "rb");
    ck_assert_ptr_nonnull(f);
    uint8_t idx_after[256];
    size_t idx_n2 = fread(idx_after, 1, sizeof idx_after, f);
    fclose(f);
    ck_assert_uint_eq(idx_n2, idx_n);
    ck_assert_int_eq(memcmp(idx_before, idx_after, idx_n), 0);
    ck_assert(file_exists(12, ".timeindex"));
    seg_path(0, ".index", p, sizeof p);
    ck_assert_int_eq(file_size(p) % 8, 0);
    /* everything reads the same */
    int64_t from = 0;
    buf_reset(&after);
    while (from < 40) {
        ck_assert_int_eq(brk_plog_read(pl, from, INT64_MAX, 1 << 20, true, &after, &from), 0);
    }
    ck_assert_uint_eq(after.len, 20 * 161);
    int64_t off, ts;
    ck_assert_int_eq(brk_plog_offset_for_time(pl, 110, &off, &ts), 0);
    ck_assert_int_eq(off, 20);
    buf_deinit(&before);
    buf_deinit(&after);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

START_TEST(test_enospc_fails_append_keeps_log)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    struct brk_plog *pl = open_log(u, &c, 0);
    app1(u, pl, 2, 10, 100, 0);
    struct uring_fault f = { .nth = 2, .count = 1, .err = -ENOSPC };
    uring_fault_set(u, &f);
    uint8_t b[512];
    size_t n = build(b, 3, 20, 100, 0x33);
    struct res r = { .count = 0 };
    int64_t base[3];
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, n), 5, 0, &base[k], res_cb, &r), 0);
    ck_assert_int_eq(base[0], 2);
    ck_assert_int_eq(base[2], 8);
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(r.count, 3);
    ck_assert_int_eq(r.rc[0], 0);
    ck_assert_int_eq(r.rc[1], ERR_NO_SPACE);
    ck_assert_int_eq(r.rc[2], ERR_NO_SPACE); /* written, but after the hole: never visible */
    ck_assert_int_eq(brk_plog_end_offset(pl), 5);
    ck_assert_int_eq(brk_plog_next_offset(pl), 5);
    /* out of space is transient: once the tail is trimmed the log is online */
    ck_assert_int_eq(brk_plog_offline_err(pl), 0);
    struct buf out;
    buf_init(&out, 0);
    int64_t next;
    read_all(pl, 0, &out, &next);
    ck_assert_int_eq(next, 5);
    ck_assert_int_eq(check_batches(buf_bytes(&out), 0), 5);
    char p[160];
    seg_path(0, ".log", p, sizeof p);
    ck_assert_int_eq(file_size(p), (int64_t)out.len); /* failed tail trimmed */
    /* space again: the next append is written at the trimmed end, no reopen */
    uring_fault_set(u, &(struct uring_fault){ 0 });
    ck_assert_int_eq(app1(u, pl, 1, 10, 10, 0), 5);
    ck_assert_int_eq(brk_plog_end_offset(pl), 6);
    brk_plog_destroy(pl);
    /* reopened: consistent */
    pl = open_log(u, &c, 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), 6);
    ck_assert_int_eq(app1(u, pl, 1, 10, 10, 0), 6);
    buf_deinit(&out);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* ENOSPC (and EDQUOT) from a write is transient: bytes the kernel took
 * before refusing (a short write on a nearly full file system, simulated by
 * junk past the end) are trimmed, later appends fail while the disk stays
 * full, and succeed without a reopen once it has room. */
START_TEST(test_enospc_transient_recovers)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    struct brk_plog *pl = open_log(u, &c, 0);
    app1(u, pl, 2, 10, 100, 0);
    char p[160];
    seg_path(0, ".log", p, sizeof p);
    int64_t good_bytes = brk_plog_size_bytes(pl); /* direct appends leave zero slack in the file */
    uint8_t b[512];
    size_t n = build(b, 1, 20, 100, 0x44);
    struct res r = { .count = 0 };
    int64_t base;
    for (int k = 0; k < 3; k++) {
        int err = k == 2 ? -EDQUOT : -ENOSPC;
        uring_fault_set(u, &(struct uring_fault){ .nth = 1, .count = 1, .err = err });
        ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, n), 5, 0, &base, res_cb, &r), 0);
        ck_assert_int_eq(base, 2); /* a refused append's offsets are reused */
        if (k == 0) {
            FILE *f = fopen(p, "ab");
            ck_assert_ptr_nonnull(f);
            ck_assert_uint_eq(fwrite(b, 1, 30, f), 30);
            fclose(f);
        }
        ck_assert_int_ge(uring_submit(u), 0);
        ck_assert_int_eq(uring_drain(u), 0);
        ck_assert_int_eq(r.count, k + 1);
        ck_assert_int_eq(r.rc[k], ERR_NO_SPACE);
        ck_assert_int_eq(brk_plog_end_offset(pl), 2);
        ck_assert_int_eq(brk_plog_next_offset(pl), 2);
        ck_assert_int_eq(brk_plog_offline_err(pl), 0);
        ck_assert_int_eq(file_size(p), good_bytes);
    }
    uring_fault_set(u, &(struct uring_fault){ 0 });
    ck_assert_int_eq(app1(u, pl, 1, 10, 10, 0), 2);
    ck_assert_int_eq(brk_plog_end_offset(pl), 3);
    struct buf out;
    buf_init(&out, 0);
    int64_t next;
    read_all(pl, 0, &out, &next);
    ck_assert_int_eq(next, 3);
    ck_assert_int_eq(check_batches(buf_bytes(&out), 0), 3);
    brk_plog_destroy(pl);
    ck_assert_int_eq(file_size(p), (int64_t)out.len); /* closed: exact, no slack */
    buf_deinit(&out);
    uring_destroy(u);
}
END_TEST

/* ENOSPC from an fdatasync is not transient: the page cache may have
 * dropped bytes it had accepted, so the log stays offline until reopened. */
START_TEST(test_enospc_on_sync_is_sticky)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.flush_interval_messages = 1;
    struct brk_plog *pl = open_log(u, &c, 0);
    app1(u, pl, 1, 10, 10, 0);                  /* ops 1-2: write + fdatasync */
    struct uring_fault f = { .nth = 2, .count = 1, .err = -ENOSPC }; /* the fdatasync */
    uring_fault_set(u, &f);
    uint8_t b[256];
    size_t n = build(b, 1, 10, 10, 1);
    struct res r = { .count = 0 };
    int64_t base;
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, n), 5, 0, &base, res_cb, &r), 0);
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(r.rc[0], ERR_NO_SPACE);
    ck_assert_int_eq(brk_plog_end_offset(pl), 1);
    ck_assert_int_eq(brk_plog_offline_err(pl), ERR_NO_SPACE);
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, n), 5, 0, &base, res_cb, &r), ERR_NO_SPACE);
    ck_assert_int_eq(brk_plog_flush_tick(pl, 1000000), 0); /* offline: nothing to flush, no error per tick */
    brk_plog_destroy(pl);
    uring_fault_set(u, &(struct uring_fault){ 0 });
    pl = open_log(u, &c, 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), 1);
    ck_assert_int_eq(app1(u, pl, 1, 10, 10, 0), 1);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

START_TEST(test_flush_messages_sync_error)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.flush_interval_messages = 3;
    struct brk_plog *pl = open_log(u, &c, 0);
    app1(u, pl, 1, 10, 10, 0);                  /* op 1: write */
    app1(u, pl, 1, 10, 10, 0);                  /* op 2: write */
    ck_assert_uint_eq(uring_pending_count(u), 0);
    struct uring_fault f = { .nth = 2, .count = 1, .err = -EIO }; /* the fdatasync */
    uring_fault_set(u, &f);
    uint8_t b[256];
    size_t n = build(b, 1, 10, 10, 1);
    struct res r = { .count = 0 };
    int64_t base;
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, n), 5, 0, &base, res_cb, &r), 0);
    /* buffered: write + fdatasync; direct: the fdatasync is queued once the write is back */
    ck_assert_uint_eq(uring_pending_count(u), g_shared ? 1 : 2);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(r.rc[0], -EIO);
    ck_assert_int_eq(brk_plog_end_offset(pl), 2);
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, n), 5, 0, &base, res_cb, &r), -EIO);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* ---- group commit (samsa.acks.all.fsync) ---- */

struct sync_res {
    int calls;
    int rc;
    int64_t durable;
    int order;
};
static int g_sync_order;

static void sync_res_cb(void *arg, int rc, int64_t durable_offset)
{
    struct sync_res *r = arg;
    r->calls++;
    r->rc = rc;
    r->durable = durable_offset;
    r->order = ++g_sync_order;
}

/* Several appends, then several requests: one fdatasync covers them all,
 * and every callback runs only once it has completed, in request order. */
START_TEST(test_group_commit)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    struct brk_plog *pl = open_log(u, &c, 0);
    ck_assert_int_eq(brk_plog_durable_offset(pl), 0);
    for (int k = 0; k < 4; k++)
        app1(u, pl, 2, 10, 10, 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), 8);
    ck_assert_int_eq(brk_plog_durable_offset(pl), 0); /* writes alone are not durable */
    ck_assert_uint_eq(brk_plog_sync_count(pl), 0);
    struct brk_plog_sync_req req[3];
    struct sync_res got[3];
    memset(req, 0, sizeof req);
    memset(got, 0, sizeof got);
    g_sync_order = 0;
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(brk_plog_sync(pl, &req[k], sync_res_cb, &got[k]), 0);
    ck_assert_uint_eq(brk_plog_sync_count(pl), 1); /* one fdatasync for three requests */
    ck_assert_uint_eq(uring_pending_count(u), 1);
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(got[k].calls, 0); /* nothing answered before the sync completes */
    ck_assert_int_eq(brk_plog_durable_offset(pl), 0);
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(got[k].calls, 1);
        ck_assert_int_eq(got[k].rc, 0);
        ck_assert_int_eq(got[k].durable, 8);
        ck_assert_int_eq(got[k].order, k + 1);
    }
    ck_assert_int_eq(brk_plog_durable_offset(pl), 8);
    ck_assert_int_eq(brk_plog_sync(pl, &req[0], sync_res_cb, &got[0]), 1); /* durable already */
    ck_assert_uint_eq(brk_plog_sync_count(pl), 1);

    /* a request made while a sync flies waits for the next one */
    app1(u, pl, 1, 10, 10, 0);
    memset(got, 0, sizeof got);
    ck_assert_int_eq(brk_plog_sync(pl, &req[0], sync_res_cb, &got[0]), 0); /* wave: up to 9 */
    uint8_t b[256];
    size_t n = build(b, 1, 10, 10, 1);
    struct res r = { .count = 0 };
    int64_t base;
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, n), 5, 0, &base, res_cb, &r), 0);
    ck_assert_int_ge(uring_submit(u), 0);
    while (r.count == 0)
        ck_assert_int_ge(uring_reap(u), 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), 10);
    if (got[0].calls == 0) { /* the first wave is still in flight: req 1 waits for a second one */
        ck_assert_int_eq(brk_plog_sync(pl, &req[1], sync_res_cb, &got[1]), 0);
        ck_assert_uint_eq(brk_plog_sync_count(pl), 2);
    } else {
        ck_assert_int_eq(brk_plog_sync(pl, &req[1], sync_res_cb, &got[1]), 0);
        ck_assert_uint_eq(brk_plog_sync_count(pl), 3);
    }
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(got[0].calls, 1);
    ck_assert_int_ge(got[0].durable, 9);
    ck_assert_int_eq(got[1].calls, 1);
    ck_assert_int_eq(got[1].durable, 10);
    ck_assert_uint_eq(brk_plog_sync_count(pl), 3);
    ck_assert_int_eq(brk_plog_durable_offset(pl), 10);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* A failed fdatasync fails every waiting request, never acknowledges one,
 * and never moves the durable offset; the log goes offline. */
START_TEST(test_group_commit_failure)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    struct brk_plog *pl = open_log(u, &c, 0);
    app1(u, pl, 3, 10, 10, 0);
    struct brk_plog_sync_req req[3];
    struct sync_res got[3];
    memset(req, 0, sizeof req);
    memset(got, 0, sizeof got);
    ck_assert_int_eq(brk_plog_sync(pl, &req[0], sync_res_cb, &got[0]), 0);
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(brk_plog_durable_offset(pl), 3);
    app1(u, pl, 2, 10, 10, 0);
    app1(u, pl, 2, 10, 10, 0);
    uring_fault_set(u, &(struct uring_fault){ .nth = 1, .count = 1, .err = -EIO }); /* the next fdatasync */
    memset(got, 0, sizeof got);
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(brk_plog_sync(pl, &req[k], sync_res_cb, &got[k]), 0);
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    uring_fault_set(u, &(struct uring_fault){ 0 });
    for (int k = 0; k < 3; k++) {
        ck_assert_int_eq(got[k].calls, 1);
        ck_assert_int_eq(got[k].rc, -EIO);
        ck_assert_int_eq(got[k].durable, 3);
    }
    ck_assert_int_eq(brk_plog_durable_offset(pl), 3);
    ck_assert_int_eq(brk_plog_offline_err(pl), -EIO);
    ck_assert_int_eq(brk_plog_sync(pl, &req[0], sync_res_cb, &got[0]), -EIO);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* A roll inside the range: one fdatasync per segment, in one wave;
 * truncation clamps the durable offset; close fails a waiting request. */
START_TEST(test_group_commit_roll_truncate_close)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 1024;
    struct brk_plog *pl = open_log(u, &c, 0);
    for (int k = 0; k < 6; k++)
        app1(u, pl, 1, 10, 300, 0);
    size_t segs = brk_plog_segment_count(pl);
    ck_assert_uint_ge(segs, 2);
    struct brk_plog_sync_req req = { 0 };
    struct sync_res got = { 0 };
    ck_assert_int_eq(brk_plog_sync(pl, &req, sync_res_cb, &got), 0);
    ck_assert_uint_eq(brk_plog_sync_count(pl), segs); /* nothing was durable: every segment */
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(got.durable, 6);
    app1(u, pl, 1, 10, 300, 0);
    uint64_t before = brk_plog_sync_count(pl);
    ck_assert_int_eq(brk_plog_sync(pl, &req, sync_res_cb, &got), 0);
    ck_assert_uint_eq(brk_plog_sync_count(pl), before + 1); /* only the segment past the durable offset */
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(brk_plog_durable_offset(pl), 7);
    ck_assert_int_eq(brk_plog_truncate_to(pl, 5), 0);
    ck_assert_int_eq(brk_plog_durable_offset(pl), 5);
    app1(u, pl, 1, 10, 300, 0);
    got.calls = 0;
    ck_assert_int_eq(brk_plog_sync(pl, &req, sync_res_cb, &got), 0);
    brk_plog_destroy(pl); /* fails the request first, then drains */
    ck_assert_int_eq(got.calls, 1);
    ck_assert_int_eq(got.rc, ERR_NOT_LEADER);
    uring_destroy(u);
}
END_TEST

START_TEST(test_flush_tick)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.flush_interval_ms = 100;
    struct brk_plog *pl = open_log(u, &c, 0);
    app1(u, pl, 1, 10, 10, 1000);
    ck_assert_int_eq(brk_plog_flush_tick(pl, 1050), 0);
    ck_assert_uint_eq(uring_pending_count(u), 0);
    ck_assert_int_eq(brk_plog_flush_tick(pl, 1100), 0);
    ck_assert_uint_eq(uring_pending_count(u), 1);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(brk_plog_flush_tick(pl, 1300), 0);
    ck_assert_uint_eq(uring_pending_count(u), 0); /* nothing dirty */
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

START_TEST(test_short_write_and_order)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    struct brk_plog *pl = open_log(u, &c, 0);
    /* a direct write must stay aligned: short by a block, over bigger appends */
    struct uring_fault f = { .nth = 1, .count = 2, .short_bytes = g_shared ? 4096 : 7 };
    uring_fault_set(u, &f);
    uint8_t b[1024];
    struct res r = { .count = 0 };
    int64_t base;
    for (int k = 0; k < 20; k++) {
        size_t n = build(b, 1 + k % 3, 10 + k, (g_shared ? 500 : 50) + k, (uint8_t)k);
        ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, n), 5, 0, &base, res_cb, &r), 0);
    }
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, 0), 5, 0, &base, res_cb, &r), ERR_INVALID);
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(r.count, 20);
    for (int k = 0; k < 20; k++)
        ck_assert_int_eq(r.rc[k], 0);
    struct buf out;
    buf_init(&out, 0);
    int64_t next;
    read_all(pl, 0, &out, &next);
    ck_assert_int_eq(check_batches(buf_bytes(&out), 0), brk_plog_end_offset(pl));
    buf_deinit(&out);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

struct count_res {
    int ok, failed;
};

static void count_cb(void *arg, int rc)
{
    struct count_res *c = arg;
    if (rc == 0)
        c->ok++;
    else
        c->failed++;
}

/* Appends queue until a limit: buffered, the uring's op queue (an append
 * is an op); direct, BRK_PLOG_APPENDS_MAX (the slot ring grows from 16 to
 * it; only one write flies).  Nothing queued is lost at the limit. */
START_TEST(test_append_limit)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    struct brk_plog *pl = open_log(u, &c, 0);
    uint8_t b[256];
    size_t n = build(b, 1, 10, 10, 1);
    struct count_res r = { 0, 0 };
    int64_t base;
    unsigned queued = 0;
    int rc;
    while ((rc = brk_plog_append(pl, bytes_make(b, n), 5, 0, &base, count_cb, &r)) == 0)
        queued++;
    ck_assert_int_eq(rc, ERR_LIMIT);
    ck_assert_uint_eq(queued, g_shared ? BRK_PLOG_APPENDS_MAX : URING_OPS_MAX - 4);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(r.ok, (int)queued);
    ck_assert_int_eq(r.failed, 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), queued);
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, n), 5, 0, &base, count_cb, &r), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(r.ok, (int)queued + 1);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

START_TEST(test_truncate_to)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 1024;
    struct brk_plog *pl = open_log(u, &c, 0);
    for (int k = 0; k < 20; k++)
        app1(u, pl, 2, 100 + k, 100, 0);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 4);
    ck_assert_int_eq(brk_plog_truncate_to(pl, 41), 0); /* beyond: no-op */
    ck_assert_int_eq(brk_plog_end_offset(pl), 40);
    ck_assert_int_eq(brk_plog_truncate_to(pl, 15), 0); /* mid-batch 14..15: cut at 14 */
    ck_assert_int_eq(brk_plog_end_offset(pl), 14);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 2);
    ck_assert(!file_exists(24, ".log"));
    struct buf out;
    buf_init(&out, 0);
    int64_t next;
    read_all(pl, 12, &out, &next);
    ck_assert_int_eq(check_batches(buf_bytes(&out), 12), 14);
    ck_assert_int_eq(app1(u, pl, 2, 500, 100, 0), 14);
    brk_plog_destroy(pl);
    pl = open_log(u, &c, 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), 16);
    buf_deinit(&out);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* A leader's batch: `count` records at base with epoch (both outside the CRC). */
static size_t build_at(uint8_t *out, int64_t base, int32_t epoch, int32_t count, size_t payload)
{
    size_t n = build(out, count, 1000 + base, payload, (uint8_t)base);
    be_put64(out, (uint64_t)base);
    be_put32(out + 12, (uint32_t)epoch);
    return n;
}

/* every batch from `from` to the end, across segments */
static void read_to_end(struct brk_plog *pl, int64_t from, struct buf *out)
{
    buf_reset(out);
    int64_t at = from;
    while (at < brk_plog_end_offset(pl)) {
        int64_t next;
        ck_assert_int_eq(brk_plog_read(pl, at, INT64_MAX, 1 << 24, true, out, &next), 0);
        ck_assert_int_gt(next, at);
        at = next;
    }
}

/* append_replica and run it to completion; returns the call's rc */
static int app_replica(struct uring *u, struct brk_plog *pl, const uint8_t *b, size_t n)
{
    struct res r = { .count = 0 };
    int rc = brk_plog_append_replica(pl, bytes_make(b, n), 0, res_cb, &r);
    if (rc < 0)
        return rc;
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(r.count, 1);
    ck_assert_int_eq(r.rc[0], 0);
    return 0;
}

START_TEST(test_append_replica)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 1024;
    struct brk_plog *pl = open_log(u, &c, 0);
    /* the leader's bytes: epochs 3 then 7, a gap (compaction), several segments */
    static uint8_t lead[16384];
    size_t len = 0, cut = 0;
    int64_t off = 0;
    for (int k = 0; k < 12; k++) {
        if (k == 6)
            cut = len;
        if (k == 8)
            off += 5; /* a gap inside an append */
        len += build_at(lead + len, off, k < 4 ? 3 : 7, 2 + k % 3, 150);
        off += 2 + k % 3;
    }
    int64_t end = off;
    /* wrong first offset, a CRC flip, a torn batch: refused, nothing changes */
    ck_assert_int_eq(brk_plog_append_replica(pl, bytes_make(lead + 211, len - 211), 0, res_cb, NULL), ERR_INVALID);
    lead[100] ^= 1;
    ck_assert_int_eq(brk_plog_append_replica(pl, bytes_make(lead, cut), 0, res_cb, NULL), ERR_CORRUPT);
    lead[100] ^= 1;
    ck_assert_int_eq(brk_plog_append_replica(pl, bytes_make(lead, cut - 1), 0, res_cb, NULL), ERR_CORRUPT);
    ck_assert_int_eq(brk_plog_next_offset(pl), 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), 0);
    /* offsets going back inside one append */
    uint8_t twice[1024];
    size_t t1 = build_at(twice, 0, 3, 2, 50);
    size_t t2 = build_at(twice + t1, 1, 3, 2, 50);
    ck_assert_int_eq(brk_plog_append_replica(pl, bytes_make(twice, t1 + t2), 0, res_cb, NULL), ERR_INVALID);
    /* the real thing, in two appends */
    ck_assert_int_eq(app_replica(u, pl, lead, cut), 0);
    int64_t mid = brk_plog_end_offset(pl);
    ck_assert_int_eq(brk_plog_next_offset(pl), mid);
    size_t half = cut + 3 * (61 + 150); /* batches 6-8 in one append (with the gap), then one by one */
    ck_assert_int_eq(app_replica(u, pl, lead + cut, half - cut), 0);
    for (size_t p = half; p < len; p += 61 + 150)
        ck_assert_int_eq(app_replica(u, pl, lead + p, 61 + 150), 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), end);
    ck_assert_uint_ge(brk_plog_segment_count(pl), 3);
    /* byte for byte: offsets, epochs and CRCs as the leader wrote them */
    struct buf out;
    buf_init(&out, 0);
    read_to_end(pl, 0, &out);
    ck_assert_uint_eq(out.len, len);
    ck_assert(memcmp(out.ptr, lead, len) == 0);
    /* the same after recovery */
    brk_plog_destroy(pl);
    pl = open_log(u, &c, 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), end);
    read_to_end(pl, 0, &out);
    ck_assert_uint_eq(out.len, len);
    ck_assert(memcmp(out.ptr, lead, len) == 0);
    /* a leader append after it continues at the log end */
    ck_assert_int_eq(app1(u, pl, 1, 9, 10, 0), end);
    buf_deinit(&out);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

START_TEST(test_reset_to)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 1024;
    struct brk_plog *pl = open_log(u, &c, 0);
    for (int k = 0; k < 20; k++)
        app1(u, pl, 2, 100 + k, 100, 0);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 4);
    /* nothing may be in flight */
    uint8_t b[1024];
    size_t n = build(b, 1, 5, 10, 1);
    struct res r = { .count = 0 };
    int64_t base;
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, n), 5, 0, &base, res_cb, &r), 0);
    ck_assert_int_eq(brk_plog_reset_to(pl, 1000), ERR_INVALID);
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(r.count, 1);
    ck_assert_int_eq(brk_plog_end_offset(pl), 41);
    ck_assert_int_eq(brk_plog_reset_to(pl, -1), ERR_OFFSET_RANGE);
    /* past the end: every old segment goes, an empty one at 1000 */
    ck_assert_int_eq(brk_plog_reset_to(pl, 1000), 0);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 1);
    ck_assert_int_eq(brk_plog_start_offset(pl), 1000);
    ck_assert_int_eq(brk_plog_end_offset(pl), 1000);
    ck_assert_int_eq(brk_plog_next_offset(pl), 1000);
    ck_assert_int_eq(brk_plog_size_bytes(pl), 0);
    ck_assert(!file_exists(0, ".log"));
    ck_assert(file_exists(1000, ".log"));
    struct buf out;
    buf_init(&out, 0);
    int64_t next;
    ck_assert_int_eq(brk_plog_read(pl, 0, INT64_MAX, 1 << 20, true, &out, &next), ERR_OFFSET_RANGE);
    read_all(pl, 1000, &out, &next);
    ck_assert_uint_eq(out.len, 0);
    /* the leader's batches continue there */
    uint8_t lead[1024];
    size_t ln = build_at(lead, 1000, 9, 3, 40);
    ln += build_at(lead + ln, 1003, 9, 2, 40);
    ck_assert_int_eq(app_replica(u, pl, lead, ln), 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), 1005);
    brk_plog_destroy(pl);
    pl = open_log(u, &c, 1000);
    ck_assert_int_eq(brk_plog_start_offset(pl), 1000);
    ck_assert_int_eq(brk_plog_end_offset(pl), 1005);
    read_all(pl, 1000, &out, &next);
    ck_assert_uint_eq(out.len, ln);
    ck_assert(memcmp(out.ptr, lead, ln) == 0);
    /* at the base of the segment it has: that segment is emptied and kept */
    ck_assert_int_eq(brk_plog_reset_to(pl, 1000), 0);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 1);
    ck_assert_int_eq(brk_plog_end_offset(pl), 1000);
    ck_assert(file_exists(1000, ".log"));
    ck_assert_int_eq(app1(u, pl, 2, 7, 10, 0), 1000);
    brk_plog_destroy(pl);
    pl = open_log(u, &c, 1000);
    ck_assert_int_eq(brk_plog_end_offset(pl), 1002);
    buf_deinit(&out);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

struct ack_ctx {
    int fd;
    int64_t last_offset;
    int *inflight;
};

static void ack_cb(void *arg, int rc)
{
    struct ack_ctx *a = arg;
    (*a->inflight)--;
    if (rc != 0)
        _exit(3);
    if (write(a->fd, &a->last_offset, sizeof a->last_offset) != (ssize_t)sizeof a->last_offset)
        _exit(4);
}

/* A child appends (8 in flight) and reports each acknowledged offset; the
 * parent kills it with SIGKILL mid-stream, reopens, and every acknowledged
 * batch must be there. */
START_TEST(test_kill9_keeps_acknowledged)
{
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(pfd[0]);
        struct uring *u;
        if (uring_create(64, _i == 0, &u) != 0)
            _exit(1);
        struct brk_plog_config c = cfg_small();
        c.segment_bytes = 8192;
        struct brk_plog *pl;
        if (brk_plog_open(u, g_shared, dir, &c, 0, &pl) != 0)
            _exit(2);
        static struct ack_ctx acks[BRK_PLOG_APPENDS_MAX];
        int inflight = 0;
        uint8_t b[512];
        for (int k = 0; k < 20000; k++) { /* the pipe fills first: killed mid-stream */
            size_t n = build(b, 1 + k % 4, k, 100 + k % 50, (uint8_t)k);
            struct ack_ctx *a = &acks[k % BRK_PLOG_APPENDS_MAX];
            a->fd = pfd[1];
            a->inflight = &inflight;
            int64_t base;
            if (brk_plog_append(pl, bytes_make(b, n), 5, k, &base, ack_cb, a) != 0)
                _exit(5);
            a->last_offset = base + k % 4;
            inflight++;
            if (uring_submit(u) < 0)
                _exit(6);
            while (inflight >= 8)
                if (uring_reap(u) < 0)
                    _exit(7);
        }
        for (;;)
            pause(); /* never exit on our own: the parent's SIGKILL ends us */
    }
    close(pfd[1]);
    /* plain checks in the loops: check(3) fork mode makes every ck_assert a write */
    int64_t last = -1, got;
    int bad = 0;
    for (int k = 0; k < 500; k++) {
        if (read(pfd[0], &got, sizeof got) != (ssize_t)sizeof got || got <= last)
            bad++;
        last = got;
    }
    ck_assert_int_eq(bad, 0);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status));
    /* acks sent before the kill */
    while (read(pfd[0], &got, sizeof got) == (ssize_t)sizeof got)
        last = got;
    close(pfd[0]);

    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 8192;
    struct brk_plog *pl = open_log(u, &c, 0);
    ck_assert_int_gt(brk_plog_end_offset(pl), last);
    struct buf out;
    buf_init(&out, 0);
    int64_t from = 0;
    while (from < brk_plog_end_offset(pl) && bad == 0) {
        int64_t expect = from;
        buf_reset(&out);
        if (brk_plog_read(pl, from, INT64_MAX, 1 << 20, true, &out, &from) != 0 || out.len == 0) {
            bad++;
            break;
        }
        for (size_t pos = 0; pos < out.len;) {
            struct brk_batch_hdr h;
            if (brk_batch_parse(out.ptr + pos, out.len - pos, &h) <= 0 ||
                h.size_bytes > out.len - pos || !brk_batch_crc_ok(out.ptr + pos, &h) ||
                h.base_offset != expect) {
                bad++;
                break;
            }
            expect += h.last_offset_delta + 1;
            pos += h.size_bytes;
        }
        if (expect != from)
            bad++;
    }
    ck_assert_int_eq(bad, 0);
    buf_deinit(&out);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/*
 * Appends of 1 B to 300 KiB (records bytes), several in flight, across
 * segment rolls: bigger than the small ring, so they stream through it.
 * Every byte read back (from the ring and from the files, at every
 * offset) equals what was appended, before and after a reopen, and the
 * closed files end at their last batch (no slack).
 */
START_TEST(test_stream_large_appends)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 256 << 10;
    struct brk_plog *pl = open_log(u, &c, 0);
    enum { N = 60 };
    static uint8_t bufs[N][310 << 10];
    size_t lens[N];
    struct res r = { .count = 0 };
    uint32_t seed = 12345;
    int64_t next = 0;
    struct buf want;
    buf_init(&want, 0);
    for (int k = 0; k < N; k++) {
        seed = seed * 1103515245u + 12345u;
        size_t payload = k % 7 == 0 ? (seed >> 8) % (300 << 10) : (seed >> 8) % 3000;
        lens[k] = build(bufs[k], 1 + k % 5, 1000 + k, payload, (uint8_t)(seed >> 3));
        for (size_t q = BRK_BATCH_HDR_BYTES; q < lens[k]; q++) /* distinct bytes, new CRC */
            bufs[k][q] = (uint8_t)(q * 31 + (size_t)k);
        be_put32(bufs[k] + 17, crc32c(0, bufs[k] + 21, lens[k] - 21));
        int64_t base;
        ck_assert_int_eq(brk_plog_append(pl, bytes_make(bufs[k], lens[k]), 5, k, &base, res_cb, &r), 0);
        ck_assert_int_eq(base, next);
        next += 1 + k % 5;
        ck_assert_int_eq(buf_append(&want, bufs[k], lens[k]), 0); /* brk_plog_append copies: patch ours */
        brk_batch_patch(want.ptr + want.len - lens[k], base, 5);
        if (k % 4 == 3) { /* let some complete while others queue */
            ck_assert_int_ge(uring_submit(u), 0);
            ck_assert_int_eq(uring_drain(u), 0);
        }
    }
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(r.count, N);
    for (int k = 0; k < N; k++)
        ck_assert_int_eq(r.rc[k], 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), next);
    ck_assert_msg(brk_plog_segment_count(pl) > 2, "segments=%zu bytes=%zu", brk_plog_segment_count(pl), want.len);
    struct buf out;
    buf_init(&out, 0);
    for (int pass = 0; pass < 2; pass++) {
        /* from every batch's first offset: whole batches, the same bytes */
        size_t at = 0;
        int64_t off = 0;
        for (int k = 0; k < N; k++) {
            buf_reset(&out);
            int64_t nx;
            ck_assert_int_eq(brk_plog_read(pl, off, INT64_MAX, 400 << 10, true, &out, &nx), 0);
            ck_assert_uint_ge(out.len, lens[k]);
            ck_assert_int_eq(memcmp(out.ptr, want.ptr + at, out.len), 0);
            at += lens[k];
            off += 1 + k % 5;
        }
        if (pass == 0) {
            brk_plog_destroy(pl);
            pl = open_log(u, &c, 0);
            ck_assert_int_eq(brk_plog_end_offset(pl), next);
            ck_assert_int_eq(brk_plog_size_bytes(pl), (int64_t)want.len);
        }
    }
    /* on disk: the segments hold exactly the log's bytes, nothing after them */
    int64_t on_disk = 0;
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".log") == 0) {
            char p[512];
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            on_disk += file_size(p);
        }
    }
    closedir(d);
    brk_plog_destroy(pl);
    ck_assert_int_eq(on_disk, (int64_t)want.len);
    buf_deinit(&out);
    buf_deinit(&want);
    uring_destroy(u);
}
END_TEST

/* A sealed segment that ends in direct-write slack (a kill -9 between its
 * last write and its seal) is not a torn segment: recovery cuts the zeros
 * and keeps every later segment. */
START_TEST(test_recovery_slack_in_sealed_segment)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 1000;
    struct brk_plog *pl = open_log(u, &c, 0);
    for (int k = 0; k < 20; k++)
        app1(u, pl, 1, 10 + k, 100, 0);
    size_t segs = brk_plog_segment_count(pl);
    int64_t size = brk_plog_size_bytes(pl);
    ck_assert_uint_gt(segs, 2);
    brk_plog_destroy(pl);
    char p[160];
    seg_path(0, ".log", p, sizeof p);
    int64_t first = file_size(p);
    ck_assert_int_eq(truncate(p, 4096), 0); /* zeros up to the block end */
    pl = open_log(u, &c, 0);
    ck_assert_uint_eq(brk_plog_segment_count(pl), segs);
    ck_assert_int_eq(brk_plog_end_offset(pl), 20);
    ck_assert_int_eq(brk_plog_size_bytes(pl), size);
    ck_assert_int_eq(file_size(p), first);
    struct buf out;
    buf_init(&out, 0);
    int64_t next;
    read_all(pl, 0, &out, &next);
    ck_assert_int_eq(check_batches(buf_bytes(&out), 0), next);
    buf_deinit(&out);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* Direct appends: a ring idle for BRK_PLOG_TAIL_IDLE_MS goes back to the
 * node's budget (and the file is cut to its exact size); the next append
 * attaches a ring again from the partial last block.  A second partition
 * past the budget gets the smallest ring, and works the same. */
START_TEST(test_tail_idle_release_and_budget)
{
    if (g_shared == NULL)
        return; /* buffered appends have no ring */
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    g_shared->tail_buffers_max_bytes = g_shared->tail_buffer_bytes; /* room for one full ring */
    struct brk_plog *pl = open_log(u, &c, 0);
    app1(u, pl, 1, 10, 100, 1000);
    int64_t one = g_shared->tail_buffers_bytes;
    ck_assert_int_ge(one, BRK_PLOG_TAIL_MIN_BYTES);
    char p[160];
    seg_path(0, ".log", p, sizeof p);
    ck_assert_int_eq(file_size(p) % 4096, 0); /* the slack of the last direct write */

    char dir2[80];
    snprintf(dir2, sizeof dir2, "%.*s/t-1", (int)(strlen(dir) - 4), dir);
    struct brk_plog *pl2;
    ck_assert_int_eq(brk_plog_open(u, g_shared, dir2, &c, 0, &pl2), 0);
    app1(u, pl2, 1, 10, 100, 1000);
    ck_assert_int_eq(g_shared->tail_buffers_bytes - one, BRK_PLOG_TAIL_MIN_BYTES);
    for (int k = 0; k < 50; k++) /* the small ring streams bigger totals */
        app1(u, pl2, 3, 20 + k, 4000, 1000);
    ck_assert_int_eq(brk_plog_end_offset(pl2), 151);

    ck_assert_int_eq(brk_plog_flush_tick(pl, 1000 + BRK_PLOG_TAIL_IDLE_MS - 1), 0);
    ck_assert_int_eq(g_shared->tail_buffers_bytes, one + BRK_PLOG_TAIL_MIN_BYTES);
    ck_assert_int_eq(brk_plog_flush_tick(pl, 1000 + BRK_PLOG_TAIL_IDLE_MS), 0);
    ck_assert_int_eq(g_shared->tail_buffers_bytes, BRK_PLOG_TAIL_MIN_BYTES);
    ck_assert_int_eq(file_size(p), brk_plog_size_bytes(pl));
    app1(u, pl, 2, 11, 100, 50000); /* attaches again: the partial block is read back */
    ck_assert_int_eq(brk_plog_end_offset(pl), 3);
    struct buf out;
    buf_init(&out, 0);
    int64_t next;
    read_all(pl, 0, &out, &next);
    ck_assert_int_eq(check_batches(buf_bytes(&out), 0), 3);
    brk_plog_destroy(pl);
    ck_assert_int_eq(file_size(p), (int64_t)out.len); /* closed: exact */
    read_all(pl2, 0, &out, &next);
    ck_assert_int_eq(check_batches(buf_bytes(&out), 0), 151);
    brk_plog_destroy(pl2);
    ck_assert_int_eq(g_shared->tail_buffers_bytes, 0);
    buf_deinit(&out);
    uring_destroy(u);
}
END_TEST

/* ==== found in review of the direct appends (each failed before its fix) ====
 * and a random-sequence test against a model (test_stress): appends of
 * 1 B-210 KiB, submits and reaps at random, flush ticks, idle releases,
 * rolls, ENOSPC/EIO/short-write faults, retention, delete_records,
 * truncate_to and reopen; every read compared byte for byte with the
 * acknowledged batches.  PLOG_STRESS_SEED=n PLOG_STRESS_STEPS=n explore
 * other seeds; PLOG_LOG=1 logs. */

/* R1: kill -9 while a rolled segment's last direct write was in flight:
 * its index (written at the roll) has an entry for a batch that never
 * landed, inside the zero slack of the write before; the new segment is
 * empty.  Recovery must keep batches 0..4 (acknowledged) and end at 5. */
START_TEST(test_recovery_index_entry_in_slack)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small(); /* an index entry for every batch after the first */
    c.segment_bytes = 1024;
    struct brk_plog *pl = open_log(u, &c, 0);
    for (int k = 0; k < 8; k++) /* 161 bytes: 6 batches in segment 0, 2 in segment 6 */
        app1(u, pl, 1, 10 + k, 100, 0);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 2);
    brk_plog_destroy(pl);
    char p[160];
    seg_path(0, ".log", p, sizeof p);
    ck_assert_int_eq(truncate(p, 805), 0);  /* batch 5 (at 805, indexed) never landed */
    ck_assert_int_eq(truncate(p, 4096), 0); /* the zero slack of the write before */
    seg_path(6, ".log", p, sizeof p);
    ck_assert_int_eq(truncate(p, 0), 0);    /* the new segment: created, nothing written */
    pl = open_log(u, &c, 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), 5);
    struct buf out;
    buf_init(&out, 0);
    int64_t next;
    read_all(pl, 0, &out, &next);
    ck_assert_int_eq(next, 5);
    ck_assert_int_eq(check_batches(buf_bytes(&out), 0), 5);
    ck_assert_int_eq(app1(u, pl, 1, 99, 100, 0), 5);
    buf_deinit(&out);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the DIR's own descriptor */
}

/* R2: a roll at the first append after the ring was released (segment.ms
 * elapsed while the partition was idle): the sealed segment keeps its
 * O_DIRECT descriptor until it is deleted.  Expected: one descriptor per
 * segment plus the active segment's O_DIRECT one. */
START_TEST(test_roll_after_idle_leaks_direct_fd)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.roll_ms = 1000;
    int base_fds = count_fds();
    struct brk_plog *pl = open_log(u, &c, 0);
    int64_t now = 0;
    for (int k = 0; k < 5; k++) {
        app1(u, pl, 1, 10 + k, 100, now);
        now += BRK_PLOG_TAIL_IDLE_MS;
        ck_assert_int_eq(brk_plog_flush_tick(pl, now), 0); /* idle: ring released */
        now += 1000;
    }
    app1(u, pl, 1, 99, 100, now);
    int segs = (int)brk_plog_segment_count(pl);
    ck_assert_int_eq(segs, 6);
    ck_assert_int_eq(count_fds() - base_fds, segs + (g_shared ? 1 : 0));
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* R3: a direct write fails (EIO) while another op of the log (a flush.ms
 * fdatasync) is still in flight: the slots fail, the repair waits for the
 * sync; 30 s later the flush tick releases the idle ring: detach asserts
 * written == copied (the failed bytes are still 'copied'). */
START_TEST(test_idle_after_failed_write_with_sync_in_flight)
{
    if (g_shared == NULL)
        return;
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.flush_interval_ms = 100;
    struct brk_plog *pl = open_log(u, &c, 0);
    app1(u, pl, 1, 10, 100, 0);
    uring_fault_set(u, &(struct uring_fault){ .nth = 1, .count = 1, .err = -EIO });
    uint8_t b[512];
    size_t n = build(b, 1, 20, 100, 0x55);
    struct res r = { .count = 0 };
    int64_t base;
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, n), 5, 1000, &base, res_cb, &r), 0);
    ck_assert_int_eq(uring_submit(u), 1);                 /* the write (fails) */
    ck_assert_int_eq(brk_plog_flush_tick(pl, 1200), 0);  /* a sync, not yet submitted: "slow" */
    ck_assert_uint_eq(uring_pending_count(u), 2);
    for (int spin = 0; r.count == 0 && spin < 1000000; spin++)
        ck_assert_int_ge(uring_reap(u), 0);
    ck_assert_int_eq(r.count, 1);
    ck_assert_int_eq(r.rc[0], -EIO);
    /* the sync still flies 30 s later (a dying disk) */
    ck_assert_int_eq(brk_plog_flush_tick(pl, 1000 + BRK_PLOG_TAIL_IDLE_MS), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* R4: the zero slack of a direct write is not zero on the device: the next
 * append is copied into the slack cells while the write flies (here: the
 * fallback performs it at reap, after the copy). */
START_TEST(test_slack_overwritten_while_write_flies)
{
    if (g_shared == NULL || _i == 0)
        return; /* fallback uring only: the write runs at reap, deterministically */
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    struct brk_plog *pl = open_log(u, &c, 0);
    uint8_t a[512], b2[512];
    size_t na = build(a, 1, 10, 100, 0x11), nb = build(b2, 1, 11, 100, 0x22);
    struct res r = { .count = 0 };
    int64_t base;
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(a, na), 5, 0, &base, res_cb, &r), 0);
    ck_assert_int_eq(uring_submit(u), 1); /* write [0, 4096): a + zero slack */
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(b2, nb), 5, 0, &base, res_cb, &r), 0);
    ck_assert_int_ge(uring_reap(u), 1);   /* only the first write ran */
    ck_assert_int_eq(r.count, 1);
    char p[160];
    seg_path(0, ".log", p, sizeof p);
    int fd = open(p, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    uint8_t got[4096];
    ck_assert_int_eq(pread(fd, got, sizeof got, 0), 4096);
    close(fd);
    size_t nonzero = 0;
    for (size_t k = na; k < sizeof got; k++)
        nonzero += got[k] != 0;
    ck_assert_msg(nonzero == 0, "the slack after the first write holds %zu non-zero bytes", nonzero);
    ck_assert_int_eq(uring_drain(u), 0);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* R5: the same crash, but the rolled segment's last write ended inside its
 * last batch (the ring was full): the batch's header landed, its body's end
 * is the zero slack.  Recovery must not keep (and serve) that batch. */
START_TEST(test_recovery_partial_batch_in_slack)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 1024;
    struct brk_plog *pl = open_log(u, &c, 0);
    for (int k = 0; k < 8; k++)
        app1(u, pl, 1, 10 + k, 100, 0);
    ck_assert_uint_eq(brk_plog_segment_count(pl), 2);
    brk_plog_destroy(pl);
    char p[160];
    seg_path(0, ".log", p, sizeof p);
    ck_assert_int_eq(truncate(p, 900), 0);  /* batch 5 (805..966) only partly written */
    ck_assert_int_eq(truncate(p, 4096), 0); /* then the zero slack */
    seg_path(6, ".log", p, sizeof p);
    ck_assert_int_eq(truncate(p, 0), 0);
    pl = open_log(u, &c, 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), 5);
    struct buf out;
    buf_init(&out, 0);
    int64_t next;
    read_all(pl, 0, &out, &next);
    ck_assert_int_eq(check_batches(buf_bytes(&out), 0), next); /* CRCs */
    buf_deinit(&out);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* R6 (pre-existing, buffered): retention while a failed write's repair
 * waits for later appends still in flight deletes the segment holding the
 * visible end; the repair then cannot cut back to it and leaves a segment
 * whose base is past the end: start > end, later appends get offsets below
 * their segment's base. */
START_TEST(test_retention_during_repair)
{
    if (g_shared != NULL)
        return; /* direct: the failed write fails every later append at once, no window */
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 1024;
    c.index_interval_bytes = 1 << 20; /* no index entries, no time index: no index writes at the roll */
    c.retention_ms = -1;
    c.retention_bytes = 0;
    struct brk_plog *pl = open_log(u, &c, 0);
    app1(u, pl, 1, -1, 400, 0);                     /* offset 0, visible */
    uring_fault_set(u, &(struct uring_fault){ .nth = 1, .count = 1, .err = -ENOSPC });
    uint8_t b[1024];
    size_t n = build(b, 1, -1, 400, 7);
    struct res r = { .count = 0 };
    int64_t base;
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, n), 5, 0, &base, res_cb, &r), 0); /* offset 1: ENOSPC */
    ck_assert_int_eq(uring_submit(u), 1);
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, n), 5, 0, &base, res_cb, &r), 0); /* offset 2: rolls, still queued */
    ck_assert_uint_eq(brk_plog_segment_count(pl), 2);
    for (int spin = 0; r.count == 0 && spin < 1000000; spin++)
        ck_assert_int_ge(uring_reap(u), 0);
    ck_assert_int_eq(r.rc[0], ERR_NO_SPACE);
    int deleted;
    ck_assert_int_eq(brk_plog_retention(pl, 0, &deleted), 0); /* the retention timer fires now */
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(r.count, 2);
    ck_assert_int_le(brk_plog_start_offset(pl), brk_plog_end_offset(pl));
    int64_t b2 = app1(u, pl, 1, -1, 10, 0);
    ck_assert_int_ge(b2, brk_plog_start_offset(pl));
    struct buf out;
    buf_init(&out, 0);
    int64_t next;
    read_all(pl, b2, &out, &next);
    ck_assert_int_eq(next, b2 + 1);
    /* acknowledged: it must survive a restart */
    int64_t start = brk_plog_start_offset(pl);
    brk_plog_destroy(pl);
    pl = open_log(u, &c, start); /* the log-start-offset checkpoint */
    ck_assert_int_ge(brk_plog_end_offset(pl), b2 + 1);
    read_all(pl, b2, &out, &next);
    ck_assert_int_eq(next, b2 + 1);
    buf_deinit(&out);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

static void noop_cb(void *arg, int res)
{
    (void)arg;
    (void)res;
}

/* R7: the uring is full when a completion wants to queue the next write
 * (flush.messages: the completion first queues its fdatasync, taking the
 * last free op): the partition must retry (flush tick; destroy) and every
 * append must complete. */
START_TEST(test_full_uring_in_callback)
{
    if (g_shared == NULL)
        return;
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.flush_interval_messages = 1;
    struct brk_plog *pl = open_log(u, &c, 0);
    uint8_t b[512];
    size_t n = build(b, 1, 10, 100, 1);
    struct res r = { .count = 0 };
    int64_t base;
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, n), 5, 0, &base, res_cb, &r), 0); /* write 1 */
    ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, n), 5, 0, &base, res_cb, &r), 0); /* waits */
    int nullfd = open("/dev/null", O_WRONLY);
    ck_assert_int_ge(nullfd, 0);
    while (uring_pending_count(u) < URING_OPS_MAX)
        ck_assert_int_eq(uring_write(u, nullfd, b, 1, 0, noop_cb, NULL), 0);
    /* write 1's completion queues its fdatasync (the last free op): write 2 is refused (retry);
     * the fdatasync's completion pumps again */
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(r.count, 2);
    ck_assert_int_eq(r.rc[0], 0);
    ck_assert_int_eq(r.rc[1], 0);
    close(nullfd);
    brk_plog_destroy(pl);
    pl = open_log(u, &c, 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), 2);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* R8: destroy with appends queued (not submitted), across rolls and a
 * flush.messages sync: every callback runs once, with 0, and it is all there. */
START_TEST(test_destroy_with_queued)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 2048;
    c.flush_interval_messages = 3;
    struct brk_plog *pl = open_log(u, &c, 0);
    uint8_t b[4096];
    struct res r = { .count = 0 };
    int64_t base;
    for (int k = 0; k < 40; k++) {
        size_t n = build(b, 1, 10 + k, 100 + (size_t)k * 37, (uint8_t)k);
        ck_assert_int_eq(brk_plog_append(pl, bytes_make(b, n), 5, 0, &base, res_cb, &r), 0);
        if (k == 10)
            ck_assert_int_ge(uring_submit(u), 0);
    }
    brk_plog_destroy(pl);
    ck_assert_int_eq(r.count, 40);
    for (int k = 0; k < 40; k++)
        ck_assert_int_eq(r.rc[k], 0);
    pl = open_log(u, &c, 0);
    ck_assert_int_eq(brk_plog_end_offset(pl), 40);
    struct buf out;
    buf_init(&out, 0);
    int64_t from = 0;
    while (from < 40) {
        int64_t f0 = from;
        buf_reset(&out);
        ck_assert_int_eq(brk_plog_read(pl, from, INT64_MAX, 1 << 20, true, &out, &from), 0);
        ck_assert_int_eq(check_batches(buf_bytes(&out), f0), from);
    }
    buf_deinit(&out);
    brk_plog_destroy(pl);
    uring_destroy(u);
}
END_TEST

/* ---- R-stress: random appends, faults, ticks, reads against a model ---- */
#define ST_PEND_MAX 4096
struct st_batch { int64_t base, last; size_t mpos, len; };
struct st_pend { uint8_t *bytes; size_t len; int64_t base; int32_t count; };
static struct {
    struct buf model;
    struct st_batch *b;
    int nb, cap;
    int64_t end;
    int inflight, acks, fails, bad;
    char why[256];
} M;
static uint32_t st_seed;
static uint32_t st_rand(void)
{
    st_seed = st_seed * 1103515245u + 12345u;
    return st_seed >> 8;
}

static void st_bad(const char *why)
{
    if (M.bad++ == 0)
        snprintf(M.why, sizeof M.why, "%s", why);
}

static void st_model_add(const uint8_t *bytes, size_t len, int64_t base, int64_t last)
{
    if (M.nb == M.cap) {
        M.cap = M.cap ? M.cap * 2 : 1024;
        M.b = realloc(M.b, (size_t)M.cap * sizeof *M.b);
    }
    M.b[M.nb++] = (struct st_batch){ base, last, M.model.len, len };
    if (buf_append(&M.model, bytes, len) != 0)
        st_bad("model append");
    M.end = last + 1;
}

static void st_cb(void *arg, int rc)
{
    struct st_pend *p = arg;
    M.inflight--;
    if (rc == 0) {
        M.acks++;
        if (p->base != M.end)
            st_bad("acked batch does not continue the model");
        brk_batch_patch(p->bytes, p->base, 5);
        st_model_add(p->bytes, p->len, p->base, p->base + p->count - 1);
    } else {
        M.fails++;
    }
    free(p->bytes);
    free(p);
}

/* compare a read from offset o against the model */
static void st_check_read(struct brk_plog *pl, int64_t o, size_t maxb)
{
    struct buf out;
    buf_init(&out, 0);
    int64_t next;
    int rc = brk_plog_read(pl, o, INT64_MAX, maxb, true, &out, &next);
    if (rc != 0) {
        char w[128];
        snprintf(w, sizeof w, "read rc=%d at %lld", rc, (long long)o);
        st_bad(w);
    } else if (o < M.end) {
        int lo = 0, hi = M.nb;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (M.b[mid].last < o)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo >= M.nb || out.len == 0) {
            st_bad("read returned nothing below the end");
        } else if (M.b[lo].mpos + out.len > M.model.len ||
                   memcmp(out.ptr, M.model.ptr + M.b[lo].mpos, out.len) != 0) {
            char w[160];
            snprintf(w, sizeof w, "read at %lld: %zu bytes differ from the model (batch base %lld)", (long long)o,
                     out.len, (long long)M.b[lo].base);
            st_bad(w);
        }
    }
    buf_deinit(&out);
}

/* after a reopen: batches past the model's end that survived (written, not acknowledged) join it */
static void st_adopt(struct brk_plog *pl)
{
    struct buf out;
    buf_init(&out, 0);
    while (M.end < brk_plog_end_offset(pl)) {
        int64_t next;
        buf_reset(&out);
        int arc = brk_plog_read(pl, M.end, INT64_MAX, 1 << 20, true, &out, &next);
        if (arc != 0 || out.len == 0) {
            char w[200];
            snprintf(w, sizeof w, "adopt read rc=%d len=%zu model_end=%lld log start=%lld end=%lld segs=%zu", arc, out.len,
                     (long long)M.end, (long long)brk_plog_start_offset(pl), (long long)brk_plog_end_offset(pl),
                     brk_plog_segment_count(pl));
            st_bad(w);
            break;
        }
        for (size_t pos = 0; pos < out.len;) {
            struct brk_batch_hdr h;
            if (brk_batch_parse(out.ptr + pos, out.len - pos, &h) <= 0 || !brk_batch_crc_ok(out.ptr + pos, &h) ||
                h.base_offset != M.end) {
                st_bad("adopted batch bad");
                buf_deinit(&out);
                return;
            }
            st_model_add(out.ptr + pos, h.size_bytes, h.base_offset, h.base_offset + h.last_offset_delta);
            pos += h.size_bytes;
        }
    }
    buf_deinit(&out);
}

START_TEST(test_stress)
{
    const char *es = getenv("PLOG_STRESS_SEED");
    st_seed = (uint32_t)(es ? atoi(es) : 1) * 7919u + (uint32_t)_i;
    memset(&M, 0, sizeof M);
    buf_init(&M.model, 0);
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 4096 + st_rand() % 200000;
    c.roll_ms = 2000 + st_rand() % 20000;
    c.flush_interval_messages = st_rand() % 3 == 0 ? 1 + st_rand() % 5 : INT64_MAX;
    c.flush_interval_ms = st_rand() % 3 == 0 ? 50 + st_rand() % 500 : INT64_MAX;
    c.retention_ms = -1;
    c.retention_bytes = st_rand() % 2 ? (int64_t)(100000 + st_rand() % 400000) : -1;
    struct brk_plog *pl = open_log(u, &c, 0);
    int64_t now = 1000, start = 0;
    int steps = es && getenv("PLOG_STRESS_STEPS") ? atoi(getenv("PLOG_STRESS_STEPS")) : 3000;
    bool faults = getenv("PLOG_STRESS_NOFAULT") == NULL;
    for (int step = 0; step < steps && M.bad == 0; step++) {
        uint32_t r = st_rand() % 100;
        now += st_rand() % 50;
        if (r < 45) {
            if (M.inflight >= 500)
                continue;
            size_t payload = st_rand() % 20 == 0 ? 60000 + st_rand() % 150000 : st_rand() % 3000;
            struct st_pend *p = calloc(1, sizeof *p);
            p->bytes = malloc(BRK_BATCH_HDR_BYTES + payload);
            p->count = 1 + (int32_t)(st_rand() % 5);
            p->len = build(p->bytes, p->count, now, payload, (uint8_t)st_rand());
            for (size_t q = BRK_BATCH_HDR_BYTES; q < p->len; q += 97)
                p->bytes[q] = (uint8_t)st_rand();
            be_put32(p->bytes + 17, crc32c(0, p->bytes + 21, p->len - 21));
            int64_t base;
            int rc = brk_plog_append(pl, bytes_make(p->bytes, p->len), 5, now, &base, st_cb, p);
            if (rc != 0) {
                free(p->bytes);
                free(p);
                continue;
            }
            p->base = base;
            M.inflight++;
        } else if (r < 60) {
            ck_assert_int_ge(uring_submit(u), 0);
        } else if (r < 72) {
            if (uring_reap(u) < 0)
                st_bad("reap");
        } else if (r < 76) {
            int64_t jump = st_rand() % 4 == 0 ? BRK_PLOG_TAIL_IDLE_MS + 1 : 300;
            now += jump;
            if (brk_plog_flush_tick(pl, now) < 0)
                st_bad("flush tick");
        } else if (r < 80 && faults) {
            struct uring_fault f = { .nth = 1 + st_rand() % 4, .count = 1 };
            uint32_t k = st_rand() % 4;
            if (k == 0)
                f.err = -ENOSPC;
            else if (k == 1)
                f.err = -EIO;
            else
                f.short_bytes = g_shared ? 4096 : 1 + st_rand() % 500;
            uring_fault_set(u, &f);
        } else if (r < 90) {
            if (M.end > start)
                st_check_read(pl, start + (int64_t)(st_rand() % (uint64_t)(M.end - start)),
                              st_rand() % 2 ? 1 : 1 << 20);
        } else if (r < 93) {
            int deleted;
            ck_assert_int_eq(brk_plog_retention(pl, now, &deleted), 0);
            start = brk_plog_start_offset(pl);
        } else if (r < 95) {
            if (M.end > start) {
                int64_t o = start + (int64_t)(st_rand() % (uint64_t)(M.end - start + 1));
                if (o <= brk_plog_end_offset(pl)) {
                    ck_assert_int_eq(brk_plog_delete_records(pl, o), 0);
                    start = brk_plog_start_offset(pl);
                }
            }
        } else {
            ck_assert_int_ge(uring_submit(u), 0);
            ck_assert_int_eq(uring_drain(u), 0);
            if (M.inflight != 0) {
                st_bad("drain left appends without a callback");
                break;
            }
            if (brk_plog_end_offset(pl) != M.end) {
                char w[128];
                snprintf(w, sizeof w, "end %lld != model %lld", (long long)brk_plog_end_offset(pl), (long long)M.end);
                st_bad(w);
                break;
            }
            if (brk_plog_offline_err(pl) != 0 || st_rand() % 8 == 0) {
                if (getenv("PLOG_LOG"))
                    log_info("stress", "reopen: offline=%d start=%lld end=%lld next=%lld segs=%zu size=%lld", brk_plog_offline_err(pl),
                             (long long)brk_plog_start_offset(pl), (long long)brk_plog_end_offset(pl),
                             (long long)brk_plog_next_offset(pl), brk_plog_segment_count(pl), (long long)brk_plog_size_bytes(pl));
                brk_plog_destroy(pl);
                if (getenv("PLOG_LOG")) {
                    char cmd[200];
                    snprintf(cmd, sizeof cmd, "ls -l %s >&2", dir);
                    if (system(cmd) != 0)
                        st_bad("ls");
                }
                uring_fault_set(u, &(struct uring_fault){ 0 });
                pl = open_log(u, &c, start);
                if (brk_plog_end_offset(pl) < M.end) {
                    st_bad("reopen lost acknowledged batches");
                    break;
                }
                st_adopt(pl);
                start = brk_plog_start_offset(pl);
            } else if (st_rand() % 4 == 0 && M.end > start) {
                int64_t o = start + (int64_t)(st_rand() % (uint64_t)(M.end - start));
                int lo = 0;
                while (lo < M.nb && M.b[lo].last < o)
                    lo++;
                ck_assert_int_eq(brk_plog_truncate_to(pl, o), 0);
                M.nb = lo;
                M.model.len = M.b[lo].mpos;
                M.end = M.b[lo].base;
                start = brk_plog_start_offset(pl);
                if (brk_plog_end_offset(pl) != M.end)
                    st_bad("truncate end");
            }
        }
    }
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_msg(M.bad == 0, "seed %s step: %s (acks %d fails %d)", es ? es : "1", M.why, M.acks, M.fails);
    ck_assert_int_eq(M.inflight, 0);
    /* everything from the start, then again after a reopen */
    for (int pass = 0; pass < 2; pass++) {
        for (int64_t o = start; o < M.end; o += 1 + (int64_t)(st_rand() % 50))
            st_check_read(pl, o, 1 << 20);
        ck_assert_msg(M.bad == 0, "final pass %d: %s", pass, M.why);
        brk_plog_destroy(pl);
        uring_fault_set(u, &(struct uring_fault){ 0 });
        pl = open_log(u, &c, start);
        ck_assert_int_ge(brk_plog_end_offset(pl), M.end);
        st_adopt(pl);
    }
    brk_plog_destroy(pl);
    uring_destroy(u);
    buf_deinit(&M.model);
    free(M.b);
}
END_TEST

/* ---- close: asynchronous, never waits for another log's I/O ---- */

/* A second log beside the fixture's, in <tmp>/t-1. */
static struct brk_plog *open_log_other(struct uring *u, const struct brk_plog_config *c, char *path, size_t size)
{
    snprintf(path, size, "%.*s/t-1", (int)(strlen(dir) - 4), dir);
    struct brk_plog *pl;
    ck_assert_int_eq(brk_plog_open(u, g_shared, path, c, 0, &pl), 0);
    return pl;
}

struct close_res {
    int done_count;
    struct res *appends; /* the closing log's append results */
    int appends_at_done; /* how many had run when done_cb ran */
};

static void close_done_cb(void *arg)
{
    struct close_res *cr = arg;
    cr->done_count++;
    cr->appends_at_done = cr->appends ? cr->appends->count : 0;
}

static int64_t end_offset_at(struct uring *u, const struct brk_plog_config *c, const char *path)
{
    struct brk_plog *pl;
    ck_assert_int_eq(brk_plog_open(u, g_shared, path, c, 0, &pl), 0);
    int64_t end = brk_plog_end_offset(pl);
    brk_plog_destroy(pl);
    return end;
}

/* Closing an idle log while another log's writes are queued and in flight
 * (never reaped here: a stalled completion) finishes at once: done_cb has
 * run, the other log's callbacks have not and its ops are still there. */
START_TEST(test_close_does_not_wait_for_others)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.flush_interval_messages = 2; /* the other log's ops include an fdatasync */
    struct brk_plog *a = open_log(u, &c, 0);
    char path_b[96];
    struct brk_plog *b = open_log_other(u, &c, path_b, sizeof path_b);
    for (int k = 0; k < 3; k++)
        app1(u, b, 2, 10 + k, 100, 0);
    uint8_t bytes[512];
    size_t n = build(bytes, 1, 10, 100, 1);
    struct res ra = { .count = 0 };
    int64_t base;
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(brk_plog_append(a, bytes_make(bytes, n), 5, 0, &base, res_cb, &ra), 0);
    ck_assert_int_ge(uring_submit(u), 0);
    unsigned pending = uring_pending_count(u);
    ck_assert_uint_gt(pending, 0);
    struct close_res cr = { 0, NULL, 0 };
    brk_plog_close(b, close_done_cb, &cr);
    ck_assert_int_eq(cr.done_count, 1);
    ck_assert_int_eq(ra.count, 0);
    ck_assert_uint_eq(uring_pending_count(u), pending);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(cr.done_count, 1);
    ck_assert_int_eq(ra.count, 4);
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(ra.rc[k], 0);
    brk_plog_destroy(a);
    ck_assert_int_eq(end_offset_at(u, &c, path_b), 6); /* closed at its exact end */
    uring_destroy(u);
}
END_TEST

/* A log closed with its own appends (writes, flush.messages syncs, a roll's
 * index writes) queued behind another log's: appends after the close are
 * refused, the accepted ones complete with 0 before done_cb, which runs
 * once, and everything accepted is on disk. */
START_TEST(test_close_with_own_io_in_flight)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    c.segment_bytes = 2048;
    c.flush_interval_messages = 3;
    struct brk_plog *a = open_log(u, &c, 0);
    char path_b[96];
    struct brk_plog *b = open_log_other(u, &c, path_b, sizeof path_b);
    uint8_t bytes[4096];
    struct res ra = { .count = 0 }, rb = { .count = 0 };
    int64_t base;
    size_t n = build(bytes, 1, 10, 300, 1);
    ck_assert_int_eq(brk_plog_append(a, bytes_make(bytes, n), 5, 0, &base, res_cb, &ra), 0);
    for (int k = 0; k < 20; k++) {
        n = build(bytes, 1, 10 + k, 100 + (size_t)k * 37, (uint8_t)k);
        ck_assert_int_eq(brk_plog_append(b, bytes_make(bytes, n), 5, 0, &base, res_cb, &rb), 0);
        if (k == 7)
            ck_assert_int_ge(uring_submit(u), 0);
    }
    ck_assert_int_gt(brk_plog_segment_count(b), 1);
    struct close_res cr = { 0, &rb, 0 };
    brk_plog_close(b, close_done_cb, &cr);
    ck_assert_int_eq(cr.done_count, 0); /* its own I/O is still queued */
    ck_assert_int_eq(brk_plog_append(b, bytes_make(bytes, n), 5, 0, &base, res_cb, &rb), ERR_NOT_LEADER);
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(cr.done_count, 1);
    ck_assert_int_eq(cr.appends_at_done, 20);
    ck_assert_int_eq(rb.count, 20);
    for (int k = 0; k < 20; k++)
        ck_assert_int_eq(rb.rc[k], 0);
    ck_assert_int_eq(ra.count, 1);
    ck_assert_int_eq(brk_plog_end_offset(a), 1);
    brk_plog_destroy(a);
    ck_assert_int_eq(end_offset_at(u, &c, path_b), 20);
    uring_destroy(u);
}
END_TEST

/* The owner closes the log from one of its append callbacks (a partition
 * removed while its completions run): the close waits until that
 * completion has returned, the later appends still complete, done_cb
 * runs once. */
struct close_in_cb {
    struct brk_plog *pl;
    struct close_res cr;
    struct res r;
};

static void close_in_append_cb(void *arg, int rc)
{
    struct close_in_cb *x = arg;
    x->r.rc[x->r.count++] = rc;
    if (x->r.count == 1) {
        brk_plog_close(x->pl, close_done_cb, &x->cr);
        ck_assert_int_eq(x->cr.done_count, 0); /* not from inside its own completion */
    }
}

START_TEST(test_close_from_append_callback)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    char path_b[96];
    struct brk_plog *b = open_log_other(u, &c, path_b, sizeof path_b);
    struct close_in_cb x = { .pl = b };
    x.cr.appends = &x.r;
    uint8_t bytes[512];
    size_t n = build(bytes, 1, 10, 100, 1);
    int64_t base;
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(brk_plog_append(b, bytes_make(bytes, n), 5, 0, &base, close_in_append_cb, &x), 0);
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(x.cr.done_count, 1);
    ck_assert_int_eq(x.r.count, 3);
    ck_assert_int_eq(x.cr.appends_at_done, 3);
    for (int k = 0; k < 3; k++)
        ck_assert_int_eq(x.r.rc[k], 0);
    ck_assert_int_eq(end_offset_at(u, &c, path_b), 3);
    uring_destroy(u);
}
END_TEST

/* A log offline after a failed write closes too: the failed appends are
 * answered with the error, the repair runs, done_cb runs once. */
START_TEST(test_close_after_write_failure)
{
    struct uring *u = mk_uring(_i);
    struct brk_plog_config c = cfg_small();
    char path_b[96];
    struct brk_plog *b = open_log_other(u, &c, path_b, sizeof path_b);
    app1(u, b, 1, 10, 100, 0);
    uint8_t bytes[512];
    size_t n = build(bytes, 1, 10, 100, 1);
    struct res rb = { .count = 0 };
    int64_t base;
    struct uring_fault f = { .nth = 1, .count = 1, .err = -EIO };
    uring_fault_set(u, &f);
    for (int k = 0; k < 2; k++)
        ck_assert_int_eq(brk_plog_append(b, bytes_make(bytes, n), 5, 0, &base, res_cb, &rb), 0);
    struct close_res cr = { 0, &rb, 0 };
    brk_plog_close(b, close_done_cb, &cr);
    ck_assert_int_ge(uring_submit(u), 0);
    ck_assert_int_eq(uring_drain(u), 0);
    ck_assert_int_eq(cr.done_count, 1);
    ck_assert_int_eq(cr.appends_at_done, 2);
    ck_assert_int_ne(rb.rc[0], 0);
    ck_assert_int_ne(rb.rc[1], 0);
    struct uring_fault off = { 0 };
    uring_fault_set(u, &off);
    ck_assert_int_eq(end_offset_at(u, &c, path_b), 1);
    uring_destroy(u);
}
END_TEST

int main(void)
{
    log_set_level(getenv("PLOG_LOG") ? LOG_INFO : LOG_OFF);
    Suite *s = suite_create("brk_plog");
    static const struct {
        const char *name;
        void (*setup)(void);
    } cases[] = { { "buffered", setup }, { "direct", setup_direct }, { "direct_small_ring", setup_direct_small } };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        TCase *tc = tcase_create(cases[k].name);
        tcase_set_timeout(tc, 30);
        tcase_add_checked_fixture(tc, cases[k].setup, teardown);
        tcase_add_loop_test(tc, test_append_read_back, 0, 2);
        tcase_add_loop_test(tc, test_roll_on_bytes_and_index_lookup, 0, 2);
        tcase_add_loop_test(tc, test_roll_on_time, 0, 2);
        tcase_add_loop_test(tc, test_offset_for_time, 0, 2);
        tcase_add_loop_test(tc, test_offset_for_time_records, 0, 10);
        tcase_add_loop_test(tc, test_offset_for_time_unordered, 0, 2);
        tcase_add_loop_test(tc, test_offset_for_time_log_append_time, 0, 2);
        tcase_add_loop_test(tc, test_offset_for_time_segments, 0, 2);
        tcase_add_loop_test(tc, test_offset_for_time_opaque_fallback, 0, 2);
        tcase_add_loop_test(tc, test_delete_records, 0, 2);
        tcase_add_loop_test(tc, test_retention_time_and_size, 0, 2);
        tcase_add_loop_test(tc, test_retention_size, 0, 2);
        tcase_add_loop_test(tc, test_recovery_truncated_mid_batch, 0, 2);
        tcase_add_loop_test(tc, test_recovery_garbage_tail, 0, 2);
        tcase_add_loop_test(tc, test_append_borrowed, 0, 2);
        tcase_add_loop_test(tc, test_recovery_hole_in_sealed_segment, 0, 2);
        tcase_add_loop_test(tc, test_recovery_crc_flip_last_batch, 0, 2);
        tcase_add_loop_test(tc, test_deleted_index_rebuilt, 0, 2);
        tcase_add_loop_test(tc, test_enospc_fails_append_keeps_log, 0, 2);
        tcase_add_loop_test(tc, test_enospc_transient_recovers, 0, 2);
        tcase_add_loop_test(tc, test_enospc_on_sync_is_sticky, 0, 2);
        tcase_add_loop_test(tc, test_flush_messages_sync_error, 0, 2);
        tcase_add_loop_test(tc, test_flush_tick, 0, 2);
        tcase_add_loop_test(tc, test_group_commit, 0, 2);
        tcase_add_loop_test(tc, test_group_commit_failure, 0, 2);
        tcase_add_loop_test(tc, test_group_commit_roll_truncate_close, 0, 2);
        tcase_add_loop_test(tc, test_short_write_and_order, 0, 2);
        tcase_add_loop_test(tc, test_append_limit, 0, 2);
        tcase_add_loop_test(tc, test_truncate_to, 0, 2);
        tcase_add_loop_test(tc, test_append_replica, 0, 2);
        tcase_add_loop_test(tc, test_reset_to, 0, 2);
        tcase_add_loop_test(tc, test_kill9_keeps_acknowledged, 0, 2);
        tcase_add_loop_test(tc, test_stream_large_appends, 0, 2);
        tcase_add_loop_test(tc, test_recovery_slack_in_sealed_segment, 0, 2);
        tcase_add_loop_test(tc, test_tail_idle_release_and_budget, 0, 2);
        tcase_add_loop_test(tc, test_recovery_index_entry_in_slack, 0, 2);
        tcase_add_loop_test(tc, test_roll_after_idle_leaks_direct_fd, 0, 2);
        tcase_add_loop_test(tc, test_idle_after_failed_write_with_sync_in_flight, 0, 2);
        tcase_add_loop_test(tc, test_slack_overwritten_while_write_flies, 0, 2);
        tcase_add_loop_test(tc, test_recovery_partial_batch_in_slack, 0, 2);
        tcase_add_loop_test(tc, test_stress, 0, 2);
        tcase_add_loop_test(tc, test_destroy_with_queued, 0, 2);
        tcase_add_loop_test(tc, test_full_uring_in_callback, 0, 2);
        tcase_add_loop_test(tc, test_retention_during_repair, 0, 2);
        tcase_add_loop_test(tc, test_close_does_not_wait_for_others, 0, 2);
        tcase_add_loop_test(tc, test_close_with_own_io_in_flight, 0, 2);
        tcase_add_loop_test(tc, test_close_from_append_callback, 0, 2);
        tcase_add_loop_test(tc, test_close_after_write_failure, 0, 2);
        suite_add_tcase(s, tc);
    }
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
