/*
 * brk_h_configs.c - DescribeConfigs, AlterConfigs, IncrementalAlterConfigs.
 *
 * Topic configs: the image holds each topic's overrides; every other topic
 * key reports its default, which comes from its broker synonym (retention.ms
 * from log.retention.hours, ...) as in Kafka.  Broker configs: the static
 * configuration with each key's source.  Dynamic broker config changes are
 * refused with a message saying so, except the replication throttles
 * (leader/follower.replication.throttled.rate, set by
 * kafka-reassign-partitions --throttle), which are stored in the metadata.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/api/brk_h.h"
#include "broker/api/brk_kerr.h"
#include "common/config.h"
#include "common/log.h"
#include "controller/ctrl.h"

#define RESOURCE_TOPIC 2
#define RESOURCE_BROKER 4

/* Kafka's DescribeConfigs ConfigSource ids */
#define SOURCE_DYNAMIC_TOPIC 1
#define SOURCE_DYNAMIC_BROKER 2
#define SOURCE_DYNAMIC_DEFAULT_BROKER 3
#define SOURCE_STATIC_BROKER 4
#define SOURCE_DEFAULT 5

static int8_t kafka_config_type(enum config_type t)
{
    switch (t) {
    case CONFIG_BOOL: return 1;
    case CONFIG_STRING: return 2;
    case CONFIG_INT: return 3;
    case CONFIG_LONG: return 5;
    case CONFIG_DOUBLE: return 6;
    case CONFIG_LIST: return 7;
    case CONFIG_CLASS: return 8;
    case CONFIG_PASSWORD: return 9;
    }
    return 0;
}

static bool key_wanted(const struct kmsg_describe_configs_req_resource *r, const char *name)
{
    if (r->configuration_keys_count < 0)
        return true;
    for (int32_t i = 0; i < r->configuration_keys_count; i++)
        if (bytes_eq_cstr(r->configuration_keys[i], name))
            return true;
    return false;
}

static int8_t broker_key_source(const struct config *cfg, const char *name, const char **value)
{
    for (size_t i = 0; i < config_broker_key_count(); i++) {
        if (strcmp(config_broker_key_at(i)->name, name) != 0)
            continue;
        struct config_entry e;
        config_broker_entry_get(cfg, i, &e);
        *value = e.value;
        return e.source == CONFIG_SOURCE_DEFAULT ? SOURCE_DEFAULT : SOURCE_STATIC_BROKER;
    }
    *value = NULL;
    return SOURCE_DEFAULT;
}

