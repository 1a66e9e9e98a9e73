/*
 * ctrl_reassign_test.c - planning replica set changes (KIP-455) against an
 * image: ctrl_plan_reassign (start, cancel, validation) and
 * ctrl_plan_reassign_complete (the final step once the adding replicas are
 * in the ISR), each plan applied to the image the way the quorum would, and
 * the reassignment surviving a snapshot.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "controller/ctrl.h"
#include "controller/ctrl_snap.h"

static struct ctrl_image *img;
static struct arena a;

static void apply_all(const struct ctrl_records *recs)
{
    for (size_t i = 0; i < recs->count; i++)
        ctrl_image_apply(img, recs->recs[i], ctrl_image_applied_offset(img) + 1);
}

/* three registered, unfenced brokers 1, 2, 3 and topic "t" with the given
 * assignment for partition 0 (ISR: every replica) */
static void setup_topic(const int32_t *replicas, int32_t n)
{
    ck_assert_int_eq(ctrl_image_create(&img), 0);
    arena_init(&a, 1 << 16, 1 << 24);
    for (int32_t b = 1; b <= 3; b++) {
        struct ctrl_records recs = { 0 };
        uint8_t inc[16] = { (uint8_t)b };
        ck_assert_int_eq(ctrl_plan_register_broker(b, 1, inc, NULL, 0, &a, &recs), 0);
        apply_all(&recs);
    }
    const int32_t *assign[1] = { replicas };
    int32_t lens[1] = { n };
    struct ctrl_topic_spec spec = { .name = "t", .name_len = 1, .partition_count = -1, .replication_factor = -1,
                                    .assignment_count = 1, .assignments = assign, .assignment_lens = lens };
    struct ctrl_records recs = { 0 };
    int32_t parts = 0;
    int16_t rf = 0;
    ck_assert_int_eq(ctrl_plan_create_topic(img, &spec, 1, 1, &a, &recs, &parts, &rf), 0);
    apply_all(&recs);
}

static void teardown_topic(void)
{
    ctrl_image_destroy(img);
    arena_deinit(&a);
}

static const struct ctrl_partition *part0(void)
{
    const struct ctrl_topic *t = ctrl_image_topic_find(img, "t", 1);
    ck_assert_ptr_nonnull(t);
    return &t->partitions[0];
}

/* the leader's AlterPartition, as the controller would commit it */
static void set_isr(const int32_t *isr, int32_t n)
{
    Samsa__PartitionChangeRecord pc = SAMSA__PARTITION_CHANGE_RECORD__INIT;
    const struct ctrl_topic *t = ctrl_image_topic_find(img, "t", 1);
    pc.topic_id.data = (uint8_t *)t->topic_id;
    pc.topic_id.len = 16;
    pc.partition_id = 0;
    pc.has_isr = true;
    pc.isr = (int32_t *)isr;
    pc.n_isr = (size_t)n;
    Samsa__MetadataRecord r = SAMSA__METADATA_RECORD__INIT;
    r.record_case = SAMSA__METADATA_RECORD__RECORD_PARTITION_CHANGE;
    r.partition_change = &pc;
    ctrl_image_apply(img, &r, ctrl_image_applied_offset(img) + 1);
}

static void expect_ids(const int32_t *got, int32_t got_n, const int32_t *want, int32_t want_n, const char *what)
{
    ck_assert_msg(got_n == want_n, "%s: %d ids, want %d", what, got_n, want_n);
    for (int32_t i = 0; i < want_n; i++)
        ck_assert_msg(got[i] == want[i], "%s[%d] = %d, want %d", what, i, got[i], want[i]);
}

static int reassign(const int32_t *target, int32_t n)
{
    struct ctrl_records recs = { 0 };
    int rc = ctrl_plan_reassign(img, "t", 1, 0, target, n, &a, &recs);
    if (rc == 0)
        apply_all(&recs);
    return rc;
}

static int complete(void)
{
    struct ctrl_records recs = { 0 };
    const struct ctrl_topic *t = ctrl_image_topic_find(img, "t", 1);
    int rc = ctrl_plan_reassign_complete(img, t, &t->partitions[0], &a, &recs);
    ck_assert_int_ge(rc, 0);
    ck_assert_int_eq((size_t)rc, recs.count);
    apply_all(&recs);
    return rc;
}

