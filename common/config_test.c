/*
 * config_test.c - the configuration loader against Kafka's own rules:
 * every .properties syntax case, YAML flattening, cp-kafka environment
 * names, precedence, derived values, each validation message, and the seed
 * tutorial's docker-compose setups.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/log.h"

/* ---- helpers ------------------------------------------------------------ */

#define PAIRS_MAX 32
struct pairs {
    int count;
    char key[PAIRS_MAX][128];
    char value[PAIRS_MAX][256];
};

static int pairs_cb(void *arg, const char *key, const char *value)
{
    struct pairs *p = arg;
    ck_assert_int_lt(p->count, PAIRS_MAX);
    snprintf(p->key[p->count], sizeof p->key[0], "%s", key);
    snprintf(p->value[p->count], sizeof p->value[0], "%s", value);
    p->count++;
    return 0;
}

static struct pairs props(const char *text)
{
    struct pairs p;
    memset(&p, 0, sizeof p);
    ck_assert_int_eq(config_properties_parse(text, strlen(text), &p, pairs_cb), 0);
    return p;
}

static struct config *cfg_new(void)
{
    struct config *cfg = NULL;
    ck_assert_int_eq(config_create(&cfg), 0);
    return cfg;
}

/* A config from properties text + env, finalized; expect success. */
static struct config *cfg_ok(const char *text, char *const *envp)
{
    struct config *cfg = cfg_new();
    ck_assert_int_eq(config_load_properties(cfg, text, strlen(text), "file:test"), 0);
    ck_assert_int_eq(config_load_env(cfg, envp), 0);
    int rc = config_finalize(cfg);
    if (rc != 0)
        ck_abort_msg("finalize failed: %s", config_errors(cfg));
    return cfg;
}

/* Expect finalize to fail with exactly one error line equal to want. */
static void expect_error(const char *text, const char *want)
{
    struct config *cfg = cfg_new();
    ck_assert_int_eq(config_load_properties(cfg, text, strlen(text), "file:test"), 0);
    ck_assert_int_eq(config_finalize(cfg), ERR_CONFIG);
    const char *errs = config_errors(cfg);
    char line[1200];
    snprintf(line, sizeof line, "%s\n", want);
    ck_assert_str_eq(errs, line);
    config_destroy(cfg);
}

/* Minimal valid KRaft combined node, to which a test appends one change. */
#define KRAFT_BASE                                                   \
    "process.roles=broker,controller\n"                              \
    "node.id=1\n"                                                    \
    "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\n"               \
    "controller.listener.names=CONTROLLER\n"                         \
    "controller.quorum.voters=1@localhost:9093\n"

/* ---- .properties syntax ------------------------------------------------- */

