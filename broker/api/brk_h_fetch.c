/*
 * brk_h_fetch.c - Fetch with long polling.
 *
 *   decode ──► evaluate ──(bytes >= min_bytes, or max_wait_ms <= 0, or error)──► respond
 *                 │ not enough yet
 *                 ▼
 *              parked (srv->fetch_waiters, a max_wait_ms timer, and a
 *                 │ brk_part_waiter on every requested local partition)
 *                 │ the partition's notification (fetch_part_wake): an append,
 *                 │ a metadata change, the partition going away; or the timer
 *                 └──────► evaluate again / respond with what there is
 *
 * Fetch v0-3 (clients that cannot read v2 batches): each partition's read
 * is down-converted in place in the fetch buffer to an uncompressed magic 0
 * (v0-1) or magic 1 (v2-3) message set within the partition's limit
 * (broker/log/brk_legacy.h), as Kafka 3.x does.  v4+ reads return whole
 * batches exactly as stored; the first non-empty
 * partition always gets at least one whole batch even past max_bytes
 * (KIP-74).  Without transactions the last stable offset is the high
 * watermark and there are no aborted transactions, so read_committed
 * clients (librdkafka's default) see everything committed.
 *
 * Response size (a deliberate difference from Kafka, which fills a consumer
 * response up to min(max_bytes, fetch.max.bytes): 50 MB for librdkafka and
 * the Java client by default).  A client receives a response into one
 * fresh buffer and parses it afterwards; on this project's bench machine a
 * 50 MB response cost librdkafka 2-6x more CPU per GB than 4 MiB ones
 * (page faults, cache misses: test/bench/RESULTS.md).  A small response
 * costs a round trip, though, so the cap follows the connection:
 * max(samsa.fetch.response.target.bytes, RTT x 1 GB/s), the bytes that
 * keep a 1 GB/s link busy for one round trip.  On a LAN (RTT < 4 ms) that
 * is the target (4 MiB); at 50 ms it is 50 MB, Kafka's size.  0 turns the
 * cap off.  Replica fetches are never capped this way.
 *
 * Fetch sessions (KIP-227, v13+: partitions named by topic id; the cache is
 * broker/replica/brk_fsession.h).  An incremental request's partitions are
 * merged into its session and the request is rewritten to name every
 * partition of the session, so evaluation and parking are those of a full
 * fetch; the answer then leaves out the partitions without news.  Older
 * versions and sessionless fetches (session epoch -1, librdkafka's) are
 * answered as before.
 */
#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/api/brk_h.h"
#include "broker/api/brk_kerr.h"
#include "broker/log/brk_legacy.h"
#include "broker/log/brk_part.h"
#include "broker/replica/brk_fsession.h"
#include "broker/replica/brk_replica.h"
#include "broker/replica/brk_rthrottle.h"
#include "common/clock.h"
#include "common/log.h"
#include "controller/ctrl.h"

/* Bytes per microsecond of round trip a consumer's response may carry: 1 GB/s. */
#define FETCH_RESPONSE_BYTES_PER_RTT_US 1000

/* The consumer response cap for a connection whose smoothed round trip is
 * rtt_us (-1: unknown, e.g. a forwarded request): see the header comment. */
static int64_t fetch_response_cap(int64_t target_bytes, int64_t rtt_us)
{
    if (target_bytes <= 0 || rtt_us < 0)
        return INT64_MAX;
    int64_t bdp = rtt_us * FETCH_RESPONSE_BYTES_PER_RTT_US;
    return bdp > target_bytes ? bdp : target_bytes;
}

struct fetch_state {
    struct kmsg_fetch_req m;
    int16_t version;
    int32_t replica_id;            /* >= 0: a follower's fetch (replica_state from v15) */
    int64_t replica_epoch;         /* its broker epoch (v15+), else -1 */
    bool replica_refused;          /* a replica fetch not allowed here: see brk_h_fetch */
    struct brk_part_waiter *watch; /* one per requested partition while parked (arena) */
    int32_t watch_count;
    uint64_t wake_round;           /* fetch_part_wake dedup: the last notification round seen */
    int64_t throttled_bytes;       /* the evaluated response's bytes under the leader throttle (KIP-73) */
    int32_t session_id;            /* the fetch session answered (0: none) */
    bool incremental;              /* an incremental request: the answer carries news only */
};

