/*
 * brk_config_test.c - topic defaults from a broker's configuration: derived
 * values (retention.ms from log.retention.hours), synonyms, dynamic layers,
 * and the DescribeConfigs rows with the source of the broker key that
 * supplied each default.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "broker/brk_config.h"
#include "common/config.h"
#include "common/log.h"
#include "controller/ctrl_topic_config.h"

/* A finalized config from properties text; expect success. */
static struct config *cfg_ok(const char *text, char *const *envp)
{
    struct config *cfg = NULL;
    ck_assert_int_eq(config_create(&cfg), 0);
    ck_assert_int_eq(config_load_properties(cfg, text, strlen(text), "file:test"), 0);
    ck_assert_int_eq(config_load_env(cfg, envp), 0);
    int rc = config_finalize(cfg);
    if (rc != 0)
        ck_abort_msg("finalize failed: %s", config_errors(cfg));
    return cfg;
}

/* log.message.format.version is accepted with a warning and is the
 * synonym of the topic's message.format.version. */
START_TEST(test_message_format_version_default)
{
    struct config *cfg = cfg_ok("log.message.format.version=0.10.2\n", NULL);
    ck_assert_ptr_nonnull(strstr(config_warnings(cfg), "log.message.format.version=0.10.2 is deprecated and ignored"));
    char def[64];
    const char *syn = NULL;
    ck_assert_int_eq(brk_config_topic_default(cfg, "message.format.version", def, sizeof def, &syn), 0);
    ck_assert_str_eq(syn, "log.message.format.version");
    config_destroy(cfg);
}
END_TEST

START_TEST(test_topic_defaults)
{
    struct config *cfg = cfg_ok("log.retention.hours=2\nlog.segment.bytes=1048576\n"
                                "log.cleanup.policy=compact\nmessage.max.bytes=2000000\n", NULL);
    char out[64];
    const char *syn = NULL;
    ck_assert_int_eq(brk_config_topic_default(cfg, "retention.ms", out, sizeof out, &syn), 0);
    ck_assert_str_eq(out, "7200000");
    ck_assert_str_eq(syn, "log.retention.ms");
    ck_assert_int_eq(brk_config_topic_default(cfg, "segment.bytes", out, sizeof out, &syn), 0);
    ck_assert_str_eq(out, "1048576");
    ck_assert_int_eq(brk_config_topic_default(cfg, "cleanup.policy", out, sizeof out, NULL), 0);
    ck_assert_str_eq(out, "compact");
    ck_assert_int_eq(brk_config_topic_default(cfg, "max.message.bytes", out, sizeof out, NULL), 0);
    ck_assert_str_eq(out, "2000000");
    ck_assert_int_eq(brk_config_topic_default(cfg, "segment.ms", out, sizeof out, NULL), 0);
    ck_assert_str_eq(out, "604800000");
    ck_assert_int_eq(brk_config_topic_default(cfg, "flush.messages", out, sizeof out, NULL), 0);
    ck_assert_str_eq(out, "9223372036854775807");
    ck_assert_int_eq(brk_config_topic_default(cfg, "leader.replication.throttled.replicas", out,
                                          sizeof out, &syn), 0);
    ck_assert_str_eq(out, "");
    ck_assert_ptr_null(syn);
    ck_assert_int_eq(brk_config_topic_default(cfg, "nope", out, sizeof out, NULL), ERR_NOT_FOUND);
    ck_assert_int_eq(brk_config_topic_default(cfg, "retention.ms", out, 3, NULL), ERR_LIMIT);
    config_destroy(cfg);
}
END_TEST

