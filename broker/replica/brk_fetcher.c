/*
 * brk_fetcher.c - follower fetch sessions (brk_fetcher.h): connections to
 * leaders, Fetch v15 requests and responses through the generated codec,
 * and the per-partition state machine drawn in the header.  The follower's
 * log work (append, HW, truncation, reset) is brk_follower.c's; this file
 * only decides when to call it.
 *
 * Invariants:
 *  - a followed partition has one struct brk_fetcher_part (part->replica->
 *    fetch), in exactly one session's list; an unfollowed one is detached
 *    (s == NULL, part == NULL) and freed when its last append is back;
 *  - a session has at most one request in flight, and sends the next only
 *    when none of its partitions has an append in flight;
 *  - a response's partition is applied only if it is still in this session,
 *    was in that request, and its leader epoch did not change since.
 *
 * Kafka error codes are read here only (the follower's protocol edge); the
 * names are Kafka's.
 */
#include "broker/replica/brk_fetcher.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/brk_ctx.h"
#include "broker/log/brk_part.h"
#include "broker/log/brk_plog.h"
#include "broker/replica/brk_replica.h"
#include "broker/replica/brk_rthrottle.h"
#include "common/arena.h"
#include "common/be.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/kwire.h"
#include "common/log.h"
#include "controller/ctrl.h"
#include "controller/ctrl_image.h"
#include "kmsg.h"

#define BRK_FETCHER_API_VERSION 15
#define BRK_FETCHER_CLIENT_ID "samsa-replica-fetcher"
#define BRK_FETCHER_REQUEST_TIMEOUT_MS 30000 /* Kafka's replica.socket.timeout.ms, past the long poll */
#define BRK_FETCHER_FRAME_BYTES_MIN (256u << 20) /* largest response accepted, at least */
#define BRK_FETCHER_IO_RETRY_MS 10            /* a truncation waits for the log's own I/O */
#define BRK_FETCHER_REGISTER_POLL_MS 50       /* no fetch before this broker is registered */
#define BRK_FETCHER_WARN_INTERVAL_NS (10LL * 1000000000LL)
#define BRK_FETCHER_ARENA_BYTES_MAX (64u << 20)
#define BRK_FETCHER_READS_PER_EVENT 64 /* reads per readable event before other sessions' turn */

/* Kafka error codes a follower acts on */
enum {
    KAFKA_NONE = 0,
    KAFKA_OFFSET_OUT_OF_RANGE = 1,
    KAFKA_UNKNOWN_TOPIC_OR_PARTITION = 3,
    KAFKA_NOT_LEADER_OR_FOLLOWER = 6,
    KAFKA_FENCED_LEADER_EPOCH = 74,
    KAFKA_FETCH_SESSION_ID_NOT_FOUND = 70,
    KAFKA_INVALID_FETCH_SESSION_EPOCH = 71,
    KAFKA_UNKNOWN_LEADER_EPOCH = 75,
    KAFKA_UNKNOWN_TOPIC_ID = 100,
};

enum brk_fetcher_part_state {
    BRK_FP_FETCHING = 0,
    BRK_FP_PAUSED,  /* until the next brk_fetcher_follow */
};

struct brk_fetch_session;

/* A fetch response frame.  The follower appends its records from here without
 * a copy (brk_replica_follower_append_borrowed), so a partition whose append is
 * in flight holds a reference; the session reads the next response into
 * another one meanwhile.  Freed ones are kept for reuse (BRK_FETCHER_RBUF_SPARES):
 * reusing warm memory costs no page faults.  State thread. */
struct fetch_rbuf {
    int refs;
    struct fetch_rbuf *next; /* in f->rbuf_spares */
    struct buf b;
};

struct brk_fetcher_part {
    struct brk_fetcher_part *next;   /* in s->parts */
    struct brk_fetch_session *s;     /* NULL: detached (unfollowed) */
    struct brk_part *part;           /* NULL: detached */
    struct brk_fetcher *f;
    uint8_t topic_id[16];
    int32_t partition;
    int32_t leader_epoch;            /* sent as current_leader_epoch */
    enum brk_fetcher_part_state state;
    int64_t retry_ns;                /* backoff: not fetched before this (0: now) */
    int appends;                     /* appends in flight (at most one: see fp_fetchable) */
    struct fetch_rbuf *held;         /* the response the append in flight borrows */
    bool in_request;                 /* in the session's request in flight */
    int32_t sent_epoch;              /* leader_epoch when that request was built */
    int64_t sent_offset;             /* its fetch offset */
    bool truncate_pending;           /* a diverging epoch waits for the appends */
    int32_t diverging_epoch;
    int64_t diverging_end_offset;
    bool reset_pending;              /* a reset waits for the appends */
    int64_t reset_offset;
    int64_t leader_hw;               /* applied once the appends are back */
    int64_t leader_log_start;
    int16_t last_error;              /* Kafka's code of the last answer: logged when it changes */
    bool in_msg;                     /* named in the request being built */
    bool in_fs;                      /* in the leader's fetch session, with the fs_* state below */
    int64_t fs_offset;
    int32_t fs_leader_epoch;
    int32_t fs_last_epoch;
    int64_t fs_log_start;
    int64_t fs_durable;              /* samsa.acks.all.fsync: the durable offset the leader has */
};

struct brk_fetch_session {
    struct brk_fetch_session *next;
    struct brk_fetcher *f;
    int32_t leader_id;
    int32_t index;                   /* 0 .. num.replica.fetchers - 1 */
    struct bufferevent *bev;         /* NULL: not connected; connects and writes */
    struct event *rev;               /* reads, once connected: straight into s->in (session_sock_read_cb) */
    uint8_t hdr[4];                  /* the next response's size, as it arrives */
    uint32_t hdr_len;
    uint32_t frame_size;             /* the response being read (0: its size is not all here) */
    bool connected;
    bool in_flight;
    int32_t correlation_id;
    int64_t reconnect_ns;            /* no connection attempt before this */
    int64_t request_deadline_ns;
    struct event *timer;             /* backoff, request timeout, I/O retry */
    struct event *kick;              /* pump from the loop, never from inside a callback */
    struct brk_fetcher_part *parts;
    int32_t part_count;
    struct buf out;
    struct fetch_rbuf *in;           /* the last response read; NULL: none */
    struct arena arena;
    int64_t warn_ns;                 /* rate limit for the connection's warnings */
    int32_t fs_id;                   /* the leader's fetch session (KIP-227); 0: none */
    int32_t fs_epoch;                /* the next request's; 0: a full one (opens a session) */
    bool fs_restart;                 /* the next request is full (set while one may fly: fs_epoch
                                      * must stay the in-flight request's until its answer) */
};

