/*
 * brk_legacy.h - the old message formats (magic 0 and 1 message sets) as
 * Kafka 3.x treats them: converted up to a v2 record batch when an old
 * producer (Produce v0-2) sends them, and down from the stored v2 batches
 * when an old consumer (Fetch v0-3) reads.
 *
 * Legacy message layout (big-endian), one after another in a message set:
 *
 *   offset i64 | messageSize i32 | crc u32 (CRC-32 of magic..end) |
 *   magic i8 | attributes i8 (codec bits 0-2, magic 1: bit 3 LogAppendTime) |
 *   [timestamp i64, magic 1 only] | key bytes (i32 length, -1 null) |
 *   value bytes (i32 length, -1 null)
 *
 * A compressed message ("wrapper") carries in its value a compressed
 * message set of uncompressed inner messages (gzip, snappy - raw or xerial
 * framed - and lz4 frames as magic 1 writes them).  Not supported: magic 0
 * lz4 (Kafka's broken frame header checksum: the frame fails its check,
 * CORRUPT_MESSAGE), nested compression, zstd (never valid below magic 2).
 *
 * Up-conversion keeps keys and values, timestamps (magic 1's own, or the
 * wrapper's when it says LogAppendTime; magic 0: -1, NO_TIMESTAMP) and the
 * record order; offsets in the set are ignored (the log assigns them).  The
 * result is one UNCOMPRESSED v2 batch (Kafka recompresses with the
 * producer's codec; Samsa has no compressor), CreateTime, no producer id.
 *
 * Down-conversion writes uncompressed messages, one per record at or past
 * first_offset; control batches are skipped and record headers dropped
 * (magic 0/1 cannot carry them), as Kafka's down-conversion does.
 *
 * Pure: no I/O, CPU only.  Input is untrusted on both sides.
 */
#ifndef SAMSA_BRK_LEGACY_H
#define SAMSA_BRK_LEGACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define BRK_LEGACY_MAGIC_V0 0
#define BRK_LEGACY_MAGIC_V1 1
/* offset + messageSize */
#define BRK_LEGACY_LOG_OVERHEAD_BYTES 12
/* crc + magic + attributes + key length + value length (+ timestamp in magic 1) */
#define BRK_LEGACY_V0_MIN_BYTES 14
#define BRK_LEGACY_V1_MIN_BYTES 22
#define BRK_LEGACY_ATTR_LOG_APPEND_TIME 0x08

/*
 * brk_legacy_to_v2 - append one uncompressed v2 batch holding every record
 * of the message set `set` (untrusted, a Produce v0-2 partition's records)
 * to out.  scratch (reset per wrapper; its cap_max bounds the inflated
 * size) holds decompressed inner sets.  Returns the record count (> 0);
 * ERR_CORRUPT (a CRC-32 mismatch, truncation, bad compressed data, an
 * empty set, nested compression, an inner magic above its wrapper's);
 * ERR_INVALID (magic 2 or above, or negative); ERR_UNSUPPORTED (an unknown codec); ERR_LIMIT (past
 * out's or scratch's cap_max, too many records); -ENOMEM.  On error out->len
 * is back where it was.
 */
MUST_CHECK int brk_legacy_to_v2(struct bytes set, struct buf *out, struct buf *scratch);

/*
 * brk_legacy_from_v2 - append the records of `batches` (whole v2 batches as
 * a log read returns them) whose offset is >= first_offset to out as
 * uncompressed messages of `magic` (0 or 1), stopping before the message
 * that would take out past limit_bytes added bytes - unless nothing was
 * added yet and at_least_one is set.  scratch holds decompressed records.
 * Returns 0; ERR_CORRUPT / ERR_UNSUPPORTED / ERR_LIMIT from the batches;
 * -ENOMEM.  On error out->len is back where it was.
 */
MUST_CHECK int brk_legacy_from_v2(struct bytes batches, int8_t magic, int64_t first_offset, size_t limit_bytes,
                                  bool at_least_one, struct buf *out, struct buf *scratch);

#endif