/* The topic a request names: by name below v13, by id from v13 (NULL: unknown). */
static const struct ctrl_topic *fetch_topic(const struct ctrl_image *img, int16_t version,
                                            const struct kmsg_fetch_req_topic *t)
{
    if (version >= 13)
        return ctrl_image_topic_find_id(img, t->topic_id);
    return t->topic.ptr ? ctrl_image_topic_find(img, (const char *)t->topic.ptr, t->topic.len) : NULL;
}

static struct brk_part *fetch_part(struct brk_ctx *srv, const struct ctrl_topic *topic, int32_t partition)
{
    return topic ? brk_parts_find(srv->parts, topic->topic_id, partition) : NULL;
}

/* The end a fetch reads to: the log end for a follower, the HW for a consumer. */
static int64_t fetch_end(const struct fetch_state *st, const struct brk_part *part)
{
    return st->replica_id >= 0 ? brk_plog_end_offset(part->plog) : brk_part_high_watermark(part);
}

static bool fetch_data_ready(struct brk_req *req, struct fetch_state *st)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
    for (int32_t i = 0; i < st->m.topics_count; i++) {
        const struct kmsg_fetch_req_topic *t = &st->m.topics[i];
        const struct ctrl_topic *topic = fetch_topic(img, st->version, t);
        if (!topic)
            continue;
        for (int32_t j = 0; j < t->partitions_count; j++) {
            const struct brk_part *part = fetch_part(srv, topic, t->partitions[j].partition);
            if (!part || fetch_end(st, part) != t->partitions[j].fetch_offset)
                return true; /* data, or an error to report */
        }
    }
    return false;
}

/* A follower's partition: the leader's checks (epoch, divergence, ISR
 * progress) before reading; false when the answer is already decided. */
static bool fetch_replica_check(struct fetch_state *st, struct brk_part *part,
                                const struct kmsg_fetch_req_partition *p, struct kmsg_fetch_resp_partition *rp)
{
    struct brk_replica_fetch_result fr;
    brk_replica_leader_fetch(part, st->replica_id, st->replica_epoch, p->current_leader_epoch, p->fetch_offset,
                             p->last_fetched_epoch, &fr);
    rp->high_watermark = brk_part_high_watermark(part);
    rp->last_stable_offset = rp->high_watermark;
    rp->log_start_offset = brk_plog_start_offset(part->plog);
    if (fr.error_code != 0) {
        rp->error_code = fr.error_code;
        return false;
    }
    if (fr.diverging) {
        rp->diverging_epoch.epoch = fr.diverging_epoch;
        rp->diverging_epoch.end_offset = fr.diverging_end_offset;
        return false;
    }
    brk_replica_leader_fetch_durable(part, st->replica_id, p->samsa_durable_offset); /* samsa.acks.all.fsync */
    return true;
}

/* Fetch v0-3: replace scratch[start..] (v2 batches just read) by the same
 * records as a magic 0/1 message set of at most limit bytes (at least one
 * message when first).  Returns 0 or an ERR_* code (scratch back at start). */
static int fetch_down_convert(int16_t version, int64_t fetch_offset, size_t limit, bool first, struct buf *scratch,
                              size_t start)
{
    struct buf conv, inflate;
    buf_init(&conv, 0);
    buf_init(&inflate, 64u << 20); /* one batch's inflated records */
    int8_t magic = version <= 1 ? BRK_LEGACY_MAGIC_V0 : BRK_LEGACY_MAGIC_V1;
    int rc = brk_legacy_from_v2(bytes_make(scratch->ptr + start, scratch->len - start), magic, fetch_offset, limit,
                                first, &conv, &inflate);
    scratch->len = start;
    if (rc == 0)
        rc = buf_append(scratch, conv.ptr, conv.len);
    if (rc < 0)
        scratch->len = start;
    buf_deinit(&conv);
    buf_deinit(&inflate);
    return rc;
}

/*
 * Build the response; returns total record bytes, or < 0 on failure.
 * *min_bytes_met_out says whether the response satisfies min_bytes as Kafka
 * judges it (DelayedFetch): min_bytes is capped by the response limit
 * (fetchMinBytes = min(minBytes, fetchMaxBytes)), and a partition whose
 * read stopped short of the high watermark counts its whole limit - Kafka
 * would have filled it with a byte slice, where Samsa stops at the last
 * whole batch.  Without this a min_bytes above the limit always waited
 * out max_wait_ms.
 */
