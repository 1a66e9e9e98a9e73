/*
 * brk_h_configs.c - DescribeConfigs, AlterConfigs, IncrementalAlterConfigs.
 *
 * Topic configs: the image holds each topic's overrides; every other topic
 * key reports its default, which comes from its broker synonym (retention.ms
 * from log.retention.hours, ...) as in Kafka.  Broker configs (KIP-226):
 * ConfigRecords of resource type BROKER, name "<id>" for one broker or ""
 * for the cluster default (kafka-configs --entity-default), over the static
 * configuration; every broker applies them live (brk_configs_refresh, then
 * its partitions are reconfigured).  Only keys Kafka changes at run time
 * are accepted (config_key_is_dynamic); others get Kafka's "Cannot update
 * these configs dynamically: Set(...)".  DescribeConfigs reports Kafka's
 * sources (DYNAMIC_TOPIC 1, DYNAMIC_BROKER 2, DYNAMIC_DEFAULT_BROKER 3,
 * STATIC_BROKER 4, DEFAULT 5) and, when asked, synonyms in Kafka's order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/api/brk_h.h"
#include "broker/api/brk_kerr.h"
#include "broker/brk_config.h"
#include "common/config.h"
#include "common/log.h"
#include "controller/ctrl.h"
#include "controller/ctrl_topic_config.h"
#include "metadata.pb-c.h"

#define RESOURCE_TOPIC 2
#define RESOURCE_BROKER 4
#define RESOURCE_GROUP 32 /* Kafka 3.8+: KIP-848 group configs, not served */

/* The refusal of a resource type this broker does not serve: Kafka's
 * message, and for GROUP why (consumer.session.timeout.ms and
 * consumer.heartbeat.interval.ms configure KIP-848 consumer groups; the
 * coordinator here runs classic groups, so it could not honour them). */
static const char *configs_unsupported_text(int8_t type)
{
    if (type == RESOURCE_GROUP)
        return "Unsupported resource type: GROUP. Group configs are for KIP-848 consumer groups; this broker's "
               "group coordinator runs classic groups only. Only topic and broker resources are supported.";
    return "Unsupported resource type. Only topic and broker resources are supported.";
}

/* Kafka's DescribeConfigs ConfigSource ids */
#define SOURCE_DYNAMIC_TOPIC 1
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

/* Kafka's synonyms of broker key `name` into syn[from..], as DescribeConfigs
 * entries.  Returns the new count or ERR_LIMIT. */
static int synonyms_add(struct brk_req *req, const char *name, struct kmsg_describe_configs_resp_synonym *syn,
                        int32_t from)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct config_synonym cs[CONFIG_SYNONYMS_MAX];
    size_t n = config_broker_synonyms(srv->cfg, name, cs);
    int32_t k = from;
    for (size_t i = 0; i < n; i++, k++) {
        kmsg_describe_configs_resp_synonym_init(&syn[k]);
        syn[k].name = bytes_cstr(cs[i].name);
        syn[k].value = cs[i].value ? bytes_cstr(cs[i].value) : (struct bytes){ NULL, 0 };
        syn[k].source = (int8_t)config_source_kafka_code(cs[i].source);
    }
    return k;
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
    size_t nk = ctrl_topic_config_key_count();
    res->configs = arena_alloc_array(&req->arena, nk, sizeof *res->configs);
    if (!res->configs)
        return ERR_LIMIT;
    for (size_t i = 0; i < nk; i++) {
        const struct config_key *k = ctrl_topic_config_key_at(i);
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
        char *v = arena_alloc(&req->arena, 256);
        if (!v)
            return ERR_LIMIT;
        struct config_entry e;
        if (brk_config_topic_entry_get(srv->cfg, i, over, v, 256, &e) < 0) {
            e.value = NULL;
            e.source = CONFIG_SOURCE_DEFAULT;
            e.is_default = 1;
        }
        c->value = e.value ? bytes_cstr(e.value) : (struct bytes){ NULL, 0 };
        c->config_source = (int8_t)config_source_kafka_code(e.source);
        c->is_default = e.is_default != 0;
        if (m->include_synonyms) {
            struct kmsg_describe_configs_resp_synonym *syn =
                arena_alloc_array(&req->arena, 1 + CONFIG_SYNONYMS_MAX, sizeof *syn);
            if (!syn)
                return ERR_LIMIT;
            int32_t ns = 0;
            if (over) {
                kmsg_describe_configs_resp_synonym_init(&syn[ns]);
                syn[ns].name = c->name;
                syn[ns].value = c->value;
                syn[ns++].source = SOURCE_DYNAMIC_TOPIC;
            }
            if (k->synonym)
                ns = synonyms_add(req, k->synonym, syn, ns);
            c->synonyms = syn;
            c->synonyms_count = ns;
        }
    }
    return 0;
}

