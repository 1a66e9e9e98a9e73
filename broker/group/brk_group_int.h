/*
 * brk_group_int.h - the group coordinator's internals, shared by
 * brk_group.c (membership, rebalances, static members, describe, reload)
 * and brk_group_offsets.c (the committed-offset cache, expiry, OffsetDelete,
 * DeleteGroups).  Included by these two only; the contract is brk_group.h.
 *
 * Strings are owned copies (struct own: NULL-able, never NUL-terminated);
 * arrays grow through grow() up to a named maximum.
 */
#ifndef SAMSA_BRK_GROUP_INT_H
#define SAMSA_BRK_GROUP_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/group/brk_group.h"
#include "common/prng.h"

struct own {
    uint8_t *p;
    size_t len;
    bool null;
};

struct member_protocol {
    struct own name;
    struct own metadata;
};

struct member {
    struct own id, instance_id, client_id, client_host;
    int32_t session_timeout_ms, rebalance_timeout_ms;
    int32_t protocol_count;
    struct member_protocol *protocols;
    struct own assignment;
    int64_t deadline_ms;   /* session expiry */
    void *join_waiter;
    void *sync_waiter;
    bool join_stored;      /* static replacement in Stable: join_waiter is answered once the group is stored */
};

struct pending {
    struct own id;
    int64_t deadline_ms;
};

struct offset_entry {
    struct own topic, metadata;
    struct brk_group_offset o; /* topic/metadata point into the owns */
};

struct group {
    struct own id;
    enum brk_group_state state;
    int32_t generation;
    struct own protocol_type, protocol, leader;
    struct member **members;
    int32_t member_count, member_cap;
    struct pending *pendings;
    int32_t pending_count, pending_cap;
    int64_t join_deadline_ms;
    bool initial_delay;          /* InitialDelayedJoin in progress */
    bool new_member_added;
    int64_t initial_remaining_ms;
    struct offset_entry *offsets;
    int32_t offset_count, offset_cap;
    struct brk_group_offset *offset_view; /* brk_groups_offsets() result */
    int64_t empty_since_ms;      /* when it last became Empty; 0: unknown (offset expiry) */
    int32_t offset_view_cap;
};

struct brk_groups {
    struct brk_groups_config cfg;
    struct brk_groups_ops ops;
    struct prng prng;
    struct group **groups;
    int32_t group_count, group_cap;
    struct brk_group_join_member *scratch; /* join answers for the leader */
    int64_t next_expiry_check_ms;          /* offset expiry: next brk_groups_tick that looks */
    int32_t scratch_cap;
};

/* ---- small helpers ---- */

static inline int own_set(struct own *o, struct bytes b)
{
    uint8_t *p = NULL;
    if (b.ptr && b.len) {
        p = malloc(b.len);
        if (!p)
            return -ENOMEM;
        memcpy(p, b.ptr, b.len);
    }
    free(o->p);
    o->p = p;
    o->len = b.ptr ? b.len : 0;
    o->null = b.ptr == NULL;
    return 0;
}

static inline void own_free(struct own *o)
{
    free(o->p);
    *o = (struct own){ NULL, 0, true };
}

static inline struct bytes own_bytes(const struct own *o)
{
    if (o->null)
        return (struct bytes){ NULL, 0 };
    return bytes_make(o->p ? (const void *)o->p : (const void *)"", o->len);
}

/* own_bytes_or_empty - o's bytes, "" for a null one. */
static inline struct bytes own_bytes_or_empty(const struct own *o)
{
    return o->null ? bytes_make("", 0) : own_bytes(o);
}

static inline bool own_eq(const struct own *o, struct bytes b)
{
    return !o->null && bytes_eq(own_bytes(o), b);
}

static inline int grow(void **arr, int32_t *cap, int32_t need, size_t size, int32_t max)
{
    if (need <= *cap)
        return 0;
    if (need > max)
        return ERR_LIMIT;
    int32_t n = *cap ? *cap * 2 : 4;
    if (n < need)
        n = need;
    if (n > max)
        n = max;
    void *p = realloc(*arr, (size_t)n * size);
    if (!p)
        return -ENOMEM;
    *arr = p;
    *cap = n;
    return 0;
}

/* brk_group_arena_copy - b copied into a (a NULL ptr stays NULL); *rc =
 * ERR_LIMIT when a is full. */
static inline struct bytes brk_group_arena_copy(struct arena *a, struct bytes b, int *rc)
{
    if (!b.ptr)
        return b;
    uint8_t *p = arena_alloc(a, b.len ? b.len : 1);
    if (!p) {
        *rc = ERR_LIMIT;
        return bytes_make("", 0);
    }
    memcpy(p, b.ptr, b.len);
    return bytes_make(p, b.len);
}

/* brk_group_find - the group named id (Dead ones too), or NULL. */
struct group *brk_group_find(const struct brk_groups *gs, struct bytes id);
/* brk_group_live - the group unless it is Dead (a Dead group is "not there"). */
struct group *brk_group_live(const struct brk_groups *gs, struct bytes id);
/* brk_group_get_or_create - the group, a Dead one reset to Empty, or a new
 * Empty one; ERR_LIMIT past BRK_GROUPS_MAX, -ENOMEM. */
MUST_CHECK int brk_group_get_or_create(struct brk_groups *gs, struct bytes id, struct group **out);

/* brk_group_offsets_clear - drop every cached offset of g (no tombstones). */
void brk_group_offsets_clear(struct group *g);
/* brk_group_offset_remove - drop one cached offset (a replayed tombstone). */
void brk_group_offset_remove(struct group *g, struct bytes topic, int32_t partition);
/* brk_group_offsets_expire - expire g's offsets by offsets.retention.minutes:
 * tombstones through ops->store, then the cache; an Empty group left
 * without offsets becomes Dead. */
void brk_group_offsets_expire(struct brk_groups *gs, struct group *g, int64_t now_ms);

#endif
