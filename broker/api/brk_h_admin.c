/*
 * brk_h_admin.c - CreateTopics, DeleteTopics, CreatePartitions and topic
 * auto-creation.  Each operation is planned against the image into metadata
 * records and committed through the controller; the answer is sent once the
 * records are committed (and the local partition logs opened by the apply
 * listener), so a client that sees success can produce at once.
 */
#include <stdio.h>
#include <string.h>

#include "broker/api/brk_h.h"
#include "broker/api/brk_kerr.h"
#include "common/log.h"
#include "controller/ctrl.h"
#include "controller/ctrl_topic_config.h"

struct admin_item {
    struct brk_req *req;
    brk_handler_fn respond;
    int16_t *error_code;
    struct bytes *error_message;
    uint8_t topic_id[16];
    bool check_topic_id;
    char *name;
};

static void admin_item_done(void *arg, int rc)
{
    struct admin_item *it = arg;
    struct brk_req *req = it->req;
    if (rc == 0 && it->check_topic_id) {
        const struct ctrl_topic *t =
            ctrl_image_topic_find(ctrl_metadata(brk_req_ctx(req)->ctrl), it->name, strlen(it->name));
        if (!t || memcmp(t->topic_id, it->topic_id, 16) != 0)
            rc = ERR_EXISTS; /* a concurrent request created the name first */
    }
    *it->error_code = brk_kerr_from_err(rc);
    if (rc < 0 && it->error_message)
        *it->error_message = bytes_cstr(rc == ERR_NOT_CONTROLLER ? "This node is no longer the active controller."
                                                                 : ctrl_plan_error_text(rc));
    brk_admin_release(req, it->respond);
}

static int admin_commit(struct brk_req *req, const struct ctrl_records *recs, int16_t *error_code,
                        struct bytes *error_message, const uint8_t *check_topic_id, bool election,
                        brk_handler_fn respond)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct admin_item *it = arena_alloc(&req->arena, sizeof *it);
    if (!it)
        return ERR_LIMIT;
    it->req = req;
    it->respond = respond;
    it->error_code = error_code;
    it->error_message = error_message;
    if (check_topic_id) {
        it->check_topic_id = true;
        memcpy(it->topic_id, check_topic_id, 16);
        ASSERT(recs->count > 0 && recs->recs[0]->record_case == SAMSA__METADATA_RECORD__RECORD_TOPIC);
        it->name = recs->recs[0]->topic->name; /* lives in req->arena */
    }
    req->pending++;
    int rc = election ? ctrl_propose_election(srv->ctrl, recs->recs, recs->count, admin_item_done, it)
                      : ctrl_propose(srv->ctrl, recs->recs, recs->count, admin_item_done, it);
    if (rc < 0)
        req->pending--;
    return rc;
}

int brk_admin_commit(struct brk_req *req, const struct ctrl_records *recs, int16_t *error_code,
                     struct bytes *error_message, const uint8_t *check_topic_id, brk_handler_fn respond)
{
    return admin_commit(req, recs, error_code, error_message, check_topic_id, false, respond);
}

int brk_admin_commit_election(struct brk_req *req, const struct ctrl_records *recs, int16_t *error_code,
                              struct bytes *error_message, brk_handler_fn respond)
{
    return admin_commit(req, recs, error_code, error_message, NULL, true, respond);
}

void brk_admin_release(struct brk_req *req, brk_handler_fn respond)
{
    ASSERT(req->pending > 0);
    if (--req->pending == 0)
        respond(req);
}