static int64_t fetch_evaluate(struct brk_req *req, struct fetch_state *st, struct kmsg_fetch_resp *resp,
                              bool *min_bytes_met_out)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
    const struct kmsg_fetch_req *m = &st->m;
    kmsg_fetch_resp_init(resp);
    int32_t nt = m->topics_count > 0 ? m->topics_count : 0;
    resp->responses = arena_alloc_array(&req->arena, (size_t)nt, sizeof *resp->responses);
    if (!resp->responses && nt > 0)
        return ERR_LIMIT;
    resp->responses_count = nt;
    int64_t total = 0;
    int64_t ready = 0; /* total, with partitions stopped short counted at their limit */
    *min_bytes_met_out = false;
    /* the client's max_bytes, capped by the broker's fetch.max.bytes
     * (KIP-541) and, for a consumer, by the size its connection needs;
     * either way the first batch found is always returned */
    int64_t budget = m->max_bytes > 0 ? m->max_bytes : 0;
    if (budget > srv->node->fetch_max_bytes && st->replica_id < 0)
        budget = srv->node->fetch_max_bytes;
    int64_t cap = st->replica_id < 0 ? fetch_response_cap(srv->node->fetch_response_target_bytes, req->rtt_us)
                                     : INT64_MAX;
    if (budget > cap)
        budget = cap;
    /* Record bytes are read straight into one reusable server buffer (no
     * per-request copy, no zeroing); the response is encoded from it before
     * any other fetch runs.  Spans are offsets because the buffer may grow. */
    struct buf *scratch = &srv->fetch_scratch;
    ASSERT(srv->fetch_building); /* fetch_try holds the buffer */
    buf_reset(scratch);
    st->throttled_bytes = 0;
    for (int32_t i = 0; i < nt; i++) {
        const struct kmsg_fetch_req_topic *t = &m->topics[i];
        struct kmsg_fetch_resp_topic *rt = &resp->responses[i];
        kmsg_fetch_resp_topic_init(rt);
        rt->topic = t->topic;
        memcpy(rt->topic_id, t->topic_id, 16);
        const struct ctrl_topic *topic = fetch_topic(img, st->version, t);
        int32_t np = t->partitions_count > 0 ? t->partitions_count : 0;
        rt->partitions = arena_alloc_array(&req->arena, (size_t)np, sizeof *rt->partitions);
        if (!rt->partitions && np > 0)
            return ERR_LIMIT;
        rt->partitions_count = np;
        for (int32_t j = 0; j < np; j++) {
            const struct kmsg_fetch_req_partition *p = &t->partitions[j];
            struct kmsg_fetch_resp_partition *rp = &rt->partitions[j];
            kmsg_fetch_resp_partition_init(rp);
            rp->partition_index = p->partition;
            rp->high_watermark = -1;
            rp->aborted_transactions_count = 0;
            rp->records = bytes_make("", 0);
            if (st->replica_refused) {
                rp->error_code = KERR_CLUSTER_AUTHORIZATION_FAILED;
                continue;
            }
            struct brk_part *part = fetch_part(srv, topic, p->partition);
            if (!part) {
                rp->error_code = !topic && st->version >= 13 ? KERR_UNKNOWN_TOPIC_ID
                                 : topic && p->partition >= 0 && p->partition < topic->partition_count
                                     ? KERR_NOT_LEADER_OR_FOLLOWER
                                     : KERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            if (st->replica_id >= 0) {
                if (!fetch_replica_check(st, part, p, rp))
                    continue;
            } else {
                if (!part->is_leader) {
                    rp->error_code = KERR_NOT_LEADER_OR_FOLLOWER;
                    continue;
                }
                int16_t ec = brk_replica_check_leader_epoch(part, p->current_leader_epoch);
                if (ec != 0) {
                    rp->error_code = ec;
                    continue;
                }
                rp->high_watermark = brk_part_high_watermark(part);
                rp->last_stable_offset = rp->high_watermark;
                rp->log_start_offset = brk_plog_start_offset(part->plog);
            }
            int64_t hw = fetch_end(st, part); /* a follower reads to the log end */
            if (p->fetch_offset < rp->log_start_offset || p->fetch_offset > brk_plog_end_offset(part->plog)) {
                rp->error_code = KERR_OFFSET_OUT_OF_RANGE;
                continue;
            }
            if (p->fetch_offset >= hw)
                continue;
            /* KIP-73: an out-of-sync follower of a throttled replica gets nothing while the quota is exceeded */
            bool throttled = st->replica_id >= 0 && brk_rthrottle_leader_applies(srv, part, st->replica_id);
            if (throttled && brk_rthrottle_leader_exceeded(srv))
                continue;
            int64_t limit = p->partition_max_bytes > 0 ? p->partition_max_bytes : 0;
            if (limit > budget - total)
                limit = budget - total;
            if (limit < 0)
                limit = 0;
            size_t start = scratch->len;
            int64_t next = 0;
            int rc = brk_plog_read(part->plog, p->fetch_offset, hw, (size_t)limit, total == 0, scratch, &next);
            if (rc < 0) {
                scratch->len = start;
                rp->error_code = brk_kerr_from_err(rc);
                continue;
            }
            if (st->version < 4 && scratch->len > start) {
                rc = fetch_down_convert(st->version, p->fetch_offset, (size_t)limit, total == 0, scratch, start);
                if (rc < 0) {
                    log_warn("fetch", "down-conversion to magic %d failed topic=%s partition=%d offset=%lld "
                             "error=\"%s\"", st->version <= 1 ? 0 : 1, part->topic, part->partition,
                             (long long)p->fetch_offset, err_str(rc));
                    rp->error_code = brk_kerr_from_err(rc);
                    continue;
                }
            }
            size_t n = scratch->len - start;
            ready += next < hw && (int64_t)n < limit ? limit : (int64_t)n;
            if (n == 0)
                continue;
            /* ptr = start offset for now; fixed up once the buffer stops growing */
            rp->records = bytes_make((const uint8_t *)(uintptr_t)start, n);
            total += (int64_t)n;
            if (throttled)
                st->throttled_bytes += (int64_t)n;
        }
    }
    for (int32_t i = 0; i < resp->responses_count; i++)
        for (int32_t j = 0; j < resp->responses[i].partitions_count; j++) {
            struct kmsg_fetch_resp_partition *rp = &resp->responses[i].partitions[j];
            if (rp->records.len > 0)
                rp->records.ptr = scratch->ptr + (uintptr_t)rp->records.ptr;
        }
    *min_bytes_met_out = ready >= (m->min_bytes < budget ? m->min_bytes : budget);
    return total;
}

