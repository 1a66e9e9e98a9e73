/*
 * ctrl_test.c - the controller's commit path, replay, a reassignment finished by the
 * driver once its adding replica is in the ISR, metadata log recovery, on
 * real files in a temporary directory; a broker's registration over the
 * controller listener that ignores the answer to its dead predecessor's; and
 * duplicate node ids (DUPLICATE_BROKER_REGISTRATION) against restarts on the
 * same disks.
 */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/arena.h"
#include "controller/ctrl.h"
#include "controller/ctrl_image.h"
#include "controller/ctrl_snap.h"
#include "controller/ctrl_mlog.h"

static char tmpdir[256];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/samsa-ctrl-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

static int applied_count;
static int caught_up_count;
static struct event_base *base;

static void count_cb(void *arg, const struct ctrl_image *img, const Samsa__MetadataRecord *rec, int64_t offset)
{
    (void)arg; (void)img; (void)rec; (void)offset;
    applied_count++;
}

static void caught_up_cb(void *arg)
{
    (void)arg;
    caught_up_count++;
    event_base_loopbreak(base);
}

/* A single voter with no listener: no network, only the loop's timers. */
static struct ctrl *open_ctrl(void)
{
    /* brokers registered here never heartbeat: a session far longer than any
     * test, or a slow disk (fsync per commit under a loaded CI) lets the
     * lease check fence one mid-test and refuse the test's proposals while
     * that fence is in flight (ERR_NOT_CONTROLLER in test_manual_assignment) */
    struct ctrl_config cfg = { .node_id = 1, .metadata_dir = tmpdir, .cluster_id = "test", .base = base,
                               .voter_count = 1, .election_timeout_ms = 50, .tick_ms = 1,
                               .session_timeout_ms = 3600 * 1000 };
    cfg.voters[0].id = 1;
    struct ctrl *c = NULL;
    ck_assert_int_eq(ctrl_create(&cfg, count_cb, caught_up_cb, NULL, &c), 0);
    caught_up_count = 0;
    applied_count = 0;
    struct timeval limit = { 5, 0 };
    event_base_loopexit(base, &limit);
    event_base_dispatch(base);
    ck_assert_int_eq(caught_up_count, 1);
    ck_assert(ctrl_is_active(c));
    ck_assert_int_eq(ctrl_active_id(c), 1);
    return c;
}

static int commit_rc;
static int commit_calls;
static void commit_cb(void *arg, int rc)
{
    (void)arg;
    commit_rc = rc;
    commit_calls++;
    event_base_loopbreak(base);
}

/* Propose and run the loop until the commit callback. */
static int propose_wait(struct ctrl *c, struct ctrl_records *recs)
{
    commit_calls = 0;
    commit_rc = 1;
    int rc = ctrl_propose(c, recs->recs, recs->count, commit_cb, NULL);
    /* the controller's own work (a lease change in flight: ctrl_lease_change_in_flight)
     * refuses plans for a moment; clients re-send, and so does this */
    for (int tries = 0; rc == ERR_NOT_CONTROLLER && ctrl_is_active(c) && tries < 500; tries++) {
        fprintf(stderr, "propose_wait: ERR_NOT_CONTROLLER from the active controller (try %d); again in 10 ms\n",
                tries + 1);
        struct timeval pause = { 0, 10000 };
        event_base_loopexit(base, &pause);
        event_base_dispatch(base);
        rc = ctrl_propose(c, recs->recs, recs->count, commit_cb, NULL);
    }
    if (rc < 0)
        return rc;
    if (commit_calls == 0) {
        struct timeval limit = { 5, 0 };
        event_base_loopexit(base, &limit);
        event_base_dispatch(base);
    }
    ck_assert_int_eq(commit_calls, 1);
    return commit_rc;
}

static void register_self(struct ctrl *c, struct arena *a)
{
    struct ctrl_endpoint ep = { .name = "PLAINTEXT", .host = "localhost", .port = 9092, .security_protocol = 0 };
    struct ctrl_records recs = { 0 };
    ck_assert_int_eq(ctrl_plan_register_broker(1, 1, (const uint8_t *)"0123456789abcdef", &ep, 1, a, &recs), 0);
    ck_assert_int_eq(propose_wait(c, &recs), 0);
}

/* start_registered - a fresh loop and controller with this node (1) registered. */
static struct ctrl *start_registered(struct arena *a)
{
    arena_init(a, 4096, 1 << 20);
    base = event_base_new();
    struct ctrl *c = open_ctrl();
    register_self(c, a);
    return c;
}

static int create_topic(struct ctrl *c, struct arena *a, const char *name, int32_t parts)
{
    struct ctrl_topic_spec spec = { .name = name, .name_len = strlen(name), .partition_count = parts,
                                    .replication_factor = -1 };
    struct ctrl_records recs = { 0 };
    int32_t ep; int16_t erf;
    int rc = ctrl_plan_create_topic(ctrl_metadata(c), &spec, 1, 1, a, &recs, &ep, &erf);
    if (rc < 0)
        return rc;
    return propose_wait(c, &recs);
}

