/*
 * config_roles.c - what every role needs to find itself and its peers,
 * checked and derived at config_finalize: process.roles, node.id (or its
 * old name broker.id), listeners with listener.security.protocol.map,
 * advertised.listeners, controller.listener.names and the inter-broker
 * listener, controller.quorum.voters / .bootstrap.servers, and log.dirs
 * with metadata.log.dir.  Brokers and controllers both run on these (a
 * broker dials the quorum, a controller serves it), and so does
 * `kafka-storage format`, which checks a config the way a start would.
 *
 * Each step reports its own first problem as one error line naming the
 * key, its value and the fix; later steps that would only repeat it are
 * skipped.  Reads the effective values through config_int.h; writes only
 * cfg->node.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_int.h"

static void upper(char *s)
{
    for (; *s; s++)
        *s = (char)toupper((unsigned char)*s);
}

static int sp_parse(const char *s, enum config_security_protocol *out)
{
    static const enum config_security_protocol all[] = {
        CONFIG_SP_PLAINTEXT, CONFIG_SP_SSL, CONFIG_SP_SASL_PLAINTEXT, CONFIG_SP_SASL_SSL };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcasecmp(s, config_security_protocol_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    return ERR_CONFIG;
}

/* Parse "host:port" or "[v6]:port"; host may be empty.  why gets the
 * problem text on failure. */
static int hostport_parse(const char *s, char *host, size_t host_size, uint16_t *port,
                          char *why, size_t why_size)
{
    const char *colon;
    const char *h = s;
    size_t hn;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':') {
            snprintf(why, why_size, "has an unterminated [IPv6] host");
            return ERR_CONFIG;
        }
        h = s + 1;
        hn = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) {
            snprintf(why, why_size, "has no :port");
            return ERR_CONFIG;
        }
        hn = (size_t)(colon - s);
    }
    if (hn >= host_size) {
        snprintf(why, why_size, "has a host name longer than %zu bytes", host_size - 1);
        return ERR_CONFIG;
    }
    memcpy(host, h, hn);
    host[hn] = '\0';
    int64_t p;
    if (config_parse_int64(colon + 1, &p) < 0) {
        snprintf(why, why_size, "port '%s' is not a number", colon + 1);
        return ERR_CONFIG;
    }
    if (p < 0 || p > 65535) {
        snprintf(why, why_size, "port %" PRId64 " is out of range 0-65535", p);
        return ERR_CONFIG;
    }
    *port = (uint16_t)p;
    return 0;
}

struct sp_map {
    size_t count;
    char names[CONFIG_LISTENERS_MAX * 2][CONFIG_LISTENER_NAME_BYTES_MAX];
    enum config_security_protocol sp[CONFIG_LISTENERS_MAX * 2];
};

static int sp_map_find(const struct sp_map *m, const char *name, enum config_security_protocol *sp)
{
    for (size_t i = 0; i < m->count; i++)
        if (strcmp(m->names[i], name) == 0) {
            *sp = m->sp[i];
            return 0;
        }
    return ERR_NOT_FOUND;
}

static int sp_map_parse(struct config *cfg, struct sp_map *m)
{
    const char *key = "listener.security.protocol.map";
    const char *v = config_eff(cfg, key);
    char item[160];
    size_t pos = 0;
    int rc;
    m->count = 0;
    while ((rc = config_list_next(v, &pos, item, sizeof item)) > 0) {
        char *colon = strchr(item, ':');
        enum config_security_protocol sp;
        if (!colon || colon == item) {
            config_error(cfg, "%s=%s entry '%s' is not NAME:PROTOCOL; write it like INTERNAL:PLAINTEXT",
                      key, v, item);
            return ERR_CONFIG;
        }
        *colon = '\0';
        char name[CONFIG_LISTENER_NAME_BYTES_MAX];
        if (config_copy_trim(name, sizeof name, item, strlen(item)) < 0) {
            config_error(cfg, "%s=%s listener name '%s' is too long; use at most %d characters", key,
                      v, item, CONFIG_LISTENER_NAME_BYTES_MAX - 1);
            return ERR_CONFIG;
        }
        upper(name);
        char proto[64];
        if (config_copy_trim(proto, sizeof proto, colon + 1, strlen(colon + 1)) < 0 ||
            sp_parse(proto, &sp) < 0) {
            config_error(cfg, "%s=%s protocol '%s' for %s is unknown; use one of " SP_VALID, key, v,
                      colon + 1, name);
            return ERR_CONFIG;
        }
        enum config_security_protocol old;
        if (sp_map_find(m, name, &old) == 0) {
            config_error(cfg, "%s=%s maps %s twice; keep one entry per listener name", key, v, name);
            return ERR_CONFIG;
        }
        if (m->count == sizeof m->names / sizeof m->names[0]) {
            config_error(cfg, "%s=%s has more than %zu entries; Samsa supports at most %zu", key, v,
                      sizeof m->names / sizeof m->names[0], sizeof m->names / sizeof m->names[0]);
            return ERR_CONFIG;
        }
        memcpy(m->names[m->count], name, sizeof name);
        m->sp[m->count++] = sp;
    }
    if (rc < 0) {
        config_error(cfg, "%s=%s has an entry that is too long; use NAME:PROTOCOL pairs", key, v);
        return ERR_CONFIG;
    }
    return 0;
}

