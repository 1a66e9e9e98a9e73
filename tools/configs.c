/*
 * configs.c - `samsa configs`: describe and alter topic and broker configs
 * like Kafka 3.x's kafka-configs.sh, on librdkafka's admin API.
 *
 * librdkafka 2.0.2 has no IncrementalAlterConfigs (it arrived in 2.2), so
 * --alter works the way kafka-configs did before KIP-339: read the
 * entity's current dynamic configs, apply --delete-config then
 * --add-config, and write the complete set with AlterConfigs (which
 * replaces every dynamic config of the entity).  A concurrent change by
 * someone else between the read and the write is lost, as it was in Kafka.
 *
 * Output follows ConfigCommand: a header per entity ("Dynamic configs for
 * topic X are:", "All configs for broker 1 are:", "Default configs for
 * brokers in the cluster are:"), then one "  name=value sensitive=B
 * synonyms={SOURCE:name=value, ...}" line per config, sorted by name.
 * Argument errors go to stderr alone; a failed call prints
 * "Error while executing config command with args '...'" and the Kafka
 * exception name with the broker's message, on stderr.  Exit 1 on error.
 *
 * The cluster-wide broker default ("--entity-default") only ever holds
 * DYNAMIC_DEFAULT_BROKER_CONFIG entries (a Kafka broker answers nothing
 * else for it), so only those are shown for it, with or without --all.
 *
 * Client quotas (--entity-type users / clients, alone or paired) go
 * through the tool's own client: see "client quotas" below.  The brokers
 * store and show them but do not throttle clients yet.
 *
 * Not here: ips, broker-loggers and groups (KIP-848 group configs: refused
 * with one line), --add-config-file, SCRAM credentials.
 */
#include "configs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/kwire.h"
#include "common/log.h"
#include "kmsg.h"
#include "tools/kclient.h"
#include "tools/tool_common.h"

#define CONFIGS_ITEMS_MAX 128
#define CONFIGS_ARGS_TEXT_MAX 2048
#define CONFIGS_LINE_MAX 8192
#define CONFIGS_ENTITIES_MAX 4

enum configs_action { CONFIGS_NONE, CONFIGS_DESCRIBE, CONFIGS_ALTER };

struct configs_args {
    const char *bootstrap;
    const char *command_config;
    const char *entity_type;
    const char *entity_name;
    const char *add_config;
    const char *delete_config;
    enum configs_action action;
    int action_count;
    bool entity_default;
    /* every --entity-type, and every --entity-name / --entity-default (NULL)
     * in command-line order: they pair up positionally (users and clients) */
    const char *entity_types[CONFIGS_ENTITIES_MAX];
    const char *entity_names[CONFIGS_ENTITIES_MAX];
    int entity_type_count;
    int entity_name_count;
    bool all;
    bool help;
    char args_text[CONFIGS_ARGS_TEXT_MAX]; /* the command line, for error messages */
};

/* One config as shown: owned strings. */
struct configs_entry {
    char *name;
    char *value; /* NULL: Kafka null (sensitive or unset) */
    bool sensitive;
    int source;
    char *synonyms; /* "SOURCE:name=value, ..." */
};

static void configs_usage(FILE *out)
{
    fprintf(out,
            "This tool helps to manipulate and describe entity config for a topic, broker, user or client.\n"
            "Option                                 Description\n"
            "------                                 -----------\n"
            "--add-config <String>                  Key Value pairs of configs to add. Square brackets\n"
            "                                         can be used to group values which contain commas:\n"
            "                                         'k1=v1,k2=[v1,v2,v2],k3=v3'.\n"
            "--all                                  List all configs for the given entity, including\n"
            "                                         static configs and defaults.\n"
            "--alter                                Alter the configuration for the entity.\n"
            "--bootstrap-server <host:port>         REQUIRED: The Kafka server to connect to.\n"
            "--broker <String: broker-id>           The config's broker id (= --entity-type brokers\n"
            "                                         --entity-name ID).\n"
            "--broker-defaults                      The cluster-wide broker defaults.\n"
            "--command-config <file>                Property file with client settings (passed to\n"
            "                                         librdkafka).\n"
            "--delete-config <String>               config keys to remove 'k1,k2'.\n"
            "--describe                             List configs for the given entity.\n"
            "--entity-default                       Default entity name for brokers, users or clients\n"
            "                                         (applies to corresponding entity type in command line).\n"
            "--entity-name <String>                 Name of entity (topic name/broker id/user principal/\n"
            "                                         client id).\n"
            "--entity-type <String>                 Type of entity (topics/brokers/users/clients); users\n"
            "                                         and clients may be given together.\n"
            "--help                                 Print usage information.\n"
            "--topic <String: topic>                The topic's name (= --entity-type topics\n"
            "                                         --entity-name NAME).\n"
            "\n"
            "Broker configs Kafka changes at run time (log.retention.*, log.segment.bytes,\n"
            "message.max.bytes, ...) apply live on every broker; --entity-default sets the\n"
            "cluster-wide default, --entity-name <id> one broker.\n"
            "\n"
            "Client quotas (users, clients): producer_byte_rate, consumer_byte_rate,\n"
            "request_percentage, controller_mutation_rate.  They are stored in the metadata\n"
            "log and shown, but NOT enforced yet: no client is throttled.\n");
}

static int configs_usage_error(const char *msg)
{
    return tool_usage_error(msg, configs_usage);
}

/* Kafka's IllegalArgumentException path: the message alone on stderr. */
static int configs_arg_error(const char *msg)
{
    fprintf(stderr, "%s\n", msg);
    return 1;
}

static const char *configs_exception_name(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART: return "org.apache.kafka.common.errors.UnknownTopicOrPartitionException";
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST: return "org.apache.kafka.common.errors.InvalidRequestException";
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG: return "org.apache.kafka.common.errors.InvalidConfigurationException";
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION: return "org.apache.kafka.common.errors.PolicyViolationException";
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED: return "org.apache.kafka.common.errors.TopicAuthorizationException";
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
        return "org.apache.kafka.common.errors.ClusterAuthorizationException";
    case RD_KAFKA_RESP_ERR__TIMED_OUT: return "org.apache.kafka.common.errors.TimeoutException";
    default: return "org.apache.kafka.common.KafkaException";
    }
}