START_TEST(test_create_and_replay)
{
    struct arena a;
    struct ctrl *c = start_registered(&a);
    ck_assert_int_eq(create_topic(c, &a, "orders", 3), 0);
    ck_assert_int_eq(create_topic(c, &a, "orders", 3), ERR_EXISTS);
    ck_assert_int_eq(create_topic(c, &a, "bad name", 3), ERR_INVALID_TOPIC);
    ck_assert_int_eq(create_topic(c, &a, "zero", 0), ERR_INVALID_PARTITIONS);
    const struct ctrl_topic *t = ctrl_image_topic_find(ctrl_metadata(c), "orders", 6);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->partition_count, 3);
    ck_assert_int_eq(t->partitions[2].leader, 1);
    uint8_t id[16];
    memcpy(id, t->topic_id, 16);
    ctrl_destroy(c);

    /* a restart replays the log through the quorum: same image */
    c = open_ctrl();
    ck_assert_int_eq(applied_count, 0); /* the listener only sees records after catch-up */
    t = ctrl_image_topic_find(ctrl_metadata(c), "orders", 6);
    ck_assert_ptr_nonnull(t);
    ck_assert_mem_eq(t->topic_id, id, 16);
    ck_assert_ptr_eq(ctrl_image_topic_find_id(ctrl_metadata(c), id), t);

    struct ctrl_records recs = { 0 };
    ck_assert_int_eq(ctrl_plan_create_partitions(ctrl_metadata(c), "orders", 6, 5, NULL, NULL, 0, &a, &recs), 0);
    ck_assert_int_eq(propose_wait(c, &recs), 0);
    ck_assert_int_eq(applied_count, 2);
    ck_assert_int_eq(ctrl_image_topic_find(ctrl_metadata(c), "orders", 6)->partition_count, 5);
    recs = (struct ctrl_records){ 0 };
    ck_assert_int_eq(ctrl_plan_config(ctrl_metadata(c), 2, "orders", "retention.ms", "1000", &a, &recs), 0);
    ck_assert_int_eq(propose_wait(c, &recs), 0);
    t = ctrl_image_topic_find(ctrl_metadata(c), "orders", 6);
    ck_assert_str_eq(ctrl_configs_find(&t->configs, "retention.ms"), "1000");
    recs = (struct ctrl_records){ 0 };
    ck_assert_int_eq(ctrl_plan_delete_topic(ctrl_metadata(c), "orders", 6, &a, &recs), 0);
    ck_assert_int_eq(propose_wait(c, &recs), 0);
    ck_assert_ptr_null(ctrl_image_topic_find(ctrl_metadata(c), "orders", 6));
    ctrl_destroy(c);
    c = open_ctrl();
    ck_assert_ptr_null(ctrl_image_topic_find(ctrl_metadata(c), "orders", 6));
    ck_assert_int_eq(ctrl_image_broker_count(ctrl_metadata(c)), 1);
    struct ctrl_quorum_status qs;
    ctrl_quorum_status_get(c, &qs);
    ck_assert_int_eq(qs.leader_id, 1);
    ck_assert_uint_ge(qs.epoch, 3); /* one election per start */
    ctrl_destroy(c);
    event_base_free(base);
    arena_deinit(&a);
}
END_TEST

static struct ctrl_alter_partition_reply ap_reply;
static int ap_calls;
static void ap_cb(void *arg, const struct ctrl_alter_partition_reply *r)
{
    (void)arg;
    ap_reply = *r;
    ap_calls++;
    event_base_loopbreak(base);
}

/* ctrl_alter_partition on the active controller (the local path) and run
 * the loop until it is answered. */
static int alter_wait(struct ctrl *c, const struct ctrl_alter_partition *req)
{
    ap_calls = 0;
    int rc = ctrl_alter_partition(c, req, ap_cb, NULL);
    if (rc < 0)
        return rc;
    if (ap_calls == 0) {
        struct timeval limit = { 5, 0 };
        event_base_loopexit(base, &limit);
        event_base_dispatch(base);
    }
    ck_assert_int_eq(ap_calls, 1);
    return 0;
}

START_TEST(test_alter_partition_rpc)
{
    struct arena a;
    arena_init(&a, 4096, 1 << 20);
    base = event_base_new();
    struct ctrl *c = open_ctrl();
    register_self(c, &a);
    struct ctrl_endpoint ep = { .name = "PLAINTEXT", .host = "localhost", .port = 9093 };
    struct ctrl_records recs = { 0 };
    ck_assert_int_eq(ctrl_plan_register_broker(2, 1, (const uint8_t *)"fedcba9876543210", &ep, 1, &a, &recs), 0);
    ck_assert_int_eq(propose_wait(c, &recs), 0);
    static const int32_t reps[] = { 1, 2 };
    const int32_t *assign[] = { reps };
    int32_t lens[] = { 2 };
    struct ctrl_topic_spec spec = { .name = "isr", .name_len = 3, .partition_count = -1, .replication_factor = -1,
                                    .assignment_count = 1, .assignments = assign, .assignment_lens = lens };
    recs = (struct ctrl_records){ 0 };
    int32_t np; int16_t nrf;
    ck_assert_int_eq(ctrl_plan_create_topic(ctrl_metadata(c), &spec, 1, 1, &a, &recs, &np, &nrf), 0);
    ck_assert_int_eq(propose_wait(c, &recs), 0);
    const struct ctrl_topic *t = ctrl_image_topic_find(ctrl_metadata(c), "isr", 3);
    ck_assert_int_eq(t->partitions[0].isr_count, 2); /* every replica starts in sync */

    struct ctrl_alter_partition req = { .broker_id = 1, .broker_epoch = 1, .partition_id = 0, .leader_epoch = 0,
                                        .partition_epoch = 0, .isr_count = 1, .isr = { 1 },
                                        .isr_broker_epochs = { 1 } };
    memcpy(req.topic_id, t->topic_id, 16);
    /* another broker's id: refused before anything is planned */
    req.broker_id = 2;
    ck_assert_int_eq(ctrl_alter_partition(c, &req, ap_cb, NULL), ERR_INVALID);
    /* a stale broker epoch: answered (from the loop) with Kafka's error */
    req.broker_id = 1;
    req.broker_epoch = 7;
    ck_assert_int_eq(alter_wait(c, &req), 0);
    ck_assert_int_eq(ap_reply.rc, 0);
    ck_assert_int_eq(ap_reply.error_code, CTRL_KERR_STALE_BROKER_EPOCH);
    /* the shrink commits one record and answers the committed state */
    req.broker_epoch = 1;
    int64_t before = ctrl_image_applied_offset(ctrl_metadata(c));
    ck_assert_int_eq(alter_wait(c, &req), 0);
    ck_assert_int_eq(ap_reply.rc, 0);
    ck_assert_int_eq(ap_reply.error_code, 0);
    ck_assert_int_eq(ap_reply.leader, 1);
    ck_assert_int_eq(ap_reply.partition_epoch, 1);
    ck_assert_int_eq(ap_reply.isr_count, 1);
    ck_assert_int_gt(ctrl_image_applied_offset(ctrl_metadata(c)), before);
    t = ctrl_image_topic_find(ctrl_metadata(c), "isr", 3);
    ck_assert_int_eq(t->partitions[0].isr_count, 1);
    ck_assert_int_eq(t->partitions[0].partition_epoch, 1);
    /* a copy of it is stale now */
    ck_assert_int_eq(alter_wait(c, &req), 0);
    ck_assert_int_eq(ap_reply.error_code, CTRL_KERR_INVALID_UPDATE_VERSION);
    /* the current ISR again: answered with the current state, nothing committed */
    req.partition_epoch = 1;
    before = ctrl_image_applied_offset(ctrl_metadata(c));
    ck_assert_int_eq(alter_wait(c, &req), 0);
    ck_assert_int_eq(ap_reply.error_code, 0);
    ck_assert_int_eq(ap_reply.partition_epoch, 1);
    ck_assert_int_eq(ctrl_image_applied_offset(ctrl_metadata(c)), before);
    ctrl_destroy(c);
    event_base_free(base);
    arena_deinit(&a);
}
END_TEST