struct brk_fetcher {
    struct brk_ctx *ctx;
    brk_fetcher_endpoint_fn endpoint_fn; /* tests: instead of the metadata image */
    void *endpoint_arg;
    struct evdns_base *dns;
    struct brk_fetch_session *sessions;
    int32_t session_count;
    bool stopping;
    struct fetch_rbuf *rbuf_spares;
    int rbuf_spare_count;
};

#define BRK_FETCHER_RBUF_SPARES 4

static struct fetch_rbuf *rbuf_get(struct brk_fetcher *f)
{
    struct fetch_rbuf *rb = f->rbuf_spares;
    if (rb != NULL) {
        f->rbuf_spares = rb->next;
        f->rbuf_spare_count--;
    } else {
        rb = calloc(1, sizeof *rb);
        if (rb == NULL)
            return NULL;
        buf_init(&rb->b, 0);
    }
    rb->refs = 1;
    rb->next = NULL;
    buf_reset(&rb->b);
    return rb;
}

static void rbuf_put(struct brk_fetcher *f, struct fetch_rbuf *rb)
{
    ASSERT(rb->refs > 0);
    if (--rb->refs > 0)
        return;
    if (f->rbuf_spare_count < BRK_FETCHER_RBUF_SPARES) {
        rb->next = f->rbuf_spares;
        f->rbuf_spares = rb;
        f->rbuf_spare_count++;
        return;
    }
    buf_deinit(&rb->b);
    free(rb);
}

static void session_pump(struct brk_fetch_session *s);

static int64_t ms_to_ns(int64_t ms)
{
    return ms * 1000000;
}

static void session_kick(struct brk_fetch_session *s)
{
    if (!s->f->stopping)
        event_active(s->kick, 0, 0);
}

static void session_timer_at(struct brk_fetch_session *s, int64_t at_ns)
{
    int64_t d = at_ns - clock_mono_ns();
    if (d < 0)
        d = 0;
    struct timeval tv = { (time_t)(d / 1000000000), (suseconds_t)(d % 1000000000 / 1000) };
    if (event_add(s->timer, &tv) < 0)
        log_error("fetcher", "timer not armed leader=%d session=%d: event_add failed; the session waits for "
                  "the next metadata change", s->leader_id, s->index);
}

static bool session_warn_ok(struct brk_fetch_session *s)
{
    int64_t now = clock_mono_ns();
    if (s->warn_ns != 0 && now - s->warn_ns < BRK_FETCHER_WARN_INTERVAL_NS)
        return false;
    s->warn_ns = now;
    return true;
}

/* ---- connection ----------------------------------------------------------- */

static void session_close(struct brk_fetch_session *s, const char *why, bool backoff)
{
    if (s->rev != NULL) {
        event_free(s->rev); /* before the bufferevent closes the socket */
        s->rev = NULL;
    }
    s->hdr_len = 0;
    s->frame_size = 0;
    if (s->bev != NULL) {
        bufferevent_free(s->bev);
        s->bev = NULL;
    }
    s->connected = false;
    s->in_flight = false;
    s->fs_id = 0; /* a new connection opens a new session */
    s->fs_epoch = 0;
    s->fs_restart = false;
    for (struct brk_fetcher_part *fp = s->parts; fp != NULL; fp = fp->next) {
        fp->in_request = false;
        fp->in_fs = false;
    }
    if (s->in != NULL) {
        rbuf_put(s->f, s->in);
        s->in = NULL;
    }
    event_del(s->timer);
    if (why != NULL && session_warn_ok(s))
        log_warn("fetcher", "connection to leader closed leader=%d session=%d partitions=%d reason=\"%s\"; "
                 "reconnecting in replica.fetch.backoff.ms=%" PRId64,
                 s->leader_id, s->index, s->part_count, why, s->f->ctx->node->replica_fetch_backoff_ms);
    if (backoff) {
        s->reconnect_ns = clock_mono_ns() + ms_to_ns(s->f->ctx->node->replica_fetch_backoff_ms);
        session_timer_at(s, s->reconnect_ns);
    }
}

/* The leader's endpoint for inter.broker.listener.name; NULL (logged) if unknown. */
static const struct ctrl_endpoint *session_endpoint(struct brk_fetch_session *s)
{
    const struct brk_ctx *ctx = s->f->ctx;
    if (s->f->endpoint_fn != NULL)
        return s->f->endpoint_fn(s->f->endpoint_arg, s->leader_id);
    const struct ctrl_image *img = ctrl_metadata(ctx->ctrl);
    const struct ctrl_broker *b = img != NULL ? ctrl_image_broker_find(img, s->leader_id) : NULL;
    if (b == NULL) {
        if (session_warn_ok(s))
            log_warn("fetcher", "leader is not registered leader=%d; waiting for its registration", s->leader_id);
        return NULL;
    }
    for (int32_t i = 0; i < b->endpoint_count; i++)
        if (strcmp(b->endpoints[i].name, ctx->node->inter_broker_listener_name) == 0)
            return &b->endpoints[i];
    if (session_warn_ok(s))
        log_error("fetcher", "leader has no endpoint for inter.broker.listener.name=%s leader=%d "
                  "fix=\"give every broker a listener named %s, or set inter.broker.listener.name to a "
                  "listener they all have\"", ctx->node->inter_broker_listener_name, s->leader_id,
                  ctx->node->inter_broker_listener_name);
    return NULL;
}

static void session_sock_read_cb(evutil_socket_t fd, short what, void *arg);
static void session_event_cb(struct bufferevent *bev, short what, void *arg);

