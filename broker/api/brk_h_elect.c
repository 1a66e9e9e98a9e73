/*
 * brk_h_elect.c - ElectLeaders (API 43, v0-2): preferred (0) and unclean (1)
 * leader elections.  Runs on the active controller (the dispatcher forwards
 * it there, like CreateTopics); each partition is planned against the image
 * by ctrl_plan_elect_leader (Kafka's per-partition errors) and committed as
 * its own PartitionChangeRecord through ctrl_propose_election.  A null topic
 * list means every partition, and then the partitions that need no
 * election are left out of the answer, as Kafka does.
 */
#include <string.h>

#include "broker/api/brk_h.h"
#include "broker/api/brk_kerr.h"
#include "common/log.h"
#include "controller/ctrl.h"

static void elect_leaders_respond(struct brk_req *req)
{
    BRK_RESPOND(req, elect_leaders, (struct kmsg_elect_leaders_resp *)req->hstate);
}

/* Kafka's exception message for each per-partition error it answers. */
static struct bytes elect_error_message(int16_t code)
{
    switch (code) {
    case CTRL_KERR_NONE:
    case CTRL_KERR_ELECTION_NOT_NEEDED: return (struct bytes){ NULL, 0 };
    case CTRL_KERR_UNKNOWN_TOPIC_OR_PARTITION: return bytes_cstr("This server does not host this topic-partition.");
    case CTRL_KERR_PREFERRED_LEADER_NOT_AVAILABLE:
        return bytes_cstr("The preferred leader was not available: it is not in the ISR or not alive.");
    case CTRL_KERR_ELIGIBLE_LEADERS_NOT_AVAILABLE:
        return bytes_cstr("Eligible topic partition leaders are not available: no replica is alive.");
    default: return bytes_cstr("The election could not be committed; retry.");
    }
}

/* One partition: plan, and commit when there is something to elect. */
static void elect_one(struct brk_req *req, enum ctrl_election_type type, const struct ctrl_topic *t,
                      int32_t partition_id, struct kmsg_elect_leaders_resp_partition_result *r)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    kmsg_elect_leaders_resp_partition_result_init(r);
    r->partition_id = partition_id;
    struct ctrl_records recs = { 0 };
    int16_t ec = 0;
    int rc = ctrl_plan_elect_leader(ctrl_metadata(srv->ctrl), type, t, partition_id, &req->arena, &recs, &ec);
    if (rc < 0)
        ec = brk_kerr_from_err(rc);
    r->error_code = ec;
    r->error_message = elect_error_message(ec);
    if (rc < 0 || ec != 0)
        return;
    /* the commit's callback fills in a failure later */
    rc = brk_admin_commit_election(req, &recs, &r->error_code, &r->error_message, elect_leaders_respond);
    if (rc < 0) {
        r->error_code = brk_kerr_from_err(rc);
        r->error_message = elect_error_message(r->error_code);
        return;
    }
    log_info("admin", "electing leader type=%s topic=%s partition=%d",
             type == CTRL_ELECTION_PREFERRED ? "PREFERRED" : "UNCLEAN", t->name, partition_id);
}

