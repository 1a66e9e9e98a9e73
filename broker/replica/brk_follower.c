/*
 * brk_follower.c - the follower half of a partition's replication role
 * (brk_replica.h, "Follower side"): what the next fetch asks for, appending
 * the leader's batches byte for byte, following the leader's high
 * watermark, truncating a divergent suffix (KIP-101/279/320) and starting
 * the log afresh at the leader's log start (Kafka's
 * truncateFullyAndStartAt).
 *
 * The decisions are the pure brk_epoch_cache's; this file applies them to
 * the partition's log (brk_plog) and tells brk_replica when the epoch cache
 * changed (brk_replica_epochs_changed rewrites leader-epoch-checkpoint).
 * The fetch sessions that call these live in brk_fetcher.c.
 *
 * Invariants: the epoch cache never names an epoch start beyond what was
 * handed to the log (assigned at append, cut at truncation/reset); the HW
 * never passes the log end.
 *
 * With samsa.acks.all.fsync on for the partition, each written append
 * starts the log's group commit (brk_plog_sync) and is reported complete at
 * once, so the next fetch goes out with the new log end (the HW moves at
 * Kafka's pace) while the sync runs; fetches report the log's durable
 * offset (samsa_durable_offset), and while a sync is pending they ask the
 * leader not to park them long (brk_replica_durable_pending), so the one
 * after the sync reports it promptly.
 *
 * Not here: the wire, sessions, the leader side (brk_replica.c).
 * State thread only.  Truncation and reset block on file-system calls.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "broker/log/brk_batch.h"
#include "broker/log/brk_part.h"
#include "broker/log/brk_plog.h"
#include "broker/replica/brk_replica.h"
#include "common/clock.h"
#include "common/log.h"

void brk_replica_fetch_position(const struct brk_part *part, int64_t *fetch_offset, int32_t *last_fetched_epoch)
{
    const struct brk_replica *r = part->replica;
    ASSERT(r != NULL);
    *fetch_offset = brk_plog_next_offset(part->plog);
    *last_fetched_epoch = brk_epoch_cache_latest_epoch(&r->epochs);
}

int64_t brk_replica_durable_offset(const struct brk_part *part)
{
    return part->acks_all_fsync ? brk_plog_durable_offset(part->plog) : -1;
}

bool brk_replica_durable_pending(const struct brk_part *part)
{
    const struct brk_plog *pl = part->plog;
    return part->acks_all_fsync && brk_plog_offline_err(pl) == 0 &&
           brk_plog_durable_offset(pl) < brk_plog_end_offset(pl);
}

/* One follower append on its way to the log, then its group commit (its
 * own allocation, one per partition per fetch response: the log may answer
 * after the partition's replica state is gone).  The sync's outcome needs
 * no callback: the durable offset is the log's, a failure takes it offline. */
struct follower_sync {
    struct brk_plog *pl;
    struct brk_plog_sync_req req;
    brk_replica_append_cb cb;
    void *arg;
};

static void follower_synced_cb(void *arg, int rc, int64_t durable_offset)
{
    (void)rc;
    (void)durable_offset;
    free(arg);
}

/* Start the group commit of what the log holds now; fs is then the sync's. */
static void follower_sync_start(struct follower_sync *fs)
{
    if (brk_plog_sync(fs->pl, &fs->req, follower_synced_cb, fs) != 0)
        free(fs); /* durable already, or the log is offline */
}

static void follower_written_cb(void *arg, int rc)
{
    struct follower_sync *fs = arg;
    brk_replica_append_cb cb = fs->cb;
    void *cb_arg = fs->arg;
    if (rc == 0)
        follower_sync_start(fs);
    else
        free(fs);
    cb(cb_arg, rc); /* the next fetch may go out now: it reports the new log end */
}

void brk_replica_follower_sync(struct brk_part *part)
{
    if (!part->acks_all_fsync)
        return;
    struct follower_sync *fs = calloc(1, sizeof *fs);
    if (fs == NULL)
        return; /* the next append syncs it all */
    fs->pl = part->plog;
    follower_sync_start(fs);
}

/* Assign every new epoch the batches start (headers only; the log checks
 * CRCs).  *changed says whether the cache moved. */
static int brk_follower_assign_epochs(struct brk_part *part, struct bytes batches, bool *changed)
{
    struct brk_replica *r = part->replica;
    *changed = false;
    for (size_t pos = 0; pos < batches.len;) {
        struct brk_batch_hdr h;
        int rc = brk_batch_parse(batches.ptr + pos, batches.len - pos, &h);
        if (rc <= 0 || h.size_bytes > batches.len - pos)
            return ERR_CORRUPT;
        if (h.leader_epoch >= 0 && h.leader_epoch > brk_epoch_cache_latest_epoch(&r->epochs)) {
            bool c = false;
            rc = brk_epoch_cache_assign(&r->epochs, h.leader_epoch, h.base_offset, &c);
            if (rc < 0)
                return rc;
            *changed |= c;
        }
        pos += h.size_bytes;
    }
    return 0;
}

