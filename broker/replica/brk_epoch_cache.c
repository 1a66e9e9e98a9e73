/*
 * brk_epoch_cache.c - the leader-epoch cache (see brk_epoch_cache.h).
 *
 * A sorted array: a partition sees few leader changes, lookups are binary
 * searches, and changes happen at the end (assign, truncate_from_end) or
 * at the start (truncate_from_start).
 */
#include "broker/replica/brk_epoch_cache.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/brk_ckpt.h"
#include "common/log.h"

static void brk_epoch_cache_check(const struct brk_epoch_cache *c)
{
    ASSERT(c->count >= 0);
    ASSERT(c->count <= c->cap);
    for (int32_t i = 0; i < c->count; i++) {
        DEBUG_ASSERT(c->entries[i].epoch >= 0 && c->entries[i].start_offset >= 0);
        if (i > 0) {
            DEBUG_ASSERT(c->entries[i].epoch > c->entries[i - 1].epoch);
            DEBUG_ASSERT(c->entries[i].start_offset > c->entries[i - 1].start_offset);
        }
    }
}

void brk_epoch_cache_init(struct brk_epoch_cache *c)
{
    memset(c, 0, sizeof *c);
}

void brk_epoch_cache_deinit(struct brk_epoch_cache *c)
{
    free(c->entries);
    memset(c, 0, sizeof *c);
}

static int brk_epoch_cache_reserve(struct brk_epoch_cache *c, int32_t need)
{
    if (need <= c->cap)
        return 0;
    if (need > BRK_EPOCH_CACHE_ENTRIES_MAX)
        return ERR_LIMIT;
    int32_t cap = c->cap ? c->cap : 8;
    while (cap < need)
        cap = cap > BRK_EPOCH_CACHE_ENTRIES_MAX / 2 ? BRK_EPOCH_CACHE_ENTRIES_MAX : cap * 2;
    struct brk_epoch_entry *e = realloc(c->entries, (size_t)cap * sizeof *e);
    if (e == NULL)
        return -ENOMEM;
    c->entries = e;
    c->cap = cap;
    return 0;
}

int brk_epoch_cache_assign(struct brk_epoch_cache *c, int32_t epoch, int64_t start_offset, bool *changed)
{
    if (changed)
        *changed = false;
    if (epoch < 0 || start_offset < 0)
        return ERR_INVALID;
    if (c->count > 0) {
        const struct brk_epoch_entry *last = &c->entries[c->count - 1];
        if (last->epoch == epoch && start_offset >= last->start_offset)
            return 0; /* Kafka's !isUpdateNeeded */
    }
    /* maybeTruncateNonMonotonicEntries: cut what the new entry contradicts */
    int32_t keep = c->count;
    while (keep > 0 && (c->entries[keep - 1].epoch >= epoch || c->entries[keep - 1].start_offset >= start_offset))
        keep--;
    int rc = brk_epoch_cache_reserve(c, keep + 1);
    if (rc != 0)
        return rc;
    if (keep < c->count - 1 || (keep == c->count - 1 && c->entries[keep].start_offset != start_offset))
        log_warn("epoch_cache",
                 "new leader epoch entry cut conflicting entries epoch=%" PRId32 " start_offset=%" PRId64
                 " removed=%" PRId32,
                 epoch, start_offset, c->count - keep);
    c->entries[keep] = (struct brk_epoch_entry){ epoch, start_offset };
    c->count = keep + 1;
    if (changed)
        *changed = true;
    brk_epoch_cache_check(c);
    return 0;
}

int32_t brk_epoch_cache_latest_epoch(const struct brk_epoch_cache *c)
{
    return c->count ? c->entries[c->count - 1].epoch : BRK_EPOCH_UNDEFINED;
}

/* Index of the first entry whose epoch (by_epoch) or start offset is > key;
 * c->count if none. */
