/*
 * buf.c - growth policy for struct buf: doubling, bounded by cap_max.
 */
#include "buf.h"

#include <stdlib.h>

#include "log.h"

void buf_init(struct buf *b, size_t cap_max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->cap_max = cap_max ? cap_max : SIZE_MAX;
}

void buf_deinit(struct buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

int buf_reserve(struct buf *b, size_t n)
{
    if (n > b->cap_max || b->len > b->cap_max - n)
        return ERR_LIMIT;
    size_t need = b->len + n;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->cap_max)
        cap = b->cap_max;
    uint8_t *p = realloc(b->ptr, cap);
    if (!p)
        return -12; /* -ENOMEM */
    b->ptr = p;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    int rc = buf_reserve(b, n);
    if (rc < 0)
        return rc;
    if (n)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    return 0;
}

void buf_consume(struct buf *b, size_t n)
{
    ASSERT(n <= b->len);
    if (n < b->len)
        memmove(b->ptr, b->ptr + n, b->len - n);
    b->len -= n;
}
