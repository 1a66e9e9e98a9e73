/*
 * ctrl_plan_test.c - planning of partition changes against an image built
 * from records: AlterPartition's checks in their order (each refusal and the
 * success), elections on fencing (unfenced ISR only, preferred first, the
 * fenced broker leaving ISRs except as the last member, unclean election).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "controller/ctrl.h"
#include "controller/ctrl_snap.h"

static struct arena a;
static struct ctrl_image *img;
static uint8_t tid[16];

static void apply_all(const struct ctrl_records *recs)
{
    static int64_t offset;
    for (size_t i = 0; i < recs->count; i++)
        ctrl_image_apply(img, recs->recs[i], offset++);
}

static void add_broker(int32_t id, int64_t epoch)
{
    struct ctrl_endpoint ep = { .name = "PLAINTEXT", .host = "localhost", .port = 9092 };
    struct ctrl_records recs = { 0 };
    uint8_t inc[16] = { (uint8_t)id };
    ck_assert_int_eq(ctrl_plan_register_broker(id, epoch, inc, &ep, 1, &a, &recs), 0);
    apply_all(&recs);
}

static void fence_with(int32_t id, bool fenced, bool unclean_default)
{
    struct ctrl_records recs = { 0 };
    ck_assert_int_eq(ctrl_plan_fence(img, id, fenced, unclean_default, &a, &recs), 0);
    apply_all(&recs);
}

static void fence(int32_t id, bool fenced)
{
    fence_with(id, fenced, false);
}

static void set_config(int type, const char *resource, const char *name, const char *value)
{
    struct ctrl_records recs = { 0 };
    ck_assert_int_eq(ctrl_plan_config(img, type, resource, name, value, &a, &recs), 0);
    apply_all(&recs);
}

/* A topic "t" with one partition on replicas [1,2,3]. */
static void add_topic(const char *name)
{
    static const int32_t reps[] = { 1, 2, 3 };
    const int32_t *assign[] = { reps };
    int32_t lens[] = { 3 };
    struct ctrl_topic_spec spec = { .name = name, .name_len = strlen(name), .partition_count = -1,
                                    .replication_factor = -1, .assignment_count = 1, .assignments = assign,
                                    .assignment_lens = lens };
    struct ctrl_records recs = { 0 };
    int32_t ep;
    int16_t erf;
    ck_assert_int_eq(ctrl_plan_create_topic(img, &spec, 1, 1, &a, &recs, &ep, &erf), 0);
    apply_all(&recs);
}

static const struct ctrl_partition *part(const char *name)
{
    const struct ctrl_topic *t = ctrl_image_topic_find(img, name, strlen(name));
    ck_assert_ptr_nonnull(t);
    return &t->partitions[0];
}

static void set_isr(const int32_t *isr, int32_t n);

static void setup(void)
{
    arena_init(&a, 4096, 1 << 22);
    ck_assert_int_eq(ctrl_image_create(&img), 0);
    add_broker(1, 11);
    add_broker(2, 12);
    add_broker(3, 13);
    add_topic("t");
    memcpy(tid, ctrl_image_topic_find(img, "t", 1)->topic_id, 16);
    /* a new partition starts with every replica in the ISR (Kafka's rule):
     * the tests start from the leader alone, as after followers fell behind */
    static const int32_t isr1[] = { 1 };
    ck_assert_int_eq(part("t")->isr_count, 3);
    set_isr(isr1, 1);
}

static void teardown(void)
{
    ctrl_image_destroy(img);
    arena_deinit(&a);
}

/* The leader's (broker 1) request to make the ISR `isr`, from the current state. */
static struct ctrl_alter_partition request(const int32_t *isr, int32_t n)
{
    const struct ctrl_partition *cp = part("t");
    struct ctrl_alter_partition req = { .broker_id = 1, .broker_epoch = 11, .partition_id = 0,
                                        .leader_epoch = cp->leader_epoch, .partition_epoch = cp->partition_epoch,
                                        .isr_count = n };
    memcpy(req.topic_id, tid, 16);
    for (int32_t i = 0; i < n; i++) {
        req.isr[i] = isr[i];
        req.isr_broker_epochs[i] = 10 + isr[i];
    }
    return req;
}

