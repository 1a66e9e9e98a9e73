/*
 * brk_server.c - start-up, the loop, timers and shutdown of a node.
 *
 * Start-up order (each step logs what failed, the value and the fix):
 *   1. check meta.properties in every log dir (formatted, same cluster),
 *      then lock every log dir and the metadata dir (common/dirlock: a
 *      second process on the same dirs exits here, before it touches them)
 *   2. for a broker, under the lock: swap the incarnation file
 *      (brk_incarnation: the last process on these disks, sent with the
 *      registration) and take the clean-shutdown file (brk_cleanmark)
 *   3. io_uring (or the syscall fallback)
 *   4. controller: open + replay the metadata log into the image
 *   5. open every local partition log (recovery cuts torn tails)
 *   6. register this broker (new incarnation, epoch + 1; refused with
 *      DUPLICATE_BROKER_REGISTRATION while another live process has this
 *      node.id: retried with backoff until its session ends)
 *   7. bind the client listeners (controller listeners are the quorum's)
 *   8. once the local image shows that registration (caught up to it; the
 *      controller moved the previous incarnation's leaderships in the same
 *      batch), take the partition roles and load the groups (brk_lifecycle);
 *      until then no partition leads or follows here
 *
 * The loop: libevent dispatches sockets and timers; after each pass every
 * io_uring operation queued by that pass is submitted in one syscall and
 * finished operations are reaped, so one flush serves many requests.
 */
#include "broker/brk_server.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "broker/net/brk_conn.h"
#include "broker/api/brk_h.h"
#include "broker/net/brk_req.h"
#include "broker/log/brk_cleanmark.h"
#include "broker/log/brk_incarnation.h"
#include "broker/log/brk_part.h"
#include "broker/log/brk_pstate.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metaprops.h"
#include "common/uring.h"
#include "controller/ctrl.h"
#include "broker/replica/brk_fsession.h"
#include "broker/replica/brk_fetcher.h"
#include "broker/replica/brk_replica.h"
#include "broker/replica/brk_rthrottle.h"

#define BRK_URING_ENTRIES 1024
#define BRK_FLUSH_TICK_MS_MAX 1000
#define BRK_REPLICA_TICK_MS 100 /* ISR proposals; lag is judged at this grain */
#define BRK_REGISTER_RETRY_MS 200           /* a registration not committed is sent again after this */
#define BRK_REGISTER_BACKOFF_MS_MAX 1000    /* ... doubling up to this while refused as a duplicate */
#define BRK_DUP_LOG_MS 10000                /* a duplicate refusal is logged at most this often */

/* The start-up gate opened: every partition takes the role the image shows
 * now, and the groups of the __consumer_offsets partitions led here load. */
static void lifecycle_step(struct brk_ctx *srv, enum brk_lifecycle_action action)
{
    if (action != BRK_LIFECYCLE_START)
        return;
    int32_t led = brk_parts_roles_release(srv->parts, ctrl_metadata(srv->ctrl));
    log_info("server", "caught up to this broker's registration broker_epoch=%lld: taking partition roles from the "
             "current metadata (leading %d of %d local partitions)", (long long)srv->broker_epoch, led,
             brk_parts_count(srv->parts));
    int rc;
    if (!srv->groups && (rc = brk_h_group_start(srv)) < 0) {
        log_error("server", "stopping: consumer groups could not be loaded error=\"%s\"", err_str(rc));
        srv->stop_rc = rc;
        brk_server_stop(srv);
    }
}

/* The image's registration of this node (a record about it, or a snapshot). */
static void lifecycle_image(struct brk_ctx *srv, const struct ctrl_image *img)
{
    const struct ctrl_broker *b = ctrl_image_broker_find(img, srv->node->node_id);
    lifecycle_step(srv, brk_lifecycle_image(&srv->lifecycle, b ? b->incarnation_id : NULL, b ? b->broker_epoch : -1));
}

static void apply_cb(void *arg, const struct ctrl_image *img, const Samsa__MetadataRecord *rec, int64_t offset)
{
    (void)offset;
    struct brk_ctx *srv = arg;
    if (!(srv->node->roles & CONFIG_ROLE_BROKER))
        return;
    if (rec && brk_configs_dynamic_record(srv, rec)) {
        /* a dynamic broker config of this broker or the cluster default */
        brk_configs_refresh(srv, img);
        brk_rthrottle_refresh(srv->rthrottle, srv->cfg);
        brk_parts_reconfigure(srv->parts, img);
        return;
    }
    if (rec) {
        /* the partitions tell their parked requests (brk_part_notify) */
        brk_parts_apply(srv->parts, img, rec);
        if (rec->record_case == SAMSA__METADATA_RECORD__RECORD_BROKER_CHANGE)
            brk_replica_on_broker(srv, rec->broker_change->broker_id);
        else if (rec->record_case == SAMSA__METADATA_RECORD__RECORD_REGISTER_BROKER)
            brk_replica_on_broker(srv, rec->register_broker->broker_id);
        brk_h_group_follow(srv, rec);
        if (rec->record_case == SAMSA__METADATA_RECORD__RECORD_REGISTER_BROKER &&
            rec->register_broker->broker_id == srv->node->node_id)
            lifecycle_image(srv, img);
        return;
    }
    /* a snapshot replaced the image: line the local partitions up with it */
    brk_configs_refresh(srv, img);
    brk_rthrottle_refresh(srv->rthrottle, srv->cfg);
    brk_parts_reconfigure(srv->parts, img);
    int rc = brk_parts_reconcile(srv->parts, img);
    if (rc < 0)
        log_error("server", "partitions not reconciled after a metadata snapshot error=\"%s\"", err_str(rc));
    brk_h_group_follow(srv, NULL);
    lifecycle_image(srv, img);
}

