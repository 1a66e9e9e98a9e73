/*
 * brk_batch.c - v2 record batch header decode, produce validation, rewrites.
 *
 * Every length read from the batch is checked against the bytes remaining
 * before it is used; nothing here trusts the input.
 */
#include "brk_batch.h"

#include "common/be.h"
#include "common/crc32c.h"
#include "common/kwire.h"
#include "common/log.h"

int brk_batch_parse(const uint8_t *p, size_t len, struct brk_batch_hdr *out)
{
    ASSERT(out != NULL);
    if (len > BRK_BATCH_OFF_MAGIC && (int8_t)p[BRK_BATCH_OFF_MAGIC] != BRK_BATCH_MAGIC_V2)
        return ERR_UNSUPPORTED;
    if (len < BRK_BATCH_HDR_BYTES)
        return 0;
    out->base_offset = (int64_t)be_get64(p);
    out->batch_length = (int32_t)be_get32(p + 8);
    out->leader_epoch = (int32_t)be_get32(p + 12);
    out->magic = (int8_t)p[16];
    out->crc = be_get32(p + 17);
    out->attributes = (int16_t)be_get16(p + 21);
    out->last_offset_delta = (int32_t)be_get32(p + 23);
    out->base_timestamp_ms = (int64_t)be_get64(p + 27);
    out->max_timestamp_ms = (int64_t)be_get64(p + 35);
    out->producer_id = (int64_t)be_get64(p + 43);
    out->producer_epoch = (int16_t)be_get16(p + 51);
    out->base_sequence = (int32_t)be_get32(p + 53);
    out->records_count = (int32_t)be_get32(p + 57);
    if (out->batch_length < BRK_BATCH_HDR_BYTES - BRK_BATCH_LOG_OVERHEAD_BYTES)
        return ERR_CORRUPT;
    if (out->batch_length > INT32_MAX - BRK_BATCH_LOG_OVERHEAD_BYTES)
        return ERR_CORRUPT;
    out->size_bytes = (size_t)out->batch_length + BRK_BATCH_LOG_OVERHEAD_BYTES;
    return (int)out->size_bytes;
}

bool brk_batch_crc_ok(const uint8_t *p, const struct brk_batch_hdr *hdr)
{
    ASSERT(hdr->size_bytes >= BRK_BATCH_HDR_BYTES);
    uint32_t crc = crc32c(0, p + BRK_BATCH_OFF_ATTRIBUTES, hdr->size_bytes - BRK_BATCH_OFF_ATTRIBUTES);
    return crc == hdr->crc;
}

int brk_batch_validate_produce(struct bytes records, int32_t max_message_bytes,
                               struct brk_batch_summary *out)
{
    ASSERT(out != NULL);
    struct brk_batch_summary s = { 0 };
    s.max_timestamp_ms = -1;
    s.max_timestamp_delta = -1;
    size_t pos = 0;
    if (records.ptr == NULL || records.len == 0)
        return ERR_CORRUPT;
    while (pos < records.len) {
        struct brk_batch_hdr h;
        size_t rem = records.len - pos;
        const uint8_t *p = records.ptr + pos;
        int rc = brk_batch_parse(p, rem, &h);
        if (rc < 0)
            return rc;
        if (rc == 0 || h.size_bytes > rem)
            return ERR_CORRUPT; /* trailing partial batch */
        if (max_message_bytes >= 0 && h.size_bytes > (size_t)max_message_bytes)
            return ERR_TOO_LARGE;
        if (!brk_batch_crc_ok(p, &h))
            return ERR_CORRUPT;
        int codec = h.attributes & BRK_BATCH_ATTR_CODEC_MASK;
        if (codec > BRK_BATCH_CODEC_ZSTD)
            return ERR_UNSUPPORTED;
        if (h.records_count <= 0 || h.last_offset_delta < 0 ||
            (int64_t)h.last_offset_delta + 1 != h.records_count)
            return ERR_INVALID;
        if (s.batch_count == 0) {
            s.codec = (enum brk_batch_codec)codec;
            s.producer_id = h.producer_id;
            s.producer_epoch = h.producer_epoch;
            s.base_sequence = h.base_sequence;
            s.transactional = (h.attributes & BRK_BATCH_ATTR_TRANSACTIONAL) != 0;
            s.log_append_time = (h.attributes & BRK_BATCH_ATTR_LOG_APPEND_TIME) != 0;
        }
        if (h.attributes & BRK_BATCH_ATTR_CONTROL)
            s.control = true;
        if (h.max_timestamp_ms > s.max_timestamp_ms) {
            s.max_timestamp_ms = h.max_timestamp_ms;
            s.max_timestamp_delta = s.record_count + h.last_offset_delta;
        }
        s.record_count += (int64_t)h.last_offset_delta + 1;
        s.batch_count++;
        pos += h.size_bytes;
    }
    *out = s;
    return 0;
}

