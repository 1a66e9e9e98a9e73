/*
 * brk_h_produce.c - Produce: validate each partition's batches, append them
 * to the partition log, answer once every append is written.
 *
 * Durability (flush policy): the response for acks=1 is sent after the
 * local write has completed into the page cache (so it survives kill -9
 * of the process), and after fdatasync only when the topic's flush.messages
 * / flush.ms policy calls for one — Kafka's default policy.  acks=all
 * (-1) is answered once the high watermark has passed the batch: every
 * member of the ISR has it in its page cache (brk_replica_acked; Kafka's
 * DelayedProduce); with samsa.acks.all.fsync, once every ISR member has
 * also fdatasync'd it (the durable HW, broker/replica/README.md; our own
 * failed sync answers KAFKA_STORAGE_ERROR).  Until then the partition's
 * answer waits on the partition (a brk_part_waiter woken by HW moves, metadata changes and the
 * partition closing), bounded by the request's timeout_ms
 * (REQUEST_TIMED_OUT, as Kafka).  With an ISR below min.insync.replicas an
 * acks=all batch is refused before the append (NOT_ENOUGH_REPLICAS), and
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND answers one whose ISR shrank below it
 * while waiting.
 *
 * Batches are never re-encoded: the request's own bytes are validated (CRC),
 * their base offset and leader epoch are patched in the log's copy, and that
 * copy is what Fetch serves byte for byte.  Versions 0-2 carry magic 0/1
 * message sets: each partition's set is converted to one uncompressed v2
 * batch in the request's arena (broker/log/brk_legacy.h; a CRC-32 mismatch
 * is CORRUPT_MESSAGE), as Kafka 3.x does, and that batch then takes the v3+
 * path below unchanged.
 *
 * Idempotent batches (a producer id >= 0) go through the partition's
 * producer state (broker/log/brk_pstate.h) in three calls kept apart from
 * the rest: idem_check before the append (a duplicate of one of the
 * producer's last five batches is answered with its original offsets and
 * not appended - REQUEST_TIMED_OUT, retriable, while the original's write
 * is still in flight; a gap or a stale epoch is refused), idem_appended right
 * after the append assigned the offsets (so a pipelined next batch of the
 * same producer sees this one), idem_append_done in the append callback
 * (a failed write forgets the batch: the log trims it).
 */
#include <string.h>

#include "broker/log/brk_batch.h"
#include "broker/log/brk_legacy.h"
#include "broker/api/brk_h.h"
#include "broker/api/brk_kerr.h"
#include "broker/log/brk_part.h"
#include "broker/replica/brk_replica.h"
#include <event2/event.h>
#include "common/be.h"
#include "common/clock.h"
#include "common/log.h"
#include "controller/ctrl.h"

struct produce_part;

struct produce_state {
    struct brk_req *req;
    struct kmsg_produce_resp resp;
    int16_t acks;
    int32_t timeout_ms;
    struct produce_part *waiting;   /* acks=all partitions waiting for the HW */
};

struct produce_part {
    struct produce_state *st;
    struct kmsg_produce_resp_partition *rp;
    struct brk_part *part;
    int64_t record_count;
    int32_t leader_epoch;           /* the term it was appended in */
    struct brk_part_waiter waiter;  /* linked while waiting for the ISR */
    struct produce_part *next, *prev; /* on st->waiting */
    int64_t producer_id;            /* -1: not idempotent */
    int64_t base_offset;            /* assigned by the append */
};

/* ---- idempotence (KIP-98/360): the partition's producer state ---- */

/* idem_check - before the append.  KERR_NONE: append it; with *dup set: a
 * duplicate, rp already holds the original offsets (append nothing), and
 * *dup_records says how many records the original batch holds. */