/* Plan req; on success apply the record.  Returns the Kafka error code. */
static int16_t alter(const struct ctrl_alter_partition *req, const int32_t *shutting, int32_t shutting_count,
                     struct ctrl_alter_partition_reply *r, size_t *records)
{
    struct ctrl_records recs = { 0 };
    ck_assert_int_eq(ctrl_plan_alter_partition(img, req, shutting, shutting_count, &a, &recs, r), 0);
    if (r->error_code != 0)
        ck_assert_uint_eq(recs.count, 0);
    *records = recs.count;
    apply_all(&recs);
    return r->error_code;
}

START_TEST(test_alter_partition_refusals_in_order)
{
    static const int32_t isr12[] = { 1, 2 };
    struct ctrl_alter_partition_reply r;
    size_t n;
    struct ctrl_alter_partition req = request(isr12, 2);
    int32_t pe = part("t")->partition_epoch;

    /* broker epoch: wrong, unknown sender, fenced sender */
    req.broker_epoch = 10;
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), CTRL_KERR_STALE_BROKER_EPOCH);
    req = request(isr12, 2);
    req.broker_id = 9;
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), CTRL_KERR_STALE_BROKER_EPOCH);
    /* the broker epoch is checked before the leader epoch */
    req = request(isr12, 2);
    req.broker_epoch = 99;
    req.leader_epoch = -5;
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), CTRL_KERR_STALE_BROKER_EPOCH);

    /* unknown topic id, unknown partition */
    req = request(isr12, 2);
    req.topic_id[0] ^= 0xff;
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), CTRL_KERR_UNKNOWN_TOPIC_ID);
    req = request(isr12, 2);
    req.partition_id = 1;
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), CTRL_KERR_UNKNOWN_TOPIC_OR_PARTITION);

    /* another broker (registered, right epoch) is not the leader */
    req = request(isr12, 2);
    req.broker_id = 2;
    req.broker_epoch = 12;
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), CTRL_KERR_NOT_LEADER_OR_FOLLOWER);
    /* a leader epoch from the future is not this leadership either */
    req = request(isr12, 2);
    req.leader_epoch++;
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), CTRL_KERR_NOT_LEADER_OR_FOLLOWER);

    /* partition epoch compare-and-set: older and newer both refused */
    req = request(isr12, 2);
    req.partition_epoch = pe - 1;
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), CTRL_KERR_INVALID_UPDATE_VERSION);
    req.partition_epoch = pe + 1;
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), CTRL_KERR_INVALID_UPDATE_VERSION);

    /* the ISR: without the leader, outside the replicas, a duplicate, empty */
    static const int32_t no_leader[] = { 2, 3 }, outside[] = { 1, 4 }, dup[] = { 1, 2, 2 };
    req = request(no_leader, 2);
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), CTRL_KERR_INVALID_REQUEST);
    req = request(outside, 2);
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), CTRL_KERR_INVALID_REQUEST);
    req = request(dup, 3);
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), CTRL_KERR_INVALID_REQUEST);
    req = request(isr12, 0);
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), CTRL_KERR_INVALID_REQUEST);

    /* an ineligible member: wrong broker epoch, in controlled shutdown, fenced */
    req = request(isr12, 2);
    req.isr_broker_epochs[1] = 3;
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), CTRL_KERR_INELIGIBLE_REPLICA);
    int32_t shutting[] = { 2 };
    req = request(isr12, 2);
    ck_assert_int_eq(alter(&req, shutting, 1, &r, &n), CTRL_KERR_INELIGIBLE_REPLICA);
    fence(2, true);
    req = request(isr12, 2);
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), CTRL_KERR_INELIGIBLE_REPLICA);
    ck_assert_int_eq(part("t")->partition_epoch, pe); /* nothing was applied */

    /* a fenced sender, even with its epoch */
    fence(1, true);
    req = request(isr12, 2);
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), CTRL_KERR_STALE_BROKER_EPOCH);
}
END_TEST

