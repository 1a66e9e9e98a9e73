/*
 * brk_group_test.c - the coordinator state machine driven with a fake clock
 * and a fake store: KIP-394 member ids, leader election, rebalances on
 * join/leave/expiry, the initial rebalance delay, sync parked until the
 * assignment is stored, commits, delete, and a reload from the very
 * records the coordinator wrote.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/group/brk_group.h"

#define B(s) bytes_make((s), sizeof(s) - 1)
#define NONE ((struct bytes){ NULL, 0 }) /* no group.instance.id */
#define STORES_MAX 64

struct waiter {
    void *free_on_answer;   /* the request's bytes, freed when it is answered (as the server does) */
    bool answered;
    int16_t err;
    int32_t generation;
    char member_id[128];
    char leader[128];
    char protocol[32];
    int32_t member_count;
    bool skip_assignment;
    char assignment[64];
};

struct pending_store {
    void *arg;
    brk_groups_store_done_cb done;
};

struct fake {
    struct pending_store stores[STORES_MAX];
    int store_count, store_done_count;
    struct buf records[STORES_MAX]; /* keys and values, for the reload test */
    struct buf values[STORES_MAX];
    bool value_null[STORES_MAX];
    int record_count;
};

static void cpy(char *dst, size_t n, struct bytes b)
{
    size_t k = b.len < n - 1 ? b.len : n - 1;
    if (b.ptr)
        memcpy(dst, b.ptr, k);
    dst[k] = 0;
}

static void join_done(void *ctx, void *w, const struct brk_group_join_result *r)
{
    (void)ctx;
    struct waiter *wt = w;
    ck_assert(!wt->answered);
    wt->answered = true;
    free(wt->free_on_answer); /* a server frees the request once answered */
    wt->free_on_answer = NULL;
    wt->err = r->error_code;
    wt->generation = r->generation_id;
    cpy(wt->member_id, sizeof wt->member_id, r->member_id);
    cpy(wt->leader, sizeof wt->leader, r->leader);
    cpy(wt->protocol, sizeof wt->protocol, r->protocol_name);
    wt->member_count = r->member_count;
    wt->skip_assignment = r->skip_assignment;
    ck_assert(r->error_code == 0 ? r->protocol_type.ptr != NULL : r->protocol_type.ptr == NULL);
}

static void sync_done(void *ctx, void *w, const struct brk_group_sync_result *r)
{
    (void)ctx;
    struct waiter *wt = w;
    ck_assert(!wt->answered);
    wt->answered = true;
    free(wt->free_on_answer);
    wt->free_on_answer = NULL;
    wt->err = r->error_code;
    cpy(wt->assignment, sizeof wt->assignment, r->assignment);
    cpy(wt->protocol, sizeof wt->protocol, r->protocol_name);
    /* SyncGroup v5: the group's protocol on success, null on errors */
    ck_assert(r->error_code == 0 ? r->protocol_type.ptr != NULL : r->protocol_type.ptr == NULL);
}

static int store(void *ctx, struct bytes group_id, const struct brk_offsets_topic_record *recs, int32_t n, void *arg,
                 brk_groups_store_done_cb done)
{
    (void)group_id;
    struct fake *f = ctx;
    ck_assert_int_lt(f->store_count, STORES_MAX);
    f->stores[f->store_count++] = (struct pending_store){ arg, done };
    for (int32_t i = 0; i < n; i++) {
        int k = f->record_count++;
        buf_init(&f->records[k], 0);
        buf_init(&f->values[k], 0);
        ck_assert_int_eq(buf_append(&f->records[k], recs[i].key.ptr, recs[i].key.len), 0);
        f->value_null[k] = recs[i].value.ptr == NULL;
        if (recs[i].value.ptr)
            ck_assert_int_eq(buf_append(&f->values[k], recs[i].value.ptr, recs[i].value.len), 0);
    }
    return 0;
}

static void complete_stores(struct fake *f, int rc)
{
    while (f->store_done_count < f->store_count) {
        struct pending_store *s = &f->stores[f->store_done_count++];
        s->done(s->arg, rc);
    }
}

static struct fake fake;
static struct brk_groups *gs;

static void setup_delay(int64_t delay_ms)
{
    memset(&fake, 0, sizeof fake);
    struct brk_groups_config cfg = { .initial_rebalance_delay_ms = delay_ms, .seed = 42 };
    struct brk_groups_ops ops = { .ctx = &fake, .join_done = join_done, .sync_done = sync_done, .store = store };
    ck_assert_int_eq(brk_groups_create(&cfg, &ops, &gs), 0);
}

static void setup_retention(int64_t retention_ms, int64_t interval_ms)
{
    memset(&fake, 0, sizeof fake);
    struct brk_groups_config cfg = { .seed = 42, .offsets_retention_ms = retention_ms,
                                     .retention_check_interval_ms = interval_ms };
    struct brk_groups_ops ops = { .ctx = &fake, .join_done = join_done, .sync_done = sync_done, .store = store };
    ck_assert_int_eq(brk_groups_create(&cfg, &ops, &gs), 0);
}

static void teardown(void)
{
    brk_groups_destroy(gs);
    for (int i = 0; i < fake.record_count; i++) {
        buf_deinit(&fake.records[i]);
        buf_deinit(&fake.values[i]);
    }
}

static const struct brk_group_protocol_in protos[2] = { { { (const uint8_t *)"range", 5 }, { (const uint8_t *)"S", 1 } },
                                                        { { (const uint8_t *)"roundrobin", 10 },
                                                          { (const uint8_t *)"T", 1 } } };

static void join(struct waiter *w, const char *member, bool v4, int64_t now)
{
    memset(w, 0, sizeof *w);
    struct brk_group_join_req jr = {
        .group_id = B("g"), .member_id = bytes_cstr(member), .group_instance_id = { NULL, 0 },
        .client_id = B("cli"), .client_host = B("/127.0.0.1"), .protocol_type = B("consumer"),
        .session_timeout_ms = 10000, .rebalance_timeout_ms = 30000, .require_known_member_id = v4,
        .protocol_count = 2, .protocols = protos,
    };
    brk_groups_join(gs, &jr, now, w);
}

static void sync_(struct waiter *w, const char *member, int32_t gen, int n,
                  const struct brk_group_assignment_in *as, int64_t now)
{
    memset(w, 0, sizeof *w);
    struct brk_group_sync_req sr = { .group_id = B("g"), .member_id = bytes_cstr(member), .generation_id = gen,
                                     .assignment_count = n, .assignments = as };
    brk_groups_sync(gs, &sr, now, w);
}