/* Plan a topic creation; returns 0 with records, or an error with msg. */
static int admin_plan_topic(struct brk_ctx *srv, struct arena *a, const struct ctrl_topic_spec *spec,
                            struct ctrl_records *recs, char *msg, size_t msg_size)
{
    int32_t parts = 0;
    int16_t rf = 0;
    int rc = ctrl_plan_create_topic(ctrl_metadata(srv->ctrl), spec, (int32_t)srv->node->num_partitions,
                                    (int16_t)srv->node->default_replication_factor, a, recs, &parts, &rf);
    if (rc == ERR_INVALID_REPLICATION_FACTOR) {
        int32_t live = ctrl_image_unfenced_count(ctrl_metadata(srv->ctrl));
        snprintf(msg, msg_size, "Replication factor: %d larger than available brokers: %d.",
                 spec->replication_factor < 0 ? (int)srv->node->default_replication_factor : spec->replication_factor,
                 live);
    } else if (rc < 0) {
        snprintf(msg, msg_size, "%s", ctrl_plan_error_text(rc));
    }
    return rc;
}

static void auto_create_done(void *arg, int rc)
{
    (void)arg;
    if (rc < 0 && rc != ERR_EXISTS)
        log_info("admin", "auto-create not committed error=\"%s\"; the next request for the topic retries",
                 err_str(rc));
}

/* Kafka's auto-creation: a typed CreateTopic request to the active
 * controller, with this broker's num.partitions and
 * default.replication.factor, as Kafka's AutoTopicCreationManager sends
 * CreateTopics.  The plan against our own image only gives the caller an
 * immediate answer; the controller checks and plans again on its image. */
int brk_auto_create_topic(struct brk_ctx *srv, struct arena *a, struct bytes name)
{
    if (!srv->node->auto_create_topics_enable || !name.ptr)
        return ERR_NOT_FOUND;
    if (name.len >= 2 && name.ptr[0] == '_' && name.ptr[1] == '_')
        return ERR_NOT_FOUND; /* internal topics are created by their owners */
    struct ctrl_topic_spec spec = { .name = (const char *)name.ptr, .name_len = name.len, .partition_count = -1,
                                    .replication_factor = -1 };
    char msg[256];
    struct ctrl_records recs = { 0 };
    int rc = admin_plan_topic(srv, a, &spec, &recs, msg, sizeof msg);
    if (rc == 0) {
        spec.partition_count = (int32_t)srv->node->num_partitions;
        spec.replication_factor = (int16_t)srv->node->default_replication_factor;
        rc = ctrl_create_topic(srv->ctrl, &spec, auto_create_done, NULL);
        if (rc == ERR_EXISTS)
            rc = 0; /* being created: the caller answers LEADER_NOT_AVAILABLE, as Kafka does */
    }
    if (rc < 0 && rc != ERR_EXISTS)
        log_warn("admin", "auto-create failed topic=%.*s reason=\"%s\"", (int)name.len, (const char *)name.ptr,
                 rc == ERR_NOT_CONTROLLER ? "no active controller yet" : msg);
    else if (rc == 0)
        log_info("admin", "auto-creating topic=%.*s", (int)name.len, (const char *)name.ptr);
    return rc;
}

static bool name_repeated(const struct kmsg_create_topics_req *m, int32_t i)
{
    for (int32_t j = 0; j < m->topics_count; j++)
        if (j != i && bytes_eq(m->topics[j].name, m->topics[i].name))
            return true;
    return false;
}

static void create_topics_respond(struct brk_req *req)
{
    BRK_RESPOND(req, create_topics, (struct kmsg_create_topics_resp *)req->hstate);
}

