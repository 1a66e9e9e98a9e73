/*
 * brk_quota.c - the sliding-window byte-rate limiter (brk_quota.h).
 *
 * The samples form a ring of sample_count slots; a new sample replaces the
 * oldest slot, which by then has left the window (a slot is reused only
 * after sample_count newer samples began, each at least sample_ns after the
 * one before).  Invariant: samples start at non-decreasing times, and the
 * newest one is the only one that grows.
 */
#include "broker/replica/brk_quota.h"

#include "common/log.h"

#define NS_PER_S 1000000000.0

void brk_quota_init(struct brk_quota *q, int32_t sample_count, int64_t sample_ns, int64_t rate_bytes_per_s)
{
    ASSERT(sample_count >= 1);
    ASSERT(sample_count <= BRK_QUOTA_SAMPLES_MAX);
    ASSERT(sample_ns > 0);
    ASSERT(sample_ns <= BRK_QUOTA_SAMPLE_S_MAX * 1000000000LL); /* the window's span fits an int64 */
    ASSERT(rate_bytes_per_s >= 0);
    q->rate_bytes_per_s = rate_bytes_per_s;
    q->sample_count = sample_count;
    q->sample_ns = sample_ns;
    q->used = 0;
    q->head = 0;
}

void brk_quota_set_rate(struct brk_quota *q, int64_t rate_bytes_per_s)
{
    ASSERT(rate_bytes_per_s >= 0);
    q->rate_bytes_per_s = rate_bytes_per_s;
    if (rate_bytes_per_s == BRK_QUOTA_UNLIMITED)
        q->used = 0; /* a later limit starts from an empty window */
}

bool brk_quota_unlimited(const struct brk_quota *q)
{
    return q->rate_bytes_per_s == BRK_QUOTA_UNLIMITED;
}

/* The window's span: samples that began at or before this are gone. */
static int64_t quota_window_ns(const struct brk_quota *q)
{
    return (int64_t)q->sample_count * q->sample_ns;
}

void brk_quota_record(struct brk_quota *q, int64_t bytes, int64_t now_ns)
{
    ASSERT(bytes >= 0);
    if (brk_quota_unlimited(q) || bytes == 0)
        return;
    struct brk_quota_sample *cur = q->used > 0 ? &q->samples[q->head] : NULL;
    ASSERT(cur == NULL || now_ns >= cur->start_ns); /* the caller's clock is monotonic */
    if (cur == NULL || now_ns - cur->start_ns >= q->sample_ns) {
        q->head = q->used > 0 ? (q->head + 1) % q->sample_count : 0;
        if (q->used < q->sample_count)
            q->used++;
        cur = &q->samples[q->head];
        cur->start_ns = now_ns;
        cur->bytes = 0;
    }
    cur->bytes = bytes > INT64_MAX - cur->bytes ? INT64_MAX : cur->bytes + bytes;
}

/* The live samples' bytes and the oldest live start (false: none live). */
static bool quota_live(const struct brk_quota *q, int64_t now_ns, double *total, int64_t *oldest_ns)
{
    int64_t expired_ns = now_ns - quota_window_ns(q);
    *total = 0;
    *oldest_ns = INT64_MAX;
    for (int32_t i = 0; i < q->used; i++) {
        const struct brk_quota_sample *s = &q->samples[i];
        if (s->start_ns <= expired_ns)
            continue;
        *total += (double)s->bytes;
        if (s->start_ns < *oldest_ns)
            *oldest_ns = s->start_ns;
    }
    return *oldest_ns != INT64_MAX;
}

static int64_t quota_span_ns(const struct brk_quota *q, int64_t oldest_ns, int64_t now_ns)
{
    int64_t span = now_ns - oldest_ns;
    return span > q->sample_ns ? span : q->sample_ns;
}

double brk_quota_rate(const struct brk_quota *q, int64_t now_ns)
{
    double total;
    int64_t oldest;
    if (!quota_live(q, now_ns, &total, &oldest))
        return 0;
    return total * NS_PER_S / (double)quota_span_ns(q, oldest, now_ns);
}

bool brk_quota_exceeded(const struct brk_quota *q, int64_t now_ns)
{
    if (brk_quota_unlimited(q))
        return false;
    return brk_quota_rate(q, now_ns) > (double)q->rate_bytes_per_s;
}

int64_t brk_quota_delay_ns(const struct brk_quota *q, int64_t now_ns)
{
    if (!brk_quota_exceeded(q, now_ns))
        return 0;
    double total;
    int64_t oldest;
    bool live = quota_live(q, now_ns, &total, &oldest);
    ASSERT(live); /* exceeded implies bytes in the window */
    /* the oldest sample leaves the window at oldest + window */
    int64_t delay = oldest + quota_window_ns(q) - now_ns;
    if (q->rate_bytes_per_s > 0) {
        /* the span at which total / span falls to the rate, the oldest kept */
        double fall_ns = (double)oldest + total * NS_PER_S / (double)q->rate_bytes_per_s - (double)now_ns;
        if (fall_ns < (double)delay)
            delay = (int64_t)fall_ns + 1;
    }
    return delay > BRK_QUOTA_DELAY_NS_MIN ? delay : BRK_QUOTA_DELAY_NS_MIN;
}