/* two_member_group - A and B Stable in generation 2, A leading. */
static void two_member_group(char *a, char *b)
{
    struct waiter wa, wb, sa, sb;
    join(&wa, "", true, 0);
    ck_assert(wa.answered);
    ck_assert_int_eq(wa.err, BRK_GROUP_MEMBER_ID_REQUIRED);
    ck_assert(strncmp(wa.member_id, "cli-", 4) == 0);
    strcpy(a, wa.member_id);
    join(&wa, a, true, 0);
    /* the only member rejoined: the join completes at once (no delay) */
    ck_assert(wa.answered);
    ck_assert_int_eq(wa.err, 0);
    ck_assert_int_eq(wa.generation, 1);
    ck_assert_str_eq(wa.leader, a);
    ck_assert_str_eq(wa.protocol, "range");
    ck_assert_int_eq(wa.member_count, 1);
    struct brk_group_assignment_in as1 = { bytes_cstr(a), B("A1") };
    sync_(&sa, a, 1, 1, &as1, 1);
    ck_assert(!sa.answered); /* parked until the assignment is stored */
    ck_assert_int_eq(fake.store_count, 1);
    complete_stores(&fake, 0);
    ck_assert(sa.answered);
    ck_assert_str_eq(sa.assignment, "A1");
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_STABLE);

    /* B joins (v3: no member id round trip): a rebalance starts */
    join(&wb, "", false, 100);
    ck_assert(!wb.answered);
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_PREPARING_REBALANCE);
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(a), NONE, 1, 100), BRK_GROUP_REBALANCE_IN_PROGRESS);
    join(&wa, a, true, 200);
    ck_assert(wa.answered);
    ck_assert(wb.answered);
    ck_assert_int_eq(wa.generation, 2);
    ck_assert_int_eq(wb.generation, 2);
    ck_assert_str_eq(wa.leader, a);
    ck_assert_str_eq(wb.leader, a);
    ck_assert_int_eq(wa.member_count, 2);
    ck_assert_int_eq(wb.member_count, 0); /* followers get no member list */
    strcpy(b, wb.member_id);
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_COMPLETING_REBALANCE);
    sync_(&sb, b, 2, 0, NULL, 300);
    ck_assert(!sb.answered);
    struct brk_group_assignment_in as2[2] = { { bytes_cstr(a), B("A2") }, { bytes_cstr(b), B("B2") } };
    sync_(&sa, a, 2, 2, as2, 300);
    ck_assert(!sa.answered);
    complete_stores(&fake, 0);
    ck_assert(sa.answered && sb.answered);
    ck_assert_str_eq(sa.assignment, "A2");
    ck_assert_str_eq(sb.assignment, "B2");
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_STABLE);
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(b), NONE, 2, 400), 0);
}

START_TEST(test_join_sync_rebalance)
{
    setup_delay(0);
    char a[128], b[128];
    two_member_group(a, b);
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(b), NONE, 1, 400), BRK_GROUP_ILLEGAL_GENERATION);
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), B("nobody"), NONE, 2, 400), BRK_GROUP_UNKNOWN_MEMBER_ID);
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("other"), bytes_cstr(a), NONE, 2, 400), BRK_GROUP_UNKNOWN_MEMBER_ID);
    struct waiter w;
    join(&w, "ghost", false, 400);
    ck_assert_int_eq(w.err, BRK_GROUP_UNKNOWN_MEMBER_ID);
    sync_(&w, "ghost", 2, 0, NULL, 400);
    ck_assert_int_eq(w.err, BRK_GROUP_UNKNOWN_MEMBER_ID);
    teardown();
}
END_TEST

START_TEST(test_session_expiry_and_leave)
{
    setup_delay(0);
    char a[128], b[128];
    two_member_group(a, b);
    /* A keeps heartbeating, B goes silent past its 10 s session */
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(a), NONE, 2, 9000), 0);
    brk_groups_tick(gs, 10399);
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_STABLE);
    brk_groups_tick(gs, 10400);
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_PREPARING_REBALANCE);
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(b), NONE, 2, 10400), BRK_GROUP_UNKNOWN_MEMBER_ID);
    struct waiter wa;
    join(&wa, a, true, 10500);
    ck_assert(wa.answered);
    ck_assert_int_eq(wa.generation, 3);
    ck_assert_int_eq(wa.member_count, 1);
    /* the last member leaves: the group goes Empty, and that is stored */
    int stores = fake.store_count;
    bool found;
    ck_assert_int_eq(brk_groups_leave(gs, B("g"), bytes_cstr(a), NONE, 10600, &found), 0);
    ck_assert(found);
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_EMPTY);
    ck_assert_int_eq(brk_groups_generation(gs, B("g")), 4);
    ck_assert_int_eq(fake.store_count, stores + 1);
    ck_assert_int_eq(brk_groups_leave(gs, B("g"), bytes_cstr(a), NONE, 10600, &found), BRK_GROUP_UNKNOWN_MEMBER_ID);
    teardown();
}
END_TEST

START_TEST(test_rebalance_timeout_drops_laggard)
{
    setup_delay(0);
    char a[128], b[128];
    two_member_group(a, b);
    /* A rejoins (leader rejoin triggers a rebalance); B never does */
    struct waiter wa;
    join(&wa, a, true, 1000);
    ck_assert(!wa.answered);
    /* B heartbeats (told to rejoin) so only the rebalance timeout can drop it */
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(b), NONE, 2, 25000), BRK_GROUP_REBALANCE_IN_PROGRESS);
    brk_groups_tick(gs, 30999);
    ck_assert(!wa.answered);
    brk_groups_tick(gs, 31000); /* rebalance timeout 30 s from 1000 */
    ck_assert(wa.answered);
    ck_assert_int_eq(wa.generation, 3);
    ck_assert_int_eq(wa.member_count, 1);
    teardown();
}
END_TEST

START_TEST(test_initial_delay)
{
    setup_delay(3000);
    struct waiter w1, w2;
    join(&w1, "", false, 0);
    ck_assert(!w1.answered);
    brk_groups_tick(gs, 2000);
    join(&w2, "", false, 2000); /* joined during the delay: extends it */
    brk_groups_tick(gs, 3000);
    ck_assert(!w1.answered);
    brk_groups_tick(gs, 5999);
    ck_assert(!w1.answered);
    brk_groups_tick(gs, 6000);
    ck_assert(w1.answered && w2.answered);
    ck_assert_int_eq(w1.generation, 1);
    ck_assert_str_eq(w1.leader, w1.member_id);
    ck_assert_int_eq(w1.member_count, 2);
    teardown();
}
END_TEST