static int pids_calls;
static int pids_rc[4];
static int64_t pids_start[4];
static void pids_cb(void *arg, int rc, int64_t start, int32_t len)
{
    (void)arg;
    ck_assert_int_lt(pids_calls, 4);
    ck_assert(rc < 0 || len == CTRL_PRODUCER_ID_BLOCK_LEN);
    pids_rc[pids_calls] = rc;
    pids_start[pids_calls++] = start;
    event_base_loopbreak(base);
}

static void pids_wait(int calls)
{
    while (pids_calls < calls) {
        struct timeval limit = { 5, 0 };
        event_base_loopexit(base, &limit);
        event_base_dispatch(base);
    }
}

/* AllocateProducerIds: blocks never overlap, also two in flight at once and
 * across a restart and a snapshot; stale or foreign callers are refused. */
START_TEST(test_producer_id_blocks)
{
    struct arena a;
    arena_init(&a, 4096, 1 << 20);
    base = event_base_new();
    struct ctrl *c = open_ctrl();
    register_self(c, &a);
    ck_assert_int_eq(ctrl_image_next_producer_id(ctrl_metadata(c)), 0);
    pids_calls = 0;
    ck_assert_int_eq(ctrl_allocate_producer_ids(c, 1, 1, pids_cb, NULL), 0);
    ck_assert_int_eq(ctrl_allocate_producer_ids(c, 1, 1, pids_cb, NULL), 0); /* the first is not applied yet */
    ck_assert_int_eq(ctrl_allocate_producer_ids(c, 1, 2, pids_cb, NULL), ERR_STALE);
    ck_assert_int_eq(ctrl_allocate_producer_ids(c, 2, 1, pids_cb, NULL), ERR_INVALID);
    pids_wait(2);
    ck_assert_int_eq(pids_rc[0], 0);
    ck_assert_int_eq(pids_rc[1], 0);
    ck_assert_int_eq(pids_start[0], 0);
    ck_assert_int_eq(pids_start[1], CTRL_PRODUCER_ID_BLOCK_LEN);
    ck_assert_int_eq(ctrl_image_next_producer_id(ctrl_metadata(c)), 2 * CTRL_PRODUCER_ID_BLOCK_LEN);
    ctrl_destroy(c);

    /* replayed from the log: the next block follows */
    c = open_ctrl();
    ck_assert_int_eq(ctrl_image_next_producer_id(ctrl_metadata(c)), 2 * CTRL_PRODUCER_ID_BLOCK_LEN);
    ck_assert_int_eq(ctrl_allocate_producer_ids(c, 1, 1, pids_cb, NULL), 0);
    pids_wait(3);
    ck_assert_int_eq(pids_rc[2], 0);
    ck_assert_int_eq(pids_start[2], 2 * CTRL_PRODUCER_ID_BLOCK_LEN);

    /* a snapshot carries the next block start */
    struct buf b;
    buf_init(&b, 1 << 20);
    ck_assert_int_eq(ctrl_snap_encode(ctrl_metadata(c), &a, &b), 0);
    struct ctrl_image *img;
    ck_assert_int_eq(ctrl_image_create(&img), 0);
    ck_assert_int_eq(ctrl_snap_load(img, buf_bytes(&b), 0), 0);
    ck_assert_int_eq(ctrl_image_next_producer_id(img), 3 * CTRL_PRODUCER_ID_BLOCK_LEN);
    ctrl_image_destroy(img);
    buf_deinit(&b);
    ctrl_destroy(c);
    event_base_free(base);
    arena_deinit(&a);
}
END_TEST

/* Manual replica assignments (CreateTopics / CreatePartitions): Kafka's
 * rules and messages, and the leader is the first unfenced replica. */