static int follower_plog_append(struct brk_plog *pl, struct bytes batches, uint8_t *borrowed, brk_plog_append_cb cb,
                                void *arg)
{
    if (borrowed != NULL)
        return brk_plog_append_replica_borrowed(pl, borrowed, batches.len, clock_wall_ms(), cb, arg);
    return brk_plog_append_replica(pl, batches, clock_wall_ms(), cb, arg);
}

static int follower_append(struct brk_part *part, struct bytes batches, uint8_t *borrowed, brk_replica_append_cb cb,
                           void *arg)
{
    struct brk_replica *r = part->replica;
    ASSERT(r != NULL);
    ASSERT(cb != NULL);
    struct brk_plog *pl = part->plog;
    struct brk_batch_hdr first;
    int rc = brk_batch_parse(batches.ptr, batches.len, &first);
    if (rc <= 0 || first.size_bytes > batches.len) {
        log_warn("follower", "leader sent a malformed batch topic=%s partition=%d leader=%d bytes=%zu; fetching again",
                 part->topic, part->partition, r->leader_id, batches.len);
        return ERR_CORRUPT;
    }
    int64_t next = brk_plog_next_offset(pl);
    if (first.base_offset < next && first.base_offset + first.last_offset_delta >= next &&
        brk_plog_start_offset(pl) == next && brk_plog_end_offset(pl) == next) {
        /* An empty log started mid-batch (DeleteRecords on the leader moved
         * its log start inside a batch): start at the batch, as Kafka does. */
        rc = brk_plog_reset_to(pl, first.base_offset);
        if (rc < 0)
            return rc;
        log_info("follower", "empty log moved back to the leader's batch topic=%s partition=%d start_offset=%" PRId64,
                 part->topic, part->partition, first.base_offset);
    }
    if (first.base_offset != brk_plog_next_offset(pl)) {
        log_warn("follower", "leader's batches do not start at our log end topic=%s partition=%d leader=%d "
                 "first_offset=%" PRId64 " log_end=%" PRId64 "; fetching again",
                 part->topic, part->partition, r->leader_id, first.base_offset, brk_plog_next_offset(pl));
        return ERR_INVALID;
    }
    struct follower_sync *fs = NULL;
    if (part->acks_all_fsync && (fs = calloc(1, sizeof *fs)) != NULL) {
        *fs = (struct follower_sync){ .pl = pl, .cb = cb, .arg = arg };
        rc = follower_plog_append(pl, batches, borrowed, follower_written_cb, fs);
        if (rc < 0)
            free(fs);
    } else {
        rc = follower_plog_append(pl, batches, borrowed, cb, arg); /* no memory: the next append syncs */
    }
    if (rc < 0) {
        if (rc == ERR_CORRUPT || rc == ERR_INVALID)
            log_warn("follower", "leader's batches refused topic=%s partition=%d leader=%d offset=%" PRId64
                     " bytes=%zu error=\"%s\"; fetching again",
                     part->topic, part->partition, r->leader_id, first.base_offset, batches.len, err_str(rc));
        return rc;
    }
    /* queued: the log holds these batches from now on (a failed write takes
     * the log offline; re-appending the same batches assigns nothing new).
     * Their producers' sequences go into this replica's producer state too,
     * so that a retried batch is still a duplicate once it leads. */
    brk_part_producers_observe(part, batches.ptr, batches.len);
    bool changed = false;
    rc = brk_follower_assign_epochs(part, batches, &changed);
    ASSERT(rc != ERR_CORRUPT); /* the log checked the framing */
    if (rc < 0)
        log_error("follower", "leader epoch cache not updated topic=%s partition=%d error=\"%s\"; "
                  "leader-epoch-checkpoint is rebuilt from the log at the next start",
                  part->topic, part->partition, err_str(rc));
    if (changed)
        brk_replica_epochs_changed(part);
    return 0;
}

int brk_replica_follower_append(struct brk_part *part, struct bytes batches, brk_replica_append_cb cb, void *arg)
{
    return follower_append(part, batches, NULL, cb, arg);
}

int brk_replica_follower_append_borrowed(struct brk_part *part, uint8_t *batches, size_t len, brk_replica_append_cb cb,
                                         void *arg)
{
    ASSERT(batches != NULL);
    return follower_append(part, bytes_make(batches, len), batches, cb, arg);
}

void brk_replica_follower_hw(struct brk_part *part, int64_t leader_hw)
{
    if (leader_hw < 0)
        return;
    part->replica->leader_hw_seen = leader_hw;
    int64_t end = brk_plog_end_offset(part->plog);
    brk_replica_set_high_watermark(part, leader_hw < end ? leader_hw : end);
}

int64_t brk_replica_follower_lag(const struct brk_part *part)
{
    const struct brk_replica *r = part->replica;
    if (r == NULL || r->role != BRK_REPLICA_FOLLOWER)
        return 0;
    if (r->leader_hw_seen < 0)
        return -1;
    int64_t lag = r->leader_hw_seen - brk_plog_end_offset(part->plog);
    return lag > 0 ? lag : 0;
}