/* A failed call: Kafka's header line, then the cause. */
static int configs_fail(const struct configs_args *a, rd_kafka_resp_err_t e, const char *msg)
{
    fflush(stdout);
    fprintf(stderr, "Error while executing config command with args '%s'\n", a->args_text);
    fprintf(stderr, "java.util.concurrent.ExecutionException: %s: %s\n", configs_exception_name(e), msg);
    return 1;
}

/* A repeatable option: the last value in *last, every value in list. */
static int configs_opt_list(int argc, char **argv, int *i, const char *name, const char **last, const char **list,
                            int *count)
{
    const char *v = NULL;
    int m = tool_opt(argc, argv, i, name, true, &v);
    if (m > 0) {
        *last = v;
        if (*count < CONFIGS_ENTITIES_MAX)
            list[(*count)++] = v;
    }
    return m;
}

static int configs_args_parse(int argc, char **argv, struct configs_args *a)
{
    memset(a, 0, sizeof *a);
    tool_args_join(argc - 1, argv + 1, a->args_text, sizeof a->args_text);
    const char *topic = NULL;
    const char *broker = NULL;
    bool broker_defaults = false;
    for (int i = 1; i < argc; i++) {
        int m;
        if ((m = configs_opt_list(argc, argv, &i, "--entity-type", &a->entity_type, a->entity_types,
                                  &a->entity_type_count)) ||
            (m = configs_opt_list(argc, argv, &i, "--entity-name", &a->entity_name, a->entity_names,
                                  &a->entity_name_count))) {
            if (m < 0)
                return 1;
            continue;
        }
        if ((m = tool_opt(argc, argv, &i, "--bootstrap-server", true, &a->bootstrap)) ||
            (m = tool_opt(argc, argv, &i, "--command-config", true, &a->command_config)) ||
            (m = tool_opt(argc, argv, &i, "--add-config", true, &a->add_config)) ||
            (m = tool_opt(argc, argv, &i, "--delete-config", true, &a->delete_config)) ||
            (m = tool_opt(argc, argv, &i, "--topic", true, &topic)) ||
            (m = tool_opt(argc, argv, &i, "--broker", true, &broker))) {
            if (m < 0)
                return 1;
            continue;
        }
        if (tool_opt(argc, argv, &i, "--describe", false, NULL)) {
            a->action = CONFIGS_DESCRIBE;
            a->action_count++;
        } else if (tool_opt(argc, argv, &i, "--alter", false, NULL)) {
            a->action = CONFIGS_ALTER;
            a->action_count++;
        } else if (tool_opt(argc, argv, &i, "--entity-default", false, NULL)) {
            a->entity_default = true;
            if (a->entity_name_count < CONFIGS_ENTITIES_MAX)
                a->entity_names[a->entity_name_count++] = NULL;
        } else if (tool_opt(argc, argv, &i, "--broker-defaults", false, NULL)) {
            broker_defaults = true;
        } else if (tool_opt(argc, argv, &i, "--all", false, NULL)) {
            a->all = true;
        } else if (tool_opt(argc, argv, &i, "--help", false, NULL) || strcmp(argv[i], "-h") == 0) {
            a->help = true;
        } else {
            const char *name = argv[i];
            while (*name == '-')
                name++;
            fprintf(stderr, "%s is not a recognized option\n", name);
            return 1;
        }
    }
    /* the shortcuts, as ConfigCommand expands them */
    if ((topic || broker || broker_defaults) && a->entity_type)
        return configs_arg_error("--entity-type cannot be combined with --topic, --broker or --broker-defaults");
    if (topic && (broker || broker_defaults))
        return configs_arg_error("Only one entity type may be specified: --topic, --broker or --broker-defaults");
    if (topic) {
        a->entity_type = "topics";
        a->entity_name = topic;
    } else if (broker || broker_defaults) {
        if (broker && broker_defaults)
            return configs_arg_error("--broker and --broker-defaults cannot both be specified");
        a->entity_type = "brokers";
        a->entity_name = broker;
        a->entity_default = broker_defaults;
    }
    return 0;
}

static bool configs_is_topics(const struct configs_args *a)
{
    return strcmp(a->entity_type, "topics") == 0;
}

static bool configs_topic_name_legal(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 249 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '_' || ch == '-'))
            return false;
    }
    return true;
}

/* ---- client quotas: --entity-type users / clients (KIP-546) ----
 *
 * DescribeClientQuotas / AlterClientQuotas through the tool's own client
 * (librdkafka 2.0.2 has neither).  Output as ConfigCommand: "Quota configs
 * for user-principal 'alice', client-id 'c1' are k=v, k2=v2" (values as
 * Java prints a double), "Completed updating config for user alice." The
 * brokers store and show the quotas; they do not throttle clients yet. */

#define CONFIGS_ENTITY_TYPES "topics,clients,users,brokers"

static const char *const configs_quota_keys[] = { "consumer_byte_rate", "controller_mutation_rate",
                                                  "producer_byte_rate", "request_percentage" };

static bool configs_is_quota(const struct configs_args *a)
{
    for (int i = 0; i < a->entity_type_count; i++)
        if (strcmp(a->entity_types[i], "users") != 0 && strcmp(a->entity_types[i], "clients") != 0)
            return false;
    return a->entity_type_count > 0;
}

static int configs_quota_check(const struct configs_args *a)
{
    char msg[512];
    if (a->entity_type_count == 2 && strcmp(a->entity_types[0], a->entity_types[1]) == 0) {
        snprintf(msg, sizeof msg, "Duplicate entity type(s) specified: %s", a->entity_types[0]);
        return configs_arg_error(msg);
    }
    if (a->entity_type_count > 2)
        return configs_arg_error("At most one users and one clients entity type may be specified");
    if (a->action == CONFIGS_DESCRIBE && (a->add_config || a->delete_config)) {
        snprintf(msg, sizeof msg, "Option \"[%s]\" can't be used with option \"[describe]\"",
                 a->add_config ? "add-config" : "delete-config");
        return configs_usage_error(msg);
    }
    if (a->entity_name_count > a->entity_type_count)
        return configs_arg_error("Each --entity-name or --entity-default needs an --entity-type before it");
    if (a->action == CONFIGS_ALTER) {
        if (a->all)
            return configs_usage_error("Option \"[all]\" can't be used with option \"[alter]\"");
        if (a->entity_name_count != a->entity_type_count)
            return configs_arg_error("--entity-name or --entity-default must be specified with each --entity-type "
                                     "for --alter");
        if (!a->add_config && !a->delete_config)
            return configs_arg_error("At least one of --add-config or --delete-config must be specified with --alter");
    }
    return 0;
}