static void session_connect(struct brk_fetch_session *s)
{
    ASSERT(s->bev == NULL);
    const struct ctrl_endpoint *ep = session_endpoint(s);
    if (ep == NULL) {
        s->reconnect_ns = clock_mono_ns() + ms_to_ns(s->f->ctx->node->replica_fetch_backoff_ms);
        session_timer_at(s, s->reconnect_ns);
        return;
    }
    s->bev = bufferevent_socket_new(s->f->ctx->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (s->bev == NULL) {
        session_close(s, "out of memory for the connection", true);
        return;
    }
    bufferevent_setcb(s->bev, NULL, NULL, session_event_cb, s);
    if (bufferevent_enable(s->bev, EV_WRITE) < 0) {
        session_close(s, "bufferevent_enable failed", true);
        return;
    }
    if (s->warn_ns == 0) /* the first attempt since the last success; retries are logged by their failure */
        log_info("fetcher", "connecting to leader leader=%d session=%d host=%s port=%d listener=%s", s->leader_id,
                 s->index, ep->host, ep->port, ep->name);
    else
        log_debug("fetcher", "connecting to leader leader=%d session=%d host=%s port=%d", s->leader_id, s->index,
                  ep->host, ep->port);
    /* numeric hosts connect at once; names resolve through evdns (never blocks) */
    if (bufferevent_socket_connect_hostname(s->bev, s->f->dns, AF_UNSPEC, ep->host, ep->port) < 0) {
        if (s->bev != NULL)
            session_close(s, "connect failed at once", true);
    }
}

static void session_event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct brk_fetch_session *s = arg;
    if (what & BEV_EVENT_CONNECTED) {
        int fd = bufferevent_getfd(s->bev);
        int one = 1;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
            log_debug("fetcher", "TCP_NODELAY not set leader=%d", s->leader_id);
        /* responses are read by our own event, into their buffer: the
         * bufferevent's reads (at most 4 KiB-16 KiB each, an ioctl(FIONREAD)
         * apiece, then a copy out of the evbuffer) were 23% of the cluster's
         * CPU under RF=3 produce */
        s->rev = event_new(s->f->ctx->base, fd, EV_READ | EV_PERSIST, session_sock_read_cb, s);
        if (s->rev == NULL || event_add(s->rev, NULL) < 0) {
            session_close(s, "cannot watch the connection for reads (event_new/event_add failed)", true);
            return;
        }
        s->connected = true;
        s->warn_ns = 0;
        log_info("fetcher", "connected to leader leader=%d session=%d partitions=%d", s->leader_id, s->index,
                 s->part_count);
        session_kick(s);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        char why[160];
        int dns_err = bufferevent_socket_get_dns_error(s->bev);
        if (dns_err != 0)
            snprintf(why, sizeof why, "cannot resolve the leader's host: %s", evutil_gai_strerror(dns_err));
        else if (what & BEV_EVENT_EOF)
            snprintf(why, sizeof why, "the leader closed the connection");
        else
            snprintf(why, sizeof why, "%s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        session_close(s, why, true);
    }
}

/* ---- requests ----------------------------------------------------------- */

static bool fp_fetchable(const struct brk_fetcher_part *fp, int64_t now_ns)
{
    return fp->state == BRK_FP_FETCHING && fp->appends == 0 && !fp->truncate_pending && !fp->reset_pending &&
           fp->retry_ns <= now_ns;
}

static int32_t fs_epoch_next(int32_t epoch)
{
    return epoch == INT32_MAX ? 1 : epoch + 1;
}

/* Encode and send one Fetch v15 for the fetchable partitions (n of them).
 * With a fetch session (KIP-227) open at the leader, only the partitions
 * whose fetch state changed are named, and the ones no longer fetchable
 * (backoff, paused, truncating) are forgotten; the leader fetches the rest
 * of the session as before.  Every fetchable partition is in the request. */
static int session_send(struct brk_fetch_session *s, int32_t n)
{
    const struct config_node *node = s->f->ctx->node;
    arena_reset(&s->arena);
    struct kmsg_fetch_req req;
    kmsg_fetch_req_init(&req);
    req.replica_state.replica_id = node->node_id;
    req.replica_state.replica_epoch = s->f->ctx->broker_epoch;
    req.max_wait_ms = (int32_t)node->replica_fetch_wait_max_ms;
    req.min_bytes = (int32_t)node->replica_fetch_min_bytes;
    req.max_bytes = (int32_t)node->replica_fetch_response_max_bytes;
    req.isolation_level = 0;
    if (s->fs_restart) {
        s->fs_restart = false;
        s->fs_epoch = 0;
    }
    bool full = s->fs_epoch == 0;
    req.session_id = s->fs_id; /* with epoch 0: that one closes, a new one opens */
    req.session_epoch = s->fs_epoch;
    req.topics = arena_alloc_array(&s->arena, (size_t)n, sizeof *req.topics);
    struct kmsg_fetch_req_partition *ps = arena_alloc_array(&s->arena, (size_t)n, sizeof *ps);
    req.forgotten_topics_data = arena_alloc_array(&s->arena, (size_t)s->part_count + 1,
                                                  sizeof *req.forgotten_topics_data);
    int32_t *forgotten = arena_alloc_array(&s->arena, (size_t)s->part_count + 1, sizeof *forgotten);
    if (req.topics == NULL || ps == NULL || req.forgotten_topics_data == NULL || forgotten == NULL)
        return ERR_LIMIT;
    int64_t now = clock_mono_ns();
    int32_t used = 0, named = 0;
    /* group the named partitions by topic: each topic's partitions sit together in ps */
    for (struct brk_fetcher_part *fp = s->parts; fp != NULL; fp = fp->next) {
        fp->in_request = false;
        fp->in_msg = false;
        if (!fp_fetchable(fp, now)) {
            if (fp->in_fs && !full) { /* one entry per partition: the leader takes them one by one */
                int32_t k = req.forgotten_topics_data_count++;
                struct kmsg_fetch_req_forgotten_topic *ft = &req.forgotten_topics_data[k];
                kmsg_fetch_req_forgotten_topic_init(ft);
                memcpy(ft->topic_id, fp->topic_id, 16);
                forgotten[k] = fp->partition;
                ft->partitions = &forgotten[k];
                ft->partitions_count = 1;
            }
            fp->in_fs = false;
            continue;
        }
        fp->in_request = true;
        fp->sent_epoch = fp->leader_epoch;
        used++;
        int64_t offset;
        int32_t last_epoch;
        brk_replica_fetch_position(fp->part, &offset, &last_epoch);
        int64_t log_start = brk_plog_start_offset(fp->part->plog);
        int64_t durable = brk_replica_durable_offset(fp->part);
        fp->sent_offset = offset;
        if (brk_replica_durable_pending(fp->part) && req.max_wait_ms > BRK_REPLICA_SYNC_POLL_MS)
            req.max_wait_ms = BRK_REPLICA_SYNC_POLL_MS; /* samsa.acks.all.fsync: report the sync soon after it completes */
        if (!full && fp->in_fs && fp->fs_offset == offset && fp->fs_leader_epoch == fp->leader_epoch &&
            fp->fs_last_epoch == last_epoch && fp->fs_log_start == log_start && fp->fs_durable == durable)
            continue; /* the leader's session has it as it is */
        fp->in_fs = true;
        fp->fs_offset = offset;
        fp->fs_leader_epoch = fp->leader_epoch;
        fp->fs_last_epoch = last_epoch;
        fp->fs_log_start = log_start;
        fp->fs_durable = durable;
        fp->in_msg = true;
        named++;
        int32_t t = 0;
        while (t < req.topics_count && memcmp(req.topics[t].topic_id, fp->topic_id, 16) != 0)
            t++;
        if (t == req.topics_count) {
            kmsg_fetch_req_topic_init(&req.topics[t]);
            memcpy(req.topics[t].topic_id, fp->topic_id, 16);
            req.topics_count++;
        }
    }
    ASSERT(used == n);
    /* lay the named partitions out topic by topic */
    int32_t at = 0;
    for (int32_t t = 0; t < req.topics_count; t++) {
        req.topics[t].partitions = &ps[at];
        for (struct brk_fetcher_part *fp = s->parts; fp != NULL; fp = fp->next) {
            if (!fp->in_msg || memcmp(fp->topic_id, req.topics[t].topic_id, 16) != 0)
                continue;
            struct kmsg_fetch_req_partition *p = &ps[at++];
            kmsg_fetch_req_partition_init(p);
            p->partition = fp->partition;
            p->current_leader_epoch = fp->leader_epoch;
            p->fetch_offset = fp->fs_offset;
            p->last_fetched_epoch = fp->fs_last_epoch;
            p->log_start_offset = fp->fs_log_start;
            p->samsa_durable_offset = fp->fs_durable; /* samsa.acks.all.fsync */
            p->partition_max_bytes = (int32_t)node->replica_fetch_max_bytes;
            req.topics[t].partitions_count++;
        }
    }
    ASSERT(at == named);
    buf_reset(&s->out);
    int32_t corr = ++s->correlation_id;
    int rc = kwire_write_i32(&s->out, 0);
    if (rc == 0)
        rc = kwire_write_i16(&s->out, KMSG_API_FETCH);
    if (rc == 0)
        rc = kwire_write_i16(&s->out, BRK_FETCHER_API_VERSION);
    if (rc == 0)
        rc = kwire_write_i32(&s->out, corr);
    if (rc == 0)
        rc = kwire_write_string(&s->out, bytes_cstr(BRK_FETCHER_CLIENT_ID));
    if (rc == 0)
        rc = kwire_write_empty_tags(&s->out);
    if (rc == 0)
        rc = kmsg_fetch_req_encode(&s->out, BRK_FETCHER_API_VERSION, &req);
    if (rc < 0)
        return rc;
    be_put32(s->out.ptr, (uint32_t)(s->out.len - 4));
    if (bufferevent_write(s->bev, s->out.ptr, s->out.len) < 0)
        return -ENOMEM;
    s->in_flight = true;
    s->request_deadline_ns = now + ms_to_ns(node->replica_fetch_wait_max_ms + BRK_FETCHER_REQUEST_TIMEOUT_MS);
    session_timer_at(s, s->request_deadline_ns);
    log_trace("fetcher", "fetch sent leader=%d session=%d correlation_id=%d partitions=%d", s->leader_id, s->index,
              corr, n);
    return 0;
}

/* Truncations and resets waiting for their appends; false: the log's own
 * I/O is still in flight, try again shortly. */
static bool session_run_pending(struct brk_fetch_session *s)
{
    bool all = true;
    for (struct brk_fetcher_part *fp = s->parts; fp != NULL; fp = fp->next) {
        if (fp->appends > 0)
            continue;
        if (fp->truncate_pending) {
            bool done = true;
            int rc = brk_replica_follower_truncate(fp->part, fp->diverging_epoch, fp->diverging_end_offset, &done);
            if (rc == ERR_INVALID) {
                all = false;
                continue;
            }
            fp->truncate_pending = false;
            if (rc < 0)
                fp->retry_ns = clock_mono_ns() + ms_to_ns(s->f->ctx->node->replica_fetch_backoff_ms);
        }
        if (fp->reset_pending) {
            int rc = brk_replica_follower_reset(fp->part, fp->reset_offset);
            if (rc == ERR_INVALID) {
                all = false;
                continue;
            }
            fp->reset_pending = false;
            if (rc < 0)
                fp->retry_ns = clock_mono_ns() + ms_to_ns(s->f->ctx->node->replica_fetch_backoff_ms);
        }
    }
    return all;
}

static void session_pump(struct brk_fetch_session *s)
{
    if (s->f->stopping || s->in_flight)
        return;
    if (!s->f->ctx->registered) {
        /* a fetch carries our broker epoch, which the registration assigns:
         * before it the leader would refuse it as a stale incarnation */
        session_timer_at(s, clock_mono_ns() + ms_to_ns(BRK_FETCHER_REGISTER_POLL_MS));
        return;
    }
    if (!session_run_pending(s)) {
        session_timer_at(s, clock_mono_ns() + ms_to_ns(BRK_FETCHER_IO_RETRY_MS));
        return;
    }
    int64_t now = clock_mono_ns();
    int32_t n = 0;
    int64_t wake_ns = INT64_MAX;
    for (struct brk_fetcher_part *fp = s->parts; fp != NULL; fp = fp->next) {
        if (fp->appends > 0)
            return; /* the next fetch goes out once the last response is in the log */
        if (fp_fetchable(fp, now)) /* KIP-73: a throttled replica catching up waits out the follower quota */
            fp->retry_ns = now + brk_rthrottle_follower_hold_ns(s->f->ctx, fp->part, now);
        if (fp_fetchable(fp, now))
            n++;
        else if (fp->state == BRK_FP_FETCHING && fp->retry_ns < wake_ns)
            wake_ns = fp->retry_ns;
    }
    if (s->part_count == 0 && s->bev != NULL) {
        log_info("fetcher", "no partition left to fetch from leader=%d session=%d; closing the connection",
                 s->leader_id, s->index);
        session_close(s, NULL, false);
    }
    if (n == 0) {
        if (wake_ns != INT64_MAX)
            session_timer_at(s, wake_ns);
        return; /* nothing to fetch: idle until a backoff ends or a follow */
    }
    if (s->bev == NULL) {
        if (now < s->reconnect_ns)
            session_timer_at(s, s->reconnect_ns);
        else
            session_connect(s);
        return;
    }
    if (!s->connected)
        return; /* the connect event pumps again */
    int rc = session_send(s, n);
    if (rc < 0) {
        log_error("fetcher", "cannot build a fetch request leader=%d session=%d partitions=%d error=\"%s\"",
                  s->leader_id, s->index, n, err_str(rc));
        session_close(s, "request not built", true);
    }
}

static void session_kick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    session_pump(arg);
}