/* A dynamic default reaches the topic default at commit. */
START_TEST(test_topic_default_dynamic)
{
    struct config *cfg = cfg_ok("log.retention.hours=24\n", NULL);
    char out[64];
    ck_assert_int_eq(brk_config_topic_default(cfg, "retention.ms", out, sizeof out, NULL), 0);
    ck_assert_str_eq(out, "86400000");
    ck_assert_int_eq(config_dynamic_set(cfg, CONFIG_SOURCE_DYNAMIC_DEFAULT, "log.retention.ms", "1000"), 0);
    config_dynamic_commit(cfg);
    ck_assert_int_eq(brk_config_topic_default(cfg, "retention.ms", out, sizeof out, NULL), 0);
    ck_assert_str_eq(out, "1000");
    ck_assert_int_eq(config_dynamic_set(cfg, CONFIG_SOURCE_DYNAMIC_BROKER, "log.roll.jitter.hours", "2"), 0);
    config_dynamic_commit(cfg);
    ck_assert_int_eq(brk_config_topic_default(cfg, "segment.jitter.ms", out, sizeof out, NULL), 0);
    ck_assert_str_eq(out, "7200000");
    /* the row takes the source and origin of the layer that supplied it */
    char scratch[64];
    struct config_entry e;
    for (size_t i = 0; i < ctrl_topic_config_key_count(); i++) {
        const struct config_key *k = ctrl_topic_config_key_at(i);
        ck_assert_int_eq(brk_config_topic_entry_get(cfg, i, NULL, scratch, sizeof scratch, &e), 0);
        if (strcmp(k->name, "retention.ms") == 0) {
            ck_assert_int_eq(e.source, CONFIG_SOURCE_DYNAMIC_DEFAULT);
            ck_assert_str_eq(e.origin, "dynamic default broker config");
            ck_assert_int_eq(config_source_kafka_code(e.source), 3);
        } else if (strcmp(k->name, "segment.jitter.ms") == 0) {
            ck_assert_int_eq(e.source, CONFIG_SOURCE_DYNAMIC_BROKER);
            ck_assert_str_eq(e.origin, "dynamic broker config");
        } else if (strcmp(k->name, "segment.ms") == 0) {
            ck_assert_int_eq(e.source, CONFIG_SOURCE_DEFAULT);
            ck_assert_str_eq(e.origin, "default");
        }
    }
    config_destroy(cfg);
}
END_TEST

START_TEST(test_topic_entries)
{
    struct config *cfg = cfg_ok("log.retention.minutes=5\nlog.segment.bytes=2048\n", NULL);
    char scratch[64];
    struct config_entry e;
    size_t seen = 0;
    for (size_t i = 0; i < ctrl_topic_config_key_count(); i++) {
        const struct config_key *k = ctrl_topic_config_key_at(i);
        ck_assert_int_eq(brk_config_topic_entry_get(cfg, i, NULL, scratch, sizeof scratch, &e), 0);
        ck_assert_ptr_eq(e.key, k);
        ck_assert_int_eq(e.read_only, 0);
        if (strcmp(k->name, "retention.ms") == 0) {
            ck_assert_str_eq(e.value, "300000");
            ck_assert_int_eq(e.source, CONFIG_SOURCE_FILE);
            ck_assert_int_eq(e.is_default, 0);
            ck_assert_int_eq(config_source_kafka_code(e.source), 4);
            seen++;
        } else if (strcmp(k->name, "segment.bytes") == 0) {
            ck_assert_str_eq(e.value, "2048");
            ck_assert_int_eq(e.source, CONFIG_SOURCE_FILE);
            seen++;
        } else if (strcmp(k->name, "cleanup.policy") == 0) {
            ck_assert_str_eq(e.value, "delete");
            ck_assert_int_eq(e.is_default, 1);
            ck_assert_int_eq(config_source_kafka_code(e.source), 5);
            ck_assert_int_eq(brk_config_topic_entry_get(cfg, i, "compact", scratch, sizeof scratch, &e), 0);
            ck_assert_str_eq(e.value, "compact");
            ck_assert_int_eq(e.source, CONFIG_SOURCE_TOPIC);
            ck_assert_int_eq(config_source_kafka_code(e.source), 1);
            seen++;
        }
    }
    ck_assert_uint_eq(seen, 3);
    config_destroy(cfg);
}
END_TEST

static Suite *brk_config_suite(void)
{
    Suite *s = suite_create("brk_config");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_message_format_version_default);
    tcase_add_test(tc, test_topic_defaults);
    tcase_add_test(tc, test_topic_default_dynamic);
    tcase_add_test(tc, test_topic_entries);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    log_set_level(LOG_OFF);
    SRunner *sr = srunner_create(brk_config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