/* One broker's configs (name = its id), or the cluster default (name ""):
 * only the keys set there, as Kafka answers for the default resource. */
static int describe_broker(struct brk_req *req, const struct kmsg_describe_configs_req *m,
                           const struct kmsg_describe_configs_req_resource *r,
                           struct kmsg_describe_configs_resp_result *res)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    char self[16];
    snprintf(self, sizeof self, "%d", srv->node->node_id);
    bool cluster_default = r->resource_name.len == 0;
    if (!cluster_default && !bytes_eq_cstr(r->resource_name, self)) {
        res->error_code = KERR_INVALID_REQUEST;
        res->error_message = bytes_cstr("Broker id does not match this broker: send the request to that broker.");
        return 0;
    }
    size_t nk = config_broker_key_count();
    res->configs = arena_alloc_array(&req->arena, nk, sizeof *res->configs);
    if (!res->configs)
        return ERR_LIMIT;
    for (size_t i = 0; i < nk; i++) {
        struct config_entry e;
        config_broker_entry_get(srv->cfg, i, &e);
        if (!key_wanted(r, e.key->name))
            continue;
        const char *dflt = config_dynamic_value(srv->cfg, CONFIG_SOURCE_DYNAMIC_DEFAULT, e.key->name);
        if (cluster_default && !dflt)
            continue;
        struct kmsg_describe_configs_resp_config *c = &res->configs[res->configs_count++];
        kmsg_describe_configs_resp_config_init(c);
        c->name = bytes_cstr(e.key->name);
        c->read_only = e.read_only != 0;
        c->is_sensitive = e.is_sensitive;
        c->config_type = kafka_config_type(e.key->type);
        if (m->include_documentation && e.key->doc)
            c->documentation = bytes_cstr(e.key->doc);
        if (cluster_default) {
            c->value = e.is_sensitive ? (struct bytes){ NULL, 0 } : bytes_cstr(dflt);
            c->config_source = (int8_t)config_source_kafka_code(CONFIG_SOURCE_DYNAMIC_DEFAULT);
            c->is_default = false;
            continue;
        }
        c->value = e.value ? bytes_cstr(e.value) : (struct bytes){ NULL, 0 };
        if (strcmp(e.key->name, "broker.id") == 0 && e.is_default) {
            /* KRaft: broker.id is node.id; the answer outlives this frame */
            char *id = arena_alloc(&req->arena, sizeof self);
            if (!id)
                return ERR_LIMIT;
            memcpy(id, self, sizeof self);
            c->value = bytes_cstr(id);
        }
        c->is_default = e.is_default;
        /* Kafka: the source is the most significant synonym's (log.retention.ms
         * unset but log.retention.hours in the file: STATIC_BROKER_CONFIG) */
        struct kmsg_describe_configs_resp_synonym *syn =
            arena_alloc_array(&req->arena, CONFIG_SYNONYMS_MAX, sizeof *syn);
        if (!syn)
            return ERR_LIMIT;
        int32_t ns = synonyms_add(req, e.key->name, syn, 0);
        c->config_source = ns > 0 ? syn[0].source : SOURCE_DEFAULT;
        if (m->include_synonyms) {
            c->synonyms = syn;
            c->synonyms_count = ns;
        }
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
            res->error_message = bytes_cstr(configs_unsupported_text(r->resource_type));
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

/* APPEND (op 2) / SUBTRACT (op 3) on a list config: the new whole value
 * from the current one (cur, NULL when unset).  KERR_NONE with *value. */
static int16_t list_op_value(struct brk_req *req, const struct config_key *k, const struct cfg_change *ch,
                             const char *cur, const char **value, char *msg, size_t msg_size)
{
    if (!k || k->type != CONFIG_LIST) {
        snprintf(msg, msg_size, "Config %s is not a list; APPEND and SUBTRACT apply to list configs only.", ch->name);
        return KERR_INVALID_CONFIG;
    }
    *value = list_edit(&req->arena, cur, ch->value ? ch->value : "", ch->op == 2);
    return *value ? KERR_NONE : KERR_UNKNOWN_SERVER_ERROR;
}

/* Legacy AlterConfigs replaces the whole set: every override in cur that the
 * request does not name is deleted. */
static int plan_unnamed_deletes(const struct ctrl_image *img, int type, const char *resource,
                                const struct ctrl_configs *cur, const struct cfg_change *ch, int32_t n,
                                struct arena *a, struct ctrl_records *recs)
{
    for (int32_t i = 0; cur && i < cur->count; i++) {
        bool kept = false;
        for (int32_t j = 0; j < n && !kept; j++)
            kept = strcmp(ch[j].name, cur->entries[i].name) == 0;
        if (kept)
            continue;
        int rc = ctrl_plan_config(img, type, resource, cur->entries[i].name, NULL, a, recs);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The end of one resource's alter: legacy deletes, then propose (unless
 * validate_only).  resource is the topic name, a broker id or "" (the
 * cluster default). */
static int16_t alter_commit(struct brk_req *req, const struct ctrl_image *img, int type, const char *resource,
                            const struct ctrl_configs *cur, const struct cfg_change *ch, int32_t n, bool replace_all,
                            bool validate_only, struct ctrl_records *recs, char *msg, size_t msg_size,
                            int16_t *err_slot, brk_handler_fn respond)
{
    if (replace_all) {
        int rc = plan_unnamed_deletes(img, type, resource, cur, ch, n, &req->arena, recs);
        if (rc < 0)
            return brk_kerr_from_err(rc);
    }
    if (validate_only || recs->count == 0)
        return KERR_NONE;
    int rc = brk_admin_commit(req, recs, err_slot, NULL, NULL, respond);
    if (rc < 0) {
        snprintf(msg, msg_size, "%s", rc == ERR_NOT_CONTROLLER ? "This node is not the active controller."
                                                                : err_str(rc));
        return brk_kerr_from_err(rc);
    }
    log_info("admin", "altering %s configs name=%s changes=%d", type == RESOURCE_TOPIC ? "topic" : "broker",
             resource[0] ? resource : "<cluster default>", (int)recs->count);
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
            const char *cur = ctrl_configs_find(&t->configs, ch[i].name);
            char def[256];
            if (!cur && brk_config_topic_default(srv->cfg, ch[i].name, def, sizeof def, NULL) == 0)
                cur = def;
            int16_t err = list_op_value(req, ctrl_topic_config_key_find(ch[i].name), &ch[i], cur, &value, msg, msg_size);
            if (err != KERR_NONE)
                return err;
        }
        if (ch[i].op == 1) {
            if (!ctrl_topic_config_key_find(ch[i].name)) {
                snprintf(msg, msg_size, "Unknown topic config name: %s", ch[i].name);
                return KERR_INVALID_CONFIG;
            }
            value = NULL;
        } else if (!value || ctrl_topic_config_validate(ch[i].name, value, msg, msg_size) < 0) {
            if (!value)
                snprintf(msg, msg_size, "Null value not supported for topic config %s.", ch[i].name);
            return KERR_INVALID_CONFIG;
        }
        int rc = ctrl_plan_config(img, RESOURCE_TOPIC, t->name, ch[i].name, value, &req->arena, &recs);
        if (rc < 0)
            return brk_kerr_from_err(rc);
    }
    return alter_commit(req, img, RESOURCE_TOPIC, t->name, &t->configs, ch, n, replace_all, validate_only, &recs, msg,
                        msg_size, err_slot, respond);
}

