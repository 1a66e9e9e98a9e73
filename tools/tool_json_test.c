/*
 * tool_json_test.c - walking objects and arrays with tool_json's iterator:
 * members and elements in order, empty ones, and malformed input refused.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tool_json.h"

static struct tool_json json_of(const char *s)
{
    return (struct tool_json){ s, s + strlen(s) };
}

START_TEST(test_walk)
{
    struct tool_json j = json_of(" {\"version\": 1, \"ids\" : [3, 1,2], \"empty\":[], \"o\":{}, \"s\":\"x\"} ");
    struct tool_json_iter obj, arr;
    char key[16];
    int64_t v, sum = 0;
    int members = 0;
    ck_assert_int_eq(tool_json_object_begin(&j, &obj), 0);
    int rc;
    while ((rc = tool_json_member_next(&j, &obj, key, sizeof key)) > 0) {
        members++;
        if (strcmp(key, "version") == 0) {
            ck_assert_int_eq(tool_json_number(&j, &v), 0);
            ck_assert_int_eq(v, 1);
        } else if (strcmp(key, "ids") == 0 || strcmp(key, "empty") == 0) {
            int n = 0;
            ck_assert_int_eq(tool_json_array_begin(&j, &arr), 0);
            while ((rc = tool_json_element_next(&j, &arr)) > 0) {
                ck_assert_int_eq(tool_json_number(&j, &v), 0);
                sum = sum * 10 + v;
                n++;
            }
            ck_assert_int_eq(rc, 0);
            ck_assert_int_eq(n, strcmp(key, "ids") == 0 ? 3 : 0);
        } else {
            ck_assert_int_eq(tool_json_skip(&j), 0);
        }
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(members, 5);
    ck_assert_int_eq(sum, 312);
}
END_TEST

/* each is malformed where the walk meets it */
START_TEST(test_malformed)
{
    static const char *const bad[] = { "[1]", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "{\"a\":1,}", "{1:2}", "{\"a\":1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct tool_json j = json_of(bad[i]);
        struct tool_json_iter it;
        char key[16];
        int rc = tool_json_object_begin(&j, &it);
        while (rc == 0 && (rc = tool_json_member_next(&j, &it, key, sizeof key)) > 0)
            rc = tool_json_skip(&j);
        ck_assert_msg(rc < 0, "%s was accepted", bad[i]);
    }
    struct tool_json j = json_of("[1,,2]");
    struct tool_json_iter it;
    int64_t v;
    ck_assert_int_eq(tool_json_array_begin(&j, &it), 0);
    ck_assert_int_eq(tool_json_element_next(&j, &it), 1);
    ck_assert_int_eq(tool_json_number(&j, &v), 0);
    ck_assert_int_eq(tool_json_element_next(&j, &it), 1);
    ck_assert_int_lt(tool_json_number(&j, &v), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tool_json");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_walk);
    tcase_add_test(tc, test_malformed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