START_TEST(test_manual_assignment)
{
    struct arena a;
    struct ctrl *c = start_registered(&a);
    struct ctrl_endpoint ep = { .name = "PLAINTEXT", .host = "localhost", .port = 9093, .security_protocol = 0 };
    for (int32_t id = 2; id <= 3; id++) {
        struct ctrl_records recs = { 0 };
        ck_assert_int_eq(ctrl_plan_register_broker(id, 1, (const uint8_t *)"0123456789abcdeX", &ep, 1, &a, &recs), 0);
        ck_assert_int_eq(propose_wait(c, &recs), 0);
    }
    struct ctrl_records recs = { 0 };
    ck_assert_int_eq(ctrl_plan_fence(ctrl_metadata(c), 3, true, &(struct ctrl_plan_policy){ .min_isr_default = 1 }, &a, &recs), 0);
    ck_assert_int_eq(propose_wait(c, &recs), 0);
    const struct ctrl_image *img = ctrl_metadata(c);
    char msg[256];
    static const int32_t l12[] = { 1, 2 }, l21[] = { 2, 1 }, l1[] = { 1 }, l11[] = { 1, 1 }, l71[] = { 7, 1 },
                         l3[] = { 3 }, l31[] = { 3, 1 };
    const int32_t *ok[2] = { l12, l21 }, *uneven[2] = { l12, l1 }, *dup[1] = { l11 }, *unreg[1] = { l71 },
                  *fenced[1] = { l3 }, *empty[1] = { l1 }, *mixed[2] = { l31, l21 };
    int32_t two[2] = { 2, 2 }, two_one[2] = { 2, 1 }, one[1] = { 1 }, twos[1] = { 2 }, zero[1] = { 0 };
    ck_assert_int_eq(ctrl_plan_assignment_check(img, ok, two, 2, -1, 0, msg, sizeof msg), 0);
    ck_assert_int_eq(ctrl_plan_assignment_check(img, uneven, two_one, 2, -1, 0, msg, sizeof msg),
                     ERR_INVALID_REPLICA_ASSIGNMENT);
    ck_assert_str_eq(msg, "The manual partition assignment includes a partition with 1 replica(s), but this is not "
                          "consistent with previous partitions, which have 2 replica(s).");
    ck_assert_int_eq(ctrl_plan_assignment_check(img, dup, twos, 1, -1, 0, msg, sizeof msg),
                     ERR_INVALID_REPLICA_ASSIGNMENT);
    ck_assert_str_eq(msg, "The manual partition assignment includes the broker 1 more than once.");
    ck_assert_int_eq(ctrl_plan_assignment_check(img, unreg, twos, 1, -1, 0, msg, sizeof msg),
                     ERR_INVALID_REPLICA_ASSIGNMENT);
    ck_assert_str_eq(msg, "The manual partition assignment includes broker 7, but no such broker is registered.");
    ck_assert_int_eq(ctrl_plan_assignment_check(img, fenced, one, 1, -1, 4, msg, sizeof msg),
                     ERR_INVALID_REPLICA_ASSIGNMENT);
    ck_assert_str_eq(msg, "All brokers specified in the manual partition assignment for partition 4 are fenced or in "
                          "controlled shutdown.");
    ck_assert_int_eq(ctrl_plan_assignment_check(img, empty, zero, 1, -1, 0, msg, sizeof msg),
                     ERR_INVALID_REPLICA_ASSIGNMENT);
    ck_assert_str_eq(msg, "The manual partition assignment includes an empty replica list.");
    ck_assert_int_eq(ctrl_plan_assignment_check(img, ok, two, 2, 3, 0, NULL, 0), ERR_INVALID_REPLICA_ASSIGNMENT);

    /* a topic on [3,1] and [2,1]: broker 3 is fenced, so partition 0 is led by 1 */
    struct ctrl_topic_spec spec = { .name = "manual", .name_len = 6, .partition_count = -1,
                                    .replication_factor = -1, .assignment_count = 2, .assignments = mixed,
                                    .assignment_lens = two };
    int32_t eparts;
    int16_t erf;
    recs = (struct ctrl_records){ 0 };
    ck_assert_int_eq(ctrl_plan_create_topic(img, &spec, 1, 1, &a, &recs, &eparts, &erf), 0);
    ck_assert_int_eq(eparts, 2);
    ck_assert_int_eq(erf, 2);
    ck_assert_int_eq(propose_wait(c, &recs), 0);
    const struct ctrl_topic *t = ctrl_image_topic_find(ctrl_metadata(c), "manual", 6);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->partitions[0].replica_count, 2);
    ck_assert_int_eq(t->partitions[0].replicas[0], 3);
    ck_assert_int_eq(t->partitions[0].leader, 1);
    ck_assert_int_eq(t->partitions[1].leader, 2);
    spec.assignments = uneven;
    spec.assignment_lens = two_one;
    spec.name = "manual2";
    spec.name_len = 7;
    recs = (struct ctrl_records){ 0 };
    ck_assert_int_eq(ctrl_plan_create_topic(ctrl_metadata(c), &spec, 1, 1, &a, &recs, &eparts, &erf),
                     ERR_INVALID_REPLICA_ASSIGNMENT);

    /* two more partitions on [1,2] and [2,1]; one list for two partitions is refused */
    recs = (struct ctrl_records){ 0 };
    ck_assert_int_eq(ctrl_plan_create_partitions(ctrl_metadata(c), "manual", 6, 4, ok, two, 1, &a, &recs),
                     ERR_INVALID_REPLICA_ASSIGNMENT);
    ck_assert_int_eq(ctrl_plan_create_partitions(ctrl_metadata(c), "manual", 6, 3, dup, twos, 1, &a, &recs),
                     ERR_INVALID_REPLICA_ASSIGNMENT);
    ck_assert_int_eq(ctrl_plan_create_partitions(ctrl_metadata(c), "manual", 6, 4, ok, two, 2, &a, &recs), 0);
    ck_assert_int_eq(propose_wait(c, &recs), 0);
    t = ctrl_image_topic_find(ctrl_metadata(c), "manual", 6);
    ck_assert_int_eq(t->partition_count, 4);
    ck_assert_int_eq(t->partitions[2].replicas[0], 1);
    ck_assert_int_eq(t->partitions[2].replicas[1], 2);
    ck_assert_int_eq(t->partitions[3].leader, 2);
    ctrl_destroy(c);
    event_base_free(base);
    arena_deinit(&a);
}
END_TEST

/* Run the loop for up to limit_ms, until the partition has want replicas. */
static const struct ctrl_partition *wait_replicas(struct ctrl *c, const char *topic, int32_t want, int limit_ms)
{
    for (int waited = 0;; waited += 20) {
        const struct ctrl_topic *t = ctrl_image_topic_find(ctrl_metadata(c), topic, strlen(topic));
        ck_assert_ptr_nonnull(t);
        if (t->partitions[0].replica_count == want || waited >= limit_ms)
            return &t->partitions[0];
        struct timeval step = { 0, 20000 };
        event_base_loopexit(base, &step);
        event_base_dispatch(base);
    }
}

/* The driver finishes a reassignment by itself (ctrl_reassign.c) once the
 * ISR holds the adding replica, and not before. */