/* Broker resource: "" is the cluster default, else a broker id.  Every
 * change is checked before any is planned; read-only keys are named
 * together, as Kafka does. */
static int16_t alter_broker(struct brk_req *req, struct bytes rname, const struct cfg_change *ch, int32_t n,
                            bool replace_all, bool validate_only, char *msg, size_t msg_size, int16_t *err_slot,
                            brk_handler_fn respond)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    const struct ctrl_image *img = ctrl_metadata(srv->ctrl);
    char name[16] = "";
    int32_t id = -1;
    if (rname.len > 0) {
        char *end = NULL;
        long v = -1;
        if (rname.len < sizeof name) {
            memcpy(name, rname.ptr, rname.len);
            name[rname.len] = '\0';
            v = strtol(name, &end, 10);
        }
        if (!end || *end != '\0' || v < 0 || v > INT32_MAX) {
            snprintf(msg, msg_size, "Invalid broker id %.*s: a broker resource is named by its integer id, or "
                     "empty for the cluster-wide default.", (int)(rname.len < 32 ? rname.len : 32),
                     (const char *)rname.ptr);
            return KERR_INVALID_REQUEST;
        }
        id = (int32_t)v;
    }
    const struct ctrl_configs *cur = ctrl_image_broker_configs(img, id);
    /* read-only keys first, all named in one message */
    size_t ro = 0;
    int w = snprintf(msg, msg_size, "Cannot update these configs dynamically: Set(");
    for (int32_t i = 0; i < n; i++) {
        if (!config_broker_key_find(ch[i].name) || config_key_is_dynamic(ch[i].name))
            continue;
        if (w > 0 && (size_t)w < msg_size)
            w += snprintf(msg + w, msg_size - (size_t)w, "%s%s", ro ? ", " : "", ch[i].name);
        ro++;
    }
    if (ro) {
        if (w > 0 && (size_t)w < msg_size)
            snprintf(msg + w, msg_size - (size_t)w, ")");
        return KERR_INVALID_REQUEST;
    }
    struct ctrl_records recs = { 0 };
    for (int32_t i = 0; i < n; i++) {
        const char *value = ch[i].value;
        if (ch[i].op == 2 || ch[i].op == 3) {
            const char *old = cur ? ctrl_configs_find(cur, ch[i].name) : NULL;
            int16_t err = list_op_value(req, config_broker_key_find(ch[i].name), &ch[i], old, &value, msg, msg_size);
            if (err != KERR_NONE)
                return err;
        }
        if (ch[i].op == 1)
            value = NULL;
        else if (!value) {
            snprintf(msg, msg_size, "Null value not supported for broker config %s.", ch[i].name);
            return KERR_INVALID_CONFIG;
        }
        int rc = config_dynamic_validate(ch[i].name, value, msg, msg_size);
        if (rc < 0)
            return rc == ERR_UNSUPPORTED ? KERR_INVALID_REQUEST : KERR_INVALID_CONFIG;
        rc = ctrl_plan_config(img, RESOURCE_BROKER, name, ch[i].name, value,
                              &req->arena, &recs);
        if (rc < 0)
            return brk_kerr_from_err(rc);
    }
    return alter_commit(req, img, RESOURCE_BROKER, name, cur, ch, n, replace_all, validate_only, &recs, msg, msg_size,
                        err_slot, respond);
}

