/*
 * brk_batch.h - Kafka record batch (magic v2) header parsing, produce-side
 * validation and the two in-place rewrites the broker is allowed to do.
 *
 * Layout of the 61-byte v2 header (big-endian):
 *
 *   0 baseOffset i64      8 batchLength i32    12 partitionLeaderEpoch i32
 *  16 magic i8           17 crc u32           21 attributes i16
 *  23 lastOffsetDelta i32 27 baseTimestamp i64 35 maxTimestamp i64
 *  43 producerId i64     51 producerEpoch i16 53 baseSequence i32
 *  57 recordsCount i32   61 records...
 *
 * batchLength counts the bytes after itself (total = 12 + batchLength); the
 * CRC-32C covers attributes..end, so baseOffset and partitionLeaderEpoch
 * can be patched without recomputing it.  Magic sits at byte 16 in every
 * message format version, which is how v0/v1 are recognised and refused
 * (Produce v0-2's message sets are converted first: brk_legacy.h).
 *
 * Batches are never re-encoded: records are opaque (compressed payloads
 * are accepted without decompression).  Not here: the records themselves,
 * idempotence/sequence checks, control-batch policy (the summary reports
 * the flags; the produce handler decides).
 */
#ifndef SAMSA_BRK_BATCH_H
#define SAMSA_BRK_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define BRK_BATCH_HDR_BYTES 61
#define BRK_BATCH_LOG_OVERHEAD_BYTES 12 /* baseOffset + batchLength */
#define BRK_BATCH_MAGIC_V2 2

#define BRK_BATCH_OFF_BASE_OFFSET 0
#define BRK_BATCH_OFF_LENGTH 8
#define BRK_BATCH_OFF_LEADER_EPOCH 12
#define BRK_BATCH_OFF_MAGIC 16
#define BRK_BATCH_OFF_CRC 17
#define BRK_BATCH_OFF_ATTRIBUTES 21
#define BRK_BATCH_OFF_MAX_TIMESTAMP 35

#define BRK_BATCH_ATTR_CODEC_MASK 0x07
#define BRK_BATCH_ATTR_LOG_APPEND_TIME 0x08
#define BRK_BATCH_ATTR_TRANSACTIONAL 0x10
#define BRK_BATCH_ATTR_CONTROL 0x20

enum brk_batch_codec {
    BRK_BATCH_CODEC_NONE = 0,
    BRK_BATCH_CODEC_GZIP = 1,
    BRK_BATCH_CODEC_SNAPPY = 2,
    BRK_BATCH_CODEC_LZ4 = 3,
    BRK_BATCH_CODEC_ZSTD = 4,
};

struct brk_batch_hdr {
    int64_t base_offset;
    int32_t batch_length;
    int32_t leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp_ms;
    int64_t max_timestamp_ms;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t records_count;
    size_t size_bytes; /* 12 + batch_length: the whole batch on disk */
};

struct brk_batch_summary {
    int32_t batch_count;
    int64_t record_count;          /* sum of lastOffsetDelta + 1 */
    int64_t max_timestamp_ms;      /* -1 if no batch has one */
    int64_t max_timestamp_delta;   /* offset (relative to the first record) of the
                                      last record of the batch holding max_timestamp */
    enum brk_batch_codec codec;    /* of the first batch */
    int64_t producer_id;           /* of the first batch */
    int16_t producer_epoch;
    int32_t base_sequence;
    bool transactional;            /* first batch */
    bool control;                  /* any batch */
    bool log_append_time;          /* first batch */
};

/*
 * brk_batch_parse - decode the header at p (untrusted).  Returns the whole
 * batch size in bytes (> 0) once the header is complete and sane - the
 * batch body may still be beyond len; 0 if len < 61 (need more); or
 * ERR_UNSUPPORTED (magic != 2, checked as soon as 17 bytes are present) /
 * ERR_CORRUPT (batchLength below the header size).  No CRC check.
 */
MUST_CHECK int brk_batch_parse(const uint8_t *p, size_t len, struct brk_batch_hdr *out);

/* brk_batch_crc_ok - CRC-32C of attributes..end matches.  hdr from brk_batch_parse
 * and p holds at least hdr->size_bytes bytes. */
bool brk_batch_crc_ok(const uint8_t *p, const struct brk_batch_hdr *hdr);

/*
 * brk_batch_validate_produce - check every batch in a produce request's
 * records.  Errors: ERR_UNSUPPORTED (magic != 2, codec 5..7),
 * ERR_CORRUPT (length out of bounds, truncated trailing batch, CRC
 * mismatch, empty records), ERR_TOO_LARGE (a batch over
 * max_message_bytes), ERR_INVALID (recordsCount <= 0 or != lastOffsetDelta+1,
 * as Kafka's LogValidator demands).  out is filled only on success.
 */
MUST_CHECK int brk_batch_validate_produce(struct bytes records, int32_t max_message_bytes,
                                          struct brk_batch_summary *out);

/*
 * brk_batch_set_log_append_time - set the timestamp-type bit, overwrite
 * maxTimestamp with ts_ms and recompute the CRC.  batch must have passed
 * validation (asserted: magic 2, length sane).
 */
void brk_batch_set_log_append_time(uint8_t *batch, int64_t ts_ms);

/*
 * Writing one uncompressed v2 batch (CreateTime, no producer id; baseOffset
 * 0 and partitionLeaderEpoch -1 until the append patches them), for the
 * broker's own records (__consumer_offsets) and converted old formats:
 * brk_batch_write_begin appends the header for `count` records and sets
 * *start_out; brk_batch_write_record appends one record (key/value ptr NULL:
 * null; no headers); brk_batch_write_end fills in batchLength and the CRC.
 * Each returns 0 or ERR_LIMIT (past out's cap_max) / -ENOMEM.
 */
MUST_CHECK int brk_batch_write_begin(struct buf *out, int32_t count, int64_t base_ts_ms, int64_t max_ts_ms,
                                     size_t *start_out);
MUST_CHECK int brk_batch_write_record(struct buf *out, int64_t ts_delta_ms, int32_t offset_delta, struct bytes key,
                                      struct bytes value);
MUST_CHECK int brk_batch_write_end(struct buf *out, size_t start);

/* brk_batch_patch - write baseOffset and partitionLeaderEpoch (outside the CRC). */
void brk_batch_patch(uint8_t *batch, int64_t base_offset, int32_t leader_epoch);

#endif
