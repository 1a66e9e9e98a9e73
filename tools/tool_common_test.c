/*
 * tool_common_test.c - the admin tools' pure helpers: kafka-topics
 * include-list regexes, long-option matching, integer parsing,
 * kafka-configs list syntax, argument joining, and --command-config
 * errors that are caught before any client exists (no network).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "tools/tool_common.h"

START_TEST(test_filter_plain_and_regex)
{
    struct tool_topic_filter f;
    char err[256];
    ck_assert_int_eq(tool_topic_filter_init(&f, "hello.kafka", false, err, sizeof err), 0);
    ck_assert(tool_topic_filter_match(&f, "hello.kafka"));
    ck_assert(tool_topic_filter_match(&f, "hello-kafka")); /* '.' is a regex, as in Kafka */
    ck_assert(!tool_topic_filter_match(&f, "hello.kafka2"));
    ck_assert(!tool_topic_filter_match(&f, "xhello.kafka"));
    tool_topic_filter_deinit(&f);

    ck_assert_int_eq(tool_topic_filter_init(&f, " 'a.*, b' ", false, err, sizeof err), 0);
    ck_assert(tool_topic_filter_match(&f, "abc"));
    ck_assert(tool_topic_filter_match(&f, "b"));
    ck_assert(!tool_topic_filter_match(&f, "bb"));
    tool_topic_filter_deinit(&f);

    ck_assert_int_eq(tool_topic_filter_init(&f, "a(", false, err, sizeof err), ERR_INVALID);
    ck_assert_str_eq(err, "a( is an invalid regex.");
}
END_TEST

START_TEST(test_filter_internal)
{
    struct tool_topic_filter f;
    char err[256];
    ck_assert_int_eq(tool_topic_filter_init(&f, NULL, true, err, sizeof err), 0);
    ck_assert(tool_topic_filter_match(&f, "orders"));
    ck_assert(!tool_topic_filter_match(&f, "__consumer_offsets"));
    ck_assert(!tool_topic_filter_match(&f, "__transaction_state"));
    ck_assert(tool_topic_filter_match(&f, "__mine")); /* only Kafka's two are internal */
    tool_topic_filter_deinit(&f);
    ck_assert_int_eq(tool_topic_filter_init(&f, NULL, false, err, sizeof err), 0);
    ck_assert(tool_topic_filter_match(&f, "__consumer_offsets"));
    tool_topic_filter_deinit(&f);
}
END_TEST

START_TEST(test_opt)
{
    char *argv[] = { "topics", "--topic", "t", "--topic=u", "--topics-with-overrides", "--list", "--partitions" };
    int argc = 7;
    const char *v = NULL;
    int i = 1;
    ck_assert_int_eq(tool_opt(argc, argv, &i, "--topic", true, &v), 1);
    ck_assert_int_eq(i, 2);
    ck_assert_str_eq(v, "t");
    i = 3;
    ck_assert_int_eq(tool_opt(argc, argv, &i, "--topic", true, &v), 1);
    ck_assert_int_eq(i, 3);
    ck_assert_str_eq(v, "u");
    i = 4; /* a longer option with the same prefix is not --topic */
    ck_assert_int_eq(tool_opt(argc, argv, &i, "--topic", true, &v), 0);
    ck_assert_int_eq(tool_opt(argc, argv, &i, "--topics-with-overrides", false, NULL), 1);
    i = 5;
    ck_assert_int_eq(tool_opt(argc, argv, &i, "--list", false, NULL), 1);
    i = 6; /* value missing at the end */
    ck_assert_int_eq(tool_opt(argc, argv, &i, "--partitions", true, &v), ERR_INVALID);
}
END_TEST

START_TEST(test_int_parse)
{
    int v = 0;
    ck_assert_int_eq(tool_int_parse("12", 0, 100, &v), 0);
    ck_assert_int_eq(v, 12);
    ck_assert_int_eq(tool_int_parse("-1", -5, 5, &v), 0);
    ck_assert_int_eq(v, -1);
    ck_assert_int_eq(tool_int_parse("abc", 0, 100, &v), ERR_INVALID);
    ck_assert_int_eq(tool_int_parse("12x", 0, 100, &v), ERR_INVALID);
    ck_assert_int_eq(tool_int_parse("", 0, 100, &v), ERR_INVALID);
    ck_assert_int_eq(tool_int_parse("101", 0, 100, &v), ERR_INVALID);
    ck_assert_int_eq(tool_int_parse("99999999999999999999", 0, 2147483647L, &v), ERR_INVALID);
}
END_TEST