static void session_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct brk_fetch_session *s = arg;
    if (s->in_flight && clock_mono_ns() >= s->request_deadline_ns) {
        session_close(s, "no response within replica.fetch.wait.max.ms + 30 s", true);
        return;
    }
    session_pump(s);
}

/* ---- responses ---------------------------------------------------------- */

static void fp_free_if_done(struct brk_fetcher_part *fp)
{
    if (fp->s == NULL && fp->appends == 0)
        free(fp);
}

/* The partition's appends of the last response are all back. */
static void fp_settled(struct brk_fetcher_part *fp)
{
    if (fp->leader_hw >= 0)
        brk_replica_follower_hw(fp->part, fp->leader_hw);
    struct brk_plog *pl = fp->part->plog;
    int64_t ls = fp->leader_log_start;
    if (ls > brk_plog_start_offset(pl)) {
        /* the leader deleted records (retention, DeleteRecords): follow it (Kafka's maybeIncrementLogStartOffset) */
        int64_t to = ls < brk_plog_end_offset(pl) ? ls : brk_plog_end_offset(pl);
        int rc = brk_plog_delete_records(pl, to);
        if (rc < 0)
            log_warn("fetcher", "log start not moved to the leader's topic=%s partition=%d leader_log_start=%" PRId64
                     " error=\"%s\"", fp->part->topic, fp->part->partition, ls, err_str(rc));
    }
    fp->leader_hw = -1;
    fp->leader_log_start = -1;
}