static int16_t idem_check(const struct brk_part *part, struct bytes records, const struct brk_batch_summary *sum,
                          struct kmsg_produce_resp_partition *rp, bool *dup, int64_t *dup_records)
{
    *dup = false;
    *dup_records = 0;
    if (sum->producer_id < 0)
        return KERR_NONE;
    struct brk_batch_hdr h;
    /* Kafka: one batch per partition from an idempotent producer, with a sequence */
    if (sum->batch_count != 1 || sum->base_sequence < 0 || sum->producer_epoch < 0 || sum->control ||
        brk_batch_parse(records.ptr, records.len, &h) <= 0)
        return KERR_INVALID_RECORD;
    struct brk_pstate_batch b;
    brk_pstate_batch_from_hdr(&h, &b);
    struct brk_pstate_meta meta;
    int rc = brk_pstate_check(part->pstate, &b, &meta);
    if (rc == BRK_PSTATE_DUPLICATE && meta.last_offset >= brk_plog_end_offset(part->plog)) {
        /* the original's write has not completed: it may still fail, so
         * its offsets cannot be promised yet; the client retries */
        log_debug("produce", "duplicate of a batch in flight topic=%s partition=%d producer_id=%lld seq=%d: retry",
                  part->topic, part->partition, (long long)b.producer_id, b.first_seq);
        return KERR_REQUEST_TIMED_OUT;
    }
    if (rc == BRK_PSTATE_DUPLICATE) {
        log_debug("produce", "duplicate batch topic=%s partition=%d producer_id=%lld epoch=%d seq=%d..%d offset=%lld",
                  part->topic, part->partition, (long long)b.producer_id, b.producer_epoch, b.first_seq, b.last_seq,
                  (long long)meta.first_offset);
        *dup = true;
        *dup_records = meta.last_offset - meta.first_offset + 1;
        rp->base_offset = meta.first_offset;
        rp->log_start_offset = brk_plog_start_offset(part->plog);
        return KERR_NONE;
    }
    if (rc < 0)
        log_debug("produce", "refused idempotent batch topic=%s partition=%d producer_id=%lld epoch=%d seq=%d "
                  "error=\"%s\"", part->topic, part->partition, (long long)b.producer_id, b.producer_epoch,
                  b.first_seq, err_str(rc));
    return brk_kerr_from_err(rc);
}

/* idem_appended - the append took the batch and patched its offsets in
 * place: remember it at once. */
static void idem_appended(struct produce_part *pp, struct bytes records)
{
    if (pp->producer_id >= 0)
        brk_part_producers_observe(pp->part, records.ptr, records.len);
}

/* idem_append_done - in the append callback: a failed write is trimmed
 * from the log, so the state must not call its retry a duplicate. */
static void idem_append_done(struct produce_part *pp, int rc)
{
    if (rc < 0 && pp->producer_id >= 0)
        brk_pstate_forget(pp->part->pstate, pp->producer_id, pp->base_offset);
}

static void produce_respond(struct produce_state *st)
{
    struct brk_req *req = st->req;
    if (st->acks == 0) {
        req->no_response = true;
        brk_req_finish(req, 0);
        return;
    }
    BRK_RESPOND(req, produce, &st->resp);
}

/* One partition's answer is complete. */
static void produce_part_done(struct produce_part *pp)
{
    struct produce_state *st = pp->st;
    ASSERT(st->req->pending > 0);
    if (--st->req->pending == 0) {
        ASSERT(st->waiting == NULL);
        produce_respond(st);
    }
}

static void produce_unwait(struct produce_part *pp)
{
    struct produce_state *st = pp->st;
    brk_part_unwait(&pp->waiter);
    if (pp->prev)
        pp->prev->next = pp->next;
    else
        st->waiting = pp->next;
    if (pp->next)
        pp->next->prev = pp->prev;
    pp->next = pp->prev = NULL;
}

/* acks=all: answered once the ISR has the batch (or it never will here). */
static bool produce_acked(struct produce_part *pp)
{
    int16_t ec = 0;
    if (!brk_replica_acked(pp->part, pp->leader_epoch, pp->rp->base_offset + pp->record_count, &ec))
        return false;
    if (ec != 0)
        pp->rp->error_code = ec;
    return true;
}

static void produce_part_wake(struct brk_part_waiter *w, enum brk_part_event ev, uint64_t round)
{
    (void)round;
    struct produce_part *pp = w->owner;
    if (ev == BRK_PART_GONE)
        pp->rp->error_code = KERR_NOT_LEADER_OR_FOLLOWER;
    else if (!produce_acked(pp))
        return;
    produce_unwait(pp);
    produce_part_done(pp);
}

static void produce_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct produce_state *st = arg;
    for (bool last = st->waiting == NULL; !last;) {
        struct produce_part *pp = st->waiting;
        last = pp->next == NULL; /* read now: the last one answers, and the answer frees st (its arena) */
        pp->rp->error_code = KERR_REQUEST_TIMED_OUT;
        produce_unwait(pp);
        produce_part_done(pp);
    }
}

/* Park pp until the HW passes its batch; false if it cannot wait. */
static bool produce_park(struct produce_part *pp)
{
    struct produce_state *st = pp->st;
    struct brk_req *req = st->req;
    if (pp->part->closing_in)
        return false;
    if (!req->timer) {
        struct brk_ctx *srv = brk_req_ctx(req);
        int32_t ms = st->timeout_ms > 0 ? st->timeout_ms : 0;
        struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
        req->timer = event_new(srv->base, -1, 0, produce_timeout_cb, st);
        if (!req->timer || event_add(req->timer, &tv) < 0)
            return false;
    }
    brk_part_wait(pp->part, &pp->waiter, pp, produce_part_wake);
    pp->prev = NULL;
    pp->next = st->waiting;
    if (st->waiting)
        st->waiting->prev = pp;
    st->waiting = pp;
    return true;
}

