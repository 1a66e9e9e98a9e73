/*
 * brk_rthrottle.c - replication throttles (brk_rthrottle.h): which fetches
 * the leader and follower quotas apply to, and the two brk_quota windows.
 *
 * The order of the checks keeps the unthrottled path free: the quota's
 * "unlimited" test comes first (the default), then the replica's sync
 * state, and only then the topic's throttled-replicas list is looked up in
 * the metadata image and parsed (a short string, at most once per
 * partition per fetch).
 */
#include "broker/replica/brk_rthrottle.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk_ctx.h"
#include "broker/log/brk_part.h"
#include "broker/replica/brk_quota.h"
#include "broker/replica/brk_replica.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"
#include "controller/ctrl.h"
#include "controller/ctrl_image.h"

#define RTHROTTLE_LEADER_KEY "leader.replication.throttled.replicas"
#define RTHROTTLE_FOLLOWER_KEY "follower.replication.throttled.replicas"
/* The longest a follower holds a partition before asking again: a throttle
 * removed or raised meanwhile applies within this (the leader side re-asks
 * at every long poll, replica.fetch.wait.max.ms). */
#define RTHROTTLE_HOLD_NS_MAX (500LL * 1000000LL)

struct brk_rthrottle {
    struct brk_quota leader;
    struct brk_quota follower;
};

/* A broker rate key's effective value; unlimited when unset or unreadable
 * (the config module validated it). */
static int64_t rthrottle_rate(const struct config *cfg, const char *key)
{
    const char *v = config_value_find(cfg, key);
    if (v == NULL || *v == '\0')
        return BRK_QUOTA_UNLIMITED;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < 0)
        return BRK_QUOTA_UNLIMITED;
    return (int64_t)n;
}

static int64_t rthrottle_int(const struct config *cfg, const char *key, int64_t dflt, int64_t lo, int64_t hi)
{
    const char *v = config_value_find(cfg, key);
    long long n = v != NULL ? strtoll(v, NULL, 10) : dflt;
    return n < lo ? lo : n > hi ? hi : (int64_t)n;
}

int brk_rthrottle_create(const struct config *cfg, struct brk_rthrottle **out)
{
    struct brk_rthrottle *t = calloc(1, sizeof *t);
    if (t == NULL)
        return -ENOMEM;
    int32_t samples = (int32_t)rthrottle_int(cfg, "replication.quota.window.num", 11, 1, BRK_QUOTA_SAMPLES_MAX);
    int64_t sample_s = rthrottle_int(cfg, "replication.quota.window.size.seconds", 1, 1, BRK_QUOTA_SAMPLE_S_MAX);
    brk_quota_init(&t->leader, samples, sample_s * 1000000000LL, BRK_QUOTA_UNLIMITED);
    brk_quota_init(&t->follower, samples, sample_s * 1000000000LL, BRK_QUOTA_UNLIMITED);
    brk_rthrottle_refresh(t, cfg);
    *out = t;
    return 0;
}

void brk_rthrottle_destroy(struct brk_rthrottle *t)
{
    free(t);
}

static void rthrottle_set(struct brk_quota *q, const char *key, int64_t rate)
{
    if (q->rate_bytes_per_s == rate)
        return;
    if (rate == BRK_QUOTA_UNLIMITED)
        log_info("rthrottle", "replication throttle off %s=unlimited", key);
    else
        log_info("rthrottle", "replication throttle set %s=%" PRId64 " window=%dx%" PRId64 "s", key, rate,
                 q->sample_count, (int64_t)(q->sample_ns / 1000000000));
    brk_quota_set_rate(q, rate);
}

void brk_rthrottle_refresh(struct brk_rthrottle *t, const struct config *cfg)
{
    if (t == NULL)
        return;
    rthrottle_set(&t->leader, "leader.replication.throttled.rate",
                  rthrottle_rate(cfg, "leader.replication.throttled.rate"));
    rthrottle_set(&t->follower, "follower.replication.throttled.rate",
                  rthrottle_rate(cfg, "follower.replication.throttled.rate"));
}

/* One decimal int32 in [p, end), spaces around it allowed. */
static bool rthrottle_int32(const char *p, const char *end, int32_t *out)
{
    while (p < end && *p == ' ')
        p++;
    while (end > p && end[-1] == ' ')
        end--;
    if (p == end || end - p > 10)
        return false;
    int64_t n = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        n = n * 10 + (*p - '0');
    }
    if (n > INT32_MAX)
        return false;
    *out = (int32_t)n;
    return true;
}