START_TEST(test_alter_partition_expand_shrink_noop)
{
    static const int32_t isr1[] = { 1 }, isr123[] = { 1, 2, 3 }, isr13[] = { 1, 3 };
    struct ctrl_alter_partition_reply r;
    size_t n;
    const struct ctrl_partition *cp = part("t");
    int32_t pe = cp->partition_epoch, le = cp->leader_epoch;

    /* the current ISR: nothing committed, the current state answered */
    struct ctrl_alter_partition req = request(isr1, 1);
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(r.partition_epoch, pe);
    ck_assert_int_eq(r.isr_count, 1);

    /* expand (an old fetch version: broker epochs -1 are not checked) */
    req = request(isr123, 3);
    req.isr_broker_epochs[2] = -1;
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(r.leader, 1);
    ck_assert_int_eq(r.leader_epoch, le);
    ck_assert_int_eq(r.partition_epoch, pe + 1);
    ck_assert_int_eq(r.isr_count, 3);
    cp = part("t");
    ck_assert_int_eq(cp->partition_epoch, pe + 1);
    ck_assert_int_eq(cp->leader_epoch, le);
    ck_assert_int_eq(cp->isr_count, 3);

    /* the same request again is stale now: compare-and-set */
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), CTRL_KERR_INVALID_UPDATE_VERSION);

    /* shrink */
    req = request(isr13, 2);
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), 0);
    ck_assert_int_eq(r.partition_epoch, pe + 2);
    cp = part("t");
    ck_assert_int_eq(cp->isr_count, 2);
    ck_assert_int_eq(cp->isr[1], 3);

    /* a member order change of the same set is no change */
    static const int32_t isr31[] = { 3, 1 };
    req = request(isr31, 2);
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &n), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(r.partition_epoch, pe + 2);
}
END_TEST

/* The ISR of "t" set to isr by its leader's AlterPartition. */
static void set_isr(const int32_t *isr, int32_t n)
{
    const struct ctrl_partition *cp = part("t");
    struct ctrl_alter_partition req = request(isr, n);
    req.broker_id = cp->leader;
    req.broker_epoch = 10 + cp->leader;
    struct ctrl_alter_partition_reply r;
    size_t recs;
    ck_assert_int_eq(alter(&req, NULL, 0, &r, &recs), 0);
}

static void assert_state(int32_t leader, const int32_t *isr, int32_t n)
{
    const struct ctrl_partition *cp = part("t");
    ck_assert_int_eq(cp->leader, leader);
    ck_assert_int_eq(cp->isr_count, n);
    for (int32_t i = 0; i < n; i++)
        ck_assert_int_eq(cp->isr[i], isr[i]);
}

START_TEST(test_fence_elects_from_unfenced_isr)
{
    static const int32_t isr132[] = { 1, 3, 2 }, isr32[] = { 3, 2 }, isr2[] = { 2 }, isr3[] = { 3 };
    set_isr(isr132, 3);
    int32_t le = part("t")->leader_epoch;
    /* the preferred order (replicas [1,2,3]) decides, not the ISR's order */
    fence(1, true);
    assert_state(2, isr32, 2);
    ck_assert_int_eq(part("t")->leader_epoch, le + 1);
    /* a follower fenced leaves the ISR; the leader stays */
    fence(3, true);
    assert_state(2, isr2, 1);
    /* the last member stays in the ISR; no leader until it returns */
    fence(2, true);
    assert_state(-1, isr2, 1);
    /* a replica out of the ISR does not lead (unclean election is off) */
    fence(3, false);
    assert_state(-1, isr2, 1);
    ck_assert(!ctrl_plan_unfence_elects(img, 1, false));
    ck_assert(ctrl_plan_unfence_elects(img, 2, false));
    fence(2, false);
    assert_state(2, isr2, 1);
    /* the ISR member comes back first even when 3 is live */
    (void)isr3;
}
END_TEST

START_TEST(test_unclean_election)
{
    static const int32_t isr1[] = { 1 }, isr2[] = { 2 }, isr3[] = { 3 };
    /* topic config */
    set_config(2, "t", "unclean.leader.election.enable", "true");
    fence(1, true);
    assert_state(2, isr2, 1);
    fence(2, true);
    assert_state(3, isr3, 1);
    /* every replica gone: no leader; the first to return leads, ISR [it] */
    fence(3, true);
    assert_state(-1, isr3, 1);
    ck_assert(ctrl_plan_unfence_elects(img, 1, false));
    fence(1, false);
    assert_state(1, isr1, 1);
    fence(1, true);
    fence(3, false);
    assert_state(3, isr3, 1);
    /* the topic's false beats the cluster's and the controller's true */
    set_config(2, "t", "unclean.leader.election.enable", "false");
    set_config(4, "", "unclean.leader.election.enable", "true");
    fence(1, false);
    fence(2, false);
    fence(3, true);
    assert_state(-1, isr3, 1);
    /* the cluster-wide dynamic config, then the controller's default */
    set_config(2, "t", "unclean.leader.election.enable", NULL);
    fence(3, false);
    assert_state(3, isr3, 1);
    fence(3, true);
    assert_state(1, isr1, 1);
    set_config(4, "", "unclean.leader.election.enable", NULL);
    fence_with(1, true, true);
    assert_state(2, isr2, 1);
    fence_with(2, true, false);
    assert_state(-1, isr2, 1);
}
END_TEST