/* Java's Double.toString: "1024.0", "0.5", "1.048576E7", "1.0E-4". */
static void configs_java_double(double v, char *out, size_t size)
{
    if (v != v) {
        snprintf(out, size, "NaN");
        return;
    }
    if (v > 1.7976931348623157e308 || v < -1.7976931348623157e308) {
        snprintf(out, size, "%sInfinity", v < 0 ? "-" : "");
        return;
    }
    int p = 1;
    char tmp[64];
    for (; p < 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    double mag = v < 0 ? -v : v;
    if (mag == 0 || (mag >= 1e-3 && mag < 1e7)) {
        if (v == (double)(long long)v)
            snprintf(out, size, "%.1f", v);
        else
            snprintf(out, size, "%.*g", p, v);
        return;
    }
    snprintf(tmp, sizeof tmp, "%.*e", p - 1, v); /* d.ddde+XX */
    char *e = strchr(tmp, 'e');
    ASSERT(e != NULL);
    *e = '\0';
    int exp10 = atoi(e + 1);
    size_t n = strlen(tmp);
    if (!strchr(tmp, '.') && n + 2 < sizeof tmp)
        memcpy(tmp + n, ".0", 3);
    snprintf(out, size, "%.32sE%d", tmp, exp10);
}

static const char *configs_quota_type(const char *entity_type)
{
    return strcmp(entity_type, "users") == 0 ? "user" : "client-id";
}

/* One call through kclient to the bootstrap servers; rc < 0 prints the failure. */
static int configs_quota_connect(const struct configs_args *a, struct kclient *kc)
{
    int rc = kclient_connect(kc, a->bootstrap, 30000);
    if (rc < 0) {
        char err[TOOL_ERRSTR_MAX];
        snprintf(err, sizeof err, "Cannot connect to bootstrap server(s) %s: %s", a->bootstrap, err_str(rc));
        configs_fail(a, RD_KAFKA_RESP_ERR__TRANSPORT, err);
    }
    return rc;
}

struct configs_quota_line {
    char entity[640];
    char sort_key[640];
    char values[CONFIGS_LINE_MAX];
};

static int configs_quota_line_cmp(const void *x, const void *y)
{
    return strcmp(((const struct configs_quota_line *)x)->sort_key, ((const struct configs_quota_line *)y)->sort_key);
}

static int configs_quota_value_cmp(const void *x, const void *y)
{
    const struct kmsg_describe_client_quotas_resp_value *a = x, *b = y;
    size_t n = a->key.len < b->key.len ? a->key.len : b->key.len;
    int c = memcmp(a->key.ptr, b->key.ptr, n);
    return c ? c : (a->key.len > b->key.len) - (a->key.len < b->key.len);
}

static int configs_quota_describe(const struct configs_args *a, struct kclient *kc, struct arena *ar)
{
    struct kmsg_describe_client_quotas_req_component comps[CONFIGS_ENTITIES_MAX];
    for (int i = 0; i < a->entity_type_count; i++) {
        kmsg_describe_client_quotas_req_component_init(&comps[i]);
        comps[i].entity_type = bytes_cstr(configs_quota_type(a->entity_types[i]));
        if (i >= a->entity_name_count) {
            comps[i].match_type = 2; /* SPECIFIED: any named entity (Kafka's ofEntityType) */
            comps[i].match = (struct bytes){ NULL, 0 };
        } else if (!a->entity_names[i]) {
            comps[i].match_type = 1; /* DEFAULT */
            comps[i].match = (struct bytes){ NULL, 0 };
        } else {
            comps[i].match_type = 0; /* EXACT */
            comps[i].match = bytes_cstr(a->entity_names[i]);
        }
    }
    struct kmsg_describe_client_quotas_req req;
    kmsg_describe_client_quotas_req_init(&req);
    req.components = comps;
    req.components_count = a->entity_type_count;
    req.strict = true;
    struct kmsg_describe_client_quotas_resp resp;
    int rc;
    KCLIENT_CALL(rc, kc, describe_client_quotas, KMSG_API_DESCRIBE_CLIENT_QUOTAS, 0, &req, ar, &resp);
    char err[TOOL_ERRSTR_MAX];
    if (rc < 0) {
        snprintf(err, sizeof err, "DescribeClientQuotas to %s failed: %s", kc->server, err_str(rc));
        return configs_fail(a, RD_KAFKA_RESP_ERR__TRANSPORT, err);
    }
    if (resp.error_code != 0) {
        snprintf(err, sizeof err, "%.*s", resp.error_message.ptr ? (int)resp.error_message.len : 0,
                 resp.error_message.ptr ? (const char *)resp.error_message.ptr : "");
        return configs_fail(a, (rd_kafka_resp_err_t)resp.error_code,
                            err[0] ? err : rd_kafka_err2str((rd_kafka_resp_err_t)resp.error_code));
    }
    int32_t n = resp.entries_count > 0 ? resp.entries_count : 0;
    struct configs_quota_line *lines = calloc((size_t)n + 1, sizeof *lines);
    if (!lines)
        return configs_fail(a, RD_KAFKA_RESP_ERR__FAIL, "out of memory");
    for (int32_t i = 0; i < n; i++) {
        const struct kmsg_describe_client_quotas_resp_entry *e = &resp.entries[i];
        struct configs_quota_line *l = &lines[i];
        size_t el = 0, kl = 0;
        for (int pass = 0; pass < 2; pass++) /* user first, then client-id, as ConfigCommand */
            for (int32_t k = 0; k < e->entity_count; k++) {
                const struct kmsg_describe_client_quotas_resp_entity *p = &e->entity[k];
                bool is_user = bytes_eq_cstr(p->entity_type, "user");
                if (is_user != (pass == 0))
                    continue;
                const char *what = is_user ? "user-principal" : "client-id";
                if (p->entity_name.ptr)
                    el += (size_t)snprintf(l->entity + el, el < sizeof l->entity ? sizeof l->entity - el : 0,
                                           "%s%s '%.*s'", el ? ", " : "", what, (int)p->entity_name.len,
                                           (const char *)p->entity_name.ptr);
                else
                    el += (size_t)snprintf(l->entity + el, el < sizeof l->entity ? sizeof l->entity - el : 0,
                                           "%sthe default %s", el ? ", " : "", what);
                kl += (size_t)snprintf(l->sort_key + kl, kl < sizeof l->sort_key ? sizeof l->sort_key - kl : 0,
                                       "%d%c%.*s%c", pass, p->entity_name.ptr ? '1' : '0', (int)p->entity_name.len,
                                       p->entity_name.ptr ? (const char *)p->entity_name.ptr : "", 1);
            }
        if (e->values_count > 1)
            qsort(e->values, (size_t)e->values_count, sizeof *e->values, configs_quota_value_cmp);
        size_t vl = 0;
        for (int32_t k = 0; k < e->values_count; k++) {
            char num[64];
            configs_java_double(e->values[k].value, num, sizeof num);
            vl += (size_t)snprintf(l->values + vl, vl < sizeof l->values ? sizeof l->values - vl : 0, "%s%.*s=%s",
                                   k ? ", " : "", (int)e->values[k].key.len, (const char *)e->values[k].key.ptr, num);
        }
    }
    qsort(lines, (size_t)n, sizeof *lines, configs_quota_line_cmp);
    for (int32_t i = 0; i < n; i++)
        printf("Quota configs for %s are %s\n", lines[i].entity, lines[i].values);
    free(lines);
    fflush(stdout);
    return 0;
}

static int configs_quota_alter(const struct configs_args *a, struct kclient *kc, struct arena *ar,
                               const struct tool_kv *adds, size_t nadd, const struct tool_kv *dels, size_t ndel)
{
    char msg[CONFIGS_LINE_MAX];
    size_t ml = 0;
    for (size_t i = 0; i < nadd; i++) {
        bool known = false;
        for (size_t k = 0; k < sizeof configs_quota_keys / sizeof configs_quota_keys[0]; k++)
            known = known || strcmp(adds[i].name, configs_quota_keys[k]) == 0;
        if (!known)
            ml += (size_t)snprintf(msg + ml, ml < sizeof msg ? sizeof msg - ml : 0, "%s%s", ml ? "," : "",
                                   adds[i].name);
    }
    if (ml) {
        char line[CONFIGS_LINE_MAX + 256];
        snprintf(line, sizeof line, "Only quota configs can be added for '%s' using --bootstrap-server. Unexpected "
                 "config names: %s", a->entity_types[0], msg);
        return configs_arg_error(line);
    }
    struct kmsg_alter_client_quotas_req_op *ops = arena_alloc_array(ar, nadd + ndel + 1, sizeof *ops);
    if (!ops)
        return configs_fail(a, RD_KAFKA_RESP_ERR__FAIL, "out of memory");
    for (size_t i = 0; i < nadd; i++) {
        char *end = NULL;
        double v = strtod(adds[i].value, &end);
        if (!adds[i].value[0] || !end || *end) {
            snprintf(msg, sizeof msg, "Cannot parse quota configuration value for %s: %s", adds[i].name,
                     adds[i].value);
            return configs_arg_error(msg);
        }
        kmsg_alter_client_quotas_req_op_init(&ops[i]);
        ops[i].key = bytes_cstr(adds[i].name);
        ops[i].value = v;
    }
    for (size_t i = 0; i < ndel; i++) {
        kmsg_alter_client_quotas_req_op_init(&ops[nadd + i]);
        ops[nadd + i].key = bytes_cstr(dels[i].name);
        ops[nadd + i].remove = true;
    }
    struct kmsg_alter_client_quotas_req_entity ents[CONFIGS_ENTITIES_MAX];
    for (int i = 0; i < a->entity_type_count; i++) {
        kmsg_alter_client_quotas_req_entity_init(&ents[i]);
        ents[i].entity_type = bytes_cstr(configs_quota_type(a->entity_types[i]));
        ents[i].entity_name = a->entity_names[i] ? bytes_cstr(a->entity_names[i]) : (struct bytes){ NULL, 0 };
    }
    struct kmsg_alter_client_quotas_req_entry entry;
    kmsg_alter_client_quotas_req_entry_init(&entry);
    entry.entity = ents;
    entry.entity_count = a->entity_type_count;
    entry.ops = ops;
    entry.ops_count = (int32_t)(nadd + ndel);
    struct kmsg_alter_client_quotas_req req;
    kmsg_alter_client_quotas_req_init(&req);
    req.entries = &entry;
    req.entries_count = 1;
    struct kmsg_alter_client_quotas_resp resp;
    int rc;
    KCLIENT_CALL(rc, kc, alter_client_quotas, KMSG_API_ALTER_CLIENT_QUOTAS, 0, &req, ar, &resp);
    if (rc < 0) {
        snprintf(msg, sizeof msg, "AlterClientQuotas to %s failed: %s", kc->server, err_str(rc));
        return configs_fail(a, RD_KAFKA_RESP_ERR__TRANSPORT, msg);
    }
    if (resp.entries_count != 1)
        return configs_fail(a, RD_KAFKA_RESP_ERR__BAD_MSG, "the broker answered no result for the entity");
    if (resp.entries[0].error_code != 0) {
        rd_kafka_resp_err_t kerr = (rd_kafka_resp_err_t)resp.entries[0].error_code;
        struct bytes m = resp.entries[0].error_message;
        snprintf(msg, sizeof msg, "%.*s", m.ptr ? (int)m.len : 0, m.ptr ? (const char *)m.ptr : "");
        return configs_fail(a, kerr, msg[0] ? msg : rd_kafka_err2str(kerr));
    }
    if (a->entity_names[0])
        printf("Completed updating config for %.*s %s.\n", (int)strlen(a->entity_types[0]) - 1, a->entity_types[0],
               a->entity_names[0]);
    else
        printf("Completed updating default config for %s in the cluster.\n", a->entity_types[0]);
    fflush(stdout);
    return 0;
}

static int configs_quotas(const struct configs_args *a)
{
    struct tool_kv adds[CONFIGS_ITEMS_MAX], dels[CONFIGS_ITEMS_MAX];
    size_t nadd = 0, ndel = 0;
    int prc = 0, ret = 0;
    if (a->add_config && (prc = tool_kv_list_parse(a->add_config, true, adds, CONFIGS_ITEMS_MAX, &nadd)) < 0)
        ret = configs_arg_error(prc == ERR_INVALID ? "requirement failed: Invalid entity config: all configs to be "
                                                     "added must be in the format \"key=val\"."
                                                   : "Too many configs in --add-config (at most 128)");
    else if (a->delete_config && tool_kv_list_parse(a->delete_config, false, dels, CONFIGS_ITEMS_MAX, &ndel) < 0)
        ret = configs_arg_error("Too many configs in --delete-config (at most 128)");
    struct kclient kc;
    if (ret == 0 && configs_quota_connect(a, &kc) < 0)
        ret = 1;
    else if (ret == 0) {
        struct arena ar;
        arena_init(&ar, 4096, KCLIENT_RESPONSE_BYTES_MAX);
        ret = a->action == CONFIGS_DESCRIBE ? configs_quota_describe(a, &kc, &ar)
                                            : configs_quota_alter(a, &kc, &ar, adds, nadd, dels, ndel);
        arena_deinit(&ar);
        kclient_close(&kc);
    }
    tool_kv_list_free(adds, nadd);
    tool_kv_list_free(dels, ndel);
    return ret;
}

/* ConfigCommandOptions.checkArgs.  Returns 0 or the exit code. */
static int configs_args_check(const struct configs_args *a)
{
    char msg[512];
    if (a->action_count != 1)
        return configs_usage_error("Command must include exactly one action: --describe, --alter");
    if (!a->bootstrap)
        return configs_usage_error("One of the required bootstrap-server or bootstrap-controller arguments must be "
                                   "specified");
    if (!a->entity_type)
        return configs_arg_error("At least one entity type must be specified");
    if (configs_is_quota(a))
        return configs_quota_check(a);
    for (int i = 0; i < a->entity_type_count; i++) {
        const char *t = a->entity_types[i];
        if (strcmp(t, "groups") == 0) {
            snprintf(msg, sizeof msg, "Invalid entity-type groups, --entity-type must be one of %s (group configs "
                     "such as consumer.session.timeout.ms are for KIP-848 consumer groups, which Samsa's classic "
                     "group coordinator does not run)", CONFIGS_ENTITY_TYPES);
            return configs_arg_error(msg);
        }
        if (strcmp(t, "topics") != 0 && strcmp(t, "brokers") != 0 && strcmp(t, "users") != 0 &&
            strcmp(t, "clients") != 0) {
            snprintf(msg, sizeof msg, "Invalid entity-type %s, --entity-type must be one of %s", t,
                     CONFIGS_ENTITY_TYPES);
            return configs_arg_error(msg);
        }
    }
    if (a->entity_type_count > 1)
        return configs_arg_error("Only users and clients may be combined: give one --entity-type for topics or "
                                 "brokers");
    if (a->entity_name && a->entity_default)
        return configs_arg_error("--entity-name and --entity-default cannot both be specified");
    if (a->entity_default && configs_is_topics(a))
        return configs_arg_error("--entity-default is not valid for topics: a topic's defaults are the broker's "
                                 "configs (see --entity-type brokers)");
    if (a->action == CONFIGS_DESCRIBE && (a->add_config || a->delete_config)) {
        snprintf(msg, sizeof msg, "Option \"[%s]\" can't be used with option \"[describe]\"",
                 a->add_config ? "add-config" : "delete-config");
        return configs_usage_error(msg);
    }
    if (a->action == CONFIGS_ALTER) {
        if (a->all)
            return configs_usage_error("Option \"[all]\" can't be used with option \"[alter]\"");
        if (!a->entity_name && !a->entity_default) {
            snprintf(msg, sizeof msg, "an entity name must be specified with --alter of %s", a->entity_type);
            return configs_arg_error(msg);
        }
        if (!a->add_config && !a->delete_config)
            return configs_arg_error("At least one of --add-config or --delete-config must be specified with --alter");
    }
    if (a->entity_name && configs_is_topics(a) && !configs_topic_name_legal(a->entity_name)) {
        snprintf(msg, sizeof msg,
                 "Topic name \"%s\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' "
                 "and '-'",
                 a->entity_name);
        return configs_arg_error(msg);
    }
    if (a->entity_name && !configs_is_topics(a)) {
        int id;
        if (tool_int_parse(a->entity_name, 0, 2147483647L, &id) < 0) {
            snprintf(msg, sizeof msg, "The entity name for brokers must be a valid integer broker id, found: %s",
                     a->entity_name);
            return configs_arg_error(msg);
        }
    }
    return 0;
}

static void configs_entries_free(struct configs_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].name);
        free(e[i].value);
        free(e[i].synonyms);
    }
    free(e);
}

