/*
 * ctrl_topic_config_test.c - the topic key table and topic config
 * validation: Kafka's messages for unknown keys, bad values and a
 * message.format.version that is no Kafka version; every synonym names a
 * real broker key.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "controller/ctrl_topic_config.h"

/* message.format.version / log.message.format.version: accepted and ignored
 * with a warning, as Kafka 3.x does; a value that is no Kafka version is
 * refused with Kafka's message. */
START_TEST(test_message_format_version_ignored)
{
    char msg[256];
    ck_assert_int_eq(ctrl_topic_config_validate("message.format.version", "0.10.2", msg, sizeof msg), 0);
    ck_assert_int_eq(ctrl_topic_config_validate("message.format.version", "2.8", msg, sizeof msg), 0);
    ck_assert_int_eq(ctrl_topic_config_validate("message.format.version", "3.0-IV1", msg, sizeof msg), 0);
    ck_assert_int_eq(ctrl_topic_config_validate("message.format.version", "0.11.0-IV2", msg, sizeof msg), 0);
    ck_assert_int_eq(ctrl_topic_config_validate("message.format.version", "latest", msg, sizeof msg), ERR_INVALID);
    ck_assert_str_eq(msg, "Invalid value latest for configuration message.format.version: Version `latest` is "
                          "not a valid version");
    ck_assert_int_eq(ctrl_topic_config_validate("message.format.version", "2", msg, sizeof msg), ERR_INVALID);
    ck_assert_int_eq(ctrl_topic_config_validate("message.format.version", "2.8-IV", msg, sizeof msg), ERR_INVALID);
}
END_TEST

START_TEST(test_topic_configs)
{
    char msg[256];
    ck_assert_int_eq(ctrl_topic_config_validate("retention.ms", "1000", msg, sizeof msg), 0);
    ck_assert_int_eq(ctrl_topic_config_validate("retention.ms", "-1", msg, sizeof msg), 0);
    ck_assert_int_eq(ctrl_topic_config_validate("cleanup.policy", "compact,delete", msg, sizeof msg), 0);
    ck_assert_int_eq(ctrl_topic_config_validate("min.cleanable.dirty.ratio", "0.2", msg, sizeof msg), 0);
    ck_assert_int_eq(ctrl_topic_config_validate("bogus.key", "1", msg, sizeof msg), ERR_INVALID);
    ck_assert_str_eq(msg, "Unknown topic config name: bogus.key");
    ck_assert_int_eq(ctrl_topic_config_validate("retention.ms", "soon", msg, sizeof msg), ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(msg, "Invalid value soon for configuration retention.ms"));
    ck_assert_int_eq(ctrl_topic_config_validate("segment.bytes", "10", msg, sizeof msg), ERR_INVALID);
    ck_assert_int_eq(ctrl_topic_config_validate("cleanup.policy", "shred", msg, sizeof msg), ERR_INVALID);
    ck_assert_int_eq(ctrl_topic_config_validate("message.timestamp.type", "LogAppendTime", msg, sizeof msg), 0);
    ck_assert_int_eq(ctrl_topic_config_validate("message.timestamp.type", "Now", msg, sizeof msg), ERR_INVALID);
    ck_assert_int_eq(ctrl_topic_config_validate("preallocate", "maybe", msg, sizeof msg), ERR_INVALID);
    ck_assert_int_eq(ctrl_topic_config_validate("remote.storage.enable", "true", msg, sizeof msg), ERR_INVALID);

    /* Every topic synonym names a real broker key. */
    for (size_t i = 0; i < ctrl_topic_config_key_count(); i++) {
        const struct config_key *k = ctrl_topic_config_key_at(i);
        if (k->synonym)
            ck_assert_msg(config_broker_key_find(k->synonym) != NULL, "%s", k->synonym);
    }
}
END_TEST

static Suite *ctrl_topic_config_suite(void)
{
    Suite *s = suite_create("ctrl_topic_config");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_message_format_version_ignored);
    tcase_add_test(tc, test_topic_configs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    log_set_level(LOG_OFF);
    SRunner *sr = srunner_create(ctrl_topic_config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