static void fetch_unpark(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    if (req->wait_prev)
        req->wait_prev->wait_next = req->wait_next;
    else if (srv->fetch_waiters == req)
        srv->fetch_waiters = req->wait_next;
    if (req->wait_next)
        req->wait_next->wait_prev = req->wait_prev;
    req->wait_prev = req->wait_next = NULL;
    if (req->timer) {
        event_free(req->timer);
        req->timer = NULL;
    }
    struct fetch_state *st = req->hstate;
    for (int32_t i = 0; i < st->watch_count; i++)
        brk_part_unwait(&st->watch[i]);
    st->watch_count = 0;
}

/* A session's answer: record what it carries per partition and, for an
 * incremental request, leave out the partitions without news.  A session
 * evicted while the request was parked gets the whole answer. */
static void fetch_session_answer(struct brk_req *req, struct kmsg_fetch_resp *resp)
{
    struct fetch_state *st = req->hstate;
    if (st->session_id == 0)
        return;
    resp->session_id = st->session_id;
    struct brk_ctx *srv = brk_req_ctx(req);
    struct brk_fsession *s = brk_fsession_find(srv->fsessions, st->session_id);
    if (s == NULL || resp->error_code != KERR_NONE)
        return;
    int32_t nt = 0;
    for (int32_t i = 0; i < resp->responses_count; i++) {
        struct kmsg_fetch_resp_topic *rt = &resp->responses[i];
        int32_t np = 0;
        for (int32_t j = 0; j < rt->partitions_count; j++) {
            struct kmsg_fetch_resp_partition *rp = &rt->partitions[j];
            struct brk_fsession_part *sp = brk_fsession_part_find(s, rt->topic_id, rp->partition_index);
            bool loud = rp->records.len > 0 || rp->error_code != KERR_NONE || rp->diverging_epoch.epoch >= 0;
            bool news = sp == NULL || brk_fsession_part_news(sp, rp->high_watermark, rp->log_start_offset, loud);
            if (news || !st->incremental)
                rt->partitions[np++] = *rp;
        }
        rt->partitions_count = np;
        if (np > 0 || !st->incremental)
            resp->responses[nt++] = *rt;
    }
    resp->responses_count = nt;
}