static bool is_controller_listener(const struct config_node *node, const char *name)
{
    for (size_t i = 0; i < node->controller_listener_name_count; i++)
        if (strcmp(node->controller_listener_names[i], name) == 0)
            return true;
    return false;
}

static int bind_listener(struct brk_ctx *srv, int index);

static void register_done_cb(void *arg, int rc, int64_t broker_epoch);
static int64_t register_refused_duplicate(struct brk_ctx *srv);

/* Broker registration is a typed request to the active controller, which
 * assigns the broker epoch; it is retried until it commits. */
static int register_self(struct brk_ctx *srv)
{
    const struct config_node *node = srv->node;
    struct ctrl_endpoint eps[CTRL_ENDPOINTS_MAX];
    int32_t n = 0;
    char hostname[CTRL_HOST_BYTES_MAX + 1] = "localhost";
    if (gethostname(hostname, sizeof hostname) < 0)
        snprintf(hostname, sizeof hostname, "localhost");
    for (size_t i = 0; i < node->advertised_count && n < CTRL_ENDPOINTS_MAX; i++) {
        const struct config_endpoint *a = &node->advertised[i];
        if (is_controller_listener(node, a->name))
            continue;
        struct ctrl_endpoint *e = &eps[n++];
        memset(e, 0, sizeof *e);
        snprintf(e->name, sizeof e->name, "%s", a->name);
        snprintf(e->host, sizeof e->host, "%s", a->host[0] ? a->host : hostname);
        e->port = a->port;
        e->security_protocol = (int32_t)a->security_protocol;
    }
    /* KIP-966: registered while running, nothing was lost; else the clean-shutdown file's epoch */
    struct ctrl_registration reg = { .broker_id = node->node_id, .endpoints = eps, .endpoint_count = n,
                                     .previous_broker_epoch = srv->registered ? srv->broker_epoch
                                                                              : srv->clean_epoch };
    memcpy(reg.incarnation_id, srv->incarnation_id, sizeof reg.incarnation_id);
    memcpy(reg.previous_incarnation_id, srv->prev_incarnation_id, sizeof reg.previous_incarnation_id);
    reg.previous_incarnation_len = srv->prev_incarnation_len;
    int rc = ctrl_register_broker(srv->ctrl, &reg, register_done_cb, srv);
    if (rc == 0)
        srv->registering = true;
    return rc;
}

static void register_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct brk_ctx *srv = arg;
    int rc = register_self(srv);
    if (rc < 0) {
        /* ERR_DUPLICATE_BROKER comes straight back when this node is the active controller */
        int64_t delay_ms = rc == ERR_DUPLICATE_BROKER ? register_refused_duplicate(srv) : BRK_REGISTER_RETRY_MS;
        if (rc != ERR_DUPLICATE_BROKER)
            log_debug("server", "broker registration not sent error=\"%s\"; retrying", err_str(rc));
        struct timeval tv = { (time_t)(delay_ms / 1000), (suseconds_t)(delay_ms % 1000 * 1000) };
        if (event_add(srv->register_ev, &tv) < 0)
            log_error("server", "broker registration retry not armed: event_add failed; restart the node");
    }
}

static void hex16(const uint8_t *id, char out[33])
{
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", id[i]);
}

/* The controller refused this registration: another live process has this
 * node.id.  Logged at most every BRK_DUP_LOG_MS with both incarnations;
 * returns the retry delay (doubling up to BRK_REGISTER_BACKOFF_MS_MAX, so
 * the broker registers within about a second of the old session's end). */
static int64_t register_refused_duplicate(struct brk_ctx *srv)
{
    srv->register_backoff_ms = srv->register_backoff_ms <= 0 ? BRK_REGISTER_RETRY_MS : srv->register_backoff_ms * 2;
    if (srv->register_backoff_ms > BRK_REGISTER_BACKOFF_MS_MAX)
        srv->register_backoff_ms = BRK_REGISTER_BACKOFF_MS_MAX;
    srv->register_dup_count++;
    int64_t now_ns = clock_mono_ns();
    if (srv->register_dup_log_ns != 0 && now_ns - srv->register_dup_log_ns < (int64_t)BRK_DUP_LOG_MS * 1000000)
        return srv->register_backoff_ms;
    char self[33], prev[33] = "none", other[33] = "unknown";
    hex16(srv->incarnation_id, self);
    if (srv->prev_incarnation_len == 16)
        hex16(srv->prev_incarnation_id, prev);
    const struct ctrl_broker *b = ctrl_image_broker_find(ctrl_metadata(srv->ctrl), srv->node->node_id);
    if (b)
        hex16(b->incarnation_id, other);
    log_error("server", "broker registration refused: DUPLICATE_BROKER_REGISTRATION node.id=%d: another process "
              "with this node.id is registered and its session is live (incarnation %s, broker_epoch %lld); this "
              "process is incarnation %s and the last process on log dir %s was %s (none: unknown - the first "
              "start on these disks or after an upgrade, or a copied log dir - so this start waits out that "
              "session even if it was this node's own). If that other process should not run, stop it; otherwise "
              "give this node another node.id. Retrying every %lld ms until its session ends "
              "(broker.session.timeout.ms=%lld); refused %lld times so far (logged at most every %d s)",
              srv->node->node_id, other, (long long)(b ? b->broker_epoch : -1), self,
              srv->node->log_dir_count ? srv->node->log_dirs[0] : "-",
              prev, (long long)srv->register_backoff_ms, (long long)srv->node->broker_session_timeout_ms,
              (long long)srv->register_dup_count, BRK_DUP_LOG_MS / 1000);
    srv->register_dup_log_ns = now_ns;
    return srv->register_backoff_ms;
}

