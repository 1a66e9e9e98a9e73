/*
 * brk_fetcher_test.c - the follower fetch sessions against a scripted leader
 * on a loopback socket, on one libevent loop with a real partition log:
 * the Fetch v15 request's fields, records appended byte for byte and the
 * HW followed, a malformed response (the connection is closed and opened
 * again, the fetch repeated), a diverging epoch (truncation, then the next
 * fetch from the cut), an unfollow while a fetch is in flight (its answer
 * is dropped), FENCED_LEADER_EPOCH (paused until the next follow) and
 * UNKNOWN_LEADER_EPOCH (retried after the backoff), no fetch before the
 * broker is registered (its fetches carry the broker epoch), the KIP-227
 * incremental session (opened by a full request, then only changed
 * partitions named; INVALID_FETCH_SESSION_EPOCH and FETCH_SESSION_ID_NOT_FOUND
 * start over with a full request).  The leader's endpoint
 * comes from brk_fetcher_endpoint_fn_set instead of the metadata image;
 * brk_replica.c's two hooks are recorders with the same contract.
 */
#include <check.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/brk_ctx.h"
#include "broker/log/brk_batch.h"
#include "broker/log/brk_part.h"
#include "broker/log/brk_plog.h"
#include "broker/replica/brk_fetcher.h"
#include "broker/replica/brk_replica.h"
#include "broker/replica/brk_replica_testutil.h"
#include "common/arena.h"
#include "common/be.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/crc32c.h"
#include "common/kwire.h"
#include "common/log.h"
#include "common/uring.h"
#include "controller/ctrl_image.h"
#include "kmsg.h"

/* ---- the scripted leader ---- */

enum reply {
    REPLY_RECORDS,     /* the batches in g.lead from the fetch offset */
    REPLY_GARBAGE,     /* a frame the codec refuses */
    REPLY_DIVERGING,   /* diverging_epoch (g.div_epoch, g.div_end) */
    REPLY_ERROR,       /* g.error_code */
    REPLY_HOLD,        /* answer later (g.held_corr) */
    REPLY_TOP_ERROR,   /* a top-level g.error_code, no partitions (fetch session errors) */
};

/* One request as the leader saw it (the fetch session's fields). */
struct sess_seen {
    int32_t session_id, session_epoch, topics_count;
    int64_t fetch_offset; /* the partition's, named or kept by the session */
};
#define SESS_SEEN_MAX 16

struct req_seen {
    int32_t replica_id;
    int64_t replica_epoch;
    int32_t max_wait_ms, min_bytes, max_bytes, session_epoch;
    int32_t current_leader_epoch;
    int64_t fetch_offset;
    int32_t last_fetched_epoch;
    int32_t partition_max_bytes;
    uint8_t topic_id[16];
    int32_t partition;
};

struct fx {
    char dir[64];
    struct event_base *base;
    struct uring *u;
    struct config_node node;
    struct brk_ctx ctx;
    struct brk_part part;
    struct brk_replica rep;
    struct brk_fetcher *f;
    struct evconnlistener *lis;
    struct ctrl_endpoint ep;
    struct bufferevent *conn; /* the leader's side of the fetcher's connection */
    int accepts;
    int requests;
    struct req_seen last;
    enum reply reply;
    int32_t held_corr;
    int32_t div_epoch;
    int64_t div_end;
    int16_t error_code;
    int64_t leader_hw;
    int32_t grant_session;  /* the session id the leader answers (0: none, a sessionless leader) */
    struct sess_seen seen[SESS_SEEN_MAX];
    uint8_t lead[8192]; /* the leader's log: batches from offset 0 */
    size_t lead_len;
};

static struct fx g;

static size_t lead_batch(uint8_t *out, int64_t base, int32_t epoch, int32_t count)
{
    return testutil_lead_batch(out, base, epoch, count, 30);
}

/* The leader's batches from offset on. */
static struct bytes lead_from(int64_t offset)
{
    size_t pos = 0;
    while (pos < g.lead_len) {
        int64_t base = (int64_t)be_get64(g.lead + pos);
        if (base >= offset)
            break;
        pos += 12 + be_get32(g.lead + pos + 8);
    }
    return bytes_make(g.lead + pos, g.lead_len - pos);
}