START_TEST(test_join_validation)
{
    setup_delay(0);
    struct waiter w;
    memset(&w, 0, sizeof w);
    struct brk_group_join_req jr = { .group_id = B("g"), .member_id = B(""), .client_id = B("c"),
                                     .protocol_type = B("consumer"), .session_timeout_ms = 10,
                                     .rebalance_timeout_ms = 100, .protocol_count = 2, .protocols = protos };
    brk_groups_join(gs, &jr, 0, &w);
    ck_assert_int_eq(w.err, BRK_GROUP_INVALID_SESSION_TIMEOUT);
    memset(&w, 0, sizeof w);
    jr.session_timeout_ms = 10000;
    jr.group_id = B("");
    brk_groups_join(gs, &jr, 0, &w);
    ck_assert_int_eq(w.err, BRK_GROUP_INVALID_GROUP_ID);
    /* a group of "consumer" members refuses a "connect" member */
    join(&w, "", false, 0);
    ck_assert_int_eq(w.err, 0);
    memset(&w, 0, sizeof w);
    jr.group_id = B("g");
    jr.protocol_type = B("connect");
    brk_groups_join(gs, &jr, 0, &w);
    ck_assert_int_eq(w.err, BRK_GROUP_INCONSISTENT_GROUP_PROTOCOL);
    teardown();
}
END_TEST

START_TEST(test_commit_rules)
{
    setup_delay(0);
    /* group-less commit (assign + commit): generation -1 creates an Empty group */
    ck_assert_int_eq(brk_groups_commit_check(gs, B("solo"), B(""), NONE, -1, 0), 0);
    ck_assert_int_eq(brk_groups_state(gs, B("solo")), BRK_GROUP_EMPTY);
    ck_assert_int_eq(brk_groups_commit_check(gs, B("nogroup"), B("m"), NONE, 3, 0), BRK_GROUP_ILLEGAL_GENERATION);
    char a[128], b[128];
    two_member_group(a, b);
    ck_assert_int_eq(brk_groups_commit_check(gs, B("g"), bytes_cstr(a), NONE, 2, 500), 0);
    ck_assert_int_eq(brk_groups_commit_check(gs, B("g"), bytes_cstr(a), NONE, 1, 500), BRK_GROUP_ILLEGAL_GENERATION);
    ck_assert_int_eq(brk_groups_commit_check(gs, B("g"), B("x"), NONE, 2, 500), BRK_GROUP_UNKNOWN_MEMBER_ID);
    ck_assert_int_eq(brk_groups_commit_check(gs, B("g"), B(""), NONE, -1, 500), BRK_GROUP_UNKNOWN_MEMBER_ID);
    struct brk_group_offset o = { .topic = B("t"), .partition = 0, .offset = 17, .leader_epoch = -1,
                                  .metadata = B("m"), .commit_timestamp_ms = 5, .expire_timestamp_ms = -1 };
    ck_assert_int_eq(brk_groups_offset_put(gs, B("g"), &o), 0);
    o.offset = 18;
    ck_assert_int_eq(brk_groups_offset_put(gs, B("g"), &o), 0);
    const struct brk_group_offset *f = brk_groups_offset_find(gs, B("g"), B("t"), 0);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->offset, 18);
    ck_assert(bytes_eq(f->metadata, B("m")));
    ck_assert_ptr_null(brk_groups_offset_find(gs, B("g"), B("t"), 1));
    int32_t n;
    ck_assert_ptr_nonnull(brk_groups_offsets(gs, B("g"), &n));
    ck_assert_int_eq(n, 1);
    /* delete: only when Empty */
    struct arena ar;
    arena_init(&ar, 4096, 1 << 20);
    struct brk_group_offset *os;
    ck_assert_int_eq(brk_groups_delete(gs, B("g"), &ar, &os, &n), BRK_GROUP_NON_EMPTY_GROUP);
    ck_assert_int_eq(brk_groups_delete(gs, B("nope"), &ar, &os, &n), BRK_GROUP_GROUP_ID_NOT_FOUND);
    bool found;
    ck_assert_int_eq(brk_groups_leave(gs, B("g"), bytes_cstr(a), NONE, 600, &found), 0);
    ck_assert_int_eq(brk_groups_leave(gs, B("g"), bytes_cstr(b), NONE, 600, &found), 0);
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_EMPTY);
    ck_assert_int_eq(brk_groups_delete(gs, B("g"), &ar, &os, &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert(bytes_eq(os[0].topic, B("t")));
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_DEAD);
    ck_assert_ptr_null(brk_groups_offset_find(gs, B("g"), B("t"), 0));
    struct brk_group_listing *l;
    ck_assert_int_eq(brk_groups_list(gs, &ar, &l, &n), 0);
    ck_assert_int_eq(n, 1); /* "solo" only */
    ck_assert(bytes_eq(l[0].group_id, B("solo")));
    arena_deinit(&ar);
    teardown();
}
END_TEST

START_TEST(test_reload_from_stored_records)
{
    setup_delay(0);
    char a[128], b[128];
    two_member_group(a, b);
    /* also an offset commit record and a tombstoned one, as the handler writes them */
    struct buf k, v;
    buf_init(&k, 0);
    buf_init(&v, 0);
    struct brk_offsets_topic_offset ov = { .offset = 99, .leader_epoch = 0, .metadata = B(""),
                                           .commit_timestamp_ms = 1, .expire_timestamp_ms = -1 };
    ck_assert_int_eq(brk_offsets_topic_offset_key_encode(&k, B("g"), B("t"), 3), 0);
    ck_assert_int_eq(brk_offsets_topic_offset_value_encode(&v, &ov), 0);
    struct brk_offsets_topic_record recs[3] = { { buf_bytes(&k), buf_bytes(&v) } };
    struct brk_groups *gs2;
    struct brk_groups_config cfg = { .seed = 1 };
    struct brk_groups_ops ops = { .ctx = &fake, .join_done = join_done, .sync_done = sync_done, .store = store };
    ck_assert_int_eq(brk_groups_create(&cfg, &ops, &gs2), 0);
    for (int i = 0; i < fake.record_count; i++) {
        struct brk_offsets_topic_record r = { buf_bytes(&fake.records[i]),
                                              fake.value_null[i] ? (struct bytes){ NULL, 0 }
                                                                 : buf_bytes(&fake.values[i]) };
        ck_assert_int_eq(brk_groups_load_record(gs2, &r, 1000), 0);
    }
    ck_assert_int_eq(brk_groups_load_record(gs2, &recs[0], 1000), 0);
    ck_assert_int_eq(brk_groups_state(gs2, B("g")), BRK_GROUP_STABLE);
    ck_assert_int_eq(brk_groups_generation(gs2, B("g")), 2);
    ck_assert_int_eq(brk_groups_heartbeat(gs2, B("g"), bytes_cstr(b), NONE, 2, 1000), 0);
    const struct brk_group_offset *f = brk_groups_offset_find(gs2, B("g"), B("t"), 3);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->offset, 99);
    struct arena ar;
    arena_init(&ar, 4096, 1 << 20);
    struct brk_group_desc d;
    ck_assert_int_eq(brk_groups_describe(gs2, B("g"), &ar, &d), 0);
    ck_assert(d.found);
    ck_assert(bytes_eq(d.protocol, B("range")));
    ck_assert_int_eq(d.member_count, 2);
    /* an offset tombstone removes it */
    struct brk_offsets_topic_record tomb = { buf_bytes(&k), { NULL, 0 } };
    ck_assert_int_eq(brk_groups_load_record(gs2, &tomb, 1000), 0);
    ck_assert_ptr_null(brk_groups_offset_find(gs2, B("g"), B("t"), 3));
    /* restored members that never come back expire */
    brk_groups_tick(gs2, 20000);
    ck_assert_int_eq(brk_groups_state(gs2, B("g")), BRK_GROUP_EMPTY);
    arena_deinit(&ar);
    brk_groups_destroy(gs2);
    buf_deinit(&k);
    buf_deinit(&v);
    teardown();
}
END_TEST

