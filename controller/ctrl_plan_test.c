/*
 * ctrl_plan_test.c - planning of partition changes against an image built
 * from records: AlterPartition's checks in their order (each refusal and the
 * success), elections on fencing (unfenced ISR only, preferred first, the
 * fenced broker leaving ISRs except as the last member, unclean election);
 * eligible leader replicas (KIP-966): a shrink below min ISR keeps the
 * members that left electable, the ISR may empty, elections from the ELR,
 * unclean-shutdown registrations, the last known ELR, clearing.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "controller/ctrl.h"
#include "controller/ctrl_snap.h"

static struct arena a;
static struct ctrl_image *img;
/* the election policy: Kafka 3.x's (no ELR) unless a test turns ELR on */
static struct ctrl_plan_policy pol;
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
    pol.unclean_default = unclean_default;
    ck_assert_int_eq(ctrl_plan_fence(img, id, fenced, &pol, &a, &recs), 0);
    pol.unclean_default = false;
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
    pol = (struct ctrl_plan_policy){ .min_isr_default = 1 };
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
    ck_assert_int_eq(ctrl_plan_alter_partition(img, req, shutting, shutting_count, &pol, &a, &recs, r), 0);
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
    ck_assert(!ctrl_plan_unfence_elects(img, 1, &pol));
    ck_assert(ctrl_plan_unfence_elects(img, 2, &pol));
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
    ck_assert(ctrl_plan_unfence_elects(img, 1, &pol));
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


/* ---- eligible leader replicas (KIP-966) ---- */

static void assert_elr(const int32_t *elr, int32_t n, const int32_t *lke, int32_t lke_n)
{
    const struct ctrl_partition *cp = part("t");
    ck_assert_int_eq(cp->elr_count, n);
    for (int32_t i = 0; i < n; i++)
        ck_assert_int_eq(cp->elr[i], elr[i]);
    ck_assert_int_eq(cp->last_known_elr_count, lke_n);
    for (int32_t i = 0; i < lke_n; i++)
        ck_assert_int_eq(cp->last_known_elr[i], lke[i]);
}

/* ELR on, min.insync.replicas=2 (the controller's static default), ISR [1,2,3]. */
static void elr_on(void)
{
    static const int32_t isr123[] = { 1, 2, 3 };
    pol.elr_enabled = true;
    pol.min_isr_default = 2;
    set_isr(isr123, 3);
}

/* Broker id registers again (epoch + 100) after an unclean shutdown: the
 * registration and its partition changes in one batch, as register_serve
 * plans them; returns the partitions changed. */
static int32_t register_unclean(int32_t id)
{
    struct ctrl_endpoint ep = { .name = "PLAINTEXT", .host = "localhost", .port = 9092 };
    struct ctrl_records recs = { 0 };
    uint8_t inc[16] = { (uint8_t)id, 1 };
    int32_t changed = -1;
    ck_assert_int_eq(ctrl_plan_register_broker(id, 100 + id, inc, &ep, 1, &a, &recs), 0);
    ck_assert_int_eq(ctrl_plan_unclean_shutdown(img, id, &pol, &a, &recs, &changed), 0);
    apply_all(&recs);
    return changed;
}

START_TEST(test_elr_shrink_below_min_isr)
{
    static const int32_t isr12[] = { 1, 2 }, isr1[] = { 1 }, isr13[] = { 1, 3 }, e2[] = { 2 }, e23[] = { 2, 3 };
    elr_on();
    assert_elr(NULL, 0, NULL, 0);
    /* down to min ISR: nobody is kept aside */
    set_isr(isr12, 2);
    assert_state(1, isr12, 2);
    assert_elr(NULL, 0, NULL, 0);
    /* below it: the member that left is an eligible leader replica (the HW
     * stopped, so it holds every committed record) */
    set_isr(isr1, 1);
    assert_state(1, isr1, 1);
    assert_elr(e2, 1, NULL, 0);
    /* fencing a replica outside ISR and ELR changes nothing; back at min
     * ISR the ELR is cleared */
    fence(3, true);
    assert_elr(e2, 1, NULL, 0);
    fence(3, false);
    set_isr(isr13, 2);
    assert_elr(NULL, 0, NULL, 0);
    /* a fenced follower (controlled shutdown, expiry) joins the ELR like a
     * shrink: the ISR may shrink, the member stays electable */
    fence(3, true);
    assert_state(1, isr1, 1);
    static const int32_t e3[] = { 3 };
    assert_elr(e3, 1, NULL, 0);
    fence(3, false);
    set_isr(isr13, 2);
    set_isr(isr12, 2);
    assert_elr(NULL, 0, NULL, 0);
    /* the leader's own ISR below min ISR once more, two members out */
    static const int32_t isr123[] = { 1, 2, 3 };
    set_isr(isr123, 3);
    set_isr(isr1, 1);
    assert_elr(e23, 2, NULL, 0);
    /* Kafka 3.x (ELR off) keeps nothing aside; a left-over ELR is cleared */
    pol.elr_enabled = false;
    set_isr(isr12, 2);
    set_isr(isr1, 1);
    assert_elr(NULL, 0, NULL, 0);
}
END_TEST