/* The log was cut: the producer state forgets the batches it lost. */
static void follower_producers_reload(struct brk_part *part)
{
    int rc = brk_part_producers_reload(part);
    if (rc < 0)
        log_error("follower", "producer state not rebuilt after a truncation topic=%s partition=%d error=\"%s\"; "
                  "a retried idempotent batch may be refused until the next restart rebuilds it from the log",
                  part->topic, part->partition, err_str(rc));
}

int brk_replica_follower_truncate(struct brk_part *part, int32_t leader_epoch, int64_t leader_end_offset,
                                  bool *done)
{
    struct brk_replica *r = part->replica;
    ASSERT(r != NULL);
    struct brk_plog *pl = part->plog;
    int64_t end = brk_plog_end_offset(pl);
    int64_t hw = part->high_watermark < end ? part->high_watermark : end;
    if (hw < 0)
        hw = 0;
    struct brk_epoch_truncation t;
    brk_epoch_cache_truncation(&r->epochs, end, hw, leader_epoch, leader_end_offset, &t);
    *done = t.done;
    if (t.offset < brk_plog_start_offset(pl))
        t.offset = brk_plog_start_offset(pl);
    if (t.offset < end) {
        int rc = brk_plog_truncate_to(pl, t.offset);
        if (rc < 0) {
            if (rc != ERR_INVALID)
                log_error("follower", "cannot truncate the log topic=%s partition=%d to_offset=%" PRId64
                          " error=\"%s\"", part->topic, part->partition, t.offset, err_str(rc));
            return rc; /* ERR_INVALID: I/O still in flight, the caller retries */
        }
    }
    int64_t new_end = brk_plog_end_offset(pl);
    if (t.below_hw || new_end < part->high_watermark) {
        log_warn("follower", "TRUNCATED BELOW THE HIGH WATERMARK topic=%s partition=%d leader=%d diverging_epoch=%d "
                 "high_watermark=%" PRId64 " log_end_was=%" PRId64 " log_end_now=%" PRId64 " records_lost=%" PRId64
                 " cause=\"the leader's log lacks records this replica saw committed: only an unclean leader "
                 "election does this\" fix=\"check unclean.leader.election.enable and which broker was elected; "
                 "consumers may have read records that no longer exist\"",
                 part->topic, part->partition, r->leader_id, leader_epoch, part->high_watermark, end, new_end,
                 part->high_watermark - new_end);
        part->high_watermark = new_end; /* the one place the HW moves back: the log lost what it covered */
    } else if (new_end < end) {
        log_info("follower", "truncated divergent suffix topic=%s partition=%d leader=%d diverging_epoch=%d "
                 "from_offset=%" PRId64 " to_offset=%" PRId64 "%s",
                 part->topic, part->partition, r->leader_id, leader_epoch, end, new_end,
                 t.done ? "" : " (asking the leader again with the earlier epoch)");
    }
    bool changed = false;
    brk_epoch_cache_truncate_from_end(&r->epochs, new_end, &changed);
    if (changed)
        brk_replica_epochs_changed(part);
    if (new_end < end)
        follower_producers_reload(part);
    ASSERT(brk_plog_end_offset(pl) <= end);
    return 0;
}

int brk_replica_follower_reset(struct brk_part *part, int64_t leader_log_start)
{
    struct brk_replica *r = part->replica;
    ASSERT(r != NULL);
    struct brk_plog *pl = part->plog;
    int64_t end = brk_plog_end_offset(pl);
    if (leader_log_start < 0)
        return ERR_INVALID;
    int rc = brk_plog_reset_to(pl, leader_log_start);
    if (rc < 0) {
        if (rc != ERR_INVALID)
            log_error("follower", "cannot start the log at the leader's log start topic=%s partition=%d "
                      "start_offset=%" PRId64 " error=\"%s\"", part->topic, part->partition, leader_log_start,
                      err_str(rc));
        return rc;
    }
    log_warn("follower", "log outside the leader's: emptied and restarted topic=%s partition=%d leader=%d "
             "our_log_end=%" PRId64 " leader_log_start=%" PRId64
             " cause=\"the leader deleted records this replica had not fetched (retention, DeleteRecords)\"",
             part->topic, part->partition, r->leader_id, end, leader_log_start);
    /* Kafka clears the cache: the first batch fetched assigns its epoch */
    bool changed = false;
    brk_epoch_cache_truncate_from_end(&r->epochs, 0, &changed);
    if (changed)
        brk_replica_epochs_changed(part);
    follower_producers_reload(part);
    if (part->high_watermark > leader_log_start)
        part->high_watermark = leader_log_start; /* cannot be: it was at most our old end */
    brk_replica_set_high_watermark(part, leader_log_start);
    ASSERT(brk_plog_end_offset(pl) == leader_log_start);
    return 0;
}