START_TEST(test_move_rf1)
{
    setup_topic((int32_t[]){ 1 }, 1);
    int32_t epoch = part0()->partition_epoch;
    ck_assert_int_eq(reassign((int32_t[]){ 2 }, 1), 0);
    const struct ctrl_partition *p = part0();
    expect_ids(p->replicas, p->replica_count, (int32_t[]){ 2, 1 }, 2, "replicas: target + current");
    expect_ids(p->adding, p->adding_count, (int32_t[]){ 2 }, 1, "adding");
    expect_ids(p->removing, p->removing_count, (int32_t[]){ 1 }, 1, "removing");
    expect_ids(p->isr, p->isr_count, (int32_t[]){ 1 }, 1, "isr unchanged");
    ck_assert_int_eq(p->leader, 1);
    ck_assert_int_eq(p->partition_epoch, epoch + 1);
    ck_assert_int_eq(ctrl_image_reassigning_count(img), 1);
    /* new partitions get the target's replication factor (1), not 2 */
    struct ctrl_records more = { 0 };
    ck_assert_int_eq(ctrl_plan_create_partitions(img, "t", 1, 2, NULL, NULL, 0, &a, &more), 0);
    ck_assert_int_eq(more.count, 1);
    ck_assert_int_eq(more.recs[0]->partition->n_replicas, 1);
    /* broker 2 is not in the ISR yet: nothing to finish */
    ck_assert_int_eq(complete(), 0);
    ck_assert_int_eq(part0()->replica_count, 2);
    /* it caught up: the leader's AlterPartition added it */
    set_isr((int32_t[]){ 1, 2 }, 2);
    ck_assert_int_eq(complete(), 1);
    p = part0();
    expect_ids(p->replicas, p->replica_count, (int32_t[]){ 2 }, 1, "replicas: the target");
    expect_ids(p->isr, p->isr_count, (int32_t[]){ 2 }, 1, "isr minus removed");
    ck_assert_int_eq(p->leader, 2); /* the leader was removed: moved into the target */
    ck_assert_int_eq(p->adding_count + p->removing_count, 0);
    ck_assert_int_eq(ctrl_image_reassigning_count(img), 0);
    ck_assert_int_eq(complete(), 0);
    teardown_topic();
}
END_TEST

START_TEST(test_cancel_restores)
{
    setup_topic((int32_t[]){ 1 }, 1);
    ck_assert_int_eq(reassign((int32_t[]){ 2, 3 }, 2), 0);
    expect_ids(part0()->replicas, part0()->replica_count, (int32_t[]){ 2, 3, 1 }, 3, "replicas");
    set_isr((int32_t[]){ 1, 3 }, 2); /* one of two adding replicas caught up */
    ck_assert_int_eq(complete(), 0);
    ck_assert_int_eq(reassign(NULL, -1), 0);
    const struct ctrl_partition *p = part0();
    expect_ids(p->replicas, p->replica_count, (int32_t[]){ 1 }, 1, "replicas restored");
    expect_ids(p->isr, p->isr_count, (int32_t[]){ 1 }, 1, "isr minus adding");
    ck_assert_int_eq(p->leader, 1);
    ck_assert_int_eq(p->adding_count + p->removing_count, 0);
    ck_assert_int_eq(ctrl_image_reassigning_count(img), 0);
    ck_assert_int_eq(reassign(NULL, -1), ERR_NO_REASSIGNMENT);
    teardown_topic();
}
END_TEST

START_TEST(test_validation)
{
    setup_topic((int32_t[]){ 1 }, 1);
    ck_assert_int_eq(reassign((int32_t[]){ 2, 2 }, 2), ERR_INVALID_REPLICA_ASSIGNMENT);
    ck_assert_int_eq(reassign((int32_t[]){ 9 }, 1), ERR_INVALID_REPLICA_ASSIGNMENT);
    ck_assert_int_eq(reassign((int32_t[]){ 0 }, 0), ERR_INVALID_REPLICA_ASSIGNMENT);
    struct ctrl_records recs = { 0 };
    ck_assert_int_eq(ctrl_plan_reassign(img, "t", 1, 1, (int32_t[]){ 2 }, 1, &a, &recs), ERR_NOT_FOUND);
    ck_assert_int_eq(ctrl_plan_reassign(img, "u", 1, 0, (int32_t[]){ 2 }, 1, &a, &recs), ERR_NOT_FOUND);
    /* the same replicas: nothing to commit */
    ck_assert_int_eq(ctrl_plan_reassign(img, "t", 1, 0, (int32_t[]){ 1 }, 1, &a, &recs), 0);
    ck_assert_int_eq(recs.count, 0);
    ck_assert_int_eq(ctrl_image_reassigning_count(img), 0);
    teardown_topic();
}
END_TEST

