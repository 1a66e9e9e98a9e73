/*
 * tool_common.c - admin client set-up and small shared helpers for the
 * command-line tools (see tool_common.h).
 *
 * librdkafka's own log lines are not printed: a tool's output is parsed by
 * scripts the way Kafka's are.  The last client-level error is kept instead
 * and added to a timeout message, so "connection refused" is still visible.
 * The client struct must not move after tool_client_create (librdkafka
 * keeps a pointer to it for those callbacks).
 */
#include "tool_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

#define TOOL_PROPS_LINE_MAX 4096
#define TOOL_PATTERN_MAX 1024

static void tool_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)err;
    struct tool_client *c = opaque;
    snprintf(c->last_error, sizeof c->last_error, "%s", reason);
}

static void tool_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)fac;
    if (level > 3) /* keep errors only, and only as the "why" of a failure */
        return;
    struct tool_client *c = rd_kafka_opaque(rk);
    if (c)
        snprintf(c->last_error, sizeof c->last_error, "%s", buf);
}

static char *tool_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* Java properties subset: key=value, key: value or key value; '#'/'!'
 * comments; no line continuations or escapes (client settings need none). */
struct tool_conf_file {
    rd_kafka_conf_t *conf;
    int *timeout_ms;
    const char *path;
    char *err;
    size_t err_size;
};

static int tool_conf_file_cb(void *ctx, const char *kv, int line_number)
{
    struct tool_conf_file *cf = ctx;
    const char *eq = strchr(kv, '=');
    ASSERT(eq != NULL); /* tool_props_each always gives key=value */
    if (strncmp(kv, "default.api.timeout.ms=", 23) == 0) {
        char *end = NULL;
        long ms = strtol(eq + 1, &end, 10);
        if (!end || *end != '\0' || ms <= 0 || ms > 3600000) {
            snprintf(cf->err, cf->err_size, "%s:%d: default.api.timeout.ms must be 1..3600000, got '%s'", cf->path,
                     line_number, eq + 1);
            return ERR_INVALID;
        }
        if (cf->timeout_ms)
            *cf->timeout_ms = (int)ms;
        return 0;
    }
    char where[TOOL_ERRSTR_MAX];
    snprintf(where, sizeof where, "%s:%d", cf->path, line_number);
    return tool_conf_kv_set(cf->conf, kv, cf->path, where, cf->err, cf->err_size);
}

int tool_conf_file_apply(rd_kafka_conf_t *conf, const char *path, const char *flag, int *timeout_ms, char *err,
                         size_t err_size)
{
    struct tool_conf_file cf = { conf, timeout_ms, path, err, err_size };
    int rc = tool_props_each(path, tool_conf_file_cb, &cf);
    if (rc < 0 && rc != ERR_INVALID)
        snprintf(err, err_size, "cannot read %s file %s: %s", flag, path, strerror(-rc));
    return rc;
}

int tool_client_create(struct tool_client *c, const char *bootstrap, const char *command_config, char *err,
                       size_t err_size)
{
    ASSERT(c != NULL);
    ASSERT(bootstrap != NULL);
    memset(c, 0, sizeof *c);
    c->timeout_ms = TOOL_TIMEOUT_MS_DEFAULT;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf) {
        snprintf(err, err_size, "out of memory");
        return -ENOMEM;
    }
    char why[TOOL_ERRSTR_MAX];
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, why, sizeof why) != RD_KAFKA_CONF_OK) {
        snprintf(err, err_size, "%s", why);
        rd_kafka_conf_destroy(conf);
        return ERR_INVALID;
    }
    if (command_config) {
        int rc = tool_conf_file_apply(conf, command_config, "--command-config", &c->timeout_ms, err, err_size);
        if (rc < 0) {
            rd_kafka_conf_destroy(conf);
            return rc;
        }
    }
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_error_cb(conf, tool_error_cb);
    rd_kafka_conf_set_log_cb(conf, tool_log_cb);
    /* rd_kafka_new owns conf on success only */
    c->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!c->rk) {
        snprintf(err, err_size, "%s", why);
        rd_kafka_conf_destroy(conf);
        return ERR_INVALID;
    }
    c->queue = rd_kafka_queue_new(c->rk);
    if (!c->queue) {
        snprintf(err, err_size, "out of memory");
        tool_client_destroy(c);
        return -ENOMEM;
    }
    return 0;
}