START_TEST(test_kv_list_values)
{
    struct tool_kv kv[8];
    size_t n = 0;
    ck_assert_int_eq(tool_kv_list_parse("k1=v1, k2 = [a,b,c] ,k3=[x],,k4=", true, kv, 8, &n), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(kv[0].name, "k1");
    ck_assert_str_eq(kv[0].value, "v1");
    ck_assert_str_eq(kv[1].name, "k2");
    ck_assert_str_eq(kv[1].value, "a,b,c");
    ck_assert_str_eq(kv[2].value, "x");
    ck_assert_str_eq(kv[3].name, "k4");
    ck_assert_str_eq(kv[3].value, "");
    tool_kv_list_free(kv, n);

    ck_assert_int_eq(tool_kv_list_parse("a=b=c", true, kv, 8, &n), ERR_INVALID);
    tool_kv_list_free(kv, n);
    ck_assert_int_eq(tool_kv_list_parse("a=1,novalue", true, kv, 8, &n), ERR_INVALID);
    tool_kv_list_free(kv, n);
    ck_assert_int_eq(tool_kv_list_parse("=v", true, kv, 8, &n), ERR_INVALID);
    tool_kv_list_free(kv, n);
    ck_assert_int_eq(tool_kv_list_parse("a=1,b=2,c=3", true, kv, 2, &n), ERR_LIMIT);
    tool_kv_list_free(kv, n);
}
END_TEST

START_TEST(test_kv_list_names)
{
    struct tool_kv kv[4];
    size_t n = 0;
    ck_assert_int_eq(tool_kv_list_parse(" retention.ms , segment.ms,", false, kv, 4, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(kv[0].name, "retention.ms");
    ck_assert_ptr_null(kv[0].value);
    ck_assert_str_eq(kv[1].name, "segment.ms");
    tool_kv_list_free(kv, n);
    ck_assert_int_eq(tool_kv_list_parse("", false, kv, 4, &n), 0);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_args_join)
{
    char *argv[] = { "--describe", "--entity-type", "topics" };
    char out[64];
    tool_args_join(3, argv, out, sizeof out);
    ck_assert_str_eq(out, "--describe --entity-type topics");
    char small[8];
    tool_args_join(3, argv, small, sizeof small);
    ck_assert_uint_eq(strlen(small), 7); /* truncated, terminated */
}
END_TEST

static void write_props(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_ge(fputs(text, f), 0);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_command_config_errors)
{
    struct tool_client c;
    char err[TOOL_ERRSTR_MAX];
    ck_assert_int_lt(tool_client_create(&c, "127.0.0.1:9", "/nonexistent/client.properties", err, sizeof err), 0);
    ck_assert_str_eq(err, "cannot read --command-config file /nonexistent/client.properties: No such file or directory");

    char path[] = "/tmp/samsa-tool-props-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    write_props(path, "# comment\n! also a comment\n\nclient.id = x\ndefault.api.timeout.ms=0\n");
    ck_assert_int_eq(tool_client_create(&c, "127.0.0.1:9", path, err, sizeof err), ERR_INVALID);
    char want[256];
    snprintf(want, sizeof want, "%s:5: default.api.timeout.ms must be 1..3600000, got '0'", path);
    ck_assert_str_eq(err, want);

    write_props(path, "socket.timeout.ms: abc\n");
    ck_assert_int_eq(tool_client_create(&c, "127.0.0.1:9", path, err, sizeof err), ERR_INVALID);
    snprintf(want, sizeof want, "%s:1: ", path);
    ck_assert_int_eq(strncmp(err, want, strlen(want)), 0);
    ck_assert_ptr_nonnull(strstr(err, "socket.timeout.ms"));
    unlink(path);
}
END_TEST

START_TEST(test_optv_abbreviations)
{
    static const struct tool_optdef defs[] = {
        { "max-messages", true, false, false, false },
        { "max-wait-ms", true, false, false, false },
        { "from-beginning", false, false, false, false },
        { "compression-codec", true, true, false, false },
        { "property", true, false, true, false },
        { "producer-props", true, false, false, true },
    };
    char *argv[] = { "t", "--max-message", "10", "--from", "--property", "a=1", "--property=b=2",
                     "--compression-codec", "--max-wait-ms=5", "--producer-props", "x=1", "y=2", "--from", NULL };
    struct tool_optv o;
    int code = -1;
    ck_assert_int_eq(tool_optv_parse(13, argv, defs, 6, &o, NULL, &code), 0);
    ck_assert_str_eq(o.val[0], "10"); /* a unique prefix is the option, as joptsimple allows */
    ck_assert(o.given[2]);
    ck_assert(o.given[3]);
    ck_assert_ptr_null(o.val[3]); /* an optional value left out */
    ck_assert_str_eq(o.val[1], "5");
    ck_assert_uint_eq(o.list_count, 4);
    ck_assert_str_eq(o.list_val[0], "a=1");
    ck_assert_str_eq(o.list_val[1], "b=2");
    ck_assert_str_eq(o.list_val[2], "x=1"); /* nargs='+': every word up to the next option */
    ck_assert_str_eq(o.list_val[3], "y=2");
    ck_assert_int_eq(o.list_opt[3], 5);

    int i = 1;
    const char *v;
    char *amb[] = { "t", "--max", "1" };
    ck_assert_int_eq(tool_optv_next(3, amb, &i, defs, 5, &v), ERR_INVALID); /* ambiguous */
    char *unknown[] = { "t", "--bogus" };
    i = 1;
    ck_assert_int_eq(tool_optv_next(2, unknown, &i, defs, 5, &v), ERR_INVALID);
    char *missing[] = { "t", "--max-messages" };
    i = 1;
    ck_assert_int_eq(tool_optv_next(2, missing, &i, defs, 5, &v), ERR_INVALID);
    char *positional[] = { "t", "word" };
    i = 1;
    ck_assert_int_eq(tool_optv_next(2, positional, &i, defs, 5, &v), TOOL_OPT_POSITIONAL);
}
END_TEST

static int props_count_cb(void *ctx, const char *kv, int line_number)
{
    char *out = ctx;
    char one[64];
    snprintf(one, sizeof one, "%d:%s|", line_number, kv);
    strncat(out, one, 255 - strlen(out));
    return 0;
}

START_TEST(test_props_each)
{
    char path[] = "/tmp/samsa-props-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *text = "# comment\na=1\n  b : 2\n\n! bang\nc 3\nd=\n";
    ck_assert_int_eq(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    char got[256] = "";
    ck_assert_int_eq(tool_props_each(path, props_count_cb, got), 0);
    ck_assert_str_eq(got, "2:a=1|3:b=2|6:c=3|7:d=|");
    unlink(path);
    ck_assert_int_eq(tool_props_each("/nonexistent/x", props_count_cb, got), -ENOENT);
}
END_TEST

static void json_double_is(double v, const char *want)
{
    char buf[64] = "";
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    tool_json_double(f, v);
    fclose(f);
    ck_assert_str_eq(buf, want);
}

START_TEST(test_json)
{
    json_double_is(26.17801047120419, "26.17801047120419"); /* the tutorial's avg_throughput */
    json_double_is(30.0, "30.0");
    json_double_is(0.5, "0.5");
    json_double_is(1000.0 * 10 / 382, "26.17801047120419");
    char buf[64] = "";
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    tool_json_string(f, "a\"b\\c\n\x01", 7);
    tool_json_string(f, NULL, 0);
    fclose(f);
    ck_assert_str_eq(buf, "\"a\\\"b\\\\c\\n\\u0001\"null");
}
END_TEST

static Suite *tool_common_suite(void)
{
    Suite *s = suite_create("tool_common");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_filter_plain_and_regex);
    tcase_add_test(tc, test_filter_internal);
    tcase_add_test(tc, test_opt);
    tcase_add_test(tc, test_int_parse);
    tcase_add_test(tc, test_kv_list_values);
    tcase_add_test(tc, test_kv_list_names);
    tcase_add_test(tc, test_args_join);
    tcase_add_test(tc, test_command_config_errors);
    tcase_add_test(tc, test_optv_abbreviations);
    tcase_add_test(tc, test_props_each);
    tcase_add_test(tc, test_json);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    log_set_level(LOG_OFF);
    SRunner *sr = srunner_create(tool_common_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
