/*
 * brk_quota.h - a byte-rate limiter over a sliding window of samples, the
 * core of the replication throttles (KIP-73; Kafka's ReplicationQuotaManager
 * over a Rate sensor).  Pure: no clock, no I/O, no allocation; the caller
 * passes the monotonic time in, so tests drive it with a fake clock.
 *
 * The window is sample_count samples of sample_ns each (Kafka's
 * replication.quota.window.num, replication.quota.window.size.seconds).  A
 * sample starts when bytes are recorded after the previous one ended, and
 * drops out once it is older than the window.  The measured rate is the live
 * samples' bytes over the time since the oldest live sample began, at least
 * one sample long:
 *
 *     rate(now) = sum(bytes of live samples) / max(now - oldest start, sample_ns)
 *
 * and the quota is exceeded while rate(now) > rate_bytes_per_s.  The caller
 * asks brk_quota_exceeded before sending (a throttled partition is left out
 * while it is true) and records what it sent, so the rate overshoots by at
 * most the one send that found it just under.
 *
 * Where Samsa differs from Kafka: Kafka stretches a young window to
 * (sample_count - 1) samples, so a fresh quota lets a burst of ten times the
 * rate through before it throttles (10 MB at 1 MB/s with the defaults), and
 * a short reassignment is not throttled at all.  Here the floor is one
 * sample: after an idle window the burst is at most one sample's worth (plus
 * one send), and over any window the bytes stay within about one sample of
 * rate x window.  Idle time inside the window is credit (as in Kafka), but
 * never more than the window holds.
 */
#ifndef SAMSA_BRK_QUOTA_H
#define SAMSA_BRK_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#define BRK_QUOTA_SAMPLES_MAX 64          /* replication.quota.window.num is capped here */
#define BRK_QUOTA_SAMPLE_S_MAX 3600       /* replication.quota.window.size.seconds is capped here */
#define BRK_QUOTA_UNLIMITED INT64_MAX     /* Kafka's default rate: Long.MaxValue */
#define BRK_QUOTA_DELAY_NS_MIN 1000000LL  /* a held sender re-checks no sooner than 1 ms */

struct brk_quota_sample {
    int64_t start_ns;
    int64_t bytes;
};

struct brk_quota {
    int64_t rate_bytes_per_s;   /* BRK_QUOTA_UNLIMITED: never exceeded, nothing kept */
    int32_t sample_count;       /* 1..BRK_QUOTA_SAMPLES_MAX */
    int64_t sample_ns;          /* > 0 */
    int32_t used;               /* samples started so far, at most sample_count */
    int32_t head;               /* the newest sample's slot (valid when used > 0) */
    struct brk_quota_sample samples[BRK_QUOTA_SAMPLES_MAX];
};

/* brk_quota_init - an empty window of sample_count samples of sample_ns
 * (asserted in range: the caller validated the config) at rate_bytes_per_s
 * (>= 0; BRK_QUOTA_UNLIMITED turns the quota off). */
void brk_quota_init(struct brk_quota *q, int32_t sample_count, int64_t sample_ns, int64_t rate_bytes_per_s);

/* brk_quota_set_rate - a new rate from now on (a dynamic config change);
 * the samples are kept, so the new bound applies to what was just sent. */
void brk_quota_set_rate(struct brk_quota *q, int64_t rate_bytes_per_s);

/* brk_quota_unlimited - is the quota off?  Callers test this first: it is
 * the common case and costs nothing. */
bool brk_quota_unlimited(const struct brk_quota *q);

/* brk_quota_record - bytes were sent at now_ns (non-decreasing across
 * calls).  Nothing is kept while the quota is unlimited. */
void brk_quota_record(struct brk_quota *q, int64_t bytes, int64_t now_ns);

/* brk_quota_exceeded - is the measured rate above the quota at now_ns? */
bool brk_quota_exceeded(const struct brk_quota *q, int64_t now_ns);

/* brk_quota_delay_ns - 0 when not exceeded; else how long to wait before
 * asking again (at least BRK_QUOTA_DELAY_NS_MIN): when the rate falls to
 * the quota, or when the oldest sample leaves the window, whichever is
 * first. */
int64_t brk_quota_delay_ns(const struct brk_quota *q, int64_t now_ns);

/* brk_quota_rate - the measured rate at now_ns in bytes/s (0 when empty). */
double brk_quota_rate(const struct brk_quota *q, int64_t now_ns);

#endif