static int describe_topic(struct brk_req *req, const struct kmsg_describe_configs_req *m,
                          const struct kmsg_describe_configs_req_resource *r,
                          struct kmsg_describe_configs_resp_result *res)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    const struct ctrl_topic *t =
        r->resource_name.ptr ? ctrl_image_topic_find(ctrl_metadata(srv->ctrl), (const char *)r->resource_name.ptr,
                                                     r->resource_name.len)
                             : NULL;
    if (!t) {
        res->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        res->error_message = bytes_cstr("Topic does not exist.");
        return 0;
    }
    size_t nk = config_topic_key_count();
    res->configs = arena_alloc_array(&req->arena, nk, sizeof *res->configs);
    if (!res->configs)
        return ERR_LIMIT;
    for (size_t i = 0; i < nk; i++) {
        const struct config_key *k = config_topic_key_at(i);
        if (!key_wanted(r, k->name))
            continue;
        struct kmsg_describe_configs_resp_config *c = &res->configs[res->configs_count++];
        kmsg_describe_configs_resp_config_init(c);
        c->name = bytes_cstr(k->name);
        c->config_type = kafka_config_type(k->type);
        c->is_sensitive = (k->flags & CONFIG_F_SENSITIVE) != 0;
        c->read_only = false;
        if (m->include_documentation && k->doc)
            c->documentation = bytes_cstr(k->doc);
        const char *over = ctrl_configs_find(&t->configs, k->name);
        const char *bvalue = NULL;
        int8_t bsource = k->synonym ? broker_key_source(srv->cfg, k->synonym, &bvalue) : SOURCE_DEFAULT;
        if (over) {
            c->value = bytes_cstr(over);
            c->config_source = SOURCE_DYNAMIC_TOPIC;
            c->is_default = false;
        } else {
            char *v = arena_alloc(&req->arena, 256);
            if (!v)
                return ERR_LIMIT;
            if (config_topic_default(srv->cfg, k->name, v, 256, NULL) == 0)
                c->value = bytes_cstr(v);
            c->config_source = bsource;
            c->is_default = bsource == SOURCE_DEFAULT;
        }
        if (m->include_synonyms) {
            struct kmsg_describe_configs_resp_synonym *syn = arena_alloc_array(&req->arena, 2, sizeof *syn);
            if (!syn)
                return ERR_LIMIT;
            int32_t ns = 0;
            if (over) {
                kmsg_describe_configs_resp_synonym_init(&syn[ns]);
                syn[ns].name = c->name;
                syn[ns].value = c->value;
                syn[ns++].source = SOURCE_DYNAMIC_TOPIC;
            }
            if (k->synonym && bsource == SOURCE_STATIC_BROKER) {
                kmsg_describe_configs_resp_synonym_init(&syn[ns]);
                syn[ns].name = bytes_cstr(k->synonym);
                syn[ns].value = bvalue ? bytes_cstr(bvalue) : (struct bytes){ NULL, 0 };
                syn[ns++].source = SOURCE_STATIC_BROKER;
            }
            c->synonyms = syn;
            c->synonyms_count = ns;
        }
    }
    return 0;
}

/* The dynamic broker configs Samsa stores: the replication throttles that
 * kafka-reassign-partitions --throttle sets (and --verify clears).  They
 * live in the metadata image (ConfigRecord, broker resource) like Kafka's;
 * replication does not enforce them yet. */
static const char *const broker_dynamic_keys[] = { "leader.replication.throttled.rate",
                                                   "follower.replication.throttled.rate",
                                                   "replica.alter.log.dirs.io.max.bytes.per.second" };

static bool broker_dynamic_key(const char *name)
{
    for (size_t i = 0; i < sizeof broker_dynamic_keys / sizeof broker_dynamic_keys[0]; i++)
        if (strcmp(name, broker_dynamic_keys[i]) == 0)
            return true;
    return false;
}

static int broker_id_parse(const char *s, int *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!end || *end || end == s || v < 0 || v > INT32_MAX)
        return ERR_INVALID;
    *out = (int)v;
    return 0;
}

/* self_synonym - c's one synonym: itself, from source. */
static int self_synonym(struct arena *a, struct kmsg_describe_configs_resp_config *c, int8_t source)
{
    struct kmsg_describe_configs_resp_synonym *syn = arena_alloc(a, sizeof *syn);
    if (!syn)
        return ERR_LIMIT;
    kmsg_describe_configs_resp_synonym_init(syn);
    syn->name = c->name;
    syn->value = c->value;
    syn->source = source;
    c->synonyms = syn;
    c->synonyms_count = 1;
    return 0;
}