/* Parse a listeners-style value into eps.  distinct_ports: listeners must
 * not share a port (advertised listeners may, as in Kafka). */
static int endpoints_parse(struct config *cfg, const char *key, const char *v, const struct sp_map *m,
                           struct config_endpoint *eps, size_t *count, int distinct_ports)
{
    char item[CONFIG_HOST_BYTES_MAX + CONFIG_LISTENER_NAME_BYTES_MAX + 16];
    size_t pos = 0;
    int rc;
    *count = 0;
    while ((rc = config_list_next(v, &pos, item, sizeof item)) > 0) {
        char why[256];
        struct config_endpoint ep;
        memset(&ep, 0, sizeof ep);
        char *sep = strstr(item, "://");
        if (!sep || sep == item) {
            config_error(cfg, "%s=%s entry '%s' is not NAME://host:port; write it like PLAINTEXT://:9092",
                      key, v, item);
            return ERR_CONFIG;
        }
        size_t nn = (size_t)(sep - item);
        if (nn >= sizeof ep.name) {
            config_error(cfg, "%s=%s listener name is longer than %zu characters; use a shorter name",
                      key, v, sizeof ep.name - 1);
            return ERR_CONFIG;
        }
        memcpy(ep.name, item, nn);
        ep.name[nn] = '\0';
        upper(ep.name);
        if (hostport_parse(sep + 3, ep.host, sizeof ep.host, &ep.port, why, sizeof why) < 0) {
            config_error(cfg, "%s=%s %s; use a port like 9092, e.g. %s://:9092", key, v, why, ep.name);
            return ERR_CONFIG;
        }
        if (sp_map_find(m, ep.name, &ep.security_protocol) < 0) {
            config_error(cfg, "%s=%s listener name %s is not in listener.security.protocol.map=%s; add "
                      "%s:PLAINTEXT (or its protocol) to listener.security.protocol.map",
                      key, v, ep.name, config_eff(cfg, "listener.security.protocol.map"), ep.name);
            return ERR_CONFIG;
        }
        for (size_t i = 0; i < *count; i++) {
            if (strcmp(eps[i].name, ep.name) == 0) {
                config_error(cfg, "%s=%s listener name %s appears twice; give each listener a unique name",
                          key, v, ep.name);
                return ERR_CONFIG;
            }
            if (distinct_ports && ep.port != 0 && eps[i].port == ep.port) {
                config_error(cfg, "%s=%s port %u is used by both %s and %s; give each listener its own port",
                          key, v, ep.port, eps[i].name, ep.name);
                return ERR_CONFIG;
            }
        }
        if (*count == CONFIG_LISTENERS_MAX) {
            config_error(cfg, "%s=%s has more than %d listeners; Samsa supports at most %d", key, v,
                      CONFIG_LISTENERS_MAX, CONFIG_LISTENERS_MAX);
            return ERR_CONFIG;
        }
        eps[(*count)++] = ep;
    }
    if (rc < 0) {
        config_error(cfg, "%s=%s has an entry that is too long; shorten the host name", key, v);
        return ERR_CONFIG;
    }
    return 0;
}