static void fp_append_cb(void *arg, int rc)
{
    struct brk_fetcher_part *fp = arg;
    ASSERT(fp->appends > 0);
    fp->appends--;
    if (fp->appends == 0 && fp->held != NULL) {
        rbuf_put(fp->f, fp->held); /* the log is done with the records */
        fp->held = NULL;
    }
    if (fp->s == NULL) { /* unfollowed meanwhile */
        fp_free_if_done(fp);
        return;
    }
    if (rc < 0) {
        log_warn("fetcher", "follower append failed topic=%s partition=%d leader=%d error=\"%s\"; fetching again in "
                 "replica.fetch.backoff.ms", fp->part->topic, fp->part->partition, fp->s->leader_id, err_str(rc));
        fp->retry_ns = clock_mono_ns() + ms_to_ns(fp->f->ctx->node->replica_fetch_backoff_ms);
    }
    if (fp->appends == 0) {
        if (rc == 0)
            fp_settled(fp);
        session_kick(fp->s);
    }
}

static void fp_backoff(struct brk_fetcher_part *fp)
{
    fp->retry_ns = clock_mono_ns() + ms_to_ns(fp->f->ctx->node->replica_fetch_backoff_ms);
}

static void fp_apply(struct brk_fetch_session *s, struct brk_fetcher_part *fp, const struct kmsg_fetch_resp_partition *rp)
{
    struct brk_part *part = fp->part;
    int16_t ec = rp->error_code;
    if (ec == KAFKA_NONE && rp->diverging_epoch.epoch >= 0 && rp->diverging_epoch.end_offset >= 0) {
        fp->truncate_pending = true;
        fp->diverging_epoch = rp->diverging_epoch.epoch;
        fp->diverging_end_offset = rp->diverging_epoch.end_offset;
        log_info("fetcher", "leader reports a diverging epoch topic=%s partition=%d leader=%d fetch_offset=%" PRId64
                 " diverging_epoch=%d leader_end_offset=%" PRId64, part->topic, part->partition, s->leader_id,
                 fp->sent_offset, fp->diverging_epoch, fp->diverging_end_offset);
        return;
    }
    switch (ec) {
    case KAFKA_NONE:
        break;
    case KAFKA_OFFSET_OUT_OF_RANGE:
        if (rp->log_start_offset > fp->sent_offset) {
            fp->reset_pending = true;
            fp->reset_offset = rp->log_start_offset;
        } else {
            log_warn("fetcher", "fetch offset out of the leader's range topic=%s partition=%d leader=%d "
                     "fetch_offset=%" PRId64 " leader_log_start=%" PRId64 " leader_hw=%" PRId64
                     "; retrying in replica.fetch.backoff.ms", part->topic, part->partition, s->leader_id,
                     fp->sent_offset, rp->log_start_offset, rp->high_watermark);
            fp_backoff(fp);
        }
        return;
    case KAFKA_FENCED_LEADER_EPOCH:
        /* the leader is in a newer epoch: our metadata will follow (Kafka removes the partition until then) */
        log_info("fetcher", "leader is in a newer leader epoch topic=%s partition=%d leader=%d our_leader_epoch=%d; "
                 "paused until the metadata names the leader again", part->topic, part->partition, s->leader_id,
                 fp->leader_epoch);
        fp->state = BRK_FP_PAUSED;
        return;
    case KAFKA_NOT_LEADER_OR_FOLLOWER:
    case KAFKA_UNKNOWN_TOPIC_ID:
    case KAFKA_UNKNOWN_TOPIC_OR_PARTITION:
    case KAFKA_UNKNOWN_LEADER_EPOCH:
        /* the leader has not applied the metadata that makes it leader yet, or
         * ours moved on: retried after the backoff, as Kafka does (a pause
         * would wait for a follow that the same leader epoch never brings) */
        if (fp->last_error != ec)
            log_info("fetcher", "leader not ready for the fetch topic=%s partition=%d leader=%d leader_epoch=%d "
                     "error_code=%d (%s); retrying every replica.fetch.backoff.ms", part->topic, part->partition,
                     s->leader_id, fp->leader_epoch, ec,
                     ec == KAFKA_NOT_LEADER_OR_FOLLOWER ? "it does not lead the partition (yet)"
                     : ec == KAFKA_UNKNOWN_LEADER_EPOCH ? "it has not applied our leader epoch yet"
                                                        : "it does not know the topic (yet)");
        fp->last_error = ec;
        fp_backoff(fp);
        return;
    default:
        if (fp->last_error != ec)
            log_warn("fetcher", "fetch failed topic=%s partition=%d leader=%d error_code=%d; retrying every "
                     "replica.fetch.backoff.ms", part->topic, part->partition, s->leader_id, ec);
        fp->last_error = ec;
        fp_backoff(fp);
        return;
    }
    if (fp->last_error != KAFKA_NONE)
        log_info("fetcher", "fetching again topic=%s partition=%d leader=%d", part->topic, part->partition,
                 s->leader_id);
    fp->last_error = KAFKA_NONE;
    fp->leader_hw = rp->high_watermark;
    fp->leader_log_start = rp->log_start_offset;
    if (rp->records.ptr != NULL && rp->records.len > 0) {
        /* a trailing partial batch (the leader's size cap) is left for the next fetch */
        size_t whole = 0;
        while (whole < rp->records.len) {
            if (rp->records.len - whole < 12)
                break;
            uint32_t blen = be_get32(rp->records.ptr + whole + 8);
            if (blen > rp->records.len - whole - 12)
                break;
            whole += 12 + (size_t)blen;
        }
        if (whole > 0) {
            brk_rthrottle_follower_record(s->f->ctx, part, (int64_t)whole);
            /* the records point into s->in (the decoder borrows the frame), our own memory */
            ASSERT(s->in != NULL && rp->records.ptr >= s->in->b.ptr &&
                   rp->records.ptr + whole <= s->in->b.ptr + s->in->b.len);
            ASSERT(fp->appends == 0 && fp->held == NULL); /* fetched only with no append in flight */
            int rc = brk_replica_follower_append_borrowed(part, (uint8_t *)rp->records.ptr, whole, fp_append_cb, fp);
            if (rc == 0) {
                fp->appends++;
                fp->held = s->in;
                s->in->refs++;
                return;
            }
            if (rc != ERR_CORRUPT && rc != ERR_INVALID)
                log_warn("fetcher", "follower append refused topic=%s partition=%d leader=%d error=\"%s\"; "
                         "retrying in replica.fetch.backoff.ms", part->topic, part->partition, s->leader_id,
                         err_str(rc));
            fp_backoff(fp);
            fp->leader_hw = -1;
            fp->leader_log_start = -1;
            return;
        }
    }
    fp_settled(fp);
}