static int32_t brk_epoch_cache_upper(const struct brk_epoch_cache *c, int64_t key, bool by_epoch)
{
    int32_t lo = 0, hi = c->count;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int64_t v = by_epoch ? c->entries[mid].epoch : c->entries[mid].start_offset;
        if (v > key)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

int32_t brk_epoch_cache_epoch_for_offset(const struct brk_epoch_cache *c, int64_t offset)
{
    int32_t lo = brk_epoch_cache_upper(c, offset, false); /* first entry starting after offset */
    return lo == 0 ? BRK_EPOCH_UNDEFINED : c->entries[lo - 1].epoch;
}

void brk_epoch_cache_end_offset_for(const struct brk_epoch_cache *c, int32_t requested_epoch,
                                    int64_t log_end_offset, int32_t *epoch_out, int64_t *end_offset_out)
{
    *epoch_out = BRK_EPOCH_UNDEFINED;
    *end_offset_out = BRK_EPOCH_OFFSET_UNDEFINED;
    if (requested_epoch == BRK_EPOCH_UNDEFINED)
        return;
    if (c->count > 0 && c->entries[c->count - 1].epoch == requested_epoch) {
        *epoch_out = requested_epoch;
        *end_offset_out = log_end_offset;
        return;
    }
    int32_t higher = brk_epoch_cache_upper(c, requested_epoch, true);
    if (higher == c->count)
        return; /* larger than every known epoch */
    if (higher == 0) {
        /* smaller than every known epoch: the first epoch's start (may be
         * inaccurate if older epochs were removed from the log) */
        *epoch_out = requested_epoch;
        *end_offset_out = c->entries[0].start_offset;
        return;
    }
    *epoch_out = c->entries[higher - 1].epoch;
    *end_offset_out = c->entries[higher].start_offset;
}

void brk_epoch_cache_truncate_from_end(struct brk_epoch_cache *c, int64_t end_offset, bool *changed)
{
    if (changed)
        *changed = false;
    if (end_offset < 0)
        return;
    int32_t keep = c->count;
    while (keep > 0 && c->entries[keep - 1].start_offset >= end_offset)
        keep--;
    if (keep != c->count && changed)
        *changed = true;
    c->count = keep;
    brk_epoch_cache_check(c);
}

void brk_epoch_cache_truncate_from_start(struct brk_epoch_cache *c, int64_t start_offset, bool *changed)
{
    if (changed)
        *changed = false;
    int32_t removed = 0;
    while (removed < c->count && c->entries[removed].start_offset <= start_offset)
        removed++;
    if (removed == 0)
        return;
    /* the latest entry at or before start_offset now starts there */
    struct brk_epoch_entry first = { c->entries[removed - 1].epoch, start_offset };
    memmove(&c->entries[1], &c->entries[removed], (size_t)(c->count - removed) * sizeof c->entries[0]);
    c->entries[0] = first;
    c->count -= removed - 1;
    if (changed)
        *changed = true;
    brk_epoch_cache_check(c);
}

bool brk_epoch_cache_diverging(const struct brk_epoch_cache *c, int64_t log_end_offset, int64_t fetch_offset,
                               int32_t last_fetched_epoch, int32_t *epoch_out, int64_t *end_offset_out)
{
    if (last_fetched_epoch < 0)
        return false;
    int32_t e;
    int64_t end;
    brk_epoch_cache_end_offset_for(c, last_fetched_epoch, log_end_offset, &e, &end);
    if (e < last_fetched_epoch || end < fetch_offset) {
        *epoch_out = e;
        *end_offset_out = end;
        return true;
    }
    return false;
}

static int64_t brk_epoch_min(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

void brk_epoch_cache_truncation(const struct brk_epoch_cache *c, int64_t log_end_offset, int64_t high_watermark,
                                int32_t leader_epoch, int64_t leader_end_offset, struct brk_epoch_truncation *out)
{
    ASSERT(log_end_offset >= 0);
    ASSERT(high_watermark >= 0);
    out->done = true;
    if (leader_end_offset == BRK_EPOCH_OFFSET_UNDEFINED) {
        out->offset = brk_epoch_min(high_watermark, log_end_offset);
    } else if (leader_epoch == BRK_EPOCH_UNDEFINED) {
        out->offset = brk_epoch_min(leader_end_offset, log_end_offset);
    } else {
        int32_t fe;
        int64_t fo;
        brk_epoch_cache_end_offset_for(c, leader_epoch, log_end_offset, &fe, &fo);
        if (fo == BRK_EPOCH_OFFSET_UNDEFINED) {
            out->offset = brk_epoch_min(leader_end_offset, log_end_offset);
        } else if (fe != leader_epoch) {
            /* we do not know the leader's epoch: cut to the end of our
             * largest older one and ask again with it */
            out->offset = brk_epoch_min(fo, log_end_offset);
            out->done = false;
        } else {
            out->offset = brk_epoch_min(brk_epoch_min(fo, leader_end_offset), log_end_offset);
        }
    }
    if (out->offset < 0)
        out->offset = 0;
    out->below_hw = out->offset < high_watermark && out->offset < log_end_offset;
    ASSERT(out->offset <= log_end_offset);
}

int brk_epoch_cache_encode(const struct brk_epoch_cache *c, struct buf *out)
{
    char line[64];
    int n = snprintf(line, sizeof line, "0\n%" PRId32 "\n", c->count);
    ASSERT(n > 0 && (size_t)n < sizeof line);
    int rc = buf_append(out, line, (size_t)n);
    for (int32_t i = 0; rc == 0 && i < c->count; i++) {
        n = snprintf(line, sizeof line, "%" PRId32 " %" PRId64 "\n", c->entries[i].epoch,
                     c->entries[i].start_offset);
        ASSERT(n > 0 && (size_t)n < sizeof line);
        rc = buf_append(out, line, (size_t)n);
    }
    return rc;
}

int brk_epoch_cache_decode(struct brk_epoch_cache *c, struct bytes in, int *line_out)
{
    const char *buf = (const char *)in.ptr;
    size_t pos = 0;
    int line = 1;
    const char *s, *e;
    int64_t version, count;
    struct brk_epoch_cache tmp;
    brk_epoch_cache_init(&tmp);
    int rc = ERR_CORRUPT;
    if (!brk_ckpt_parse_line(buf, in.len, &pos, &s, &e) || !brk_ckpt_parse_num(s, e, 0, 0, &version))
        goto err_decode;
    line++;
    if (!brk_ckpt_parse_line(buf, in.len, &pos, &s, &e) || !brk_ckpt_parse_num(s, e, 0, INT32_MAX, &count))
        goto err_decode;
    if (count > BRK_EPOCH_CACHE_ENTRIES_MAX) {
        rc = ERR_LIMIT;
        goto err_decode;
    }
    rc = brk_epoch_cache_reserve(&tmp, (int32_t)count);
    if (rc != 0)
        goto err_decode;
    rc = ERR_CORRUPT;
    for (int64_t k = 0; k < count; k++) {
        line++;
        if (!brk_ckpt_parse_line(buf, in.len, &pos, &s, &e))
            goto err_decode;
        const char *sp = memchr(s, ' ', (size_t)(e - s));
        int64_t epoch, off;
        if (sp == NULL || !brk_ckpt_parse_num(s, sp, 0, INT32_MAX, &epoch) ||
            !brk_ckpt_parse_num(sp + 1, e, 0, INT64_MAX, &off))
            goto err_decode;
        if (k > 0 && (epoch <= tmp.entries[k - 1].epoch || off <= tmp.entries[k - 1].start_offset))
            goto err_decode;
        tmp.entries[k] = (struct brk_epoch_entry){ (int32_t)epoch, off };
        tmp.count = (int32_t)k + 1;
    }
    if (pos != in.len) {
        line++;
        goto err_decode;
    }
    brk_epoch_cache_deinit(c);
    *c = tmp;
    brk_epoch_cache_check(c);
    return 0;

err_decode:
    brk_epoch_cache_deinit(&tmp);
    if (line_out)
        *line_out = line;
    return rc;
}