static void leader_send(int32_t corr, enum reply how)
{
    struct buf b;
    buf_init(&b, 0);
    ck_assert_int_eq(kwire_write_i32(&b, 0), 0);
    ck_assert_int_eq(kwire_write_i32(&b, corr), 0);
    ck_assert_int_eq(kwire_write_empty_tags(&b), 0);
    if (how == REPLY_GARBAGE) {
        ck_assert_int_eq(kwire_write_i32(&b, 0), 0);
        ck_assert_int_eq(kwire_write_i16(&b, 0), 0);
        ck_assert_int_eq(kwire_write_raw(&b, "\xff\xff\xff", 3), 0); /* a varint that never ends */
    } else {
        struct kmsg_fetch_resp resp;
        kmsg_fetch_resp_init(&resp);
        resp.session_id = g.grant_session;
        struct kmsg_fetch_resp_topic t;
        kmsg_fetch_resp_topic_init(&t);
        struct kmsg_fetch_resp_partition p;
        kmsg_fetch_resp_partition_init(&p);
        memcpy(t.topic_id, g.part.topic_id, 16);
        t.partitions_count = 1;
        t.partitions = &p;
        resp.responses_count = 1;
        resp.responses = &t;
        p.partition_index = g.part.partition;
        p.high_watermark = g.leader_hw;
        p.log_start_offset = 0;
        if (how == REPLY_DIVERGING) {
            p.diverging_epoch.epoch = g.div_epoch;
            p.diverging_epoch.end_offset = g.div_end;
        } else if (how == REPLY_ERROR) {
            p.error_code = g.error_code;
        } else {
            p.records = lead_from(g.last.fetch_offset);
        }
        if (how == REPLY_TOP_ERROR) {
            resp.error_code = g.error_code;
            resp.session_id = 0;
            resp.responses_count = 0;
        }
        ck_assert_int_eq(kmsg_fetch_resp_encode(&b, 15, &resp), 0);
    }
    be_put32(b.ptr, (uint32_t)(b.len - 4));
    ck_assert_int_eq(bufferevent_write(g.conn, b.ptr, b.len), 0);
    buf_deinit(&b);
}

static void leader_read_cb(struct bufferevent *bev, void *arg)
{
    (void)arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        uint8_t h[4];
        if (evbuffer_copyout(in, h, 4) != 4)
            return;
        uint32_t size = be_get32(h);
        if (evbuffer_get_length(in) < 4 + (size_t)size)
            return;
        uint8_t *frame = malloc(size);
        evbuffer_drain(in, 4);
        ck_assert_int_eq(evbuffer_remove(in, frame, size), (int)size);
        struct kwire_reader r;
        kwire_reader_init(&r, bytes_make(frame, size));
        struct kmsg_req_header hdr;
        ck_assert_int_eq(kmsg_req_header_decode(&r, &hdr), 0);
        ck_assert_int_eq(hdr.api_key, KMSG_API_FETCH);
        ck_assert_int_eq(hdr.api_version, 15);
        struct arena a;
        arena_init(&a, 4096, 1 << 20);
        struct kmsg_fetch_req req;
        ck_assert_int_eq(kmsg_fetch_req_decode(&r, 15, &a, &req), 0);
        if (g.requests < SESS_SEEN_MAX)
            g.seen[g.requests] = (struct sess_seen){ .session_id = req.session_id,
                                                     .session_epoch = req.session_epoch,
                                                     .topics_count = req.topics_count,
                                                     .fetch_offset = g.last.fetch_offset };
        if (req.topics_count == 0 && req.session_epoch > 0) { /* incremental, nothing changed */
            arena_deinit(&a);
            free(frame);
            g.requests++;
            leader_send(hdr.correlation_id, g.reply);
            continue;
        }
        ck_assert_int_eq(req.topics_count, 1);
        ck_assert_int_eq(req.topics[0].partitions_count, 1);
        const struct kmsg_fetch_req_partition *p = &req.topics[0].partitions[0];
        if (g.requests < SESS_SEEN_MAX)
            g.seen[g.requests].fetch_offset = p->fetch_offset;
        g.last = (struct req_seen){
            .replica_id = req.replica_state.replica_id,
            .replica_epoch = req.replica_state.replica_epoch,
            .max_wait_ms = req.max_wait_ms,
            .min_bytes = req.min_bytes,
            .max_bytes = req.max_bytes,
            .session_epoch = req.session_epoch,
            .current_leader_epoch = p->current_leader_epoch,
            .fetch_offset = p->fetch_offset,
            .last_fetched_epoch = p->last_fetched_epoch,
            .partition_max_bytes = p->partition_max_bytes,
            .partition = p->partition,
        };
        memcpy(g.last.topic_id, req.topics[0].topic_id, 16);
        arena_deinit(&a);
        free(frame);
        g.requests++;
        if (g.reply == REPLY_HOLD)
            g.held_corr = hdr.correlation_id;
        else
            leader_send(hdr.correlation_id, g.reply);
    }
}

