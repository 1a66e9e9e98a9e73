/*
 * brk_h_producer.c - InitProducerId (API 22, v0-4) on every broker, and the
 * broker's block of producer ids.
 *
 * Ids come in blocks of CTRL_PRODUCER_ID_BLOCK_LEN from the active
 * controller (ctrl_allocate_producer_ids: a ProducerIdsRecord committed
 * through the metadata log, so no id is handed out twice, across broker
 * restarts and controller failover).  The broker fetches its first block at
 * the first request and the next one when 10% of the current block is
 * left; a request that finds no id waits for the block in flight (at most
 * BRK_PIDS_WAITERS_MAX, then COORDINATOR_LOAD_IN_PROGRESS, which clients
 * retry, as they do when the controller cannot be reached).
 *
 * Answers (Kafka 3.x for a null transactional id, KIP-98/360):
 *   - no producer id given: a fresh id, epoch 0;
 *   - v3+ with a known (producer id, epoch) - an id below the cluster's next
 *     block start - a re-initialisation (KIP-360): the same id, epoch + 1,
 *     so the partitions fence the old epoch's batches; at the last epoch a
 *     fresh id instead.  Kafka's own broker hands out a fresh id here; both
 *     are valid for the client.  The broker keeps no per-id state (the
 *     partitions do), so it trusts the pair as Kafka does for idempotent
 *     producers;
 *   - a transactional id: UNSUPPORTED_VERSION and a broker warning:
 *     transactions (the coordinator, __transaction_state) are not built
 *     yet.  The partitions' producer state already stores the transactional
 *     fields.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/api/brk_h.h"
#include "broker/api/brk_kerr.h"
#include "broker/brk_ctx.h"
#include "common/clock.h"
#include "common/log.h"
#include "controller/ctrl.h"

#define BRK_PIDS_WAITERS_MAX 1024

struct brk_pids {
    int64_t next, end;            /* the block in use: [next, end) */
    int64_t spare_start, spare_end; /* the next block, fetched ahead; empty when equal */
    bool fetching;
    int32_t waiting_count;
    struct brk_req *waiting[BRK_PIDS_WAITERS_MAX];
    int64_t refused_log_ms;       /* rate limit of the transactional warning */
};

static void pids_respond(struct brk_req *req, int16_t error_code, int64_t producer_id, int16_t epoch)
{
    struct kmsg_init_producer_id_resp resp;
    kmsg_init_producer_id_resp_init(&resp);
    resp.error_code = error_code;
    resp.producer_id = error_code == KERR_NONE ? producer_id : -1;
    resp.producer_epoch = error_code == KERR_NONE ? epoch : -1;
    BRK_RESPOND(req, init_producer_id, &resp);
}

/* pids_take - the next id of this broker's blocks, or -1 when none is left. */
static int64_t pids_take(struct brk_pids *pids)
{
    if (pids->next == pids->end && pids->spare_start != pids->spare_end) {
        pids->next = pids->spare_start;
        pids->end = pids->spare_end;
        pids->spare_start = pids->spare_end = 0;
    }
    if (pids->next == pids->end)
        return -1;
    ASSERT(pids->next < pids->end);
    return pids->next++;
}

static void pids_fetch(struct brk_ctx *srv);

static void pids_fetched(void *arg, int rc, int64_t start, int32_t len)
{
    struct brk_ctx *srv = arg;
    struct brk_pids *pids = srv->pids;
    pids->fetching = false;
    if (rc == 0) {
        ASSERT(start >= 0 && len > 0);
        if (pids->next == pids->end) {
            pids->next = start;
            pids->end = start + len;
        } else {
            pids->spare_start = start;
            pids->spare_end = start + len;
        }
        log_info("producer", "producer id block start=%lld len=%d", (long long)start, len);
    } else {
        log_warn("producer", "no producer id block from the active controller error=\"%s\"; InitProducerId is "
                 "answered COORDINATOR_LOAD_IN_PROGRESS (clients retry) until one arrives", err_str(rc));
    }
    int32_t n = pids->waiting_count;
    pids->waiting_count = 0;
    for (int32_t i = 0; i < n; i++) {
        int64_t id = pids_take(pids);
        if (id < 0) {
            pids_respond(pids->waiting[i], KERR_COORDINATOR_LOAD_IN_PROGRESS, -1, -1);
            continue;
        }
        pids_respond(pids->waiting[i], KERR_NONE, id, 0);
    }
    pids_fetch(srv); /* the prefetch, if the waiters used much of it */
}

/* pids_fetch - ask for the next block when none is in flight and the ids
 * left are fewer than a tenth of a block (or none). */
static void pids_fetch(struct brk_ctx *srv)
{
    struct brk_pids *pids = srv->pids;
    if (pids->fetching || pids->spare_start != pids->spare_end ||
        pids->end - pids->next >= CTRL_PRODUCER_ID_BLOCK_LEN / 10)
        return;
    int rc = ctrl_allocate_producer_ids(srv->ctrl, srv->node->node_id, srv->broker_epoch, pids_fetched, srv);
    if (rc < 0) {
        log_debug("producer", "producer id block request not sent error=\"%s\"", err_str(rc));
        return;
    }
    pids->fetching = true;
}

void brk_h_producer_stop(struct brk_ctx *srv)
{
    /* after ctrl_destroy: no block can arrive; waiting requests die with
     * their connections */
    free(srv->pids);
    srv->pids = NULL;
}

void brk_h_init_producer_id(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_init_producer_id_req m;
    int rc = kmsg_init_producer_id_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    if (!srv->pids && !(srv->pids = calloc(1, sizeof *srv->pids))) {
        pids_respond(req, KERR_COORDINATOR_LOAD_IN_PROGRESS, -1, -1);
        return;
    }
    struct brk_pids *pids = srv->pids;
    if (m.transactional_id.ptr) {
        int64_t now_ms = clock_wall_ms();
        if (now_ms - pids->refused_log_ms >= 10000) {
            pids->refused_log_ms = now_ms;
            log_warn("producer", "InitProducerId for transactional_id=%.*s refused with UNSUPPORTED_VERSION: "
                     "transactions are not supported yet; use enable.idempotence without transactional.id",
                     (int)m.transactional_id.len, (const char *)m.transactional_id.ptr);
        }
        pids_respond(req, KERR_UNSUPPORTED_VERSION, -1, -1);
        return;
    }
    /* KIP-360: a known producer re-initialising gets its epoch bumped */
    if (m.producer_id >= 0 && m.producer_epoch >= 0 && m.producer_epoch < INT16_MAX - 1 &&
        m.producer_id < ctrl_image_next_producer_id(ctrl_metadata(srv->ctrl))) {
        pids_respond(req, KERR_NONE, m.producer_id, (int16_t)(m.producer_epoch + 1));
        return;
    }
    int64_t id = pids_take(pids);
    pids_fetch(srv);
    if (id >= 0) {
        pids_respond(req, KERR_NONE, id, 0);
        return;
    }
    if (!pids->fetching || pids->waiting_count >= BRK_PIDS_WAITERS_MAX) {
        pids_respond(req, KERR_COORDINATOR_LOAD_IN_PROGRESS, -1, -1);
        return;
    }
    pids->waiting[pids->waiting_count++] = req; /* answered by pids_fetched */
}
