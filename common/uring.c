/*
 * uring.c - io_uring write/sync queue with a synchronous syscall fallback.
 *
 * Operations live in a fixed ring of URING_OPS_MAX slots indexed by a
 * monotonically increasing sequence number:
 *
 *     head ........ submit_pos ........ tail
 *     | submitted, maybe done | queued   |
 *
 * uring_submit turns [submit_pos, tail) into SQEs; completions mark ops
 * finished; callbacks run from head while the head op is finished, which
 * is what makes callback order equal queue order.  Because slots are
 * released only in order, the ring never fragments and needs no free list.
 */
#include "uring.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

enum uring_op_kind { URING_OP_WRITE, URING_OP_FDATASYNC, URING_OP_FSYNC };

struct uring_op {
    enum uring_op_kind kind;
    int fd;
    const uint8_t *buf;
    size_t len;
    size_t done;
    int64_t offset;
    uring_cb cb;
    void *arg;
    int res;
    bool finished;
    bool in_kernel;
    int fault_err;
    size_t fault_short_bytes;
    int64_t fault_sync_delay_ns;  /* syncs: start this much later (a slow disk) */
    struct __kernel_timespec delay_ts;  /* read by the kernel at submit */
    uint64_t resubmits_at_prep; /* syncs: u->write_resubmit_count when issued */
};

struct uring {
    struct io_uring ring;
    bool fallback;
    bool in_reap;
    int efd;
    uint64_t head;
    uint64_t submit_pos;
    uint64_t tail;
    unsigned in_kernel_count;
    uint64_t write_resubmit_count;
    uint64_t queued_count; /* ops queued since the fault hook was set */
    struct uring_fault fault;
    struct uring_op ops[URING_OPS_MAX];
};

/* user_data of the timeout that delays a sync (fault injection): its CQE
 * belongs to no op and is skipped */
static char uring_delay_marker;

static struct uring_op *uring_op_at(struct uring *u, uint64_t seq)
{
    return &u->ops[seq % URING_OPS_MAX];
}

int uring_create(unsigned entries, bool enable, struct uring **out)
{
    ASSERT(out != NULL);
    if (entries == 0 || entries > URING_OPS_MAX)
        return ERR_CONFIG;
    struct uring *u = calloc(1, sizeof *u);
    if (u == NULL)
        return -ENOMEM;
    u->efd = -1;
    u->fallback = true;
    const char *why = "disabled by config";
    if (enable) {
        struct io_uring_params params;
        memset(&params, 0, sizeof params);
        params.flags = IORING_SETUP_CQSIZE;
        params.cq_entries = URING_OPS_MAX;
        int rc = io_uring_queue_init_params(entries, &u->ring, &params);
        if (rc < 0) {
            why = strerror(-rc);
        } else {
            int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            if (efd < 0) {
                why = strerror(errno);
                io_uring_queue_exit(&u->ring);
            } else if ((rc = io_uring_register_eventfd(&u->ring, efd)) < 0) {
                why = strerror(-rc);
                close(efd);
                io_uring_queue_exit(&u->ring);
            } else {
                u->efd = efd;
                u->fallback = false;
            }
        }
    }
    if (u->fallback)
        log_warn("uring",
                 "io_uring unavailable, using synchronous pwrite/fdatasync fallback reason=\"%s\" "
                 "fix=\"set samsa.io.uring=true and allow io_uring_setup (seccomp/container "
                 "policy) for batched async disk I/O\"",
                 why);
    *out = u;
    return 0;
}

bool uring_is_fallback(const struct uring *u)
{
    return u->fallback;
}

int uring_event_fd(const struct uring *u)
{
    return u->efd;
}

unsigned uring_pending_count(const struct uring *u)
{
    return (unsigned)(u->tail - u->head);
}

void uring_fault_set(struct uring *u, const struct uring_fault *f)
{
    ASSERT(f != NULL);
    u->fault = *f;
    if (u->fault.nth != 0 && u->fault.count == 0)
        u->fault.count = 1;
    u->queued_count = 0;
}

static int uring_queue(struct uring *u, enum uring_op_kind kind, int fd, const void *buf,
                       size_t len, int64_t offset, uring_cb cb, void *arg)
{
    ASSERT(cb != NULL);
    ASSERT(fd >= 0);
    if (u->tail - u->head >= URING_OPS_MAX)
        return ERR_LIMIT;
    struct uring_op *op = uring_op_at(u, u->tail);
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->fd = fd;
    op->buf = buf;
    op->len = len;
    op->offset = offset;
    op->cb = cb;
    op->arg = arg;
    u->queued_count++;
    if (u->fault.nth != 0 && u->queued_count >= u->fault.nth &&
        u->queued_count < u->fault.nth + u->fault.count) {
        if (u->fault.err != 0)
            op->fault_err = u->fault.err;
        else if (kind == URING_OP_WRITE && u->fault.short_bytes < len)
            op->fault_short_bytes = u->fault.short_bytes;
        if (kind != URING_OP_WRITE)
            op->fault_sync_delay_ns = u->fault.sync_delay_ns;
    }
    u->tail++;
    return 0;
}