static int configs_entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct configs_entry *)a)->name, ((const struct configs_entry *)b)->name);
}

static char *configs_strdup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* "SOURCE:name=value, ..." of an entry; only the cluster-default ones when defaults_only. */
static char *configs_synonyms_text(const rd_kafka_ConfigEntry_t *ce, bool defaults_only)
{
    char *out = calloc(1, CONFIGS_LINE_MAX);
    if (!out)
        return NULL;
    size_t sn = 0;
    const rd_kafka_ConfigEntry_t **syn = rd_kafka_ConfigEntry_synonyms(ce, &sn);
    size_t len = 0;
    for (size_t i = 0; i < sn; i++) {
        if (defaults_only &&
            rd_kafka_ConfigEntry_source(syn[i]) != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG)
            continue;
        const char *v = rd_kafka_ConfigEntry_value(syn[i]);
        int w = snprintf(out + len, CONFIGS_LINE_MAX - len, "%s%s:%s=%s", len ? ", " : "",
                         rd_kafka_ConfigSource_name(rd_kafka_ConfigEntry_source(syn[i])),
                         rd_kafka_ConfigEntry_name(syn[i]), v ? v : "null");
        if (w < 0 || (size_t)w >= CONFIGS_LINE_MAX - len)
            break;
        len += (size_t)w;
    }
    return out;
}