static int16_t elect_one(enum ctrl_election_type type, const char *topic, int32_t pid)
{
    struct ctrl_records recs = { 0 };
    int16_t ec = -1;
    const struct ctrl_topic *t = ctrl_image_topic_find(img, topic, strlen(topic));
    ck_assert_int_eq(ctrl_plan_elect_leader(img, type, t, pid, &a, &recs, &ec), 0);
    ck_assert_uint_eq(recs.count, ec == 0 ? 1 : 0);
    apply_all(&recs);
    return ec;
}

START_TEST(test_elect_leaders)
{
    static const int32_t isr123[] = { 1, 2, 3 }, isr23[] = { 2, 3 }, isr2[] = { 2 }, isr3[] = { 3 };
    ck_assert_int_eq(elect_one(CTRL_ELECTION_PREFERRED, "nope", 0), CTRL_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    ck_assert_int_eq(elect_one(CTRL_ELECTION_PREFERRED, "t", 7), CTRL_KERR_UNKNOWN_TOPIC_OR_PARTITION);
    ck_assert_int_eq(elect_one(CTRL_ELECTION_PREFERRED, "t", 0), CTRL_KERR_ELECTION_NOT_NEEDED);
    ck_assert_int_eq(elect_one(CTRL_ELECTION_UNCLEAN, "t", 0), CTRL_KERR_ELECTION_NOT_NEEDED);
    set_isr(isr123, 3);
    fence(1, true);
    assert_state(2, isr23, 2);
    /* the preferred replica is back but out of the ISR: not available */
    fence(1, false);
    ck_assert_int_eq(elect_one(CTRL_ELECTION_PREFERRED, "t", 0), CTRL_KERR_PREFERRED_LEADER_NOT_AVAILABLE);
    static const int32_t isr231[] = { 2, 3, 1 };
    set_isr(isr231, 3);
    int32_t le = part("t")->leader_epoch;
    ck_assert_int_eq(elect_one(CTRL_ELECTION_PREFERRED, "t", 0), 0);
    assert_state(1, isr231, 3);
    ck_assert_int_eq(part("t")->leader_epoch, le + 1);
    /* unclean: only for a partition without a leader; a live ISR member first, else any live replica */
    fence(1, true);
    fence(3, true);
    fence(2, true);
    assert_state(-1, isr2, 1);
    fence(3, false);
    assert_state(-1, isr2, 1);
    ck_assert_int_eq(elect_one(CTRL_ELECTION_PREFERRED, "t", 0), CTRL_KERR_PREFERRED_LEADER_NOT_AVAILABLE);
    ck_assert_int_eq(elect_one(CTRL_ELECTION_UNCLEAN, "t", 0), 0);
    assert_state(3, isr3, 1);
    fence(3, true);
    ck_assert_int_eq(elect_one(CTRL_ELECTION_UNCLEAN, "t", 0), CTRL_KERR_ELIGIBLE_LEADERS_NOT_AVAILABLE);
}
END_TEST

START_TEST(test_rebalance)
{
    static const int32_t isr123[] = { 1, 2, 3 }, isr231[] = { 2, 3, 1 };
    set_isr(isr123, 3);
    fence(1, true);
    fence(1, false);
    set_isr(isr231, 3);
    ck_assert_int_eq(part("t")->leader, 2);
    /* broker 1 prefers 1 partition and leads none: 100% > 10% */
    struct ctrl_records recs = { 0 };
    int32_t n = -1;
    ck_assert_int_eq(ctrl_plan_rebalance(img, 100, &a, &recs, &n), 0);
    ck_assert_int_eq(n, 0); /* 100% is not above 100% */
    ck_assert_int_eq(ctrl_plan_rebalance(img, 10, &a, &recs, &n), 0);
    ck_assert_int_eq(n, 1);
    apply_all(&recs);
    ck_assert_int_eq(part("t")->leader, 1);
    recs = (struct ctrl_records){ 0 };
    ck_assert_int_eq(ctrl_plan_rebalance(img, 10, &a, &recs, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_uint_eq(recs.count, 0);
}
END_TEST

/* Client quotas: one entity per (user, client-id) combination, keys set,
 * replaced and removed (the entity goes with its last key), and a snapshot
 * carries them exactly (values round-trip as doubles). */
static void set_quota(const struct ctrl_quota_part *u, const struct ctrl_quota_part *c, const char *key, double v,
                      bool remove)
{
    struct ctrl_records recs = { 0 };
    ck_assert_int_eq(ctrl_plan_client_quota(u, c, key, v, remove, &a, &recs), 0);
    ck_assert_uint_eq(recs.count, 1);
    apply_all(&recs);
}

static double quota_value(const struct ctrl_image *im, int32_t index, const char *key)
{
    const char *v = ctrl_configs_find(&ctrl_image_quota_at(im, index)->values, key);
    ck_assert_ptr_nonnull(v);
    return strtod(v, NULL);
}

START_TEST(test_client_quotas)
{
    struct ctrl_quota_part alice = { .present = true, .name = "alice" }, none = { 0 };
    struct ctrl_quota_part dflt = { .present = true, .is_default = true }, c1 = { .present = true, .name = "c1" };
    set_quota(&alice, &none, "producer_byte_rate", 1024, false);
    set_quota(&alice, &none, "consumer_byte_rate", 2048, false);
    set_quota(&alice, &none, "producer_byte_rate", 4096, false); /* replaced */
    set_quota(&dflt, &none, "request_percentage", 12.5, false);
    set_quota(&alice, &c1, "controller_mutation_rate", 0.1, false);
    ck_assert_int_eq(ctrl_image_quota_count(img), 3);
    const struct ctrl_quota *q = ctrl_image_quota_at(img, 0);
    ck_assert(q->user.present && !q->user.is_default && strcmp(q->user.name, "alice") == 0 && !q->client_id.present);
    ck_assert_int_eq(q->values.count, 2);
    ck_assert(quota_value(img, 0, "producer_byte_rate") == 4096);
    ck_assert(ctrl_image_quota_at(img, 1)->user.is_default);
    ck_assert(quota_value(img, 2, "controller_mutation_rate") == 0.1);

    struct buf b;
    buf_init(&b, 1 << 20);
    ck_assert_int_eq(ctrl_snap_encode(img, &a, &b), 0);
    struct ctrl_image *copy;
    ck_assert_int_eq(ctrl_image_create(&copy), 0);
    ck_assert_int_eq(ctrl_snap_load(copy, buf_bytes(&b), 0), 0);
    ck_assert_int_eq(ctrl_image_quota_count(copy), 3);
    ck_assert(quota_value(copy, 0, "consumer_byte_rate") == 2048);
    ck_assert(quota_value(copy, 1, "request_percentage") == 12.5);
    ck_assert(quota_value(copy, 2, "controller_mutation_rate") == 0.1);
    ck_assert(ctrl_image_quota_at(copy, 2)->client_id.present &&
              strcmp(ctrl_image_quota_at(copy, 2)->client_id.name, "c1") == 0);
    ctrl_image_destroy(copy);
    buf_deinit(&b);

    set_quota(&dflt, &none, "request_percentage", 0, true);
    set_quota(&dflt, &none, "request_percentage", 0, true); /* removing what is gone: no-op */
    ck_assert_int_eq(ctrl_image_quota_count(img), 2);
    ck_assert(ctrl_image_quota_at(img, 1)->client_id.present);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ctrl_plan");
    TCase *tc = tcase_create("alter_partition");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_alter_partition_refusals_in_order);
    tcase_add_test(tc, test_alter_partition_expand_shrink_noop);
    tcase_add_test(tc, test_fence_elects_from_unfenced_isr);
    tcase_add_test(tc, test_unclean_election);
    tcase_add_test(tc, test_elect_leaders);
    tcase_add_test(tc, test_rebalance);
    tcase_add_test(tc, test_client_quotas);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