START_TEST(test_reassign_finishes)
{
    struct arena a;
    arena_init(&a, 4096, 1 << 20);
    base = event_base_new();
    struct ctrl *c = open_ctrl();
    register_self(c, &a);
    struct ctrl_endpoint ep = { .name = "PLAINTEXT", .host = "localhost", .port = 9093, .security_protocol = 0 };
    struct ctrl_records recs = { 0 };
    ck_assert_int_eq(ctrl_plan_register_broker(2, 1, (const uint8_t *)"fedcba9876543210", &ep, 1, &a, &recs), 0);
    ck_assert_int_eq(propose_wait(c, &recs), 0);
    const int32_t one[1] = { 1 };
    const int32_t *assign[1] = { one };
    int32_t lens[1] = { 1 };
    struct ctrl_topic_spec spec = { .name = "mv", .name_len = 2, .partition_count = -1, .replication_factor = -1,
                                    .assignment_count = 1, .assignments = assign, .assignment_lens = lens };
    int32_t ep_count; int16_t erf;
    recs = (struct ctrl_records){ 0 };
    ck_assert_int_eq(ctrl_plan_create_topic(ctrl_metadata(c), &spec, 1, 1, &a, &recs, &ep_count, &erf), 0);
    ck_assert_int_eq(propose_wait(c, &recs), 0);
    recs = (struct ctrl_records){ 0 };
    ck_assert_int_eq(ctrl_plan_reassign(ctrl_metadata(c), "mv", 2, 0, (const int32_t[]){ 2 }, 1, &a, &recs), 0);
    ck_assert_int_eq(propose_wait(c, &recs), 0);
    /* broker 2 is not in the ISR: the move waits (many driver checks pass) */
    const struct ctrl_partition *p = wait_replicas(c, "mv", 1, 300);
    ck_assert_int_eq(p->replica_count, 2);
    ck_assert_int_eq(p->adding_count, 1);
    /* the leader's AlterPartition adds it to the ISR */
    Samsa__PartitionChangeRecord pc = SAMSA__PARTITION_CHANGE_RECORD__INIT;
    const struct ctrl_topic *t = ctrl_image_topic_find(ctrl_metadata(c), "mv", 2);
    pc.topic_id.data = (uint8_t *)t->topic_id;
    pc.topic_id.len = 16;
    pc.has_isr = true;
    pc.isr = (int32_t[]){ 1, 2 };
    pc.n_isr = 2;
    Samsa__MetadataRecord r = SAMSA__METADATA_RECORD__INIT;
    r.record_case = SAMSA__METADATA_RECORD__RECORD_PARTITION_CHANGE;
    r.partition_change = &pc;
    Samsa__MetadataRecord *rp = &r;
    recs = (struct ctrl_records){ .recs = &rp, .count = 1, .cap = 1 };
    ck_assert_int_eq(propose_wait(c, &recs), 0);
    p = wait_replicas(c, "mv", 1, 3000);
    ck_assert_int_eq(p->replica_count, 1);
    ck_assert_int_eq(p->replicas[0], 2);
    ck_assert_int_eq(p->isr_count, 1);
    ck_assert_int_eq(p->isr[0], 2);
    ck_assert_int_eq(p->leader, 2);
    ck_assert_int_eq(p->adding_count + p->removing_count, 0);
    ck_assert_int_eq(ctrl_image_reassigning_count(ctrl_metadata(c)), 0);
    ctrl_destroy(c);
    event_base_free(base);
    arena_deinit(&a);
}
END_TEST

/* An image with no records is a snapshot of zero bytes: it is written,
 * read back and loaded like any other (a follower installing it from the
 * leader aborted on "snapshot install without data": simulator seed 18932,
 * test/sim/seeds_test.sh replays it through the driver). */
START_TEST(test_snapshot_empty_image)
{
    struct ctrl_image *img = NULL;
    ck_assert_int_eq(ctrl_image_create(&img), 0);
    struct arena a;
    arena_init(&a, 4096, 1u << 20);
    struct buf snap;
    buf_init(&snap, 1u << 20);
    ck_assert_int_eq(ctrl_snap_encode(img, &a, &snap), 0);
    ck_assert_uint_eq(snap.len, 0);
    char sub[300];
    snprintf(sub, sizeof sub, "%s/__cluster_metadata-0", tmpdir);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    ck_assert_int_eq(ctrl_snap_write(tmpdir, 1, 1, buf_bytes(&snap)), 0);
    struct buf back;
    buf_init(&back, 1u << 20);
    ck_assert_int_eq(ctrl_snap_read(tmpdir, 1, 1, &back), 0);
    ck_assert_uint_eq(back.len, 0);
    struct ctrl_image *loaded = NULL;
    ck_assert_int_eq(ctrl_image_create(&loaded), 0);
    static const uint8_t none[1];
    ck_assert_int_eq(ctrl_snap_load(loaded, bytes_make(none, 0), 0), 0);
    ck_assert_int_eq(ctrl_image_topic_count(loaded), 0);
    ck_assert_int_eq(ctrl_image_broker_count(loaded), 0);
    ctrl_image_destroy(loaded);
    buf_deinit(&back);
    buf_deinit(&snap);
    arena_deinit(&a);
    ctrl_image_destroy(img);
}
END_TEST