static int describe_broker(struct brk_req *req, const struct kmsg_describe_configs_req *m,
                           const struct kmsg_describe_configs_req_resource *r,
                           struct kmsg_describe_configs_resp_result *res)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    char self[16];
    snprintf(self, sizeof self, "%d", srv->node->node_id);
    if (r->resource_name.len > 0 && !bytes_eq_cstr(r->resource_name, self)) {
        res->error_code = KERR_INVALID_REQUEST;
        res->error_message = bytes_cstr("Broker id does not match this broker: send the request to that broker.");
        return 0;
    }
    size_t nk = config_broker_key_count();
    size_t nd = sizeof broker_dynamic_keys / sizeof broker_dynamic_keys[0];
    res->configs = arena_alloc_array(&req->arena, nk + nd, sizeof *res->configs);
    if (!res->configs)
        return ERR_LIMIT;
    /* the stored dynamic ones first: this broker's, else the cluster default */
    const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
    for (size_t i = 0; i < nd; i++) {
        const char *value = ctrl_configs_find(ctrl_image_broker_configs(img, srv->node->node_id),
                                              broker_dynamic_keys[i]);
        int8_t source = SOURCE_DYNAMIC_BROKER;
        if (!value) {
            value = ctrl_configs_find(ctrl_image_broker_configs(img, -1), broker_dynamic_keys[i]);
            source = SOURCE_DYNAMIC_DEFAULT_BROKER;
        }
        if (!value || !key_wanted(r, broker_dynamic_keys[i]))
            continue;
        struct kmsg_describe_configs_resp_config *c = &res->configs[res->configs_count++];
        kmsg_describe_configs_resp_config_init(c);
        c->name = bytes_cstr(broker_dynamic_keys[i]);
        c->value = bytes_cstr(value);
        c->config_source = source;
        c->config_type = kafka_config_type(CONFIG_LONG);
        if (m->include_synonyms && self_synonym(&req->arena, c, source) < 0)
            return ERR_LIMIT;
    }
    for (size_t i = 0; i < nk; i++) {
        struct config_entry e;
        config_broker_entry_get(srv->cfg, i, &e);
        if (!key_wanted(r, e.key->name))
            continue;
        struct kmsg_describe_configs_resp_config *c = &res->configs[res->configs_count++];
        kmsg_describe_configs_resp_config_init(c);
        c->name = bytes_cstr(e.key->name);
        c->value = e.value ? bytes_cstr(e.value) : (struct bytes){ NULL, 0 };
        c->read_only = true;
        c->is_sensitive = e.is_sensitive;
        c->is_default = e.is_default;
        c->config_source = e.source == CONFIG_SOURCE_DEFAULT ? SOURCE_DEFAULT : SOURCE_STATIC_BROKER;
        c->config_type = kafka_config_type(e.key->type);
        if (m->include_documentation && e.key->doc)
            c->documentation = bytes_cstr(e.key->doc);
        if (m->include_synonyms && !e.is_default && self_synonym(&req->arena, c, SOURCE_STATIC_BROKER) < 0)
            return ERR_LIMIT;
    }
    return 0;
}

void brk_h_describe_configs(struct brk_req *req)
{
    struct kmsg_describe_configs_req m;
    int rc = kmsg_describe_configs_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_describe_configs_resp resp;
    kmsg_describe_configs_resp_init(&resp);
    int32_t n = m.resources_count > 0 ? m.resources_count : 0;
    resp.results = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp.results);
    if (!resp.results && n) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp.results_count = n;
    for (int32_t i = 0; i < n && rc == 0; i++) {
        const struct kmsg_describe_configs_req_resource *r = &m.resources[i];
        struct kmsg_describe_configs_resp_result *res = &resp.results[i];
        kmsg_describe_configs_resp_result_init(res);
        res->resource_type = r->resource_type;
        res->resource_name = r->resource_name;
        if (r->resource_type == RESOURCE_TOPIC) {
            rc = describe_topic(req, &m, r, res);
        } else if (r->resource_type == RESOURCE_BROKER) {
            rc = describe_broker(req, &m, r, res);
        } else {
            res->error_code = KERR_INVALID_REQUEST;
            res->error_message = bytes_cstr("Only topic and broker resources are supported.");
        }
    }
    if (rc < 0) {
        brk_req_finish(req, rc);
        return;
    }
    BRK_RESPOND(req, describe_configs, &resp);
}

/* One resource's changes.  ops[i]: 0 set, 1 delete, 2 append, 3 subtract;
 * legacy AlterConfigs passes replace_all (every override not named is removed). */
struct cfg_change {
    const char *name;
    const char *value;
    int8_t op;
};

