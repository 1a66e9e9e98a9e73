/*
 * brk_fetcher.h - follower fetch sessions: this broker's replicas of
 * partitions led elsewhere fetch from their leaders here (Kafka's
 * ReplicaFetcherManager / AbstractFetcherThread, on the state thread's
 * libevent loop instead of threads).  Design: broker/README.md,
 * "Replication", "Follower fetch loop".
 *
 * num.replica.fetchers sessions per source broker; a partition is in
 * exactly one, chosen by a hash of (topic id, partition).  A session is one
 * TCP connection to the leader's endpoint for inter.broker.listener.name
 * (from the metadata image's registration) carrying Kafka Fetch v15 full
 * requests (session id 0, epoch -1), one in flight at a time; the next goes
 * out once every append of the previous response has completed.
 *
 * Per partition:
 *
 *          follow (new leader or epoch, or after a pause)
 *     ┌────────────────────────────────────────────┐
 *     ▼                                            │
 *   FETCHING ──NONE──► append (brk_replica_follower_append), then HW
 *     │  ▲ ──diverging epoch──► truncate once its appends are back, fetch again
 *     │  │ ──OFFSET_OUT_OF_RANGE below the leader's start──► reset, fetch again
 *     │  └──backoff (UNKNOWN_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER,
 *     │      UNKNOWN_TOPIC_ID: the leader has not applied the metadata yet;
 *     │      other errors; a failed append), as Kafka
 *     ▼
 *   PAUSED (FENCED_LEADER_EPOCH: the leader is in a newer epoch):
 *           waits for the metadata (the next brk_fetcher_follow)
 *
 * A connection failure or a malformed response closes the connection (logged
 * with the leader and the reason) and reconnects after replica.fetch.backoff.ms.
 * The loop never blocks: host names resolve through evdns.
 *
 * State thread only.
 */
#ifndef SAMSA_BRK_FETCHER_H
#define SAMSA_BRK_FETCHER_H

#include "common/err.h"

struct brk_ctx;
struct brk_part;
struct brk_fetcher;

/* brk_fetcher_create - no session yet (they start with the first follow).
 * -ENOMEM. */
MUST_CHECK int brk_fetcher_create(struct brk_ctx *ctx, struct brk_fetcher **out);

/*
 * brk_fetcher_follow - fetch part from part->replica->leader_id with
 * part->replica->leader_epoch: (re)place it in a session of that leader,
 * unpause it.  Idempotent.  A leader of -1 or this node means unfollow.
 * A response to a fetch sent with an older epoch is dropped for it.
 */
void brk_fetcher_follow(struct brk_fetcher *f, struct brk_part *part);

/* brk_fetcher_unfollow - stop fetching part (leadership moved here, the
 * partition closes).  Safe while a fetch or an append is in flight: the
 * response for it is dropped, the append completes without touching part. */
void brk_fetcher_unfollow(struct brk_fetcher *f, struct brk_part *part);

/* brk_fetcher_stop - shutdown: close every connection, send nothing more.
 * Appends in flight still complete (the caller drains the uring). */
void brk_fetcher_stop(struct brk_fetcher *f);

/* brk_fetcher_destroy - free everything; after brk_fetcher_stop and the
 * uring drain (no append of ours may be in flight).  NULL is a no-op. */
void brk_fetcher_destroy(struct brk_fetcher *f);

/* brk_fetcher_session_count - sessions open now (tests, metrics). */
int brk_fetcher_session_count(const struct brk_fetcher *f);

#endif