static void register_done_cb(void *arg, int rc, int64_t broker_epoch)
{
    struct brk_ctx *srv = arg;
    srv->registering = false;
    if (rc < 0) {
        int64_t delay_ms = BRK_REGISTER_RETRY_MS;
        if (rc == ERR_DUPLICATE_BROKER)
            delay_ms = register_refused_duplicate(srv);
        else
            log_info("server", "broker registration not committed error=\"%s\"; retrying", err_str(rc));
        struct timeval tv = { (time_t)(delay_ms / 1000), (suseconds_t)(delay_ms % 1000 * 1000) };
        if (event_add(srv->register_ev, &tv) < 0)
            log_error("server", "broker registration retry not armed: event_add failed; restart the node");
        return;
    }
    if (srv->register_dup_count > 0)
        log_info("server", "broker registration accepted after %lld DUPLICATE_BROKER_REGISTRATION refusals: the "
                 "other process's session ended", (long long)srv->register_dup_count);
    srv->register_backoff_ms = 0;
    srv->register_dup_count = 0;
    srv->broker_epoch = broker_epoch;
    if (srv->registered) {
        log_info("server", "broker registered again node=%d broker_epoch=%lld", srv->node->node_id,
                 (long long)broker_epoch);
        lifecycle_step(srv, brk_lifecycle_registered(&srv->lifecycle, broker_epoch));
        return;
    }
    srv->registered = true;
    log_info("server", "broker registered node=%d broker_epoch=%lld; partition roles wait until the local metadata "
             "shows this registration", srv->node->node_id, (long long)srv->broker_epoch);
    for (size_t i = 0; i < srv->node->listener_count; i++) {
        if (is_controller_listener(srv->node, srv->node->listeners[i].name))
            continue;
        if ((rc = bind_listener(srv, (int)i)) < 0) {
            log_error("server", "stopping: a client listener could not be opened");
            srv->stop_rc = rc;
            brk_server_stop(srv);
            return;
        }
    }
    log_info("server", "samsa broker ready node=%d cluster_id=%s partitions=%d", srv->node->node_id,
             srv->cluster_id, brk_parts_count(srv->parts));
    lifecycle_step(srv, brk_lifecycle_registered(&srv->lifecycle, broker_epoch));
}

struct fwd_ctx {
    struct brk_ctx *srv;
    uint32_t from;
    uint64_t request_id;
};

static void forwarded_done_cb(void *arg, struct bytes resp)
{
    struct fwd_ctx *fc = arg;
    ctrl_forward_reply(fc->srv->ctrl, fc->from, fc->request_id, resp.len ? 0 : ERR_INVALID, resp);
    free(fc);
}

/* A broker forwarded a Kafka admin request to us, the active controller. */
static void forward_handler(void *arg, uint32_t from, uint64_t request_id, struct bytes kafka_request)
{
    struct brk_ctx *srv = arg;
    struct fwd_ctx *fc = malloc(sizeof *fc);
    if (!fc) {
        ctrl_forward_reply(srv->ctrl, from, request_id, -ENOMEM, (struct bytes){ NULL, 0 });
        return;
    }
    *fc = (struct fwd_ctx){ srv, from, request_id };
    int rc = brk_conn_virtual_dispatch(srv, kafka_request, forwarded_done_cb, fc);
    if (rc < 0) {
        ctrl_forward_reply(srv->ctrl, from, request_id, rc, (struct bytes){ NULL, 0 });
        free(fc);
    }
}

/* The image is current: open local partitions, drop stale dirs, register. */
static void caught_up_cb(void *arg)
{
    struct brk_ctx *srv = arg;
    if (!(srv->node->roles & CONFIG_ROLE_BROKER))
        return;
    brk_configs_refresh(srv, ctrl_metadata(srv->ctrl)); /* before partitions open with the defaults */
    brk_rthrottle_refresh(srv->rthrottle, srv->cfg);
    int rc = brk_parts_reconcile(srv->parts, ctrl_metadata(srv->ctrl));
    if (rc < 0) {
        log_error("server", "stopping: local partitions could not be opened error=\"%s\"", err_str(rc));
        srv->stop_rc = rc;
        brk_server_stop(srv);
        return;
    }
    register_retry_cb(-1, 0, srv); /* the groups load when the roles start (lifecycle_step) */
}

static int bind_listener(struct brk_ctx *srv, int index)
{
    const struct config_endpoint *l = &srv->node->listeners[index];
    char port[16];
    snprintf(port, sizeof port, "%u", l->port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(l->host[0] ? l->host : NULL, port, &hints, &res);
    if (gai != 0) {
        log_error("server", "cannot resolve listener listener=%s host=%s error=\"%s\"; fix listeners= (use a host "
                  "name this machine resolves, or leave it empty for all interfaces)", l->name, l->host,
                  gai_strerror(gai));
        return ERR_CONFIG;
    }
    /* empty host: prefer the IPv4 wildcard like most Kafka setups */
    struct addrinfo *pick = res;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
    struct brk_listener *bl = &srv->listeners[srv->listener_count];
    bl->srv = srv;
    bl->index = index;
    bl->evl = evconnlistener_new_bind(srv->base, brk_conn_accept_cb, bl,
                                      LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 1024,
                                      pick->ai_addr, (int)pick->ai_addrlen);
    int err = errno;
    freeaddrinfo(res);
    if (!bl->evl) {
        log_error("server", "cannot listen listener=%s host=%s port=%u error=\"%s\"; %s", l->name,
                  l->host[0] ? l->host : "0.0.0.0", l->port, strerror(err),
                  err == EADDRINUSE ? "another process uses this port: stop it or change listeners="
                                    : "check listeners=");
        return -err;
    }
    evconnlistener_set_error_cb(bl->evl, brk_conn_accept_error_cb);
    srv->listener_count++;
    log_info("server", "listening listener=%s host=%s port=%u", l->name, l->host[0] ? l->host : "0.0.0.0", l->port);
    return 0;
}

static void loop_reap(struct brk_ctx *srv)
{
    for (int i = 0; i < 4; i++) {
        int rc = uring_submit(srv->uring);
        if (rc < 0)
            log_error("server", "io_uring submit failed error=\"%s\"", err_str(rc));
        rc = uring_reap(srv->uring);
        if (rc <= 0)
            break; /* callbacks may queue more work: go round while they do */
    }
}

static void uring_ev_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    uint64_t v;
    if (read(fd, &v, sizeof v) < 0 && errno != EAGAIN)
        log_warn("server", "eventfd read failed error=\"%s\"", strerror(errno));
    loop_reap(arg);
}