START_TEST(test_shrink_and_reorder_complete_at_once)
{
    setup_topic((int32_t[]){ 1, 2, 3 }, 3);
    set_isr((int32_t[]){ 1, 2, 3 }, 3);
    ck_assert_int_eq(reassign((int32_t[]){ 1, 2 }, 2), 0);
    const struct ctrl_partition *p = part0();
    expect_ids(p->replicas, p->replica_count, (int32_t[]){ 1, 2 }, 2, "replicas");
    expect_ids(p->isr, p->isr_count, (int32_t[]){ 1, 2 }, 2, "isr");
    ck_assert_int_eq(ctrl_image_reassigning_count(img), 0);
    ck_assert_int_eq(reassign((int32_t[]){ 2, 1 }, 2), 0);
    p = part0();
    expect_ids(p->replicas, p->replica_count, (int32_t[]){ 2, 1 }, 2, "reordered");
    ck_assert_int_eq(p->leader, 1); /* a reorder does not move leadership (that is a preferred election) */
    teardown_topic();
}
END_TEST

START_TEST(test_move_away_from_leader)
{
    setup_topic((int32_t[]){ 1, 2 }, 2);
    set_isr((int32_t[]){ 1, 2 }, 2);
    ck_assert_int_eq(reassign((int32_t[]){ 2, 3 }, 2), 0);
    const struct ctrl_partition *p = part0();
    expect_ids(p->replicas, p->replica_count, (int32_t[]){ 2, 3, 1 }, 3, "replicas");
    expect_ids(p->adding, p->adding_count, (int32_t[]){ 3 }, 1, "adding");
    expect_ids(p->removing, p->removing_count, (int32_t[]){ 1 }, 1, "removing");
    ck_assert_int_eq(p->leader, 1); /* leads until the end */
    /* a new reassignment while one is in progress starts from the current replicas */
    ck_assert_int_eq(reassign((int32_t[]){ 3, 2 }, 2), 0);
    p = part0();
    expect_ids(p->replicas, p->replica_count, (int32_t[]){ 3, 2, 1 }, 3, "replicas (second target)");
    expect_ids(p->adding, p->adding_count, (int32_t[]){ 3 }, 1, "adding (3 has not caught up yet)");
    expect_ids(p->removing, p->removing_count, (int32_t[]){ 1 }, 1, "removing");
    ck_assert_int_eq(ctrl_image_reassigning_count(img), 1);
    set_isr((int32_t[]){ 1, 2, 3 }, 3);
    ck_assert_int_eq(complete(), 1);
    p = part0();
    expect_ids(p->replicas, p->replica_count, (int32_t[]){ 3, 2 }, 2, "replicas");
    expect_ids(p->isr, p->isr_count, (int32_t[]){ 2, 3 }, 2, "isr");
    ck_assert_int_eq(p->leader, 3);
    teardown_topic();
}
END_TEST

START_TEST(test_snapshot_and_delete)
{
    setup_topic((int32_t[]){ 1 }, 1);
    ck_assert_int_eq(reassign((int32_t[]){ 2 }, 1), 0);
    struct buf b;
    buf_init(&b, 0);
    ck_assert_int_eq(ctrl_snap_encode(img, &a, &b), 0);
    struct ctrl_image *copy = NULL;
    ck_assert_int_eq(ctrl_image_create(&copy), 0);
    ck_assert_int_eq(ctrl_snap_load(copy, buf_bytes(&b), 10), 0);
    const struct ctrl_topic *t = ctrl_image_topic_find(copy, "t", 1);
    ck_assert_ptr_nonnull(t);
    expect_ids(t->partitions[0].adding, t->partitions[0].adding_count, (int32_t[]){ 2 }, 1, "snapshot adding");
    expect_ids(t->partitions[0].removing, t->partitions[0].removing_count, (int32_t[]){ 1 }, 1, "snapshot removing");
    ck_assert_int_eq(ctrl_image_reassigning_count(copy), 1);
    ctrl_image_destroy(copy);
    buf_deinit(&b);
    struct ctrl_records recs = { 0 };
    ck_assert_int_eq(ctrl_plan_delete_topic(img, "t", 1, &a, &recs), 0);
    apply_all(&recs);
    ck_assert_int_eq(ctrl_image_reassigning_count(img), 0);
    teardown_topic();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ctrl_reassign");
    TCase *tc = tcase_create("plan");
    tcase_add_test(tc, test_move_rf1);
    tcase_add_test(tc, test_cancel_restores);
    tcase_add_test(tc, test_validation);
    tcase_add_test(tc, test_shrink_and_reorder_complete_at_once);
    tcase_add_test(tc, test_move_away_from_leader);
    tcase_add_test(tc, test_snapshot_and_delete);
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
