/*
 * ctrl_net.c - libevent connections for the controller listener.
 *
 * Outbound connections go to every configured peer and are re-dialled with
 * a backoff (100 ms doubling to 2 s) whenever they drop.  Inbound
 * connections are accepted on the controller listener and learn the caller's
 * id from its Hello.  To send to node X we use any live, identified
 * connection to X, outbound first; among inbound ones, the one that last
 * delivered a frame from X.  Two live processes with one node id (a
 * misconfiguration the controller refuses to register twice) then each get
 * the answers to what they asked (a request is mostly answered at once, on
 * the connection it came in on), where "the newest connection" sent every
 * answer to the second process and froze the first one's metadata; a
 * restarted node still gets them at once (its dead predecessor's connection,
 * even half-open, delivers nothing more).
 *
 * Every socket gets TCP_USER_TIMEOUT = controller.quorum.request.timeout.ms:
 * a connection whose sent bytes stay unacknowledged that long is closed by
 * the kernel and redialled, as Kafka's NetworkClient disconnects a request
 * that timed out.  Without it a link healed after a one-way cut keeps its
 * queued frames behind TCP's exponential retransmission back-off (seconds
 * after a cut of ten), and two voters left by a paused leader could not
 * exchange votes for that long (fault-test partition_test, step D).
 */
#include "controller/ctrl_net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/be.h"
#include "common/buf.h"
#include "common/log.h"

#define CNET_BACKOFF_MS_MIN 100
#define CNET_BACKOFF_MS_MAX 2000
#define CNET_NODE_UNKNOWN UINT32_MAX

struct cnet_peer;

struct cnet_conn {
    struct ctrl_net *net;
    struct bufferevent *bev;
    uint32_t node_id;          /* CNET_NODE_UNKNOWN until Hello (0 is a node id) */
    struct cnet_peer *peer;    /* outbound: the peer it dials */
    uint64_t rx_seq;           /* net->rx_seq when it last delivered a frame; 0 never */
    struct cnet_conn *next;
};

struct cnet_peer {
    struct ctrl_net *net;
    uint32_t id;
    char host[256];
    uint16_t port;
    struct cnet_conn *conn;    /* live or connecting outbound connection */
    struct event *retry_ev;
    int backoff_ms;
};

struct ctrl_net {
    struct event_base *base;
    uint32_t self_id;
    char cluster_id[64];
    ctrl_net_frame_cb cb;
    void *cb_arg;
    struct evconnlistener *listener;
    struct cnet_peer peers[CTRL_NET_PEERS_MAX];
    int peer_count;
    struct cnet_conn *conns;   /* all connections */
    int conn_count;
    struct buf out;            /* encode scratch */
    unsigned request_timeout_ms; /* TCP_USER_TIMEOUT of every socket; 0 = the kernel's */
    int64_t last_warn_s;
    uint64_t rx_seq;           /* frames delivered so far (orders inbound connections) */
};

static void cnet_warn(struct ctrl_net *net, const char *what, uint32_t node)
{
    int64_t now = (int64_t)time(NULL);
    if (now == net->last_warn_s)
        return; /* peers can trigger these: one line per second at most */
    net->last_warn_s = now;
    log_warn("cnet", "closing controller connection node=%lld reason=\"%s\"",
             node == CNET_NODE_UNKNOWN ? -1LL : (long long)node, what);
}

static void peer_schedule(struct cnet_peer *p);

/* Options of every controller socket: no Nagle delay for small frames, and
 * the request timeout as TCP_USER_TIMEOUT (file comment). */
static void socket_tune(const struct ctrl_net *net, int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (net->request_timeout_ms > 0)
        (void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &net->request_timeout_ms,
                         sizeof net->request_timeout_ms);
}