static void retention_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct brk_ctx *srv = arg;
    int64_t now = clock_wall_ms();
    int total = 0;
    for (int32_t i = 0; i < brk_parts_count(srv->parts); i++) {
        struct brk_part *p = brk_parts_at(srv->parts, i);
        int deleted = 0;
        int rc = brk_plog_retention(p->plog, now, &deleted);
        if (rc < 0)
            log_error("retention", "retention failed topic=%s partition=%d error=\"%s\"", p->topic, p->partition,
                      err_str(rc));
        if (deleted > 0)
            log_info("retention", "segments deleted topic=%s partition=%d count=%d log_start_offset=%lld", p->topic,
                     p->partition, deleted, (long long)brk_plog_start_offset(p->plog));
        total += deleted;
        /* producer.id.expiration.ms, checked at the retention interval */
        int32_t expired = brk_pstate_expire(p->pstate, now, srv->node->producer_id_expiration_ms);
        if (expired > 0)
            log_info("retention", "idle producers expired topic=%s partition=%d count=%d", p->topic, p->partition,
                     expired);
    }
    if (total > 0 && brk_parts_checkpoint(srv->parts) < 0)
        log_error("retention", "log start offsets not checkpointed");
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct brk_ctx *srv = arg;
    int64_t now = clock_wall_ms();
    for (int32_t i = 0; i < brk_parts_count(srv->parts); i++) {
        struct brk_part *p = brk_parts_at(srv->parts, i);
        int rc = brk_plog_flush_tick(p->plog, now);
        if (rc < 0)
            log_error("flush", "flush failed topic=%s partition=%d error=\"%s\"", p->topic, p->partition, err_str(rc));
    }
}

/* ---- stopping ----
 *
 * SIGTERM or SIGINT starts a graceful stop, in phases (enum brk_stop_phase),
 * each bounded; a second signal stops at once.
 *   1. Controlled shutdown (Kafka KRaft's BrokerLifecycleManager): the
 *      broker heartbeats with want_shut_down every BRK_STOP_HEARTBEAT_MS; the
 *      active controller moves each leadership it holds to another live ISR
 *      member, fences it, and answers should_shut_down once that is
 *      committed.  Requests are served meanwhile, so clients see
 *      NOT_LEADER_OR_FOLLOWER and a new leader in Metadata, not a timeout.
 *      Bounded by controlled.shutdown.max.retries x
 *      controlled.shutdown.retry.backoff.ms; skipped when
 *      controlled.shutdown.enable=false, when the broker is not registered,
 *      or when no other broker is alive to take over (a single node stops
 *      at once, as Kafka's does).
 *   2. Drain: the client listeners close and parked requests (long-poll
 *      fetches) are answered, for at most BRK_STOP_DRAIN_MS.
 *   3. The active controller hands over (KIP-595 EndQuorumEpoch), so the
 *      quorum elects a successor now instead of after its election timeout;
 *      it stops once a successor leads (it told us, so the notices arrived;
 *      closing sooner could reset connections with them still unread), or
 *      after BRK_RESIGN_GRACE_MS whatever the quorum does. */
#define BRK_STOP_POLL_MS 5          /* one controller tick */
#define BRK_STOP_HEARTBEAT_MS 100
#define BRK_STOP_DRAIN_MS 1000

static void heartbeat_send(struct brk_ctx *srv)
{
    struct ctrl_heartbeat hb = { .broker_id = srv->node->node_id, .broker_epoch = srv->broker_epoch,
                                 .metadata_offset = ctrl_image_applied_offset(ctrl_metadata(srv->ctrl)),
                                 /* once asked, every later phase says so too: a successor controller
                                  * that hears this broker after the handover must not unfence it
                                  * again (a skipped controlled shutdown - a single node - never asks,
                                  * so its partitions keep their leader until it is back) */
                                 .want_shut_down = srv->shut_down_asked };
    ctrl_broker_heartbeat(srv->ctrl, &hb);
}

static int64_t stop_phase_ms(const struct brk_ctx *srv)
{
    return (clock_mono_ns() - srv->stop_phase_ns) / 1000000;
}

static int64_t controlled_shutdown_bound_ms(const struct brk_ctx *srv)
{
    int64_t retries = srv->node->controlled_shutdown_max_retries;
    int64_t backoff_ms = srv->node->controlled_shutdown_retry_backoff_ms;
    if (retries < 1)
        retries = 1;
    return backoff_ms > INT64_MAX / retries ? INT64_MAX : retries * backoff_ms;
}

static void stop_phase_set(struct brk_ctx *srv, enum brk_stop_phase phase)
{
    ASSERT(phase > srv->stop_phase); /* phases only move forward */
    srv->stop_phase = phase;
    srv->stop_phase_ns = clock_mono_ns();
}