START_TEST(test_elr_election_when_isr_empty)
{
    static const int32_t isr12[] = { 1, 2 }, isr1[] = { 1 }, isr2[] = { 2 }, e2[] = { 2 }, e12[] = { 1, 2 },
                         e1[] = { 1 };
    elr_on();
    set_isr(isr12, 2);
    fence(2, true); /* controlled shutdown of a follower: ISR [1], ELR [2] */
    assert_state(1, isr1, 1);
    assert_elr(e2, 1, NULL, 0);
    /* the leader dies: the ISR empties (KIP-966), it joins the ELR; nobody live is eligible */
    fence(1, true);
    assert_state(-1, NULL, 0);
    assert_elr(e12, 2, NULL, 0);
    /* 3 is not eligible and unclean election is off */
    ck_assert(!ctrl_plan_unfence_elects(img, 3, &pol));
    fence(3, false);
    assert_state(-1, NULL, 0);
    /* the ELR member comes back: elected, no data lost; 1 stays eligible */
    ck_assert(ctrl_plan_unfence_elects(img, 2, &pol));
    int32_t le = part("t")->leader_epoch;
    fence(2, false);
    assert_state(2, isr2, 1);
    assert_elr(e1, 1, NULL, 0);
    ck_assert_int_eq(part("t")->leader_epoch, le + 1);

    /* the same steps without ELR: the last ISR member stays, no leader */
    teardown();
    setup();
    static const int32_t isr123[] = { 1, 2, 3 };
    set_isr(isr123, 3);
    fence(3, true);
    fence(2, true);
    fence(1, true);
    assert_state(-1, isr1, 1);
    fence(3, false);
    fence(2, false);
    assert_state(-1, isr1, 1);
    assert_elr(NULL, 0, NULL, 0);
}
END_TEST

START_TEST(test_elr_unclean_shutdown_registration)
{
    static const int32_t isr12[] = { 1, 2 }, isr1[] = { 1 }, isr2[] = { 2 }, e2[] = { 2 }, e12[] = { 1, 2 },
                         e1[] = { 1 };
    elr_on();
    set_isr(isr12, 2);
    fence(2, true);
    fence(1, true);
    assert_elr(e12, 2, NULL, 0);
    /* 2 may have lost its tail: out of the ELR, and not elected although
     * its registration makes it live (1, still eligible, is fenced) */
    ck_assert_int_eq(register_unclean(2), 1);
    assert_state(-1, NULL, 0);
    assert_elr(e1, 1, NULL, 0);
    /* an unclean registration of a broker in neither list changes nothing */
    ck_assert_int_eq(register_unclean(3), 0);
    /* 1 too: ISR and ELR empty, both kept as the last known ELR; 1 is live
     * (registered) and the last known leader: elected, as Kafka 4 does when
     * no eligible replica is left (a possible loss, logged) */
    ck_assert_int_eq(register_unclean(1), 1);
    assert_state(1, isr1, 1);
    assert_elr(NULL, 0, NULL, 0);

    /* a leader back from an unclean shutdown while an ELR member is live:
     * the ELR member leads, the leader is not eligible */
    teardown();
    setup();
    elr_on();
    set_isr(isr12, 2);
    fence(2, true);
    fence(2, false); /* back, not in the ISR yet: still eligible */
    assert_state(1, isr1, 1);
    assert_elr(e2, 1, NULL, 0);
    ck_assert_int_eq(register_unclean(1), 1);
    assert_state(2, isr2, 1);
    assert_elr(NULL, 0, NULL, 0);

    /* without ELR an unclean registration changes no partition (Kafka 3.x) */
    pol.elr_enabled = false;
    ck_assert_int_eq(register_unclean(2), 0);
    assert_state(2, isr2, 1);
}
END_TEST

/* Broker id registers as a new incarnation (epoch + 200) after a clean or,
 * with ELR off, any shutdown: its partition changes, then its registration,
 * in one batch as register_serve plans them; returns the partitions changed
 * and the records planned. */
static int32_t register_new(int32_t id, bool clean, size_t *records)
{
    struct ctrl_endpoint ep = { .name = "PLAINTEXT", .host = "localhost", .port = 9092 };
    struct ctrl_records recs = { 0 };
    uint8_t inc[16] = { (uint8_t)id, 2 };
    int32_t changed = -1;
    ck_assert_int_eq(ctrl_plan_new_incarnation(img, id, clean, &pol, &a, &recs, &changed), 0);
    ck_assert_int_eq(ctrl_plan_register_broker(id, 200 + id, inc, &ep, 1, &a, &recs), 0);
    /* the registration comes last: a broker caught up to it sees the moves */
    ck_assert_int_eq(recs.recs[recs.count - 1]->record_case, SAMSA__METADATA_RECORD__RECORD_REGISTER_BROKER);
    apply_all(&recs);
    *records = recs.count;
    return changed;
}