START_TEST(test_mlog_torn_tail)
{
    struct ctrl_mlog *m;
    ck_assert_int_eq(ctrl_mlog_open(tmpdir, &m), 0);
    for (int i = 0; i < 10; i++) {
        char data[32];
        int n = snprintf(data, sizeof data, "entry-%d", i);
        ck_assert_int_eq(ctrl_mlog_append(m, i, 1 + i / 5, bytes_make(data, (size_t)n)), 0);
    }
    ck_assert_int_eq(ctrl_mlog_sync(m), 0);
    ctrl_mlog_destroy(m);
    char path[512];
    snprintf(path, sizeof path, "%s/__cluster_metadata-0/00000000000000000000.log", tmpdir);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    /* tear the last frame in half, then add garbage */
    ck_assert_int_eq(truncate(path, st.st_size - 4), 0);
    int fd = open(path, O_WRONLY | O_APPEND);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "\xff\xff\xff\xffgarbage", 11), 11);
    close(fd);
    ck_assert_int_eq(ctrl_mlog_open(tmpdir, &m), 0);
    ck_assert_int_eq(ctrl_mlog_end_offset(m), 9);
    ck_assert_int_eq(ctrl_mlog_last_epoch(m), 2);
    struct buf b;
    buf_init(&b, 0);
    int32_t epoch;
    ck_assert_int_eq(ctrl_mlog_read(m, 8, &b, &epoch), 0);
    ck_assert(bytes_eq_cstr(buf_bytes(&b), "entry-8"));
    ck_assert_int_eq(ctrl_mlog_read(m, 9, &b, &epoch), ERR_OFFSET_RANGE);
    /* the log accepts appends again where it was cut, and truncation works */
    ck_assert_int_eq(ctrl_mlog_append(m, 9, 3, bytes_cstr("again")), 0);
    ck_assert_int_eq(ctrl_mlog_truncate(m, 5), 0);
    ck_assert_int_eq(ctrl_mlog_end_offset(m), 5);
    ctrl_mlog_destroy(m);
    ck_assert_int_eq(ctrl_mlog_open(tmpdir, &m), 0);
    ck_assert_int_eq(ctrl_mlog_end_offset(m), 5);
    ck_assert_int_eq(ctrl_mlog_read(m, 4, &b, &epoch), 0);
    ck_assert(bytes_eq_cstr(buf_bytes(&b), "entry-4"));
    ck_assert_int_eq(epoch, 1);
    ctrl_mlog_destroy(m);
    buf_deinit(&b);
}
END_TEST

/* the prefix cut rewrites the log through fileio's temp file and keeps its fd:
 * appends after the cut land in the new file, and a reopen sees the cut */
START_TEST(test_mlog_cut_prefix)
{
    struct ctrl_mlog *m;
    ck_assert_int_eq(ctrl_mlog_open(tmpdir, &m), 0);
    for (int i = 0; i < 10; i++) {
        char data[32];
        int n = snprintf(data, sizeof data, "entry-%d", i);
        ck_assert_int_eq(ctrl_mlog_append(m, i, 1, bytes_make(data, (size_t)n)), 0);
    }
    ck_assert_int_eq(ctrl_mlog_sync(m), 0);
    ck_assert_int_eq(ctrl_mlog_cut_prefix(m, 4), 0);
    ck_assert_int_eq(ctrl_mlog_start_offset(m), 4);
    ck_assert_int_eq(ctrl_mlog_end_offset(m), 10);
    struct buf b;
    buf_init(&b, 0);
    int32_t epoch;
    ck_assert_int_eq(ctrl_mlog_read(m, 4, &b, &epoch), 0);
    ck_assert(bytes_eq_cstr(buf_bytes(&b), "entry-4"));
    ck_assert_int_eq(ctrl_mlog_append(m, 10, 2, bytes_cstr("after-cut")), 0);
    ck_assert_int_eq(ctrl_mlog_sync(m), 0);
    ctrl_mlog_destroy(m);
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/__cluster_metadata-0/00000000000000000000.log.tmp", tmpdir);
    ck_assert_int_eq(access(tmp, F_OK), -1);
    ck_assert_int_eq(ctrl_mlog_open(tmpdir, &m), 0);
    ck_assert_int_eq(ctrl_mlog_start_offset(m), 4);
    ck_assert_int_eq(ctrl_mlog_end_offset(m), 11);
    ck_assert_int_eq(ctrl_mlog_read(m, 10, &b, &epoch), 0);
    ck_assert(bytes_eq_cstr(buf_bytes(&b), "after-cut"));
    ck_assert_int_eq(epoch, 2);
    ck_assert_int_eq(ctrl_mlog_read(m, 9, &b, &epoch), 0);
    ck_assert(bytes_eq_cstr(buf_bytes(&b), "entry-9"));
    ctrl_mlog_destroy(m);
    buf_deinit(&b);
}
END_TEST

/* ---- a dead incarnation's answer (ctrl simulator seed 37816) ---- */

static int reg_calls;
static int reg_rc;
static int64_t reg_epoch;
static void reg_cb(void *arg, int rc, int64_t broker_epoch)
{
    (void)arg;
    reg_calls++;
    reg_rc = rc;
    reg_epoch = broker_epoch;
}

static struct ctrl *stale_broker;
static bool stale_broker_knows_leader(void) { return ctrl_active_id(stale_broker) == 1; }
static bool stale_registered(void) { return reg_calls > 0; }
static struct ctrl *stale_controller;
static bool broker2_epoch3(void)
{
    const struct ctrl_broker *b = ctrl_image_broker_find(ctrl_metadata(stale_controller), 2);
    return b && b->broker_epoch == 3;
}

/* Run the loop in 10 ms slices until done() or limit_ms. */
static bool run_until(bool (*done)(void), int limit_ms)
{
    for (int waited_ms = 0; waited_ms < limit_ms && !done(); waited_ms += 10) {
        struct timeval slice = { 0, 10000 };
        event_base_loopexit(base, &slice);
        event_base_dispatch(base);
    }
    return done();
}

/* Register until the controller (a new leader at first) accepts it. */
static void register_until_ok(struct ctrl *c, const struct ctrl_registration *reg)
{
    for (int tries = 0; tries < 250; tries++) {
        reg_calls = 0;
        if (ctrl_register_broker(c, reg, reg_cb, NULL) == 0 && run_until(stale_registered, 2000) && reg_rc == 0)
            return;
        run_until(stale_registered, 20); /* a pause: nothing sets reg_calls now */
    }
    ck_abort_msg("broker %d not registered: last rc=%d", reg->broker_id, reg_rc);
}

static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* A fresh loop and controller 1 listening on loopback (session_ms 0: the
 * default session); *bcfg is the config of broker 2's controller client.  */
