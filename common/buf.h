/*
 * buf.h - owned growable byte buffers (struct buf) and borrowed views
 * (struct bytes).
 *
 * struct buf owns its storage; struct bytes borrows someone else's.  Wire
 * strings are never NUL-terminated: a bytes with ptr == NULL is a Kafka
 * null, a bytes with ptr != NULL and len == 0 is the empty string.
 * A buf never grows beyond cap_max (ERR_LIMIT), so every buffer that holds
 * untrusted input has a named ceiling.
 */
#ifndef SAMSA_BUF_H
#define SAMSA_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "err.h"

struct bytes {
    const uint8_t *ptr;
    size_t len;
};

struct buf {
    uint8_t *ptr;
    size_t len;
    size_t cap;
    size_t cap_max; /* 0 means SIZE_MAX */
};

static inline struct bytes bytes_make(const void *p, size_t len)
{
    struct bytes b = { (const uint8_t *)p, len };
    return b;
}
static inline struct bytes bytes_cstr(const char *s)
{
    return bytes_make(s, s ? strlen(s) : 0);
}
static inline int bytes_eq(struct bytes a, struct bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}
static inline int bytes_eq_cstr(struct bytes a, const char *s)
{
    return bytes_eq(a, bytes_cstr(s));
}

void buf_init(struct buf *b, size_t cap_max);
void buf_deinit(struct buf *b);
/* buf_reserve - make room for n more bytes; ERR_LIMIT past cap_max. */
MUST_CHECK int buf_reserve(struct buf *b, size_t n);
MUST_CHECK int buf_append(struct buf *b, const void *p, size_t n);
/* buf_consume - drop the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
static inline void buf_reset(struct buf *b) { b->len = 0; }
static inline struct bytes buf_bytes(const struct buf *b) { return bytes_make(b->ptr, b->len); }

#endif