/* A restarted leader's new registration ends its previous incarnation's
 * leadership in the same batch (Kafka fences it at registration), so the
 * new incarnation never leads in the old leader epoch. */
START_TEST(test_new_incarnation_moves_leadership)
{
    static const int32_t isr123[] = { 1, 2, 3 }, isr23[] = { 2, 3 }, isr1[] = { 1 }, isr12[] = { 1, 2 };
    size_t n = 0;
    /* ELR off (Kafka 3.x), the leader restarted with -9 inside the session
     * timeout: the next ISR member leads in a new epoch, 1 leaves the ISR */
    set_isr(isr123, 3);
    int32_t epoch = part("t")->leader_epoch;
    ck_assert_int_eq(register_new(1, false, &n), 1);
    assert_state(2, isr23, 2);
    ck_assert_int_eq(part("t")->leader_epoch, epoch + 1);
    ck_assert_int_eq(n, 2);

    /* a follower's new incarnation leaves the ISR; the leader and its epoch stay */
    teardown();
    setup();
    set_isr(isr123, 3);
    epoch = part("t")->leader_epoch;
    ck_assert_int_eq(register_new(3, true, &n), 1);
    assert_state(1, isr12, 2);
    ck_assert_int_eq(part("t")->leader_epoch, epoch);
    /* a broker in no ISR: nothing but the registration */
    ck_assert_int_eq(register_new(3, true, &n), 0);
    ck_assert_int_eq(n, 1);

    /* the last ISR member: nobody else may lead; it leads again at once, in
     * an epoch of its own (leader -1, then it), so it never takes the old
     * epoch's role (a single-node cluster restarting keeps its partitions) */
    teardown();
    setup();
    ck_assert_int_eq(part("t")->isr_count, 1);
    epoch = part("t")->leader_epoch;
    ck_assert_int_eq(register_new(1, true, &n), 1);
    assert_state(1, isr1, 1);
    ck_assert_int_eq(part("t")->leader_epoch, epoch + 2);
    ck_assert_int_eq(n, 3);

    /* ELR on, clean shutdown: fenced-like - 1 leaves the ISR, 2 leads */
    teardown();
    setup();
    elr_on();
    epoch = part("t")->leader_epoch;
    ck_assert_int_eq(register_new(1, true, &n), 1);
    assert_state(2, isr23, 2);
    ck_assert_int_eq(part("t")->leader_epoch, epoch + 1);
    assert_elr(NULL, 0, NULL, 0);
}
END_TEST

START_TEST(test_elr_last_known_elr)
{
    static const int32_t isr1[] = { 1 }, e1[] = { 1 };
    elr_on();
    set_isr(isr1, 1);
    static const int32_t e23[] = { 2, 3 };
    assert_elr(e23, 2, NULL, 0);
    /* 2 and 3 lose their tails; then the leader dies: nobody eligible is
     * left but the leader, kept as the last known ELR */
    ck_assert_int_eq(register_unclean(2), 1);
    ck_assert_int_eq(register_unclean(3), 1);
    assert_elr(NULL, 0, NULL, 0);
    /* the last replica standing: the ISR [1] would empty and 1, the last
     * known eligible one and live, lead again - no change (Kafka 3.x's outcome) */
    ck_assert_int_eq(register_unclean(1), 0);
    assert_state(1, isr1, 1);
    fence(1, true);
    assert_state(-1, NULL, 0);
    assert_elr(e1, 1, NULL, 0); /* fenced cleanly: still eligible */
    ck_assert_int_eq(register_unclean(1), 1);
    assert_state(1, isr1, 1);
    assert_elr(NULL, 0, NULL, 0);
}
END_TEST

START_TEST(test_elr_cleared_when_isr_recovers)
{
    static const int32_t isr12[] = { 1, 2 }, isr2[] = { 2 }, isr21[] = { 2, 1 }, e1[] = { 1 }, e2[] = { 2 };
    elr_on();
    set_isr(isr12, 2);
    fence(2, true);
    fence(1, true);
    fence(2, false);
    assert_state(2, isr2, 1);
    assert_elr(e1, 1, NULL, 0);
    /* 1 catches up and the leader takes it back: ISR at min ISR, ELR cleared */
    fence(1, false);
    set_isr(isr21, 2);
    assert_state(2, isr21, 2);
    assert_elr(NULL, 0, NULL, 0);
    /* a changed min.insync.replicas forgets the ELR (chosen under the old value) */
    set_isr(isr2, 1);
    assert_elr(e1, 1, NULL, 0);
    set_config(2, "t", "min.insync.replicas", "3");
    assert_elr(NULL, 0, NULL, 0);
    /* the topic's min ISR rules (3, at most RF): [2,1] is below it */
    set_isr(isr21, 2);
    set_isr(isr2, 1);
    assert_elr(e1, 1, NULL, 0);
    (void)e2;
}
END_TEST

