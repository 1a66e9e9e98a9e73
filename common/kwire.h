/*
 * kwire.h - Kafka wire primitives: bounds-checked readers over a borrowed
 * byte range and writers that append to a struct buf.
 *
 * Role: every byte of the Kafka protocol is read and written through this
 * module (directly, or through the generated build/gen/kmsg.c codec).
 *
 * Reading: a struct kwire_reader is a [p, end) window.  Every reader checks
 * the bytes remaining before it touches memory and returns ERR_DECODE on
 * short or invalid input (overlong varints, negative lengths other than -1,
 * a length or count beyond the bytes remaining).  On error the reader
 * position is unspecified: callers abandon the frame.  Strings and bytes
 * come back as struct bytes BORROWING the input (ptr == NULL is Kafka
 * null); nothing is copied or allocated here.
 *
 * Array counts are checked against the bytes remaining (every element
 * needs at least one byte), so a count read here can be used to size an
 * allocation without trusting the peer beyond the frame it already sent.
 *
 * Writing: kwire_write_* append big-endian / varint encodings to a buf and
 * return ERR_LIMIT when the buf's ceiling is reached (or a length does not
 * fit its wire width).  Length placeholders (kwire_reserve_i32 +
 * kwire_patch_*) let frame sizes be written after the body.
 *
 * Not here: message schemas (generated kmsg), record batches (their own
 * module), CRCs, compression.
 */
#ifndef SAMSA_KWIRE_H
#define SAMSA_KWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define KWIRE_UUID_BYTES 16

struct kwire_reader {
    const uint8_t *p;
    const uint8_t *end;
};

static inline void kwire_reader_init(struct kwire_reader *r, struct bytes in)
{
    r->p = in.ptr;
    r->end = in.ptr ? in.ptr + in.len : in.ptr;
}
static inline size_t kwire_remaining(const struct kwire_reader *r)
{
    return (size_t)(r->end - r->p);
}

/* ---- fixed-width readers (big-endian) ---- */
MUST_CHECK int kwire_read_i8(struct kwire_reader *r, int8_t *out);
MUST_CHECK int kwire_read_i16(struct kwire_reader *r, int16_t *out);
MUST_CHECK int kwire_read_i32(struct kwire_reader *r, int32_t *out);
MUST_CHECK int kwire_read_i64(struct kwire_reader *r, int64_t *out);
MUST_CHECK int kwire_read_u16(struct kwire_reader *r, uint16_t *out);
MUST_CHECK int kwire_read_u32(struct kwire_reader *r, uint32_t *out);
MUST_CHECK int kwire_read_f64(struct kwire_reader *r, double *out);
/* kwire_read_bool - any non-zero byte is true (as Kafka reads it). */
MUST_CHECK int kwire_read_bool(struct kwire_reader *r, bool *out);
MUST_CHECK int kwire_read_uuid(struct kwire_reader *r, uint8_t out[KWIRE_UUID_BYTES]);

/* ---- varints (protobuf-style base 128; at most 5 / 10 bytes) ---- */
MUST_CHECK int kwire_read_uvarint(struct kwire_reader *r, uint32_t *out);
/* kwire_read_varint / varlong - zigzag-encoded signed values. */
MUST_CHECK int kwire_read_varint(struct kwire_reader *r, int32_t *out);
MUST_CHECK int kwire_read_varlong(struct kwire_reader *r, int64_t *out);

/* ---- strings and bytes: borrowed views into the input ---- */
/* int16 length, -1 = null. */
MUST_CHECK int kwire_read_string(struct kwire_reader *r, struct bytes *out);
/* uvarint length + 1, 0 = null. */
MUST_CHECK int kwire_read_compact_string(struct kwire_reader *r, struct bytes *out);
/* int32 length, -1 = null. */
MUST_CHECK int kwire_read_bytes(struct kwire_reader *r, struct bytes *out);
/* uvarint length + 1, 0 = null. */
MUST_CHECK int kwire_read_compact_bytes(struct kwire_reader *r, struct bytes *out);
/* kwire_read_raw - borrow exactly n bytes. */
MUST_CHECK int kwire_read_raw(struct kwire_reader *r, size_t n, struct bytes *out);
MUST_CHECK int kwire_skip(struct kwire_reader *r, size_t n);

