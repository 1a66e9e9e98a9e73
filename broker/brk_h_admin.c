/*
 * brk_h_admin.c - CreateTopics, DeleteTopics, CreatePartitions and topic
 * auto-creation.  Each operation is planned against the image into metadata
 * records and committed through the controller; the answer is sent once the
 * records are committed (and the local partition logs opened by the apply
 * listener), so a client that sees success can produce at once.
 */
#include <stdio.h>
#include <string.h>

#include "broker/brk_h.h"
#include "broker/brk_kerr.h"
#include "common/config.h"
#include "common/log.h"
#include "controller/ctrl.h"

static const char *plan_error_text(int rc)
{
    switch (rc) {
    case ERR_EXISTS: return "Topic already exists.";
    case ERR_INVALID_TOPIC: return "Topic name is illegal: it must be 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'.";
    case ERR_INVALID_PARTITIONS: return "Number of partitions must be larger than 0 (and larger than the current count when adding).";
    case ERR_INVALID_REPLICATION_FACTOR: return "Replication factor must be larger than 0 and not larger than the number of available brokers.";
    case ERR_INVALID_REPLICA_ASSIGNMENT: return "Replica assignment is invalid: every partition needs the same number of distinct, registered brokers.";
    case ERR_NOT_FOUND: return "This server does not host this topic-partition.";
    default: return err_str(rc);
    }
}

int brk_admin_create_topic(struct brk_server *srv, struct arena *a, const struct ctrl_topic_spec *spec,
                           bool validate_only, char *msg, size_t msg_size)
{
    struct ctrl_records recs = { 0 };
    int32_t parts = 0;
    int16_t rf = 0;
    int rc = ctrl_plan_create_topic(ctrl_metadata(srv->ctrl), spec, (int32_t)srv->node->num_partitions,
                                    (int16_t)srv->node->default_replication_factor, a, &recs, &parts, &rf);
    if (rc == ERR_INVALID_REPLICATION_FACTOR) {
        int32_t live = 0;
        const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
        for (int32_t i = 0; i < ctrl_image_broker_count(img); i++)
            live += !ctrl_image_broker_at(img, i)->fenced;
        snprintf(msg, msg_size, "Replication factor: %d larger than available brokers: %d.",
                 spec->replication_factor < 0 ? (int)srv->node->default_replication_factor : spec->replication_factor,
                 live);
        return rc;
    }
    if (rc < 0) {
        snprintf(msg, msg_size, "%s", plan_error_text(rc));
        return rc;
    }
    if (validate_only)
        return 0;
    rc = ctrl_propose(srv->ctrl, recs.recs, recs.count, NULL, NULL);
    if (rc < 0) {
        snprintf(msg, msg_size, "Metadata commit failed: %s.", err_str(rc));
        return rc;
    }
    log_info("admin", "topic created topic=%.*s partitions=%d replication_factor=%d", (int)spec->name_len, spec->name,
             parts, rf);
    return 0;
}

int brk_auto_create_topic(struct brk_server *srv, struct arena *a, struct bytes name)
{
    if (!srv->node->auto_create_topics_enable || !name.ptr)
        return ERR_NOT_FOUND;
    if (name.len >= 2 && name.ptr[0] == '_' && name.ptr[1] == '_')
        return ERR_NOT_FOUND; /* internal topics are created by their owners */
    struct ctrl_topic_spec spec = { .name = (const char *)name.ptr, .name_len = name.len, .partition_count = -1,
                                    .replication_factor = -1 };
    char msg[256];
    int rc = brk_admin_create_topic(srv, a, &spec, false, msg, sizeof msg);
    if (rc < 0 && rc != ERR_EXISTS)
        log_warn("admin", "auto-create failed topic=%.*s reason=\"%s\"", (int)name.len, (const char *)name.ptr, msg);
    return rc == ERR_EXISTS ? 0 : rc;
}

static bool name_repeated(const struct kmsg_create_topics_req *m, int32_t i)
{
    for (int32_t j = 0; j < m->topics_count; j++)
        if (j != i && bytes_eq(m->topics[j].name, m->topics[i].name))
            return true;
    return false;
}

