/*
 * brk_rthrottle.h - replication throttles (KIP-73), the broker's two
 * quotas and which replicas they apply to; Kafka's ReplicationQuotaManager
 * (leader and follower) with its shouldLeaderThrottle/shouldFollowerThrottle
 * rules.  The rate arithmetic is brk_quota's.
 *
 * Configs (all dynamic: a change applies to the next fetch, no restart):
 *  - broker: leader.replication.throttled.rate and
 *    follower.replication.throttled.rate (bytes/s; Long.MaxValue = off),
 *    read at every dynamic broker config change (brk_rthrottle_refresh);
 *    replication.quota.window.num x replication.quota.window.size.seconds
 *    (static) is the window;
 *  - topic: leader.replication.throttled.replicas and
 *    follower.replication.throttled.replicas, "partition:broker" pairs or
 *    "*" (every replica), read from the metadata image at each decision.
 *
 * Leader (broker/api/brk_h_fetch): a follower's fetch of a partition that
 * the topic's leader list names for this broker (partition:self), from a
 * replica that is not in the committed ISR, gets no records while the
 * leader quota is exceeded (the partition is answered with its HW and
 * nothing else, and the fetch long-polls as usual); the bytes sent for such
 * partitions are recorded when the response goes out.
 *
 * Follower (brk_fetcher): a partition that the topic's follower list names
 * for this broker and that is not caught up to the leader's HW of its last
 * fetch is left out of the fetch while the follower quota is exceeded; the
 * bytes fetched for such partitions are recorded.
 *
 * In-sync replication (the ISR members on the leader, a caught-up follower)
 * is never held and never counted.
 *
 * State thread only.
 */
#ifndef SAMSA_BRK_RTHROTTLE_H
#define SAMSA_BRK_RTHROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

struct brk_ctx;
struct brk_part;
struct config;
struct brk_rthrottle;

/* brk_rthrottle_create - both quotas with the configured window and rates.
 * -ENOMEM. */
MUST_CHECK int brk_rthrottle_create(const struct config *cfg, struct brk_rthrottle **out);
void brk_rthrottle_destroy(struct brk_rthrottle *t);

/* brk_rthrottle_refresh - re-read the two rates (after the dynamic broker
 * configs changed); logs a change.  NULL is a no-op. */
void brk_rthrottle_refresh(struct brk_rthrottle *t, const struct config *cfg);

/* brk_rthrottle_listed - does a throttled-replicas value name (partition,
 * broker_id)?  "*" names every replica; otherwise a comma list of
 * "partition:broker" (spaces around entries ignored; a malformed entry
 * names nothing).  NULL or "" names nothing.  Pure. */
bool brk_rthrottle_listed(const char *value, int32_t partition, int32_t broker_id);

/* ---- Leader side ---- */

/* brk_rthrottle_leader_applies - is a fetch of part by replica_id subject to
 * the leader throttle (listed, not in the ISR, a rate set)? */
bool brk_rthrottle_leader_applies(struct brk_ctx *ctx, const struct brk_part *part, int32_t replica_id);
/* brk_rthrottle_leader_exceeded - is the leader quota exceeded now?  A
 * fetch the throttle applies to gets no records of that partition then. */
bool brk_rthrottle_leader_exceeded(struct brk_ctx *ctx);
/* brk_rthrottle_leader_record - record bytes sent in one response for
 * partitions the throttle applied to (counted once, when it goes out). */
void brk_rthrottle_leader_record(struct brk_ctx *ctx, int64_t bytes);

/* ---- Follower side ---- */

/* brk_rthrottle_follower_hold_ns - 0: fetch part now; else leave it out of
 * fetches for this long (the follower quota is exceeded and part is
 * throttled and not caught up): the quota's delay, at most 500 ms so that
 * a config change applies soon. */
int64_t brk_rthrottle_follower_hold_ns(struct brk_ctx *ctx, const struct brk_part *part, int64_t now_ns);
/* brk_rthrottle_follower_record - bytes fetched for part (before they are
 * appended); counted when the throttle applies. */
void brk_rthrottle_follower_record(struct brk_ctx *ctx, const struct brk_part *part, int64_t bytes);

#endif
