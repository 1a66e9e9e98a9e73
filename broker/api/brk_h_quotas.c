/*
 * brk_h_quotas.c - client quotas (KIP-546): DescribeClientQuotas (API 48)
 * and AlterClientQuotas (API 49, a controller API: forwarded to the active
 * controller, checked there and committed as ClientQuotaRecords).
 *
 * Entities are a user, a client id, or both (Kafka's "user" and
 * "client-id" entity types; a null name is the default entity).  The keys
 * are Kafka's client quota configs: producer_byte_rate and
 * consumer_byte_rate (LONG: a whole number), request_percentage and
 * controller_mutation_rate (DOUBLE), with the error messages of Kafka's
 * ClientQuotaControlManager.  "ip" entities (connection rates) are refused.
 *
 * The quotas are stored and shown, NOT enforced: no client is throttled
 * yet (ThrottleTimeMs stays 0 in every response).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/api/brk_h.h"
#include "broker/api/brk_kerr.h"
#include "common/log.h"
#include "controller/ctrl.h"

#define QUOTA_MATCH_EXACT 0
#define QUOTA_MATCH_DEFAULT 1
#define QUOTA_MATCH_SPECIFIED 2

/* Kafka's QuotaConfigs for user and client-id entities. */
static const struct {
    const char *key;
    bool is_long;
} quota_keys[] = {
    { "producer_byte_rate", true },
    { "consumer_byte_rate", true },
    { "request_percentage", false },
    { "controller_mutation_rate", false },
};
#define QUOTA_KEY_COUNT (sizeof quota_keys / sizeof quota_keys[0])

/* ClientQuotaControlManager.validateQuotaKeyValue. */
static int16_t quota_key_check(const char *key, double value, char *msg, size_t msg_size)
{
    for (size_t i = 0; i < QUOTA_KEY_COUNT; i++) {
        if (strcmp(quota_keys[i].key, key) != 0)
            continue;
        if (quota_keys[i].is_long) {
            double epsilon = 1e-6;
            long long v = (long long)(value + epsilon);
            if ((double)v - value > epsilon || value - (double)v > epsilon) {
                snprintf(msg, msg_size, "Configuration %s must be a Long value", key);
                return KERR_INVALID_REQUEST;
            }
        }
        return KERR_NONE;
    }
    snprintf(msg, msg_size, "Invalid configuration key %s", key);
    return KERR_INVALID_REQUEST;
}

/* The wire entity of AlterClientQuotas as parts (ClientQuotaControlManager.validateEntity). */
static int16_t quota_entity_parse(const struct kmsg_alter_client_quotas_req_entity *e, int32_t n,
                                  struct ctrl_quota_part *user, struct ctrl_quota_part *client_id, char *msg,
                                  size_t msg_size)
{
    memset(user, 0, sizeof *user);
    memset(client_id, 0, sizeof *client_id);
    if (n <= 0) {
        snprintf(msg, msg_size, "Invalid empty client quota entity");
        return KERR_INVALID_REQUEST;
    }
    for (int32_t i = 0; i < n; i++) {
        struct ctrl_quota_part *p = NULL;
        if (bytes_eq_cstr(e[i].entity_type, "user"))
            p = user;
        else if (bytes_eq_cstr(e[i].entity_type, "client-id"))
            p = client_id;
        if (!p) {
            snprintf(msg, msg_size, "Unhandled client quota entity type: %.*s", (int)e[i].entity_type.len,
                     (const char *)e[i].entity_type.ptr);
            return KERR_INVALID_REQUEST;
        }
        if (p->present) {
            snprintf(msg, msg_size, "Duplicate %.*s in the entity", (int)e[i].entity_type.len,
                     (const char *)e[i].entity_type.ptr);
            return KERR_INVALID_REQUEST;
        }
        if (e[i].entity_name.len > CTRL_QUOTA_NAME_BYTES_MAX) {
            snprintf(msg, msg_size, "The %.*s name is longer than %d bytes", (int)e[i].entity_type.len,
                     (const char *)e[i].entity_type.ptr, CTRL_QUOTA_NAME_BYTES_MAX);
            return KERR_INVALID_REQUEST;
        }
        p->present = true;
        p->is_default = e[i].entity_name.ptr == NULL;
        if (e[i].entity_name.len)
            memcpy(p->name, e[i].entity_name.ptr, e[i].entity_name.len);
        p->name[e[i].entity_name.len] = '\0';
    }
    return KERR_NONE;
}

