/*
 * raft_log.c - the log view (stable store + unstable tail).  See raft_log.h.
 * Every lookup is O(1) in the tail and one vtable call in the stable store.
 */
#include "raft/raft_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

int raft_log_init(struct raft_log *log, const struct raft_storage *st, uint32_t entries_max,
                  uint32_t bytes_max)
{
    memset(log, 0, sizeof *log);
    log->st = *st;
    log->trunc_limit = UINT64_MAX;
    log->unstable = calloc(entries_max, sizeof *log->unstable);
    log->bytes = malloc(bytes_max ? bytes_max : 1);
    if (!log->unstable || !log->bytes) {
        raft_log_deinit(log);
        return -ENOMEM;
    }
    log->unstable_max = entries_max;
    log->bytes_max = bytes_max;
    return 0;
}

void raft_log_deinit(struct raft_log *log)
{
    free(log->unstable);
    free(log->bytes);
    log->unstable = NULL;
    log->bytes = NULL;
}

void raft_log_snapshot_get(const struct raft_log *log, struct raft_snapshot_id *out)
{
    log->st.snapshot(log->st.ctx, out);
}

static uint64_t raft_log_stable_last(const struct raft_log *log)
{
    uint64_t last = log->st.last_index(log->st.ctx);
    return last < log->trunc_limit ? last : log->trunc_limit;
}

uint64_t raft_log_last_index(const struct raft_log *log)
{
    if (log->unstable_count > 0)
        return log->unstable_first + log->unstable_count - 1;
    return raft_log_stable_last(log);
}

int raft_log_epoch_at(const struct raft_log *log, uint64_t index, uint64_t *epoch)
{
    if (index == 0) {
        *epoch = 0;
        return 0;
    }
    if (log->unstable_count > 0 && index >= log->unstable_first) {
        if (index >= log->unstable_first + log->unstable_count)
            return ERR_NOT_FOUND;
        *epoch = log->unstable[index - log->unstable_first].epoch;
        return 0;
    }
    struct raft_snapshot_id snap;
    raft_log_snapshot_get(log, &snap);
    if (index == snap.index) {
        *epoch = snap.epoch;
        return 0;
    }
    if (index < snap.index || index > raft_log_stable_last(log))
        return ERR_NOT_FOUND;
    struct raft_entry e;
    uint32_t n = 0;
    int rc = log->st.entries(log->st.ctx, index, index, &e, 1, &n);
    if (rc < 0)
        return rc;
    if (n != 1)
        return ERR_NOT_FOUND;
    *epoch = e.epoch;
    return 0;
}

uint64_t raft_log_last_epoch(const struct raft_log *log)
{
    uint64_t epoch = 0;
    int rc = raft_log_epoch_at(log, raft_log_last_index(log), &epoch);
    ASSERT(rc == 0);
    return epoch;
}

int raft_log_entries(const struct raft_log *log, uint64_t lo, uint64_t hi, struct raft_entry *out,
                     uint32_t count_max, uint32_t *count)
{
    *count = 0;
    uint64_t last = raft_log_last_index(log);
    if (hi > last)
        hi = last;
    if (lo > hi)
        return 0;
    struct raft_snapshot_id snap;
    raft_log_snapshot_get(log, &snap);
    if (lo <= snap.index)
        return ERR_NOT_FOUND;
    uint64_t stable_last = raft_log_stable_last(log);
    if (log->unstable_count > 0 && log->unstable_first - 1 < stable_last)
        stable_last = log->unstable_first - 1;
    uint32_t n = 0;
    if (lo <= stable_last) {
        uint64_t shi = hi < stable_last ? hi : stable_last;
        int rc = log->st.entries(log->st.ctx, lo, shi, out, count_max, &n);
        if (rc < 0)
            return rc;
        if (n < count_max && n != shi - lo + 1)
            return ERR_NOT_FOUND;
        lo += n;
    }
    while (n < count_max && lo <= hi) {
        ASSERT(log->unstable_count > 0 && lo >= log->unstable_first);
        out[n++] = log->unstable[lo - log->unstable_first];
        lo++;
    }
    *count = n;
    return 0;
}

int raft_log_append(struct raft_log *log, uint64_t epoch, uint32_t type, struct bytes data,
                    uint64_t *index_out)
{
    if (log->unstable_count >= log->unstable_max)
        return ERR_LIMIT;
    if (data.len > log->bytes_max - log->bytes_used)
        return ERR_LIMIT;
    uint64_t index = raft_log_last_index(log) + 1;
    if (log->unstable_count == 0)
        log->unstable_first = index;
    struct raft_entry *e = &log->unstable[log->unstable_count++];
    e->index = index;
    e->epoch = epoch;
    e->type = type;
    uint8_t *dst = log->bytes + log->bytes_used;
    if (data.len > 0)
        memcpy(dst, data.ptr, data.len);
    e->data = bytes_make(dst, data.len);
    log->bytes_used += (uint32_t)data.len;
    if (index_out)
        *index_out = index;
    return 0;
}

void raft_log_truncate(struct raft_log *log, uint64_t after)
{
    if (after >= raft_log_last_index(log))
        return;
    if (log->unstable_count > 0 && after + 1 >= log->unstable_first) {
        uint32_t keep = (uint32_t)(after + 1 - log->unstable_first);
        ASSERT(keep < log->unstable_count);
        log->bytes_used = (uint32_t)(log->unstable[keep].data.ptr - log->bytes);
        log->unstable_count = keep;
        return;
    }
    log->unstable_count = 0;
    log->bytes_used = 0;
    if (after < log->trunc_limit)
        log->trunc_limit = after;
}

bool raft_log_trunc_pending(const struct raft_log *log, uint64_t *after)
{
    if (log->trunc_limit == UINT64_MAX || log->st.last_index(log->st.ctx) <= log->trunc_limit)
        return false;
    *after = log->trunc_limit;
    return true;
}

void raft_log_stable(struct raft_log *log)
{
    uint64_t last = raft_log_last_index(log);
    log->unstable_count = 0;
    log->bytes_used = 0;
    log->trunc_limit = UINT64_MAX;
    /* the driver must have done exactly what the ready said */
    ASSERT(log->st.last_index(log->st.ctx) == last);
}

void raft_log_reset(struct raft_log *log)
{
    log->unstable_count = 0;
    log->bytes_used = 0;
    log->trunc_limit = UINT64_MAX;
}
