/*
 * uring.h - queued file writes and syncs over io_uring, with a plain
 * syscall fallback.
 *
 * The broker's event loop queues operations while it handles a loop
 * iteration (uring_write, uring_fdatasync, uring_fsync), then calls
 * uring_submit() once: every queued SQE goes to the kernel in ONE syscall,
 * which is how one flush covers many requests.  When the eventfd
 * (uring_event_fd) becomes readable, or at the end of each iteration, the
 * loop calls uring_reap() which runs the callbacks of finished operations.
 *
 * Invariants:
 *  - Callbacks run strictly in queue order (FIFO over the whole uring), even
 *    when the kernel completes operations out of order.  A callback for
 *    op N never runs before the callbacks of ops 0..N-1.
 *  - A sync (fdatasync/fsync) covers every write queued before it on the
 *    same fd: it is issued with IOSQE_IO_DRAIN, and re-issued if an earlier
 *    short write had to be resubmitted after it started.
 *  - A write's callback gets the full length or a -errno; short writes are
 *    resubmitted internally until done or failed.
 *  - At most URING_OPS_MAX operations are queued or in flight; past it the
 *    queue functions return ERR_LIMIT.
 *  - Callbacks may queue new operations, but must not call uring_reap,
 *    uring_drain or uring_destroy.
 *
 * Fallback: if enable is false or io_uring cannot be set up (ENOSYS, EPERM
 * under seccomp in containers, ...), the same API runs operations with
 * pwrite/fdatasync/fsync synchronously inside uring_reap(); results and
 * callback order are identical.  A warning naming the reason and the config
 * key samsa.io.uring is logged once (at create).  uring_event_fd() is -1 in
 * fallback: the loop must call uring_reap() after uring_submit() each
 * iteration (cheap when idle), which it does in both modes anyway.
 *
 * Not here: reads (the broker preads directly: the page cache serves them),
 * threads (one uring per loop thread), O_DIRECT, registered buffers.
 * Buffers passed to uring_write are borrowed until the callback runs.
 */
#ifndef SAMSA_URING_H
#define SAMSA_URING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Maximum operations queued or in flight on one uring at once. */
#define URING_OPS_MAX 4096u

struct uring;

/* uring_cb - res is the byte count (writes), 0 (syncs) or -errno. */
typedef void (*uring_cb)(void *arg, int res);

/*
 * uring_create - set up a ring with `entries` SQ slots (1..URING_OPS_MAX).
 * enable=false forces the fallback.  Fails only on allocation failure
 * (-ENOMEM) or bad arguments; io_uring setup failure selects the fallback.
 */
MUST_CHECK int uring_create(unsigned entries, bool enable, struct uring **out);

/* uring_destroy - drains everything in flight (runs callbacks), then frees. */
void uring_destroy(struct uring *u);

/* uring_is_fallback - true when operations run as plain syscalls. */
bool uring_is_fallback(const struct uring *u);

/* uring_event_fd - an eventfd signalled on completions; -1 in fallback. */
int uring_event_fd(const struct uring *u);

/*
 * uring_write - queue a pwrite of len bytes (<= INT32_MAX) at offset.  buf
 * is borrowed until cb runs.  Returns 0 or ERR_LIMIT (queue full).  Never
 * blocks; the op starts at the next uring_submit.
 */
MUST_CHECK int uring_write(struct uring *u, int fd, const void *buf, size_t len, int64_t offset,
                           uring_cb cb, void *arg);

/* uring_fdatasync / uring_fsync - queue a sync ordered after earlier writes. */
MUST_CHECK int uring_fdatasync(struct uring *u, int fd, uring_cb cb, void *arg);
MUST_CHECK int uring_fsync(struct uring *u, int fd, uring_cb cb, void *arg);

/*
 * uring_submit - hand every queued op to the kernel in one syscall.
 * Returns the number of ops submitted (>= 0) or -errno.  Never blocks on
 * I/O.  In fallback it only marks ops as submitted.
 */
MUST_CHECK int uring_submit(struct uring *u);
/* uring_io_workers_set - bound the kernel I/O worker threads (io-wq) that
 * perform this ring's blocking file writes and syncs: Kafka's
 * num.io.threads, the threads that do the disk work (io-wq's bounded pool;
 * its unbounded pool, for non-file work, is held to one).  Returns 0, -errno from
 * the kernel, or 0 in fallback mode (the loop thread does the I/O there). */
MUST_CHECK int uring_io_workers_set(struct uring *u, unsigned workers);

/*
 * uring_reap - non-blocking: process finished completions (resubmitting
 * short writes) and run ready callbacks in queue order.  In fallback, runs
 * every submitted op synchronously (this blocks on the disk), then its
 * callback.  Returns the number of callbacks run, or -errno.
 */
MUST_CHECK int uring_reap(struct uring *u);

/* uring_drain - submit and block until nothing is queued or in flight. */
MUST_CHECK int uring_drain(struct uring *u);

/* uring_pending_count - ops queued or in flight whose callback has not run. */
unsigned uring_pending_count(const struct uring *u);

/*
 * Fault injection (tests; STYLE §10).  The Nth op queued after the hook is
 * set (1-based), and the following count-1 ops, fail: with err (a -errno,
 * e.g. -EIO or -ENOSPC) and no I/O performed, or, if err == 0, writes among
 * them are made short by performing only short_bytes of the first attempt
 * (the rest is resubmitted like any short write).  sync_delay_ns > 0 makes
 * the syncs among them start that much later (a linked kernel timeout, a
 * sleep in fallback): a slow disk.  A zeroed struct disables.
 */
struct uring_fault {
    uint64_t nth;
    unsigned count;
    int err;
    size_t short_bytes;
    int64_t sync_delay_ns;
};
void uring_fault_set(struct uring *u, const struct uring_fault *f);

#endif