static int16_t alter_resource(struct brk_req *req, int8_t type, struct bytes rname, const struct cfg_change *ch,
                              int32_t n, bool replace_all, bool validate_only, char *msg, size_t msg_size,
                              int16_t *err_slot, brk_handler_fn respond)
{
    if (type == RESOURCE_TOPIC)
        return alter_topic(req, rname, ch, n, replace_all, validate_only, msg, msg_size, err_slot, respond);
    if (type == RESOURCE_BROKER)
        return alter_broker(req, rname, ch, n, replace_all, validate_only, msg, msg_size, err_slot, respond);
    snprintf(msg, msg_size, "%s", configs_unsupported_text(type));
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

/* ---- applying dynamic broker configs on this broker ---- */

bool brk_configs_dynamic_record(const struct brk_ctx *srv, const struct Samsa__MetadataRecord *rec)
{
    if (rec->record_case != SAMSA__METADATA_RECORD__RECORD_CONFIG ||
        rec->config->resource_type != SAMSA__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_BROKER)
        return false;
    const char *name = rec->config->resource_name;
    char self[16];
    snprintf(self, sizeof self, "%d", srv->node->node_id);
    return name[0] == '\0' || strcmp(name, self) == 0;
}

static void refresh_layer(struct config *cfg, enum config_source layer, const struct ctrl_configs *cc)
{
    for (int32_t i = 0; cc && i < cc->count; i++)
        if (config_dynamic_set(cfg, layer, cc->entries[i].name, cc->entries[i].value) < 0)
            log_warn("config", "dynamic broker config %s not applied on this broker", cc->entries[i].name);
}

void brk_configs_refresh(struct brk_ctx *srv, const struct ctrl_image *img)
{
    struct config *cfg = srv->cfg_dynamic;
    int64_t retention_ms = srv->node->retention_ms;
    config_dynamic_clear(cfg);
    refresh_layer(cfg, CONFIG_SOURCE_DYNAMIC_DEFAULT, ctrl_image_broker_configs(img, -1));
    refresh_layer(cfg, CONFIG_SOURCE_DYNAMIC_BROKER, ctrl_image_broker_configs(img, srv->node->node_id));
    config_dynamic_commit(cfg);
    log_info("config", "dynamic broker configs applied node=%d log.retention.ms(effective)=%lld (was %lld)",
             srv->node->node_id, (long long)srv->node->retention_ms, (long long)retention_ms);
}