static void leader_event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        bufferevent_free(bev);
        if (g.conn == bev)
            g.conn = NULL;
    }
}

static void leader_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
    (void)l;
    (void)sa;
    (void)len;
    (void)arg;
    if (g.conn != NULL)
        bufferevent_free(g.conn); /* the old connection: the fetcher gave up on it */
    g.conn = bufferevent_socket_new(g.base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(g.conn, leader_read_cb, NULL, leader_event_cb, NULL);
    bufferevent_enable(g.conn, EV_READ | EV_WRITE);
    g.accepts++;
}

static const struct ctrl_endpoint *endpoint_cb(void *arg, int32_t leader_id)
{
    (void)arg;
    return leader_id == 2 ? &g.ep : NULL;
}

/* ---- fixture and loop ---- */

static void setup(void)
{
    memset(&g, 0, sizeof g);
    snprintf(g.dir, sizeof g.dir, "/tmp/samsa_fetcher_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g.dir));
    g.base = event_base_new();
    ck_assert_int_eq(uring_create(64, true, &g.u), 0);
    g.node.node_id = 5;
    g.node.num_replica_fetchers = 2;
    g.node.replica_fetch_max_bytes = 1048576;
    g.node.replica_fetch_response_max_bytes = 10485760;
    g.node.replica_fetch_min_bytes = 1;
    g.node.replica_fetch_wait_max_ms = 500;
    g.node.replica_fetch_backoff_ms = 20;
    snprintf(g.node.inter_broker_listener_name, sizeof g.node.inter_broker_listener_name, "PLAINTEXT");
    g.ctx.base = g.base;
    g.ctx.node = &g.node;
    g.ctx.uring = g.u;
    g.ctx.broker_epoch = 77;
    g.ctx.registered = true;
    struct brk_plog_config c;
    brk_plog_config_default(&c);
    char d[128];
    snprintf(d, sizeof d, "%s/t-1", g.dir);
    ck_assert_int_eq(brk_plog_open(g.u, NULL, d, &c, 0, &g.part.plog), 0);
    snprintf(g.part.topic, sizeof g.part.topic, "t");
    for (int i = 0; i < 16; i++)
        g.part.topic_id[i] = (uint8_t)(i + 1);
    g.part.partition = 1;
    g.part.replica = &g.rep;
    g.rep.part = &g.part;
    g.rep.ctx = &g.ctx;
    g.rep.role = BRK_REPLICA_FOLLOWER;
    g.rep.leader_id = 2;
    g.rep.leader_epoch = 3;
    brk_epoch_cache_init(&g.rep.epochs);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    g.lis = evconnlistener_new_bind(g.base, leader_accept_cb, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
                                    (struct sockaddr *)&sin, sizeof sin);
    ck_assert_ptr_nonnull(g.lis);
    struct sockaddr_in bound;
    socklen_t bl = sizeof bound;
    ck_assert_int_eq(getsockname(evconnlistener_get_fd(g.lis), (struct sockaddr *)&bound, &bl), 0);
    snprintf(g.ep.name, sizeof g.ep.name, "PLAINTEXT");
    snprintf(g.ep.host, sizeof g.ep.host, "127.0.0.1");
    g.ep.port = ntohs(bound.sin_port);
    ck_assert_int_eq(brk_fetcher_create(&g.ctx, &g.f), 0);
    g.ctx.fetcher = g.f;
    brk_fetcher_endpoint_fn_set(g.f, endpoint_cb, NULL);
    /* the leader's log: epoch 1 at [0,4), epoch 3 at [4,9) */
    g.lead_len = lead_batch(g.lead, 0, 1, 2);
    g.lead_len += lead_batch(g.lead + g.lead_len, 2, 1, 2);
    g.lead_len += lead_batch(g.lead + g.lead_len, 4, 3, 3);
    g.lead_len += lead_batch(g.lead + g.lead_len, 7, 3, 2);
    g.leader_hw = 7;
}

static void teardown(void)
{
    brk_fetcher_stop(g.f);
    ck_assert_int_eq(uring_drain(g.u), 0);
    brk_fetcher_destroy(g.f);
    if (g.conn)
        bufferevent_free(g.conn);
    evconnlistener_free(g.lis);
    brk_plog_destroy(g.part.plog);
    brk_epoch_cache_deinit(&g.rep.epochs);
    uring_destroy(g.u);
    event_base_free(g.base);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g.dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* Run the loop (and the disk) until cond() or timeout_ms of wall time. */
static bool run_until(bool (*cond)(void), int timeout_ms)
{
    int64_t deadline = clock_mono_ns() + (int64_t)timeout_ms * 1000000;
    struct event *tick = event_new(g.base, -1, 0, tick_cb, NULL);
    struct timeval tv = { 0, 5000 };
    bool ok = false;
    while (!(ok = cond()) && clock_mono_ns() < deadline) {
        event_add(tick, &tv);
        event_base_loop(g.base, EVLOOP_ONCE);
        ck_assert_int_ge(uring_submit(g.u), 0);
        ck_assert_int_ge(uring_reap(g.u), 0);
    }
    event_free(tick);
    return ok;
}

static int g_want;
static bool requests_reach(void) { return g.requests >= g_want; }
static bool accepts_reach(void) { return g.accepts >= g_want; }
static bool never(void) { return false; }

static void check_log_is_lead_prefix(int64_t end)
{
    ck_assert_int_eq(brk_plog_end_offset(g.part.plog), end);
    struct buf out;
    buf_init(&out, 0);
    int64_t next;
    ck_assert_int_eq(brk_plog_read(g.part.plog, 0, INT64_MAX, 1 << 20, true, &out, &next), 0);
    struct bytes want = lead_from(end);
    ck_assert_uint_eq(out.len, (size_t)(want.ptr - g.lead));
    ck_assert(memcmp(out.ptr, g.lead, out.len) == 0);
    buf_deinit(&out);
}

START_TEST(test_fetch_append_and_hw)
{
    g.reply = REPLY_RECORDS;
    brk_fetcher_follow(g.f, &g.part);
    brk_fetcher_follow(g.f, &g.part); /* idempotent */
    g_want = 2;
    ck_assert(run_until(requests_reach, 5000));
    ck_assert_int_eq(g.accepts, 1);
    ck_assert_int_eq(brk_fetcher_session_count(g.f), 1);
    /* the second fetch asks from the end of what the first brought */
    ck_assert_int_eq(g.last.fetch_offset, 9);
    ck_assert_int_eq(g.last.last_fetched_epoch, 3);
    ck_assert_int_eq(g.last.replica_id, 5);
    ck_assert_int_eq(g.last.replica_epoch, 77);
    ck_assert_int_eq(g.last.current_leader_epoch, 3);
    ck_assert_int_eq(g.last.max_wait_ms, 500);
    ck_assert_int_eq(g.last.min_bytes, 1);
    ck_assert_int_eq(g.last.max_bytes, 10485760);
    ck_assert_int_eq(g.last.partition_max_bytes, 1048576);
    ck_assert_int_eq(g.last.session_epoch, 0); /* a full request asking for a session (KIP-227); this leader keeps none */
    ck_assert_int_eq(g.last.partition, 1);
    ck_assert(memcmp(g.last.topic_id, g.part.topic_id, 16) == 0);
    check_log_is_lead_prefix(9);
    ck_assert_int_eq(g.part.high_watermark, 7);
    ck_assert_int_eq(g.rep.epochs.count, 2);
    ck_assert_int_eq(brk_epoch_cache_latest_epoch(&g.rep.epochs), 3);
}
END_TEST

/* KIP-227: a full request opens the session; then only changed partitions
 * are named; INVALID_FETCH_SESSION_EPOCH starts the same id over with a full
 * request, FETCH_SESSION_ID_NOT_FOUND a new one. */
START_TEST(test_incremental_session)
{
    g.reply = REPLY_RECORDS;
    g.grant_session = 42;
    brk_fetcher_follow(g.f, &g.part);
    g_want = 4;
    ck_assert(run_until(requests_reach, 5000));
    /* 1: full, asking for a session */
    ck_assert_int_eq(g.seen[0].session_id, 0);
    ck_assert_int_eq(g.seen[0].session_epoch, 0);
    ck_assert_int_eq(g.seen[0].topics_count, 1);
    ck_assert_int_eq(g.seen[0].fetch_offset, 0);
    /* 2: incremental, the partition moved to 9 */
    ck_assert_int_eq(g.seen[1].session_id, 42);
    ck_assert_int_eq(g.seen[1].session_epoch, 1);
    ck_assert_int_eq(g.seen[1].topics_count, 1);
    ck_assert_int_eq(g.seen[1].fetch_offset, 9);
    /* 3, 4: nothing changed, nothing named */
    ck_assert_int_eq(g.seen[2].session_id, 42);
    ck_assert_int_eq(g.seen[2].session_epoch, 2);
    ck_assert_int_eq(g.seen[2].topics_count, 0);
    ck_assert_int_eq(g.seen[3].session_epoch, 3);
    ck_assert_int_eq(g.seen[3].topics_count, 0);
    check_log_is_lead_prefix(9);

    /* the leader refuses the epoch: the same session id, a full request */
    g.reply = REPLY_TOP_ERROR;
    g.error_code = 71;
    int n = g.requests;
    g_want = n + 2;
    ck_assert(run_until(requests_reach, 5000));
    ck_assert_int_eq(g.seen[n].session_epoch, 4); /* sent before the refusal: the one refused */
    ck_assert_int_eq(g.seen[n + 1].session_id, 42);
    ck_assert_int_eq(g.seen[n + 1].session_epoch, 0);
    ck_assert_int_eq(g.seen[n + 1].topics_count, 1);
    ck_assert_int_eq(g.seen[n + 1].fetch_offset, 9);
    /* the leader does not know the session: a new one */
    g.error_code = 70;
    n = g.requests;
    g_want = n + 2;
    ck_assert(run_until(requests_reach, 5000));
    ck_assert_int_eq(g.seen[n + 1].session_id, 0);
    ck_assert_int_eq(g.seen[n + 1].session_epoch, 0);
    ck_assert_int_eq(g.seen[n + 1].topics_count, 1);
    /* granted again: incremental from epoch 1 */
    g.reply = REPLY_RECORDS;
    n = g.requests;
    g_want = n + 3;
    ck_assert(run_until(requests_reach, 5000));
    ck_assert_int_eq(g.seen[n + 1].session_id, 42);
    ck_assert_int_eq(g.seen[n + 1].session_epoch, 1);
    ck_assert_int_eq(g.seen[n + 2].session_epoch, 2);
    ck_assert_int_eq(g.seen[n + 2].topics_count, 0);
    ck_assert_int_eq(brk_plog_end_offset(g.part.plog), 9);
}
END_TEST

START_TEST(test_malformed_response_reconnects)
{
    g.reply = REPLY_GARBAGE;
    brk_fetcher_follow(g.f, &g.part);
    g_want = 1;
    ck_assert(run_until(requests_reach, 5000));
    g.reply = REPLY_RECORDS;
    g_want = 2;
    ck_assert(run_until(accepts_reach, 5000)); /* closed, then opened again after the backoff */
    g_want = 2;
    ck_assert(run_until(requests_reach, 5000));
    ck_assert_int_eq(g.last.fetch_offset, 0); /* nothing taken from the bad answer */
    g_want = 3;
    ck_assert(run_until(requests_reach, 5000));
    check_log_is_lead_prefix(9);
}
END_TEST

static void append_done_cb(void *arg, int rc)
{
    *(int *)arg = rc;
}

START_TEST(test_diverging_epoch_truncates)
{
    /* our log: the leader's epoch 1, then an epoch 2 the leader never had */
    uint8_t mine[1024];
    size_t n = lead_batch(mine, 0, 1, 2);
    n += lead_batch(mine + n, 2, 1, 2);
    n += lead_batch(mine + n, 4, 2, 4);
    int rc_cb = 1;
    ck_assert_int_eq(brk_replica_follower_append(&g.part, bytes_make(mine, n), append_done_cb, &rc_cb), 0);
    ck_assert_int_ge(uring_submit(g.u), 0);
    ck_assert_int_eq(uring_drain(g.u), 0);
    ck_assert_int_eq(rc_cb, 0);
    ck_assert_int_eq(brk_plog_end_offset(g.part.plog), 8);
    g.reply = REPLY_DIVERGING;
    g.div_epoch = 1;
    g.div_end = 4;
    brk_fetcher_follow(g.f, &g.part);
    g_want = 1;
    ck_assert(run_until(requests_reach, 5000));
    ck_assert_int_eq(g.last.fetch_offset, 8);
    ck_assert_int_eq(g.last.last_fetched_epoch, 2);
    g.reply = REPLY_RECORDS;
    g_want = 3;
    ck_assert(run_until(requests_reach, 5000));
    check_log_is_lead_prefix(9); /* cut at 4, then the leader's epoch 3 */
    ck_assert_int_eq(brk_epoch_cache_latest_epoch(&g.rep.epochs), 3);
}
END_TEST

START_TEST(test_unfollow_drops_answer_in_flight)
{
    g.reply = REPLY_HOLD;
    brk_fetcher_follow(g.f, &g.part);
    g_want = 1;
    ck_assert(run_until(requests_reach, 5000));
    brk_fetcher_unfollow(g.f, &g.part);
    ck_assert_ptr_null(g.rep.fetch);
    if (g.conn != NULL)
        leader_send(g.held_corr, REPLY_RECORDS);
    run_until(never, 100);
    ck_assert_int_eq(brk_plog_end_offset(g.part.plog), 0);
    ck_assert_int_eq(g.requests, 1);
    /* followed again: fetching resumes from our log end */
    g.reply = REPLY_RECORDS;
    brk_fetcher_follow(g.f, &g.part);
    g_want = 3;
    ck_assert(run_until(requests_reach, 5000));
    check_log_is_lead_prefix(9);
}
END_TEST

START_TEST(test_fenced_pauses_unknown_epoch_retries)
{
    g.reply = REPLY_ERROR;
    g.error_code = 75; /* UNKNOWN_LEADER_EPOCH: the leader lags; retried */
    brk_fetcher_follow(g.f, &g.part);
    g_want = 3;
    ck_assert(run_until(requests_reach, 5000));
    g.error_code = 74; /* FENCED_LEADER_EPOCH: paused until the metadata moves */
    int before = g.requests;
    g_want = before + 1;
    ck_assert(run_until(requests_reach, 5000));
    before = g.requests;
    run_until(never, 200); /* ten backoffs */
    ck_assert_int_eq(g.requests, before);
    g.rep.leader_epoch = 4;
    g.reply = REPLY_RECORDS;
    brk_fetcher_follow(g.f, &g.part);
    g_want = before + 1;
    ck_assert(run_until(requests_reach, 5000));
    ck_assert_int_eq(g.last.current_leader_epoch, 4);
}
END_TEST

START_TEST(test_no_fetch_before_registration)
{
    g.ctx.registered = false; /* no broker epoch yet: the leader would refuse it */
    g.reply = REPLY_RECORDS;
    brk_fetcher_follow(g.f, &g.part);
    run_until(never, 200);
    ck_assert_int_eq(g.requests, 0);
    g.ctx.registered = true;
    g_want = 1;
    ck_assert(run_until(requests_reach, 5000));
    ck_assert_int_eq(g.last.replica_epoch, 77);
}
END_TEST

int main(void)
{
    log_set_level(getenv("FETCHER_LOG") ? LOG_DEBUG : LOG_OFF);
    Suite *s = suite_create("brk_fetcher");
    TCase *tc = tcase_create("fetcher");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_fetch_append_and_hw);
    tcase_add_test(tc, test_malformed_response_reconnects);
    tcase_add_test(tc, test_incremental_session);
    tcase_add_test(tc, test_diverging_epoch_truncates);
    tcase_add_test(tc, test_unfollow_drops_answer_in_flight);
    tcase_add_test(tc, test_fenced_pauses_unknown_epoch_retries);
    tcase_add_test(tc, test_no_fetch_before_registration);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