void brk_batch_set_log_append_time(uint8_t *batch, int64_t ts_ms)
{
    ASSERT(batch[BRK_BATCH_OFF_MAGIC] == BRK_BATCH_MAGIC_V2);
    int32_t blen = (int32_t)be_get32(batch + BRK_BATCH_OFF_LENGTH);
    ASSERT(blen >= BRK_BATCH_HDR_BYTES - BRK_BATCH_LOG_OVERHEAD_BYTES);
    size_t size = (size_t)blen + BRK_BATCH_LOG_OVERHEAD_BYTES;
    batch[BRK_BATCH_OFF_ATTRIBUTES + 1] |= BRK_BATCH_ATTR_LOG_APPEND_TIME;
    be_put64(batch + BRK_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)ts_ms);
    uint32_t crc = crc32c(0, batch + BRK_BATCH_OFF_ATTRIBUTES, size - BRK_BATCH_OFF_ATTRIBUTES);
    be_put32(batch + BRK_BATCH_OFF_CRC, crc);
}

void brk_batch_patch(uint8_t *batch, int64_t base_offset, int32_t leader_epoch)
{
    ASSERT(base_offset >= 0);
    be_put64(batch + BRK_BATCH_OFF_BASE_OFFSET, (uint64_t)base_offset);
    be_put32(batch + BRK_BATCH_OFF_LEADER_EPOCH, (uint32_t)leader_epoch);
}

int brk_batch_write_begin(struct buf *out, int32_t count, int64_t base_ts_ms, int64_t max_ts_ms, size_t *start_out)
{
    ASSERT(count >= 1);
    *start_out = out->len;
    int rc = kwire_write_i64(out, 0); /* baseOffset: assigned by the append */
    if (rc == 0)
        rc = kwire_write_i32(out, 0); /* batchLength: brk_batch_write_end */
    if (rc == 0)
        rc = kwire_write_i32(out, -1); /* partitionLeaderEpoch: patched on append */
    if (rc == 0)
        rc = kwire_write_i8(out, BRK_BATCH_MAGIC_V2);
    if (rc == 0)
        rc = kwire_write_i32(out, 0); /* crc: brk_batch_write_end */
    if (rc == 0)
        rc = kwire_write_i16(out, 0); /* attributes: uncompressed, CreateTime */
    if (rc == 0)
        rc = kwire_write_i32(out, count - 1);
    if (rc == 0)
        rc = kwire_write_i64(out, base_ts_ms);
    if (rc == 0)
        rc = kwire_write_i64(out, max_ts_ms);
    if (rc == 0)
        rc = kwire_write_i64(out, -1); /* producerId */
    if (rc == 0)
        rc = kwire_write_i16(out, -1);
    if (rc == 0)
        rc = kwire_write_i32(out, -1); /* baseSequence */
    if (rc == 0)
        rc = kwire_write_i32(out, count);
    return rc;
}

int brk_batch_write_record(struct buf *out, int64_t ts_delta_ms, int32_t offset_delta, struct bytes key,
                           struct bytes value)
{
    if (key.len > INT32_MAX / 4 || value.len > INT32_MAX / 4)
        return ERR_LIMIT;
    size_t start = out->len;
    int rc = kwire_write_i8(out, 0); /* attributes */
    if (rc == 0)
        rc = kwire_write_varlong(out, ts_delta_ms);
    if (rc == 0)
        rc = kwire_write_varint(out, offset_delta);
    if (rc == 0)
        rc = kwire_write_varint(out, key.ptr ? (int32_t)key.len : -1);
    if (rc == 0 && key.ptr)
        rc = kwire_write_raw(out, key.ptr, key.len);
    if (rc == 0)
        rc = kwire_write_varint(out, value.ptr ? (int32_t)value.len : -1);
    if (rc == 0 && value.ptr)
        rc = kwire_write_raw(out, value.ptr, value.len);
    if (rc == 0)
        rc = kwire_write_varint(out, 0); /* headers */
    if (rc < 0)
        return rc;
    size_t body = out->len - start;
    if (body > INT32_MAX / 2)
        return ERR_LIMIT;
    /* the record's length is a zigzag varint: for len >= 0 that is uvarint(2*len) */
    return kwire_insert_uvarint(out, start, (uint32_t)body * 2u);
}

int brk_batch_write_end(struct buf *out, size_t start)
{
    ASSERT(out->len >= start + BRK_BATCH_HDR_BYTES);
    size_t total = out->len - start;
    if (total - BRK_BATCH_LOG_OVERHEAD_BYTES > INT32_MAX)
        return ERR_LIMIT;
    be_put32(out->ptr + start + BRK_BATCH_OFF_LENGTH, (uint32_t)(total - BRK_BATCH_LOG_OVERHEAD_BYTES));
    uint32_t crc = crc32c(0, out->ptr + start + BRK_BATCH_OFF_ATTRIBUTES, total - BRK_BATCH_OFF_ATTRIBUTES);
    be_put32(out->ptr + start + BRK_BATCH_OFF_CRC, crc);
    return 0;
}
