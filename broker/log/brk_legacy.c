/*
 * brk_legacy.c - magic 0/1 message sets to and from v2 record batches: see
 * brk_legacy.h.  Up-conversion walks the set twice (count and timestamps
 * first, so the batch header's base timestamp is known before any record's
 * delta is written; each wrapper is inflated again on the second walk -
 * an old-client path, not a hot one).
 */
#include "broker/log/brk_legacy.h"

#include <string.h>
#include <zlib.h>

#include "broker/log/brk_batch.h"
#include "broker/log/brk_records.h"
#include "common/be.h"
#include "common/compress.h"
#include "common/kwire.h"
#include "common/log.h"

struct legacy_msg {
    int8_t magic;
    int8_t attributes;
    int64_t timestamp_ms; /* -1 for magic 0 */
    struct bytes key;     /* ptr NULL: null */
    struct bytes value;   /* ptr NULL: null */
};

typedef int (*legacy_msg_cb)(void *arg, const struct legacy_msg *m);

/* One message at r: framing, CRC-32, magic 0/1 fields.  Offsets ignored. */
static int legacy_parse_one(struct kwire_reader *r, struct legacy_msg *m)
{
    int64_t offset;
    int32_t size;
    if (kwire_read_i64(r, &offset) < 0 || kwire_read_i32(r, &size) < 0)
        return ERR_CORRUPT;
    (void)offset;
    struct bytes msg;
    if (size < BRK_LEGACY_V0_MIN_BYTES || kwire_read_raw(r, (size_t)size, &msg) < 0)
        return ERR_CORRUPT;
    uint32_t crc = be_get32(msg.ptr);
    m->magic = (int8_t)msg.ptr[4];
    if (m->magic > BRK_LEGACY_MAGIC_V1 || m->magic < 0)
        return ERR_INVALID; /* a v2 batch does not belong in Produce v0-2 */
    if (m->magic == BRK_LEGACY_MAGIC_V1 && size < BRK_LEGACY_V1_MIN_BYTES)
        return ERR_CORRUPT;
    if ((uint32_t)crc32(0, msg.ptr + 4, (uInt)(msg.len - 4)) != crc)
        return ERR_CORRUPT;
    struct kwire_reader mr;
    kwire_reader_init(&mr, bytes_make(msg.ptr + 4, msg.len - 4));
    int8_t magic;
    if (kwire_read_i8(&mr, &magic) < 0 || kwire_read_i8(&mr, &m->attributes) < 0)
        return ERR_CORRUPT;
    m->timestamp_ms = -1;
    if (magic == BRK_LEGACY_MAGIC_V1 && kwire_read_i64(&mr, &m->timestamp_ms) < 0)
        return ERR_CORRUPT;
    if (kwire_read_bytes(&mr, &m->key) < 0 || kwire_read_bytes(&mr, &m->value) < 0 || kwire_remaining(&mr) != 0)
        return ERR_CORRUPT;
    return 0;
}

