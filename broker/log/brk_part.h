/*
 * brk_part.h - the broker's table of local partitions.
 *
 * A partition is local when the metadata image lists this node among its
 * replicas.  The table follows the image: brk_parts_apply() is called for
 * every committed metadata record, brk_parts_reconcile() once after replay.
 * Each local partition owns its brk_plog under one of log.dirs (the one
 * holding it already, else the one with the fewest partitions, like Kafka).
 *
 * Deleted topics: the directory is renamed to <topic>-<p>.<id>-delete at
 * once and removed once the log has closed (brk_plog_close: no wait for
 * other partitions' I/O), as Kafka does; a stray directory found at start
 * that the image does not know is removed the same way.
 */
#ifndef SAMSA_BRK_PART_H
#define SAMSA_BRK_PART_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/log/brk_plog.h"
#include "broker/log/brk_pstate.h"
#include "controller/ctrl_image.h"

struct brk_ctx;

/* What happened to a partition, for its waiters. */
enum brk_part_event {
    BRK_PART_APPENDED = 1,   /* the log end moved forward (an append completed) */
    BRK_PART_CHANGED,        /* leadership, epoch or replicas changed (a metadata record) */
    BRK_PART_GONE,           /* the partition is being closed here (topic deleted, replica moved) */
    BRK_PART_HW,             /* the high watermark moved forward (replication) */
};

struct brk_part_waiter;
/* Called on the state thread for every event while w is linked; it may
 * unlink w or any other waiter, and park new ones (those hear the next
 * event).  `round` is unique per notification across all partitions: an
 * owner linked to one partition twice sees the same round twice. */
typedef void (*brk_part_wake_fn)(struct brk_part_waiter *w, enum brk_part_event ev, uint64_t round);

/* One party waiting for news on one partition: a parked Fetch now, acks=all
 * produces and follower fetches with partition replication.  The waiter
 * owns the node (a request's arena); the partition only links it and calls
 * its wake function.  Wake-ups come from the partition (brk_part_notify,
 * from the log's advance and from metadata), never from handlers. */
struct brk_part_waiter {
    struct brk_part_waiter *prev, *next;
    struct brk_part *part;   /* NULL: not linked */
    void *owner;
    brk_part_wake_fn wake;
};

struct brk_part {
    uint8_t topic_id[16];
    char topic[CTRL_TOPIC_NAME_BYTES_MAX + 1];
    int32_t partition;
    int log_dir_index;
    char dir[PATH_MAX];
    struct brk_plog *plog;
    struct brk_pstate *pstate;      /* idempotent producers (brk_pstate), rebuilt at open by brk_pstore */
    int32_t leader_epoch;
    bool is_leader;
    int32_t max_message_bytes;      /* max.message.bytes */
    bool log_append_time;           /* message.timestamp.type=LogAppendTime */
    int32_t min_insync_replicas;    /* min.insync.replicas */
    bool acks_all_fsync;            /* samsa.acks.all.fsync (topic, else broker) */
    struct brk_plog_config pcfg;    /* effective topic config */
    struct brk_part_waiter *waiters; /* parties to tell about appends and changes */
    struct brk_part_waiter *notify_next; /* brk_part_notify's cursor (unwait advances it) */
    bool notifying;
    uint32_t notify_again;          /* events raised by a wake function: one more round each */
    int64_t high_watermark;         /* set only by brk_replica_set_high_watermark */
    struct brk_replica *replica;    /* the replication role (broker/replica), owned there */
    struct brk_parts *table;        /* the table holding it */
    struct brk_parts *closing_in;   /* removed from this table, its log closing; else NULL */
};

/* brk_part_wait - link w (owned by the caller) to part's waiters. */
void brk_part_wait(struct brk_part *part, struct brk_part_waiter *w, void *owner, brk_part_wake_fn wake);
/* brk_part_unwait - unlink w if it is linked; safe to call twice. */
void brk_part_unwait(struct brk_part_waiter *w);
/* brk_part_notify - call every waiter linked now, each once, newest first.
 * Raised from inside a wake function of the same partition (a follower fetch
 * woken by an append moves the HW), the event is queued and delivered in
 * another round once the current one ends: every waiter hears every event. */
void brk_part_notify(struct brk_part *part, enum brk_part_event ev);

struct brk_parts;
struct brk_replica;