/* Another unfenced broker that could take over this one's leaderships. */
static bool other_broker_alive(const struct brk_ctx *srv)
{
    const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
    const struct ctrl_broker *self = ctrl_image_broker_find(img, srv->node->node_id);
    int32_t others = ctrl_image_unfenced_count(img) - (self && !self->fenced ? 1 : 0);
    return others > 0;
}

/* stop_advance - enter the next phase that applies, from the current one;
 * brk_server_stop when none is left. */
static void stop_advance(struct brk_ctx *srv)
{
    if (srv->stop_phase < BRK_STOP_CONTROLLED) {
        bool broker = (srv->node->roles & CONFIG_ROLE_BROKER) != 0;
        if (broker && srv->registered && srv->node->controlled_shutdown_enable && other_broker_alive(srv)) {
            stop_phase_set(srv, BRK_STOP_CONTROLLED);
            srv->shut_down_asked = true;
            log_info("server", "controlled shutdown: asking the controller to move this broker's leadership "
                     "(at most %lld ms: controlled.shutdown.max.retries x controlled.shutdown.retry.backoff.ms)",
                     (long long)controlled_shutdown_bound_ms(srv));
            srv->stop_heartbeat_ns = clock_mono_ns();
            heartbeat_send(srv);
            return;
        }
        if (broker && srv->registered)
            log_info("server", "controlled shutdown skipped: %s",
                     !srv->node->controlled_shutdown_enable ? "controlled.shutdown.enable=false"
                                                            : "no other live broker to take over leadership");
    }
    if (srv->stop_phase < BRK_STOP_DRAIN) {
        stop_phase_set(srv, BRK_STOP_DRAIN);
        for (int i = 0; i < srv->listener_count; i++)
            evconnlistener_disable(srv->listeners[i].evl);
        if (srv->fetch_waiters) {
            log_info("server", "answering parked requests before stopping (at most %d ms)", BRK_STOP_DRAIN_MS);
            return;
        }
    }
    if (srv->stop_phase < BRK_STOP_RESIGN && ctrl_resign(srv->ctrl)) {
        stop_phase_set(srv, BRK_STOP_RESIGN);
        log_info("server", "resigned as the active controller; stopping once a successor leads");
        return;
    }
    if (srv->stop_phase < BRK_STOP_RESIGN && (srv->node->roles & CONFIG_ROLE_CONTROLLER) &&
        ctrl_active_id(srv->ctrl) != srv->node->node_id)
        log_info("server", "controller handover skipped: this node is not the active controller (leader=%d)",
                 (int)ctrl_active_id(srv->ctrl));
    brk_server_stop(srv);
}

static void stop_poll_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct brk_ctx *srv = arg;
    switch (srv->stop_phase) {
    case BRK_STOP_CONTROLLED:
        if (stop_phase_ms(srv) > controlled_shutdown_bound_ms(srv)) {
            log_warn("server", "controlled shutdown not confirmed by the controller within %lld ms; stopping "
                     "anyway (leaderships still here move when the lease expires: broker.session.timeout.ms)",
                     (long long)controlled_shutdown_bound_ms(srv));
            stop_advance(srv);
        } else if (clock_mono_ns() - srv->stop_heartbeat_ns >= BRK_STOP_HEARTBEAT_MS * 1000000LL) {
            srv->stop_heartbeat_ns = clock_mono_ns();
            heartbeat_send(srv);
        }
        return;
    case BRK_STOP_DRAIN:
        if (!srv->fetch_waiters || stop_phase_ms(srv) > BRK_STOP_DRAIN_MS)
            stop_advance(srv);
        return;
    case BRK_STOP_RESIGN: {
        int32_t leader = ctrl_active_id(srv->ctrl);
        bool handed_over = leader >= 0 && leader != srv->node->node_id && ctrl_unsent_bytes(srv->ctrl) == 0;
        if (handed_over || stop_phase_ms(srv) > BRK_RESIGN_GRACE_MS) {
            log_info("server", "controller handover %s new_leader=%d", handed_over ? "done" : "timed out",
                     (int)leader);
            brk_server_stop(srv);
        }
        return;
    }
    case BRK_STOP_NONE: break;
    }
    ASSERT(!"stop poll without a stop phase");
}

/* The replication role starts and stops the fetcher through these. */
static void fetcher_follow(void *arg, struct brk_part *part) { brk_fetcher_follow(arg, part); }
static void fetcher_unfollow(void *arg, struct brk_part *part) { brk_fetcher_unfollow(arg, part); }

/* Replication's timers: ISR proposals every tick, the HW checkpoint at
 * replica.high.watermark.checkpoint.interval.ms. */
static void replica_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct brk_ctx *srv = arg;
    if (!srv->registered)
        return; /* the partitions open before registration: nothing to write over the old file yet */
    brk_replica_tick(srv);
    int64_t now = clock_mono_ns();
    if (now - srv->hw_checkpoint_ns >= srv->node->replica_hw_checkpoint_interval_ms * 1000000) {
        srv->hw_checkpoint_ns = now;
        if (brk_replica_checkpoint_hw(srv) < 0)
            log_warn("server", "high watermark checkpoint failed; retrying in %lld ms",
                     (long long)srv->node->replica_hw_checkpoint_interval_ms);
    }
}

static void heartbeat_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct brk_ctx *srv = arg;
    if (!srv->registered || srv->registering)
        return;
    heartbeat_send(srv);
}

/* The active controller's answer to a heartbeat.  An epoch it does not know
 * (another registration of this node id, or a controller that lost ours)
 * means: register again. */
