/*
 * config.c - the generic typed settings store behind Kafka-compatible
 * configuration: loading (file, YAML, cp-kafka environment, overrides),
 * precedence by source rank, checking each value against its key's type,
 * range and allowed values, the dynamic layers (KIP-226) and their
 * synonyms, the DescribeConfigs rows of broker keys, and finalize, which
 * derives the typed struct config_node.
 *
 * Beside it: the broker key table (config_keys.c); the text syntaxes that
 * need no key knowledge (config_syntax.c); what every role needs to find
 * itself and its peers - process.roles, node.id, listeners, the controller
 * quorum, log dirs (config_roles.c).  Topic-config knowledge lives above
 * common/: the topic key table and its validation in
 * controller/ctrl_topic_config.c, topic defaults from the broker's config
 * in broker/brk_config.c.
 *
 * Invariants: see struct config in config_int.h.
 *
 * Not here: host name resolution, log dir checks.  Allocation happens only
 * while loading (boot code) and when a dynamic value is set (rare).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "buf.h"
#include "config_int.h"
#include "log.h"

/* ---- small helpers ------------------------------------------------------ */

/* Append one line to a NUL-terminated text buf.  When the buf is full the
 * line is dropped and the earlier lines stay intact. */
static void msgs_add(struct buf *b, const char *line)
{
    size_t n = strlen(line);
    size_t old = b->len > 0 ? b->len - 1 : 0; /* without the NUL */
    if (n > SIZE_MAX - 2 || buf_reserve(b, (old + n + 2) - b->len) < 0)
        return;
    memcpy(b->ptr + old, line, n);
    b->ptr[old + n] = '\n';
    b->ptr[old + n + 1] = '\0';
    b->len = old + n + 2;
}

