/*
 * kwire.c - Kafka wire primitives (see kwire.h).
 *
 * Invariant: a reader never dereferences outside [p, end); every length is
 * compared with kwire_remaining() before use, in size_t arithmetic so no
 * peer-supplied value can overflow a pointer.  Failures jump to one
 * err_decode label per function where there is more than one check.
 */
#include "kwire.h"

#include <string.h>

#include "be.h"
#include "log.h"

#define KWIRE_UVARINT_BYTES_MAX 5
#define KWIRE_UVARLONG_BYTES_MAX 10

static int need(const struct kwire_reader *r, size_t n)
{
    return kwire_remaining(r) >= n ? 0 : ERR_DECODE;
}

int kwire_read_i8(struct kwire_reader *r, int8_t *out)
{
    if (need(r, 1))
        return ERR_DECODE;
    *out = (int8_t)r->p[0];
    r->p += 1;
    return 0;
}

int kwire_read_u16(struct kwire_reader *r, uint16_t *out)
{
    if (need(r, 2))
        return ERR_DECODE;
    *out = be_get16(r->p);
    r->p += 2;
    return 0;
}

int kwire_read_i16(struct kwire_reader *r, int16_t *out)
{
    uint16_t v;
    if (kwire_read_u16(r, &v))
        return ERR_DECODE;
    *out = (int16_t)v;
    return 0;
}

int kwire_read_u32(struct kwire_reader *r, uint32_t *out)
{
    if (need(r, 4))
        return ERR_DECODE;
    *out = be_get32(r->p);
    r->p += 4;
    return 0;
}

int kwire_read_i32(struct kwire_reader *r, int32_t *out)
{
    uint32_t v;
    if (kwire_read_u32(r, &v))
        return ERR_DECODE;
    *out = (int32_t)v;
    return 0;
}

static int read_u64(struct kwire_reader *r, uint64_t *out)
{
    if (need(r, 8))
        return ERR_DECODE;
    *out = be_get64(r->p);
    r->p += 8;
    return 0;
}

int kwire_read_i64(struct kwire_reader *r, int64_t *out)
{
    uint64_t v;
    if (read_u64(r, &v))
        return ERR_DECODE;
    *out = (int64_t)v;
    return 0;
}

int kwire_read_f64(struct kwire_reader *r, double *out)
{
    uint64_t v;
    if (read_u64(r, &v))
        return ERR_DECODE;
    STATIC_ASSERT(sizeof(double) == sizeof(uint64_t), "IEEE-754 binary64 double");
    memcpy(out, &v, sizeof(v));
    return 0;
}

int kwire_read_bool(struct kwire_reader *r, bool *out)
{
    int8_t v;
    if (kwire_read_i8(r, &v))
        return ERR_DECODE;
    *out = v != 0;
    return 0;
}

int kwire_read_uuid(struct kwire_reader *r, uint8_t out[KWIRE_UUID_BYTES])
{
    if (need(r, KWIRE_UUID_BYTES))
        return ERR_DECODE;
    memcpy(out, r->p, KWIRE_UUID_BYTES);
    r->p += KWIRE_UUID_BYTES;
    return 0;
}

/* Reads up to bytes_max groups of 7 bits; rejects overlong encodings and
 * bits beyond bits_max (so 5 bytes for 32 bits, 10 for 64). */