/* Coordinator failover: the partition's leadership left this node.  Its
 * groups go (parked joins answered NOT_COORDINATOR, members and offsets
 * forgotten), other partitions' groups stay, and a reload from the log
 * brings them back as they were stored. */
START_TEST(test_unload_partition)
{
    setup_delay(0);
    char a[128], b[128];
    two_member_group(a, b);
    const int32_t np = 50;
    int32_t pg = brk_offsets_topic_partition_for(B("g"), np);
    char other[16];
    for (int i = 0;; i++) { /* a group placed on another partition */
        snprintf(other, sizeof other, "o%d", i);
        if (brk_offsets_topic_partition_for(bytes_cstr(other), np) != pg)
            break;
    }
    struct brk_group_offset o = { .topic = B("t"), .partition = 0, .offset = 7, .metadata = B(""),
                                  .commit_timestamp_ms = 1, .expire_timestamp_ms = -1 };
    ck_assert_int_eq(brk_groups_offset_put(gs, B("g"), &o), 0);
    ck_assert_int_eq(brk_groups_offset_put(gs, bytes_cstr(other), &o), 0);
    struct waiter wc;
    join(&wc, "", false, 500); /* a third member: parked in PreparingRebalance */
    ck_assert(!wc.answered);

    ck_assert_int_eq(brk_groups_unload(gs, (pg + 1) % np, np) >= 0, 1); /* another partition: g stays */
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_PREPARING_REBALANCE);
    ck_assert(!wc.answered);
    ck_assert_int_eq(brk_groups_unload(gs, pg, np), 1);
    ck_assert(wc.answered);
    ck_assert_int_eq(wc.err, BRK_GROUP_NOT_COORDINATOR);
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_DEAD);
    ck_assert_ptr_null(brk_groups_offset_find(gs, B("g"), B("t"), 0));
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(a), NONE, 2, 600), BRK_GROUP_UNKNOWN_MEMBER_ID);
    ck_assert_ptr_nonnull(brk_groups_offset_find(gs, bytes_cstr(other), B("t"), 0));
    struct arena ar;
    arena_init(&ar, 4096, 1 << 20);
    struct brk_group_listing *l;
    int32_t n;
    ck_assert_int_eq(brk_groups_list(gs, &ar, &l, &n), 0);
    ck_assert_int_eq(n, 1); /* only the other partition's group */
    arena_deinit(&ar);

    /* leadership comes back: the stored records restore generation 2 */
    for (int i = 0; i < fake.record_count; i++) {
        struct brk_offsets_topic_record r = { buf_bytes(&fake.records[i]),
                                              fake.value_null[i] ? (struct bytes){ NULL, 0 }
                                                                 : buf_bytes(&fake.values[i]) };
        ck_assert_int_eq(brk_groups_load_record(gs, &r, 1000), 0);
    }
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_STABLE);
    ck_assert_int_eq(brk_groups_generation(gs, B("g")), 2);
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(b), NONE, 2, 1000), 0);
    teardown();
}
END_TEST

START_TEST(test_store_failure_fails_sync)
{
    setup_delay(0);
    struct waiter w, s;
    join(&w, "", false, 0);
    char a[128];
    strcpy(a, w.member_id);
    struct brk_group_assignment_in as = { bytes_cstr(a), B("X") };
    sync_(&s, a, 1, 1, &as, 0);
    complete_stores(&fake, ERR_NO_SPACE);
    ck_assert(s.answered);
    ck_assert_int_eq(s.err, BRK_GROUP_COORDINATOR_NOT_AVAILABLE);
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_PREPARING_REBALANCE);
    teardown();
}
END_TEST

static void put_offset(const char *group, int32_t partition, int64_t offset, int64_t commit_ms)
{
    struct brk_group_offset o = { .topic = B("t"), .partition = partition, .offset = offset, .leader_epoch = -1,
                                  .metadata = B(""), .commit_timestamp_ms = commit_ms, .expire_timestamp_ms = -1 };
    ck_assert_int_eq(brk_groups_offset_put(gs, bytes_cstr(group), &o), 0);
}

/* offsets.retention.minutes: a standalone group's offsets expire one by one
 * from their commit; an Empty group's from when it became Empty; a live
 * group's never; expiry writes tombstones, the last one with the group's. */