static void produce_append_cb(void *arg, int rc)
{
    struct produce_part *pp = arg;
    struct produce_state *st = pp->st;
    idem_append_done(pp, rc);
    if (rc < 0) {
        pp->rp->error_code = brk_kerr_from_err(rc);
        pp->rp->base_offset = -1;
    } else {
        pp->rp->log_start_offset = brk_plog_start_offset(pp->part->plog);
        if (st->acks == -1 && !produce_acked(pp)) {
            if (produce_park(pp))
                return;
            pp->rp->error_code = KERR_REQUEST_TIMED_OUT; /* could not wait: no memory */
        }
    }
    produce_part_done(pp);
}

/* A duplicate of a batch already written: answered with the original's
 * offsets - for acks=all only once the HW has passed it, as Kafka's delayed
 * produce waits for the original's required offset (the retry may arrive
 * before the ISR has the original). */
static int16_t produce_duplicate(struct produce_state *st, struct brk_part *part,
                                 struct kmsg_produce_resp_partition *rp, int64_t records)
{
    if (st->acks != -1)
        return KERR_NONE;
    struct brk_req *req = st->req;
    struct produce_part *pp = arena_alloc(&req->arena, sizeof *pp);
    if (!pp)
        return KERR_UNKNOWN_SERVER_ERROR;
    memset(pp, 0, sizeof *pp);
    pp->st = st;
    pp->rp = rp;
    pp->part = part;
    pp->record_count = records;
    pp->leader_epoch = part->leader_epoch;
    pp->producer_id = -1;
    if (produce_acked(pp))
        return rp->error_code;
    req->pending++;
    if (produce_park(pp))
        return KERR_NONE;
    req->pending--;
    return KERR_REQUEST_TIMED_OUT; /* could not wait: no memory */
}

/* Produce v0-2: replace p->records (a magic 0/1 message set) by one v2
 * batch in the request's arena, which lives until the append's callback. */
static int16_t produce_legacy_convert(struct brk_req *req, const struct brk_part *part,
                                      struct kmsg_produce_req_partition *p)
{
    size_t max_bytes = part->max_message_bytes > 0 ? (size_t)part->max_message_bytes : 1;
    struct buf out, scratch;
    buf_init(&out, max_bytes);
    buf_init(&scratch, 4 * max_bytes + (1u << 20)); /* an inner set: ~30 bytes more a record than v2 */
    int rc = brk_legacy_to_v2(p->records, &out, &scratch);
    uint8_t *copy = rc > 0 ? arena_alloc(&req->arena, out.len) : NULL;
    if (copy) {
        memcpy(copy, out.ptr, out.len);
        p->records = bytes_make(copy, out.len);
    }
    size_t out_len = out.len;
    buf_deinit(&out);
    buf_deinit(&scratch);
    if (rc < 0) {
        log_debug("produce", "rejected magic 0/1 message set topic=%s partition=%d version=%d error=\"%s\"",
                  part->topic, part->partition, req->hdr.api_version, err_str(rc));
        if (rc == ERR_LIMIT)
            return KERR_MESSAGE_TOO_LARGE;
        if (rc == ERR_UNSUPPORTED)
            return KERR_UNSUPPORTED_COMPRESSION_TYPE;
        if (rc == ERR_INVALID)
            return KERR_INVALID_RECORD;
        return brk_kerr_from_err(rc);
    }
    if (!copy && out_len > 0)
        return KERR_UNKNOWN_SERVER_ERROR;
    return KERR_NONE;
}