void tool_client_destroy(struct tool_client *c)
{
    if (c->queue)
        rd_kafka_queue_destroy(c->queue);
    if (c->rk)
        rd_kafka_destroy(c->rk);
    c->queue = NULL;
    c->rk = NULL;
}

static void tool_explain(const struct tool_client *c, const char *what, char *err, size_t err_size)
{
    if (c->last_error[0])
        snprintf(err, err_size, "%s (%s)", what, c->last_error);
    else
        snprintf(err, err_size, "%s", what);
}

int64_t tool_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

rd_kafka_event_t *tool_client_wait(struct tool_client *c, rd_kafka_event_type_t type, char *err, size_t err_size)
{
    /* librdkafka enforces the request deadline itself; the extra second
     * only guards against a result that never comes */
    int64_t deadline_ms = tool_now_ms() + c->timeout_ms + 1000;
    for (;;) {
        int64_t left_ms = deadline_ms - tool_now_ms();
        if (left_ms <= 0) {
            tool_explain(c, "Timed out waiting for the admin result", err, err_size);
            return NULL;
        }
        rd_kafka_event_t *ev = rd_kafka_queue_poll(c->queue, (int)left_ms);
        if (!ev)
            continue;
        if (rd_kafka_event_type(ev) != type) {
            rd_kafka_event_destroy(ev);
            continue;
        }
        rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
        c->last_event_err = e;
        if (e) {
            if (e == RD_KAFKA_RESP_ERR__TIMED_OUT)
                tool_explain(c, "Timed out waiting for a node assignment.", err, err_size);
            else
                snprintf(err, err_size, "%s", rd_kafka_event_error_string(ev));
            rd_kafka_event_destroy(ev);
            return NULL;
        }
        return ev;
    }
}

rd_kafka_AdminOptions_t *tool_admin_options(struct tool_client *c, rd_kafka_admin_op_t op)
{
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(c->rk, op);
    if (!o)
        return NULL;
    char why[TOOL_ERRSTR_MAX];
    /* failures here only mean "option not used by this op"; the call
     * still has librdkafka's default deadline */
    (void)rd_kafka_AdminOptions_set_request_timeout(o, c->timeout_ms, why, sizeof why);
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
        op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS)
        (void)rd_kafka_AdminOptions_set_operation_timeout(o, c->timeout_ms, why, sizeof why);
    return o;
}

int tool_metadata_get(struct tool_client *c, const struct rd_kafka_metadata **md, char *err, size_t err_size)
{
    *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(c->rk, 1, NULL, md, c->timeout_ms);
    if (e) {
        if (e == RD_KAFKA_RESP_ERR__TIMED_OUT || e == RD_KAFKA_RESP_ERR__TRANSPORT)
            tool_explain(c, "Timed out waiting for a node assignment.", err, err_size);
        else
            snprintf(err, err_size, "%s", rd_kafka_err2str(e));
        *md = NULL;
        return e == RD_KAFKA_RESP_ERR__TIMED_OUT ? ERR_TIMEOUT : ERR_INVALID;
    }
    return 0;
}

bool tool_topic_is_internal(const char *name)
{
    return strcmp(name, "__consumer_offsets") == 0 || strcmp(name, "__transaction_state") == 0;
}

