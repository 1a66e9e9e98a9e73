/*
 * arena.h - a bump allocator owned by one in-flight request.
 *
 * Everything a request decodes or builds is allocated here and released at
 * once by arena_reset() when the response is queued; nothing is freed field
 * by field.  An arena has a byte ceiling (bytes_max): an allocation past it
 * returns NULL, which callers turn into ERR_LIMIT, so a hostile count can
 * never make us allocate without bound.
 */
#ifndef SAMSA_ARENA_H
#define SAMSA_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
    struct arena_chunk *head;
    size_t chunk_bytes;
    size_t used_bytes;
    size_t bytes_max;
};

void arena_init(struct arena *a, size_t chunk_bytes, size_t bytes_max);
void arena_deinit(struct arena *a);
/* arena_alloc - zeroed, 16-byte aligned memory, or NULL past bytes_max. */
void *arena_alloc(struct arena *a, size_t n);
/* arena_alloc_array - n * size with overflow check; NULL on overflow/limit. */
void *arena_alloc_array(struct arena *a, size_t n, size_t size);
/* arena_reset - release everything; keeps the first chunk for reuse. */
void arena_reset(struct arena *a);

#endif