static void heartbeat_reply_cb(void *arg, const struct ctrl_heartbeat_reply *r)
{
    struct brk_ctx *srv = arg;
    if (r->broker_epoch != srv->broker_epoch) {
        /* a late answer to a heartbeat of another registration: a dead predecessor's (answers go to
         * the node id) or this process's before it registered again; it says nothing about this one */
        log_debug("server", "heartbeat answer for broker_epoch=%lld ignored (registered as %lld)",
                  (long long)r->broker_epoch, (long long)srv->broker_epoch);
        return;
    }
    if (r->rc == 0 && r->should_shut_down && srv->stop_phase == BRK_STOP_CONTROLLED) {
        log_info("server", "controlled shutdown done in %lld ms: the controller moved this broker's leadership "
                 "and fenced it", (long long)stop_phase_ms(srv));
        stop_advance(srv);
        return;
    }
    if ((r->rc != ERR_STALE && r->rc != ERR_NOT_FOUND) || srv->registering ||
        (srv->register_ev && event_pending(srv->register_ev, EV_TIMEOUT, NULL)))
        return; /* a registration flies, or its retry (a duplicate refusal's backoff) is armed */
    log_warn("server", "the active controller does not know broker_epoch=%lld of node=%d (%s); registering again; "
             "if this repeats, another process may be running with node.id=%d", (long long)srv->broker_epoch,
             srv->node->node_id, err_str(r->rc), srv->node->node_id);
    int rc = register_self(srv);
    if (rc < 0)
        log_info("server", "broker registration not sent error=\"%s\"; the next heartbeat retries", err_str(rc));
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct brk_ctx *srv = arg;
    if (srv->stop_ev) {
        log_warn("server", "second signal received signal=%d; stopping at once (phase %d of the graceful stop "
                 "not finished)", (int)sig, (int)srv->stop_phase);
        brk_server_stop(srv);
        return;
    }
    log_info("server", "signal received signal=%d; shutting down", (int)sig);
    srv->stop_ev = event_new(srv->base, -1, EV_PERSIST, stop_poll_cb, srv);
    struct timeval tv = { 0, BRK_STOP_POLL_MS * 1000 };
    if (!srv->stop_ev || event_add(srv->stop_ev, &tv) < 0) {
        log_error("server", "graceful stop not armed: event_add failed; stopping at once");
        brk_server_stop(srv);
        return;
    }
    stop_advance(srv);
}

static struct event *timer_new(struct brk_ctx *srv, int64_t ms, event_callback_fn cb)
{
    struct event *ev = event_new(srv->base, -1, EV_PERSIST, cb, srv);
    if (!ev)
        return NULL;
    if (ms < 10)
        ms = 10;
    if (ms > 86400000LL)
        ms = 86400000LL;
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
    if (event_add(ev, &tv) < 0) {
        event_free(ev);
        return NULL;
    }
    return ev;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            log_warn("server", "cannot raise open-files limit error=\"%s\"", strerror(errno));
    }
}

/* Every log dir and the metadata log dir are formatted for this cluster and
 * node (meta.properties, read only), then locked (.lock, held until exit):
 * nothing in them is written, opened or recovered before both.  The check
 * comes first so an unformatted or missing dir gets its own message. */
static int check_storage(struct brk_ctx *srv)
{
    const struct config_node *node = srv->node;
    const char *dirs[CONFIG_LOG_DIRS_MAX + 1];
    size_t n = 0;
    for (size_t i = 0; i < node->log_dir_count; i++)
        dirs[n++] = node->log_dirs[i];
    bool meta_listed = false;
    for (size_t i = 0; i < n; i++)
        meta_listed |= strcmp(dirs[i], node->metadata_log_dir) == 0;
    if (!meta_listed)
        dirs[n++] = node->metadata_log_dir;
    char msg[2048];
    int rc = metaprops_check_dirs(dirs, n, node->cluster_id, node->node_id, srv->config_path, srv->cluster_id,
                                  sizeof srv->cluster_id, msg, sizeof msg);
    if (rc == 0)
        rc = dirlock_take_all(dirs, n, &srv->dirlocks, msg, sizeof msg);
    if (rc < 0)
        log_error("server", "%s", msg);
    return rc;
}