static void conn_close(struct cnet_conn *c)
{
    struct ctrl_net *net = c->net;
    for (struct cnet_conn **pp = &net->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    net->conn_count--;
    bufferevent_free(c->bev);
    if (c->peer) {
        c->peer->conn = NULL;
        peer_schedule(c->peer);
    }
    free(c);
}

static int frame_encode(struct ctrl_net *net, const Samsa__ControllerFrame *f)
{
    size_t size = samsa__controller_frame__get_packed_size(f);
    if (size + 1 > CTRL_NET_FRAME_BYTES_MAX)
        return ERR_TOO_LARGE;
    buf_reset(&net->out);
    int rc = buf_reserve(&net->out, size + 5);
    if (rc < 0)
        return rc;
    uint32_t len = (uint32_t)size + 1;
    uint8_t *p = net->out.ptr;
    be_put32(p, len);
    p[4] = CTRL_NET_FRAME_VERSION;
    size_t packed = samsa__controller_frame__pack(f, p + 5);
    ASSERT(packed == size);
    net->out.len = size + 5;
    return 0;
}

static int conn_send(struct cnet_conn *c, const Samsa__ControllerFrame *f)
{
    int rc = frame_encode(c->net, f);
    if (rc < 0)
        return rc;
    return bufferevent_write(c->bev, c->net->out.ptr, c->net->out.len) < 0 ? -ENOMEM : 0;
}

static int send_hello(struct cnet_conn *c)
{
    Samsa__Hello hello = SAMSA__HELLO__INIT;
    hello.node_id = c->net->self_id;
    hello.cluster_id = c->net->cluster_id;
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_HELLO;
    f.hello = &hello;
    return conn_send(c, &f);
}

/* Returns false when the connection was closed. */
static bool conn_frame(struct cnet_conn *c, const uint8_t *p, size_t len)
{
    if (len < 1 || p[0] != CTRL_NET_FRAME_VERSION) {
        cnet_warn(c->net, "unknown frame version", c->node_id);
        conn_close(c);
        return false;
    }
    Samsa__ControllerFrame *f = samsa__controller_frame__unpack(NULL, len - 1, p + 1);
    if (!f) {
        cnet_warn(c->net, "frame does not decode", c->node_id);
        conn_close(c);
        return false;
    }
    if (f->frame_case == SAMSA__CONTROLLER_FRAME__FRAME_HELLO) {
        const char *cid = f->hello->cluster_id ? f->hello->cluster_id : "";
        if (c->net->cluster_id[0] && cid[0] && strcmp(cid, c->net->cluster_id) != 0) {
            log_error("cnet", "peer from another cluster node=%u its_cluster_id=%s our_cluster_id=%s; check "
                      "controller.quorum.voters and the formatted cluster ids", f->hello->node_id, cid,
                      c->net->cluster_id);
            samsa__controller_frame__free_unpacked(f, NULL);
            conn_close(c);
            return false;
        }
        c->node_id = f->hello->node_id;
        c->rx_seq = ++c->net->rx_seq;
    } else if (c->node_id == CNET_NODE_UNKNOWN) {
        samsa__controller_frame__free_unpacked(f, NULL);
        cnet_warn(c->net, "frame before Hello", CNET_NODE_UNKNOWN);
        conn_close(c);
        return false;
    } else {
        c->rx_seq = ++c->net->rx_seq; /* before the callback: an answer sent from it comes back here */
        c->net->cb(c->net->cb_arg, c->node_id, f);
    }
    samsa__controller_frame__free_unpacked(f, NULL);
    return true;
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    struct cnet_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    for (;;) {
        size_t avail = evbuffer_get_length(in);
        if (avail < 4)
            return;
        uint8_t h[4];
        ev_ssize_t copied = evbuffer_copyout(in, h, 4);
        ASSERT(copied == 4); /* avail >= 4 */
        uint32_t len = be_get32(h);
        if (len == 0 || len > CTRL_NET_FRAME_BYTES_MAX) {
            cnet_warn(c->net, "frame size out of range", c->node_id);
            conn_close(c);
            return;
        }
        if (avail < 4 + (size_t)len)
            return;
        int drained = evbuffer_drain(in, 4);
        ASSERT(drained == 0);
        uint8_t *p = evbuffer_pullup(in, len);
        if (!p) {
            conn_close(c);
            return;
        }
        bool alive = conn_frame(c, p, len);
        if (!alive)
            return;
        drained = evbuffer_drain(in, len);
        ASSERT(drained == 0);
    }
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    struct cnet_conn *c = arg;
    if (what & BEV_EVENT_CONNECTED) {
        if (c->peer) {
            c->peer->backoff_ms = CNET_BACKOFF_MS_MIN;
            c->node_id = c->peer->id;
            log_debug("cnet", "connected to controller node=%u", c->peer->id);
        }
        if (send_hello(c) < 0)
            conn_close(c);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        conn_close(c);
}

static struct cnet_conn *conn_new(struct ctrl_net *net, struct bufferevent *bev)
{
    struct cnet_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    bufferevent_setcb(bev, conn_read_cb, NULL, conn_event_cb, c);
    if (bufferevent_enable(bev, EV_READ | EV_WRITE) < 0) {
        log_error("cnet", "controller connection not armed: bufferevent_enable failed; closing it");
        bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
        free(c);
        return NULL; /* the caller frees bev */
    }
    c->net = net;
    c->bev = bev;
    c->node_id = CNET_NODE_UNKNOWN;
    c->next = net->conns;
    net->conns = c;
    net->conn_count++;
    return c;
}

static void peer_dial(struct cnet_peer *p)
{
    struct ctrl_net *net = p->net;
    struct bufferevent *bev = bufferevent_socket_new(net->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        peer_schedule(p);
        return;
    }
    struct cnet_conn *c = conn_new(net, bev);
    if (!c) {
        bufferevent_free(bev);
        peer_schedule(p);
        return;
    }
    c->peer = p;
    p->conn = c;
    char port[16];
    snprintf(port, sizeof port, "%u", p->port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    if (getaddrinfo(p->host, port, &hints, &res) != 0 || !res) {
        log_debug("cnet", "cannot resolve controller node=%u host=%s", p->id, p->host);
        conn_close(c);
        return;
    }
    int rc = bufferevent_socket_connect(bev, res->ai_addr, (int)res->ai_addrlen);
    freeaddrinfo(res);
    if (rc < 0) {
        conn_close(c);
        return;
    }
    socket_tune(p->net, bufferevent_getfd(bev));
}

static void peer_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    peer_dial(arg);
}

static void peer_schedule(struct cnet_peer *p)
{
    struct timeval tv = { p->backoff_ms / 1000, (p->backoff_ms % 1000) * 1000 };
    if (event_add(p->retry_ev, &tv) < 0) /* libevent out of memory: nothing else to do */
        log_error("cnet", "redial timer not armed node=%u: event_add failed; the peer is not "
                  "redialled until it connects to us", p->id);
    p->backoff_ms = p->backoff_ms * 2 > CNET_BACKOFF_MS_MAX ? CNET_BACKOFF_MS_MAX : p->backoff_ms * 2;
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr, int socklen, void *arg)
{
    (void)l;
    (void)addr;
    (void)socklen;
    struct ctrl_net *net = arg;
    if (net->conn_count >= CTRL_NET_CONNS_MAX) {
        evutil_closesocket(fd);
        return;
    }
    socket_tune(net, fd);
    struct bufferevent *bev = bufferevent_socket_new(net->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        evutil_closesocket(fd);
        return;
    }
    struct cnet_conn *c = conn_new(net, bev);
    if (!c) {
        bufferevent_free(bev);
        return;
    }
    if (send_hello(c) < 0)
        conn_close(c);
}

int ctrl_net_create(struct event_base *base, uint32_t self_id, const char *cluster_id, ctrl_net_frame_cb cb,
                    void *arg, struct ctrl_net **out)
{
    struct ctrl_net *net = calloc(1, sizeof *net);
    if (!net)
        return -ENOMEM;
    net->base = base;
    net->self_id = self_id;
    snprintf(net->cluster_id, sizeof net->cluster_id, "%s", cluster_id ? cluster_id : "");
    net->cb = cb;
    net->cb_arg = arg;
    buf_init(&net->out, CTRL_NET_FRAME_BYTES_MAX + 8);
    *out = net;
    return 0;
}

void ctrl_net_set_request_timeout(struct ctrl_net *net, int64_t ms)
{
    ASSERT(ms >= 0);
    net->request_timeout_ms = ms > (int64_t)UINT32_MAX ? UINT32_MAX : (unsigned)ms;
}

void ctrl_net_destroy(struct ctrl_net *net)
{
    if (!net)
        return;
    for (int i = 0; i < net->peer_count; i++) {
        net->peers[i].conn = NULL;
        event_free(net->peers[i].retry_ev);
    }
    while (net->conns) {
        struct cnet_conn *c = net->conns;
        c->peer = NULL;
        net->conns = c->next;
        bufferevent_free(c->bev);
        free(c);
    }
    if (net->listener)
        evconnlistener_free(net->listener);
    buf_deinit(&net->out);
    free(net);
}

int ctrl_net_listen(struct ctrl_net *net, const char *host, uint16_t port)
{
    char ports[16];
    snprintf(ports, sizeof ports, "%u", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host && host[0] ? host : NULL, ports, &hints, &res);
    if (gai != 0) {
        log_error("cnet", "cannot resolve controller listener host=%s error=\"%s\"", host, gai_strerror(gai));
        return ERR_CONFIG;
    }
    struct addrinfo *pick = res;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
    net->listener = evconnlistener_new_bind(net->base, accept_cb, net,
                                            LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128,
                                            pick->ai_addr, (int)pick->ai_addrlen);
    int err = errno;
    freeaddrinfo(res);
    if (!net->listener) {
        log_error("cnet", "cannot listen on the controller listener host=%s port=%u error=\"%s\"; check listeners= "
                  "and controller.listener.names", host && host[0] ? host : "0.0.0.0", port, strerror(err));
        return -err;
    }
    log_info("cnet", "controller listener up host=%s port=%u", host && host[0] ? host : "0.0.0.0", port);
    return 0;
}

int ctrl_net_peer_add(struct ctrl_net *net, uint32_t id, const char *host, uint16_t port)
{
    if (net->peer_count >= CTRL_NET_PEERS_MAX)
        return ERR_LIMIT;
    struct cnet_peer *p = &net->peers[net->peer_count];
    memset(p, 0, sizeof *p);
    p->net = net;
    p->id = id;
    snprintf(p->host, sizeof p->host, "%s", host);
    p->port = port;
    p->backoff_ms = CNET_BACKOFF_MS_MIN;
    p->retry_ev = event_new(net->base, -1, 0, peer_retry_cb, p);
    if (!p->retry_ev)
        return -ENOMEM;
    net->peer_count++;
    peer_dial(p);
    return 0;
}

size_t ctrl_net_unsent_bytes(const struct ctrl_net *net)
{
    size_t n = 0;
    for (const struct cnet_conn *c = net->conns; c; c = c->next)
        n += evbuffer_get_length(bufferevent_get_output(c->bev));
    return n;
}

int ctrl_net_send(struct ctrl_net *net, uint32_t to, const Samsa__ControllerFrame *f)
{
    struct cnet_conn *best = NULL;
    for (int i = 0; i < net->peer_count; i++)
        if (net->peers[i].id == to && net->peers[i].conn && net->peers[i].conn->node_id == to) {
            /* only once connected (node_id is set on BEV_EVENT_CONNECTED) */
            best = net->peers[i].conn;
            break;
        }
    if (!best)
        for (struct cnet_conn *c = net->conns; c; c = c->next)
            if (!c->peer && c->node_id == to && (!best || c->rx_seq > best->rx_seq))
                best = c;
    if (!best)
        return ERR_NOT_FOUND;
    return conn_send(best, f);
}