START_TEST(test_offset_expiry)
{
    setup_retention(10000, 1000);
    /* standalone (assign + commit): each offset from its own commit */
    ck_assert_int_eq(brk_groups_commit_check(gs, B("solo"), B(""), NONE, -1, 0), 0);
    put_offset("solo", 0, 7, 1000);
    put_offset("solo", 1, 9, 5000);
    brk_groups_tick(gs, 10999);
    ck_assert_int_eq(fake.record_count, 0);
    brk_groups_tick(gs, 12000); /* partition 0 is 11 s old */
    ck_assert_int_eq(fake.record_count, 1);
    ck_assert(fake.value_null[0]);
    ck_assert_ptr_null(brk_groups_offset_find(gs, B("solo"), B("t"), 0));
    ck_assert_ptr_nonnull(brk_groups_offset_find(gs, B("solo"), B("t"), 1));
    ck_assert_int_eq(brk_groups_state(gs, B("solo")), BRK_GROUP_EMPTY);
    brk_groups_tick(gs, 12500); /* before the next check interval: nothing */
    ck_assert_int_eq(fake.record_count, 1);
    brk_groups_tick(gs, 15000); /* partition 1 too, and with it the group */
    ck_assert_int_eq(fake.record_count, 3);
    ck_assert(fake.value_null[1] && fake.value_null[2]);
    ck_assert_int_eq(brk_groups_state(gs, B("solo")), BRK_GROUP_DEAD);
    int32_t n = -1;
    ck_assert_ptr_null(brk_groups_offsets(gs, B("solo"), &n));
    complete_stores(&fake, 0);
    teardown();

    /* a group with members: nothing expires while it lives; once Empty,
     * the clock starts when it became Empty, not at the commit */
    setup_retention(10000, 1000);
    char a[128], b[128];
    two_member_group(a, b);
    put_offset("g", 0, 42, 500);
    brk_groups_tick(gs, 600);
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(a), NONE, 2, 5000), 0);
    bool found;
    ck_assert_int_eq(brk_groups_leave(gs, B("g"), bytes_cstr(b), NONE, 5000, &found), 0);
    struct waiter wa;
    join(&wa, a, true, 5100);
    ck_assert_int_eq(brk_groups_leave(gs, B("g"), bytes_cstr(a), NONE, 6000, &found), 0);
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_EMPTY);
    int records = fake.record_count;
    brk_groups_tick(gs, 15999); /* 15.5 s after the commit, 10 s after Empty minus 1 ms */
    ck_assert_ptr_nonnull(brk_groups_offset_find(gs, B("g"), B("t"), 0));
    brk_groups_tick(gs, 17000);
    ck_assert_ptr_null(brk_groups_offset_find(gs, B("g"), B("t"), 0));
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_DEAD);
    ck_assert_int_eq(fake.record_count, records + 2); /* the offset and the group */
    complete_stores(&fake, 0);
    teardown();
}
END_TEST

/* OffsetDelete (KIP-496): unknown group GROUP_ID_NOT_FOUND; a subscribed
 * topic of a live consumer group GROUP_SUBSCRIBED_TO_TOPIC (its offsets
 * stay); other partitions tombstoned and dropped; an error set by the caller
 * kept; a standalone group left without offsets removed (group tombstone). */
START_TEST(test_offset_delete)
{
    setup_delay(0);
    struct brk_group_tp tp1 = { B("t"), 0, 0 };
    bool stored = true;
    ck_assert_int_eq(brk_groups_offset_delete(gs, B("nope"), &tp1, 1, NULL, NULL, &stored),
                     BRK_GROUP_GROUP_ID_NOT_FOUND);
    ck_assert(!stored);
    /* a consumer group subscribed to "t" (ConsumerProtocolSubscription v0) */
    static const uint8_t sub[] = { 0, 0, 0, 0, 0, 1, 0, 1, 't', 0xff, 0xff, 0xff, 0xff };
    struct brk_group_protocol_in p = { B("range"), { sub, sizeof sub } };
    struct brk_group_join_req jr = {
        .group_id = B("c"), .member_id = B(""), .group_instance_id = { NULL, 0 }, .client_id = B("cli"),
        .client_host = B("/127.0.0.1"), .protocol_type = B("consumer"), .session_timeout_ms = 10000,
        .rebalance_timeout_ms = 30000, .require_known_member_id = false, .protocol_count = 1, .protocols = &p,
    };
    struct waiter w, sw;
    memset(&w, 0, sizeof w);
    brk_groups_join(gs, &jr, 0, &w);
    ck_assert(w.answered);
    ck_assert_int_eq(w.err, 0);
    struct brk_group_assignment_in as = { bytes_cstr(w.member_id), B("A") };
    memset(&sw, 0, sizeof sw);
    struct brk_group_sync_req sr = { .group_id = B("c"), .member_id = bytes_cstr(w.member_id), .generation_id = 1,
                                     .assignment_count = 1, .assignments = &as };
    brk_groups_sync(gs, &sr, 1, &sw);
    complete_stores(&fake, 0);
    ck_assert_int_eq(brk_groups_state(gs, B("c")), BRK_GROUP_STABLE);
    struct brk_group_offset o = { .topic = B("t"), .partition = 0, .offset = 5, .leader_epoch = -1,
                                  .metadata = B(""), .commit_timestamp_ms = 1, .expire_timestamp_ms = -1 };
    ck_assert_int_eq(brk_groups_offset_put(gs, B("c"), &o), 0);
    o.topic = B("u");
    ck_assert_int_eq(brk_groups_offset_put(gs, B("c"), &o), 0);
    int records = fake.record_count;
    struct brk_group_tp tps[3] = { { B("t"), 0, 0 }, { B("u"), 0, 0 }, { B("gone"), 0, 3 } };
    ck_assert_int_eq(brk_groups_offset_delete(gs, B("c"), tps, 3, NULL, NULL, &stored), BRK_GROUP_OK);
    ck_assert(stored);
    ck_assert_int_eq(tps[0].error_code, BRK_GROUP_GROUP_SUBSCRIBED_TO_TOPIC);
    ck_assert_int_eq(tps[1].error_code, 0);
    ck_assert_int_eq(tps[2].error_code, 3); /* the caller's UNKNOWN_TOPIC_OR_PARTITION */
    ck_assert_int_eq(fake.record_count, records + 1); /* u-0's tombstone only */
    ck_assert(fake.value_null[records]);
    ck_assert_ptr_nonnull(brk_groups_offset_find(gs, B("c"), B("t"), 0));
    ck_assert_ptr_null(brk_groups_offset_find(gs, B("c"), B("u"), 0));
    ck_assert_int_eq(brk_groups_state(gs, B("c")), BRK_GROUP_STABLE);
    fake.store_done_count = fake.store_count; /* the fake's done callbacks: NULL here */
    /* standalone group: everything deletable; with its last offset it goes */
    ck_assert_int_eq(brk_groups_commit_check(gs, B("solo"), B(""), NONE, -1, 0), 0);
    put_offset("solo", 0, 7, 1000);
    records = fake.record_count;
    struct brk_group_tp st = { B("t"), 0, 0 };
    ck_assert_int_eq(brk_groups_offset_delete(gs, B("solo"), &st, 1, NULL, NULL, &stored), BRK_GROUP_OK);
    ck_assert(stored);
    ck_assert_int_eq(st.error_code, 0);
    ck_assert_int_eq(fake.record_count, records + 2); /* the offset and the group */
    ck_assert_int_eq(brk_groups_state(gs, B("solo")), BRK_GROUP_DEAD);
    fake.store_done_count = fake.store_count;
    teardown();
}
END_TEST

/* A join answered at once (MEMBER_ID_REQUIRED) whose request is freed by
 * the answer: the coordinator must not touch the request's group id after
 * answering (under ASan, `make asan`, a use-after-free fails this test). */