int brk_server_create(struct config *cfg, const char *config_path, struct brk_ctx **out)
{
    ASSERT(cfg != NULL);
    ASSERT(out != NULL);
    struct brk_ctx *srv = calloc(1, sizeof *srv);
    if (!srv)
        return -ENOMEM;
    srv->cfg = cfg;
    srv->cfg_dynamic = cfg;
    srv->node = config_node_get(cfg);
    buf_init(&srv->fetch_scratch, 0);
    srv->config_path = config_path;
    if (getrandom(srv->incarnation_id, sizeof srv->incarnation_id, 0) != (ssize_t)sizeof srv->incarnation_id) {
        free(srv);
        return -EIO;
    }
    uint32_t seed;
    memcpy(&seed, srv->incarnation_id, sizeof seed); /* session ids differ across restarts */
    srv->fsessions = calloc(1, sizeof *srv->fsessions);
    if (!srv->fsessions ||
        brk_fsession_cache_init(srv->fsessions, (int32_t)srv->node->fetch_session_cache_slots, seed) < 0) {
        free(srv->fsessions);
        free(srv);
        return -ENOMEM;
    }
    int rc = check_storage(srv);
    if (rc < 0)
        goto fail;
    if ((srv->node->roles & CONFIG_ROLE_BROKER) && srv->node->log_dir_count > 0) {
        /* under the lock: the id read is a dead process's (controller/README.md, "Duplicate node ids") */
        int irc = brk_incarnation_swap(srv->node->log_dirs[0], srv->incarnation_id, srv->prev_incarnation_id,
                                       &srv->prev_incarnation_len);
        if (irc < 0)
            log_warn("server", "incarnation file not written dir=%s error=\"%s\"; the next start of this node "
                     "waits broker.session.timeout.ms before it can register", srv->node->log_dirs[0],
                     err_str(irc));
    }
    brk_cleanmark_take(srv->node, &srv->clean_epoch);
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN);
    srv->base = event_base_new();
    if (!srv->base) {
        rc = -ENOMEM;
        goto fail;
    }
    rc = uring_create(BRK_URING_ENTRIES, srv->node->io_uring != 0, &srv->uring);
    if (rc < 0) {
        log_error("server", "cannot set up disk I/O error=\"%s\"", err_str(rc));
        goto fail;
    }
    if (srv->node->num_io_threads > 0) {
        int wrc = uring_io_workers_set(srv->uring, (unsigned)srv->node->num_io_threads);
        if (wrc < 0)
            log_warn("server", "cannot bound io_uring workers num.io.threads=%lld error=\"%s\"; the kernel default "
                     "applies", (long long)srv->node->num_io_threads, err_str(wrc));
        else
            log_info("server", "disk I/O workers num.io.threads=%lld", (long long)srv->node->num_io_threads);
    }
    rc = brk_parts_create(srv, &srv->parts);
    if (rc < 0)
        goto fail;
    brk_parts_roles_hold(srv->parts); /* until brk_lifecycle says START */
    brk_lifecycle_init(&srv->lifecycle, srv->incarnation_id);
    if ((rc = brk_replicas_create(srv)) < 0 || (rc = brk_fetcher_create(srv, &srv->fetcher)) < 0 ||
        (rc = brk_rthrottle_create(srv->cfg, &srv->rthrottle)) < 0)
        goto fail;
    struct brk_parts_hooks hooks;
    brk_replica_hooks(srv, &hooks);
    brk_parts_set_hooks(srv->parts, &hooks);
    struct brk_replica_follower_ops fops = { .follow = fetcher_follow, .unfollow = fetcher_unfollow,
                                             .arg = srv->fetcher };
    brk_replicas_set_follower(srv, &fops);
    srv->register_ev = event_new(srv->base, -1, 0, register_retry_cb, srv);
    if (!srv->register_ev) {
        rc = -ENOMEM;
        goto fail;
    }
    struct ctrl_config ccfg;
    memset(&ccfg, 0, sizeof ccfg);
    ccfg.node_id = srv->node->node_id;
    ccfg.metadata_dir = srv->node->metadata_log_dir;
    ccfg.cluster_id = srv->cluster_id;
    ccfg.base = srv->base;
    ccfg.election_timeout_ms = srv->node->controller_quorum_election_timeout_ms;
    ccfg.request_timeout_ms = srv->node->controller_quorum_request_timeout_ms;
    ccfg.session_timeout_ms = srv->node->broker_session_timeout_ms;
    ccfg.snapshot_bytes = srv->node->metadata_snapshot_bytes;
    ccfg.unclean_leader_election = srv->node->unclean_leader_election_enable != 0;
    ccfg.elr_enable = srv->node->eligible_leader_replicas_enable != 0;
    ccfg.min_insync_replicas = (int32_t)srv->node->min_insync_replicas;
    ccfg.auto_leader_rebalance = srv->node->auto_leader_rebalance_enable != 0;
    ccfg.leader_imbalance_check_interval_ms = srv->node->leader_imbalance_check_interval_ms;
    ccfg.leader_imbalance_per_broker_percentage = (int32_t)srv->node->leader_imbalance_per_broker_percentage;
    if (srv->node->voter_count > CTRL_VOTERS_MAX) {
        log_error("server", "controller.quorum.voters has %zu voters; at most %d are supported",
                  srv->node->voter_count, CTRL_VOTERS_MAX);
        rc = ERR_CONFIG;
        goto fail;
    }
    ccfg.voter_count = (uint32_t)srv->node->voter_count;
    for (size_t i = 0; i < srv->node->voter_count; i++) {
        ccfg.voters[i].id = (uint32_t)srv->node->voters[i].id;
        snprintf(ccfg.voters[i].host, sizeof ccfg.voters[i].host, "%s", srv->node->voters[i].host);
        ccfg.voters[i].port = srv->node->voters[i].port;
    }
    if (srv->node->roles & CONFIG_ROLE_CONTROLLER) {
        for (size_t i = 0; i < srv->node->listener_count; i++) {
            if (srv->node->controller_listener_name_count > 0 &&
                strcmp(srv->node->listeners[i].name, srv->node->controller_listener_names[0]) == 0) {
                ccfg.listen = true;
                ccfg.listen_host = srv->node->listeners[i].host;
                ccfg.listen_port = srv->node->listeners[i].port;
            }
        }
    }
    ccfg.uring_disabled = srv->node->io_uring == 0;
    rc = ctrl_create(&ccfg, apply_cb, caught_up_cb, srv, &srv->ctrl);
    if (rc < 0) {
        log_error("server", "cannot start the metadata quorum dir=%s error=\"%s\"", ccfg.metadata_dir, err_str(rc));
        goto fail;
    }
    ctrl_forward_handler_set(srv->ctrl, forward_handler, srv);
    ctrl_heartbeat_handler_set(srv->ctrl, heartbeat_reply_cb, srv);
    int efd = uring_event_fd(srv->uring);
    if (efd >= 0) {
        srv->uring_ev = event_new(srv->base, efd, EV_READ | EV_PERSIST, uring_ev_cb, srv);
        if (!srv->uring_ev || event_add(srv->uring_ev, NULL) < 0) {
            rc = -ENOMEM;
            goto fail;
        }
    }
    srv->retention_ev = timer_new(srv, srv->node->retention_check_interval_ms, retention_cb);
    int64_t flush_ms = srv->node->flush_scheduler_interval_ms;
    srv->flush_ev = timer_new(srv, flush_ms < BRK_FLUSH_TICK_MS_MAX ? flush_ms : BRK_FLUSH_TICK_MS_MAX, flush_cb);
    if (srv->node->roles & CONFIG_ROLE_BROKER) {
        srv->heartbeat_ev = timer_new(srv, srv->node->broker_heartbeat_interval_ms, heartbeat_cb);
        srv->replica_ev = timer_new(srv, BRK_REPLICA_TICK_MS, replica_tick_cb);
        if (!srv->replica_ev) {
            rc = -ENOMEM;
            goto fail;
        }
    }
    if (!srv->retention_ev || !srv->flush_ev || (!srv->heartbeat_ev && (srv->node->roles & CONFIG_ROLE_BROKER))) {
        rc = -ENOMEM;
        goto fail;
    }
    rc = brk_conns_start(srv); /* before any listener accepts */
    if (rc < 0)
        goto fail;
    srv->signal_evs[0] = evsignal_new(srv->base, SIGINT, signal_cb, srv);
    srv->signal_evs[1] = evsignal_new(srv->base, SIGTERM, signal_cb, srv);
    for (int i = 0; i < 2; i++) {
        if (!srv->signal_evs[i] || event_add(srv->signal_evs[i], NULL) < 0) {
            rc = -ENOMEM;
            goto fail;
        }
    }
    /* started: every module and event exists (brk_server_destroy frees them) */
    ASSERT(srv->base != NULL);
    ASSERT(srv->uring != NULL);
    ASSERT(srv->parts != NULL);
    ASSERT(srv->ctrl != NULL);
    ASSERT(!srv->stopping);
    log_info("server", "samsa node started node=%d cluster_id=%s roles=%s%s io=%s; waiting for the metadata quorum",
             srv->node->node_id, srv->cluster_id, srv->node->roles & CONFIG_ROLE_BROKER ? "broker" : "",
             srv->node->roles & CONFIG_ROLE_CONTROLLER ? ",controller" : "", efd >= 0 ? "io_uring" : "syscalls");
    *out = srv;
    return 0;