static void alter_client_quotas_respond(struct brk_req *req)
{
    BRK_RESPOND(req, alter_client_quotas, (struct kmsg_alter_client_quotas_resp *)req->hstate);
}

void brk_h_alter_client_quotas(struct brk_req *req)
{
    struct kmsg_alter_client_quotas_req m;
    int rc = kmsg_alter_client_quotas_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_alter_client_quotas_resp *resp = arena_alloc(&req->arena, sizeof *resp);
    int32_t n = m.entries_count > 0 ? m.entries_count : 0;
    if (resp) {
        kmsg_alter_client_quotas_resp_init(resp);
        resp->entries = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp->entries);
    }
    if (!resp || (!resp->entries && n)) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp->entries_count = n;
    req->hstate = resp;
    req->pending = 1;
    for (int32_t i = 0; i < n; i++) {
        const struct kmsg_alter_client_quotas_req_entry *e = &m.entries[i];
        struct kmsg_alter_client_quotas_resp_entry *re = &resp->entries[i];
        kmsg_alter_client_quotas_resp_entry_init(re);
        int32_t ne = e->entity_count > 0 ? e->entity_count : 0;
        re->entity = arena_alloc_array(&req->arena, (size_t)ne, sizeof *re->entity);
        char *msg = arena_alloc(&req->arena, 256);
        if ((!re->entity && ne) || !msg) {
            re->error_code = KERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        re->entity_count = ne;
        for (int32_t k = 0; k < ne; k++) {
            kmsg_alter_client_quotas_resp_entity_init(&re->entity[k]);
            re->entity[k].entity_type = e->entity[k].entity_type;
            re->entity[k].entity_name = e->entity[k].entity_name;
        }
        struct ctrl_quota_part user, client_id;
        int16_t err = quota_entity_parse(e->entity, ne, &user, &client_id, msg, 256);
        int32_t no = e->ops_count > 0 ? e->ops_count : 0;
        char **keys = arena_alloc_array(&req->arena, (size_t)no, sizeof *keys);
        if (!keys && no)
            err = KERR_UNKNOWN_SERVER_ERROR;
        for (int32_t k = 0; k < no && err == KERR_NONE; k++) {
            keys[k] = brk_arena_cstr(&req->arena, e->ops[k].key);
            if (!keys[k])
                err = KERR_UNKNOWN_SERVER_ERROR;
            else if (!e->ops[k].remove)
                err = quota_key_check(keys[k], e->ops[k].value, msg, 256);
            else if (quota_key_check(keys[k], 0, msg, 256) != KERR_NONE)
                err = KERR_INVALID_REQUEST;
        }
        if (err != KERR_NONE) {
            re->error_code = err;
            re->error_message = bytes_cstr(msg);
            continue;
        }
        if (m.validate_only || no == 0)
            continue;
        struct ctrl_records recs = { 0 };
        for (int32_t k = 0; k < no && rc == 0; k++)
            rc = ctrl_plan_client_quota(&user, &client_id, keys[k], e->ops[k].value, e->ops[k].remove, &req->arena,
                                        &recs);
        if (rc == 0)
            rc = brk_admin_commit(req, &recs, &re->error_code, &re->error_message, NULL,
                                  alter_client_quotas_respond);
        if (rc < 0) {
            re->error_code = brk_kerr_from_err(rc);
            re->error_message = bytes_cstr(err_str(rc));
            rc = 0;
        }
    }
    brk_admin_release(req, alter_client_quotas_respond);
}