__attribute__((format(printf, 2, 3)))
void config_error(struct config *cfg, const char *fmt, ...)
{
    char line[1024];
    int n = snprintf(line, sizeof line, "config error: ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    msgs_add(&cfg->errors, line);
}

__attribute__((format(printf, 2, 3)))
void config_warn(struct config *cfg, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    msgs_add(&cfg->warnings, line);
    log_warn("config", "%s", line);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static int key_index(const struct config_key *table, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(table[i].name, name) == 0)
            return (int)i;
    return -1;
}

static int broker_index(const char *name)
{
    int i = key_index(config_keys_broker, CONFIG_KEYS_BROKER_COUNT, name);
    ASSERT(i >= 0); /* callers name keys from the table */
    return i;
}

/* The effective string of key i: a dynamic value, the set value or the
 * default (may be NULL). */
static const char *eff_at(const struct config *cfg, int i)
{
    if (cfg->dyn[1][i])
        return cfg->dyn[1][i];
    if (cfg->dyn[0][i])
        return cfg->dyn[0][i];
    return cfg->values[i] ? cfg->values[i] : config_keys_broker[i].default_value;
}

const char *config_eff(const struct config *cfg, const char *name) { return eff_at(cfg, broker_index(name)); }

int config_is_set(const struct config *cfg, const char *name)
{
    return cfg->values[broker_index(name)] != NULL;
}

/* Copy s[0..n) trimmed into out; ERR_LIMIT if it does not fit. */
int config_copy_trim(char *out, size_t out_size, const char *s, size_t n)
{
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= out_size)
        return ERR_LIMIT;
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/*
 * Iterate a comma list: *pos is the cursor.  Writes the next non-empty,
 * trimmed entry into item.  Returns 1 with an item, 0 at the end, ERR_LIMIT
 * when an entry does not fit.
 */
int config_list_next(const char *list, size_t *pos, char *item, size_t item_size)
{
    if (!list)
        return 0;
    while (list[*pos] != '\0') {
        const char *start = list + *pos;
        const char *comma = strchr(start, ',');
        size_t n = comma ? (size_t)(comma - start) : strlen(start);
        *pos += n + (comma ? 1 : 0);
        int rc = config_copy_trim(item, item_size, start, n);
        if (rc < 0)
            return rc;
        if (item[0] != '\0')
            return 1;
    }
    return 0;
}

int config_parse_int64(const char *s, int64_t *out)
{
    char tmp[64];
    if (!s || config_copy_trim(tmp, sizeof tmp, s, strlen(s)) < 0 || tmp[0] == '\0')
        return ERR_CONFIG;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(tmp, &end, 10);
    if (errno != 0 || *end != '\0')
        return ERR_CONFIG;
    *out = (int64_t)v;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    char tmp[16];
    if (!s || config_copy_trim(tmp, sizeof tmp, s, strlen(s)) < 0)
        return ERR_CONFIG;
    if (strcasecmp(tmp, "true") == 0)
        *out = 1;
    else if (strcasecmp(tmp, "false") == 0)
        *out = 0;
    else
        return ERR_CONFIG;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char tmp[64];
    if (!s || config_copy_trim(tmp, sizeof tmp, s, strlen(s)) < 0 || tmp[0] == '\0')
        return ERR_CONFIG;
    errno = 0;
    char *end = NULL;
    double v = strtod(tmp, &end);
    if (errno != 0 || *end != '\0')
        return ERR_CONFIG;
    *out = v;
    return 0;
}

static int valid_has(const char *valid, const char *item)
{
    char v[64];
    size_t pos = 0;
    while (config_list_next(valid, &pos, v, sizeof v) > 0)
        if (strcasecmp(v, item) == 0)
            return 1;
    return 0;
}

/*
 * Check one value against its key's type, range and allowed values.  On
 * failure writes "<problem>; <fix>" into why and returns ERR_CONFIG.  A null
 * value is always acceptable (the key is simply unset).
 */
int config_value_check(const struct config_key *k, const char *value, char *why, size_t why_size)
{
    if (!value)
        return 0;
    int64_t v = 0;
    double d = 0;
    int b = 0;
    switch (k->type) {
    case CONFIG_INT:
    case CONFIG_LONG:
        if (config_parse_int64(value, &v) < 0 ||
            (k->type == CONFIG_INT && (v < INT32_MIN || v > INT32_MAX))) {
            snprintf(why, why_size, "is not a valid %s; use a whole number%s",
                     k->type == CONFIG_INT ? "32-bit integer" : "64-bit integer",
                     k->default_value ? " like the default " : "");
            if (k->default_value) {
                size_t n = strlen(why);
                snprintf(why + n, why_size - n, "%s", k->default_value);
            }
            return ERR_CONFIG;
        }
        if (k->has_range && (v < k->min || v > k->max)) {
            snprintf(why, why_size, "is out of range; use a value from %" PRId64 " to %" PRId64,
                     k->min, k->max);
            return ERR_CONFIG;
        }
        return 0;
    case CONFIG_DOUBLE:
        if (parse_double(value, &d) < 0) {
            snprintf(why, why_size, "is not a valid number; use a decimal like %s",
                     k->default_value ? k->default_value : "0.5");
            return ERR_CONFIG;
        }
        if (k->has_range && (d < (double)k->min || d > (double)k->max)) {
            snprintf(why, why_size, "is out of range; use a value from %" PRId64 " to %" PRId64,
                     k->min, k->max);
            return ERR_CONFIG;
        }
        return 0;
    case CONFIG_BOOL:
        if (parse_bool(value, &b) < 0) {
            snprintf(why, why_size, "is not a boolean; use true or false");
            return ERR_CONFIG;
        }
        return 0;
    case CONFIG_LIST:
    case CONFIG_STRING: {
        if (!k->valid_values)
            return 0;
        char item[128];
        size_t pos = 0;
        int rc;
        while ((rc = config_list_next(k->type == CONFIG_LIST ? value : NULL, &pos, item, sizeof item)) > 0) {
            if (!valid_has(k->valid_values, item)) {
                snprintf(why, why_size, "has '%s' which is not allowed; use %s%s", item,
                         k->type == CONFIG_LIST ? "a comma list of " : "one of ", k->valid_values);
                return ERR_CONFIG;
            }
        }
        if (rc < 0) {
            snprintf(why, why_size, "has an entry that is too long; use %s", k->valid_values);
            return ERR_CONFIG;
        }
        if (k->type == CONFIG_STRING) {
            if (config_copy_trim(item, sizeof item, value, strlen(value)) < 0 ||
                !valid_has(k->valid_values, item)) {
                snprintf(why, why_size, "is not allowed; use one of %s", k->valid_values);
                return ERR_CONFIG;
            }
        }
        return 0;
    }
    case CONFIG_CLASS:
    case CONFIG_PASSWORD:
        return 0;
    }
    return 0;
}

/* ---- create / set ------------------------------------------------------- */

int config_create(struct config **out)
{
    struct config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return -ENOMEM;
    buf_init(&cfg->errors, CONFIG_MESSAGES_BYTES_MAX);
    buf_init(&cfg->warnings, CONFIG_MESSAGES_BYTES_MAX);
    cfg->node.node_id = -1;
    *out = cfg;
    return 0;
}

void config_destroy(struct config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < CONFIG_KEYS_BROKER_COUNT; i++) {
        free(cfg->values[i]);
        free(cfg->origins[i]);
    }
    config_dynamic_clear(cfg);
    buf_deinit(&cfg->errors);
    buf_deinit(&cfg->warnings);
    free(cfg);
}

const char *config_source_name(enum config_source source)
{
    switch (source) {
    case CONFIG_SOURCE_DEFAULT: return "default";
    case CONFIG_SOURCE_FILE: return "file";
    case CONFIG_SOURCE_ENV: return "env";
    case CONFIG_SOURCE_OVERRIDE: return "override";
    case CONFIG_SOURCE_TOPIC: return "topic";
    case CONFIG_SOURCE_DYNAMIC_DEFAULT: return "dynamic-default";
    case CONFIG_SOURCE_DYNAMIC_BROKER: return "dynamic-broker";
    }
    return "unknown";
}

const char *config_type_name(enum config_type type)
{
    switch (type) {
    case CONFIG_INT: return "int";
    case CONFIG_LONG: return "long";
    case CONFIG_DOUBLE: return "double";
    case CONFIG_BOOL: return "boolean";
    case CONFIG_STRING: return "string";
    case CONFIG_LIST: return "list";
    case CONFIG_CLASS: return "class";
    case CONFIG_PASSWORD: return "password";
    }
    return "unknown";
}

const char *config_security_protocol_name(enum config_security_protocol sp)
{
    switch (sp) {
    case CONFIG_SP_PLAINTEXT: return "PLAINTEXT";
    case CONFIG_SP_SSL: return "SSL";
    case CONFIG_SP_SASL_PLAINTEXT: return "SASL_PLAINTEXT";
    case CONFIG_SP_SASL_SSL: return "SASL_SSL";
    }
    return "UNKNOWN";
}