static const char *list_edit(struct arena *a, const char *cur, const char *item, bool append)
{
    size_t cap = (cur ? strlen(cur) : 0) + strlen(item) + 2;
    char *out = arena_alloc(a, cap);
    if (!out)
        return NULL;
    size_t len = 0;
    const char *p = cur ? cur : "";
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        bool same = n == strlen(item) && strncmp(p, item, n) == 0;
        if (!(same && !append) && n > 0 && !(same && append)) {
            if (len)
                out[len++] = ',';
            memcpy(out + len, p, n);
            len += n;
        }
        p += n + (comma ? 1 : 0);
    }
    if (append) {
        if (len)
            out[len++] = ',';
        memcpy(out + len, item, strlen(item));
        len += strlen(item);
    }
    out[len] = '\0';
    return out;
}

/* configs_commit - commit a resource's planned config records (nothing
 * for validate_only or no change); the error text lands in msg. */
static int16_t configs_commit(struct brk_req *req, const struct ctrl_records *recs, bool validate_only, char *msg,
                              size_t msg_size, int16_t *err_slot, brk_handler_fn respond, const char *what,
                              const char *name)
{
    if (validate_only || recs->count == 0)
        return KERR_NONE;
    int rc = brk_admin_commit(req, recs, err_slot, NULL, NULL, respond);
    if (rc < 0) {
        snprintf(msg, msg_size, "%s", rc == ERR_NOT_CONTROLLER ? "This node is not the active controller."
                                                                : err_str(rc));
        return brk_kerr_from_err(rc);
    }
    log_info("admin", "altering %s configs %s=%s changes=%d", what, what, name, (int)recs->count);
    return KERR_NONE;
}

static int16_t alter_topic(struct brk_req *req, struct bytes rname, const struct cfg_change *ch, int32_t n,
                           bool replace_all, bool validate_only, char *msg, size_t msg_size, int16_t *err_slot,
                           brk_handler_fn respond)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
    const struct ctrl_topic *t = rname.ptr ? ctrl_image_topic_find(img, (const char *)rname.ptr, rname.len) : NULL;
    if (!t) {
        snprintf(msg, msg_size, "Topic does not exist.");
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    struct ctrl_records recs = { 0 };
    for (int32_t i = 0; i < n; i++) {
        const char *value = ch[i].value;
        if (ch[i].op == 2 || ch[i].op == 3) {
            const struct config_key *k = config_topic_key_find(ch[i].name);
            if (!k || k->type != CONFIG_LIST) {
                snprintf(msg, msg_size, "Config %s is not a list; APPEND and SUBTRACT apply to list configs only.",
                         ch[i].name);
                return KERR_INVALID_CONFIG;
            }
            const char *cur = ctrl_configs_find(&t->configs, ch[i].name);
            char def[256];
            if (!cur && config_topic_default(srv->cfg, ch[i].name, def, sizeof def, NULL) == 0)
                cur = def;
            value = list_edit(&req->arena, cur, value ? value : "", ch[i].op == 2);
            if (!value)
                return KERR_UNKNOWN_SERVER_ERROR;
        }
        if (ch[i].op == 1) {
            if (!config_topic_key_find(ch[i].name)) {
                snprintf(msg, msg_size, "Unknown topic config name: %s", ch[i].name);
                return KERR_INVALID_CONFIG;
            }
            value = NULL;
        } else if (!value || config_topic_validate(ch[i].name, value, msg, msg_size) < 0) {
            if (!value)
                snprintf(msg, msg_size, "Null value not supported for topic config %s.", ch[i].name);
            return KERR_INVALID_CONFIG;
        }
        int rc = ctrl_plan_config(img, RESOURCE_TOPIC, t->name, ch[i].name, value, &req->arena, &recs);
        if (rc < 0)
            return brk_kerr_from_err(rc);
    }
    if (replace_all) {
        for (int32_t i = 0; i < t->configs.count; i++) {
            bool kept = false;
            for (int32_t j = 0; j < n && !kept; j++)
                kept = strcmp(ch[j].name, t->configs.entries[i].name) == 0;
            if (kept)
                continue;
            int rc = ctrl_plan_config(img, RESOURCE_TOPIC, t->name, t->configs.entries[i].name, NULL, &req->arena,
                                      &recs);
            if (rc < 0)
                return brk_kerr_from_err(rc);
        }
    }
    return configs_commit(req, &recs, validate_only, msg, msg_size, err_slot, respond, "topic", t->name);
}