/* Bytes of fixed fields per topic and per partition in a response, at most
 * (topic: id or name length, counts, tags; partition: the fields, empty
 * aborted list, records length, tags with a diverging epoch). */
#define FETCH_RESP_TOPIC_BYTES_MAX 40
#define FETCH_RESP_PARTITION_BYTES_MAX 96

static void fetch_respond(struct brk_req *req, struct kmsg_fetch_resp *resp)
{
    fetch_session_answer(req, resp);
    /* one allocation of the whole response: growing it from empty by doubling
     * copied up to its size again and touched fresh pages (page faults were
     * 3.5% of the cluster's CPU under replication: test/bench/RESULTS.md) */
    size_t need = 64;
    for (int32_t i = 0; i < resp->responses_count; i++) {
        const struct kmsg_fetch_resp_topic *rt = &resp->responses[i];
        need += FETCH_RESP_TOPIC_BYTES_MAX + rt->topic.len;
        for (int32_t j = 0; j < rt->partitions_count; j++)
            need += FETCH_RESP_PARTITION_BYTES_MAX + rt->partitions[j].records.len;
    }
    buf_reset(&req->resp);
    if (buf_reserve(&req->resp, need) < 0)
        log_debug("fetch", "response of %zu bytes not reserved; the encoder grows it", need);
    BRK_RESPOND(req, fetch, resp);
}

/* Answer now with a top-level error (a fetch session refused). */
static void fetch_respond_error(struct brk_req *req, int16_t error_code)
{
    struct kmsg_fetch_resp resp;
    kmsg_fetch_resp_init(&resp);
    resp.error_code = error_code;
    BRK_RESPOND(req, fetch, &resp);
}

/* Rewrite st->m to name every partition of session s (grouped by topic). */
static bool fetch_session_expand(struct brk_req *req, struct fetch_state *st, struct brk_fsession *s)
{
    struct kmsg_fetch_req_topic *ts = arena_alloc_array(&req->arena, (size_t)s->part_count + 1, sizeof *ts);
    struct kmsg_fetch_req_partition *ps = arena_alloc_array(&req->arena, (size_t)s->part_count + 1, sizeof *ps);
    if (!ts || !ps)
        return false;
    int32_t nt = 0;
    for (int32_t i = 0; i < s->part_count; i++) {
        const struct brk_fsession_part *sp = &s->parts[i];
        struct kmsg_fetch_req_topic *t = nt > 0 ? &ts[nt - 1] : NULL;
        if (t == NULL || memcmp(t->topic_id, sp->topic_id, 16) != 0) {
            t = &ts[nt++]; /* the session keeps a topic's partitions together */
            kmsg_fetch_req_topic_init(t);
            memcpy(t->topic_id, sp->topic_id, 16);
            t->partitions = &ps[i];
        }
        struct kmsg_fetch_req_partition *p = &ps[i];
        kmsg_fetch_req_partition_init(p);
        p->partition = sp->partition;
        p->current_leader_epoch = sp->current_leader_epoch;
        p->fetch_offset = sp->fetch_offset;
        p->last_fetched_epoch = sp->last_fetched_epoch;
        p->log_start_offset = sp->log_start_offset;
        p->partition_max_bytes = sp->partition_max_bytes;
        p->samsa_durable_offset = sp->samsa_durable_offset;
        t->partitions_count++;
    }
    st->m.topics = ts;
    st->m.topics_count = nt;
    return true;
}

/* KIP-227 (header comment): open the request's fetch session, merge its
 * partitions, and rewrite an incremental request to the whole session.
 * False when the request was answered (a refused session). */