/* Every partition of the image that needs an election. */
static int elect_all(struct brk_req *req, enum ctrl_election_type type, struct kmsg_elect_leaders_resp *resp)
{
    const struct ctrl_image *img = ctrl_metadata(brk_req_ctx(req)->ctrl);
    int32_t n = ctrl_image_topic_count(img);
    resp->replica_election_results = arena_alloc_array(&req->arena, (size_t)(n > 0 ? n : 1),
                                                       sizeof *resp->replica_election_results);
    if (!resp->replica_election_results)
        return ERR_LIMIT;
    for (int32_t i = 0; i < n; i++) {
        const struct ctrl_topic *t = ctrl_image_topic_at(img, i);
        struct kmsg_elect_leaders_resp_replica_election_result *tr =
            &resp->replica_election_results[resp->replica_election_results_count];
        kmsg_elect_leaders_resp_replica_election_result_init(tr);
        tr->topic = bytes_cstr(t->name);
        tr->partition_result = arena_alloc_array(&req->arena, (size_t)(t->partition_count > 0 ? t->partition_count : 1),
                                                 sizeof *tr->partition_result);
        if (!tr->partition_result)
            return ERR_LIMIT;
        for (int32_t p = 0; p < t->partition_count; p++) {
            struct kmsg_elect_leaders_resp_partition_result *r = &tr->partition_result[tr->partition_result_count];
            elect_one(req, type, t, p, r);
            if (r->error_code != CTRL_KERR_ELECTION_NOT_NEEDED)
                tr->partition_result_count++;
        }
        if (tr->partition_result_count > 0)
            resp->replica_election_results_count++;
    }
    return 0;
}

static int elect_listed(struct brk_req *req, enum ctrl_election_type type, const struct kmsg_elect_leaders_req *m,
                        struct kmsg_elect_leaders_resp *resp)
{
    const struct ctrl_image *img = ctrl_metadata(brk_req_ctx(req)->ctrl);
    int32_t n = m->topic_partitions_count;
    resp->replica_election_results = arena_alloc_array(&req->arena, (size_t)(n > 0 ? n : 1),
                                                       sizeof *resp->replica_election_results);
    if (!resp->replica_election_results)
        return ERR_LIMIT;
    resp->replica_election_results_count = n;
    for (int32_t i = 0; i < n; i++) {
        const struct kmsg_elect_leaders_req_topic_partitions *tp = &m->topic_partitions[i];
        struct kmsg_elect_leaders_resp_replica_election_result *tr = &resp->replica_election_results[i];
        kmsg_elect_leaders_resp_replica_election_result_init(tr);
        tr->topic = tp->topic;
        const struct ctrl_topic *t = tp->topic.ptr ? ctrl_image_topic_find(img, (const char *)tp->topic.ptr,
                                                                           tp->topic.len)
                                                   : NULL;
        int32_t pn = tp->partitions_count > 0 ? tp->partitions_count : 0;
        tr->partition_result = arena_alloc_array(&req->arena, (size_t)(pn > 0 ? pn : 1), sizeof *tr->partition_result);
        if (!tr->partition_result)
            return ERR_LIMIT;
        tr->partition_result_count = pn;
        for (int32_t p = 0; p < pn; p++)
            elect_one(req, type, t, tp->partitions[p], &tr->partition_result[p]);
    }
    return 0;
}

void brk_h_elect_leaders(struct brk_req *req)
{
    struct kmsg_elect_leaders_req m;
    int rc = kmsg_elect_leaders_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_elect_leaders_resp *resp = arena_alloc(&req->arena, sizeof *resp);
    if (!resp) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    kmsg_elect_leaders_resp_init(resp);
    req->hstate = resp;
    if (req->hdr.api_version >= 1 && m.election_type != CTRL_ELECTION_PREFERRED &&
        m.election_type != CTRL_ELECTION_UNCLEAN) {
        log_info("admin", "ElectLeaders with election_type=%d refused: 0 (preferred) or 1 (unclean)",
                 m.election_type);
        resp->error_code = KERR_INVALID_REQUEST;
        elect_leaders_respond(req);
        return;
    }
    enum ctrl_election_type type = req->hdr.api_version >= 1 ? (enum ctrl_election_type)m.election_type
                                                             : CTRL_ELECTION_PREFERRED;
    req->pending = 1;
    rc = m.topic_partitions_count < 0 ? elect_all(req, type, resp) : elect_listed(req, type, &m, resp);
    if (rc < 0) {
        /* nothing proposed yet can be taken back: answer what we have */
        log_warn("admin", "ElectLeaders ran out of request memory: error=\"%s\"", err_str(rc));
    }
    brk_admin_release(req, elect_leaders_respond);
}