/* What the partition table tells the module above it (the replication role,
 * broker/replica; wired by brk_server so that log/ never calls up): a
 * partition opened (after its log), its committed state changed, its log
 * end moved (before the waiters hear APPENDED), or it is about to close. */
struct brk_parts_hooks {
    void (*opened)(void *arg, struct brk_part *p, const struct ctrl_partition *cp);
    void (*state)(void *arg, struct brk_part *p, const struct ctrl_partition *cp);
    void (*advanced)(void *arg, struct brk_part *p, int64_t end_offset);
    void (*closing)(void *arg, struct brk_part *p);
    /* p's config was recomputed (a topic or dynamic broker config committed):
     * the replication state picks up min.insync.replicas and
     * samsa.acks.all.fsync at once, not at the next leadership change */
    void (*reconfigured)(void *arg, struct brk_part *p);
    void *arg;
};

MUST_CHECK int brk_parts_create(struct brk_ctx *srv, struct brk_parts **out);
void brk_parts_destroy(struct brk_parts *parts);
/* brk_parts_set_hooks - before the first partition opens. */
void brk_parts_set_hooks(struct brk_parts *parts, const struct brk_parts_hooks *hooks);
/* brk_parts_roles_hold - before the first partition opens: partitions open
 * and follow the image, but none leads (is_leader false, so Produce, Fetch,
 * ListOffsets and OffsetForLeaderEpoch answer NOT_LEADER_OR_FOLLOWER) and
 * the hooks hear no state (opened gets cp NULL: no role, no fetcher) until
 * brk_parts_roles_release.  The broker's start-up gate (brk_lifecycle). */
void brk_parts_roles_hold(struct brk_parts *parts);
bool brk_parts_roles_held(const struct brk_parts *parts);
/* brk_parts_roles_release - every open partition takes the state img shows
 * now (hooks.state, then CHANGED to its waiters); later records apply one by
 * one as before.  Returns how many partitions this node leads. */
int32_t brk_parts_roles_release(struct brk_parts *parts, const struct ctrl_image *img);

struct brk_part *brk_parts_find(const struct brk_parts *parts, const uint8_t topic_id[16], int32_t partition);
/* brk_parts_find_name - through the image: topic name -> id -> partition. */
struct brk_part *brk_parts_find_name(const struct brk_parts *parts, const struct ctrl_image *img, const char *name,
                                     size_t len, int32_t partition);
int32_t brk_parts_count(const struct brk_parts *parts);
struct brk_part *brk_parts_at(const struct brk_parts *parts, int32_t index);

/* brk_parts_apply - follow one committed record (open, reconfigure, delete). */
void brk_parts_apply(struct brk_parts *parts, const struct ctrl_image *img, const Samsa__MetadataRecord *rec);
/* brk_parts_reconfigure - broker-level defaults changed (a dynamic broker
 * config): recompute every open partition's config from its topic's
 * overrides and the broker's current defaults. */
void brk_parts_reconfigure(struct brk_parts *parts, const struct ctrl_image *img);
/* brk_parts_reconcile - after replay: open every local partition of the image
 * and remove directories the image no longer knows.  Blocks (recovery). */
MUST_CHECK int brk_parts_reconcile(struct brk_parts *parts, const struct ctrl_image *img);

/* brk_parts_checkpoint - write log-start-offset-checkpoint in every log dir. */
MUST_CHECK int brk_parts_checkpoint(struct brk_parts *parts);

/* brk_part_high_watermark - the committed end (consumers read below it). */
int64_t brk_part_high_watermark(const struct brk_part *part);

/* brk_part_producers_observe - batches were appended to part's log (whole
 * v2 batches carrying their assigned offsets): fold them into its producer
 * state.  The leader calls it right after brk_plog_append*, a follower
 * after appending replicated bytes, so every replica holds the same state.
 * A problem (too many producers, malformed bytes) is logged, never fatal:
 * the log is the truth and the next open rebuilds from it. */
void brk_part_producers_observe(struct brk_part *part, const uint8_t *batches, size_t len);
/* brk_part_producers_reload - rebuild the producer state from the newest
 * snapshot at or below the log end and the log after it: after the log was
 * cut (a follower's truncation), whose batches the state still holds.
 * Blocks (reads headers).  0 or a read error. */
MUST_CHECK int brk_part_producers_reload(struct brk_part *part);

#endif