int tool_topic_filter_init(struct tool_topic_filter *f, const char *pattern, bool exclude_internal, char *err,
                           size_t err_size)
{
    memset(f, 0, sizeof *f);
    f->exclude_internal = exclude_internal;
    if (!pattern) {
        f->any = true;
        return 0;
    }
    /* Kafka's IncludeList: trim, ',' -> '|', drop spaces and quotes at the ends */
    char clean[TOOL_PATTERN_MAX];
    size_t n = 0;
    for (const char *p = pattern; *p; p++) {
        if (*p == ' ' || *p == '\t')
            continue;
        if (n + 1 >= sizeof clean) {
            snprintf(err, err_size, "%s is an invalid regex.", pattern);
            return ERR_INVALID;
        }
        clean[n++] = *p == ',' ? '|' : *p;
    }
    clean[n] = '\0';
    size_t start = 0;
    while (start < n && (clean[start] == '"' || clean[start] == '\''))
        start++;
    while (n > start && (clean[n - 1] == '"' || clean[n - 1] == '\''))
        clean[--n] = '\0';
    char anchored[TOOL_PATTERN_MAX + 8];
    snprintf(anchored, sizeof anchored, "^(%s)$", clean + start);
    if (regcomp(&f->re, anchored, REG_EXTENDED | REG_NOSUB) != 0) {
        snprintf(err, err_size, "%s is an invalid regex.", clean + start);
        return ERR_INVALID;
    }
    return 0;
}

bool tool_topic_filter_match(const struct tool_topic_filter *f, const char *name)
{
    if (f->exclude_internal && tool_topic_is_internal(name))
        return false;
    return f->any || regexec(&f->re, name, 0, NULL, 0) == 0;
}

void tool_topic_filter_deinit(struct tool_topic_filter *f)
{
    if (!f->any)
        regfree(&f->re);
    f->any = true;
}