static bool fetch_session_begin(struct brk_req *req, struct fetch_state *st)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    int32_t id = st->m.session_id, epoch = st->m.session_epoch;
    if (st->version < 7)
        return true;
    if (st->version < 13 || srv->fsessions == NULL || st->replica_refused) {
        if (epoch > 0) { /* we never named a session to it */
            fetch_respond_error(req, BRK_FSESSION_KERR_ID_NOT_FOUND);
            return false;
        }
        return true; /* sessionless: session_id 0 in the answer */
    }
    struct brk_fsession *s = NULL;
    int16_t ec = brk_fsession_open(srv->fsessions, id, epoch, st->replica_id >= 0, clock_mono_ns(), &s);
    if (ec != 0) {
        log_debug("fetch", "fetch session refused session_id=%d session_epoch=%d error_code=%d peer=%s", id, epoch,
                  ec, req->peer ? req->peer : "-");
        fetch_respond_error(req, ec);
        return false;
    }
    if (s == NULL)
        return true;
    for (int32_t i = 0; i < st->m.topics_count; i++) {
        const struct kmsg_fetch_req_topic *t = &st->m.topics[i];
        for (int32_t j = 0; j < t->partitions_count; j++) {
            const struct kmsg_fetch_req_partition *p = &t->partitions[j];
            struct brk_fsession_part sp = {
                .partition = p->partition, .current_leader_epoch = p->current_leader_epoch,
                .fetch_offset = p->fetch_offset, .last_fetched_epoch = p->last_fetched_epoch,
                .log_start_offset = p->log_start_offset, .partition_max_bytes = p->partition_max_bytes,
                .samsa_durable_offset = p->samsa_durable_offset,
            };
            memcpy(sp.topic_id, t->topic_id, 16);
            if (brk_fsession_part_set(s, &sp) < 0) {
                brk_fsession_remove(srv->fsessions, s->id); /* no memory: the client starts over */
                fetch_respond_error(req, BRK_FSESSION_KERR_ID_NOT_FOUND);
                return false;
            }
        }
    }
    st->session_id = s->id;
    if (epoch == 0)
        return true; /* full: the request already names the whole session */
    for (int32_t i = 0; i < st->m.forgotten_topics_data_count; i++) {
        const struct kmsg_fetch_req_forgotten_topic *ft = &st->m.forgotten_topics_data[i];
        for (int32_t j = 0; j < ft->partitions_count; j++)
            brk_fsession_part_forget(s, ft->topic_id, ft->partitions[j]);
    }
    st->incremental = true;
    if (!fetch_session_expand(req, st, s)) {
        brk_req_finish(req, ERR_LIMIT);
        return false;
    }
    return true;
}

static bool fetch_try_locked(struct brk_req *req, bool force);

/* Respond if done (or forced); returns true when the request finished.
 * One response at a time is built in the shared fetch buffer, from
 * evaluation to encoding: nothing in between may wake another fetch
 * synchronously (HW moves reach waiters from the loop), and this assertion
 * makes any such path fail loudly instead of serving one partition's
 * records as another's. */
static bool fetch_try(struct brk_req *req, bool force)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    ASSERT(!srv->fetch_building);
    srv->fetch_building = true;
    bool done = fetch_try_locked(req, force);
    srv->fetch_building = false;
    return done;
}

static bool fetch_try_locked(struct brk_req *req, bool force)
{
    struct fetch_state *st = req->hstate;
    struct kmsg_fetch_resp resp;
    bool min_bytes_met = false;
    int64_t total = fetch_evaluate(req, st, &resp, &min_bytes_met);
    if (total < 0) {
        fetch_unpark(req);
        brk_req_finish(req, (int)total);
        return true;
    }
    bool has_error = false;
    for (int32_t i = 0; i < resp.responses_count && !has_error; i++)
        for (int32_t j = 0; j < resp.responses[i].partitions_count; j++)
            if (resp.responses[i].partitions[j].error_code != KERR_NONE) {
                has_error = true;
                break;
            }
    if (force || has_error || min_bytes_met || st->m.max_wait_ms <= 0) {
        fetch_unpark(req);
        brk_rthrottle_leader_record(brk_req_ctx(req), st->throttled_bytes);
        fetch_respond(req, &resp);
        return true;
    }
    return false;
}

static void fetch_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    fetch_try(arg, true);
}