START_TEST(test_answered_request_not_touched)
{
    setup_delay(0);
    char *req_bytes = malloc(8);
    ck_assert_ptr_nonnull(req_bytes);
    memcpy(req_bytes, "g-freed", 7);
    struct waiter w;
    memset(&w, 0, sizeof w);
    w.free_on_answer = req_bytes;
    struct brk_group_join_req jr = {
        .group_id = bytes_make(req_bytes, 7), .member_id = B(""), .group_instance_id = { NULL, 0 },
        .client_id = B("cli"), .client_host = B("/127.0.0.1"), .protocol_type = B("consumer"),
        .session_timeout_ms = 10000, .rebalance_timeout_ms = 30000, .require_known_member_id = true,
        .protocol_count = 2, .protocols = protos,
    };
    brk_groups_join(gs, &jr, 0, &w);
    ck_assert(w.answered);
    ck_assert_ptr_null(w.free_on_answer);
    teardown();
}
END_TEST

/* ---- static membership (KIP-345) ---- */

static void sjoin_p(struct waiter *w, const char *member, const char *instance, int np,
                    const struct brk_group_protocol_in *ps, int64_t now)
{
    memset(w, 0, sizeof *w);
    struct brk_group_join_req jr = {
        .group_id = B("g"), .member_id = bytes_cstr(member), .group_instance_id = bytes_cstr(instance),
        .client_id = B("cli"), .client_host = B("/127.0.0.1"), .protocol_type = B("consumer"),
        .session_timeout_ms = 10000, .rebalance_timeout_ms = 30000, .require_known_member_id = true,
        .protocol_count = np, .protocols = ps,
    };
    brk_groups_join(gs, &jr, now, w);
}

static void sjoin(struct waiter *w, const char *member, const char *instance, int64_t now)
{
    sjoin_p(w, member, instance, 2, protos, now);
}

static void ssync(struct waiter *w, const char *member, const char *instance, int32_t gen, int n,
                  const struct brk_group_assignment_in *as, int64_t now)
{
    memset(w, 0, sizeof *w);
    struct brk_group_sync_req sr = { .group_id = B("g"), .member_id = bytes_cstr(member),
                                     .group_instance_id = bytes_cstr(instance), .generation_id = gen,
                                     .assignment_count = n, .assignments = as };
    brk_groups_sync(gs, &sr, now, w);
}

/* static_group - instances i1, i2, i3 Stable in generation 1 (one initial
 * delayed join, no KIP-394 round trip), i1 leading; ids[k] = member ids. */
static void static_group(char ids[3][128])
{
    static const char *const inst[3] = { "i1", "i2", "i3" };
    struct waiter w[3], sw[3];
    for (int k = 0; k < 3; k++) {
        sjoin(&w[k], "", inst[k], 0);
        ck_assert(!w[k].answered); /* static members skip MEMBER_ID_REQUIRED */
    }
    brk_groups_tick(gs, 3000);
    brk_groups_tick(gs, 6000);
    for (int k = 0; k < 3; k++) {
        ck_assert(w[k].answered);
        ck_assert_int_eq(w[k].err, 0);
        ck_assert_int_eq(w[k].generation, 1);
        ck_assert(strncmp(w[k].member_id, inst[k], 2) == 0); /* Kafka: instance id + "-" + uuid */
        strcpy(ids[k], w[k].member_id);
    }
    ck_assert_str_eq(w[0].leader, ids[0]);
    ck_assert_int_eq(w[0].member_count, 3);
    struct brk_group_assignment_in as[3] = { { bytes_cstr(ids[0]), B("A-i1") }, { bytes_cstr(ids[1]), B("A-i2") },
                                             { bytes_cstr(ids[2]), B("A-i3") } };
    ssync(&sw[1], ids[1], "i2", 1, 0, NULL, 6100);
    ssync(&sw[2], ids[2], "i3", 1, 0, NULL, 6100);
    ssync(&sw[0], ids[0], "i1", 1, 3, as, 6100);
    complete_stores(&fake, 0);
    ck_assert(sw[0].answered && sw[1].answered && sw[2].answered);
    ck_assert_str_eq(sw[2].assignment, "A-i3");
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_STABLE);
}

/* A known instance rejoins with no member id while Stable with the same
 * protocols: the old member id is replaced without a rebalance (nobody's
 * generation moves), the group is stored first, and the old id is fenced on
 * every API that names the instance. */