START_TEST(test_props_comments_and_separators)
{
    struct pairs p = props("# comment\n"
                           "! bang comment\n"
                           "   # indented comment\n"
                           "\n"
                           "a=1\n"
                           "b:2\n"
                           "c 3\n"
                           "d = 4\n"
                           "e  :  5\n"
                           "f\t\t6\n"
                           "   g=7\n"
                           "h\n"
                           "i=\n"
                           "j==x\n"
                           "k = a b  \n");
    ck_assert_int_eq(p.count, 11);
    const char *keys[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k" };
    const char *vals[] = { "1", "2", "3", "4", "5", "6", "7", "", "", "=x", "a b  " };
    for (int i = 0; i < 11; i++) {
        ck_assert_str_eq(p.key[i], keys[i]);
        ck_assert_str_eq(p.value[i], vals[i]);
    }
}
END_TEST

START_TEST(test_props_line_endings_and_continuations)
{
    struct pairs p = props("a=x\r\n"
                           "b=y\r"
                           "c=one,\\\n"
                           "     two,\\\r\n"
                           "\t three\n"
                           "d=ends\\\\\n"       /* even backslashes: no continuation */
                           "e=f\\\n"
                           "   \n"              /* blank continued line ends it */
                           "# comment \\\n"     /* comments never continue */
                           "g=h\\");            /* continuation at EOF */
    ck_assert_int_eq(p.count, 6);
    ck_assert_str_eq(p.value[0], "x");
    ck_assert_str_eq(p.value[1], "y");
    ck_assert_str_eq(p.key[2], "c");
    ck_assert_str_eq(p.value[2], "one,two,three");
    ck_assert_str_eq(p.value[3], "ends\\");
    ck_assert_str_eq(p.value[4], "f");
    ck_assert_str_eq(p.key[5], "g");
    ck_assert_str_eq(p.value[5], "h");
}
END_TEST

START_TEST(test_props_escapes)
{
    struct pairs p = props("tab=a\\tb\n"
                           "nl=a\\nb\\rc\\fd\n"
                           "back=a\\\\b\n"
                           "key\\=with\\:seps\\ sp=v\\=\\:\n"
                           "other=\\q\\#\\!\n"
                           "uni=\\u0041\\u00e9\\u20AC\n"
                           "pair=\\uD83D\\uDE00\n"
                           "\\#notcomment=1\n");
    ck_assert_int_eq(p.count, 8);
    ck_assert_str_eq(p.value[0], "a\tb");
    ck_assert_str_eq(p.value[1], "a\nb\rc\fd");
    ck_assert_str_eq(p.value[2], "a\\b");
    ck_assert_str_eq(p.key[3], "key=with:seps sp");
    ck_assert_str_eq(p.value[3], "v=:");
    ck_assert_str_eq(p.value[4], "q#!");
    ck_assert_str_eq(p.value[5], "A\xC3\xA9\xE2\x82\xAC");
    ck_assert_str_eq(p.value[6], "\xF0\x9F\x98\x80");
    ck_assert_str_eq(p.key[7], "#notcomment");
}
END_TEST

START_TEST(test_props_bad_unicode)
{
    struct pairs p;
    memset(&p, 0, sizeof p);
    const char *t = "a=\\u12G4\n";
    ck_assert_int_eq(config_properties_parse(t, strlen(t), &p, pairs_cb), ERR_DECODE);
    t = "a=\\u12";
    ck_assert_int_eq(config_properties_parse(t, strlen(t), &p, pairs_cb), ERR_DECODE);
    struct config *cfg = cfg_new();
    t = "log.dirs=\\uzzzz\n";
    ck_assert_int_eq(config_load_properties(cfg, t, strlen(t), "file:x.properties"), ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(config_errors(cfg), "file:x.properties has a malformed \\uXXXX"));
    config_destroy(cfg);
}
END_TEST

/* ---- YAML --------------------------------------------------------------- */

START_TEST(test_yaml_flatten)
{
    const char *y = "# a comment\n"
                    "node.id: 3\n"
                    "log:\n"
                    "  dirs: /data/a\n"
                    "  retention:\n"
                    "    hours: 24\n"
                    "process.roles: [broker, controller]\n"
                    "controller:\n"
                    "  quorum.voters:\n"
                    "    - 3@localhost:9093\n"
                    "  listener.names: CONTROLLER\n"
                    "listeners: 'PLAINTEXT://:9092,CONTROLLER://:9093'\n"
                    "auto.create.topics.enable: false\n"
                    "log.retention.ms:\n"
                    "log.roll.ms: ~\n"
                    "broker.rack: ''\n";
    struct config *cfg = cfg_new();
    ck_assert_int_eq(config_load_yaml(cfg, y, strlen(y), "file:s.yaml"), 0);
    ck_assert_str_eq(config_value_find(cfg, "log.dirs"), "/data/a");
    ck_assert_str_eq(config_value_find(cfg, "log.retention.hours"), "24");
    ck_assert_str_eq(config_value_find(cfg, "process.roles"), "broker,controller");
    ck_assert_str_eq(config_value_find(cfg, "controller.quorum.voters"), "3@localhost:9093");
    ck_assert_ptr_null(config_value_find(cfg, "log.retention.ms")); /* YAML null: unset */
    ck_assert_ptr_null(config_value_find(cfg, "log.roll.ms"));
    ck_assert_str_eq(config_value_find(cfg, "broker.rack"), ""); /* quoted empty is a value */
    ck_assert_int_eq(config_finalize(cfg), 0);
    const struct config_node *n = config_node_get(cfg);
    ck_assert_int_eq(n->node_id, 3);
    ck_assert_uint_eq(n->roles, CONFIG_ROLE_BROKER | CONFIG_ROLE_CONTROLLER);
    ck_assert_int_eq(n->retention_ms, 24LL * 3600 * 1000);
    ck_assert_int_eq(n->auto_create_topics_enable, 0);
    struct config_entry e;
    for (size_t i = 0; i < config_broker_key_count(); i++) {
        config_broker_entry_get(cfg, i, &e);
        if (strcmp(e.key->name, "log.dirs") == 0)
            break;
    }
    ck_assert_str_eq(e.origin, "file:s.yaml");
    ck_assert_int_eq(e.source, CONFIG_SOURCE_FILE);
    config_destroy(cfg);
}
END_TEST

START_TEST(test_yaml_errors)
{
    const char *bad[] = {
        "a: [b, {c: d}]\n",      /* mapping in a list */
        "- a\n- b\n",            /* root is a list */
        "a: b\n  c: d\n",        /* syntax */
        "x: &a 1\ny: *a\n",      /* alias */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct config *cfg = cfg_new();
        ck_assert_int_eq(config_load_yaml(cfg, bad[i], strlen(bad[i]), "file:b.yaml"), ERR_CONFIG);
        const char *e = config_errors(cfg);
        ck_assert_msg(strncmp(e, "config error: file:b.yaml:", 26) == 0, "case %zu: %s", i, e);
        ck_assert_ptr_eq(strchr(e, '\n'), e + strlen(e) - 1); /* one line */
        config_destroy(cfg);
    }
}
END_TEST

START_TEST(test_load_file_by_extension)
{
    char dir[] = "/tmp/samsa-config-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char yp[256], pp[256];
    snprintf(yp, sizeof yp, "%s/server.yml", dir);
    snprintf(pp, sizeof pp, "%s/server.properties", dir);
    FILE *f = fopen(yp, "w");
    fputs("log:\n  dirs: /y\n", f);
    fclose(f);
    f = fopen(pp, "w");
    fputs("log.dirs=/p\nnum.io.threads=4\n", f);
    fclose(f);
    struct config *cfg = cfg_new();
    ck_assert_int_eq(config_load_file(cfg, pp), 0);
    ck_assert_int_eq(config_load_file(cfg, yp), 0); /* same rank: later wins */
    ck_assert_str_eq(config_value_find(cfg, "log.dirs"), "/y");
    ck_assert_str_eq(config_value_find(cfg, "num.io.threads"), "4");
    config_destroy(cfg);
    cfg = cfg_new();
    char missing[300];
    snprintf(missing, sizeof missing, "%s/nope.properties", dir);
    ck_assert_int_lt(config_load_file(cfg, missing), 0);
    ck_assert_ptr_nonnull(strstr(config_errors(cfg), "cannot read config file"));
    config_destroy(cfg);
    unlink(yp);
    unlink(pp);
    rmdir(dir);
}
END_TEST

/* ---- environment -------------------------------------------------------- */

START_TEST(test_env_names)
{
    char out[128];
    struct { const char *var, *key; } cases[] = {
        { "KAFKA_LOG_DIRS", "log.dirs" },
        { "KAFKA_WITH___DASH", "with-dash" },
        { "KAFKA_A__B", "a_b" },
        { "KAFKA_CONFLUENT__X", "confluent_x" },
        { "KAFKA_NODE_ID", "node.id" },
        { "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "listener.security.protocol.map" },
        { "KAFKA_A____B", "a-.b" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_int_eq(config_env_to_key(cases[i].var, out, sizeof out), 0);
        ck_assert_str_eq(out, cases[i].key);
    }
    const char *ignored[] = { "KAFKA_HEAP_OPTS", "KAFKA_JVM_PERFORMANCE_OPTS", "KAFKA_OPTS",
                              "KAFKA_LOG4J_OPTS", "KAFKA_JMX_OPTS", "KAFKA_GC_LOG_OPTS",
                              "KAFKA_DEBUG", "KAFKA_VERSION", "PATH", "KAFKA_", "CLUSTER_ID" };
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
        ck_assert_int_eq(config_env_to_key(ignored[i], out, sizeof out), ERR_NOT_FOUND);
    ck_assert_int_eq(config_env_to_key("KAFKA_LOG_DIRS", out, 5), ERR_LIMIT);
}
END_TEST

START_TEST(test_env_load)
{
    char *env[] = { "PATH=/bin", "KAFKA_HEAP_OPTS=-Xmx1G", "KAFKA_NUM_IO_THREADS=5",
                    "CLUSTER_ID=MkU3OEVBNTcwNTJENDM2Qk", "KAFKA_LOG_DIRS=/env/d1,/env/d2", NULL };
    struct config *cfg = cfg_ok("", env);
    const struct config_node *n = config_node_get(cfg);
    ck_assert_int_eq(n->num_io_threads, 5);
    ck_assert_str_eq(n->cluster_id, "MkU3OEVBNTcwNTJENDM2Qk");
    ck_assert_uint_eq(n->log_dir_count, 2);
    ck_assert_str_eq(n->log_dirs[1], "/env/d2");
    ck_assert_str_eq(n->metadata_log_dir, "/env/d1");
    /* The JVM variable is accepted and ignored: no unknown-key warning. */
    ck_assert_ptr_null(strstr(config_warnings(cfg), "heap"));
    config_destroy(cfg);
}
END_TEST

/* ---- precedence and derived values -------------------------------------- */

START_TEST(test_precedence)
{
    struct config *cfg = cfg_new();
    /* Loaded in reverse order: rank, not order, decides. */
    ck_assert_int_eq(config_override(cfg, "num.io.threads=9"), 0);
    char *env[] = { "KAFKA_NUM_IO_THREADS=7", "KAFKA_NUM_NETWORK_THREADS=6", NULL };
    ck_assert_int_eq(config_load_env(cfg, env), 0);
    const char *t = "num.io.threads=2\nnum.network.threads=2\nnum.partitions=4\n";
    ck_assert_int_eq(config_load_properties(cfg, t, strlen(t), "file:/etc/s.properties"), 0);
    ck_assert_int_eq(config_finalize(cfg), 0);
    const struct config_node *n = config_node_get(cfg);
    ck_assert_int_eq(n->num_io_threads, 9);
    ck_assert_int_eq(n->num_network_threads, 6);
    ck_assert_int_eq(n->num_partitions, 4);
    ck_assert_int_eq(n->default_replication_factor, 1);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    config_print(cfg, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "\nnum.io.threads=9  # override\n"));
    ck_assert_ptr_nonnull(strstr(buf, "\nnum.network.threads=6  # env:KAFKA_NUM_NETWORK_THREADS\n"));
    ck_assert_ptr_nonnull(strstr(buf, "\nnum.partitions=4  # file:/etc/s.properties\n"));
    ck_assert_ptr_nonnull(strstr(buf, "\nlog.segment.bytes=1073741824  # default\n"));
    ck_assert_ptr_nonnull(strstr(buf, "\nssl.keystore.password=  # default (null)\n"));
    free(buf);
    config_destroy(cfg);

    cfg = cfg_new();
    ck_assert_int_eq(config_override(cfg, "novalue"), ERR_CONFIG);
    ck_assert_str_eq(config_errors(cfg),
                     "config error: --override novalue is not key=value; write it like "
                     "--override log.dirs=/data\n");
    config_destroy(cfg);
}
END_TEST

START_TEST(test_derived)
{
    struct config *cfg = cfg_ok("", NULL);
    const struct config_node *n = config_node_get(cfg);
    ck_assert_int_eq(n->retention_ms, 168LL * 3600000);
    ck_assert_int_eq(n->roll_ms, 168LL * 3600000);
    ck_assert_int_eq(n->node_id, -1);
    ck_assert_uint_eq(n->roles, 0);
    ck_assert_uint_eq(n->log_dir_count, 1);
    ck_assert_str_eq(n->log_dirs[0], "/tmp/kafka-logs");
    ck_assert_uint_eq(n->listener_count, 1);
    ck_assert_str_eq(n->listeners[0].name, "PLAINTEXT");
    ck_assert_str_eq(n->listeners[0].host, "");
    ck_assert_uint_eq(n->listeners[0].port, 9092);
    ck_assert_uint_eq(n->advertised_count, 1);
    ck_assert_uint_eq(n->advertised[0].port, 9092);
    ck_assert_str_eq(n->inter_broker_listener_name, "PLAINTEXT");
    ck_assert_int_eq(n->flush_interval_messages, INT64_MAX);
    ck_assert_int_eq(n->flush_interval_ms, INT64_MAX);
    ck_assert_int_eq(n->message_max_bytes, 1048588);
    ck_assert_int_eq(n->socket_request_max_bytes, 104857600);
    ck_assert_int_eq(n->segment_bytes, 1073741824);
    ck_assert_int_eq(n->retention_check_interval_ms, 300000);
    ck_assert_int_eq(n->offsets_topic_replication_factor, 3);
    /* the follower fetcher's settings, with Kafka's defaults */
    ck_assert_int_eq(n->num_replica_fetchers, 1);
    ck_assert_int_eq(n->replica_fetch_max_bytes, 1048576);
    ck_assert_int_eq(n->replica_fetch_response_max_bytes, 10485760);
    ck_assert_int_eq(n->replica_fetch_min_bytes, 1);
    ck_assert_int_eq(n->replica_fetch_wait_max_ms, 500);
    ck_assert_int_eq(n->replica_fetch_backoff_ms, 1000);
    ck_assert_int_eq(n->broker_session_timeout_ms, 9000);
    ck_assert_int_eq(n->io_uring, 1);
    ck_assert_int_eq(n->log_level, LOG_INFO);
    ck_assert_str_eq(n->cleanup_policy, "delete");
    config_destroy(cfg);

    cfg = cfg_ok("log.retention.hours=1\nlog.retention.minutes=2\n", NULL);
    ck_assert_int_eq(config_node_get(cfg)->retention_ms, 120000);
    config_destroy(cfg);
    cfg = cfg_ok("log.retention.hours=1\nlog.retention.minutes=2\nlog.retention.ms=5\n", NULL);
    ck_assert_int_eq(config_node_get(cfg)->retention_ms, 5);
    config_destroy(cfg);
    cfg = cfg_ok("log.retention.hours=-1\n", NULL);
    ck_assert_int_eq(config_node_get(cfg)->retention_ms, -1);
    config_destroy(cfg);
    cfg = cfg_ok("log.roll.hours=2\n", NULL);
    ck_assert_int_eq(config_node_get(cfg)->roll_ms, 7200000);
    config_destroy(cfg);
    cfg = cfg_ok("log.roll.hours=2\nlog.roll.ms=1000\nlog.flush.scheduler.interval.ms=3000\n", NULL);
    ck_assert_int_eq(config_node_get(cfg)->roll_ms, 1000);
    ck_assert_int_eq(config_node_get(cfg)->flush_interval_ms, 3000);
    config_destroy(cfg);
    cfg = cfg_ok("log.dir=/one\n", NULL);
    ck_assert_str_eq(config_node_get(cfg)->log_dirs[0], "/one");
    config_destroy(cfg);
    cfg = cfg_ok("log.dir=/one\nlog.dirs= /a , /b ,\nmetadata.log.dir=/meta\n", NULL);
    ck_assert_uint_eq(config_node_get(cfg)->log_dir_count, 2);
    ck_assert_str_eq(config_node_get(cfg)->log_dirs[0], "/a");
    ck_assert_str_eq(config_node_get(cfg)->log_dirs[1], "/b");
    ck_assert_str_eq(config_node_get(cfg)->metadata_log_dir, "/meta");
    config_destroy(cfg);
    cfg = cfg_ok("num.io.threads = 4   \nlog.dirs=  /t  \n", NULL);
    ck_assert_str_eq(config_value_find(cfg, "num.io.threads"), "4"); /* trimmed like Kafka */
    ck_assert_str_eq(config_value_find(cfg, "log.dirs"), "/t");
    config_destroy(cfg);
    cfg = cfg_ok("broker.id=7\n", NULL);
    ck_assert_int_eq(config_node_get(cfg)->node_id, 7);
    config_destroy(cfg);
    cfg = cfg_ok("broker.id=7\nnode.id=7\n", NULL);
    ck_assert_int_eq(config_node_get(cfg)->node_id, 7);
    config_destroy(cfg);
    cfg = cfg_ok("listeners=PLAINTEXT://:9092,EXTERNAL://[::1]:9093\n"
                 "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT\n"
                 "advertised.listeners=PLAINTEXT://h1:9092,EXTERNAL://h1:9093\n", NULL);
    n = config_node_get(cfg);
    ck_assert_str_eq(n->listeners[1].host, "::1");
    ck_assert_int_eq(n->listeners[1].security_protocol, CONFIG_SP_PLAINTEXT);
    ck_assert_str_eq(n->advertised[0].host, "h1");
    config_destroy(cfg);
}
END_TEST

/* No TLS/SASL yet: a listener mapped to SSL or SASL_* would be served as
 * plaintext, so it stops the start (by the default map too, by name). */
START_TEST(test_security_listeners_refused)
{
    expect_error("listeners=PLAINTEXT://:9092,SSL://:9093\n",
                 "config error: listeners=PLAINTEXT://:9092,SSL://:9093 listener SSL uses security "
                 "protocol SSL (listener.security.protocol.map), which is not supported yet: Samsa "
                 "has no TLS/SASL; remove SSL from listeners, or map it to PLAINTEXT if plaintext "
                 "is meant");
    expect_error("listeners=SASL_PLAINTEXT://:9092\n",
                 "config error: listeners=SASL_PLAINTEXT://:9092 listener SASL_PLAINTEXT uses "
                 "security protocol SASL_PLAINTEXT (listener.security.protocol.map), which is not "
                 "supported yet: Samsa has no TLS/SASL; remove SASL_PLAINTEXT from listeners, or "
                 "map it to PLAINTEXT if plaintext is meant");
    expect_error("listeners=PLAINTEXT://:9092,EXTERNAL://:9093\n"
                 "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,EXTERNAL:SASL_SSL\n",
                 "config error: listeners=PLAINTEXT://:9092,EXTERNAL://:9093 listener EXTERNAL uses "
                 "security protocol SASL_SSL (listener.security.protocol.map), which is not "
                 "supported yet: Samsa has no TLS/SASL; remove EXTERNAL from listeners, or map it "
                 "to PLAINTEXT if plaintext is meant");
    /* a broker-only node never listens on CONTROLLER but dials it */
    expect_error("process.roles=broker\nnode.id=4\nlisteners=PLAINTEXT://:9092\n"
                 "controller.listener.names=CONTROLLER\n"
                 "controller.quorum.voters=1@localhost:9093\n"
                 "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:SSL\n",
                 "config error: controller.listener.names=CONTROLLER listener CONTROLLER uses "
                 "security protocol SSL (listener.security.protocol.map), which is not supported "
                 "yet: Samsa has no TLS/SASL; map CONTROLLER to PLAINTEXT");
}
END_TEST

START_TEST(test_kraft_node)
{
    struct config *cfg = cfg_ok(KRAFT_BASE "listeners=PLAINTEXT://:9092,CONTROLLER://0.0.0.0:9093\n"
                                "samsa.log.level=debug\n", NULL);
    const struct config_node *n = config_node_get(cfg);
    ck_assert_int_eq(n->node_id, 1);
    ck_assert_uint_eq(n->roles, CONFIG_ROLE_BROKER | CONFIG_ROLE_CONTROLLER);
    ck_assert_uint_eq(n->voter_count, 1);
    ck_assert_int_eq(n->voters[0].id, 1);
    ck_assert_str_eq(n->voters[0].host, "localhost");
    ck_assert_uint_eq(n->voters[0].port, 9093);
    ck_assert_uint_eq(n->controller_listener_name_count, 1);
    ck_assert_str_eq(n->controller_listener_names[0], "CONTROLLER");
    /* CONTROLLER maps to PLAINTEXT with the default map, and is not
     * advertised to clients. */
    ck_assert_uint_eq(n->listener_count, 2);
    ck_assert_int_eq(n->listeners[1].security_protocol, CONFIG_SP_PLAINTEXT);
    ck_assert_uint_eq(n->advertised_count, 1);
    ck_assert_str_eq(n->advertised[0].name, "PLAINTEXT");
    ck_assert_int_eq(n->log_level, LOG_DEBUG);
    ck_assert_str_eq(config_warnings(cfg), "");
    config_destroy(cfg);

    cfg = cfg_ok("process.roles=broker\nnode.id=4\nlisteners=PLAINTEXT://:9092\n"
                 "controller.listener.names=CONTROLLER\n"
                 "controller.quorum.bootstrap.servers=c1:9093,[::1]:9093\n", NULL);
    n = config_node_get(cfg);
    ck_assert_uint_eq(n->roles, CONFIG_ROLE_BROKER);
    ck_assert_uint_eq(n->bootstrap_server_count, 2);
    ck_assert_str_eq(n->bootstrap_servers[1].host, "::1");
    config_destroy(cfg);
}
END_TEST

/* ---- validation messages ------------------------------------------------ */

START_TEST(test_validation_messages)
{
    expect_error("listeners=PLAINTEXT://:99999\n",
                 "config error: listeners=PLAINTEXT://:99999 port 99999 is out of range 0-65535; "
                 "use a port like 9092, e.g. PLAINTEXT://:9092");
    expect_error("listeners=PLAINTEXT:9092\n",
                 "config error: listeners=PLAINTEXT:9092 entry 'PLAINTEXT:9092' is not "
                 "NAME://host:port; write it like PLAINTEXT://:9092");
    expect_error("listeners=PLAINTEXT://:9092,PLAINTEXT://:9093\n",
                 "config error: listeners=PLAINTEXT://:9092,PLAINTEXT://:9093 listener name "
                 "PLAINTEXT appears twice; give each listener a unique name");
    expect_error("listeners=PLAINTEXT://:9092,SSL://:9092\n",
                 "config error: listeners=PLAINTEXT://:9092,SSL://:9092 port 9092 is used by both "
                 "PLAINTEXT and SSL; give each listener its own port");
    expect_error("listeners=PLAINTEXT://0.0.0.0:9092\nadvertised.listeners=PLAINTEXT://0.0.0.0:9092\n",
                 "config error: advertised.listeners=PLAINTEXT://0.0.0.0:9092 host 0.0.0.0 of "
                 "PLAINTEXT is not routable; advertise a host name or IP clients can reach, e.g. "
                 "PLAINTEXT://localhost:9092");
    expect_error("listeners=PLAINTEXT://0.0.0.0:9092\n",
                 "config error: listeners=PLAINTEXT://0.0.0.0:9092 binds PLAINTEXT to 0.0.0.0 and "
                 "advertised.listeners is not set, so clients would be told to connect to 0.0.0.0; "
                 "set advertised.listeners=PLAINTEXT://<host clients can reach>:9092, e.g. "
                 "PLAINTEXT://localhost:9092");
    expect_error("listeners=INTERNAL://:9092\ninter.broker.listener.name=INTERNAL\n",
                 "config error: listeners=INTERNAL://:9092 listener name INTERNAL is not in "
                 "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:"
                 "SASL_PLAINTEXT,SASL_SSL:SASL_SSL; add INTERNAL:PLAINTEXT (or its protocol) to "
                 "listener.security.protocol.map");
    expect_error("process.roles=broker\ncontroller.quorum.voters=1@localhost:9093\n"
                 "controller.listener.names=CONTROLLER\n",
                 "config error: node.id=-1 is not set but process.roles=broker needs it; set "
                 "node.id to a non-negative id unique in the cluster, e.g. node.id=1");
    expect_error("num.io.threads=eight\n",
                 "config error: num.io.threads=eight is not a valid 32-bit integer; use a whole "
                 "number like the default 8");
    expect_error("num.io.threads=0\n",
                 "config error: num.io.threads=0 is out of range; use a value from 1 to 1024");
    expect_error("auto.create.topics.enable=yes\n",
                 "config error: auto.create.topics.enable=yes is not a boolean; use true or false");
    expect_error("log.retention.ms=12x\n",
                 "config error: log.retention.ms=12x is not a valid 64-bit integer; use a whole "
                 "number");
    expect_error("process.roles=broker,zookeeper\n",
                 "config error: process.roles=broker,zookeeper has 'zookeeper' which is not "
                 "allowed; use a comma list of broker,controller");
    expect_error("process.roles=broker,broker\n",
                 "config error: process.roles=broker,broker is not valid; use broker, controller "
                 "or broker,controller");
    expect_error("process.roles=controller\nnode.id=1\nlisteners=CONTROLLER://:9093\n"
                 "controller.listener.names=CONTROLLER\ncontroller.quorum.voters=1@localhost\n",
                 "config error: controller.quorum.voters=1@localhost entry 'localhost' has no "
                 ":port; write it like 1@localhost:9093");
    expect_error("process.roles=controller\nnode.id=1\nlisteners=CONTROLLER://:9093\n"
                 "controller.listener.names=CONTROLLER\ncontroller.quorum.voters=localhost:9093\n",
                 "config error: controller.quorum.voters=localhost:9093 entry 'localhost:9093' is "
                 "not id@host:port; write it like 1@localhost:9093");
    expect_error("process.roles=controller\nnode.id=1\nlisteners=CONTROLLER://:9093\n"
                 "controller.listener.names=CONTROLLER\ncontroller.quorum.voters=x@h:9093\n",
                 "config error: controller.quorum.voters=x@h:9093 id 'x' is not a non-negative "
                 "node id; write it like 1@localhost:9093");
    expect_error("process.roles=controller\nnode.id=4\nlisteners=CONTROLLER://:9093\n"
                 "controller.listener.names=CONTROLLER\n"
                 "controller.quorum.voters=1@a:9093,2@b:9093\n",
                 "config error: controller.quorum.voters=1@a:9093,2@b:9093 does not contain "
                 "node.id=4 but process.roles=controller includes controller; add 4@<host>:<port> "
                 "to controller.quorum.voters or drop controller from process.roles");
    expect_error("process.roles=controller\nnode.id=1\nlisteners=PLAINTEXT://:9093\n"
                 "controller.listener.names=CONTROLLER\ncontroller.quorum.voters=1@a:9093\n",
                 "config error: controller.listener.names=CONTROLLER names CONTROLLER which is "
                 "not in listeners=PLAINTEXT://:9093; add CONTROLLER://:9093 to listeners");
    expect_error("process.roles=broker\nnode.id=1\nlisteners=PLAINTEXT://:9092,CONTROLLER://:9093\n"
                 "controller.listener.names=CONTROLLER\ncontroller.quorum.voters=1@a:9093\n",
                 "config error: controller.listener.names=CONTROLLER names CONTROLLER which a "
                 "broker-only node must not listen on; remove CONTROLLER from "
                 "listeners=PLAINTEXT://:9092,CONTROLLER://:9093");
    expect_error("process.roles=controller\nnode.id=1\nlisteners=PLAINTEXT://:9092,CONTROLLER://:9093\n"
                 "controller.listener.names=CONTROLLER\ncontroller.quorum.voters=1@a:9093\n",
                 "config error: listeners=PLAINTEXT://:9092,CONTROLLER://:9093 has PLAINTEXT which is "
                 "not in controller.listener.names=CONTROLLER but process.roles=controller; remove "
                 "PLAINTEXT from listeners or add the broker role");
    expect_error("process.roles=broker\nnode.id=1\ncontroller.quorum.voters=1@a:9093\n",
                 "config error: controller.listener.names is not set but process.roles=broker "
                 "needs it; set controller.listener.names=CONTROLLER and add CONTROLLER://:9093 "
                 "to listeners of the controllers");
    expect_error("process.roles=broker\nnode.id=1\ncontroller.listener.names=CONTROLLER\n",
                 "config error: controller.quorum.voters is empty but process.roles=broker needs "
                 "a quorum; set controller.quorum.voters=1@localhost:9093 (id@host:port of every "
                 "controller)");
    expect_error("inter.broker.listener.name=INTERNAL\n",
                 "config error: inter.broker.listener.name=INTERNAL is not a listener in "
                 "listeners=PLAINTEXT://:9092; use one of PLAINTEXT or add INTERNAL://host:port "
                 "to listeners");
    expect_error("listeners=EXTERNAL://:9093\n"
                 "listener.security.protocol.map=EXTERNAL:PLAINTEXT\n",
                 "config error: inter.broker.listener.name is not set and "
                 "security.inter.broker.protocol=PLAINTEXT names no listener in "
                 "listeners=EXTERNAL://:9093; set inter.broker.listener.name to one of EXTERNAL");
    expect_error("node.id=1\nbroker.id=2\n",
                 "config error: node.id=1 and broker.id=2 disagree; set only node.id (broker.id "
                 "is its old name)");
    expect_error("listeners=A://:1\nadvertised.listeners=B://h:1\n"
                 "listener.security.protocol.map=A:PLAINTEXT,B:PLAINTEXT\n"
                 "inter.broker.listener.name=A\n",
                 "config error: advertised.listeners=B://h:1 listener name B is not in "
                 "listeners=A://:1; add B://host:port to listeners or remove it here");
    expect_error("listener.security.protocol.map=PLAINTEXT:TLS\n",
                 "config error: listener.security.protocol.map=PLAINTEXT:TLS protocol 'TLS' for "
                 "PLAINTEXT is unknown; use one of PLAINTEXT,SSL,SASL_PLAINTEXT,SASL_SSL");
    expect_error("log.dirs= , \n",
                 "config error: log.dirs=, names no directory; set log.dirs=/var/lib/samsa/data");
    expect_error("compression.type=brotli\n",
                 "config error: compression.type=brotli is not allowed; use one of "
                 "uncompressed,zstd,lz4,snappy,gzip,producer");
    expect_error("ssl.keystore.password=secret\nlog.cleaner.min.cleanable.ratio=2\n",
                 "config error: log.cleaner.min.cleanable.ratio=2 is out of range; use a value "
                 "from 0 to 1");
}
END_TEST

START_TEST(test_unknown_key_warns)
{
    struct config *cfg = cfg_ok("foo.bar=1\nlog.dirs=/x\n", NULL);
    ck_assert_ptr_nonnull(strstr(config_warnings(cfg),
                                 "unknown config key=foo.bar ignored source=file:test\n"));
    ck_assert_ptr_null(config_value_find(cfg, "foo.bar"));
    config_destroy(cfg);
    char *env[] = { "KAFKA_CREATE_TOPICS=a:1:1", NULL };
    cfg = cfg_ok("", env);
    ck_assert_ptr_nonnull(strstr(config_warnings(cfg),
                                 "unknown config key=create.topics ignored "
                                 "source=env:KAFKA_CREATE_TOPICS\n"));
    config_destroy(cfg);
}
END_TEST

/* ---- the seed tutorial's docker-compose setups --------------------------- */

START_TEST(test_seed_zookeeper_cluster)
{
    char *env[] = {
        "KAFKA_BROKER_ID=1",
        "KAFKA_ZOOKEEPER_CONNECT=test-zoopkeeper:2181",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT",
        "KAFKA_LISTENERS=INTERNAL://:29092,EXTERNAL://0.0.0.0:9092",
        "KAFKA_ADVERTISED_LISTENERS=INTERNAL://:29092,EXTERNAL://127.0.0.1:9097",
        "KAFKA_INTER_BROKER_LISTENER_NAME=INTERNAL",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR=3",
        NULL,
    };
    struct config *cfg = cfg_ok("", env);
    const struct config_node *n = config_node_get(cfg);
    ck_assert_int_eq(n->node_id, 1);
    ck_assert_uint_eq(n->listener_count, 2);
    ck_assert_str_eq(n->listeners[1].host, "0.0.0.0");
    ck_assert_uint_eq(n->advertised_count, 2);
    ck_assert_str_eq(n->advertised[1].host, "127.0.0.1");
    ck_assert_uint_eq(n->advertised[1].port, 9097);
    ck_assert_str_eq(n->inter_broker_listener_name, "INTERNAL");
    ck_assert_ptr_nonnull(strstr(config_warnings(cfg), "zookeeper.connect=test-zoopkeeper:2181 is unused"));
    config_destroy(cfg);
}
END_TEST

START_TEST(test_seed_listener_bob_fred)
{
    const char *y = "KAFKA_LISTENERS: LISTENER_BOB://kafka0:29092,LISTENER_FRED://localhost:9092\n";
    (void)y;
    char *env[] = {
        "KAFKA_LISTENERS=LISTENER_BOB://kafka0:29092,LISTENER_FRED://kafka0:9092,"
        "LISTENER_ALICE://kafka0:29094",
        "KAFKA_ADVERTISED_LISTENERS=LISTENER_BOB://kafka0:29092,LISTENER_FRED://localhost:9092,"
        "LISTENER_ALICE://never-gonna-give-you-up:29094",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=LISTENER_BOB:PLAINTEXT,LISTENER_FRED:PLAINTEXT,"
        "LISTENER_ALICE:PLAINTEXT",
        "KAFKA_INTER_BROKER_LISTENER_NAME=LISTENER_BOB",
        NULL,
    };
    struct config *cfg = cfg_ok("", env);
    const struct config_node *n = config_node_get(cfg);
    ck_assert_uint_eq(n->listener_count, 3);
    ck_assert_str_eq(n->advertised[2].host, "never-gonna-give-you-up");
    ck_assert_str_eq(n->inter_broker_listener_name, "LISTENER_BOB");
    config_destroy(cfg);

    char *env2[] = {
        "KAFKA_LISTENERS=LISTENER_BOB://kafka0:29092,LISTENER_FRED://localhost:9092",
        "KAFKA_ADVERTISED_LISTENERS=LISTENER_BOB://kafka0:29092,LISTENER_FRED://localhost:9092",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=LISTENER_BOB:PLAINTEXT,LISTENER_FRED:PLAINTEXT",
        "KAFKA_INTER_BROKER_LISTENER_NAME=LISTENER_BOB",
        NULL,
    };
    cfg = cfg_ok("", env2);
    ck_assert_str_eq(config_node_get(cfg)->advertised[1].host, "localhost");
    config_destroy(cfg);
}
END_TEST

START_TEST(test_seed_kraft_cluster)
{
    for (int id = 1; id <= 3; id++) {
        char node[32], lst[128];
        snprintf(node, sizeof node, "KAFKA_NODE_ID=%d", id);
        snprintf(lst, sizeof lst,
                 id == 1 ? "KAFKA_LISTENERS=INTERNAL://:29092,CONTROLLER://:29093,EXTERNAL://0.0.0.0:9092"
                         : "KAFKA_LISTENERS=INTERNAL://:29092,CONTROLLER://kafka-%d:29093,"
                           "EXTERNAL://0.0.0.0:9092", id);
        char *env[] = {
            node,
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT",
            lst,
            "KAFKA_ADVERTISED_LISTENERS=INTERNAL://:29092,EXTERNAL://127.0.0.1:9097",
            "KAFKA_PROCESS_ROLES=broker,controller",
            "KAFKA_CONTROLLER_QUORUM_VOTERS=1@kafka-1:29093,2@kafka-2:29093,3@kafka-3:29093",
            "KAFKA_INTER_BROKER_LISTENER_NAME=INTERNAL",
            "KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER",
            "CLUSTER_ID=MkU3OEVBNTcwNTJENDM2Qk",
            "KAFKA_HEAP_OPTS=-Xmx400m",
            NULL,
        };
        struct config *cfg = cfg_ok("", env);
        const struct config_node *n = config_node_get(cfg);
        ck_assert_int_eq(n->node_id, id);
        ck_assert_uint_eq(n->voter_count, 3);
        ck_assert_str_eq(n->voters[id - 1].host, id == 1 ? "kafka-1" : id == 2 ? "kafka-2" : "kafka-3");
        ck_assert_uint_eq(n->listener_count, 3);
        ck_assert_uint_eq(n->advertised_count, 2);
        ck_assert_str_eq(n->cluster_id, "MkU3OEVBNTcwNTJENDM2Qk");
        ck_assert_str_eq(config_warnings(cfg), "");
        config_destroy(cfg);
    }
    /* The single-node KRaft example, as a YAML file of the same keys. */
    const char *y = "listener.security.protocol.map: CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT\n"
                    "advertised.listeners: INTERNAL://:29092,EXTERNAL://127.0.0.1:9097\n"
                    "listeners: INTERNAL://:29092,CONTROLLER://:29093,EXTERNAL://0.0.0.0:9097\n"
                    "inter.broker.listener.name: INTERNAL\n"
                    "transaction.state.log.replication.factor: 1\n"
                    "controller.listener.names: CONTROLLER\n"
                    "process.roles: 'broker,controller'\n"
                    "node.id: 1\n"
                    "controller.quorum.voters: 1@KRaft-Kafka:29093\n";
    struct config *cfg = cfg_new();
    ck_assert_int_eq(config_load_yaml(cfg, y, strlen(y), "file:kraft.yaml"), 0);
    ck_assert_int_eq(config_finalize(cfg), 0);
    ck_assert_int_eq(config_node_get(cfg)->transaction_state_log_replication_factor, 1);
    config_destroy(cfg);
}
END_TEST

/* ---- topic configs and entries ------------------------------------------ */

/* Dynamic broker configs: broker layer over the cluster default over the
 * file over the table default; the typed view follows at commit; read-only
 * and invalid values refused; synonyms in Kafka's order. */
START_TEST(test_dynamic_layers)
{
    struct config *cfg = cfg_ok("log.retention.hours=24\nnum.partitions=3\n", NULL);
    const struct config_node *n = config_node_get(cfg);
    ck_assert_int_eq(n->retention_ms, 24LL * 3600000);
    char msg[256];
    ck_assert_int_eq(config_dynamic_validate("log.dirs", "/x", msg, sizeof msg), ERR_UNSUPPORTED);
    ck_assert_str_eq(msg, "Cannot update these configs dynamically: Set(log.dirs)");
    ck_assert_int_eq(config_dynamic_validate("no.such.key", "1", msg, sizeof msg), ERR_NOT_FOUND);
    ck_assert_int_eq(config_dynamic_validate("log.retention.ms", "soon", msg, sizeof msg), ERR_INVALID);
    ck_assert_int_eq(config_dynamic_set(cfg, CONFIG_SOURCE_DYNAMIC_DEFAULT, "num.partitions", "9"), ERR_UNSUPPORTED);
    ck_assert_int_eq(config_dynamic_set(cfg, CONFIG_SOURCE_DYNAMIC_DEFAULT, "log.retention.ms", "1000"), 0);
    ck_assert_int_eq(n->retention_ms, 24LL * 3600000); /* not before commit */
    config_dynamic_commit(cfg);
    ck_assert_int_eq(n->retention_ms, 1000);
    ck_assert_int_eq(config_dynamic_set(cfg, CONFIG_SOURCE_DYNAMIC_BROKER, "log.retention.ms", "2000"), 0);
    ck_assert_int_eq(config_dynamic_set(cfg, CONFIG_SOURCE_DYNAMIC_BROKER, "message.max.bytes", "5000"), 0);
    config_dynamic_commit(cfg);
    ck_assert_int_eq(n->retention_ms, 2000);
    ck_assert_int_eq(n->message_max_bytes, 5000);
    struct config_synonym syn[CONFIG_SYNONYMS_MAX];
    size_t k = config_broker_synonyms(cfg, "log.retention.ms", syn);
    ck_assert_uint_eq(k, 4); /* ms broker, ms default, hours static, hours default */
    ck_assert_str_eq(syn[0].name, "log.retention.ms");
    ck_assert_int_eq(syn[0].source, CONFIG_SOURCE_DYNAMIC_BROKER);
    ck_assert_str_eq(syn[0].value, "2000");
    ck_assert_int_eq(syn[1].source, CONFIG_SOURCE_DYNAMIC_DEFAULT);
    ck_assert_str_eq(syn[2].name, "log.retention.hours");
    ck_assert_int_eq(syn[2].source, CONFIG_SOURCE_FILE);
    ck_assert_int_eq(syn[3].source, CONFIG_SOURCE_DEFAULT);
    ck_assert_str_eq(syn[3].value, "168");
    /* Kafka drops the entries before the key's own first one */
    k = config_broker_synonyms(cfg, "log.retention.hours", syn);
    ck_assert_uint_eq(k, 2);
    ck_assert_str_eq(syn[0].name, "log.retention.hours");
    ck_assert_int_eq(syn[0].source, CONFIG_SOURCE_FILE);
    struct config_entry e;
    for (size_t i = 0; i < config_broker_key_count(); i++) {
        config_broker_entry_get(cfg, i, &e);
        if (strcmp(e.key->name, "log.retention.ms") == 0)
            break;
    }
    ck_assert_int_eq(e.source, CONFIG_SOURCE_DYNAMIC_BROKER);
    ck_assert_int_eq(e.read_only, 0);
    ck_assert_int_eq(config_source_kafka_code(e.source), 2);
    ck_assert_int_eq(config_source_kafka_code(CONFIG_SOURCE_DYNAMIC_DEFAULT), 3);
    config_dynamic_clear(cfg);
    config_dynamic_commit(cfg);
    ck_assert_int_eq(n->retention_ms, 24LL * 3600000);
    config_destroy(cfg);
}
END_TEST

START_TEST(test_broker_entries)
{
    char *env[] = { "KAFKA_SSL_KEYSTORE_PASSWORD=hunter2", NULL };
    struct config *cfg = cfg_ok("num.partitions=3\n", env);
    int seen = 0;
    for (size_t i = 0; i < config_broker_key_count(); i++) {
        struct config_entry e;
        config_broker_entry_get(cfg, i, &e);
        ck_assert_int_eq(e.read_only, !config_key_is_dynamic(e.key->name));
        if (strcmp(e.key->name, "num.partitions") == 0) {
            ck_assert_str_eq(e.value, "3");
            ck_assert_int_eq(e.is_default, 0);
            ck_assert_int_eq(e.source, CONFIG_SOURCE_FILE);
            seen++;
        } else if (strcmp(e.key->name, "ssl.keystore.password") == 0) {
            ck_assert_ptr_null(e.value);
            ck_assert_int_eq(e.is_sensitive, 1);
            ck_assert_int_eq(e.source, CONFIG_SOURCE_ENV);
            ck_assert_str_eq(e.origin, "env:KAFKA_SSL_KEYSTORE_PASSWORD");
            seen++;
        } else if (strcmp(e.key->name, "log.segment.bytes") == 0) {
            ck_assert_str_eq(e.value, "1073741824");
            ck_assert_int_eq(e.is_default, 1);
            ck_assert_int_eq(e.source, CONFIG_SOURCE_DEFAULT);
            seen++;
        }
    }
    ck_assert_int_eq(seen, 3);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    config_print(cfg, f);
    fclose(f);
    ck_assert_ptr_null(strstr(buf, "hunter2"));
    ck_assert_ptr_nonnull(strstr(buf, "ssl.keystore.password=[hidden]  # env:KAFKA_SSL_KEYSTORE_PASSWORD"));
    free(buf);
    config_destroy(cfg);

    /* Every broker key's default passes its own validation. */
    for (size_t i = 0; i < config_broker_key_count(); i++) {
        const struct config_key *k = config_broker_key_at(i);
        ck_assert_ptr_nonnull(k->doc);
    }
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_props_comments_and_separators);
    tcase_add_test(tc, test_props_line_endings_and_continuations);
    tcase_add_test(tc, test_props_escapes);
    tcase_add_test(tc, test_props_bad_unicode);
    tcase_add_test(tc, test_yaml_flatten);
    tcase_add_test(tc, test_yaml_errors);
    tcase_add_test(tc, test_load_file_by_extension);
    tcase_add_test(tc, test_env_names);
    tcase_add_test(tc, test_env_load);
    tcase_add_test(tc, test_precedence);
    tcase_add_test(tc, test_derived);
    tcase_add_test(tc, test_security_listeners_refused);
    tcase_add_test(tc, test_kraft_node);
    tcase_add_test(tc, test_validation_messages);
    tcase_add_test(tc, test_unknown_key_warns);
    tcase_add_test(tc, test_seed_zookeeper_cluster);
    tcase_add_test(tc, test_seed_listener_bob_fred);
    tcase_add_test(tc, test_seed_kraft_cluster);
    tcase_add_test(tc, test_broker_entries);
    tcase_add_test(tc, test_dynamic_layers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    log_set_level(LOG_OFF); /* warnings are asserted through config_warnings() */
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