int uring_write(struct uring *u, int fd, const void *buf, size_t len, int64_t offset, uring_cb cb,
                void *arg)
{
    ASSERT(buf != NULL || len == 0);
    ASSERT(offset >= 0);
    if (len > INT32_MAX)
        return ERR_TOO_LARGE;
    return uring_queue(u, URING_OP_WRITE, fd, buf, len, offset, cb, arg);
}

int uring_fdatasync(struct uring *u, int fd, uring_cb cb, void *arg)
{
    return uring_queue(u, URING_OP_FDATASYNC, fd, NULL, 0, 0, cb, arg);
}

int uring_fsync(struct uring *u, int fd, uring_cb cb, void *arg)
{
    return uring_queue(u, URING_OP_FSYNC, fd, NULL, 0, 0, cb, arg);
}

/* Get an SQE, submitting what is already prepared if the SQ is full. */
static int uring_sqe_get(struct uring *u, struct io_uring_sqe **out)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
    if (sqe == NULL) {
        int rc = io_uring_submit(&u->ring);
        if (rc < 0)
            return rc;
        sqe = io_uring_get_sqe(&u->ring);
        if (sqe == NULL)
            return -EBUSY;
    }
    *out = sqe;
    return 0;
}

/* Prepare one SQE for op (first attempt or a resubmission). */
static int uring_op_prep(struct uring *u, struct uring_op *op)
{
    ASSERT(!op->in_kernel);
    ASSERT(!op->finished);
    struct io_uring_sqe *sqe;
    int rc = uring_sqe_get(u, &sqe);
    if (rc < 0)
        return rc;
    if (op->fault_err != 0) {
        io_uring_prep_nop(sqe);
    } else if (op->kind == URING_OP_WRITE) {
        size_t n = op->len - op->done;
        if (op->fault_short_bytes != 0 && op->done == 0 && op->fault_short_bytes < n)
            n = op->fault_short_bytes;
        io_uring_prep_write(sqe, op->fd, op->buf + op->done, (unsigned)n,
                            (uint64_t)(op->offset + (int64_t)op->done));
    } else if (op->fault_sync_delay_ns > 0) {
        /* a timeout drained after every earlier op, then the sync linked
         * behind it: the sync really starts late, in the kernel (ETIME_SUCCESS
         * keeps the expiry from cancelling the link) */
        op->delay_ts.tv_sec = op->fault_sync_delay_ns / 1000000000;
        op->delay_ts.tv_nsec = op->fault_sync_delay_ns % 1000000000;
        io_uring_prep_timeout(sqe, &op->delay_ts, 0, IORING_TIMEOUT_ETIME_SUCCESS);
        sqe->flags |= IOSQE_IO_DRAIN | IOSQE_IO_LINK;
        io_uring_sqe_set_data(sqe, &uring_delay_marker);
        if ((rc = uring_sqe_get(u, &sqe)) < 0)
            return rc;
        io_uring_prep_fsync(sqe, op->fd, op->kind == URING_OP_FDATASYNC ? IORING_FSYNC_DATASYNC : 0);
        op->resubmits_at_prep = u->write_resubmit_count;
    } else {
        io_uring_prep_fsync(sqe, op->fd, op->kind == URING_OP_FDATASYNC ? IORING_FSYNC_DATASYNC : 0);
        sqe->flags |= IOSQE_IO_DRAIN;
        op->resubmits_at_prep = u->write_resubmit_count;
    }
    io_uring_sqe_set_data(sqe, op);
    op->in_kernel = true;
    u->in_kernel_count++;
    return 0;
}

int uring_submit(struct uring *u)
{
    int count = 0;
    if (u->fallback) {
        count = (int)(u->tail - u->submit_pos);
        u->submit_pos = u->tail;
        return count;
    }
    while (u->submit_pos != u->tail) {
        int rc = uring_op_prep(u, uring_op_at(u, u->submit_pos));
        if (rc < 0)
            return rc;
        u->submit_pos++;
        count++;
    }
    if (count > 0 || io_uring_sq_ready(&u->ring) > 0) {
        int rc = io_uring_submit(&u->ring);
        if (rc < 0)
            return rc;
    }
    return count;
}

/* Apply one completion result; returns 1 if the op must be resubmitted. */
static int uring_op_complete(struct uring *u, struct uring_op *op, int res)
{
    if (op->fault_err != 0) {
        op->res = op->fault_err;
        op->finished = true;
        return 0;
    }
    if (op->kind == URING_OP_WRITE) {
        if (res == -EINTR || res == -EAGAIN)
            return 1;
        if (res < 0) {
            op->res = res;
            op->finished = true;
            return 0;
        }
        if (res == 0) {
            op->res = -EIO; /* no progress on a regular file: do not spin */
            op->finished = true;
            return 0;
        }
        op->done += (size_t)res;
        ASSERT(op->done <= op->len);
        if (op->done < op->len) {
            u->write_resubmit_count++;
            return 1;
        }
        op->res = (int)op->len;
        op->finished = true;
        return 0;
    }
    if (res == -EINTR)
        return 1;
    if (res >= 0 && op->resubmits_at_prep != u->write_resubmit_count)
        return 1; /* an earlier short write was finished after this sync started */
    op->res = res < 0 ? res : 0;
    op->finished = true;
    return 0;
}