/* The ELR and last known ELR survive a snapshot; a change record without
 * them keeps them; a record from a log written before them loads empty. */
START_TEST(test_elr_records_and_snapshot)
{
    static const int32_t isr1[] = { 1 }, e123[] = { 1, 2, 3 };
    elr_on();
    set_isr(isr1, 1);
    fence(2, true);
    fence(3, true);
    fence(1, true);
    assert_state(-1, NULL, 0);
    assert_elr(e123, 3, NULL, 0);

    /* a PartitionChangeRecord without has_elr (an older one) keeps both lists */
    Samsa__PartitionChangeRecord pc = SAMSA__PARTITION_CHANGE_RECORD__INIT;
    pc.topic_id.data = tid;
    pc.topic_id.len = 16;
    pc.partition_id = 0;
    Samsa__MetadataRecord mr = SAMSA__METADATA_RECORD__INIT;
    mr.record_case = SAMSA__METADATA_RECORD__RECORD_PARTITION_CHANGE;
    mr.partition_change = &pc;
    int32_t pe = part("t")->partition_epoch;
    Samsa__MetadataRecord *one[] = { &mr };
    apply_all(&(struct ctrl_records){ .recs = one, .count = 1 });
    assert_elr(e123, 3, NULL, 0);
    ck_assert_int_eq(part("t")->partition_epoch, pe + 1);

    /* a snapshot carries the ELR, then (min ISR changed with an empty ISR) the last known ELR */
    for (int round = 0; round < 2; round++) {
        struct buf out;
        buf_init(&out, 0);
        ck_assert_int_eq(ctrl_snap_encode(img, &a, &out), 0);
        struct ctrl_image *copy;
        ck_assert_int_eq(ctrl_image_create(&copy), 0);
        ck_assert_int_eq(ctrl_snap_load(copy, (struct bytes){ out.ptr, out.len }, 0), 0);
        const struct ctrl_partition *cp = &ctrl_image_topic_find(copy, "t", 1)->partitions[0];
        const struct ctrl_partition *orig = part("t");
        ck_assert_int_eq(cp->elr_count, orig->elr_count);
        ck_assert_int_eq(cp->last_known_elr_count, orig->last_known_elr_count);
        ck_assert_mem_eq(cp->elr, orig->elr, sizeof cp->elr[0] * (size_t)cp->elr_count);
        ck_assert_mem_eq(cp->last_known_elr, orig->last_known_elr, sizeof cp->last_known_elr[0] *
                                                                         (size_t)cp->last_known_elr_count);
        ctrl_image_destroy(copy);
        buf_deinit(&out);
        set_config(2, "t", "min.insync.replicas", "1");
        assert_elr(NULL, 0, e123, 3);
    }

    /* a PartitionRecord packed without the fields (an older log) loads with empty lists */
    Samsa__PartitionRecord pr = SAMSA__PARTITION_RECORD__INIT;
    int32_t reps[] = { 1, 2, 3 };
    pr.topic_id.data = tid;
    pr.topic_id.len = 16;
    pr.partition_id = 0;
    pr.replicas = reps;
    pr.n_replicas = 3;
    pr.isr = reps;
    pr.n_isr = 3;
    pr.leader = 1;
    uint8_t packed[256];
    size_t n = samsa__partition_record__pack(&pr, packed);
    Samsa__PartitionRecord *back = samsa__partition_record__unpack(NULL, n, packed);
    ck_assert_ptr_nonnull(back);
    mr.record_case = SAMSA__METADATA_RECORD__RECORD_PARTITION;
    mr.partition = back;
    apply_all(&(struct ctrl_records){ .recs = one, .count = 1 });
    samsa__partition_record__free_unpacked(back, NULL);
    assert_elr(NULL, 0, NULL, 0);
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
    tcase_add_test(tc, test_elr_shrink_below_min_isr);
    tcase_add_test(tc, test_elr_election_when_isr_empty);
    tcase_add_test(tc, test_elr_unclean_shutdown_registration);
    tcase_add_test(tc, test_new_incarnation_moves_leadership);
    tcase_add_test(tc, test_elr_last_known_elr);
    tcase_add_test(tc, test_elr_cleared_when_isr_recovers);
    tcase_add_test(tc, test_elr_records_and_snapshot);
    tcase_add_test(tc, test_client_quotas);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