static int16_t create_one(struct brk_req *req, const struct kmsg_create_topics_req *m, int32_t i, char *msg,
                          size_t msg_size)
{
    struct brk_server *srv = brk_req_server(req);
    const struct kmsg_create_topics_req_topic *t = &m->topics[i];
    if (!t->name.ptr) {
        snprintf(msg, msg_size, "Topic name is null.");
        return KERR_INVALID_TOPIC_EXCEPTION;
    }
    if (name_repeated(m, i)) {
        snprintf(msg, msg_size, "Create topics request from client contains a duplicate topic name.");
        return KERR_INVALID_REQUEST;
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
        if (config_topic_validate(key, value, msg, msg_size) < 0)
            return KERR_INVALID_CONFIG;
        kv[nkv++] = (struct ctrl_config_kv){ key, value };
    }
    int32_t na = t->assignments_count > 0 ? t->assignments_count : 0;
    const int32_t **assign = arena_alloc_array(&req->arena, (size_t)na, sizeof *assign);
    int32_t *lens = arena_alloc_array(&req->arena, (size_t)na, sizeof *lens);
    if ((!assign || !lens) && na > 0)
        return KERR_UNKNOWN_SERVER_ERROR;
    for (int32_t p = 0; p < na; p++) {
        const struct kmsg_create_topics_req_assignment *as = &t->assignments[p];
        if (as->partition_index < 0 || as->partition_index >= na || assign[as->partition_index]) {
            snprintf(msg, msg_size, "Replica assignment partitions must be 0..%d, each once.", na - 1);
            return KERR_INVALID_REPLICA_ASSIGNMENT;
        }
        assign[as->partition_index] = as->broker_ids;
        lens[as->partition_index] = as->broker_ids_count;
    }
    struct ctrl_topic_spec spec = {
        .name = (const char *)t->name.ptr, .name_len = t->name.len, .partition_count = t->num_partitions,
        .replication_factor = t->replication_factor, .assignment_count = na,
        .assignments = (const int32_t *const *)assign, .assignment_lens = lens, .config_count = nkv, .configs = kv,
    };
    if (na > 0 && (t->num_partitions != -1 || t->replication_factor != -1)) {
        snprintf(msg, msg_size, "Both numPartitions or replicationFactor and replicasAssignments were set. Both "
                                "cannot be used at the same time.");
        return KERR_INVALID_REQUEST;
    }
    if (na == 0 && (t->num_partitions == 0 || t->num_partitions < -1)) {
        snprintf(msg, msg_size, "Number of partitions was set to an invalid non-positive value.");
        return KERR_INVALID_PARTITIONS;
    }
    if (na == 0 && (t->replication_factor == 0 || t->replication_factor < -1)) {
        snprintf(msg, msg_size, "Replication factor must be larger than 0, or -1 to use the default value.");
        return KERR_INVALID_REPLICATION_FACTOR;
    }
    int rc = brk_admin_create_topic(srv, &req->arena, &spec, m->validate_only, msg, msg_size);
    return rc < 0 ? brk_kerr_from_err(rc) : KERR_NONE;
}

void brk_h_create_topics(struct brk_req *req)
{
    struct kmsg_create_topics_req m;
    int rc = kmsg_create_topics_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_create_topics_resp resp;
    kmsg_create_topics_resp_init(&resp);
    int32_t n = m.topics_count > 0 ? m.topics_count : 0;
    resp.topics = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp.topics);
    if (!resp.topics && n) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp.topics_count = n;
    for (int32_t i = 0; i < n; i++) {
        struct kmsg_create_topics_resp_topic *rt = &resp.topics[i];
        kmsg_create_topics_resp_topic_init(rt);
        rt->name = m.topics[i].name;
        char *msg = arena_alloc(&req->arena, 512);
        if (!msg) {
            brk_req_finish(req, ERR_LIMIT);
            return;
        }
        rt->error_code = create_one(req, &m, i, msg, 512);
        rt->error_message = rt->error_code != KERR_NONE ? bytes_cstr(msg) : (struct bytes){ NULL, 0 };
    }
    BRK_RESPOND(req, create_topics, &resp);
}

void brk_h_delete_topics(struct brk_req *req)
{
    struct brk_server *srv = brk_req_server(req);
    struct kmsg_delete_topics_req m;
    int rc = kmsg_delete_topics_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_delete_topics_resp resp;
    kmsg_delete_topics_resp_init(&resp);
    int32_t n = m.topic_names_count > 0 ? m.topic_names_count : 0;
    resp.responses = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp.responses);
    if (!resp.responses && n) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp.responses_count = n;
    for (int32_t i = 0; i < n; i++) {
        struct kmsg_delete_topics_resp_result *r = &resp.responses[i];
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
            rc = ctrl_propose(srv->ctrl, recs.recs, recs.count, NULL, NULL);
        r->error_code = brk_kerr_from_err(rc);
        if (rc == 0)
            log_info("admin", "topic deleted topic=%.*s", (int)name.len, (const char *)name.ptr);
    }
    BRK_RESPOND(req, delete_topics, &resp);
}

void brk_h_create_partitions(struct brk_req *req)
{
    struct brk_server *srv = brk_req_server(req);
    struct kmsg_create_partitions_req m;
    int rc = kmsg_create_partitions_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_create_partitions_resp resp;
    kmsg_create_partitions_resp_init(&resp);
    int32_t n = m.topics_count > 0 ? m.topics_count : 0;
    resp.results = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp.results);
    if (!resp.results && n) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp.results_count = n;
    for (int32_t i = 0; i < n; i++) {
        struct kmsg_create_partitions_resp_result *r = &resp.results[i];
        kmsg_create_partitions_resp_result_init(r);
        const struct kmsg_create_partitions_req_topic *t = &m.topics[i];
        r->name = t->name;
        if (t->assignments_count > 0) {
            r->error_code = KERR_INVALID_REPLICA_ASSIGNMENT;
            r->error_message = bytes_cstr("Manual replica assignment for new partitions is not supported yet; "
                                          "omit --replica-assignment.");
            continue;
        }
        const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
        const struct ctrl_topic *ct = t->name.ptr ? ctrl_image_topic_find(img, (const char *)t->name.ptr, t->name.len)
                                                  : NULL;
        struct ctrl_records recs = { 0 };
        rc = ct ? ctrl_plan_create_partitions(img, ct->name, strlen(ct->name), t->count, &req->arena, &recs)
                : ERR_NOT_FOUND;
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
            rc = ctrl_propose(srv->ctrl, recs.recs, recs.count, NULL, NULL);
        r->error_code = brk_kerr_from_err(rc);
    }
    BRK_RESPOND(req, create_partitions, &resp);
}
