/*
 * ctrl_env.h - what the controller driver needs from the world: storage,
 * transport and a clock, as small interfaces.
 *
 * The driver (ctrl.c, ctrl_rpc.c) reaches disks, sockets and time only
 * through these.  Production (ctrl_wire.c, behind ctrl_create) wires them to
 * ctrl_mlog, ctrl_qstate and ctrl_snap files, ctrl_net over libevent, a
 * libevent timer that calls ctrl_tick and clock_wall_ms.  The simulator
 * (test/sim/csim.c) wires an in-memory disk that loses unsynced writes on a
 * crash, a lossy, partitionable network and a tick counter.
 *
 * Contract of the storage (the same as the files'):
 *   - log_append writes one entry at offset == log_end_offset, not durable
 *     until log_sync returns or a later log_sync_submit completes;
 *     log_truncate drops offset.. (a diverged suffix) and syncs;
 *     log_cut_prefix drops ..offset-1 once a snapshot covers them.
 *   - log_sync_submit (optional; NULL = synchronous storage, log_sync is
 *     used): start making every entry appended so far durable and return at
 *     once; done_cb(arg, rc) runs later on the driver's thread, never inside
 *     the call.  The driver keeps at most one in flight and never calls
 *     log_cut_prefix while one is.  A crash before done_cb may lose every
 *     entry the sync covers.
 *   - qstate_write and snap_write are durable when they return (atomic).
 *   - every other call may block; the driver calls them from its own thread only.
 *   - a failing write is fatal to the driver (it must not answer anything
 *     that depends on it): it logs and aborts.
 * Contract of the transport: send is best effort (Raft retries on its own
 * timers) and must not call back into the driver; frames arrive through
 * ctrl_on_frame.  Nothing here is thread-safe.
 */
#ifndef SAMSA_CTRL_ENV_H
#define SAMSA_CTRL_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "controller/ctrl_qstate.h"
#include "quorum.pb-c.h"

struct ctrl_storage_ops {
    /* the metadata log (ctrl_mlog's semantics: offsets from 0, contiguous) */
    int64_t (*log_start_offset)(void *ctx);
    int64_t (*log_end_offset)(void *ctx);
    int (*log_append)(void *ctx, int64_t offset, int32_t epoch, struct bytes data);
    int (*log_sync)(void *ctx);
    int (*log_read)(void *ctx, int64_t offset, struct buf *out, int32_t *epoch_out);
    int (*log_truncate)(void *ctx, int64_t offset);
    int (*log_cut_prefix)(void *ctx, int64_t offset);
    /* quorum state: -ENOENT when none was ever written */
    int (*qstate_read)(void *ctx, struct ctrl_qstate *out);
    int (*qstate_write)(void *ctx, const struct ctrl_qstate *qs);
    /* snapshots: ERR_NOT_FOUND from snap_latest when there is none */
    int (*snap_write)(void *ctx, uint64_t index, uint64_t epoch, struct bytes payload);
    int (*snap_latest)(void *ctx, uint64_t *index, uint64_t *epoch);
    int (*snap_read)(void *ctx, uint64_t index, uint64_t epoch, struct buf *out);
    /* asynchronous sync of the metadata log (see above); may be NULL */
    int (*log_sync_submit)(void *ctx, void (*done_cb)(void *arg, int rc), void *arg);
};

struct ctrl_transport_ops {
    /* send - queue f to node `to`; ERR_NOT_FOUND when no connection is up.
     * f is borrowed for the call only. */
    int (*send)(void *ctx, uint32_t to, const Samsa__ControllerFrame *f);
    /* unsent_bytes - bytes queued, not yet taken by the kernel */
    size_t (*unsent_bytes)(void *ctx);
};

struct ctrl_env {
    const struct ctrl_storage_ops *storage;
    void *storage_ctx;
    const struct ctrl_transport_ops *transport;
    void *transport_ctx;
    /* wall_ms - wall clock for operator status (last fetch times) */
    int64_t (*wall_ms)(void *ctx);
    void *clock_ctx;
    uint64_t prng_seed;   /* the Raft core's election jitter and the first controller RPC request id:
                           * different at every process start (answers are matched by id alone) */
    /* release - called first by ctrl_destroy: stop timers and the transport
     * so nothing calls into the driver any more, close storage. */
    void (*release)(void *ctx);
    void *release_ctx;
    /* Test-only re-injected bugs (test/sim/teeth_test.sh); false in production. */
    bool bug_plan_before_caught_up;        /* the leader plans before it applied its own epoch */
    bool bug_plan_on_proposals_in_flight;  /* fences planned beside unapplied proposals */
    bool bug_ack_before_sync;              /* a fetch acknowledges entries not synced yet */
    bool bug_ignore_unclean_shutdown;      /* KIP-966: registrations count as clean (ISR/ELR keep the broker) */
};

/* The driver over an environment is declared in ctrl.h (ctrl_create_env,
 * ctrl_tick, ctrl_on_frame, ctrl_applied_index). */

#endif