static char *str_dup(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

int config_set(struct config *cfg, const char *key, const char *value,
               enum config_source source, const char *origin)
{
    ASSERT(cfg && key && value);
    ASSERT(!cfg->finalized);
    ASSERT(source != CONFIG_SOURCE_TOPIC);
    const char *where = origin ? origin : config_source_name(source);
    int i = key_index(config_keys_broker, CONFIG_KEYS_BROKER_COUNT, key);
    if (i < 0) {
        config_warn(cfg, "unknown config key=%s ignored source=%s", key, where);
        return 0;
    }
    if (cfg->values[i] && cfg->ranks[i] > source)
        return 0;
    /* Kafka trims every value before parsing it (ConfigDef.parseType). */
    size_t n = strlen(value);
    while (n > 0 && isspace((unsigned char)*value)) {
        value++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)value[n - 1]))
        n--;
    if (n >= CONFIG_VALUE_BYTES_MAX || strlen(where) >= CONFIG_ORIGIN_BYTES_MAX) {
        config_error(cfg, "%s value from %s is longer than %d bytes; shorten it", key, where,
                  CONFIG_VALUE_BYTES_MAX - 1);
        return ERR_LIMIT;
    }
    char *v = malloc(n + 1);
    if (v) {
        memcpy(v, value, n);
        v[n] = '\0';
    }
    char *o = str_dup(where);
    if (!v || !o) {
        free(v);
        free(o);
        return -ENOMEM;
    }
    free(cfg->values[i]);
    free(cfg->origins[i]);
    cfg->values[i] = v;
    cfg->origins[i] = o;
    cfg->ranks[i] = source;
    return 0;
}

int config_override(struct config *cfg, const char *key_value)
{
    const char *eq = strchr(key_value, '=');
    if (!eq || eq == key_value) {
        config_error(cfg, "--override %s is not key=value; write it like --override log.dirs=/data",
                  key_value);
        return ERR_CONFIG;
    }
    char key[256];
    if (config_copy_trim(key, sizeof key, key_value, (size_t)(eq - key_value)) < 0) {
        config_error(cfg, "--override key in %s is too long; use a known config key", key_value);
        return ERR_CONFIG;
    }
    return config_set(cfg, key, eq + 1, CONFIG_SOURCE_OVERRIDE, "override");
}


struct load_ctx {
    struct config *cfg;
    const char *origin;
    enum config_source source;
};

static int load_kv_cb(void *arg, const char *key, const char *value)
{
    struct load_ctx *lc = arg;
    return config_set(lc->cfg, key, value, lc->source, lc->origin);
}

int config_load_properties(struct config *cfg, const char *text, size_t len, const char *origin)
{
    struct load_ctx lc = { cfg, origin, CONFIG_SOURCE_FILE };
    int rc = config_properties_parse(text, len, &lc, load_kv_cb);
    if (rc == ERR_DECODE)
        config_error(cfg, "%s has a malformed \\uXXXX escape; write exactly four hex digits after \\u",
                  origin ? origin : "file");
    else if (rc == ERR_LIMIT)
        config_error(cfg, "%s has a line longer than %d bytes; shorten it", origin ? origin : "file",
                  CONFIG_VALUE_BYTES_MAX - 1);
    return rc == ERR_DECODE ? ERR_CONFIG : rc;
}

/* ---- YAML --------------------------------------------------------------- */

enum yaml_frame_kind { YF_MAP, YF_SEQ };

struct yaml_frame {
    enum yaml_frame_kind kind;
    size_t prefix_len; /* path length of this mapping's own name */
    int expect_key;
};

static int path_push(char *path, size_t path_size, size_t *path_len, size_t prefix_len,
                     const char *name)
{
    size_t n = strlen(name);
    size_t need = prefix_len + (prefix_len ? 1 : 0) + n;
    if (need >= path_size)
        return ERR_LIMIT;
    if (prefix_len)
        path[prefix_len] = '.';
    memcpy(path + prefix_len + (prefix_len ? 1 : 0), name, n);
    path[need] = '\0';
    *path_len = need;
    return 0;
}

