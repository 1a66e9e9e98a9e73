/*
 * brk_fsession.h - the leader's fetch session cache (KIP-227, Kafka's
 * FetchSessionCache / FetchManager.newContext), pure and I/O-free: time
 * comes in as monotonic nanoseconds.
 *
 * A fetcher (a follower, or a consumer speaking Fetch v13+) opens a session
 * with a full request (session_id 0, epoch 0); the answer names the session.
 * Its next requests are incremental (that id, epoch 1, 2, ...): they carry
 * only the partitions whose fetch state changed, and forget the ones it
 * stopped fetching; the leader fetches every partition of the session and
 * answers only those with news (records, an error, a moved high watermark
 * or log start).  Epoch -1 closes a session (a sessionless full fetch).
 *
 *   open(id, epoch):  epoch -1 -> drop id, sessionless
 *                     epoch  0 -> drop id, new session (none when full)
 *                     epoch >0 -> id unknown: FETCH_SESSION_ID_NOT_FOUND (70)
 *                                 epoch != expected: INVALID_FETCH_SESSION_EPOCH (71)
 *                                 else the session; expected epoch + 1
 *
 * Slots: `max.incremental.fetch.session.cache.slots`.  A new session takes a
 * free slot, else evicts the least recently used session idle for
 * BRK_FSESSION_EVICT_IDLE_NS (Kafka's min.incremental.fetch.session.eviction.ms),
 * else - a follower's only - the least recently used consumer session; else
 * the fetch goes on without one (session_id 0 in the answer, as Kafka).
 */
#ifndef BRK_FSESSION_H
#define BRK_FSESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

#define BRK_FSESSION_KERR_ID_NOT_FOUND 70
#define BRK_FSESSION_KERR_INVALID_EPOCH 71
#define BRK_FSESSION_EVICT_IDLE_NS (120LL * 1000000000LL)
#define BRK_FSESSION_NEVER_SENT (-2) /* sent_hw of a partition no answer carried yet */

/* One partition of a session: the fetch state the fetcher last sent, and
 * what the last answer carried. */
struct brk_fsession_part {
    uint8_t topic_id[16];
    int32_t partition;
    int32_t current_leader_epoch;
    int64_t fetch_offset;
    int32_t last_fetched_epoch;
    int64_t log_start_offset;
    int32_t partition_max_bytes;
    int64_t samsa_durable_offset; /* samsa.acks.all.fsync: the follower's last report (-1: none) */
    int64_t sent_hw;         /* BRK_FSESSION_NEVER_SENT until answered */
    int64_t sent_log_start;
};

struct brk_fsession {
    int32_t id;              /* 0: a free slot */
    int32_t epoch;           /* the next request's */
    bool privileged;         /* a follower's */
    int64_t used_ns;
    int32_t part_count, part_cap;
    struct brk_fsession_part *parts; /* grouped by topic: a topic's partitions sit together */
};

struct brk_fsession_cache {
    struct brk_fsession *slots;
    int32_t slot_count;
    uint32_t next_id;        /* ids go round from a seed; 0 is never one */
};

MUST_CHECK int brk_fsession_cache_init(struct brk_fsession_cache *c, int32_t slot_count, uint32_t seed);
void brk_fsession_cache_deinit(struct brk_fsession_cache *c);

/* Kafka's newContext (the table above).  Returns 0 or a Kafka error code;
 * *out is the session (NULL: sessionless).  A new session is empty. */
int16_t brk_fsession_open(struct brk_fsession_cache *c, int32_t session_id, int32_t epoch, bool privileged,
                          int64_t now_ns, struct brk_fsession **out);
/* The live session with this id, whatever its epoch (NULL: gone). */
struct brk_fsession *brk_fsession_find(struct brk_fsession_cache *c, int32_t session_id);
void brk_fsession_remove(struct brk_fsession_cache *c, int32_t session_id);
int32_t brk_fsession_count(const struct brk_fsession_cache *c);

/* Add or update a partition's fetch state (its sent_* are kept on update). */
MUST_CHECK int brk_fsession_part_set(struct brk_fsession *s, const struct brk_fsession_part *p);
void brk_fsession_part_forget(struct brk_fsession *s, const uint8_t topic_id[16], int32_t partition);
struct brk_fsession_part *brk_fsession_part_find(struct brk_fsession *s, const uint8_t topic_id[16],
                                                 int32_t partition);

/* Whether an answer for p must carry it (and records that it did): news
 * since the last answer, or never answered.  An incremental answer leaves
 * out the partitions for which this is false. */
bool brk_fsession_part_news(struct brk_fsession_part *p, int64_t hw, int64_t log_start, bool records_or_error);

#endif