static int endpoint_find(const struct config_endpoint *eps, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(eps[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int voters_parse(struct config *cfg, const char *key, struct config_voter *out,
                        size_t *count, int with_id)
{
    const char *v = config_eff(cfg, key);
    char item[CONFIG_HOST_BYTES_MAX + 32];
    size_t pos = 0;
    int rc;
    *count = 0;
    const char *form = with_id ? "id@host:port" : "host:port";
    const char *example = with_id ? "1@localhost:9093" : "localhost:9093";
    while ((rc = config_list_next(v, &pos, item, sizeof item)) > 0) {
        struct config_voter vt;
        char why[256];
        memset(&vt, 0, sizeof vt);
        vt.id = -1;
        const char *hp = item;
        if (with_id) {
            char *at = strchr(item, '@');
            int64_t id;
            if (!at) {
                config_error(cfg, "%s=%s entry '%s' is not %s; write it like %s", key, v, item, form,
                          example);
                return ERR_CONFIG;
            }
            *at = '\0';
            if (config_parse_int64(item, &id) < 0 || id < 0 || id > INT32_MAX) {
                config_error(cfg, "%s=%s id '%s' is not a non-negative node id; write it like %s", key,
                          v, item, example);
                return ERR_CONFIG;
            }
            vt.id = (int32_t)id;
            hp = at + 1;
        }
        if (hostport_parse(hp, vt.host, sizeof vt.host, &vt.port, why, sizeof why) < 0) {
            config_error(cfg, "%s=%s entry '%s' %s; write it like %s", key, v, hp, why, example);
            return ERR_CONFIG;
        }
        if (vt.host[0] == '\0') {
            config_error(cfg, "%s=%s entry '%s' has an empty host; write it like %s", key, v, hp,
                      example);
            return ERR_CONFIG;
        }
        for (size_t i = 0; with_id && i < *count; i++)
            if (out[i].id == vt.id) {
                config_error(cfg, "%s=%s lists node %d twice; list each voter once", key, v, vt.id);
                return ERR_CONFIG;
            }
        if (*count == CONFIG_VOTERS_MAX) {
            config_error(cfg, "%s=%s has more than %d entries; Samsa supports at most %d", key, v,
                      CONFIG_VOTERS_MAX, CONFIG_VOTERS_MAX);
            return ERR_CONFIG;
        }
        out[(*count)++] = vt;
    }
    if (rc < 0) {
        config_error(cfg, "%s=%s has an entry that is too long; shorten the host name", key, v);
        return ERR_CONFIG;
    }
    return 0;
}


static int roles_parse(struct config *cfg)
{
    const char *key = "process.roles";
    const char *v = config_eff(cfg, key);
    char item[64];
    size_t pos = 0;
    int rc;
    unsigned roles = 0;
    while ((rc = config_list_next(v, &pos, item, sizeof item)) > 0) {
        unsigned bit = strcasecmp(item, "broker") == 0       ? CONFIG_ROLE_BROKER
                       : strcasecmp(item, "controller") == 0 ? CONFIG_ROLE_CONTROLLER
                                                            : 0;
        if (!bit || (roles & bit)) {
            config_error(cfg, "%s=%s is not valid; use broker, controller or broker,controller", key, v);
            return ERR_CONFIG;
        }
        roles |= bit;
    }
    if (rc < 0) {
        config_error(cfg, "%s=%s is not valid; use broker, controller or broker,controller", key, v);
        return ERR_CONFIG;
    }
    cfg->node.roles = roles;
    return 0;
}

static int node_id_derive(struct config *cfg)
{
    struct config_node *n = &cfg->node;
    int64_t nid = config_num(cfg, "node.id"), bid = config_num(cfg, "broker.id");
    if (config_is_set(cfg, "node.id") && config_is_set(cfg, "broker.id") && nid != bid) {
        config_error(cfg, "node.id=%" PRId64 " and broker.id=%" PRId64 " disagree; set only node.id "
                  "(broker.id is its old name)", nid, bid);
        return ERR_CONFIG;
    }
    n->node_id = (int32_t)(config_is_set(cfg, "node.id") ? nid : bid);
    if (n->roles && n->node_id < 0) {
        config_error(cfg, "node.id=%d is not set but process.roles=%s needs it; set node.id to a "
                  "non-negative id unique in the cluster, e.g. node.id=1",
                  n->node_id, config_eff(cfg, "process.roles"));
        return ERR_CONFIG;
    }
    return 0;
}

static int log_dirs_derive(struct config *cfg)
{
    struct config_node *n = &cfg->node;
    const char *key = config_eff(cfg, "log.dirs") ? "log.dirs" : "log.dir";
    const char *v = config_eff(cfg, key);
    size_t pos = 0;
    int rc;
    n->log_dir_count = 0;
    char item[CONFIG_PATH_BYTES_MAX];
    while ((rc = config_list_next(v, &pos, item, sizeof item)) > 0) {
        if (n->log_dir_count == CONFIG_LOG_DIRS_MAX) {
            config_error(cfg, "%s=%s has more than %d directories; Samsa supports at most %d", key, v,
                      CONFIG_LOG_DIRS_MAX, CONFIG_LOG_DIRS_MAX);
            return ERR_CONFIG;
        }
        memcpy(n->log_dirs[n->log_dir_count++], item, sizeof item);
    }
    if (rc < 0) {
        config_error(cfg, "%s=%s has a path longer than %d bytes; use a shorter path", key, v,
                  CONFIG_PATH_BYTES_MAX - 1);
        return ERR_CONFIG;
    }
    if (n->log_dir_count == 0) {
        config_error(cfg, "%s=%s names no directory; set log.dirs=/var/lib/samsa/data", key, v ? v : "");
        return ERR_CONFIG;
    }
    const char *md = config_eff(cfg, "metadata.log.dir");
    if (md) {
        if (config_copy_trim(n->metadata_log_dir, sizeof n->metadata_log_dir, md, strlen(md)) < 0 ||
            n->metadata_log_dir[0] == '\0') {
            config_error(cfg, "metadata.log.dir=%s is not a usable path; use a directory path or unset it",
                      md);
            return ERR_CONFIG;
        }
    } else {
        memcpy(n->metadata_log_dir, n->log_dirs[0], sizeof n->metadata_log_dir);
    }
    return 0;
}

static int listeners_derive(struct config *cfg)
{
    struct config_node *n = &cfg->node;
    struct sp_map m;
    if (sp_map_parse(cfg, &m) < 0)
        return ERR_CONFIG;

    /* controller.listener.names */
    const char *cln = config_eff(cfg, "controller.listener.names");
    char item[CONFIG_LISTENER_NAME_BYTES_MAX];
    size_t pos = 0;
    int rc;
    n->controller_listener_name_count = 0;
    while ((rc = config_list_next(cln, &pos, item, sizeof item)) > 0) {
        if (n->controller_listener_name_count == CONFIG_LISTENERS_MAX) {
            config_error(cfg, "controller.listener.names=%s has more than %d names; use fewer", cln,
                      CONFIG_LISTENERS_MAX);
            return ERR_CONFIG;
        }
        upper(item);
        memcpy(n->controller_listener_names[n->controller_listener_name_count++], item, sizeof item);
        /* Kafka: with the default map, controller listeners are PLAINTEXT. */
        enum config_security_protocol sp;
        if (!config_is_set(cfg, "listener.security.protocol.map") && sp_map_find(&m, item, &sp) < 0 &&
            m.count < sizeof m.names / sizeof m.names[0]) {
            memcpy(m.names[m.count], item, sizeof item);
            m.sp[m.count++] = CONFIG_SP_PLAINTEXT;
        }
    }
    if (rc < 0) {
        config_error(cfg, "controller.listener.names=%s has a name that is too long; use shorter names",
                  cln);
        return ERR_CONFIG;
    }

    const char *lv = config_eff(cfg, "listeners");
    if (endpoints_parse(cfg, "listeners", lv, &m, n->listeners, &n->listener_count, 1) < 0)
        return ERR_CONFIG;
    /* Until TLS and SASL exist, a listener mapped to SSL or SASL_* would be
     * served as plaintext: refuse it rather than silently downgrade. */
    for (size_t i = 0; i < n->listener_count; i++) {
        enum config_security_protocol sp = n->listeners[i].security_protocol;
        if (sp != CONFIG_SP_PLAINTEXT) {
            config_error(cfg, "listeners=%s listener %s uses security protocol %s "
                      "(listener.security.protocol.map), which is not supported yet: Samsa has no "
                      "TLS/SASL; remove %s from listeners, or map it to PLAINTEXT if plaintext is meant",
                      lv, n->listeners[i].name, config_security_protocol_name(sp),
                      n->listeners[i].name);
            return ERR_CONFIG;
        }
    }

    const char *adv_key = config_is_set(cfg, "advertised.listeners") ? "advertised.listeners" : "listeners";
    const char *av = config_eff(cfg, adv_key);
    struct config_endpoint adv[CONFIG_LISTENERS_MAX];
    size_t adv_count = 0;
    if (endpoints_parse(cfg, adv_key, av, &m, adv, &adv_count, 0) < 0)
        return ERR_CONFIG;
    n->advertised_count = 0;
    for (size_t i = 0; i < adv_count; i++) {
        if (strcmp(adv_key, "advertised.listeners") == 0 &&
            (strcmp(adv[i].host, "0.0.0.0") == 0 || strcmp(adv[i].host, "::") == 0)) {
            config_error(cfg, "advertised.listeners=%s host %s of %s is not routable; advertise a host "
                      "name or IP clients can reach, e.g. %s://localhost:%u",
                      av, adv[i].host, adv[i].name, adv[i].name, adv[i].port);
            return ERR_CONFIG;
        }
        if (endpoint_find(n->listeners, n->listener_count, adv[i].name) < 0) {
            config_error(cfg, "advertised.listeners=%s listener name %s is not in listeners=%s; add "
                      "%s://host:port to listeners or remove it here", av, adv[i].name, lv,
                      adv[i].name);
            return ERR_CONFIG;
        }
        int is_ctrl = 0;
        for (size_t j = 0; j < n->controller_listener_name_count; j++)
            if (strcmp(n->controller_listener_names[j], adv[i].name) == 0)
                is_ctrl = 1;
        if (is_ctrl && n->roles)
            continue;
        /* As in Kafka, listeners bound to 0.0.0.0 need advertised.listeners:
         * clients cannot connect to the meta-address. */
        if (strcmp(adv_key, "listeners") == 0 &&
            (strcmp(adv[i].host, "0.0.0.0") == 0 || strcmp(adv[i].host, "::") == 0)) {
            config_error(cfg, "listeners=%s binds %s to %s and advertised.listeners is not set, so "
                      "clients would be told to connect to %s; set advertised.listeners=%s://<host "
                      "clients can reach>:%u, e.g. %s://localhost:%u",
                      av, adv[i].name, adv[i].host, adv[i].host, adv[i].name, adv[i].port,
                      adv[i].name, adv[i].port);
            return ERR_CONFIG;
        }
        n->advertised[n->advertised_count++] = adv[i];
    }

    if (n->roles && n->controller_listener_name_count == 0) {
        config_error(cfg, "controller.listener.names is not set but process.roles=%s needs it; set "
                  "controller.listener.names=CONTROLLER and add CONTROLLER://:9093 to listeners%s",
                  config_eff(cfg, "process.roles"),
                  (n->roles & CONFIG_ROLE_CONTROLLER) ? "" : " of the controllers");
        return ERR_CONFIG;
    }
    for (size_t j = 0; j < n->controller_listener_name_count; j++) {
        const char *name = n->controller_listener_names[j];
        int in = endpoint_find(n->listeners, n->listener_count, name) >= 0;
        if ((n->roles & CONFIG_ROLE_CONTROLLER) && !in) {
            config_error(cfg, "controller.listener.names=%s names %s which is not in listeners=%s; add "
                      "%s://:9093 to listeners", cln, name, lv, name);
            return ERR_CONFIG;
        }
        if (n->roles == CONFIG_ROLE_BROKER && in) {
            config_error(cfg, "controller.listener.names=%s names %s which a broker-only node must not "
                      "listen on; remove %s from listeners=%s", cln, name, name, lv);
            return ERR_CONFIG;
        }
        enum config_security_protocol sp;
        if (sp_map_find(&m, name, &sp) < 0) {
            config_error(cfg, "controller.listener.names=%s names %s which is not in "
                      "listener.security.protocol.map=%s; add %s:PLAINTEXT to it",
                      cln, name, config_eff(cfg, "listener.security.protocol.map"), name);
            return ERR_CONFIG;
        }
        if (sp != CONFIG_SP_PLAINTEXT) { /* a broker-only node dials it: same refusal */
            config_error(cfg, "controller.listener.names=%s listener %s uses security protocol %s "
                      "(listener.security.protocol.map), which is not supported yet: Samsa has no "
                      "TLS/SASL; map %s to PLAINTEXT", cln, name,
                      config_security_protocol_name(sp), name);
            return ERR_CONFIG;
        }
    }

    if (n->roles == CONFIG_ROLE_CONTROLLER) {
        for (size_t i = 0; i < n->listener_count; i++) {
            int is_ctrl = 0;
            for (size_t j = 0; j < n->controller_listener_name_count; j++)
                is_ctrl |= strcmp(n->controller_listener_names[j], n->listeners[i].name) == 0;
            if (!is_ctrl) {
                config_error(cfg, "listeners=%s has %s which is not in controller.listener.names=%s but "
                          "process.roles=controller; remove %s from listeners or add the broker role",
                          lv, n->listeners[i].name, cln, n->listeners[i].name);
                return ERR_CONFIG;
            }
        }
        return 0; /* no inter-broker listener on a controller-only node */
    }

    /* inter.broker.listener.name, or the listener named after the protocol. */
    const char *ibl = config_eff(cfg, "inter.broker.listener.name");
    if (ibl && config_is_set(cfg, "security.inter.broker.protocol")) {
        config_error(cfg, "inter.broker.listener.name=%s and security.inter.broker.protocol=%s are both "
                  "set; set only inter.broker.listener.name", ibl,
                  config_eff(cfg, "security.inter.broker.protocol"));
        return ERR_CONFIG;
    }
    const char *ib_src = ibl ? ibl : config_eff(cfg, "security.inter.broker.protocol");
    if (config_copy_trim(n->inter_broker_listener_name, sizeof n->inter_broker_listener_name, ib_src,
                  strlen(ib_src)) < 0) {
        config_error(cfg, "inter.broker.listener.name=%s is too long; use a listener name", ib_src);
        return ERR_CONFIG;
    }
    upper(n->inter_broker_listener_name);
    if ((n->roles == 0 || (n->roles & CONFIG_ROLE_BROKER)) &&
        endpoint_find(n->advertised, n->advertised_count, n->inter_broker_listener_name) < 0) {
        char names[512];
        size_t o = 0;
        names[0] = '\0';
        for (size_t i = 0; i < n->advertised_count && o < sizeof names; i++) {
            int w = snprintf(names + o, sizeof names - o, "%s%s", i ? "," : "", n->advertised[i].name);
            o += w > 0 ? (size_t)w : 0;
        }
        if (ibl)
            config_error(cfg, "inter.broker.listener.name=%s is not a listener in %s=%s; use one of "
                      "%s or add %s://host:port to listeners", ibl, adv_key, av, names,
                      n->inter_broker_listener_name);
        else
            config_error(cfg, "inter.broker.listener.name is not set and security.inter.broker.protocol=%s "
                      "names no listener in %s=%s; set inter.broker.listener.name to one of %s",
                      ib_src, adv_key, av, names);
        return ERR_CONFIG;
    }
    return 0;
}

static int quorum_derive(struct config *cfg)
{
    struct config_node *n = &cfg->node;
    if (voters_parse(cfg, "controller.quorum.voters", n->voters, &n->voter_count, 1) < 0)
        return ERR_CONFIG;
    if (voters_parse(cfg, "controller.quorum.bootstrap.servers", n->bootstrap_servers,
                     &n->bootstrap_server_count, 0) < 0)
        return ERR_CONFIG;
    if (!n->roles)
        return 0;
    if (n->voter_count == 0 && n->bootstrap_server_count == 0) {
        config_error(cfg, "controller.quorum.voters is empty but process.roles=%s needs a quorum; set "
                  "controller.quorum.voters=%d@localhost:9093 (id@host:port of every controller)",
                  config_eff(cfg, "process.roles"), n->node_id < 0 ? 1 : n->node_id);
        return ERR_CONFIG;
    }
    if ((n->roles & CONFIG_ROLE_CONTROLLER) && n->voter_count > 0) {
        for (size_t i = 0; i < n->voter_count; i++)
            if (n->voters[i].id == n->node_id)
                return 0;
        config_error(cfg, "controller.quorum.voters=%s does not contain node.id=%d but process.roles=%s "
                  "includes controller; add %d@<host>:<port> to controller.quorum.voters or drop "
                  "controller from process.roles",
                  config_eff(cfg, "controller.quorum.voters"), n->node_id, config_eff(cfg, "process.roles"),
                  n->node_id);
        return ERR_CONFIG;
    }
    return 0;
}


void config_roles_derive(struct config *cfg)
{
    if (roles_parse(cfg) == 0) {
        if (node_id_derive(cfg) == 0 && listeners_derive(cfg) == 0)
            (void)quorum_derive(cfg);
    }
    (void)log_dirs_derive(cfg);
    if (cfg->node.roles == 0)
        config_warn(cfg, "process.roles is not set (Kafka's ZooKeeper mode); Samsa has no ZooKeeper, "
                 "set process.roles=broker,controller");
}
