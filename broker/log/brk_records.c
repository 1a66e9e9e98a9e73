/*
 * brk_records.c - the v2 record iterator: decompress once into the
 * caller's scratch, then decode records one at a time through kwire
 * readers bounded by each record's own length.
 */
#include "brk_records.h"

#include "common/compress.h"
#include "common/log.h"

STATIC_ASSERT((int)COMPRESS_GZIP == (int)BRK_BATCH_CODEC_GZIP, "codec ids follow Kafka");
STATIC_ASSERT((int)COMPRESS_SNAPPY == (int)BRK_BATCH_CODEC_SNAPPY, "codec ids follow Kafka");
STATIC_ASSERT((int)COMPRESS_LZ4 == (int)BRK_BATCH_CODEC_LZ4, "codec ids follow Kafka");
STATIC_ASSERT((int)COMPRESS_ZSTD == (int)BRK_BATCH_CODEC_ZSTD, "codec ids follow Kafka");

int brk_records_iter_init(struct brk_records_iter *it, struct bytes batch, struct buf *scratch)
{
    ASSERT(it != NULL);
    ASSERT(scratch != NULL);
    if (batch.ptr == NULL || batch.len < BRK_BATCH_HDR_BYTES)
        return ERR_CORRUPT;
    int rc = brk_batch_parse(batch.ptr, batch.len, &it->hdr);
    if (rc < 0)
        return rc;
    if (rc == 0 || it->hdr.size_bytes != batch.len)
        return ERR_CORRUPT;
    int codec = it->hdr.attributes & BRK_BATCH_ATTR_CODEC_MASK;
    if (codec > BRK_BATCH_CODEC_ZSTD)
        return ERR_UNSUPPORTED;
    if (it->hdr.records_count < 0)
        return ERR_CORRUPT;
    if (it->hdr.records_count > BRK_RECORDS_PER_BATCH_MAX)
        return ERR_LIMIT;
    it->index = 0;
    it->log_append_time = (it->hdr.attributes & BRK_BATCH_ATTR_LOG_APPEND_TIME) != 0;
    struct bytes body = bytes_make(batch.ptr + BRK_BATCH_HDR_BYTES, batch.len - BRK_BATCH_HDR_BYTES);
    if (codec != BRK_BATCH_CODEC_NONE) {
        buf_reset(scratch);
        rc = compress_decompress((enum compress_codec)codec, body, scratch);
        if (rc < 0)
            return rc;
        body = buf_bytes(scratch);
        if (body.ptr == NULL)
            body = bytes_make(batch.ptr, 0); /* empty output: a non-NULL empty view */
    }
    kwire_reader_init(&it->r, body);
    return 0;
}

/* brk_records_read_len_bytes - varint length (-1 = null when nullable), then the bytes. */
static int brk_records_read_len_bytes(struct kwire_reader *r, bool nullable, struct bytes *out)
{
    int32_t n;
    if (kwire_read_varint(r, &n) < 0)
        return ERR_CORRUPT;
    if (n == -1 && nullable) {
        out->ptr = NULL;
        out->len = 0;
        return 0;
    }
    if (n < 0)
        return ERR_CORRUPT;
    if (kwire_read_raw(r, (size_t)n, out) < 0)
        return ERR_CORRUPT;
    return 0;
}

int brk_records_header_next(struct kwire_reader *r, struct brk_record_header *out)
{
    if (kwire_remaining(r) == 0)
        return 0;
    if (brk_records_read_len_bytes(r, false, &out->key) < 0)
        return ERR_CORRUPT;
    if (brk_records_read_len_bytes(r, true, &out->value) < 0)
        return ERR_CORRUPT;
    return 1;
}

int brk_records_next(struct brk_records_iter *it, struct brk_record *out)
{
    ASSERT(it->index >= 0);
    ASSERT(it->index <= it->hdr.records_count);
    if (it->index == it->hdr.records_count)
        return kwire_remaining(&it->r) == 0 ? 0 : ERR_CORRUPT; /* bytes past the last record */
    int32_t len;
    struct bytes body;
    if (kwire_read_varint(&it->r, &len) < 0 || len < 0)
        goto err_decode;
    if (kwire_read_raw(&it->r, (size_t)len, &body) < 0)
        goto err_decode; /* also: fewer records than declared */
    struct kwire_reader rec;
    kwire_reader_init(&rec, body);
    int64_t ts_delta;
    int32_t offset_delta, headers_count;
    if (kwire_read_i8(&rec, &out->attributes) < 0 || kwire_read_varlong(&rec, &ts_delta) < 0 ||
        kwire_read_varint(&rec, &offset_delta) < 0)
        goto err_decode;
    if (brk_records_read_len_bytes(&rec, true, &out->key) < 0 ||
        brk_records_read_len_bytes(&rec, true, &out->value) < 0)
        goto err_decode;
    if (kwire_read_varint(&rec, &headers_count) < 0 || headers_count < 0)
        goto err_decode;
    if (headers_count > BRK_RECORDS_HEADERS_MAX)
        return ERR_LIMIT;
    /* each header needs at least two bytes (two varint lengths) */
    if ((size_t)headers_count > kwire_remaining(&rec) / 2)
        goto err_decode;
    const uint8_t *headers_start = rec.p;
    for (int32_t k = 0; k < headers_count; k++) {
        struct brk_record_header h;
        if (brk_records_header_next(&rec, &h) != 1)
            goto err_decode;
    }
    out->headers = bytes_make(headers_start, (size_t)(rec.p - headers_start));
    out->headers_count = headers_count;
    if (kwire_remaining(&rec) != 0)
        goto err_decode; /* the record's length must be consumed exactly */
    if (__builtin_add_overflow(it->hdr.base_offset, (int64_t)offset_delta, &out->offset))
        goto err_decode;
    if (it->log_append_time)
        out->timestamp_ms = it->hdr.max_timestamp_ms;
    else if (__builtin_add_overflow(it->hdr.base_timestamp_ms, ts_delta, &out->timestamp_ms))
        goto err_decode;
    it->index++;
    return 1;
err_decode:
    return ERR_CORRUPT;
}