/* Process every available CQE; returns -errno if a resubmission failed. */
static int uring_cqes_process(struct uring *u)
{
    struct io_uring_cqe *cqe;
    bool resubmitted = false;
    int err = 0;
    while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
        struct uring_op *op = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        io_uring_cqe_seen(&u->ring, cqe);
        if ((void *)op == &uring_delay_marker)
            continue; /* the delay before a sync expired; the sync's own CQE follows */
        ASSERT(op != NULL);
        ASSERT(op->in_kernel);
        op->in_kernel = false;
        u->in_kernel_count--;
        if (uring_op_complete(u, op, res) > 0) {
            int rc = uring_op_prep(u, op);
            if (rc < 0) {
                op->res = rc;
                op->finished = true;
                err = rc;
            } else {
                resubmitted = true;
            }
        }
    }
    if (resubmitted) {
        int rc = io_uring_submit(&u->ring);
        if (rc < 0)
            return rc;
    }
    return err;
}

static void uring_op_run_sync(struct uring_op *op)
{
    if (op->fault_err != 0) {
        op->res = op->fault_err;
        op->finished = true;
        return;
    }
    if (op->kind == URING_OP_WRITE) {
        while (op->done < op->len) {
            size_t n = op->len - op->done;
            if (op->fault_short_bytes != 0 && op->done == 0 && op->fault_short_bytes < n)
                n = op->fault_short_bytes;
            ssize_t r = pwrite(op->fd, op->buf + op->done, n, op->offset + (int64_t)op->done);
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                op->res = -errno;
                op->finished = true;
                return;
            }
            if (r == 0) {
                op->res = -EIO;
                op->finished = true;
                return;
            }
            op->done += (size_t)r;
        }
        op->res = (int)op->len;
    } else {
        if (op->fault_sync_delay_ns > 0) {
            struct timespec ts = { (time_t)(op->fault_sync_delay_ns / 1000000000),
                                   (long)(op->fault_sync_delay_ns % 1000000000) };
            while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
            }
        }
        int r = op->kind == URING_OP_FDATASYNC ? fdatasync(op->fd) : fsync(op->fd);
        op->res = r < 0 ? -errno : 0;
    }
    op->finished = true;
}

static int uring_callbacks_run(struct uring *u)
{
    int count = 0;
    while (u->head != u->tail) {
        struct uring_op *op = uring_op_at(u, u->head);
        if (!op->finished)
            break;
        ASSERT(!op->in_kernel);
        uring_cb cb = op->cb;
        void *arg = op->arg;
        int res = op->res;
        u->head++;
        cb(arg, res); /* may queue more ops at tail */
        count++;
    }
    return count;
}

int uring_reap(struct uring *u)
{
    ASSERT(!u->in_reap);
    u->in_reap = true;
    int err = 0;
    if (u->fallback) {
        for (uint64_t s = u->head; s != u->submit_pos; s++) {
            struct uring_op *op = uring_op_at(u, s);
            if (!op->finished)
                uring_op_run_sync(op);
        }
    } else {
        uint64_t v;
        ssize_t r = read(u->efd, &v, sizeof v); /* reset the eventfd; EAGAIN is fine */
        (void)r;
        err = uring_cqes_process(u);
    }
    int count = uring_callbacks_run(u);
    u->in_reap = false;
    return err < 0 ? err : count;
}

int uring_drain(struct uring *u)
{
    ASSERT(!u->in_reap);
    int err = 0;
    while (u->head != u->tail) {
        int rc = uring_submit(u);
        if (rc < 0) {
            err = rc;
            break;
        }
        if (!u->fallback && u->in_kernel_count > 0) {
            struct io_uring_cqe *cqe;
            rc = io_uring_wait_cqe(&u->ring, &cqe);
            if (rc < 0 && rc != -EINTR) {
                err = rc;
                break;
            }
        }
        rc = uring_reap(u);
        if (rc < 0) {
            err = rc;
            break;
        }
    }
    return err;
}

void uring_destroy(struct uring *u)
{
    if (u == NULL)
        return;
    int rc = uring_drain(u);
    if (rc < 0)
        log_error("uring", "drain at destroy failed err=\"%s\"", err_str(rc));
    if (!u->fallback) {
        io_uring_queue_exit(&u->ring);
        close(u->efd);
    }
    free(u);
}

int uring_io_workers_set(struct uring *u, unsigned workers)
{
    if (u->fallback)
        return 0;
    ASSERT(workers > 0);
    /* io-wq has two pools: "bounded" runs regular-file work (our writes and
     * syncs), "unbounded" everything else; keep one of the latter */
    unsigned vals[2] = { workers, 1 };
    int rc = io_uring_register_iowq_max_workers(&u->ring, vals);
    return rc < 0 ? rc : 0;
}
