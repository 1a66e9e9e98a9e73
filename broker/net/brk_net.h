/*
 * brk_net.h - the two primitives behind num.network.threads: a queue that
 * wakes its consumer's event loop, and a thread that runs one event_base.
 *
 * A brk_net_queue is an intrusive FIFO (callers embed struct brk_net_node in
 * what they send; nothing is allocated per item) guarded by a mutex, plus an
 * eventfd watched by the consumer's event_base.  Any thread may push; only
 * the thread running that event_base pops, from the callback.  A push onto
 * an empty queue writes the eventfd once; the callback drains the eventfd
 * *before* taking the items, so a push racing with it is either taken now or
 * wakes the loop again: no lost wake-up, and one wake-up serves a burst.
 *
 * The queue has no capacity of its own: its users bound what can be in it
 * (brk_conn: BRK_CONN_INFLIGHT_MAX per connection, and a network thread
 * stops reading once BRK_CONN_STATE_QUEUE_MAX requests wait for the state
 * thread).  brk_net_queue_push reports the count so the user can apply that.
 *
 * A brk_net_thread owns an event_base used by that thread only (so libevent
 * needs no locking: evthread_use_pthreads is never called).  It is stopped
 * from its own loop (brk_net_thread_break from a callback), then joined.
 *
 * Does not know about connections or requests (brk_conn.c does).
 */
#ifndef SAMSA_BRK_NET_H
#define SAMSA_BRK_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

struct event_base;
struct event;

#define BRK_NET_THREAD_NAME_BYTES 16 /* pthread_setname_np's limit, NUL included */

/* Embedded in every queued item; kind is the user's tag. */
struct brk_net_node {
    struct brk_net_node *next;
    int kind;
};

/* brk_net_queue_fn - runs on the consumer's loop with every item taken, in
 * push order (a NULL-terminated list), or NULL after a bare wake-up. */
typedef void (*brk_net_queue_fn)(struct brk_net_node *list, void *arg);

struct brk_net_queue {
    pthread_mutex_t mu;
    struct brk_net_node *head, *tail; /* under mu */
    int64_t count;                    /* under mu */
    int efd;
    struct event *ev;
    brk_net_queue_fn fn;
    void *arg;
    bool mu_init;
};

/* brk_net_queue_init - an empty queue whose callback fn runs on base's
 * thread.  Call from the thread that owns base (or before it runs). */
MUST_CHECK int brk_net_queue_init(struct brk_net_queue *q, struct event_base *base, brk_net_queue_fn fn, void *arg);
/* brk_net_queue_deinit - frees the eventfd and event; items still queued are
 * the caller's (take them first).  Safe on a zeroed or half-initialised q. */
void brk_net_queue_deinit(struct brk_net_queue *q);
/* brk_net_queue_push - append n (any thread); returns the count after the
 * push.  Wakes the consumer when the queue was empty.  Never blocks beyond
 * the mutex. */
int64_t brk_net_queue_push(struct brk_net_queue *q, struct brk_net_node *n);
/* brk_net_queue_wake - run the consumer's callback soon, even if empty. */
void brk_net_queue_wake(struct brk_net_queue *q);
/* brk_net_queue_take - everything queued (push order), count back to 0. */
struct brk_net_node *brk_net_queue_take(struct brk_net_queue *q);
/* brk_net_queue_count - items waiting now (a snapshot). */
int64_t brk_net_queue_count(struct brk_net_queue *q);

struct brk_net_thread {
    pthread_t tid;
    bool started;
    struct event_base *base;
    char name[BRK_NET_THREAD_NAME_BYTES];
};

/* brk_net_thread_init - create the thread's event_base (not the thread yet,
 * so queues can be attached to the base first). */
MUST_CHECK int brk_net_thread_init(struct brk_net_thread *t, const char *name);
/* brk_net_thread_start - start the thread: named t->name, every signal
 * blocked (signals belong to the state thread), running t->base until
 * brk_net_thread_break. */
MUST_CHECK int brk_net_thread_start(struct brk_net_thread *t);
/* brk_net_thread_break - from a callback on t->base: end its loop. */
void brk_net_thread_break(struct brk_net_thread *t);
/* brk_net_thread_join - wait for the thread (after something made it call
 * brk_net_thread_break).  Blocks. */
void brk_net_thread_join(struct brk_net_thread *t);
/* brk_net_thread_deinit - free the base (thread joined, events freed). */
void brk_net_thread_deinit(struct brk_net_thread *t);

#endif