static bool quota_part_match(const struct ctrl_quota_part *p, int8_t match_type, struct bytes match)
{
    if (!p->present)
        return false;
    switch (match_type) {
    case QUOTA_MATCH_EXACT:
        return match.ptr ? !p->is_default && bytes_eq_cstr(match, p->name) : p->is_default;
    case QUOTA_MATCH_DEFAULT: return p->is_default;
    case QUOTA_MATCH_SPECIFIED: return !p->is_default;
    default: return false;
    }
}

static struct kmsg_describe_client_quotas_resp_entity quota_entity_out(const char *type,
                                                                       const struct ctrl_quota_part *p)
{
    struct kmsg_describe_client_quotas_resp_entity e;
    kmsg_describe_client_quotas_resp_entity_init(&e);
    e.entity_type = bytes_cstr(type);
    e.entity_name = p->is_default ? (struct bytes){ NULL, 0 } : bytes_cstr(p->name);
    return e;
}

/* DescribeClientQuotas: every broker answers from its image, as Kafka's
 * brokers answer from their metadata cache. */
void brk_h_describe_client_quotas(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_describe_client_quotas_req m;
    int rc = kmsg_describe_client_quotas_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_describe_client_quotas_resp resp;
    kmsg_describe_client_quotas_resp_init(&resp);
    bool want_user = false, want_client = false;
    int8_t user_match = 0, client_match = 0;
    struct bytes user_name = { 0 }, client_name = { 0 };
    for (int32_t i = 0; i < m.components_count && resp.error_code == KERR_NONE; i++) {
        const struct kmsg_describe_client_quotas_req_component *c = &m.components[i];
        bool *want = NULL;
        if (bytes_eq_cstr(c->entity_type, "user")) {
            want = &want_user;
            user_match = c->match_type;
            user_name = c->match;
        } else if (bytes_eq_cstr(c->entity_type, "client-id")) {
            want = &want_client;
            client_match = c->match_type;
            client_name = c->match;
        }
        if (!want || *want || c->match_type < QUOTA_MATCH_EXACT || c->match_type > QUOTA_MATCH_SPECIFIED) {
            resp.error_code = KERR_INVALID_REQUEST;
            resp.error_message = bytes_cstr(!want ? "Custom entity type not supported"
                                            : *want ? "Duplicate entity type in the filter"
                                                    : "Unknown match type");
            break;
        }
        *want = true;
    }
    const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
    int32_t nq = resp.error_code == KERR_NONE ? ctrl_image_quota_count(img) : 0;
    resp.entries = arena_alloc_array(&req->arena, (size_t)nq, sizeof *resp.entries);
    if (!resp.entries && nq) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    int32_t out = 0;
    for (int32_t i = 0; i < nq; i++) {
        const struct ctrl_quota *q = ctrl_image_quota_at(img, i);
        if (want_user && !quota_part_match(&q->user, user_match, user_name))
            continue;
        if (want_client && !quota_part_match(&q->client_id, client_match, client_name))
            continue;
        if (m.strict && ((q->user.present && !want_user) || (q->client_id.present && !want_client)))
            continue;
        struct kmsg_describe_client_quotas_resp_entry *re = &resp.entries[out];
        kmsg_describe_client_quotas_resp_entry_init(re);
        re->entity = arena_alloc_array(&req->arena, 2, sizeof *re->entity);
        re->values = arena_alloc_array(&req->arena, (size_t)q->values.count + 1, sizeof *re->values);
        if (!re->entity || !re->values) {
            brk_req_finish(req, ERR_LIMIT);
            return;
        }
        if (q->user.present)
            re->entity[re->entity_count++] = quota_entity_out("user", &q->user);
        if (q->client_id.present)
            re->entity[re->entity_count++] = quota_entity_out("client-id", &q->client_id);
        for (int32_t k = 0; k < q->values.count; k++) {
            struct kmsg_describe_client_quotas_resp_value *v = &re->values[re->values_count++];
            kmsg_describe_client_quotas_resp_value_init(v);
            v->key = bytes_cstr(q->values.entries[k].name);
            v->value = strtod(q->values.entries[k].value, NULL);
        }
        out++;
    }
    resp.entries_count = out;
    BRK_RESPOND(req, describe_client_quotas, &resp);
}