static int read_uvar(struct kwire_reader *r, int bytes_max, int bits_max, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes_max; i++) {
        if (need(r, 1))
            return ERR_DECODE;
        uint8_t c = *r->p++;
        int shift = 7 * i;
        uint64_t part = (uint64_t)(c & 0x7f);
        if (shift + 7 > bits_max && (part >> (bits_max - shift)) != 0)
            return ERR_DECODE; /* bits beyond the type's width */
        v |= part << shift;
        if (!(c & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return ERR_DECODE; /* continuation bit on the last allowed byte */
}

int kwire_read_uvarint(struct kwire_reader *r, uint32_t *out)
{
    uint64_t v;
    if (read_uvar(r, KWIRE_UVARINT_BYTES_MAX, 32, &v))
        return ERR_DECODE;
    *out = (uint32_t)v;
    return 0;
}

int kwire_read_varint(struct kwire_reader *r, int32_t *out)
{
    uint32_t u;
    if (kwire_read_uvarint(r, &u))
        return ERR_DECODE;
    *out = (int32_t)((u >> 1) ^ (~(u & 1) + 1));
    return 0;
}

int kwire_read_varlong(struct kwire_reader *r, int64_t *out)
{
    uint64_t u;
    if (read_uvar(r, KWIRE_UVARLONG_BYTES_MAX, 64, &u))
        return ERR_DECODE;
    *out = (int64_t)((u >> 1) ^ (~(u & 1) + 1));
    return 0;
}

int kwire_read_raw(struct kwire_reader *r, size_t n, struct bytes *out)
{
    if (need(r, n))
        return ERR_DECODE;
    out->ptr = r->p;
    out->len = n;
    r->p += n;
    return 0;
}

int kwire_skip(struct kwire_reader *r, size_t n)
{
    if (need(r, n))
        return ERR_DECODE;
    r->p += n;
    return 0;
}

static int read_len_bytes(struct kwire_reader *r, int64_t len, struct bytes *out)
{
    if (len == -1) {
        out->ptr = NULL;
        out->len = 0;
        return 0;
    }
    if (len < 0)
        return ERR_DECODE;
    return kwire_read_raw(r, (size_t)len, out);
}

int kwire_read_string(struct kwire_reader *r, struct bytes *out)
{
    int16_t len;
    if (kwire_read_i16(r, &len))
        return ERR_DECODE;
    return read_len_bytes(r, len, out);
}

int kwire_read_bytes(struct kwire_reader *r, struct bytes *out)
{
    int32_t len;
    if (kwire_read_i32(r, &len))
        return ERR_DECODE;
    return read_len_bytes(r, len, out);
}

int kwire_read_compact_string(struct kwire_reader *r, struct bytes *out)
{
    uint32_t n;
    if (kwire_read_uvarint(r, &n))
        return ERR_DECODE;
    return read_len_bytes(r, (int64_t)n - 1, out);
}

int kwire_read_compact_bytes(struct kwire_reader *r, struct bytes *out)
{
    return kwire_read_compact_string(r, out);
}

static int check_count(const struct kwire_reader *r, int64_t count, int32_t *out)
{
    if (count == -1) {
        *out = -1;
        return 0;
    }
    if (count < 0 || (uint64_t)count > kwire_remaining(r))
        return ERR_DECODE;
    *out = (int32_t)count;
    return 0;
}

int kwire_read_array_len(struct kwire_reader *r, int32_t *count)
{
    int32_t n;
    if (kwire_read_i32(r, &n))
        return ERR_DECODE;
    return check_count(r, n, count);
}

int kwire_read_compact_array_len(struct kwire_reader *r, int32_t *count)
{
    uint32_t n;
    if (kwire_read_uvarint(r, &n))
        return ERR_DECODE;
    return check_count(r, (int64_t)n - 1, count);
}

int kwire_read_tag(struct kwire_reader *r, uint32_t *tag, struct kwire_reader *field)
{
    uint32_t size;
    if (kwire_read_uvarint(r, tag))
        goto err_decode;
    if (kwire_read_uvarint(r, &size))
        goto err_decode;
    if (need(r, size))
        goto err_decode;
    field->p = r->p;
    field->end = r->p + size;
    r->p += size;
    return 0;
err_decode:
    return ERR_DECODE;
}

int kwire_skip_tags(struct kwire_reader *r)
{
    uint32_t n, tag;
    struct kwire_reader field;
    if (kwire_read_uvarint(r, &n))
        return ERR_DECODE;
    /* Each field needs at least 2 bytes (tag, size); bound the loop by the frame. */
    if (n > kwire_remaining(r))
        return ERR_DECODE;
    for (uint32_t i = 0; i < n; i++) {
        if (kwire_read_tag(r, &tag, &field))
            return ERR_DECODE;
    }
    return 0;
}

/* ---- writers ---- */

int kwire_write_raw(struct buf *b, const void *p, size_t n)
{
    return buf_append(b, p, n);
}

int kwire_write_i8(struct buf *b, int8_t v)
{
    uint8_t c = (uint8_t)v;
    return buf_append(b, &c, 1);
}

int kwire_write_u16(struct buf *b, uint16_t v)
{
    uint8_t c[2];
    be_put16(c, v);
    return buf_append(b, c, sizeof(c));
}

int kwire_write_i16(struct buf *b, int16_t v)
{
    return kwire_write_u16(b, (uint16_t)v);
}

int kwire_write_u32(struct buf *b, uint32_t v)
{
    uint8_t c[4];
    be_put32(c, v);
    return buf_append(b, c, sizeof(c));
}

int kwire_write_i32(struct buf *b, int32_t v)
{
    return kwire_write_u32(b, (uint32_t)v);
}

static int write_u64(struct buf *b, uint64_t v)
{
    uint8_t c[8];
    be_put64(c, v);
    return buf_append(b, c, sizeof(c));
}

int kwire_write_i64(struct buf *b, int64_t v)
{
    return write_u64(b, (uint64_t)v);
}

int kwire_write_f64(struct buf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    return write_u64(b, u);
}

int kwire_write_bool(struct buf *b, bool v)
{
    return kwire_write_i8(b, v ? 1 : 0);
}

int kwire_write_uuid(struct buf *b, const uint8_t v[KWIRE_UUID_BYTES])
{
    return buf_append(b, v, KWIRE_UUID_BYTES);
}

static size_t uvar_encode(uint64_t v, uint8_t out[KWIRE_UVARLONG_BYTES_MAX])
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t kwire_uvarint_bytes(uint32_t v)
{
    uint8_t tmp[KWIRE_UVARLONG_BYTES_MAX];
    return uvar_encode(v, tmp);
}

int kwire_write_uvarint(struct buf *b, uint32_t v)
{
    uint8_t c[KWIRE_UVARLONG_BYTES_MAX];
    size_t n = uvar_encode(v, c);
    return buf_append(b, c, n);
}

int kwire_write_varint(struct buf *b, int32_t v)
{
    uint32_t u = ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
    return kwire_write_uvarint(b, u);
}

int kwire_write_varlong(struct buf *b, int64_t v)
{
    uint8_t c[KWIRE_UVARLONG_BYTES_MAX];
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = uvar_encode(u, c);
    return buf_append(b, c, n);
}

int kwire_write_string(struct buf *b, struct bytes s)
{
    if (!s.ptr)
        return kwire_write_i16(b, -1);
    if (s.len > INT16_MAX)
        return ERR_LIMIT;
    int rc = kwire_write_i16(b, (int16_t)s.len);
    return rc ? rc : buf_append(b, s.ptr, s.len);
}

int kwire_write_bytes(struct buf *b, struct bytes s)
{
    if (!s.ptr)
        return kwire_write_i32(b, -1);
    if (s.len > INT32_MAX)
        return ERR_LIMIT;
    int rc = kwire_write_i32(b, (int32_t)s.len);
    return rc ? rc : buf_append(b, s.ptr, s.len);
}

int kwire_write_compact_string(struct buf *b, struct bytes s)
{
    if (!s.ptr)
        return kwire_write_uvarint(b, 0);
    if (s.len >= UINT32_MAX)
        return ERR_LIMIT;
    int rc = kwire_write_uvarint(b, (uint32_t)s.len + 1);
    return rc ? rc : buf_append(b, s.ptr, s.len);
}

int kwire_write_compact_bytes(struct buf *b, struct bytes s)
{
    return kwire_write_compact_string(b, s);
}

int kwire_write_array_len(struct buf *b, int32_t count)
{
    return kwire_write_i32(b, count < 0 ? -1 : count);
}

int kwire_write_compact_array_len(struct buf *b, int32_t count)
{
    return kwire_write_uvarint(b, count < 0 ? 0 : (uint32_t)count + 1);
}

int kwire_write_empty_tags(struct buf *b)
{
    return kwire_write_uvarint(b, 0);
}

int kwire_insert_uvarint(struct buf *b, size_t pos, uint32_t v)
{
    ASSERT(pos <= b->len);
    uint8_t c[KWIRE_UVARLONG_BYTES_MAX];
    size_t n = uvar_encode(v, c);
    int rc = buf_reserve(b, n);
    if (rc)
        return rc;
    memmove(b->ptr + pos + n, b->ptr + pos, b->len - pos);
    memcpy(b->ptr + pos, c, n);
    b->len += n;
    return 0;
}

int kwire_reserve_i32(struct buf *b, size_t *pos_out)
{
    *pos_out = b->len;
    return kwire_write_i32(b, 0);
}

void kwire_patch_i32(struct buf *b, size_t pos, int32_t v)
{
    ASSERT(pos <= b->len);
    ASSERT(b->len - pos >= 4);
    be_put32(b->ptr + pos, (uint32_t)v);
}

int kwire_patch_size(struct buf *b, size_t pos)
{
    ASSERT(pos <= b->len);
    ASSERT(b->len - pos >= 4);
    size_t n = b->len - pos - 4;
    if (n > INT32_MAX)
        return ERR_LIMIT;
    kwire_patch_i32(b, pos, (int32_t)n);
    return 0;
}