int tool_str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void tool_args_join(int argc, char **argv, char *out, size_t out_size)
{
    ASSERT(out_size > 0);
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < argc && len + 1 < out_size; i++) {
        int w = snprintf(out + len, out_size - len, "%s%s", i ? " " : "", argv[i]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

int tool_opt(int argc, char **argv, int *i, const char *name, bool takes_value, const char **val)
{
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == '=' && takes_value) {
        *val = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0')
        return 0;
    if (!takes_value)
        return 1;
    if (*i + 1 >= argc) {
        fprintf(stderr, "Option [%s] requires an argument\n", name + 2);
        return ERR_INVALID;
    }
    *i += 1;
    *val = argv[*i];
    return 1;
}

int tool_int_parse(const char *s, long min, long max, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return ERR_INVALID;
    *out = (int)v;
    return 0;
}

static void tool_span_trim(const char **b, const char **e)
{
    while (*b < *e && (**b == ' ' || **b == '\t'))
        (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

int tool_kv_list_parse(const char *text, bool with_values, struct tool_kv *kv, size_t max, size_t *count)
{
    *count = 0;
    const char *p = text;
    while (*p) {
        const char *start = p;
        int depth = 0;
        while (*p && !(*p == ',' && depth == 0)) {
            if (with_values && *p == '[')
                depth++;
            else if (with_values && *p == ']' && depth > 0)
                depth--;
            p++;
        }
        const char *end = p;
        if (*p == ',')
            p++;
        tool_span_trim(&start, &end);
        if (start == end)
            continue;
        if (*count == max)
            return ERR_LIMIT;
        struct tool_kv *item = &kv[*count];
        item->name = NULL;
        item->value = NULL;
        (*count)++;
        const char *k0 = start, *k1 = end;
        if (with_values) {
            size_t len = (size_t)(end - start);
            const char *eq = memchr(start, '=', len);
            if (!eq || memchr(eq + 1, '=', (size_t)(end - eq - 1)))
                return ERR_INVALID;
            const char *v0 = eq + 1, *v1 = end;
            k1 = eq;
            tool_span_trim(&k0, &k1);
            tool_span_trim(&v0, &v1);
            if (v1 - v0 >= 2 && *v0 == '[' && v1[-1] == ']') {
                v0++;
                v1--;
            }
            if (k0 == k1)
                return ERR_INVALID;
            item->value = strndup(v0, (size_t)(v1 - v0));
            if (!item->value)
                return ERR_LIMIT;
        }
        item->name = strndup(k0, (size_t)(k1 - k0));
        if (!item->name)
            return ERR_LIMIT;
    }
    return 0;
}

void tool_kv_list_free(struct tool_kv *kv, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(kv[i].name);
        free(kv[i].value);
        kv[i].name = NULL;
        kv[i].value = NULL;
    }
}

int tool_usage_error(const char *msg, void (*usage)(FILE *out))
{
    fprintf(stderr, "%s\n", msg);
    usage(stderr);
    return 1;
}

int tool_optv_next(int argc, char **argv, int *i, const struct tool_optdef *defs, size_t count, const char **val)
{
    const char *arg = argv[*i];
    *val = NULL;
    if (arg[0] != '-' || arg[1] == '\0')
        return TOOL_OPT_POSITIONAL;
    const char *name = arg + (arg[1] == '-' ? 2 : 1);
    size_t len = strcspn(name, "=");
    int found = -1;
    int matches = 0;
    for (size_t k = 0; k < count; k++) {
        const char *d = defs[k].name;
        if (strncmp(d, name, len) != 0)
            continue;
        if (d[len] == '\0') { /* an exact name wins over abbreviations */
            found = (int)k;
            matches = 1;
            break;
        }
        found = (int)k;
        matches++;
    }
    if (matches == 0) {
        fprintf(stderr, "%s is not a recognized option\n", arg);
        return ERR_INVALID;
    }
    if (matches > 1) {
        fprintf(stderr, "Option %.*s is ambiguous\n", (int)len, name);
        return ERR_INVALID;
    }
    if (!defs[found].takes_value) {
        if (name[len] == '=') {
            fprintf(stderr, "Option [%s] does not take an argument\n", defs[found].name);
            return ERR_INVALID;
        }
        return found;
    }
    if (name[len] == '=') {
        *val = name + len + 1;
        return found;
    }
    if (defs[found].value_optional) {
        if (*i + 1 < argc && argv[*i + 1][0] != '-') {
            *i += 1;
            *val = argv[*i];
        }
        return found;
    }
    if (*i + 1 >= argc) {
        fprintf(stderr, "Option [%s] requires an argument\n", defs[found].name);
        return ERR_INVALID;
    }
    *i += 1;
    *val = argv[*i];
    return found;
}

int tool_conf_kv_set(rd_kafka_conf_t *conf, const char *kv, const char *origin, const char *where, char *err,
                     size_t err_size)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) {
        snprintf(err, err_size, "Invalid %s '%s': expected key=value", origin, kv);
        return ERR_INVALID;
    }
    char key[256];
    snprintf(key, sizeof key, "%.*s", (int)(eq - kv), kv);
    char why[TOOL_ERRSTR_MAX];
    rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, key, eq + 1, why, sizeof why);
    if (res == RD_KAFKA_CONF_UNKNOWN) {
        fprintf(stderr, "WARNING: ignoring client setting %s from %s: not supported by librdkafka\n", key, origin);
    } else if (res != RD_KAFKA_CONF_OK) {
        snprintf(err, err_size, "%s: %s", where, why);
        return ERR_INVALID;
    }
    return 0;
}

