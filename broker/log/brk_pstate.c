/*
 * brk_pstate.c - one partition's producer state (see brk_pstate.h).
 *
 * Entries live in an array with an open-addressing table over it keyed by
 * producer id.  Removal (expiry) compacts the array and rebuilds the table:
 * it is rare, lookups happen on every idempotent append.  Each entry's
 * cached batches are a small array, oldest first (at most five: shifting
 * beats a ring here).
 */
#include "broker/log/brk_pstate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/be.h"
#include "common/crc32c.h"
#include "common/log.h"

struct brk_pstate {
    struct brk_pstate_entry *entries;
    int32_t count;
    int32_t cap;
    int32_t *slots;      /* entry index, -1 empty; slot_count is a power of two > 2 * count */
    int32_t slot_count;
};

#define PSTATE_HDR_BYTES 10   /* version u16, crc u32, count i32 */
#define PSTATE_ENTRY_BYTES 34 /* pid, epoch, coordinator epoch, txn first offset, last ts, batch count */
#define PSTATE_META_BYTES 32

static uint64_t pid_hash(int64_t pid)
{
    uint64_t x = (uint64_t)pid;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static int rehash(struct brk_pstate *ps, int32_t slot_count)
{
    int32_t *slots = malloc((size_t)slot_count * sizeof *slots);
    if (!slots)
        return -ENOMEM;
    memset(slots, 0xff, (size_t)slot_count * sizeof *slots);
    uint64_t mask = (uint64_t)slot_count - 1;
    for (int32_t i = 0; i < ps->count; i++)
        for (uint64_t s = pid_hash(ps->entries[i].producer_id) & mask;; s = (s + 1) & mask)
            if (slots[s] < 0) {
                slots[s] = i;
                break;
            }
    free(ps->slots);
    ps->slots = slots;
    ps->slot_count = slot_count;
    return 0;
}

int brk_pstate_create(struct brk_pstate **out)
{
    struct brk_pstate *ps = calloc(1, sizeof *ps);
    if (!ps)
        return -ENOMEM;
    if (rehash(ps, 16) < 0) {
        free(ps);
        return -ENOMEM;
    }
    *out = ps;
    return 0;
}

void brk_pstate_destroy(struct brk_pstate *ps)
{
    if (!ps)
        return;
    free(ps->entries);
    free(ps->slots);
    free(ps);
}

int32_t brk_pstate_seq_add(int32_t seq, int32_t delta)
{
    if (seq < 0 || delta < 0)
        return -1; /* no sequence (a batch from disk or a peer may carry one) */
    if (seq > INT32_MAX - delta)
        return delta - (INT32_MAX - seq) - 1;
    return seq + delta;
}

void brk_pstate_batch_from_hdr(const struct brk_batch_hdr *hdr, struct brk_pstate_batch *out)
{
    out->producer_id = hdr->producer_id;
    out->producer_epoch = hdr->producer_epoch;
    out->first_seq = hdr->base_sequence;
    out->last_seq = hdr->base_sequence >= 0 && hdr->last_offset_delta >= 0
                        ? brk_pstate_seq_add(hdr->base_sequence, hdr->last_offset_delta)
                        : hdr->base_sequence;
    out->first_offset = hdr->base_offset;
    out->last_offset = hdr->base_offset + hdr->last_offset_delta;
    out->max_timestamp_ms = hdr->max_timestamp_ms;
    out->transactional = (hdr->attributes & BRK_BATCH_ATTR_TRANSACTIONAL) != 0;
    out->control = (hdr->attributes & BRK_BATCH_ATTR_CONTROL) != 0;
}

static int32_t find_index(const struct brk_pstate *ps, int64_t pid)
{
    uint64_t mask = (uint64_t)ps->slot_count - 1;
    for (uint64_t s = pid_hash(pid) & mask;; s = (s + 1) & mask) {
        int32_t i = ps->slots[s];
        if (i < 0)
            return -1;
        if (ps->entries[i].producer_id == pid)
            return i;
    }
}

const struct brk_pstate_entry *brk_pstate_find(const struct brk_pstate *ps, int64_t producer_id)
{
    int32_t i = find_index(ps, producer_id);
    return i < 0 ? NULL : &ps->entries[i];
}

int32_t brk_pstate_count(const struct brk_pstate *ps)
{
    return ps->count;
}

void brk_pstate_clear(struct brk_pstate *ps)
{
    ps->count = 0;
    memset(ps->slots, 0xff, (size_t)ps->slot_count * sizeof *ps->slots);
}

/* A new entry for pid (not present), or NULL at the limit / out of memory. */
static struct brk_pstate_entry *entry_add(struct brk_pstate *ps, int64_t pid)
{
    if (ps->count >= BRK_PSTATE_PRODUCERS_MAX)
        return NULL;
    if (ps->count == ps->cap) {
        int32_t cap = ps->cap ? ps->cap * 2 : 8;
        struct brk_pstate_entry *e = realloc(ps->entries, (size_t)cap * sizeof *e);
        if (!e)
            return NULL;
        ps->entries = e;
        ps->cap = cap;
    }
    if ((ps->count + 1) * 2 >= ps->slot_count && rehash(ps, ps->slot_count * 2) < 0)
        return NULL;
    int32_t i = ps->count++;
    struct brk_pstate_entry *e = &ps->entries[i];
    memset(e, 0, sizeof *e);
    e->producer_id = pid;
    e->producer_epoch = -1;
    e->coordinator_epoch = -1;
    e->txn_first_offset = -1;
    uint64_t mask = (uint64_t)ps->slot_count - 1;
    for (uint64_t s = pid_hash(pid) & mask;; s = (s + 1) & mask)
        if (ps->slots[s] < 0) {
            ps->slots[s] = i;
            break;
        }
    return e;
}

int brk_pstate_check(const struct brk_pstate *ps, const struct brk_pstate_batch *b, struct brk_pstate_meta *dup)
{
    ASSERT(b->producer_id >= 0);
    ASSERT(!b->control);
    const struct brk_pstate_entry *e = brk_pstate_find(ps, b->producer_id);
    if (!e || e->producer_epoch < 0)
        return BRK_PSTATE_APPEND; /* unknown: any sequence (KIP-360, Kafka 3.x) */
    if (b->producer_epoch < e->producer_epoch)
        return ERR_PRODUCER_EPOCH;
    if (b->producer_epoch > e->producer_epoch)
        return b->first_seq == 0 ? BRK_PSTATE_APPEND : ERR_OUT_OF_SEQUENCE;
    for (int32_t k = 0; k < e->batch_count; k++)
        if (e->batches[k].first_seq == b->first_seq && e->batches[k].last_seq == b->last_seq) {
            *dup = e->batches[k];
            return BRK_PSTATE_DUPLICATE;
        }
    /* the same epoch with no cached batch (a transaction marker only):
     * anything goes, as in Kafka when the entry holds no sequence */
    if (e->batch_count == 0)
        return BRK_PSTATE_APPEND;
    int32_t last = e->batches[e->batch_count - 1].last_seq;
    if (b->first_seq != brk_pstate_seq_add(last, 1))
        return ERR_OUT_OF_SEQUENCE;
    return BRK_PSTATE_APPEND;
}

int brk_pstate_observe(struct brk_pstate *ps, const struct brk_pstate_batch *b)
{
    if (b->producer_id < 0 || b->control)
        return 0;
    int32_t i = find_index(ps, b->producer_id);
    struct brk_pstate_entry *e = i >= 0 ? &ps->entries[i] : entry_add(ps, b->producer_id);
    if (!e)
        return ERR_LIMIT;
    if (b->producer_epoch < e->producer_epoch)
        return 0; /* an older epoch's batch in the log: it changes nothing */
    if (b->producer_epoch > e->producer_epoch) {
        e->producer_epoch = b->producer_epoch;
        e->batch_count = 0;
    }
    if (e->batch_count == BRK_PSTATE_BATCHES_MAX) {
        memmove(&e->batches[0], &e->batches[1], (BRK_PSTATE_BATCHES_MAX - 1) * sizeof e->batches[0]);
        e->batch_count--;
    }
    e->batches[e->batch_count++] = (struct brk_pstate_meta){ b->first_seq, b->last_seq, b->first_offset,
                                                             b->last_offset, b->max_timestamp_ms };
    if (b->max_timestamp_ms > e->last_timestamp_ms)
        e->last_timestamp_ms = b->max_timestamp_ms;
    ASSERT(e->batch_count <= BRK_PSTATE_BATCHES_MAX);
    return 0;
}

void brk_pstate_forget(struct brk_pstate *ps, int64_t producer_id, int64_t first_offset)
{
    int32_t i = find_index(ps, producer_id);
    if (i < 0)
        return;
    struct brk_pstate_entry *e = &ps->entries[i];
    while (e->batch_count > 0 && e->batches[e->batch_count - 1].first_offset >= first_offset)
        e->batch_count--;
}

int32_t brk_pstate_expire(struct brk_pstate *ps, int64_t now_ms, int64_t expiration_ms)
{
    int32_t kept = 0;
    for (int32_t i = 0; i < ps->count; i++) {
        const struct brk_pstate_entry *e = &ps->entries[i];
        if (now_ms - e->last_timestamp_ms >= expiration_ms)
            continue;
        ps->entries[kept++] = *e;
    }
    int32_t removed = ps->count - kept;
    if (removed == 0)
        return 0;
    ps->count = kept;
    int rc = rehash(ps, ps->slot_count); /* same size: cannot need more */
    if (rc < 0) {
        /* no memory for a new table: rebuild the old one in place */
        memset(ps->slots, 0xff, (size_t)ps->slot_count * sizeof *ps->slots);
        uint64_t mask = (uint64_t)ps->slot_count - 1;
        for (int32_t i = 0; i < ps->count; i++)
            for (uint64_t s = pid_hash(ps->entries[i].producer_id) & mask;; s = (s + 1) & mask)
                if (ps->slots[s] < 0) {
                    ps->slots[s] = i;
                    break;
                }
    }
    return removed;
}

/* ---- snapshot bytes ---- */

int brk_pstate_encode(const struct brk_pstate *ps, struct buf *out)
{
    size_t size = PSTATE_HDR_BYTES;
    for (int32_t i = 0; i < ps->count; i++)
        size += PSTATE_ENTRY_BYTES + (size_t)ps->entries[i].batch_count * PSTATE_META_BYTES;
    buf_reset(out);
    int rc = buf_reserve(out, size);
    if (rc < 0)
        return rc;
    uint8_t *p = out->ptr;
    be_put16(p, BRK_PSTATE_SNAPSHOT_VERSION);
    be_put32(p + 6, (uint32_t)ps->count);
    uint8_t *at = p + PSTATE_HDR_BYTES;
    for (int32_t i = 0; i < ps->count; i++) {
        const struct brk_pstate_entry *e = &ps->entries[i];
        be_put64(at, (uint64_t)e->producer_id);
        be_put16(at + 8, (uint16_t)e->producer_epoch);
        be_put32(at + 10, (uint32_t)e->coordinator_epoch);
        be_put64(at + 14, (uint64_t)e->txn_first_offset);
        be_put64(at + 22, (uint64_t)e->last_timestamp_ms);
        be_put32(at + 30, (uint32_t)e->batch_count);
        at += PSTATE_ENTRY_BYTES;
        for (int32_t k = 0; k < e->batch_count; k++) {
            const struct brk_pstate_meta *m = &e->batches[k];
            be_put32(at, (uint32_t)m->first_seq);
            be_put32(at + 4, (uint32_t)m->last_seq);
            be_put64(at + 8, (uint64_t)m->first_offset);
            be_put64(at + 16, (uint64_t)m->last_offset);
            be_put64(at + 24, (uint64_t)m->timestamp_ms);
            at += PSTATE_META_BYTES;
        }
    }
    ASSERT((size_t)(at - p) == size);
    be_put32(p + 2, crc32c(0, p + 6, size - 6));
    out->len = size;
    return 0;
}

int brk_pstate_decode(struct brk_pstate *ps, struct bytes in)
{
    brk_pstate_clear(ps);
    const uint8_t *p = in.ptr;
    if (in.len < PSTATE_HDR_BYTES)
        return ERR_CORRUPT;
    if (be_get16(p) != BRK_PSTATE_SNAPSHOT_VERSION)
        return ERR_UNSUPPORTED;
    if (be_get32(p + 2) != crc32c(0, p + 6, in.len - 6))
        return ERR_CORRUPT;
    int32_t count = (int32_t)be_get32(p + 6);
    if (count < 0 || count > BRK_PSTATE_PRODUCERS_MAX)
        goto err_decode;
    size_t pos = PSTATE_HDR_BYTES;
    for (int32_t i = 0; i < count; i++) {
        if (in.len - pos < PSTATE_ENTRY_BYTES)
            goto err_decode;
        const uint8_t *at = p + pos;
        int64_t pid = (int64_t)be_get64(at);
        int32_t n = (int32_t)be_get32(at + 30);
        if (pid < 0 || n < 0 || n > BRK_PSTATE_BATCHES_MAX || find_index(ps, pid) >= 0)
            goto err_decode;
        pos += PSTATE_ENTRY_BYTES;
        if ((in.len - pos) / PSTATE_META_BYTES < (size_t)n)
            goto err_decode;
        struct brk_pstate_entry *e = entry_add(ps, pid);
        if (!e) {
            brk_pstate_clear(ps);
            return ERR_LIMIT;
        }
        e->producer_epoch = (int16_t)be_get16(at + 8);
        e->coordinator_epoch = (int32_t)be_get32(at + 10);
        e->txn_first_offset = (int64_t)be_get64(at + 14);
        e->last_timestamp_ms = (int64_t)be_get64(at + 22);
        e->batch_count = n;
        for (int32_t k = 0; k < n; k++) {
            const uint8_t *m = p + pos;
            e->batches[k] = (struct brk_pstate_meta){ (int32_t)be_get32(m), (int32_t)be_get32(m + 4),
                                                      (int64_t)be_get64(m + 8), (int64_t)be_get64(m + 16),
                                                      (int64_t)be_get64(m + 24) };
            pos += PSTATE_META_BYTES;
        }
    }
    if (pos != in.len)
        goto err_decode;
    return 0;
err_decode:
    brk_pstate_clear(ps);
    return ERR_CORRUPT;
}