fail:
    brk_server_destroy(srv);
    return rc;
}

int brk_server_run(struct brk_ctx *srv)
{
    while (!srv->stopping) {
        if (event_base_loop(srv->base, EVLOOP_ONCE) < 0) {
            log_error("server", "event loop failed");
            return ERR_SHUTDOWN;
        }
        loop_reap(srv);
    }
    return srv->stop_rc;
}

void brk_server_stop(struct brk_ctx *srv)
{
    srv->stopping = true;
    int rc = event_base_loopbreak(srv->base); /* fails only without a base */
    ASSERT(rc == 0);
}

void brk_server_destroy(struct brk_ctx *srv)
{
    if (!srv)
        return;
    for (int i = 0; i < srv->listener_count; i++) {
        evconnlistener_free(srv->listeners[i].evl);
        if (srv->listeners[i].resume_ev)
            event_free(srv->listeners[i].resume_ev);
    }
    brk_conns_stop(srv); /* no socket is read or written from here on */
    if (srv->uring) {
        loop_reap(srv);
        if (uring_drain(srv->uring) < 0)
            log_error("server", "in-flight disk writes did not finish cleanly");
    }
    if (srv->parts && srv->ctrl && brk_parts_checkpoint(srv->parts) < 0)
        log_error("server", "log start offsets not checkpointed at shutdown");
    if (srv->parts && srv->ctrl && brk_replica_checkpoint_hw(srv) < 0)
        log_error("server", "high watermarks not checkpointed at shutdown");
    if (srv->replicas) /* the partitions' roles end below, without the fetcher */
        brk_replicas_set_follower(srv, &(struct brk_replica_follower_ops){ 0 });
    brk_fetcher_destroy(srv->fetcher);
    srv->fetcher = NULL;
    brk_rthrottle_destroy(srv->rthrottle);
    srv->rthrottle = NULL;
    brk_h_group_stop(srv); /* after the drain: append callbacks use it */
    ctrl_destroy(srv->ctrl);
    brk_h_producer_stop(srv); /* after ctrl_destroy: no producer-id block arrives any more */
    brk_parts_destroy(srv->parts);
    /* every log is closed: a registered broker stopping in order leaves the
     * clean-shutdown file (KIP-966; not after a failed start) */
    if (srv->registered && srv->stop_rc == 0) {
        int mrc = brk_cleanmark_write(srv->node, srv->broker_epoch);
        if (mrc < 0)
            log_error("server", "clean-shutdown file not written error=\"%s\"; the next start registers as after "
                      "an unclean shutdown", err_str(mrc));
    }
    brk_replicas_destroy(srv);
    brk_conns_destroy(srv); /* after every state-thread user of requests; before srv->base goes */
    if (srv->register_ev)
        event_free(srv->register_ev);
    if (srv->uring_ev)
        event_free(srv->uring_ev);
    if (srv->retention_ev)
        event_free(srv->retention_ev);
    if (srv->flush_ev)
        event_free(srv->flush_ev);
    if (srv->heartbeat_ev)
        event_free(srv->heartbeat_ev);
    if (srv->replica_ev)
        event_free(srv->replica_ev);
    for (int i = 0; i < 2; i++)
        if (srv->signal_evs[i])
            event_free(srv->signal_evs[i]);
    if (srv->stop_ev)
        event_free(srv->stop_ev);
    uring_destroy(srv->uring);
    buf_deinit(&srv->fetch_scratch);
    if (srv->fsessions)
        brk_fsession_cache_deinit(srv->fsessions);
    free(srv->fsessions);
    if (srv->base)
        event_base_free(srv->base);
    dirlock_release_all(&srv->dirlocks); /* last: every file in the dirs is closed */
    free(srv);
}