int config_load_yaml(struct config *cfg, const char *text, size_t len, const char *origin)
{
    const char *where = origin ? origin : "yaml";
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return -ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

    struct yaml_frame frames[CONFIG_YAML_DEPTH_MAX];
    size_t depth = 0;
    char path[1024];
    size_t path_len = 0;
    path[0] = '\0';
    struct buf seq;
    buf_init(&seq, CONFIG_VALUE_BYTES_MAX);
    int rc = 0, done = 0, documents = 0;
    const char *problem = NULL;
    yaml_event_t ev;

    while (!done && rc == 0) {
        if (!yaml_parser_parse(&parser, &ev)) {
            config_error(cfg, "%s:%zu:%zu: %s; fix the YAML syntax", where,
                      parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                      parser.problem ? parser.problem : "parse error");
            rc = ERR_CONFIG;
            break;
        }
        size_t line_no = ev.start_mark.line + 1;
        struct yaml_frame *top = depth ? &frames[depth - 1] : NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1)
                problem = "has more than one YAML document; keep one document per file";
            break;
        case YAML_ALIAS_EVENT:
            problem = "uses a YAML alias; write the value out";
            break;
        case YAML_SCALAR_EVENT: {
            const char *s = (const char *)ev.data.scalar.value;
            if (!top) {
                problem = "is a bare scalar; the file must be a mapping of key: value";
            } else if (top->kind == YF_SEQ) {
                if (seq.len > 0)
                    rc = buf_append(&seq, ",", 1);
                if (rc == 0)
                    rc = buf_append(&seq, s, ev.data.scalar.length);
            } else if (top->expect_key) {
                rc = path_push(path, sizeof path, &path_len, top->prefix_len, s);
                top->expect_key = 0;
            } else {
                /* A YAML null (`key:`, `~`, `null`) leaves the key unset. */
                int is_null = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                              (s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
                               strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0);
                if (!is_null)
                    rc = config_set(cfg, path, s, CONFIG_SOURCE_FILE, where);
                path_len = top->prefix_len;
                path[path_len] = '\0';
                top->expect_key = 1;
            }
            break;
        }
        case YAML_MAPPING_START_EVENT:
            if (depth == CONFIG_YAML_DEPTH_MAX) {
                problem = "nests mappings too deeply; flatten keys with dots";
            } else if (!top) {
                frames[depth++] = (struct yaml_frame){ YF_MAP, 0, 1 };
            } else if (top->kind == YF_SEQ) {
                problem = "has a mapping inside a list; lists may hold only scalars";
            } else if (top->expect_key) {
                problem = "has a mapping used as a key; keys must be scalars";
            } else {
                frames[depth++] = (struct yaml_frame){ YF_MAP, path_len, 1 };
            }
            break;
        case YAML_SEQUENCE_START_EVENT:
            if (!top || top->kind != YF_MAP || top->expect_key || depth == CONFIG_YAML_DEPTH_MAX) {
                problem = "has a list where a key: value is expected; lists may only be values";
            } else {
                buf_reset(&seq);
                frames[depth++] = (struct yaml_frame){ YF_SEQ, path_len, 0 };
            }
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (ev.type == YAML_SEQUENCE_END_EVENT) {
                rc = buf_append(&seq, "", 1);
                if (rc == 0)
                    rc = config_set(cfg, path, (const char *)seq.ptr, CONFIG_SOURCE_FILE, where);
                buf_reset(&seq);
            }
            ASSERT(depth > 0); /* libyaml balances start/end events */
            depth--;
            if (depth > 0) {
                struct yaml_frame *parent = &frames[depth - 1];
                path_len = parent->prefix_len;
                path[path_len] = '\0';
                parent->expect_key = 1;
            }
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (problem && rc == 0) {
            config_error(cfg, "%s:%zu: %s", where, line_no, problem);
            rc = ERR_CONFIG;
        }
    }
    if (rc == ERR_LIMIT)
        config_error(cfg, "%s: a key or value is too long; shorten it", where);
    buf_deinit(&seq);
    yaml_parser_delete(&parser);
    return rc;
}

/* ---- files and environment --------------------------------------------- */