int tool_optv_parse(int argc, char **argv, const struct tool_optdef *defs, size_t count, struct tool_optv *o,
                    void (*usage)(FILE *out), int *exit_code)
{
    ASSERT(count <= TOOL_OPTV_MAX);
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int k = tool_optv_next(argc, argv, &i, defs, count, &v);
        if (k == TOOL_OPT_POSITIONAL) {
            fprintf(stderr, "Found non-option argument '%s'\n", argv[i]);
            k = ERR_INVALID;
        }
        if (k < 0) {
            usage(stderr);
            *exit_code = 1;
            return 1;
        }
        o->given[k] = true;
        o->val[k] = v;
        while (defs[k].repeat || defs[k].multi) {
            if (o->list_count >= TOOL_OPTV_LIST_MAX) {
                *exit_code = tool_usage_error("Too many repeated options (at most 128)", usage);
                return 1;
            }
            o->list_opt[o->list_count] = k;
            o->list_val[o->list_count++] = v;
            if (!defs[k].multi || i + 1 >= argc || argv[i + 1][0] == '-')
                break;
            v = argv[++i];
        }
    }
    for (size_t k = 0; k < count; k++) {
        if (!o->given[k])
            continue;
        if (strcmp(defs[k].name, "help") == 0) {
            usage(stdout);
            *exit_code = 0;
            return 1;
        }
        if (strcmp(defs[k].name, "version") == 0) {
            printf("3.7.0 (Samsa: the Kafka release whose tools these follow)\n");
            *exit_code = 0;
            return 1;
        }
    }
    return 0;
}

int tool_props_each(const char *path, int (*fn)(void *ctx, const char *kv, int line_number), void *ctx)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -errno;
    char line[TOOL_PROPS_LINE_MAX];
    char kv[TOOL_PROPS_LINE_MAX + 2];
    int rc = 0;
    int line_number = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        line_number++;
        char *s = tool_trim(line);
        if (*s == '\0' || *s == '#' || *s == '!')
            continue;
        size_t klen = strcspn(s, "=: \t");
        char *value = s + klen;
        if (*value != '\0') {
            *value++ = '\0';
            value = tool_trim(value);
            if (*value == '=' || *value == ':')
                value = tool_trim(value + 1);
        }
        snprintf(kv, sizeof kv, "%s=%s", s, value);
        rc = fn(ctx, kv, line_number);
    }
    fclose(f);
    return rc;
}

void tool_json_string(FILE *out, const void *p, size_t len)
{
    if (!p) {
        fputs("null", out);
        return;
    }
    const unsigned char *b = p;
    fputc('"', out);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = b[i];
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", out);
        else if (ch == '\r')
            fputs("\\r", out);
        else if (ch == '\t')
            fputs("\\t", out);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

void tool_json_double(FILE *out, double v)
{
    if (v != v || v - v != 0) { /* NaN, infinities: Java's names */
        fputs(v != v ? "NaN" : v > 0 ? "Infinity" : "-Infinity", out);
        return;
    }
    /* the fewest significant digits that read back exactly, printed without
     * an exponent (Java uses one only below 1e-3 and from 1e7, which these
     * tools' rates do not reach) */
    char buf[400];
    int digits = 1;
    for (; digits < 17; digits++) {
        snprintf(buf, sizeof buf, "%.*e", digits - 1, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    int exponent = atoi(strchr(buf, 'e') + 1);
    int decimals = digits - 1 - exponent;
    snprintf(buf, sizeof buf, "%.*f", decimals > 0 ? decimals : 0, v);
    fputs(buf, out);
    if (!strchr(buf, '.'))
        fputs(".0", out);
}

int64_t tool_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct plaintext_props {
    char security_protocol[64];
};

static int plaintext_props_cb(void *ctx, const char *kv, int line_number)
{
    (void)line_number;
    struct plaintext_props *p = ctx;
    if (strncmp(kv, "security.protocol=", 18) == 0)
        snprintf(p->security_protocol, sizeof p->security_protocol, "%s", kv + 18);
    return 0;
}

int tool_props_plaintext_only(const char *path, const char *opt, const char *tool)
{
    struct plaintext_props props = { "" };
    int rc = tool_props_each(path, plaintext_props_cb, &props);
    if (rc < 0 && rc != ERR_INVALID) {
        fprintf(stderr, "Error: cannot read %s file %s: %s\n", opt, path, strerror(-rc));
        return 1;
    }
    if (props.security_protocol[0] && strcasecmp(props.security_protocol, "PLAINTEXT") != 0) {
        fprintf(stderr, "Error: security.protocol=%s from %s is not supported by %s yet (plaintext only)\n",
                props.security_protocol, path, tool);
        return 1;
    }
    return 0;
}