/* A partition this fetch is parked on has news.  A fetch watching one
 * partition twice hears the round twice and acts once.  An append or an HW
 * move wakes it when there is data (or an error) to return - a follower
 * reads to the log end, so an HW move never gives it data and it does not
 * even look (with acks=all every HW move would re-evaluate every parked
 * follower fetch: the cluster profile in test/bench/RESULTS.md); a metadata
 * change or the partition going away answers it now (NOT_LEADER, ...). */
static void fetch_part_wake(struct brk_part_waiter *w, enum brk_part_event ev, uint64_t round)
{
    struct brk_req *req = w->owner;
    struct fetch_state *st = req->hstate;
    if (st->wake_round == round)
        return;
    st->wake_round = round;
    if (ev == BRK_PART_HW && st->replica_id >= 0)
        return;
    if ((ev != BRK_PART_APPENDED && ev != BRK_PART_HW) || fetch_data_ready(req, st))
        fetch_try(req, false);
}

/* Park req: a waiter on each requested local partition.  False when the
 * waiters cannot be allocated (the caller answers now instead). */
static bool fetch_watch(struct brk_req *req, struct fetch_state *st)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
    int64_t n = 0;
    for (int32_t i = 0; i < st->m.topics_count; i++)
        n += st->m.topics[i].partitions_count > 0 ? st->m.topics[i].partitions_count : 0;
    st->watch = arena_alloc_array(&req->arena, (size_t)n, sizeof *st->watch);
    if (!st->watch && n > 0)
        return false;
    for (int32_t i = 0; i < st->m.topics_count; i++) {
        const struct kmsg_fetch_req_topic *t = &st->m.topics[i];
        const struct ctrl_topic *topic = fetch_topic(img, st->version, t);
        for (int32_t j = 0; topic && j < t->partitions_count; j++) {
            struct brk_part *part = fetch_part(srv, topic, t->partitions[j].partition);
            if (part)
                brk_part_wait(part, &st->watch[st->watch_count++], req, fetch_part_wake);
        }
    }
    return true;
}

void brk_h_fetch(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct fetch_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    int rc = kmsg_fetch_req_decode(&req->body, req->hdr.api_version, &req->arena, &st->m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    req->hstate = st;
    st->version = req->hdr.api_version;
    st->replica_id = st->version >= 15 ? st->m.replica_state.replica_id : st->m.replica_id;
    st->replica_epoch = st->version >= 15 ? st->m.replica_state.replica_epoch : -1;
    if (st->replica_id >= 0) {
        /* A follower's fetch moves the high watermark: only Samsa's own
         * fetcher may send one - Fetch v15+ (its broker epoch is checked
         * against the image, KIP-903) on the inter-broker listener.  Anything
         * else (an old version, a client claiming a replica id) is refused as
         * Kafka refuses a replica fetch without CLUSTER_ACTION; authenticating
         * the listener comes with TLS/SASL. */
        const char *lname = srv->node->listeners[brk_req_listener_index(req)].name;
        if (st->version < 15 || strcmp(lname, srv->node->inter_broker_listener_name) != 0) {
            st->replica_refused = true;
            log_warn("fetch", "replica fetch refused replica_id=%d version=%d listener=%s peer=%s: followers fetch "
                     "with Fetch v15+ on inter.broker.listener.name=%s", st->replica_id, st->version, lname,
                     req->peer ? req->peer : "-", srv->node->inter_broker_listener_name);
        }
    }
    if (!fetch_session_begin(req, st))
        return;
    if (fetch_try(req, false))
        return;
    /* park: wait for data or max_wait_ms */
    int32_t wait_ms = st->m.max_wait_ms;
    struct timeval tv = { wait_ms / 1000, (wait_ms % 1000) * 1000 };
    req->timer = event_new(srv->base, -1, 0, fetch_timer_cb, req);
    if (!req->timer || event_add(req->timer, &tv) < 0 || !fetch_watch(req, st)) {
        fetch_try(req, true); /* cannot park (no memory): answer with what there is */
        return;
    }
    req->wait_prev = NULL;
    req->wait_next = srv->fetch_waiters;
    if (srv->fetch_waiters)
        srv->fetch_waiters->wait_prev = req;
    srv->fetch_waiters = req;
}