/* alter_broker - IncrementalAlterConfigs SET/DELETE of the throttle keys on a
 * broker id or the cluster default (""); anything else is refused with the
 * key named. */
static int16_t alter_broker(struct brk_req *req, struct bytes rname, const struct cfg_change *ch, int32_t n,
                            bool replace_all, bool validate_only, char *msg, size_t msg_size, int16_t *err_slot,
                            brk_handler_fn respond)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    const char *name = brk_arena_cstr(&req->arena, rname);
    int id = -1;
    if (!name || (name[0] && broker_id_parse(name, &id) < 0)) {
        snprintf(msg, msg_size, "Broker resource name must be a broker id or empty (the cluster default).");
        return KERR_INVALID_REQUEST;
    }
    struct ctrl_records recs = { 0 };
    for (int32_t i = 0; i < n; i++) {
        if (replace_all || !broker_dynamic_key(ch[i].name)) {
            /* (the replication throttles are stored, through IncrementalAlterConfigs only) */
            snprintf(msg, msg_size, "Dynamic broker configs are not supported yet: set the key in server.properties "
                                    "(or KAFKA_* env) and restart the broker.");
            return KERR_INVALID_REQUEST;
        }
        const char *value = ch[i].op == 1 ? NULL : ch[i].value;
        char *end = NULL;
        if (ch[i].op != 0 && ch[i].op != 1) {
            snprintf(msg, msg_size, "Config %s is a number: only SET and DELETE apply.", ch[i].name);
            return KERR_INVALID_CONFIG;
        }
        if (value && (strtoll(value, &end, 10) < 0 || !end || *end || end == value)) {
            snprintf(msg, msg_size, "Invalid value %s for configuration %s: a whole number of bytes per second "
                     "(>= 0) is expected.", value, ch[i].name);
            return KERR_INVALID_CONFIG;
        }
        int rc = ctrl_plan_config(ctrl_metadata(srv->ctrl), RESOURCE_BROKER, name, ch[i].name, value, &req->arena,
                                  &recs);
        if (rc < 0)
            return brk_kerr_from_err(rc);
    }
    return configs_commit(req, &recs, validate_only, msg, msg_size, err_slot, respond, "broker",
                          name[0] ? name : "<default>");
}

static int16_t alter_resource(struct brk_req *req, int8_t type, struct bytes rname, const struct cfg_change *ch,
                              int32_t n, bool replace_all, bool validate_only, char *msg, size_t msg_size,
                              int16_t *err_slot, brk_handler_fn respond)
{
    if (type == RESOURCE_TOPIC)
        return alter_topic(req, rname, ch, n, replace_all, validate_only, msg, msg_size, err_slot, respond);
    if (type == RESOURCE_BROKER)
        return alter_broker(req, rname, ch, n, replace_all, validate_only, msg, msg_size, err_slot, respond);
    snprintf(msg, msg_size, "Only topic and broker resources are supported.");
    return KERR_INVALID_REQUEST;
}

static void alter_configs_respond(struct brk_req *req)
{
    BRK_RESPOND(req, alter_configs, (struct kmsg_alter_configs_resp *)req->hstate);
}

static void incremental_alter_configs_respond(struct brk_req *req)
{
    BRK_RESPOND(req, incremental_alter_configs, (struct kmsg_incremental_alter_configs_resp *)req->hstate);
}

/* One resource of AlterConfigs / IncrementalAlterConfigs.  Errors land in
 * the result slot; the request is never finished from here, because commits
 * already started for earlier resources still point into its arena. */
