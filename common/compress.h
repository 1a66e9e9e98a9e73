/*
 * compress.h - bounded decompression of the codecs Kafka record batches use:
 * gzip, snappy (raw and xerial-framed), lz4 (frame format) and zstd.
 *
 * Role: the broker treats batches as opaque, except where it must read the
 * records inside one (ListOffsets by timestamp; later compaction and
 * __consumer_offsets).  Compressed batches are inflated here first.
 *
 * Invariants: the output goes into a caller-owned struct buf whose cap_max
 * is the output ceiling.  The buffer grows only as decompressed bytes are
 * actually produced (chunk by chunk), never by a size read from the input,
 * except snappy's declared length, which is checked against the ceiling
 * before anything is reserved.  Input is untrusted: a truncated stream,
 * trailing garbage, a bad checksum or a malformed frame is ERR_CORRUPT;
 * output beyond the ceiling is ERR_LIMIT.  On error out->len is back where
 * it was (any partial output is dropped); the buffer may have grown.
 *
 * Not here: compression (the broker never re-encodes batches), Kafka's
 * magic 0 lz4 framing quirk (its broken header checksum fails the check:
 * broker/log/brk_legacy.h),
 * dictionaries.  Decoder contexts are created per call: this is not a hot
 * path (no per-record use).
 */
#ifndef SAMSA_COMPRESS_H
#define SAMSA_COMPRESS_H

#include "buf.h"
#include "err.h"

/* Same numbering as the codec bits of a v2 batch's attributes. */
enum compress_codec {
    COMPRESS_NONE = 0,
    COMPRESS_GZIP = 1,
    COMPRESS_SNAPPY = 2,
    COMPRESS_LZ4 = 3,
    COMPRESS_ZSTD = 4,
};

/* Largest zstd window accepted (log2): bounds the decoder's memory, which
 * the frame header would otherwise choose (producers use <= 2^22 for
 * batch-sized inputs). */
#define COMPRESS_ZSTD_WINDOW_LOG_MAX 24
/* Output is produced in chunks of at most this many bytes. */
#define COMPRESS_CHUNK_BYTES (64u * 1024u)

/*
 * compress_decompress - append the decompressed form of `in` (borrowed,
 * untrusted) to out.  COMPRESS_NONE copies.  Snappy input that starts with
 * the xerial magic "\x82SNAPPY\0" is read as xerial frames (16-byte header,
 * then [int32 length][raw snappy block]...), otherwise as one raw block.
 * Gzip accepts concatenated members.  Returns 0; ERR_LIMIT past
 * out->cap_max; ERR_CORRUPT on malformed or truncated input;
 * ERR_UNSUPPORTED for an unknown codec; -ENOMEM.  Does not block (CPU only).
 */
MUST_CHECK int compress_decompress(enum compress_codec codec, struct bytes in, struct buf *out);

/* compress_codec_name - "none", "gzip", ... or "unknown". */
const char *compress_codec_name(enum compress_codec codec);

#endif