static int16_t create_one(struct brk_req *req, const struct kmsg_create_topics_req *m, int32_t i,
                          struct kmsg_create_topics_resp_topic *rt, char *msg, size_t msg_size)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    const struct kmsg_create_topics_req_topic *t = &m->topics[i];
    if (!t->name.ptr) {
        snprintf(msg, msg_size, "Topic name is null.");
        return KERR_INVALID_TOPIC_EXCEPTION;
    }
    if (name_repeated(m, i)) {
        snprintf(msg, msg_size, "Create topics request from client contains a duplicate topic name.");
        return KERR_INVALID_REQUEST;
    }
    if (!ctrl_is_active(srv->ctrl)) {
        snprintf(msg, msg_size, "This node is not the active controller.");
        return KERR_NOT_CONTROLLER;
    }
    struct ctrl_config_kv *kv = arena_alloc_array(&req->arena, (size_t)(t->configs_count > 0 ? t->configs_count : 0),
                                                  sizeof *kv);
    if (!kv && t->configs_count > 0)
        return KERR_UNKNOWN_SERVER_ERROR;
    int32_t nkv = 0;
    for (int32_t c = 0; c < t->configs_count; c++) {
        const char *key = brk_arena_cstr(&req->arena, t->configs[c].name);
        if (!key)
            return KERR_UNKNOWN_SERVER_ERROR;
        if (!t->configs[c].value.ptr)
            continue; /* null value: use the default */
        const char *value = brk_arena_cstr(&req->arena, t->configs[c].value);
        if (!value)
            return KERR_UNKNOWN_SERVER_ERROR;
        if (ctrl_topic_config_validate(key, value, msg, msg_size) < 0)
            return KERR_INVALID_CONFIG;
        kv[nkv++] = (struct ctrl_config_kv){ key, value };
    }
    int32_t na = t->assignments_count > 0 ? t->assignments_count : 0;
    const int32_t **assign = arena_alloc_array(&req->arena, (size_t)na, sizeof *assign);
    int32_t *lens = arena_alloc_array(&req->arena, (size_t)na, sizeof *lens);
    if ((!assign || !lens) && na > 0)
        return KERR_UNKNOWN_SERVER_ERROR;
    /* KRaft's order and messages (ReplicationControlManager.createTopic) */
    if (na > 0 && t->replication_factor != -1) {
        snprintf(msg, msg_size, "A manual partition assignment was specified, but replication factor was not set "
                                "to -1.");
        return KERR_INVALID_REQUEST;
    }
    if (na > 0 && t->num_partitions != -1) {
        snprintf(msg, msg_size, "A manual partition assignment was specified, but numPartitions was not set to -1.");
        return KERR_INVALID_REQUEST;
    }
    int32_t rf_seen = -1;
    for (int32_t p = 0; p < na; p++) {
        const struct kmsg_create_topics_req_assignment *as = &t->assignments[p];
        int32_t pi = as->partition_index;
        bool in_range = pi >= 0 && pi < na;
        if (in_range && assign[pi]) {
            snprintf(msg, msg_size, "Found multiple manual partition assignments for partition %d", pi);
            return KERR_INVALID_REPLICA_ASSIGNMENT;
        }
        int32_t nb = as->broker_ids_count > 0 ? as->broker_ids_count : 0;
        int rc = ctrl_plan_assignment_check(ctrl_metadata(srv->ctrl), (const int32_t *const *)&as->broker_ids, &nb,
                                            1, rf_seen, pi, msg, msg_size);
        if (rc < 0)
            return brk_kerr_from_err(rc);
        rf_seen = nb;
        if (in_range) {
            assign[pi] = as->broker_ids;
            lens[pi] = nb;
        }
    }
    for (int32_t p = 0; p < na; p++) {
        if (!assign[p]) {
            snprintf(msg, msg_size, "partitions should be a consecutive 0-based integer sequence");
            return KERR_INVALID_REPLICA_ASSIGNMENT;
        }
    }
    if (na == 0 && (t->num_partitions == 0 || t->num_partitions < -1)) {
        snprintf(msg, msg_size, "Number of partitions was set to an invalid non-positive value.");
        return KERR_INVALID_PARTITIONS;
    }
    if (na == 0 && (t->replication_factor == 0 || t->replication_factor < -1)) {
        snprintf(msg, msg_size, "Replication factor must be larger than 0, or -1 to use the default value.");
        return KERR_INVALID_REPLICATION_FACTOR;
    }
    struct ctrl_topic_spec spec = {
        .name = (const char *)t->name.ptr, .name_len = t->name.len, .partition_count = t->num_partitions,
        .replication_factor = t->replication_factor, .assignment_count = na,
        .assignments = (const int32_t *const *)assign, .assignment_lens = lens, .config_count = nkv, .configs = kv,
    };
    struct ctrl_records recs = { 0 };
    int rc = admin_plan_topic(srv, &req->arena, &spec, &recs, msg, msg_size);
    if (rc < 0)
        return brk_kerr_from_err(rc);
    if (m->validate_only)
        return KERR_NONE;
    rc = brk_admin_commit(req, &recs, &rt->error_code, &rt->error_message, recs.recs[0]->topic->topic_id.data,
                          create_topics_respond);
    if (rc < 0) {
        snprintf(msg, msg_size, "%s", ctrl_plan_error_text(rc));
        return brk_kerr_from_err(rc);
    }
    log_info("admin", "creating topic=%.*s", (int)t->name.len, (const char *)t->name.ptr);
    return KERR_NONE;
}