static struct brk_fetcher_part *session_find(struct brk_fetch_session *s, const uint8_t topic_id[16],
                                             int32_t partition)
{
    for (struct brk_fetcher_part *fp = s->parts; fp != NULL; fp = fp->next)
        if (fp->partition == partition && memcmp(fp->topic_id, topic_id, 16) == 0)
            return fp;
    return NULL;
}

/* One whole response frame (after the size).  < 0: malformed, reconnect. */
static int session_on_response(struct brk_fetch_session *s, struct bytes frame)
{
    struct kwire_reader r;
    kwire_reader_init(&r, frame);
    int32_t corr;
    int rc = kwire_read_i32(&r, &corr);
    if (rc < 0)
        return rc;
    if (!s->in_flight || corr != s->correlation_id)
        return ERR_DECODE;
    if ((rc = kwire_skip_tags(&r)) < 0)
        return rc;
    arena_reset(&s->arena);
    struct kmsg_fetch_resp resp;
    rc = kmsg_fetch_resp_decode(&r, BRK_FETCHER_API_VERSION, &s->arena, &resp);
    if (rc < 0)
        return rc;
    s->in_flight = false;
    event_del(s->timer);
    if (resp.error_code == KAFKA_FETCH_SESSION_ID_NOT_FOUND || resp.error_code == KAFKA_INVALID_FETCH_SESSION_EPOCH) {
        /* the leader lost or evicted our session (or restarted): a full request opens a new one, at once */
        log_info("fetcher", "fetch session reset by the leader leader=%d session=%d session_id=%d error_code=%d (%s); "
                 "sending a full fetch", s->leader_id, s->index, s->fs_id, resp.error_code,
                 resp.error_code == KAFKA_FETCH_SESSION_ID_NOT_FOUND ? "FETCH_SESSION_ID_NOT_FOUND"
                                                                     : "INVALID_FETCH_SESSION_EPOCH");
        if (resp.error_code == KAFKA_FETCH_SESSION_ID_NOT_FOUND)
            s->fs_id = 0;
        s->fs_epoch = 0;
        for (struct brk_fetcher_part *fp = s->parts; fp != NULL; fp = fp->next) {
            fp->in_request = false;
            fp->in_fs = false;
        }
        session_kick(s);
        return 0;
    }
    if (resp.error_code == KAFKA_NONE) {
        if (s->fs_epoch == 0)
            s->fs_id = resp.session_id; /* 0: the leader keeps none, every request stays full */
        if (s->fs_id != 0)
            s->fs_epoch = fs_epoch_next(s->fs_epoch);
        else
            for (struct brk_fetcher_part *fp = s->parts; fp != NULL; fp = fp->next)
                fp->in_fs = false;
    } else {
        s->fs_epoch = 0; /* start the session over with the next request */
    }
    if (resp.error_code != KAFKA_NONE) {
        log_warn("fetcher", "leader refused the fetch request leader=%d session=%d error_code=%d; retrying in "
                 "replica.fetch.backoff.ms", s->leader_id, s->index, resp.error_code);
        for (struct brk_fetcher_part *fp = s->parts; fp != NULL; fp = fp->next)
            if (fp->in_request)
                fp_backoff(fp);
    }
    for (int32_t t = 0; t < resp.responses_count && resp.error_code == KAFKA_NONE; t++) {
        const struct kmsg_fetch_resp_topic *rt = &resp.responses[t];
        for (int32_t i = 0; i < rt->partitions_count; i++) {
            const struct kmsg_fetch_resp_partition *rp = &rt->partitions[i];
            struct brk_fetcher_part *fp = session_find(s, rt->topic_id, rp->partition_index);
            if (fp == NULL || !fp->in_request || fp->sent_epoch != fp->leader_epoch ||
                fp->state != BRK_FP_FETCHING)
                continue; /* unfollowed, moved, re-followed with a new epoch meanwhile: dropped */
            fp->in_request = false;
            fp_apply(s, fp, rp);
        }
    }
    for (struct brk_fetcher_part *fp = s->parts; fp != NULL; fp = fp->next)
        fp->in_request = false; /* asked but not answered: asked again next time */
    session_kick(s);
    return 0;
}

