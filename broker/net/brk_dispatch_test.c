/*
 * brk_dispatch_test.c - ApiVersions advertises exactly the served ranges.
 *
 * The codec describes more than the broker serves (Fetch v12-17 and
 * OffsetForLeaderEpoch for partition replication; InitProducerId for
 * idempotence).  The table below is written by hand: when a description or
 * a handler changes, this test says which advertised range moved, so an
 * unserved version is never announced to clients by accident.
 */
#include <check.h>
#include <stdlib.h>

#include "broker/net/brk_dispatch.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/kwire.h"
#include "kmsg.h"

static const struct {
    int16_t key, min, max;
} served[] = {
    { KMSG_API_PRODUCE, 0, 8 },
    { KMSG_API_FETCH, 0, 15 },
    { KMSG_API_OFFSET_FOR_LEADER_EPOCH, 0, 4 },
    { KMSG_API_LIST_OFFSETS, 0, 7 },
    { KMSG_API_METADATA, 0, 8 },
    { KMSG_API_OFFSET_COMMIT, 2, 9 },
    { KMSG_API_OFFSET_FETCH, 1, 7 },
    { KMSG_API_FIND_COORDINATOR, 0, 4 },
    { KMSG_API_JOIN_GROUP, 0, 9 },
    { KMSG_API_HEARTBEAT, 0, 4 },
    { KMSG_API_LEAVE_GROUP, 0, 5 },
    { KMSG_API_SYNC_GROUP, 0, 5 },
    { KMSG_API_DESCRIBE_GROUPS, 0, 5 },
    { KMSG_API_LIST_GROUPS, 0, 4 },
    { KMSG_API_API_VERSIONS, 0, 3 },
    { KMSG_API_CREATE_TOPICS, 0, 4 },
    { KMSG_API_DELETE_TOPICS, 0, 3 },
    { KMSG_API_DELETE_RECORDS, 0, 1 },
    { KMSG_API_DESCRIBE_CONFIGS, 0, 3 },
    { KMSG_API_ALTER_CONFIGS, 0, 1 },
    { KMSG_API_CREATE_PARTITIONS, 0, 1 },
    { KMSG_API_DELETE_GROUPS, 0, 1 },
    { KMSG_API_INCREMENTAL_ALTER_CONFIGS, 0, 1 },
    { KMSG_API_DESCRIBE_QUORUM, 0, 1 },
    { KMSG_API_DESCRIBE_CLUSTER, 0, 0 },
    { KMSG_API_DESCRIBE_TOPIC_PARTITIONS, 0, 0 },
    { KMSG_API_OFFSET_DELETE, 0, 0 },
    { KMSG_API_DESCRIBE_LOG_DIRS, 0, 4 },
    { KMSG_API_DESCRIBE_CLIENT_QUOTAS, 0, 1 },
    { KMSG_API_ALTER_CLIENT_QUOTAS, 0, 1 },
    { KMSG_API_ALTER_PARTITION_REASSIGNMENTS, 0, 0 },
    { KMSG_API_LIST_PARTITION_REASSIGNMENTS, 0, 0 },
    { KMSG_API_ELECT_LEADERS, 0, 2 },
    { KMSG_API_INIT_PRODUCER_ID, 0, 4 },
};
#define SERVED_COUNT ((int)(sizeof served / sizeof served[0]))

START_TEST(test_advertised_equals_served)
{
    int n = brk_dispatch_api_keys_count();
    ck_assert_int_eq(n, SERVED_COUNT);
    struct kmsg_api_versions_resp_api_key *keys = calloc((size_t)n, sizeof *keys);
    ck_assert_ptr_nonnull(keys);
    brk_dispatch_api_keys_fill(keys);
    /* through the wire, as a client sees it (ApiVersions v3) */
    struct kmsg_api_versions_resp resp;
    kmsg_api_versions_resp_init(&resp);
    resp.api_keys = keys;
    resp.api_keys_count = n;
    struct buf b;
    buf_init(&b, 0);
    ck_assert_int_eq(kmsg_api_versions_resp_encode(&b, 3, &resp), 0);
    struct arena a;
    arena_init(&a, 4096, 1 << 20);
    struct kwire_reader r;
    kwire_reader_init(&r, buf_bytes(&b));
    struct kmsg_api_versions_resp got;
    ck_assert_int_eq(kmsg_api_versions_resp_decode(&r, 3, &a, &got), 0);
    ck_assert_int_eq(got.api_keys_count, SERVED_COUNT);
    for (int i = 0; i < SERVED_COUNT; i++) {
        int found = 0;
        for (int j = 0; j < got.api_keys_count; j++) {
            if (got.api_keys[j].api_key != served[i].key)
                continue;
            found++;
            if (got.api_keys[j].min_version != served[i].min || got.api_keys[j].max_version != served[i].max)
                ck_abort_msg("api_key %d advertised %d-%d, served %d-%d", served[i].key, got.api_keys[j].min_version,
                             got.api_keys[j].max_version, served[i].min, served[i].max);
        }
        ck_assert_int_eq(found, 1);
        ck_assert_int_eq(brk_dispatch_served_max(served[i].key), served[i].max);
    }
    arena_deinit(&a);
    buf_deinit(&b);
    free(keys);
}
END_TEST

START_TEST(test_described_but_unserved)
{
    /* Fetch is described past what the handler serves: v16+ (KIP-951's
     * node endpoints, KIP-853's directory ids) is not advertised */
    const struct kmsg_api_info *fetch = kmsg_api_find(KMSG_API_FETCH);
    ck_assert_ptr_nonnull(fetch);
    ck_assert_int_ge(fetch->max_version, 16);
    ck_assert_int_eq(brk_dispatch_served_max(KMSG_API_FETCH), 15);
    ck_assert_int_eq(brk_dispatch_served_max(17), -1); /* not even described */
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("brk_dispatch");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_advertised_equals_served);
    tcase_add_test(tc, test_described_but_unserved);
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