void brk_h_create_topics(struct brk_req *req)
{
    struct kmsg_create_topics_req m;
    int rc = kmsg_create_topics_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_create_topics_resp *resp = arena_alloc(&req->arena, sizeof *resp);
    if (!resp) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    kmsg_create_topics_resp_init(resp);
    int32_t n = m.topics_count > 0 ? m.topics_count : 0;
    resp->topics = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp->topics);
    if (!resp->topics && n) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp->topics_count = n;
    req->hstate = resp;
    req->pending = 1;
    for (int32_t i = 0; i < n; i++) {
        struct kmsg_create_topics_resp_topic *rt = &resp->topics[i];
        kmsg_create_topics_resp_topic_init(rt);
        rt->name = m.topics[i].name;
        char *msg = arena_alloc(&req->arena, 512);
        if (!msg) {
            rt->error_code = KERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        int16_t err = create_one(req, &m, i, rt, msg, 512);
        if (err != KERR_NONE) {
            rt->error_code = err;
            rt->error_message = bytes_cstr(msg);
        }
    }
    brk_admin_release(req, create_topics_respond);
}

static void delete_topics_respond(struct brk_req *req)
{
    BRK_RESPOND(req, delete_topics, (struct kmsg_delete_topics_resp *)req->hstate);
}

void brk_h_delete_topics(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_delete_topics_req m;
    int rc = kmsg_delete_topics_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_delete_topics_resp *resp = arena_alloc(&req->arena, sizeof *resp);
    if (!resp) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    kmsg_delete_topics_resp_init(resp);
    int32_t n = m.topic_names_count > 0 ? m.topic_names_count : 0;
    resp->responses = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp->responses);
    if (!resp->responses && n) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp->responses_count = n;
    req->hstate = resp;
    req->pending = 1;
    for (int32_t i = 0; i < n; i++) {
        struct kmsg_delete_topics_resp_result *r = &resp->responses[i];
        kmsg_delete_topics_resp_result_init(r);
        struct bytes name = m.topic_names[i];
        r->name = name;
        if (!srv->node->delete_topic_enable) {
            r->error_code = KERR_TOPIC_DELETION_DISABLED;
            continue;
        }
        struct ctrl_records recs = { 0 };
        rc = name.ptr ? ctrl_plan_delete_topic(ctrl_metadata(srv->ctrl), (const char *)name.ptr, name.len,
                                               &req->arena, &recs)
                      : ERR_NOT_FOUND;
        if (rc == 0)
            rc = brk_admin_commit(req, &recs, &r->error_code, NULL, NULL, delete_topics_respond);
        if (rc < 0)
            r->error_code = brk_kerr_from_err(rc);
        else
            log_info("admin", "deleting topic=%.*s", (int)name.len, (const char *)name.ptr);
    }
    brk_admin_release(req, delete_topics_respond);
}