START_TEST(test_static_rejoin_no_rebalance)
{
    setup_delay(3000);
    char ids[3][128];
    static_group(ids);
    int stores = fake.store_count;
    struct waiter w, s;
    sjoin(&w, "", "i2", 7000);
    ck_assert(!w.answered); /* answered once the new member id is stored */
    ck_assert_int_eq(fake.store_count, stores + 1);
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_STABLE);
    complete_stores(&fake, 0);
    ck_assert(w.answered);
    ck_assert_int_eq(w.err, 0);
    ck_assert_int_eq(w.generation, 1);
    ck_assert_str_eq(w.leader, ids[0]);
    ck_assert_int_eq(w.member_count, 0);
    ck_assert_str_ne(w.member_id, ids[1]);
    ck_assert(strncmp(w.member_id, "i2-", 3) == 0);
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_STABLE);
    ck_assert_int_eq(brk_groups_generation(gs, B("g")), 1);
    /* the new id syncs straight to its kept assignment */
    ssync(&s, w.member_id, "i2", 1, 0, NULL, 7100);
    ck_assert(s.answered);
    ck_assert_int_eq(s.err, 0);
    ck_assert_str_eq(s.assignment, "A-i2");
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(w.member_id), B("i2"), 1, 7100), 0);
    /* the others were not disturbed */
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(ids[0]), B("i1"), 1, 7100), 0);
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(ids[2]), B("i3"), 1, 7100), 0);
    /* the old id is fenced wherever it names its instance */
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(ids[1]), B("i2"), 1, 7200),
                     BRK_GROUP_FENCED_INSTANCE_ID);
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(ids[1]), NONE, 1, 7200),
                     BRK_GROUP_UNKNOWN_MEMBER_ID);
    ssync(&s, ids[1], "i2", 1, 0, NULL, 7200);
    ck_assert_int_eq(s.err, BRK_GROUP_FENCED_INSTANCE_ID);
    ck_assert_int_eq(brk_groups_commit_check(gs, B("g"), bytes_cstr(ids[1]), B("i2"), 1, 7200),
                     BRK_GROUP_FENCED_INSTANCE_ID);
    ck_assert_int_eq(brk_groups_commit_check(gs, B("g"), bytes_cstr(w.member_id), B("i2"), 1, 7200), 0);
    bool found;
    ck_assert_int_eq(brk_groups_leave(gs, B("g"), bytes_cstr(ids[1]), B("i2"), 7200, &found),
                     BRK_GROUP_FENCED_INSTANCE_ID);
    sjoin(&s, ids[1], "i2", 7200);
    ck_assert_int_eq(s.err, BRK_GROUP_FENCED_INSTANCE_ID);
    sjoin(&s, ids[1], "i9", 7200);
    ck_assert_int_eq(s.err, BRK_GROUP_UNKNOWN_MEMBER_ID); /* an instance the group does not know */
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_STABLE);

    /* the leader rejoins: still no rebalance; the answer names the previous
     * leader id, so the new incarnation does not run an assignment */
    sjoin(&w, "", "i1", 8000);
    complete_stores(&fake, 0);
    ck_assert(w.answered);
    ck_assert_int_eq(w.err, 0);
    ck_assert_int_eq(w.generation, 1);
    ck_assert_str_eq(w.leader, ids[0]);
    ck_assert_str_ne(w.member_id, ids[0]);
    ck_assert_int_eq(w.member_count, 0);
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_STABLE);
    /* ... but it leads the next rebalance under its new id */
    char leader[128];
    strcpy(leader, w.member_id);
    struct waiter w1, w2, w3;
    sjoin(&w1, leader, "i1", 8100); /* a leader's JoinGroup rebalances, as in Kafka */
    ck_assert(!w1.answered);
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_PREPARING_REBALANCE);
    sjoin(&w3, ids[2], "i3", 8200);
    int32_t n;
    struct arena ar;
    arena_init(&ar, 4096, 1 << 20);
    struct brk_group_desc d;
    ck_assert_int_eq(brk_groups_describe(gs, B("g"), &ar, &d), 0);
    ck_assert_int_eq(d.member_count, 3);
    char i2id[128];
    for (n = 0; n < d.member_count; n++)
        if (bytes_eq(d.members[n].group_instance_id, B("i2")))
            memcpy(i2id, d.members[n].member_id.ptr, d.members[n].member_id.len), i2id[d.members[n].member_id.len] = 0;
    sjoin(&w2, i2id, "i2", 8300);
    ck_assert(w1.answered && w2.answered && w3.answered);
    ck_assert_int_eq(w1.generation, 2);
    ck_assert_str_eq(w1.leader, leader);
    ck_assert_int_eq(w1.member_count, 3);
    arena_deinit(&ar);
    teardown();
}
END_TEST

/* JoinGroup v9 (KIP-814): a static leader's rejoin without a rebalance is
 * told it leads, with every member and skip_assignment; SyncGroup v5 checks
 * the protocol type and name it is given and returns the group's. */
START_TEST(test_static_leader_v9_and_sync_v5)
{
    setup_delay(3000);
    char ids[3][128];
    static_group(ids);
    struct waiter w;
    memset(&w, 0, sizeof w);
    struct brk_group_join_req jr = {
        .group_id = B("g"), .member_id = B(""), .group_instance_id = B("i1"), .client_id = B("cli"),
        .client_host = B("/127.0.0.1"), .protocol_type = B("consumer"), .session_timeout_ms = 10000,
        .rebalance_timeout_ms = 30000, .require_known_member_id = true, .support_skip_assignment = true,
        .protocol_count = 2, .protocols = protos,
    };
    brk_groups_join(gs, &jr, 7000, &w);
    complete_stores(&fake, 0);
    ck_assert(w.answered);
    ck_assert_int_eq(w.err, 0);
    ck_assert_int_eq(w.generation, 1);
    ck_assert_str_eq(w.leader, w.member_id); /* the new id leads */
    ck_assert_int_eq(w.member_count, 3);
    ck_assert(w.skip_assignment);
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_STABLE);
    /* a follower's v9 rejoin: not the leader, nothing to skip */
    jr.group_instance_id = B("i2");
    brk_groups_join(gs, &jr, 7100, memset(&w, 0, sizeof w));
    complete_stores(&fake, 0);
    ck_assert_int_eq(w.err, 0);
    ck_assert_int_eq(w.member_count, 0);
    ck_assert(!w.skip_assignment);
    char i2[128];
    strcpy(i2, w.member_id);
    /* SyncGroup v5 */
    struct brk_group_sync_req sr = { .group_id = B("g"), .member_id = bytes_cstr(i2), .group_instance_id = B("i2"),
                                     .protocol_type = B("consumer"), .protocol_name = B("range"), .generation_id = 1 };
    brk_groups_sync(gs, &sr, 7200, memset(&w, 0, sizeof w));
    ck_assert_int_eq(w.err, 0);
    ck_assert_str_eq(w.protocol, "range");
    ck_assert_str_eq(w.assignment, "A-i2");
    sr.protocol_name = B("roundrobin");
    brk_groups_sync(gs, &sr, 7200, memset(&w, 0, sizeof w));
    ck_assert_int_eq(w.err, BRK_GROUP_INCONSISTENT_GROUP_PROTOCOL);
    sr.protocol_name = (struct bytes){ NULL, 0 };
    sr.protocol_type = B("connect");
    brk_groups_sync(gs, &sr, 7200, memset(&w, 0, sizeof w));
    ck_assert_int_eq(w.err, BRK_GROUP_INCONSISTENT_GROUP_PROTOCOL);
    sr.generation_id = 0; /* the generation is checked first */
    brk_groups_sync(gs, &sr, 7200, memset(&w, 0, sizeof w));
    ck_assert_int_eq(w.err, BRK_GROUP_ILLEGAL_GENERATION);
    teardown();
}
END_TEST

/* A replacement whose store fails is undone: the error is answered and the
 * old member id is current again. */
START_TEST(test_static_rejoin_store_failure)
{
    setup_delay(3000);
    char ids[3][128];
    static_group(ids);
    struct waiter w;
    sjoin(&w, "", "i3", 7000);
    complete_stores(&fake, ERR_NO_SPACE);
    ck_assert(w.answered);
    ck_assert_int_eq(w.err, BRK_GROUP_COORDINATOR_NOT_AVAILABLE);
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(ids[2]), B("i3"), 1, 7100), 0);
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(w.member_id), B("i3"), 1, 7100),
                     BRK_GROUP_FENCED_INSTANCE_ID);
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_STABLE);
    teardown();
}
END_TEST

/* A rejoin that changes the protocol the group would select rebalances; so
 * does one during CompletingRebalance, whose parked sync of the old id is
 * fenced. */