static size_t session_frame_max(const struct brk_fetch_session *s)
{
    int64_t m = s->f->ctx->node->replica_fetch_response_max_bytes + (16 << 20);
    return m > (int64_t)BRK_FETCHER_FRAME_BYTES_MIN ? (size_t)m : BRK_FETCHER_FRAME_BYTES_MIN;
}

/* The connection is readable: the size of the next response, then the
 * response itself read straight into a response buffer (s->in) in as few
 * reads as the socket allows.  Returns once the socket has nothing more, or
 * the session closed. */
static void session_sock_read_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct brk_fetch_session *s = arg;
    struct event *me = s->rev; /* a close (or a reconnect) from a response's handling ends the loop */
    for (int round = 0; round < BRK_FETCHER_READS_PER_EVENT && s->rev == me && me != NULL; round++) {
        uint8_t *dst;
        size_t want;
        if (s->frame_size == 0) {
            dst = s->hdr + s->hdr_len;
            want = 4 - s->hdr_len;
        } else {
            dst = s->in->b.ptr + s->in->b.len;
            want = s->frame_size - s->in->b.len;
        }
        ssize_t got;
        do
            got = read(fd, dst, want);
        while (got < 0 && errno == EINTR);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (got <= 0) {
            char why[160];
            if (got == 0)
                snprintf(why, sizeof why, "the leader closed the connection");
            else
                snprintf(why, sizeof why, "read failed: %s", strerror(errno));
            session_close(s, why, true);
            return;
        }
        if (s->frame_size == 0) {
            s->hdr_len += (uint32_t)got;
            if (s->hdr_len < 4)
                continue;
            uint32_t size = be_get32(s->hdr);
            s->hdr_len = 0;
            if (size < 4 || size > session_frame_max(s)) {
                char why[96];
                snprintf(why, sizeof why, "response frame of %u bytes (limit %zu)", size, session_frame_max(s));
                session_close(s, why, true);
                return;
            }
            if (s->in != NULL && s->in->refs > 1) { /* appends still write from it: read into another */
                rbuf_put(s->f, s->in);
                s->in = NULL;
            }
            if (s->in == NULL && (s->in = rbuf_get(s->f)) == NULL) {
                session_close(s, "out of memory for a response", true);
                return;
            }
            buf_reset(&s->in->b);
            if (buf_reserve(&s->in->b, size) < 0) {
                session_close(s, "out of memory for a response", true);
                return;
            }
            s->frame_size = size;
            continue;
        }
        s->in->b.len += (size_t)got;
        if (s->in->b.len < s->frame_size)
            continue;
        s->frame_size = 0;
        int rc = session_on_response(s, buf_bytes(&s->in->b));
        if (rc < 0) {
            char why[96];
            snprintf(why, sizeof why, "malformed fetch response: %s", err_str(rc));
            session_close(s, why, true);
            return;
        }
    }
}

/* ---- sessions and partitions ------------------------------------------- */

static struct brk_fetch_session *session_get(struct brk_fetcher *f, int32_t leader_id, int32_t index)
{
    for (struct brk_fetch_session *s = f->sessions; s != NULL; s = s->next)
        if (s->leader_id == leader_id && s->index == index)
            return s;
    struct brk_fetch_session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->f = f;
    s->leader_id = leader_id;
    s->index = index;
    s->timer = event_new(f->ctx->base, -1, 0, session_timer_cb, s);
    s->kick = event_new(f->ctx->base, -1, 0, session_kick_cb, s);
    if (s->timer == NULL || s->kick == NULL) {
        if (s->timer)
            event_free(s->timer);
        if (s->kick)
            event_free(s->kick);
        free(s);
        return NULL;
    }
    buf_init(&s->out, 0);
    s->in = NULL;
    arena_init(&s->arena, 64 << 10, BRK_FETCHER_ARENA_BYTES_MAX);
    s->next = f->sessions;
    f->sessions = s;
    f->session_count++;
    log_info("fetcher", "fetch session created leader=%d session=%d", leader_id, index);
    return s;
}

static void session_free(struct brk_fetch_session *s)
{
    if (s->rev != NULL)
        event_free(s->rev);
    if (s->bev != NULL)
        bufferevent_free(s->bev);
    event_free(s->timer);
    event_free(s->kick);
    buf_deinit(&s->out);
    if (s->in != NULL)
        rbuf_put(s->f, s->in);
    arena_deinit(&s->arena);
    free(s);
}

