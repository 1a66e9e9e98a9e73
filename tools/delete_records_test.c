/*
 * delete_records_test.c - the offset JSON reader of kafka-delete-records:
 * Kafka's shape, the tutorial's malformed file that Kafka's Jackson reader
 * accepts (trailing text ignored), and Kafka's messages for bad files.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "tools/delete_records.h"

static int parse(const char *text, struct delete_records_entry *e, size_t max, size_t *n, char *err)
{
    return delete_records_json_parse(text, strlen(text), e, max, n, err, 256);
}

START_TEST(test_json_ok)
{
    struct delete_records_entry e[4];
    size_t n = 0;
    char err[256];
    ck_assert_int_eq(parse("{\"partitions\":[{\"topic\":\"foo\",\"partition\":1,\"offset\":1},"
                           " {\"offset\": -1, \"extra\": {\"a\": [1, {\"b\": \"]}\"}]}, \"partition\": 2,"
                           " \"topic\": \"b\\\"ar\"}], \"version\":1}",
                           e, 4, &n, err),
                     0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(e[0].topic, "foo");
    ck_assert_int_eq(e[0].partition, 1);
    ck_assert_int_eq(e[0].offset, 1);
    ck_assert_str_eq(e[1].topic, "b\"ar");
    ck_assert_int_eq(e[1].partition, 2);
    ck_assert_int_eq(e[1].offset, -1);
    /* the tutorial's file: a stray "}" ends the object early; Kafka reads it */
    ck_assert_int_eq(parse("{\"partitions\":[{\"topic\":\"test\", \"partition\": 0, \"offset\":50}]}, \"version\":1}\n",
                           e, 4, &n, err),
                     0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(e[0].topic, "test");
    ck_assert_int_eq(e[0].offset, 50);
}
END_TEST

START_TEST(test_json_errors)
{
    struct delete_records_entry e[2];
    size_t n = 0;
    char err[256];
    ck_assert_int_eq(parse("{\"partitions\": [ {\"topic\": \"t\" ", e, 2, &n, err), ERR_INVALID);
    ck_assert_str_eq(err, "The input string is not a valid JSON");
    ck_assert_int_eq(parse("", e, 2, &n, err), ERR_INVALID);
    ck_assert_int_eq(parse("{\"version\":1}", e, 2, &n, err), ERR_INVALID);
    ck_assert_str_eq(err, "Missing partitions field");
    ck_assert_int_eq(parse("{\"partitions\":[],\"version\":2}", e, 2, &n, err), ERR_INVALID);
    ck_assert_str_eq(err, "Not supported version field value 2");
    ck_assert_int_eq(parse("{\"partitions\":[{\"topic\":\"t\",\"offset\":3}]}", e, 2, &n, err), ERR_INVALID);
    ck_assert_str_eq(err, "Missing field partition in a partition of the offset JSON file");
    ck_assert_int_eq(parse("{\"partitions\":[{\"topic\":\"t\",\"partition\":0,\"offset\":1},"
                           "{\"topic\":\"t\",\"partition\":1,\"offset\":1},{\"topic\":\"t\",\"partition\":2,\"offset\":1}]}",
                           e, 2, &n, err),
                     ERR_LIMIT);
    ck_assert_int_eq(parse("{\"partitions\":[{\"topic\":\"t\",\"partition\":\"0\",\"offset\":1}]}", e, 2, &n, err),
                     ERR_INVALID);
}
END_TEST

int main(void)
{
    log_set_level(LOG_OFF);
    Suite *s = suite_create("delete_records");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_json_ok);
    tcase_add_test(tc, test_json_errors);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