/*
 * configs_fetch - one entity's configs, sorted by name.  only_source >= 0
 * keeps entries of that source only.  defaults_only: name is a broker id
 * and the result is the cluster-wide dynamic defaults found among its
 * entries' synonyms (librdkafka cannot name the default resource "").
 * On failure fills *kerr and err.
 */
static int configs_fetch(struct tool_client *c, rd_kafka_ResourceType_t type, const char *name, int only_source,
                         bool defaults_only, struct configs_entry **out, size_t *count, rd_kafka_resp_err_t *kerr,
                         char *err, size_t err_size)
{
    *out = NULL;
    *count = 0;
    *kerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(type, name);
    if (!res) {
        snprintf(err, err_size, "out of memory");
        return ERR_LIMIT;
    }
    rd_kafka_AdminOptions_t *o = tool_admin_options(c, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_DescribeConfigs(c->rk, &res, 1, o, c->queue);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_event_t *ev = tool_client_wait(c, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, err, err_size);
    if (!ev) {
        *kerr = RD_KAFKA_RESP_ERR__TIMED_OUT;
        return ERR_TIMEOUT;
    }
    size_t rn = 0;
    const rd_kafka_ConfigResource_t **rr =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &rn);
    int rc = 0;
    if (rn != 1) {
        snprintf(err, err_size, "DescribeConfigs returned %zu resources for 1 asked", rn);
        rc = ERR_DECODE;
    } else if ((*kerr = rd_kafka_ConfigResource_error(rr[0])) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *msg = rd_kafka_ConfigResource_error_string(rr[0]);
        snprintf(err, err_size, "%s", msg && msg[0] ? msg : rd_kafka_err2str(*kerr));
        rc = ERR_INVALID;
    } else {
        size_t en = 0;
        const rd_kafka_ConfigEntry_t **ce = rd_kafka_ConfigResource_configs(rr[0], &en);
        struct configs_entry *e = calloc(en + 1, sizeof *e);
        size_t n = 0;
        for (size_t i = 0; e && i < en; i++) {
            int source = (int)rd_kafka_ConfigEntry_source(ce[i]);
            const char *value = rd_kafka_ConfigEntry_value(ce[i]);
            if (defaults_only) {
                /* a cluster default shows up as a synonym of each broker's entry */
                size_t sn = 0;
                const rd_kafka_ConfigEntry_t **syn = rd_kafka_ConfigEntry_synonyms(ce[i], &sn);
                source = -1;
                for (size_t k = 0; k < sn && source < 0; k++) {
                    if (rd_kafka_ConfigEntry_source(syn[k]) == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG) {
                        source = RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG;
                        value = rd_kafka_ConfigEntry_value(syn[k]);
                    }
                }
                if (source < 0)
                    continue;
            } else if (only_source >= 0 && source != only_source) {
                continue;
            }
            e[n].name = strdup(rd_kafka_ConfigEntry_name(ce[i]));
            e[n].value = configs_strdup_or_null(value);
            e[n].sensitive = rd_kafka_ConfigEntry_is_sensitive(ce[i]) != 0;
            e[n].source = source;
            e[n].synonyms = configs_synonyms_text(ce[i], defaults_only);
            n++;
            if (!e[n - 1].name || !e[n - 1].synonyms)
                break;
        }
        if (!e || (n > 0 && (!e[n - 1].name || !e[n - 1].synonyms))) {
            if (e)
                configs_entries_free(e, n);
            snprintf(err, err_size, "out of memory");
            rc = ERR_LIMIT;
        } else {
            qsort(e, n, sizeof *e, configs_entry_cmp);
            *out = e;
            *count = n;
        }
    }
    rd_kafka_event_destroy(ev);
    return rc;
}

