/*
 * brk_records.h - iterate the records inside one v2 record batch.
 *
 * Role: the broker keeps batches opaque on the produce/fetch path; code
 * that must see individual records (ListOffsets by timestamp, later
 * compaction and __consumer_offsets) reads them through this iterator.
 *
 * Record layout (after the 61-byte batch header, decompressed first when
 * the attributes' codec bits say so):
 *
 *   length varint | attributes i8 | timestampDelta varlong |
 *   offsetDelta varint | keyLength varint | key | valueLength varint |
 *   value | headersCount varint | headers: [keyLength varint | key |
 *   valueLength varint | value]...
 *
 * Invariants: every length is checked against the bytes remaining (inside
 * the record's own length, which must be consumed exactly); a record
 * count over BRK_RECORDS_PER_BATCH_MAX is ERR_LIMIT; fewer records than
 * the batch declares, or bytes left after the last one, is ERR_CORRUPT;
 * malformed varints are ERR_CORRUPT.  Key, value and headers come back as
 * struct bytes BORROWING the batch (uncompressed) or the caller's scratch
 * buf (compressed): they stay valid until the batch or scratch changes.
 * A record's timestamp is baseTimestamp + timestampDelta, except in
 * LogAppendTime batches, where it is the batch's maxTimestamp (as Kafka's
 * DefaultRecordBatch reports it).
 *
 * Not here: CRC checking (brk_batch_crc_ok), writing records, control
 * record semantics (the iterator reports the batch's control flag only).
 */
#ifndef SAMSA_BRK_RECORDS_H
#define SAMSA_BRK_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/brk_batch.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/kwire.h"

/* Records one batch may declare; more is ERR_LIMIT. (Every record takes at
 * least 7 bytes, so this also caps an inflated batch near 28 MiB of
 * minimal records.) */
#define BRK_RECORDS_PER_BATCH_MAX (4 * 1024 * 1024)
/* Headers one record may declare; more is ERR_LIMIT. */
#define BRK_RECORDS_HEADERS_MAX (64 * 1024)

struct brk_record {
    int64_t offset;       /* baseOffset + offsetDelta */
    int64_t timestamp_ms; /* see the header comment for LogAppendTime */
    int8_t attributes;
    struct bytes key;     /* ptr == NULL: null key */
    struct bytes value;   /* ptr == NULL: null value (tombstone) */
    int32_t headers_count;
    struct bytes headers; /* the encoded headers; walk with brk_records_header_next */
};

struct brk_record_header {
    struct bytes key;
    struct bytes value; /* ptr == NULL: null */
};

struct brk_records_iter {
    struct brk_batch_hdr hdr;
    struct kwire_reader r; /* the records region still to read */
    int32_t index;         /* records returned so far */
    bool log_append_time;
};

/*
 * brk_records_iter_init - start iterating `batch` (borrowed: exactly one
 * whole v2 batch, e.g. as read from a log; untrusted).  If the batch is
 * compressed its records are decompressed into scratch (reset first; its
 * cap_max is the inflated-size ceiling) and the iterator borrows scratch.
 * Returns 0; ERR_CORRUPT (bad header, length mismatch, bad compressed
 * data); ERR_UNSUPPORTED (magic != 2, codec 5..7); ERR_LIMIT (record
 * count over the maximum, or inflated records past scratch's ceiling);
 * -ENOMEM.  CPU only, never blocks.
 */
MUST_CHECK int brk_records_iter_init(struct brk_records_iter *it, struct bytes batch,
                                     struct buf *scratch);

/*
 * brk_records_next - the next record into *out.  Returns 1 (a record), 0
 * (the batch is exhausted, every declared record was read and no bytes
 * remain), or ERR_CORRUPT / ERR_LIMIT; after an error the iterator must
 * not be used again.
 */
MUST_CHECK int brk_records_next(struct brk_records_iter *it, struct brk_record *out);

/*
 * brk_records_header_next - decode the next header from r (a reader over a
 * record's headers bytes, which brk_records_next has already validated).
 * Returns 1, 0 at the end, ERR_CORRUPT.
 */
MUST_CHECK int brk_records_header_next(struct kwire_reader *r, struct brk_record_header *out);

#endif