static char pair_dir1[300], pair_dir2[300];
static struct ctrl *start_controller(int64_t session_ms, struct ctrl_config *bcfg)
{
    base = event_base_new();
    uint16_t port = free_port();
    snprintf(pair_dir1, sizeof pair_dir1, "%s/c1", tmpdir);
    snprintf(pair_dir2, sizeof pair_dir2, "%s/b2", tmpdir);
    ck_assert_int_eq(mkdir(pair_dir1, 0700), 0);
    ck_assert_int_eq(mkdir(pair_dir2, 0700), 0);
    struct ctrl_config cfg = { .node_id = 1, .metadata_dir = pair_dir1, .cluster_id = "test", .base = base,
                               .listen = true, .listen_host = "127.0.0.1", .listen_port = port,
                               .voter_count = 1, .election_timeout_ms = 50, .tick_ms = 1,
                               .session_timeout_ms = session_ms };
    cfg.voters[0].id = 1;
    snprintf(cfg.voters[0].host, sizeof cfg.voters[0].host, "127.0.0.1");
    cfg.voters[0].port = port;
    struct ctrl *controller = NULL;
    ck_assert_int_eq(ctrl_create(&cfg, count_cb, caught_up_cb, NULL, &controller), 0);
    *bcfg = cfg;
    bcfg->node_id = 2;
    bcfg->metadata_dir = pair_dir2;
    bcfg->listen = false;
    return controller;
}

/* Broker 2's process A registers with controller 1 and dies; process B
 * registers after an unclean stop.  An answer to A's request reaching B (the
 * controller answers "node 2", whichever process runs it by then) must not
 * be taken for B's: request ids restarted at 1 in every process, so B took
 * it, never sent its unclean registration and kept its ELR place. */
START_TEST(test_stale_answer_ignored)
{
    struct ctrl_config bcfg;
    struct ctrl *controller = start_controller(0, &bcfg);
    struct ctrl_endpoint ep = { .name = "PLAINTEXT", .host = "localhost", .port = 9092, .security_protocol = 0 };
    struct ctrl_registration reg = { .broker_id = 2, .previous_broker_epoch = -1, .endpoints = &ep,
                                     .endpoint_count = 1 };

    /* process A registers: epoch 1 */
    ck_assert_int_eq(ctrl_create(&bcfg, count_cb, caught_up_cb, NULL, &stale_broker), 0);
    ck_assert(run_until(stale_broker_knows_leader, 5000));
    memcpy(reg.incarnation_id, "incarnation-A...", 16);
    register_until_ok(stale_broker, &reg);
    ck_assert_int_eq(reg_epoch, 1);
    uint64_t id_a = ctrl_request_id_last(stale_broker);
    ctrl_destroy(stale_broker);

    /* process B registers after an unclean stop; the answer to A's request
     * arrives from the controller first.  B started on A's disks (A is its
     * predecessor): accepted although A's lease is live */
    ck_assert_int_eq(ctrl_create(&bcfg, count_cb, caught_up_cb, NULL, &stale_broker), 0);
    ck_assert(run_until(stale_broker_knows_leader, 5000));
    memcpy(reg.incarnation_id, "incarnation-B...", 16);
    memcpy(reg.previous_incarnation_id, "incarnation-A...", 16);
    reg.previous_incarnation_len = 16;
    reg_calls = 0;
    ck_assert_int_eq(ctrl_register_broker(stale_broker, &reg, reg_cb, NULL), 0);
    Samsa__BrokerRegistrationResponse stale = SAMSA__BROKER_REGISTRATION_RESPONSE__INIT;
    stale.request_id = id_a;
    stale.broker_epoch = 1;
    stale.leader_id = 1;
    Samsa__ControllerFrame f = SAMSA__CONTROLLER_FRAME__INIT;
    f.frame_case = SAMSA__CONTROLLER_FRAME__FRAME_REGISTER_BROKER_RESPONSE;
    f.register_broker_response = &stale;
    ctrl_on_frame(stale_broker, 1, &f);
    ck_assert_msg(reg_calls == 0, "process B took the answer to A's request %llu for its own request %llu",
                  (unsigned long long)id_a, (unsigned long long)ctrl_request_id_last(stale_broker));
    /* nor is B's own id accepted from a node the request did not go to */
    stale.request_id = ctrl_request_id_last(stale_broker);
    ctrl_on_frame(stale_broker, 3, &f);
    ck_assert_int_eq(reg_calls, 0);

    /* B's own registration is answered: a new epoch (the controller saw the
     * unclean stop) */
    ck_assert(run_until(stale_registered, 5000));
    ck_assert_int_eq(reg_rc, 0);
    ck_assert_int_eq(reg_epoch, 2);
    ck_assert_int_eq(ctrl_image_broker_find(ctrl_metadata(controller), 2)->broker_epoch, 2);

    /* B leads a partition; it registers again (same process: its previous
     * answer was lost, so it names epoch -1, not 2).  A malformed answer
     * (no error, no epoch) fails the attempt instead of registering it at
     * epoch 0; the registration itself commits at epoch 3 and, the same
     * incarnation having lost nothing, leaves B's leadership alone. */
    struct arena a;
    arena_init(&a, 4096, 1 << 20);
    static const int32_t on2[] = { 2 };
    const int32_t *assign[1] = { on2 };
    int32_t one[1] = { 1 }, eparts;
    int16_t erf;
    struct ctrl_topic_spec spec = { .name = "led-by-2", .name_len = 8, .partition_count = -1,
                                    .replication_factor = -1, .assignment_count = 1, .assignments = assign,
                                    .assignment_lens = one };
    struct ctrl_records recs = { 0 };
    ck_assert_int_eq(ctrl_plan_create_topic(ctrl_metadata(controller), &spec, 1, 1, &a, &recs, &eparts, &erf), 0);
    ck_assert_int_eq(propose_wait(controller, &recs), 0);
    const struct ctrl_topic *t = ctrl_image_topic_find(ctrl_metadata(controller), "led-by-2", 8);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->partitions[0].leader, 2);
    int32_t leader_epoch = t->partitions[0].leader_epoch;
    reg_calls = 0;
    ck_assert_int_eq(ctrl_register_broker(stale_broker, &reg, reg_cb, NULL), 0);
    stale.request_id = ctrl_request_id_last(stale_broker);
    stale.broker_epoch = 0;
    ctrl_on_frame(stale_broker, 1, &f);
    ck_assert_int_eq(reg_calls, 1);
    ck_assert_int_lt(reg_rc, 0);
    stale_controller = controller;
    ck_assert(run_until(broker2_epoch3, 5000));
    t = ctrl_image_topic_find(ctrl_metadata(controller), "led-by-2", 8);
    ck_assert_int_eq(t->partitions[0].leader, 2);
    ck_assert_int_eq(t->partitions[0].leader_epoch, leader_epoch);
    ck_assert_int_eq(t->partitions[0].isr_count, 1);
    arena_deinit(&a);
    ctrl_destroy(stale_broker);
    ctrl_destroy(controller);
    event_base_free(base);
}
END_TEST