/* The entity names to describe when --entity-name is absent, sorted; ""
 * is the broker default.  Returns malloc'd strings in *names. */
static int configs_entities(struct tool_client *c, const struct configs_args *a, char ***names, size_t *count,
                            char *err, size_t err_size)
{
    *names = NULL;
    *count = 0;
    size_t cap = 1;
    const struct rd_kafka_metadata *md = NULL;
    if (a->entity_name || a->entity_default) {
        char **one = calloc(1, sizeof *one);
        if (!one || !(one[0] = strdup(a->entity_default ? "" : a->entity_name))) {
            free(one);
            snprintf(err, err_size, "out of memory");
            return ERR_LIMIT;
        }
        *names = one;
        *count = 1;
        return 0;
    }
    if (tool_metadata_get(c, &md, err, err_size) < 0)
        return ERR_TIMEOUT;
    cap = (size_t)(configs_is_topics(a) ? md->topic_cnt : md->broker_cnt + 1) + 1;
    char **v = calloc(cap, sizeof *v);
    size_t n = 0;
    if (v && configs_is_topics(a)) {
        for (int i = 0; i < md->topic_cnt; i++)
            if (md->topics[i].err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
                v[n++] = strdup(md->topics[i].topic);
    } else if (v) {
        int32_t *ids = calloc((size_t)md->broker_cnt + 1, sizeof *ids);
        for (int i = 0; ids && i < md->broker_cnt; i++)
            ids[i] = md->brokers[i].id;
        for (int i = 0; ids && i < md->broker_cnt; i++) /* few brokers: insertion sort */
            for (int j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
                int32_t t = ids[j];
                ids[j] = ids[j - 1];
                ids[j - 1] = t;
            }
        for (int i = 0; ids && i < md->broker_cnt; i++) {
            char id[16];
            snprintf(id, sizeof id, "%d", (int)ids[i]);
            v[n++] = strdup(id);
        }
        free(ids);
        v[n++] = strdup("");
    }
    rd_kafka_metadata_destroy(md);
    bool ok = v != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = v[i] != NULL;
    if (!ok) {
        for (size_t i = 0; v && i < n; i++)
            free(v[i]);
        free(v);
        snprintf(err, err_size, "out of memory");
        return ERR_LIMIT;
    }
    if (configs_is_topics(a))
        qsort(v, n, sizeof *v, tool_str_cmp);
    *names = v;
    *count = n;
    return 0;
}

static int configs_dynamic_source(const struct configs_args *a, const char *entity)
{
    if (configs_is_topics(a))
        return RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
    return entity[0] ? RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG
                     : RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG;
}

/* The lowest broker id in the cluster, as text. */
static int configs_any_broker(struct tool_client *c, char *out, size_t out_size, char *err, size_t err_size)
{
    const struct rd_kafka_metadata *md = NULL;
    if (tool_metadata_get(c, &md, err, err_size) < 0)
        return ERR_TIMEOUT;
    int rc = 0;
    if (md->broker_cnt < 1) {
        snprintf(err, err_size, "The cluster has no brokers");
        rc = ERR_NOT_FOUND;
    } else {
        int32_t id = md->brokers[0].id;
        for (int i = 1; i < md->broker_cnt; i++)
            if (md->brokers[i].id < id)
                id = md->brokers[i].id;
        snprintf(out, out_size, "%d", (int)id);
    }
    rd_kafka_metadata_destroy(md);
    return rc;
}

static int configs_describe(struct tool_client *c, const struct configs_args *a)
{
    char err[TOOL_ERRSTR_MAX];
    char **names = NULL;
    size_t n = 0;
    if (configs_entities(c, a, &names, &n, err, sizeof err) < 0)
        return configs_fail(a, RD_KAFKA_RESP_ERR__TIMED_OUT, err);
    int rc = 0;
    rd_kafka_ResourceType_t type = configs_is_topics(a) ? RD_KAFKA_RESOURCE_TOPIC : RD_KAFKA_RESOURCE_BROKER;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *entity = names[i];
        bool is_default = entity[0] == '\0';
        int only = a->all && !is_default ? -1 : configs_dynamic_source(a, entity);
        struct configs_entry *e = NULL;
        size_t en = 0;
        rd_kafka_resp_err_t kerr;
        const char *target = entity;
        char broker_id[16];
        if (is_default) {
            if (configs_any_broker(c, broker_id, sizeof broker_id, err, sizeof err) < 0) {
                rc = configs_fail(a, RD_KAFKA_RESP_ERR__TIMED_OUT, err);
                break;
            }
            target = broker_id;
        }
        if (configs_fetch(c, type, target, only, is_default, &e, &en, &kerr, err, sizeof err) < 0) {
            rc = configs_fail(a, kerr, err);
            break;
        }
        if (is_default)
            printf("Default configs for %s in the cluster are:\n", a->entity_type);
        else
            printf("%s configs for %s %s are:\n", a->all ? "All" : "Dynamic", configs_is_topics(a) ? "topic" : "broker",
                   entity);
        for (size_t k = 0; k < en; k++)
            printf("  %s=%s sensitive=%s synonyms={%s}\n", e[k].name, e[k].value ? e[k].value : "null",
                   e[k].sensitive ? "true" : "false", e[k].synonyms);
        configs_entries_free(e, en);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    fflush(stdout);
    return rc;
}

/* The cluster-wide broker default: IncrementalAlterConfigs (SET / DELETE)
 * on the BROKER resource named "", which librdkafka 2.0.2 cannot address,
 * through the project's own client (kclient). */
static int configs_alter_default(const struct configs_args *a, const struct tool_kv *adds, size_t nadd,
                                 const struct tool_kv *dels, size_t ndel)
{
    struct kmsg_incremental_alter_configs_req_config *cfgs = calloc(nadd + ndel + 1, sizeof *cfgs);
    if (!cfgs)
        return configs_fail(a, RD_KAFKA_RESP_ERR__FAIL, "out of memory");
    for (size_t i = 0; i < nadd + ndel; i++) {
        kmsg_incremental_alter_configs_req_config_init(&cfgs[i]);
        bool add = i < nadd;
        cfgs[i].name = bytes_cstr(add ? adds[i].name : dels[i - nadd].name);
        cfgs[i].config_operation = add ? 0 : 1; /* SET, DELETE */
        cfgs[i].value = add ? bytes_cstr(adds[i].value) : (struct bytes){ NULL, 0 };
    }
    struct kmsg_incremental_alter_configs_req_resource res;
    kmsg_incremental_alter_configs_req_resource_init(&res);
    res.resource_type = 4; /* BROKER */
    res.resource_name = bytes_cstr("");
    res.configs = cfgs;
    res.configs_count = (int32_t)(nadd + ndel);
    struct kmsg_incremental_alter_configs_req req;
    kmsg_incremental_alter_configs_req_init(&req);
    req.resources = &res;
    req.resources_count = 1;
    struct buf body;
    buf_init(&body, 1 << 20);
    struct kclient kc;
    struct arena ar;
    arena_init(&ar, 4096, 1 << 20);
    struct kmsg_incremental_alter_configs_resp resp;
    struct bytes out;
    char err[TOOL_ERRSTR_MAX] = "";
    int rc = kmsg_incremental_alter_configs_req_encode(&body, 0, &req);
    if (rc == 0 && (rc = kclient_connect(&kc, a->bootstrap, 30000)) == 0) {
        rc = kclient_call(&kc, KMSG_API_INCREMENTAL_ALTER_CONFIGS, 0, buf_bytes(&body), &out);
        if (rc == 0) {
            struct kwire_reader r;
            kwire_reader_init(&r, out);
            rc = kmsg_incremental_alter_configs_resp_decode(&r, 0, &ar, &resp);
        }
        kclient_close(&kc);
    }
    buf_deinit(&body);
    free(cfgs);
    int ret = 0;
    if (rc < 0) {
        snprintf(err, sizeof err, "IncrementalAlterConfigs to %s failed: %s", a->bootstrap, err_str(rc));
        ret = configs_fail(a, RD_KAFKA_RESP_ERR__TRANSPORT, err);
    } else if (resp.responses_count != 1) {
        ret = configs_fail(a, RD_KAFKA_RESP_ERR__BAD_MSG, "the broker answered no result for the default resource");
    } else if (resp.responses[0].error_code != 0) {
        rd_kafka_resp_err_t kerr = (rd_kafka_resp_err_t)resp.responses[0].error_code;
        struct bytes m = resp.responses[0].error_message;
        snprintf(err, sizeof err, "%.*s", m.ptr ? (int)m.len : 0, m.ptr ? (const char *)m.ptr : "");
        ret = configs_fail(a, kerr, err[0] ? err : rd_kafka_err2str(kerr));
    } else {
        printf("Completed updating default config for %s in the cluster.\n", a->entity_type);
        fflush(stdout);
    }
    arena_deinit(&ar);
    return ret;
}

/* Read-modify-write with AlterConfigs (see the file comment). */
static int configs_alter_run(struct tool_client *c, const struct configs_args *a, const struct tool_kv *adds,
                             size_t nadd, const struct tool_kv *dels, size_t ndel)
{
    char err[TOOL_ERRSTR_MAX];
    if (a->entity_default)
        return configs_alter_default(a, adds, nadd, dels, ndel);
    const char *entity = a->entity_name;
    rd_kafka_ResourceType_t type = configs_is_topics(a) ? RD_KAFKA_RESOURCE_TOPIC : RD_KAFKA_RESOURCE_BROKER;
    struct configs_entry *cur = NULL;
    size_t ncur = 0;
    rd_kafka_resp_err_t kerr;
    if (configs_fetch(c, type, entity, configs_dynamic_source(a, entity), false, &cur, &ncur, &kerr, err,
                      sizeof err) < 0)
        return configs_fail(a, kerr, err);
    /* every key to delete must be set now (Kafka: "Invalid config(s): ...") */
    char missing[CONFIGS_LINE_MAX];
    size_t mlen = 0;
    missing[0] = '\0';
    for (size_t d = 0; d < ndel; d++) {
        bool found = false;
        for (size_t i = 0; i < ncur && !found; i++)
            found = strcmp(cur[i].name, dels[d].name) == 0;
        if (!found) {
            int w = snprintf(missing + mlen, sizeof missing - mlen, "%s%s", mlen ? "," : "", dels[d].name);
            if (w > 0 && (size_t)w < sizeof missing - mlen)
                mlen += (size_t)w;
        }
    }
    if (mlen > 0) {
        configs_entries_free(cur, ncur);
        fprintf(stderr, "Invalid config(s): %s\n", missing);
        return 1;
    }
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(type, entity);
    int rc = res ? 0 : ERR_LIMIT;
    for (size_t i = 0; i < ncur && rc == 0; i++) {
        bool dropped = false;
        for (size_t d = 0; d < ndel && !dropped; d++)
            dropped = strcmp(cur[i].name, dels[d].name) == 0;
        for (size_t k = 0; k < nadd && !dropped; k++)
            dropped = strcmp(cur[i].name, adds[k].name) == 0; /* replaced below */
        if (!dropped && cur[i].value && rd_kafka_ConfigResource_set_config(res, cur[i].name, cur[i].value))
            rc = ERR_LIMIT;
    }
    for (size_t k = 0; k < nadd && rc == 0; k++)
        if (rd_kafka_ConfigResource_set_config(res, adds[k].name, adds[k].value))
            rc = ERR_LIMIT;
    configs_entries_free(cur, ncur);
    if (rc < 0) {
        if (res)
            rd_kafka_ConfigResource_destroy(res);
        return configs_fail(a, RD_KAFKA_RESP_ERR__FAIL, "out of memory");
    }
    rd_kafka_AdminOptions_t *o = tool_admin_options(c, RD_KAFKA_ADMIN_OP_ALTERCONFIGS);
    rd_kafka_AlterConfigs(c->rk, &res, 1, o, c->queue);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_event_t *ev = tool_client_wait(c, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT, err, sizeof err);
    if (!ev)
        return configs_fail(a, RD_KAFKA_RESP_ERR__TIMED_OUT, err);
    size_t rn = 0;
    const rd_kafka_ConfigResource_t **rr =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &rn);
    kerr = rn == 1 ? rd_kafka_ConfigResource_error(rr[0]) : RD_KAFKA_RESP_ERR__BAD_MSG;
    if (kerr) {
        const char *msg = rn == 1 ? rd_kafka_ConfigResource_error_string(rr[0]) : NULL;
        snprintf(err, sizeof err, "%s", msg && msg[0] ? msg : rd_kafka_err2str(kerr));
        rd_kafka_event_destroy(ev);
        return configs_fail(a, kerr, err);
    }
    rd_kafka_event_destroy(ev);
    if (entity[0])
        printf("Completed updating config for %s %s.\n", configs_is_topics(a) ? "topic" : "broker", entity);
    else
        printf("Completed updating default config for %s in the cluster.\n", a->entity_type);
    fflush(stdout);
    return 0;
}