bool brk_rthrottle_listed(const char *value, int32_t partition, int32_t broker_id)
{
    if (value == NULL)
        return false;
    for (const char *p = value; *p != '\0';) {
        const char *comma = strchr(p, ',');
        const char *end = comma != NULL ? comma : p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && *a == ' ')
            a++;
        while (b > a && b[-1] == ' ')
            b--;
        if (b - a == 1 && *a == '*')
            return true;
        const char *colon = memchr(a, ':', (size_t)(b - a));
        int32_t part_id, broker;
        if (colon != NULL && rthrottle_int32(a, colon, &part_id) && rthrottle_int32(colon + 1, b, &broker) &&
            part_id == partition && broker == broker_id)
            return true;
        p = comma != NULL ? comma + 1 : end;
    }
    return false;
}

/* Does the topic's `key` name (part's partition, this broker)? */
static bool rthrottle_part_listed(struct brk_ctx *ctx, const struct brk_part *part, const char *key)
{
    const struct ctrl_image *img = ctrl_metadata(ctx->ctrl);
    const struct ctrl_topic *t = img != NULL ? ctrl_image_topic_find_id(img, part->topic_id) : NULL;
    if (t == NULL)
        return false;
    return brk_rthrottle_listed(ctrl_configs_find(&t->configs, key), part->partition, ctx->node->node_id);
}

/* Is replica_id in part's committed ISR?  (Kafka's inSyncReplicaIds) */
static bool rthrottle_in_isr(const struct brk_part *part, int32_t replica_id)
{
    const struct brk_replica *r = part->replica;
    if (r == NULL || r->isr == NULL)
        return false;
    for (int32_t i = 0; i < r->isr->part.isr_count; i++)
        if (r->isr->part.isr[i] == replica_id)
            return true;
    return false;
}

bool brk_rthrottle_leader_applies(struct brk_ctx *ctx, const struct brk_part *part, int32_t replica_id)
{
    const struct brk_rthrottle *t = ctx->rthrottle;
    if (t == NULL || brk_quota_unlimited(&t->leader))
        return false;
    return !rthrottle_in_isr(part, replica_id) && rthrottle_part_listed(ctx, part, RTHROTTLE_LEADER_KEY);
}

bool brk_rthrottle_leader_exceeded(struct brk_ctx *ctx)
{
    const struct brk_rthrottle *t = ctx->rthrottle;
    if (t == NULL || !brk_quota_exceeded(&t->leader, clock_mono_ns()))
        return false;
    log_debug("rthrottle", "leader throttle holds its throttled replicas rate=%.0f",
              brk_quota_rate(&t->leader, clock_mono_ns()));
    return true;
}

void brk_rthrottle_leader_record(struct brk_ctx *ctx, int64_t bytes)
{
    if (ctx->rthrottle != NULL && bytes > 0)
        brk_quota_record(&ctx->rthrottle->leader, bytes, clock_mono_ns());
}

/* Is the follower throttle applicable to part (rate set, not caught up,
 * listed)?  Kafka: !fetchState.isReplicaInSync && quota.isThrottled(tp). */
static bool rthrottle_follower_applies(struct brk_ctx *ctx, const struct brk_part *part)
{
    const struct brk_rthrottle *t = ctx->rthrottle;
    if (t == NULL || brk_quota_unlimited(&t->follower))
        return false;
    return brk_replica_follower_lag(part) != 0 && rthrottle_part_listed(ctx, part, RTHROTTLE_FOLLOWER_KEY);
}

int64_t brk_rthrottle_follower_hold_ns(struct brk_ctx *ctx, const struct brk_part *part, int64_t now_ns)
{
    const struct brk_rthrottle *t = ctx->rthrottle;
    if (t == NULL || !brk_quota_exceeded(&t->follower, now_ns) || !rthrottle_follower_applies(ctx, part))
        return 0;
    int64_t delay = brk_quota_delay_ns(&t->follower, now_ns);
    if (delay > RTHROTTLE_HOLD_NS_MAX)
        delay = RTHROTTLE_HOLD_NS_MAX; /* asked again soon: a config change applies within this */
    log_debug("rthrottle", "follower throttle holds topic=%s partition=%d for_ms=%" PRId64 " rate=%.0f", part->topic,
              part->partition, delay / 1000000, brk_quota_rate(&t->follower, now_ns));
    return delay;
}

void brk_rthrottle_follower_record(struct brk_ctx *ctx, const struct brk_part *part, int64_t bytes)
{
    if (bytes > 0 && rthrottle_follower_applies(ctx, part))
        brk_quota_record(&ctx->rthrottle->follower, bytes, clock_mono_ns());
}