START_TEST(test_static_rejoin_rebalances)
{
    setup_delay(3000);
    char ids[3][128];
    static_group(ids);
    struct waiter w, s;
    sjoin_p(&w, "", "i3", 1, &protos[1], 7000); /* roundrobin only: "range" can no longer be chosen */
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_PREPARING_REBALANCE);
    ck_assert(!w.answered);
    struct waiter w1, w2;
    sjoin(&w1, ids[0], "i1", 7100);
    sjoin(&w2, ids[1], "i2", 7100);
    ck_assert(w.answered && w1.answered && w2.answered);
    ck_assert_int_eq(w.generation, 2);
    ck_assert_str_eq(w.protocol, "roundrobin");
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_COMPLETING_REBALANCE);
    /* i2's sync is parked; then i2 restarts: its old sync is fenced, and the
     * group rebalances (the leader may be assigning with the old id) */
    ssync(&s, ids[1], "i2", 2, 0, NULL, 7200);
    ck_assert(!s.answered);
    struct waiter r;
    sjoin(&r, "", "i2", 7300);
    ck_assert(s.answered);
    ck_assert_int_eq(s.err, BRK_GROUP_FENCED_INSTANCE_ID);
    ck_assert(!r.answered);
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_PREPARING_REBALANCE);
    teardown();
}
END_TEST

/* A static member that misses a rebalance stays a member (the generation
 * completes without it, the leader still assigns to it), until its session
 * times out; LeaveGroup v3 can remove a member by instance id alone. */
START_TEST(test_static_absent_session_and_leave)
{
    setup_delay(3000);
    char ids[3][128];
    static_group(ids);
    struct waiter w1, w2;
    sjoin(&w1, ids[0], "i1", 7000); /* the leader rejoins: a rebalance */
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(ids[1]), B("i2"), 1, 7000),
                     BRK_GROUP_REBALANCE_IN_PROGRESS);
    sjoin(&w2, ids[1], "i2", 7000);
    ck_assert(!w1.answered);
    /* i3 neither rejoins nor heartbeats; the rebalance times out (30 s) */
    brk_groups_tick(gs, 16099); /* i3's session (last seen 6100) is 10 s: */
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_PREPARING_REBALANCE);
    brk_groups_tick(gs, 16100); /* ... it expires: removed, and the others have all joined */
    ck_assert(w1.answered && w2.answered);
    ck_assert_int_eq(w1.generation, 2);
    ck_assert_int_eq(w1.member_count, 2);
    teardown();

    setup_delay(3000);
    static_group(ids);
    sjoin(&w1, ids[0], "i1", 7000);
    sjoin(&w2, ids[1], "i2", 7000);
    /* i3 heartbeats (REBALANCE_IN_PROGRESS) but never rejoins */
    for (int64_t t = 8000; t <= 37000; t += 3000)
        ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(ids[2]), B("i3"), 1, t),
                         BRK_GROUP_REBALANCE_IN_PROGRESS);
    brk_groups_tick(gs, 37000); /* the rebalance timeout: completes with i3 still in */
    ck_assert(w1.answered && w2.answered);
    ck_assert_int_eq(w1.generation, 2);
    ck_assert_int_eq(w1.member_count, 3);
    ck_assert_str_eq(w1.leader, ids[0]);
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(ids[2]), B("i3"), 1, 37100),
                     BRK_GROUP_ILLEGAL_GENERATION);
    /* administrative removal by instance id */
    bool found;
    ck_assert_int_eq(brk_groups_leave(gs, B("g"), B(""), B("i9"), 37200, &found), BRK_GROUP_UNKNOWN_MEMBER_ID);
    ck_assert_int_eq(brk_groups_leave(gs, B("g"), B(""), B("i3"), 37200, &found), 0);
    ck_assert(found);
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_PREPARING_REBALANCE);
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(ids[2]), B("i3"), 2, 37300),
                     BRK_GROUP_UNKNOWN_MEMBER_ID);
    teardown();
}
END_TEST

/* The replaced member id reaches __consumer_offsets with its instance id,
 * and a reload knows it (and fences the old one). */
START_TEST(test_static_reload)
{
    setup_delay(3000);
    char ids[3][128];
    static_group(ids);
    struct waiter w;
    sjoin(&w, "", "i2", 7000);
    complete_stores(&fake, 0);
    ck_assert_int_eq(w.err, 0);
    struct brk_groups *gs1 = gs;
    struct brk_groups_config cfg = { .seed = 1 };
    struct brk_groups_ops ops = { .ctx = &fake, .join_done = join_done, .sync_done = sync_done, .store = store };
    ck_assert_int_eq(brk_groups_create(&cfg, &ops, &gs), 0);
    for (int i = 0; i < fake.record_count; i++) {
        struct brk_offsets_topic_record r = { buf_bytes(&fake.records[i]),
                                              fake.value_null[i] ? (struct bytes){ NULL, 0 }
                                                                 : buf_bytes(&fake.values[i]) };
        ck_assert_int_eq(brk_groups_load_record(gs, &r, 7500), 0);
    }
    ck_assert_int_eq(brk_groups_state(gs, B("g")), BRK_GROUP_STABLE);
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(w.member_id), B("i2"), 1, 7600), 0);
    ck_assert_int_eq(brk_groups_heartbeat(gs, B("g"), bytes_cstr(ids[1]), B("i2"), 1, 7600),
                     BRK_GROUP_FENCED_INSTANCE_ID);
    /* and the reloaded group replaces it again without a rebalance */
    struct waiter w2;
    sjoin(&w2, "", "i2", 7700);
    complete_stores(&fake, 0);
    ck_assert(w2.answered);
    ck_assert_int_eq(w2.err, 0);
    ck_assert_int_eq(w2.generation, 1);
    brk_groups_destroy(gs);
    gs = gs1;
    teardown();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("brk_group");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_join_sync_rebalance);
    tcase_add_test(tc, test_answered_request_not_touched);
    tcase_add_test(tc, test_session_expiry_and_leave);
    tcase_add_test(tc, test_rebalance_timeout_drops_laggard);
    tcase_add_test(tc, test_initial_delay);
    tcase_add_test(tc, test_join_validation);
    tcase_add_test(tc, test_commit_rules);
    tcase_add_test(tc, test_reload_from_stored_records);
    tcase_add_test(tc, test_store_failure_fails_sync);
    tcase_add_test(tc, test_unload_partition);
    tcase_add_test(tc, test_offset_expiry);
    tcase_add_test(tc, test_offset_delete);
    tcase_add_test(tc, test_static_rejoin_no_rebalance);
    tcase_add_test(tc, test_static_rejoin_store_failure);
    tcase_add_test(tc, test_static_leader_v9_and_sync_v5);
    tcase_add_test(tc, test_static_rejoin_rebalances);
    tcase_add_test(tc, test_static_absent_session_and_leave);
    tcase_add_test(tc, test_static_reload);
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