/* One registration of broker 2 through stale_broker; its answer's rc. */
static int register_once(const struct ctrl_registration *reg)
{
    reg_calls = 0;
    ck_assert_int_eq(ctrl_register_broker(stale_broker, reg, reg_cb, NULL), 0);
    ck_assert(run_until(stale_registered, 2000));
    return reg_rc;
}

/* A controller (node 1, listener) and broker 2's processes over the real
 * controller listener, with a 1.5 s session:
 *   A registers; while its lease lives, B with no predecessor, or with a
 *   predecessor that is not A, is refused (DUPLICATE_BROKER_REGISTRATION);
 *   a malformed predecessor (5 bytes) is refused as invalid; C, A's successor
 *   on the same disks, is accepted at once; D (new disks) is refused while
 *   C's lease lives and accepted once it expired (no heartbeats). */
START_TEST(test_duplicate_registration)
{
    struct ctrl_config bcfg;
    struct ctrl *controller = start_controller(1500, &bcfg);
    ck_assert_int_eq(ctrl_create(&bcfg, count_cb, caught_up_cb, NULL, &stale_broker), 0);
    ck_assert(run_until(stale_broker_knows_leader, 5000));
    struct ctrl_endpoint ep = { .name = "PLAINTEXT", .host = "localhost", .port = 9092, .security_protocol = 0 };
    struct ctrl_registration reg = { .broker_id = 2, .previous_broker_epoch = -1, .endpoints = &ep,
                                     .endpoint_count = 1 };
    memcpy(reg.incarnation_id, "incarnation-A...", 16);
    register_until_ok(stale_broker, &reg);
    ck_assert_int_eq(reg_epoch, 1);

    /* B, no predecessor known (new disks): refused while A's lease lives */
    memcpy(reg.incarnation_id, "incarnation-B...", 16);
    ck_assert_int_eq(register_once(&reg), ERR_DUPLICATE_BROKER);
    /* B naming a predecessor that is not the registered A: refused too */
    memcpy(reg.previous_incarnation_id, "incarnation-X...", 16);
    reg.previous_incarnation_len = 16;
    ck_assert_int_eq(register_once(&reg), ERR_DUPLICATE_BROKER);
    /* a forged field of the wrong length, naming A's first 5 bytes: malformed */
    memcpy(reg.previous_incarnation_id, "incarnation-A...", 16);
    reg.previous_incarnation_len = 5;
    ck_assert_int_eq(register_once(&reg), ERR_INVALID);
    const struct ctrl_broker *b = ctrl_image_broker_find(ctrl_metadata(controller), 2);
    ck_assert_int_eq(b->broker_epoch, 1);
    ck_assert_int_eq(memcmp(b->incarnation_id, "incarnation-A...", 16), 0);

    /* C restarts on A's disks (A is its predecessor): accepted at once, while
     * A's lease still lives */
    memcpy(reg.incarnation_id, "incarnation-C...", 16);
    reg.previous_incarnation_len = 16;
    ck_assert_int_eq(register_once(&reg), 0);
    ck_assert_int_eq(reg_epoch, 2);
    b = ctrl_image_broker_find(ctrl_metadata(controller), 2);
    ck_assert_int_eq(memcmp(b->incarnation_id, "incarnation-C...", 16), 0);
    ck_assert(!b->fenced);

    /* D on new disks: refused while C's lease lives (the registration renewed
     * it), accepted once it expired: nobody heartbeats */
    memcpy(reg.incarnation_id, "incarnation-D...", 16);
    reg.previous_incarnation_len = 0;
    ck_assert_int_eq(register_once(&reg), ERR_DUPLICATE_BROKER);
    int refusals = 1;
    for (int tries = 0; tries < 100 && reg_rc != 0; tries++) {
        reg_calls = 0;
        run_until(stale_registered, 100); /* a pause: nothing sets reg_calls now */
        if (ctrl_register_broker(stale_broker, &reg, reg_cb, NULL) == 0 && run_until(stale_registered, 2000) &&
            reg_rc == ERR_DUPLICATE_BROKER)
            refusals++;
    }
    ck_assert_int_eq(reg_rc, 0);
    ck_assert_int_ge(refusals, 3); /* refused for most of the 1.5 s session */
    b = ctrl_image_broker_find(ctrl_metadata(controller), 2);
    ck_assert_int_eq(memcmp(b->incarnation_id, "incarnation-D...", 16), 0);
    ctrl_destroy(stale_broker);
    ctrl_destroy(controller);
    event_base_free(base);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ctrl");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30); /* test_duplicate_registration waits out a session on the real loop */
    tcase_add_test(tc, test_create_and_replay);
    tcase_add_test(tc, test_alter_partition_rpc);
    tcase_add_test(tc, test_producer_id_blocks);
    tcase_add_test(tc, test_manual_assignment);
    tcase_add_test(tc, test_reassign_finishes);
    tcase_add_test(tc, test_snapshot_empty_image);
    tcase_add_test(tc, test_mlog_torn_tail);
    tcase_add_test(tc, test_mlog_cut_prefix);
    tcase_add_test(tc, test_stale_answer_ignored);
    tcase_add_test(tc, test_duplicate_registration);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