static int16_t produce_partition(struct produce_state *st, const struct ctrl_topic *t,
                                 struct kmsg_produce_req_partition *p, struct kmsg_produce_resp_partition *rp)
{
    struct brk_req *req = st->req;
    struct brk_ctx *srv = brk_req_ctx(req);
    if (!t)
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    struct brk_part *part = brk_parts_find(srv->parts, t->topic_id, p->index);
    if (!part)
        return p->index >= 0 && p->index < t->partition_count ? KERR_NOT_LEADER_OR_FOLLOWER
                                                               : KERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (!part->is_leader || !part->replica)
        return KERR_NOT_LEADER_OR_FOLLOWER;
    if (!p->records.ptr || p->records.len == 0)
        return KERR_INVALID_RECORD;
    if (req->hdr.api_version < 3) {
        int16_t lec = produce_legacy_convert(req, part, p);
        if (lec != KERR_NONE)
            return lec;
    }
    struct brk_batch_summary sum;
    int rc = brk_batch_validate_produce(p->records, part->max_message_bytes, &sum);
    if (rc < 0) {
        log_debug("produce", "rejected batch topic=%s partition=%d error=\"%s\"", part->topic, part->partition,
                  err_str(rc));
        if (rc == ERR_INVALID)
            return KERR_INVALID_RECORD;
        return brk_kerr_from_err(rc);
    }
    if (sum.codec == BRK_BATCH_CODEC_ZSTD && req->hdr.api_version < 7)
        return KERR_UNSUPPORTED_COMPRESSION_TYPE;
    int16_t ec = brk_replica_produce_check(part, st->acks);
    if (ec != 0)
        return ec;
    bool dup = false;
    int64_t dup_records = 0;
    ec = idem_check(part, p->records, &sum, rp, &dup, &dup_records);
    if (ec != KERR_NONE)
        return ec;
    if (dup)
        return produce_duplicate(st, part, rp, dup_records);
    int64_t now_ms = clock_wall_ms();
    if (part->log_append_time) {
        /* the frame is ours: rewrite each batch's timestamp in place */
        uint8_t *at = (uint8_t *)p->records.ptr;
        uint8_t *end = at + p->records.len;
        while (at < end) {
            uint32_t len = be_get32(at + BRK_BATCH_OFF_LENGTH);
            brk_batch_set_log_append_time(at, now_ms);
            at += BRK_BATCH_LOG_OVERHEAD_BYTES + len;
        }
        rp->log_append_time_ms = now_ms;
    }
    struct produce_part *pp = arena_alloc(&req->arena, sizeof *pp);
    if (!pp)
        return KERR_UNKNOWN_SERVER_ERROR;
    memset(pp, 0, sizeof *pp);
    pp->st = st;
    pp->rp = rp;
    pp->part = part;
    pp->record_count = sum.record_count;
    pp->leader_epoch = part->leader_epoch;
    pp->producer_id = sum.producer_id;
    req->pending++;
    /* the frame is ours and lives until the append's callback: no copy */
    rc = brk_plog_append_borrowed(part->plog, (uint8_t *)p->records.ptr, p->records.len, part->leader_epoch, now_ms,
                                  &rp->base_offset, produce_append_cb, pp);
    if (rc < 0) {
        req->pending--;
        log_debug("produce", "append failed topic=%s partition=%d error=\"%s\"", part->topic, part->partition,
                  err_str(rc));
        return brk_kerr_from_err(rc);
    }
    pp->base_offset = rp->base_offset;
    idem_appended(pp, p->records);
    return KERR_NONE;
}

void brk_h_produce(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_produce_req m;
    int rc = kmsg_produce_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct produce_state *st = arena_alloc(&req->arena, sizeof *st);
    if (!st) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    st->req = req;
    st->acks = m.acks;
    st->timeout_ms = m.timeout_ms;
    st->waiting = NULL;
    kmsg_produce_resp_init(&st->resp);
    st->resp.responses = arena_alloc_array(&req->arena, (size_t)(m.topics_count > 0 ? m.topics_count : 0),
                                           sizeof *st->resp.responses);
    if (!st->resp.responses && m.topics_count > 0) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    st->resp.responses_count = m.topics_count > 0 ? m.topics_count : 0;
    bool acks_ok = m.acks == 0 || m.acks == 1 || m.acks == -1;
    req->pending++; /* hold the response until every partition was tried */
    for (int32_t i = 0; i < st->resp.responses_count; i++) {
        struct kmsg_produce_req_topic *tt = &m.topics[i];
        struct kmsg_produce_resp_topic *rt = &st->resp.responses[i];
        kmsg_produce_resp_topic_init(rt);
        rt->name = tt->name;
        int32_t np = tt->partitions_count > 0 ? tt->partitions_count : 0;
        rt->partition_responses = arena_alloc_array(&req->arena, (size_t)np, sizeof *rt->partition_responses);
        if (!rt->partition_responses && np > 0) {
            req->pending--;
            brk_req_finish(req, ERR_LIMIT);
            return;
        }
        rt->partition_responses_count = np;
        const struct ctrl_topic *t = NULL;
        if (tt->name.ptr) {
            t = ctrl_image_topic_find(ctrl_metadata(srv->ctrl), (const char *)tt->name.ptr, tt->name.len);
            if (!t && brk_auto_create_topic(srv, &req->arena, tt->name) == 0)
                t = ctrl_image_topic_find(ctrl_metadata(srv->ctrl), (const char *)tt->name.ptr, tt->name.len);
        }
        for (int32_t j = 0; j < np; j++) {
            struct kmsg_produce_resp_partition *rp = &rt->partition_responses[j];
            kmsg_produce_resp_partition_init(rp);
            rp->index = tt->partitions[j].index;
            rp->base_offset = -1;
            rp->error_code = acks_ok ? produce_partition(st, t, &tt->partitions[j], rp) : KERR_INVALID_REQUIRED_ACKS;
        }
    }
    /* acks=0 sends nothing back, but the request still lives until its
     * appends complete: their callbacks point into its arena */
    if (--req->pending == 0)
        produce_respond(st);
}