int config_load_file(struct config *cfg, const char *path)
{
    char origin[CONFIG_ORIGIN_BYTES_MAX];
    snprintf(origin, sizeof origin, "file:%s", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        config_error(cfg, "cannot read config file %s: %s; check the path", path, strerror(err));
        return -err;
    }
    struct buf text;
    buf_init(&text, CONFIG_FILE_BYTES_MAX);
    int rc = 0;
    for (;;) {
        rc = buf_reserve(&text, 65536);
        if (rc < 0)
            break;
        ssize_t n = read(fd, text.ptr + text.len, text.cap - text.len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        text.len += (size_t)n;
    }
    close(fd);
    if (rc == ERR_LIMIT)
        config_error(cfg, "config file %s is larger than %u bytes; it is not a config file?", path,
                  CONFIG_FILE_BYTES_MAX);
    else if (rc < 0)
        config_error(cfg, "cannot read config file %s: %s; check the path", path, strerror(-rc));
    if (rc == 0) {
        const char *t = text.ptr ? (const char *)text.ptr : "";
        if (ends_with(path, ".yaml") || ends_with(path, ".yml"))
            rc = config_load_yaml(cfg, t, text.len, origin);
        else
            rc = config_load_properties(cfg, t, text.len, origin);
    }
    buf_deinit(&text);
    return rc;
}


int config_load_env(struct config *cfg, char *const *envp)
{
    for (size_t i = 0; envp && envp[i]; i++) {
        const char *e = envp[i];
        const char *eq = strchr(e, '=');
        if (!eq)
            continue;
        char var[256], key[256], origin[CONFIG_ORIGIN_BYTES_MAX];
        size_t n = (size_t)(eq - e);
        if (n >= sizeof var)
            continue; /* no config variable is this long */
        memcpy(var, e, n);
        var[n] = '\0';
        if (strcmp(var, "CLUSTER_ID") == 0) {
            if (strlen(eq + 1) >= CONFIG_CLUSTER_ID_BYTES_MAX) {
                config_error(cfg, "CLUSTER_ID=%s is too long; use `samsa storage random-uuid`", eq + 1);
                return ERR_CONFIG;
            }
            int rc = config_copy_trim(cfg->node.cluster_id, sizeof cfg->node.cluster_id, eq + 1,
                               strlen(eq + 1));
            ASSERT(rc == 0); /* length checked above */
            snprintf(cfg->cluster_id_origin, sizeof cfg->cluster_id_origin, "env:CLUSTER_ID");
            continue;
        }
        if (config_env_to_key(var, key, sizeof key) < 0)
            continue;
        snprintf(origin, sizeof origin, "env:%s", var);
        int rc = config_set(cfg, key, eq + 1, CONFIG_SOURCE_ENV, origin);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- finalize ----------------------------------------------------------- */

int64_t config_num(const struct config *cfg, const char *name)
{
    int64_t v = 0;
    const char *s = config_eff(cfg, name);
    if (s && config_parse_int64(s, &v) < 0)
        v = 0; /* finalize checked types first; unreachable with valid input */
    return v;
}

static int boolean(const struct config *cfg, const char *name)
{
    int b = 0;
    const char *s = config_eff(cfg, name);
    if (s && parse_bool(s, &b) < 0)
        b = 0;
    return b;
}

static int64_t mul_sat(int64_t a, int64_t b)
{
    if (a < 0)
        return -1; /* Kafka: a negative retention means unlimited */
    if (a != 0 && b > INT64_MAX / a)
        return INT64_MAX;
    return a * b;
}

static void derive_numbers(struct config *cfg)
{
    struct config_node *n = &cfg->node;
    n->num_network_threads = config_num(cfg, "num.network.threads");
    n->num_io_threads = config_num(cfg, "num.io.threads");
    n->message_max_bytes = config_num(cfg, "message.max.bytes");
    n->socket_request_max_bytes = config_num(cfg, "socket.request.max.bytes");
    n->fetch_max_bytes = config_num(cfg, "fetch.max.bytes");
    n->fetch_response_target_bytes = config_num(cfg, "samsa.fetch.response.target.bytes");
    n->connections_max_idle_ms = config_num(cfg, "connections.max.idle.ms");
    n->socket_send_buffer_bytes = config_num(cfg, "socket.send.buffer.bytes");
    n->socket_receive_buffer_bytes = config_num(cfg, "socket.receive.buffer.bytes");

    if (config_eff(cfg, "log.retention.ms"))
        n->retention_ms = config_num(cfg, "log.retention.ms");
    else if (config_eff(cfg, "log.retention.minutes"))
        n->retention_ms = mul_sat(config_num(cfg, "log.retention.minutes"), 60000);
    else
        n->retention_ms = mul_sat(config_num(cfg, "log.retention.hours"), 3600000);
    if (n->retention_ms < 0)
        n->retention_ms = -1;
    n->retention_bytes = config_num(cfg, "log.retention.bytes");
    n->segment_bytes = config_num(cfg, "log.segment.bytes");
    n->roll_ms = config_eff(cfg, "log.roll.ms") ? config_num(cfg, "log.roll.ms")
                                                : mul_sat(config_num(cfg, "log.roll.hours"), 3600000);
    n->roll_jitter_ms = config_eff(cfg, "log.roll.jitter.ms")
                            ? config_num(cfg, "log.roll.jitter.ms")
                            : mul_sat(config_num(cfg, "log.roll.jitter.hours"), 3600000);
    n->retention_check_interval_ms = config_num(cfg, "log.retention.check.interval.ms");
    n->index_interval_bytes = config_num(cfg, "log.index.interval.bytes");
    n->index_size_max_bytes = config_num(cfg, "log.index.size.max.bytes");
    n->flush_interval_messages = config_num(cfg, "log.flush.interval.messages");
    n->flush_scheduler_interval_ms = config_num(cfg, "log.flush.scheduler.interval.ms");
    n->flush_interval_ms = config_eff(cfg, "log.flush.interval.ms") ? config_num(cfg, "log.flush.interval.ms")
                                                             : n->flush_scheduler_interval_ms;
    n->log_cleaner_enable = boolean(cfg, "log.cleaner.enable");

    n->num_partitions = config_num(cfg, "num.partitions");
    n->default_replication_factor = config_num(cfg, "default.replication.factor");
    n->min_insync_replicas = config_num(cfg, "min.insync.replicas");
    n->offsets_topic_replication_factor = config_num(cfg, "offsets.topic.replication.factor");
    n->offsets_topic_num_partitions = config_num(cfg, "offsets.topic.num.partitions");
    n->transaction_state_log_replication_factor = config_num(cfg, "transaction.state.log.replication.factor");
    n->transaction_state_log_min_isr = config_num(cfg, "transaction.state.log.min.isr");
    n->replica_lag_time_max_ms = config_num(cfg, "replica.lag.time.max.ms");
    n->replica_hw_checkpoint_interval_ms = config_num(cfg, "replica.high.watermark.checkpoint.interval.ms");
    n->num_replica_fetchers = config_num(cfg, "num.replica.fetchers");
    n->replica_fetch_max_bytes = config_num(cfg, "replica.fetch.max.bytes");
    n->replica_fetch_response_max_bytes = config_num(cfg, "replica.fetch.response.max.bytes");
    n->replica_fetch_min_bytes = config_num(cfg, "replica.fetch.min.bytes");
    n->replica_fetch_wait_max_ms = config_num(cfg, "replica.fetch.wait.max.ms");
    n->replica_fetch_backoff_ms = config_num(cfg, "replica.fetch.backoff.ms");
    n->fetch_session_cache_slots = config_num(cfg, "max.incremental.fetch.session.cache.slots");
    n->auto_create_topics_enable = boolean(cfg, "auto.create.topics.enable");
    n->delete_topic_enable = boolean(cfg, "delete.topic.enable");
    n->unclean_leader_election_enable = boolean(cfg, "unclean.leader.election.enable");
    n->eligible_leader_replicas_enable = boolean(cfg, "eligible.leader.replicas.enable");
    n->auto_leader_rebalance_enable = boolean(cfg, "auto.leader.rebalance.enable");
    n->leader_imbalance_check_interval_ms = mul_sat(config_num(cfg, "leader.imbalance.check.interval.seconds"), 1000);
    n->leader_imbalance_per_broker_percentage = config_num(cfg, "leader.imbalance.per.broker.percentage");
    n->controlled_shutdown_enable = boolean(cfg, "controlled.shutdown.enable");
    n->controlled_shutdown_max_retries = config_num(cfg, "controlled.shutdown.max.retries");
    n->controlled_shutdown_retry_backoff_ms = config_num(cfg, "controlled.shutdown.retry.backoff.ms");
    n->group_initial_rebalance_delay_ms = config_num(cfg, "group.initial.rebalance.delay.ms");
    n->offsets_retention_ms = mul_sat(config_num(cfg, "offsets.retention.minutes"), 60000);
    n->offsets_retention_check_interval_ms = config_num(cfg, "offsets.retention.check.interval.ms");
    n->producer_id_expiration_ms = config_num(cfg, "producer.id.expiration.ms");

    n->broker_heartbeat_interval_ms = config_num(cfg, "broker.heartbeat.interval.ms");
    n->broker_session_timeout_ms = config_num(cfg, "broker.session.timeout.ms");
    n->controller_quorum_election_timeout_ms = config_num(cfg, "controller.quorum.election.timeout.ms");
    n->metadata_snapshot_bytes = config_num(cfg, "metadata.log.max.record.bytes.between.snapshots");
    n->controller_quorum_fetch_timeout_ms = config_num(cfg, "controller.quorum.fetch.timeout.ms");
    n->controller_quorum_request_timeout_ms = config_num(cfg, "controller.quorum.request.timeout.ms");
    n->controller_quorum_election_backoff_max_ms = config_num(cfg, "controller.quorum.election.backoff.max.ms");

    int level = log_level_parse(config_eff(cfg, "samsa.log.level"));
    n->log_level = level < 0 ? LOG_INFO : level;
    n->io_uring = boolean(cfg, "samsa.io.uring");
    n->log_direct_io = boolean(cfg, "samsa.log.direct.io");
    n->acks_all_fsync = boolean(cfg, "samsa.acks.all.fsync");
    n->log_tail_buffer_bytes = config_num(cfg, "samsa.log.tail.buffer.bytes");
    n->log_tail_buffers_max_bytes = config_num(cfg, "samsa.log.tail.buffers.max.bytes");

    /* Strings checked against their valid values already; trimmed copies. */
    if (config_copy_trim(n->cleanup_policy, sizeof n->cleanup_policy, config_eff(cfg, "log.cleanup.policy"),
                  strlen(config_eff(cfg, "log.cleanup.policy"))) < 0)
        config_error(cfg, "log.cleanup.policy=%s is too long; use delete, compact or compact,delete",
                  config_eff(cfg, "log.cleanup.policy"));
    const char *ts = config_eff(cfg, "log.message.timestamp.type");
    if (config_copy_trim(n->message_timestamp_type, sizeof n->message_timestamp_type, ts, strlen(ts)) < 0)
        n->message_timestamp_type[0] = '\0'; /* unreachable: valid values are short */
    const char *ct = config_eff(cfg, "compression.type");
    if (config_copy_trim(n->compression_type, sizeof n->compression_type, ct, strlen(ct)) < 0)
        n->compression_type[0] = '\0'; /* unreachable: valid values are short */
}

int config_finalize(struct config *cfg)
{
    ASSERT(!cfg->finalized);
    /* Phase 1: every value against its type, so later phases can trust them. */
    int bad = 0;
    for (size_t i = 0; i < CONFIG_KEYS_BROKER_COUNT; i++) {
        char why[256];
        const struct config_key *k = &config_keys_broker[i];
        const char *v = cfg->values[i] ? cfg->values[i] : k->default_value;
        if (config_value_check(k, v, why, sizeof why) < 0) {
            config_error(cfg, "%s=%s %s", k->name,
                      (k->flags & CONFIG_F_SENSITIVE) ? "[hidden]" : v, why);
            bad = 1;
        }
    }
    if (config_is_set(cfg, "log.message.format.version"))
        config_warn(cfg, "log.message.format.version=%s is deprecated and ignored (as in Kafka 3.x: record batches "
                 "are always written in format v2); remove it", config_eff(cfg, "log.message.format.version"));
    if (config_eff(cfg, "zookeeper.connect"))
        config_warn(cfg, "zookeeper.connect=%s is unused: Samsa runs in KRaft mode; remove it and set "
                 "process.roles, node.id and controller.quorum.voters", config_eff(cfg, "zookeeper.connect"));
    if (bad)
        return ERR_CONFIG;

    /* Phase 2: structure.  Each step reports its own first problem. */
    derive_numbers(cfg);
    config_roles_derive(cfg);

    if (cfg->errors.len > 0)
        return ERR_CONFIG;
    cfg->finalized = 1;
    return 0;
}

int config_load_all(struct config *cfg, const char *path, char *const *envp,
                    char *const *overrides, size_t override_count)
{
    int rc = path ? config_load_file(cfg, path) : 0;
    if (rc == 0)
        rc = config_load_env(cfg, envp);
    for (size_t i = 0; rc == 0 && i < override_count; i++)
        rc = config_override(cfg, overrides[i]);
    if (rc == 0)
        rc = config_finalize(cfg);
    return rc;
}

const char *config_errors(const struct config *cfg)
{
    return cfg->errors.len ? (const char *)cfg->errors.ptr : "";
}

const char *config_warnings(const struct config *cfg)
{
    return cfg->warnings.len ? (const char *)cfg->warnings.ptr : "";
}

const struct config_node *config_node_get(const struct config *cfg)
{
    ASSERT(cfg->finalized);
    return &cfg->node;
}

const char *config_value_find(const struct config *cfg, const char *key)
{
    int i = key_index(config_keys_broker, CONFIG_KEYS_BROKER_COUNT, key);
    if (i < 0)
        return NULL;
    return eff_at(cfg, i);
}

/* ---- entries, print ----------------------------------------------------- */

size_t config_broker_key_count(void) { return CONFIG_KEYS_BROKER_COUNT; }

const struct config_key *config_broker_key_at(size_t index)
{
    ASSERT(index < CONFIG_KEYS_BROKER_COUNT);
    return &config_keys_broker[index];
}

const struct config_key *config_broker_key_find(const char *name)
{
    int i = key_index(config_keys_broker, CONFIG_KEYS_BROKER_COUNT, name);
    return i < 0 ? NULL : &config_keys_broker[i];
}

/* How DescribeConfigs rows name a dynamic layer as an origin. */
static const char *dynamic_origin(enum config_source layer)
{
    return layer == CONFIG_SOURCE_DYNAMIC_BROKER ? "dynamic broker config" : "dynamic default broker config";
}

void config_broker_entry_get(const struct config *cfg, size_t index, struct config_entry *e)
{
    ASSERT(index < CONFIG_KEYS_BROKER_COUNT);
    const struct config_key *k = &config_keys_broker[index];
    e->key = k;
    e->is_sensitive = (k->flags & CONFIG_F_SENSITIVE) != 0;
    if (cfg->dyn[1][index] || cfg->dyn[0][index]) {
        bool own = cfg->dyn[1][index] != NULL;
        e->is_default = 0;
        e->source = own ? CONFIG_SOURCE_DYNAMIC_BROKER : CONFIG_SOURCE_DYNAMIC_DEFAULT;
        e->origin = dynamic_origin(own ? CONFIG_SOURCE_DYNAMIC_BROKER : CONFIG_SOURCE_DYNAMIC_DEFAULT);
        e->value = e->is_sensitive ? NULL : cfg->dyn[own][index];
    } else {
        e->is_default = cfg->values[index] == NULL;
        e->source = e->is_default ? CONFIG_SOURCE_DEFAULT : cfg->ranks[index];
        e->origin = e->is_default ? "default" : cfg->origins[index];
        e->value = e->is_sensitive ? NULL : (e->is_default ? k->default_value : cfg->values[index]);
    }
    e->read_only = !config_key_is_dynamic(k->name);
}

void config_print(const struct config *cfg, FILE *out)
{
    fprintf(out, "# Samsa effective configuration: key=value  # source\n");
    for (size_t i = 0; i < CONFIG_KEYS_BROKER_COUNT; i++) {
        struct config_entry e;
        config_broker_entry_get(cfg, i, &e);
        const char *v = e.is_sensitive ? (e.is_default && !e.key->default_value ? "" : "[hidden]")
                                       : (e.value ? e.value : "");
        fprintf(out, "%s=%s  # %s%s\n", e.key->name, v, e.origin,
                (!e.is_default || e.value) ? "" : " (null)");
    }
    if (cfg->node.cluster_id[0])
        fprintf(out, "# cluster.id=%s  # %s\n", cfg->node.cluster_id, cfg->cluster_id_origin);
    if (cfg->finalized) {
        const struct config_node *n = &cfg->node;
        fprintf(out, "# derived: node.id=%d retention.ms=%" PRId64 " segment.ms=%" PRId64
                " flush.ms=%" PRId64 " log.dirs=%zu metadata.log.dir=%s\n",
                n->node_id, n->retention_ms, n->roll_ms, n->flush_interval_ms, n->log_dir_count,
                n->metadata_log_dir);
    }
}

int config_source_kafka_code(enum config_source source)
{
    switch (source) {
    case CONFIG_SOURCE_TOPIC: return 1;
    case CONFIG_SOURCE_DYNAMIC_BROKER: return 2;
    case CONFIG_SOURCE_DYNAMIC_DEFAULT: return 3;
    case CONFIG_SOURCE_FILE:
    case CONFIG_SOURCE_ENV:
    case CONFIG_SOURCE_OVERRIDE: return 4;
    case CONFIG_SOURCE_DEFAULT: return 5;
    }
    return 0;
}

/* ---- dynamic broker configs --------------------------------------------- */

int config_key_is_dynamic(const char *name)
{
    for (size_t i = 0; i < config_keys_broker_dynamic_count; i++)
        if (strcmp(config_keys_broker_dynamic[i], name) == 0)
            return 1;
    return 0;
}

int config_dynamic_validate(const char *key, const char *value, char *msg, size_t msg_size)
{
    int i = key_index(config_keys_broker, CONFIG_KEYS_BROKER_COUNT, key);
    if (i < 0) {
        snprintf(msg, msg_size, "Unknown broker config %s", key);
        return ERR_NOT_FOUND;
    }
    if (!config_key_is_dynamic(key)) {
        snprintf(msg, msg_size, "Cannot update these configs dynamically: Set(%s)", key);
        return ERR_UNSUPPORTED;
    }
    char why[256];
    if (value && config_value_check(&config_keys_broker[i], value, why, sizeof why) < 0) {
        snprintf(msg, msg_size, "Invalid value %s for configuration %s: %s", value, key, why);
        return ERR_INVALID;
    }
    return 0;
}

static int layer_index(enum config_source layer)
{
    ASSERT(layer == CONFIG_SOURCE_DYNAMIC_DEFAULT || layer == CONFIG_SOURCE_DYNAMIC_BROKER);
    return layer == CONFIG_SOURCE_DYNAMIC_BROKER;
}

void config_dynamic_clear(struct config *cfg)
{
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < CONFIG_KEYS_BROKER_COUNT; i++) {
            free(cfg->dyn[l][i]);
            cfg->dyn[l][i] = NULL;
        }
}

int config_dynamic_set(struct config *cfg, enum config_source layer, const char *key, const char *value)
{
    char msg[512];
    int rc = config_dynamic_validate(key, value, msg, sizeof msg);
    if (rc < 0) {
        log_warn("config", "dynamic broker config ignored: %s", msg);
        return rc;
    }
    int i = broker_index(key);
    char *copy = NULL;
    if (value && !(copy = str_dup(value)))
        return -ENOMEM;
    int l = layer_index(layer);
    free(cfg->dyn[l][i]);
    cfg->dyn[l][i] = copy;
    return 0;
}

void config_dynamic_commit(struct config *cfg)
{
    ASSERT(cfg->finalized);
    derive_numbers(cfg);
}

const char *config_dynamic_value(const struct config *cfg, enum config_source layer, const char *key)
{
    int i = key_index(config_keys_broker, CONFIG_KEYS_BROKER_COUNT, key);
    return i < 0 ? NULL : cfg->dyn[layer_index(layer)][i];
}

/* Kafka's ConfigHelper.configSynonyms: layer by layer (dynamic broker,
 * dynamic default, static, default), each layer over the synonym chain
 * (DynamicBrokerConfig.brokerConfigSynonyms); with from_name, entries
 * before the first of `name` itself are dropped, as Kafka does. */
static size_t synonyms_get(const struct config *cfg, const char *name, bool from_name, struct config_synonym *out)
{
    static const char *const chains[][4] = {
        { "log.retention.ms", "log.retention.minutes", "log.retention.hours", NULL },
        { "log.roll.ms", "log.roll.hours", NULL, NULL },
        { "log.roll.jitter.ms", "log.roll.jitter.hours", NULL, NULL },
        { "log.flush.interval.ms", "log.flush.scheduler.interval.ms", NULL, NULL },
    };
    const char *single[2] = { name, NULL };
    const char *const *chain = single;
    for (size_t c = 0; c < sizeof chains / sizeof chains[0]; c++)
        for (size_t j = 0; chains[c][j]; j++)
            if (strcmp(chains[c][j], name) == 0)
                chain = chains[c];
    size_t n = 0;
    bool seen = !from_name;
    for (int layer = 0; layer < 4; layer++) {
        for (size_t j = 0; chain[j] && n < CONFIG_SYNONYMS_MAX; j++) {
            int i = key_index(config_keys_broker, CONFIG_KEYS_BROKER_COUNT, chain[j]);
            if (i < 0)
                continue;
            const struct config_key *k = &config_keys_broker[i];
            const char *v = layer == 0 ? cfg->dyn[1][i]
                            : layer == 1 ? cfg->dyn[0][i]
                            : layer == 2 ? cfg->values[i]
                                         : k->default_value;
            enum config_source src = layer == 0   ? CONFIG_SOURCE_DYNAMIC_BROKER
                                     : layer == 1 ? CONFIG_SOURCE_DYNAMIC_DEFAULT
                                     : layer == 2 ? cfg->ranks[i]
                                                  : CONFIG_SOURCE_DEFAULT;
            if (!v || (!seen && !(seen = strcmp(k->name, name) == 0)))
                continue;
            const char *origin = layer < 2 ? dynamic_origin(src) : layer == 2 ? cfg->origins[i] : "default";
            out[n++] = (struct config_synonym){ k->name, (k->flags & CONFIG_F_SENSITIVE) ? NULL : v, src, origin };
        }
    }
    return n;
}

size_t config_broker_synonyms(const struct config *cfg, const char *name, struct config_synonym *out)
{
    return synonyms_get(cfg, name, true, out);
}

size_t config_broker_synonym_chain(const struct config *cfg, const char *name, struct config_synonym *out)
{
    return synonyms_get(cfg, name, false, out);
}
