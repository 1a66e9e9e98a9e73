/*
 * arena.c - chunked bump allocation.  Chunks are malloc'd on demand and
 * freed on reset except the first, so a steady request load allocates
 * nothing after warm-up.
 */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct arena_chunk {
    struct arena_chunk *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

void arena_init(struct arena *a, size_t chunk_bytes, size_t bytes_max)
{
    a->head = NULL;
    a->chunk_bytes = chunk_bytes ? chunk_bytes : 16384;
    a->used_bytes = 0;
    a->bytes_max = bytes_max ? bytes_max : SIZE_MAX;
}

void arena_deinit(struct arena *a)
{
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->used_bytes = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n)
        return NULL;
    if (need > a->bytes_max - a->used_bytes || a->used_bytes > a->bytes_max)
        return NULL;
    struct arena_chunk *c = a->head;
    if (!c || c->size - c->used < need) {
        size_t size = need > a->chunk_bytes ? need : a->chunk_bytes;
        c = malloc(sizeof *c + size);
        if (!c)
            return NULL;
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += need;
    a->used_bytes += need;
    memset(p, 0, n);
    return p;
}

void *arena_alloc_array(struct arena *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t total = n * size;
    return arena_alloc(a, total ? total : 1);
}

void arena_reset(struct arena *a)
{
    struct arena_chunk *c = a->head;
    if (!c)
        return;
    /* keep the oldest chunk (the tail of the list) */
    while (c->next) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    c->used = 0;
    a->head = c;
    a->used_bytes = 0;
    ASSERT(a->head->next == NULL);
}