/* Every record of the set, wrappers inflated into scratch, in order. */
static int legacy_walk(struct bytes set, struct buf *scratch, legacy_msg_cb cb, void *arg)
{
    struct kwire_reader r;
    kwire_reader_init(&r, set);
    if (kwire_remaining(&r) == 0)
        return ERR_CORRUPT;
    while (kwire_remaining(&r) > 0) {
        struct legacy_msg m;
        int rc = legacy_parse_one(&r, &m);
        if (rc < 0)
            return rc;
        int codec = m.attributes & BRK_BATCH_ATTR_CODEC_MASK;
        if (codec == COMPRESS_NONE) {
            rc = cb(arg, &m);
            if (rc < 0)
                return rc;
            continue;
        }
        if (codec > COMPRESS_LZ4)
            return ERR_UNSUPPORTED;
        if (!m.value.ptr)
            return ERR_CORRUPT;
        buf_reset(scratch);
        rc = compress_decompress((enum compress_codec)codec, m.value, scratch);
        if (rc < 0)
            return rc;
        struct kwire_reader ir;
        kwire_reader_init(&ir, buf_bytes(scratch));
        if (kwire_remaining(&ir) == 0)
            return ERR_CORRUPT;
        while (kwire_remaining(&ir) > 0) {
            struct legacy_msg im;
            rc = legacy_parse_one(&ir, &im);
            if (rc < 0)
                return rc;
            if ((im.attributes & BRK_BATCH_ATTR_CODEC_MASK) != 0 || im.magic > m.magic)
                return ERR_CORRUPT;
            if (m.magic == BRK_LEGACY_MAGIC_V1 && (m.attributes & BRK_LEGACY_ATTR_LOG_APPEND_TIME))
                im.timestamp_ms = m.timestamp_ms;
            rc = cb(arg, &im);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

struct legacy_stats {
    int32_t count;
    int64_t first_ts_ms;
    int64_t max_ts_ms;
};

static int legacy_stats_cb(void *arg, const struct legacy_msg *m)
{
    struct legacy_stats *s = arg;
    if (s->count >= BRK_RECORDS_PER_BATCH_MAX)
        return ERR_LIMIT;
    if (s->count == 0)
        s->first_ts_ms = m->timestamp_ms;
    if (m->timestamp_ms > s->max_ts_ms)
        s->max_ts_ms = m->timestamp_ms;
    s->count++;
    return 0;
}

struct legacy_writer {
    struct buf *out;
    int64_t base_ts_ms;
    int32_t index;
};

static int legacy_record_cb(void *arg, const struct legacy_msg *m)
{
    struct legacy_writer *w = arg;
    return brk_batch_write_record(w->out, m->timestamp_ms - w->base_ts_ms, w->index++, m->key, m->value);
}

static int legacy_to_v2(struct bytes set, struct buf *out, struct buf *scratch)
{
    struct legacy_stats s = { 0, -1, -1 };
    int rc = legacy_walk(set, scratch, legacy_stats_cb, &s);
    if (rc < 0)
        return rc;
    ASSERT(s.count > 0);
    size_t start = 0;
    rc = brk_batch_write_begin(out, s.count, s.first_ts_ms, s.max_ts_ms, &start);
    struct legacy_writer w = { out, s.first_ts_ms, 0 };
    if (rc == 0)
        rc = legacy_walk(set, scratch, legacy_record_cb, &w);
    if (rc == 0)
        rc = brk_batch_write_end(out, start);
    if (rc < 0)
        return rc;
    ASSERT(w.index == s.count); /* the same bytes walked twice */
    return s.count;
}

int brk_legacy_to_v2(struct bytes set, struct buf *out, struct buf *scratch)
{
    size_t start = out->len;
    int rc = legacy_to_v2(set, out, scratch);
    if (rc < 0)
        out->len = start;
    return rc;
}

/* One magic 0/1 message for a v2 record. */
static int legacy_write_msg(struct buf *out, int8_t magic, int8_t attributes, const struct brk_record *rec)
{
    size_t size = (magic == BRK_LEGACY_MAGIC_V1 ? BRK_LEGACY_V1_MIN_BYTES : BRK_LEGACY_V0_MIN_BYTES) +
                  rec->key.len + rec->value.len;
    if (size > INT32_MAX)
        return ERR_LIMIT;
    int rc = kwire_write_i64(out, rec->offset);
    if (rc == 0)
        rc = kwire_write_i32(out, (int32_t)size);
    size_t crc_pos = 0;
    if (rc == 0)
        rc = kwire_reserve_i32(out, &crc_pos);
    if (rc == 0)
        rc = kwire_write_i8(out, magic);
    if (rc == 0)
        rc = kwire_write_i8(out, attributes);
    if (rc == 0 && magic == BRK_LEGACY_MAGIC_V1)
        rc = kwire_write_i64(out, rec->timestamp_ms);
    if (rc == 0)
        rc = kwire_write_bytes(out, rec->key);
    if (rc == 0)
        rc = kwire_write_bytes(out, rec->value);
    if (rc < 0)
        return rc;
    ASSERT(out->len - crc_pos - 4 == size - 4);
    uint32_t crc = (uint32_t)crc32(0, out->ptr + crc_pos + 4, (uInt)(size - 4));
    kwire_patch_i32(out, crc_pos, (int32_t)crc);
    return 0;
}

static int legacy_from_v2(struct bytes batches, int8_t magic, int64_t first_offset, size_t limit_bytes,
                          bool at_least_one, struct buf *out, struct buf *scratch)
{
    size_t start = out->len;
    size_t at = 0;
    while (at < batches.len) {
        struct brk_batch_hdr h;
        int n = brk_batch_parse(batches.ptr + at, batches.len - at, &h);
        if (n <= 0)
            return n == 0 ? ERR_CORRUPT : n;
        if (h.size_bytes > batches.len - at)
            return ERR_CORRUPT;
        struct bytes batch = bytes_make(batches.ptr + at, h.size_bytes);
        at += h.size_bytes;
        if ((h.attributes & BRK_BATCH_ATTR_CONTROL) || h.base_offset + h.last_offset_delta < first_offset)
            continue;
        int8_t attributes = magic == BRK_LEGACY_MAGIC_V1 && (h.attributes & BRK_BATCH_ATTR_LOG_APPEND_TIME)
                                ? BRK_LEGACY_ATTR_LOG_APPEND_TIME
                                : 0;
        struct brk_records_iter it;
        int rc = brk_records_iter_init(&it, batch, scratch);
        if (rc < 0)
            return rc;
        for (;;) { /* bounded: the iterator ends after the batch's declared count */
            struct brk_record rec;
            rc = brk_records_next(&it, &rec);
            if (rc < 0)
                return rc;
            if (rc == 0)
                break;
            if (rec.offset < first_offset)
                continue;
            size_t need = BRK_LEGACY_LOG_OVERHEAD_BYTES +
                          (magic == BRK_LEGACY_MAGIC_V1 ? BRK_LEGACY_V1_MIN_BYTES : BRK_LEGACY_V0_MIN_BYTES) +
                          rec.key.len + rec.value.len;
            size_t added = out->len - start;
            if (added + need > limit_bytes && !(at_least_one && added == 0))
                return 0;
            rc = legacy_write_msg(out, magic, attributes, &rec);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

int brk_legacy_from_v2(struct bytes batches, int8_t magic, int64_t first_offset, size_t limit_bytes,
                       bool at_least_one, struct buf *out, struct buf *scratch)
{
    ASSERT(magic == BRK_LEGACY_MAGIC_V0 || magic == BRK_LEGACY_MAGIC_V1);
    size_t start = out->len;
    int rc = legacy_from_v2(batches, magic, first_offset, limit_bytes, at_least_one, out, scratch);
    if (rc < 0)
        out->len = start;
    return rc;
}