static void alter_item(struct brk_req *req, int8_t type, struct bytes name, const struct cfg_change *ch, int32_t nc,
                       bool replace_all, bool validate_only, int16_t *error_code, struct bytes *error_message,
                       brk_handler_fn respond)
{
    char *msg = arena_alloc(&req->arena, 512);
    if (!msg || (!ch && nc > 0)) {
        *error_code = KERR_UNKNOWN_SERVER_ERROR;
        return;
    }
    int16_t err = KERR_NONE;
    for (int32_t j = 0; j < nc && err == KERR_NONE; j++)
        if (!ch[j].name || ch[j].op < 0 || ch[j].op > 3) {
            snprintf(msg, 512, "Unknown config operation %d for %s.", ch[j].op, ch[j].name ? ch[j].name : "?");
            err = KERR_INVALID_REQUEST;
        }
    if (err == KERR_NONE)
        err = alter_resource(req, type, name, ch, nc, replace_all, validate_only, msg, 512, error_code, respond);
    if (err != KERR_NONE) {
        *error_code = err;
        *error_message = bytes_cstr(msg);
    }
}

void brk_h_alter_configs(struct brk_req *req)
{
    struct kmsg_alter_configs_req m;
    int rc = kmsg_alter_configs_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_alter_configs_resp *resp = arena_alloc(&req->arena, sizeof *resp);
    int32_t n = m.resources_count > 0 ? m.resources_count : 0;
    if (resp) {
        kmsg_alter_configs_resp_init(resp);
        resp->responses = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp->responses);
    }
    if (!resp || (!resp->responses && n)) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp->responses_count = n;
    req->hstate = resp;
    req->pending = 1;
    for (int32_t i = 0; i < n; i++) {
        const struct kmsg_alter_configs_req_resource *r = &m.resources[i];
        struct kmsg_alter_configs_resp_result *res = &resp->responses[i];
        kmsg_alter_configs_resp_result_init(res);
        res->resource_type = r->resource_type;
        res->resource_name = r->resource_name;
        int32_t nc = r->configs_count > 0 ? r->configs_count : 0;
        struct cfg_change *ch = arena_alloc_array(&req->arena, (size_t)nc, sizeof *ch);
        for (int32_t j = 0; ch && j < nc; j++) {
            ch[j].name = brk_arena_cstr(&req->arena, r->configs[j].name);
            ch[j].value = r->configs[j].value.ptr ? brk_arena_cstr(&req->arena, r->configs[j].value) : NULL;
            ch[j].op = 0;
        }
        alter_item(req, r->resource_type, r->resource_name, ch, nc, true, m.validate_only, &res->error_code,
                   &res->error_message, alter_configs_respond);
    }
    brk_admin_release(req, alter_configs_respond);
}

void brk_h_incremental_alter_configs(struct brk_req *req)
{
    struct kmsg_incremental_alter_configs_req m;
    int rc = kmsg_incremental_alter_configs_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_incremental_alter_configs_resp *resp = arena_alloc(&req->arena, sizeof *resp);
    int32_t n = m.resources_count > 0 ? m.resources_count : 0;
    if (resp) {
        kmsg_incremental_alter_configs_resp_init(resp);
        resp->responses = arena_alloc_array(&req->arena, (size_t)n, sizeof *resp->responses);
    }
    if (!resp || (!resp->responses && n)) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp->responses_count = n;
    req->hstate = resp;
    req->pending = 1;
    for (int32_t i = 0; i < n; i++) {
        const struct kmsg_incremental_alter_configs_req_resource *r = &m.resources[i];
        struct kmsg_incremental_alter_configs_resp_result *res = &resp->responses[i];
        kmsg_incremental_alter_configs_resp_result_init(res);
        res->resource_type = r->resource_type;
        res->resource_name = r->resource_name;
        int32_t nc = r->configs_count > 0 ? r->configs_count : 0;
        struct cfg_change *ch = arena_alloc_array(&req->arena, (size_t)nc, sizeof *ch);
        for (int32_t j = 0; ch && j < nc; j++) {
            ch[j].name = brk_arena_cstr(&req->arena, r->configs[j].name);
            ch[j].value = r->configs[j].value.ptr ? brk_arena_cstr(&req->arena, r->configs[j].value) : NULL;
            ch[j].op = r->configs[j].config_operation;
        }
        alter_item(req, r->resource_type, r->resource_name, ch, nc, false, m.validate_only, &res->error_code,
                   &res->error_message, incremental_alter_configs_respond);
    }
    brk_admin_release(req, incremental_alter_configs_respond);
}
