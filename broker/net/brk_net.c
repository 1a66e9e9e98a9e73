/*
 * brk_net.c - wake-up queues and event-loop threads for the network threads
 * (see brk_net.h for the protocol and its invariants).
 *
 * Why an eventfd and not event_active(): event_active from another thread
 * needs libevent's global locking (evthread_use_pthreads), process-wide
 * state that would also slow down the state thread's base.  An eventfd
 * keeps every base single-threaded.
 */
#include "broker/net/brk_net.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"

static void queue_ev_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct brk_net_queue *q = arg;
    uint64_t v;
    /* drain first: a push after this point wakes us again */
    if (read(fd, &v, sizeof v) < 0 && errno != EAGAIN)
        log_warn("net", "eventfd read failed error=\"%s\"", strerror(errno));
    q->fn(brk_net_queue_take(q), q->arg);
}

int brk_net_queue_init(struct brk_net_queue *q, struct event_base *base, brk_net_queue_fn fn, void *arg)
{
    memset(q, 0, sizeof *q);
    q->efd = -1;
    q->fn = fn;
    q->arg = arg;
    int rc = pthread_mutex_init(&q->mu, NULL);
    if (rc != 0)
        return -rc;
    q->mu_init = true;
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd < 0)
        return -errno;
    q->ev = event_new(base, q->efd, EV_READ | EV_PERSIST, queue_ev_cb, q);
    if (!q->ev || event_add(q->ev, NULL) < 0)
        return -ENOMEM;
    return 0;
}

void brk_net_queue_deinit(struct brk_net_queue *q)
{
    if (q->ev)
        event_free(q->ev);
    q->ev = NULL;
    if (q->efd >= 0)
        close(q->efd);
    q->efd = -1;
    if (q->mu_init)
        pthread_mutex_destroy(&q->mu);
    q->mu_init = false;
}

static void queue_signal(struct brk_net_queue *q)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already huge: the consumer is awake anyway */
    if (write(q->efd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_error("net", "eventfd write failed error=\"%s\"", strerror(errno));
}

int64_t brk_net_queue_push(struct brk_net_queue *q, struct brk_net_node *n)
{
    n->next = NULL;
    pthread_mutex_lock(&q->mu);
    bool was_empty = q->head == NULL;
    if (q->tail)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
    int64_t count = ++q->count;
    pthread_mutex_unlock(&q->mu);
    if (was_empty)
        queue_signal(q);
    return count;
}

void brk_net_queue_wake(struct brk_net_queue *q) { queue_signal(q); }

struct brk_net_node *brk_net_queue_take(struct brk_net_queue *q)
{
    pthread_mutex_lock(&q->mu);
    struct brk_net_node *list = q->head;
    q->head = q->tail = NULL;
    q->count = 0;
    pthread_mutex_unlock(&q->mu);
    return list;
}

int64_t brk_net_queue_count(struct brk_net_queue *q)
{
    pthread_mutex_lock(&q->mu);
    int64_t count = q->count;
    pthread_mutex_unlock(&q->mu);
    return count;
}

int brk_net_thread_init(struct brk_net_thread *t, const char *name)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->base = event_base_new();
    return t->base ? 0 : -ENOMEM;
}

static void *thread_main(void *arg)
{
    struct brk_net_thread *t = arg;
    /* the loop ends only through brk_net_thread_break; an error ends it too */
    if (event_base_dispatch(t->base) < 0)
        log_error("net", "network thread loop failed thread=%s", t->name);
    return NULL;
}

int brk_net_thread_start(struct brk_net_thread *t)
{
    ASSERT(!t->started);
    ASSERT(t->base != NULL);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the new thread inherits this mask */
    int rc = pthread_create(&t->tid, NULL, thread_main, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return -rc;
    t->started = true;
    int nrc = pthread_setname_np(t->tid, t->name);
    if (nrc != 0)
        log_warn("net", "cannot name thread thread=%s error=\"%s\"", t->name, strerror(nrc));
    return 0;
}

void brk_net_thread_break(struct brk_net_thread *t)
{
    int rc = event_base_loopbreak(t->base); /* fails only without a base */
    ASSERT(rc == 0);
}

void brk_net_thread_join(struct brk_net_thread *t)
{
    if (!t->started)
        return;
    int rc = pthread_join(t->tid, NULL);
    ASSERT(rc == 0);
    t->started = false;
}

void brk_net_thread_deinit(struct brk_net_thread *t)
{
    ASSERT(!t->started);
    if (t->base)
        event_base_free(t->base);
    t->base = NULL;
}