/* ---- array counts: *count == -1 means null; otherwise 0 <= count <= remaining ---- */
MUST_CHECK int kwire_read_array_len(struct kwire_reader *r, int32_t *count);
MUST_CHECK int kwire_read_compact_array_len(struct kwire_reader *r, int32_t *count);

/*
 * kwire_read_tag - one tagged-field header (tag, size) and a sub-reader
 * over its size bytes; r is advanced past the field's data.
 */
MUST_CHECK int kwire_read_tag(struct kwire_reader *r, uint32_t *tag, struct kwire_reader *field);
/* kwire_skip_tags - skip a whole tagged-field section (count, then fields). */
MUST_CHECK int kwire_skip_tags(struct kwire_reader *r);

/* ---- writers: append to b; ERR_LIMIT past b's ceiling ---- */
MUST_CHECK int kwire_write_i8(struct buf *b, int8_t v);
MUST_CHECK int kwire_write_i16(struct buf *b, int16_t v);
MUST_CHECK int kwire_write_i32(struct buf *b, int32_t v);
MUST_CHECK int kwire_write_i64(struct buf *b, int64_t v);
MUST_CHECK int kwire_write_u16(struct buf *b, uint16_t v);
MUST_CHECK int kwire_write_u32(struct buf *b, uint32_t v);
MUST_CHECK int kwire_write_f64(struct buf *b, double v);
MUST_CHECK int kwire_write_bool(struct buf *b, bool v);
MUST_CHECK int kwire_write_uuid(struct buf *b, const uint8_t v[KWIRE_UUID_BYTES]);
MUST_CHECK int kwire_write_uvarint(struct buf *b, uint32_t v);
MUST_CHECK int kwire_write_varint(struct buf *b, int32_t v);
MUST_CHECK int kwire_write_varlong(struct buf *b, int64_t v);
/* Strings/bytes: s.ptr == NULL writes null.  ERR_LIMIT if the length does not fit. */
MUST_CHECK int kwire_write_string(struct buf *b, struct bytes s);
MUST_CHECK int kwire_write_compact_string(struct buf *b, struct bytes s);
MUST_CHECK int kwire_write_bytes(struct buf *b, struct bytes s);
MUST_CHECK int kwire_write_compact_bytes(struct buf *b, struct bytes s);
MUST_CHECK int kwire_write_raw(struct buf *b, const void *p, size_t n);
/* Array counts: count < 0 writes null. */
MUST_CHECK int kwire_write_array_len(struct buf *b, int32_t count);
MUST_CHECK int kwire_write_compact_array_len(struct buf *b, int32_t count);
/* kwire_write_empty_tags - a tagged-field section with no fields (one 0 byte). */
MUST_CHECK int kwire_write_empty_tags(struct buf *b);

/* kwire_uvarint_bytes - encoded size of v as an unsigned varint (1..5). */
size_t kwire_uvarint_bytes(uint32_t v);
/*
 * kwire_insert_uvarint - insert v's varint encoding at offset pos (<= len),
 * shifting the bytes after it; used to prefix a tagged field with its size
 * once the field has been written.
 */
MUST_CHECK int kwire_insert_uvarint(struct buf *b, size_t pos, uint32_t v);

/*
 * kwire_reserve_i32 - append a 4-byte placeholder; *pos_out is its offset.
 * kwire_patch_i32 overwrites it; kwire_patch_size writes the number of
 * bytes after the placeholder (b->len - pos - 4), i.e. a Kafka frame size.
 */
MUST_CHECK int kwire_reserve_i32(struct buf *b, size_t *pos_out);
void kwire_patch_i32(struct buf *b, size_t pos, int32_t v);
MUST_CHECK int kwire_patch_size(struct buf *b, size_t pos);

#endif