static int configs_alter(struct tool_client *c, const struct configs_args *a)
{
    struct tool_kv *adds = calloc(CONFIGS_ITEMS_MAX, sizeof *adds);
    struct tool_kv *dels = calloc(CONFIGS_ITEMS_MAX, sizeof *dels);
    size_t nadd = 0, ndel = 0;
    int rc = 0;
    int prc = 0;
    if (!adds || !dels)
        rc = configs_arg_error("out of memory");
    else if (a->add_config && (prc = tool_kv_list_parse(a->add_config, true, adds, CONFIGS_ITEMS_MAX, &nadd)) < 0)
        rc = configs_arg_error(prc == ERR_INVALID ? "requirement failed: Invalid entity config: all configs to be "
                                                    "added must be in the format \"key=val\"."
                                                  : "Too many configs in --add-config (at most 128)");
    else if (a->delete_config && tool_kv_list_parse(a->delete_config, false, dels, CONFIGS_ITEMS_MAX, &ndel) < 0)
        rc = configs_arg_error("Too many configs in --delete-config (at most 128)");
    else
        rc = configs_alter_run(c, a, adds, nadd, dels, ndel);
    if (adds)
        tool_kv_list_free(adds, nadd);
    if (dels)
        tool_kv_list_free(dels, ndel);
    free(adds);
    free(dels);
    return rc;
}

int tool_configs_main(int argc, char **argv)
{
    struct configs_args a;
    if (argc < 2)
        return configs_usage_error("This tool helps to manipulate and describe entity config for a topic, "
                                   "broker, user or client.");
    int rc = configs_args_parse(argc, argv, &a);
    if (rc != 0)
        return rc;
    if (a.help) {
        configs_usage(stdout);
        return 0;
    }
    rc = configs_args_check(&a);
    if (rc != 0)
        return rc;
    if (configs_is_quota(&a)) {
        if (a.command_config && tool_props_plaintext_only(a.command_config, "command-config", "kafka-configs") != 0)
            return 1;
        return configs_quotas(&a);
    }
    struct tool_client c;
    char err[TOOL_ERRSTR_MAX];
    if (tool_client_create(&c, a.bootstrap, a.command_config, err, sizeof err) < 0)
        return configs_arg_error(err);
    rc = a.action == CONFIGS_DESCRIBE ? configs_describe(&c, &a) : configs_alter(&c, &a);
    tool_client_destroy(&c);
    return rc;
}