static void create_partitions_respond(struct brk_req *req)
{
    BRK_RESPOND(req, create_partitions, (struct kmsg_create_partitions_resp *)req->hstate);
}

void brk_h_create_partitions(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_create_partitions_req m;
    int rc = kmsg_create_partitions_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_create_partitions_resp *resp = arena_alloc(&req->arena, sizeof *resp);
    if (!resp) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    kmsg_create_partitions_resp_init(resp);
    int32_t n = m.topics_count > 0 ? m.topics_count : 0;
    resp->results = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp->results);
    if (!resp->results && n) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp->results_count = n;
    req->hstate = resp;
    req->pending = 1;
    for (int32_t i = 0; i < n; i++) {
        struct kmsg_create_partitions_resp_result *r = &resp->results[i];
        kmsg_create_partitions_resp_result_init(r);
        const struct kmsg_create_partitions_req_topic *t = &m.topics[i];
        r->name = t->name;
        const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
        const struct ctrl_topic *ct = t->name.ptr ? ctrl_image_topic_find(img, (const char *)t->name.ptr, t->name.len)
                                                  : NULL;
        struct ctrl_records recs = { 0 };
        const int32_t **assign = NULL;
        int32_t *lens = NULL;
        int32_t na = t->assignments_count > 0 ? t->assignments_count : 0;
        rc = ct ? 0 : ERR_NOT_FOUND;
        if (rc == 0 && t->assignments && t->count > ct->partition_count) {
            /* KRaft's createPartitions: one list per new partition, each
             * checked with the topic's replication factor */
            char *msg = arena_alloc(&req->arena, 512);
            assign = arena_alloc_array(&req->arena, (size_t)na + 1, sizeof *assign);
            lens = arena_alloc_array(&req->arena, (size_t)na + 1, sizeof *lens);
            if (!msg || !assign || !lens) {
                r->error_code = KERR_UNKNOWN_SERVER_ERROR;
                continue;
            }
            for (int32_t p = 0; p < na; p++) {
                assign[p] = t->assignments[p].broker_ids;
                lens[p] = t->assignments[p].broker_ids_count > 0 ? t->assignments[p].broker_ids_count : 0;
            }
            int32_t additional = t->count - ct->partition_count;
            if (na != additional) {
                snprintf(msg, 512, "Attempted to add %d additional partition(s), but only %d assignment(s) were "
                         "specified.", additional, na);
                rc = ERR_INVALID_REPLICA_ASSIGNMENT;
            } else {
                rc = ctrl_plan_assignment_check(img, (const int32_t *const *)assign, lens, na,
                                                ct->partition_count > 0 ? ct->partitions[0].replica_count : -1,
                                                ct->partition_count, msg, 512);
            }
            if (rc < 0) {
                r->error_code = brk_kerr_from_err(rc);
                r->error_message = bytes_cstr(msg);
                continue;
            }
        }
        if (rc == 0)
            rc = ctrl_plan_create_partitions(img, ct->name, strlen(ct->name), t->count,
                                             (const int32_t *const *)assign, lens, assign ? na : 0, &req->arena,
                                             &recs);
        if (rc == ERR_INVALID_PARTITIONS && ct) {
            char *msg = arena_alloc(&req->arena, 160);
            if (msg) {
                snprintf(msg, 160, "Topic currently has %d partitions, which is higher than the requested %d.",
                         ct->partition_count, t->count);
                if (t->count == ct->partition_count)
                    snprintf(msg, 160, "Topic already has %d partitions.", ct->partition_count);
                r->error_message = bytes_cstr(msg);
            }
        }
        if (rc == 0 && !m.validate_only)
            rc = brk_admin_commit(req, &recs, &r->error_code, &r->error_message, NULL, create_partitions_respond);
        if (rc < 0)
            r->error_code = brk_kerr_from_err(rc);
    }
    brk_admin_release(req, create_partitions_respond);
}