static void session_remove_part(struct brk_fetch_session *s, struct brk_fetcher_part *fp)
{
    for (struct brk_fetcher_part **pp = &s->parts; *pp != NULL; pp = &(*pp)->next)
        if (*pp == fp) {
            *pp = fp->next;
            s->part_count--;
            fp->next = NULL;
            fp->s = NULL;
            fp->in_request = false;
            if (fp->in_fs)
                s->fs_restart = true; /* the leader's session names it: a full request replaces that session */
            fp->in_fs = false;
            session_kick(s); /* it may have waited for this partition's appends */
            return;
        }
    ASSERT(false); /* fp->s names the session holding it */
}

/* FNV-1a over (topic id, partition): the session index. */
static int32_t part_session_index(const struct brk_fetcher *f, const uint8_t topic_id[16], int32_t partition)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ topic_id[i]) * 16777619u;
    for (int i = 0; i < 4; i++)
        h = (h ^ (uint8_t)((uint32_t)partition >> (8 * i))) * 16777619u;
    int64_t n = f->ctx->node->num_replica_fetchers;
    return (int32_t)(h % (uint32_t)(n > 0 ? n : 1));
}

void brk_fetcher_follow(struct brk_fetcher *f, struct brk_part *part)
{
    struct brk_replica *r = part->replica;
    ASSERT(r != NULL);
    if (f->stopping)
        return;
    if (r->leader_id < 0 || r->leader_id == f->ctx->node->node_id) {
        brk_fetcher_unfollow(f, part);
        return;
    }
    struct brk_fetch_session *s = session_get(f, r->leader_id, part_session_index(f, part->topic_id, part->partition));
    if (s == NULL) {
        log_error("fetcher", "out of memory for a fetch session topic=%s partition=%d leader=%d; not replicating "
                  "until the next metadata change", part->topic, part->partition, r->leader_id);
        return;
    }
    struct brk_fetcher_part *fp = r->fetch;
    if (fp == NULL) {
        fp = calloc(1, sizeof *fp);
        if (fp == NULL) {
            log_error("fetcher", "out of memory following topic=%s partition=%d leader=%d", part->topic,
                      part->partition, r->leader_id);
            return;
        }
        fp->f = f;
        fp->part = part;
        memcpy(fp->topic_id, part->topic_id, 16);
        fp->partition = part->partition;
        fp->leader_hw = -1;
        fp->leader_log_start = -1;
        r->fetch = fp;
        log_info("fetcher", "following topic=%s partition=%d leader=%d leader_epoch=%d log_end=%" PRId64,
                 part->topic, part->partition, r->leader_id, r->leader_epoch, brk_plog_end_offset(part->plog));
    } else if (fp->leader_epoch != r->leader_epoch || fp->s != s) {
        log_info("fetcher", "following topic=%s partition=%d leader=%d leader_epoch=%d (was leader epoch %d)",
                 part->topic, part->partition, r->leader_id, r->leader_epoch, fp->leader_epoch);
    }
    if (fp->s != s) {
        if (fp->s != NULL)
            session_remove_part(fp->s, fp);
        fp->s = s;
        fp->next = s->parts;
        s->parts = fp;
        s->part_count++;
    }
    if (fp->leader_epoch != r->leader_epoch)
        fp->retry_ns = 0; /* a new epoch: no reason to wait */
    fp->leader_epoch = r->leader_epoch;
    fp->state = BRK_FP_FETCHING;
    session_kick(s);
}

void brk_fetcher_unfollow(struct brk_fetcher *f, struct brk_part *part)
{
    (void)f;
    struct brk_replica *r = part->replica;
    if (r == NULL || r->fetch == NULL)
        return;
    struct brk_fetcher_part *fp = r->fetch;
    r->fetch = NULL;
    log_info("fetcher", "stopped following topic=%s partition=%d", part->topic, part->partition);
    if (fp->s != NULL)
        session_remove_part(fp->s, fp);
    fp->part = NULL;
    fp_free_if_done(fp);
}

int brk_fetcher_create(struct brk_ctx *ctx, struct brk_fetcher **out)
{
    struct brk_fetcher *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -ENOMEM;
    f->ctx = ctx;
    /* resolv.conf and /etc/hosts are read here, once; lookups never block the loop */
    f->dns = evdns_base_new(ctx->base, EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    if (f->dns == NULL) {
        log_warn("fetcher", "no DNS resolver (resolv.conf unreadable?): leaders must advertise numeric addresses");
        f->dns = evdns_base_new(ctx->base, 0);
        if (f->dns == NULL) {
            free(f);
            return -ENOMEM;
        }
    }
    *out = f;
    return 0;
}

void brk_fetcher_stop(struct brk_fetcher *f)
{
    if (f == NULL || f->stopping)
        return;
    f->stopping = true;
    for (struct brk_fetch_session *s = f->sessions; s != NULL; s = s->next) {
        session_close(s, NULL, false);
        event_del(s->kick);
    }
}

void brk_fetcher_destroy(struct brk_fetcher *f)
{
    if (f == NULL)
        return;
    brk_fetcher_stop(f);
    while (f->sessions != NULL) {
        struct brk_fetch_session *s = f->sessions;
        f->sessions = s->next;
        while (s->parts != NULL) {
            struct brk_fetcher_part *fp = s->parts;
            s->parts = fp->next;
            ASSERT(fp->appends == 0); /* the caller drained the uring */
            if (fp->part != NULL && fp->part->replica != NULL)
                fp->part->replica->fetch = NULL;
            free(fp);
        }
        session_free(s);
    }
    while (f->rbuf_spares != NULL) {
        struct fetch_rbuf *rb = f->rbuf_spares;
        f->rbuf_spares = rb->next;
        buf_deinit(&rb->b);
        free(rb);
    }
    evdns_base_free(f->dns, 0);
    free(f);
}

void brk_fetcher_endpoint_fn_set(struct brk_fetcher *f, brk_fetcher_endpoint_fn fn, void *arg)
{
    f->endpoint_fn = fn;
    f->endpoint_arg = arg;
}

int brk_fetcher_session_count(const struct brk_fetcher *f)
{
    return f->session_count;
}
