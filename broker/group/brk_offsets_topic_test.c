/*
 * brk_offsets_topic_test.c - __consumer_offsets keys and values against
 * bytes written by hand from Kafka's group-coordinator schemas, Java's
 * String.hashCode placement, and batch encode/decode round trips.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/brk_batch.h"
#include "broker/group/brk_offsets_topic.h"
#include "common/be.h"
#include "common/crc32c.h"

#define B(s) bytes_make((s), sizeof(s) - 1)

static void expect_bytes(const struct buf *b, const uint8_t *want, size_t n)
{
    ck_assert_uint_eq(b->len, n);
    ck_assert_int_eq(memcmp(b->ptr, want, n), 0);
}

START_TEST(test_java_hash)
{
    ck_assert_int_eq(brk_offsets_topic_java_hash(B("")), 0);
    ck_assert_int_eq(brk_offsets_topic_java_hash(B("a")), 97);
    ck_assert_int_eq(brk_offsets_topic_java_hash(B("abc")), 96354);
    ck_assert_int_eq(brk_offsets_topic_java_hash(B("hello")), 99162322);
    /* a famous one: "polygenelubricants".hashCode() == Integer.MIN_VALUE */
    ck_assert_int_eq(brk_offsets_topic_java_hash(B("polygenelubricants")), INT32_MIN);
    /* U+00E9 is one UTF-16 unit; U+1F600 is the surrogate pair D83D DE00 */
    ck_assert_int_eq(brk_offsets_topic_java_hash(B("\xc3\xa9")), 233);
    ck_assert_int_eq(brk_offsets_topic_java_hash(B("\xf0\x9f\x98\x80")), 0xD83D * 31 + 0xDE00);
    /* malformed UTF-8 counts as U+FFFD */
    ck_assert_int_eq(brk_offsets_topic_java_hash(B("\xff")), 0xFFFD);
}
END_TEST

START_TEST(test_partition_for)
{
    /* Utils.abs(MIN_VALUE) == 0, unlike Math.abs */
    ck_assert_int_eq(brk_offsets_topic_partition_for(B("polygenelubricants"), 50), 0);
    ck_assert_int_eq(brk_offsets_topic_partition_for(B("polygenelubricants"), 7), 0);
    ck_assert_int_eq(brk_offsets_topic_partition_for(B("hello"), 50), 99162322 % 50);
    /* negative hashes: Kafka's answers (jshell: abs(id.hashCode()) % 50).
     * "cl-group".hashCode() == -807377893: Utils.abs gives 43; the old
     * h & 0x7fffffff gave 5. */
    ck_assert_int_eq(brk_offsets_topic_java_hash(B("cl-group")), -807377893);
    ck_assert_int_eq(brk_offsets_topic_partition_for(B("cl-group"), 50), 43);
    ck_assert_int_eq(brk_offsets_topic_partition_for(B("my-group"), 50), 12);
    ck_assert_int_eq(brk_offsets_topic_partition_for(B("kafka-txn-0"), 50), 30);
    ck_assert_int_eq(brk_offsets_topic_partition_for(B("anything"), 1), 0);
}
END_TEST

START_TEST(test_offset_key)
{
    struct buf b;
    buf_init(&b, 0);
    ck_assert_int_eq(brk_offsets_topic_offset_key_encode(&b, B("grp"), B("t1"), 7), 0);
    static const uint8_t want[] = { 0x00, 0x01,                   /* key version 1 */
                                    0x00, 0x03, 'g', 'r', 'p',    /* group */
                                    0x00, 0x02, 't', '1',         /* topic */
                                    0x00, 0x00, 0x00, 0x07 };     /* partition */
    expect_bytes(&b, want, sizeof want);
    struct brk_offsets_topic_key k;
    ck_assert_int_eq(brk_offsets_topic_key_decode(buf_bytes(&b), &k), 0);
    ck_assert_int_eq(k.version, 1);
    ck_assert(bytes_eq(k.group, B("grp")));
    ck_assert(bytes_eq(k.topic, B("t1")));
    ck_assert_int_eq(k.partition, 7);
    /* version 0 (written by Kafka < 0.10) has the same layout */
    uint8_t v0[sizeof want];
    memcpy(v0, want, sizeof want);
    v0[1] = 0;
    ck_assert_int_eq(brk_offsets_topic_key_decode(bytes_make(v0, sizeof v0), &k), 0);
    ck_assert_int_eq(k.version, 0);
    /* every truncation is a decode error, never a crash */
    for (size_t n = 0; n < sizeof want; n++)
        ck_assert_int_eq(brk_offsets_topic_key_decode(bytes_make(want, n), &k), ERR_DECODE);
    buf_deinit(&b);
}
END_TEST

START_TEST(test_group_key)
{
    struct buf b;
    buf_init(&b, 0);
    ck_assert_int_eq(brk_offsets_topic_group_key_encode(&b, B("grp")), 0);
    static const uint8_t want[] = { 0x00, 0x02, 0x00, 0x03, 'g', 'r', 'p' };
    expect_bytes(&b, want, sizeof want);
    struct brk_offsets_topic_key k;
    ck_assert_int_eq(brk_offsets_topic_key_decode(buf_bytes(&b), &k), 0);
    ck_assert_int_eq(k.version, 2);
    ck_assert(bytes_eq(k.group, B("grp")));
    /* KIP-848 records (key version 3+) are not ours to read */
    static const uint8_t v3[] = { 0x00, 0x03, 0x00, 0x01, 'g' };
    ck_assert_int_eq(brk_offsets_topic_key_decode(bytes_make(v3, sizeof v3), &k), ERR_UNSUPPORTED);
    buf_deinit(&b);
}
END_TEST

START_TEST(test_offset_value_v3)
{
    struct buf b;
    buf_init(&b, 0);
    struct brk_offsets_topic_offset v = { .offset = 0x0102030405060708LL, .leader_epoch = 5,
                                          .metadata = B("md"), .commit_timestamp_ms = 1000,
                                          .expire_timestamp_ms = -1 };
    ck_assert_int_eq(brk_offsets_topic_offset_value_encode(&b, &v), 0);
    static const uint8_t want[] = { 0x00, 0x03,                                     /* version 3 */
                                    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* offset */
                                    0x00, 0x00, 0x00, 0x05,                         /* leaderEpoch */
                                    0x00, 0x02, 'm', 'd',                           /* metadata */
                                    0, 0, 0, 0, 0, 0, 0x03, 0xe8 };                 /* commitTimestamp */
    expect_bytes(&b, want, sizeof want);
    struct brk_offsets_topic_offset d;
    ck_assert_int_eq(brk_offsets_topic_offset_value_decode(buf_bytes(&b), &d), 0);
    ck_assert_int_eq(d.offset, v.offset);
    ck_assert_int_eq(d.leader_epoch, 5);
    ck_assert(bytes_eq(d.metadata, B("md")));
    ck_assert_int_eq(d.commit_timestamp_ms, 1000);
    ck_assert_int_eq(d.expire_timestamp_ms, -1);
    for (size_t n = 0; n < sizeof want; n++)
        ck_assert_int_eq(brk_offsets_topic_offset_value_decode(bytes_make(want, n), &d), ERR_DECODE);
    buf_deinit(&b);
}
END_TEST

START_TEST(test_offset_value_v1)
{
    struct buf b;
    buf_init(&b, 0);
    /* a retention time was given: v1 {offset, metadata, commit, expire}, no leader epoch */
    struct brk_offsets_topic_offset v = { .offset = 42, .leader_epoch = 9, .metadata = { NULL, 0 },
                                          .commit_timestamp_ms = 1, .expire_timestamp_ms = 2 };
    ck_assert_int_eq(brk_offsets_topic_offset_value_encode(&b, &v), 0);
    static const uint8_t want[] = { 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 42, 0x00, 0x00,
                                    0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2 };
    expect_bytes(&b, want, sizeof want);
    struct brk_offsets_topic_offset d;
    ck_assert_int_eq(brk_offsets_topic_offset_value_decode(buf_bytes(&b), &d), 0);
    ck_assert_int_eq(d.offset, 42);
    ck_assert_int_eq(d.leader_epoch, -1);
    ck_assert_int_eq(d.expire_timestamp_ms, 2);
    /* v0 = v1 without expireTimestamp */
    uint8_t v0[sizeof want - 8];
    memcpy(v0, want, sizeof v0);
    v0[1] = 0;
    ck_assert_int_eq(brk_offsets_topic_offset_value_decode(bytes_make(v0, sizeof v0), &d), 0);
    ck_assert_int_eq(d.offset, 42);
    ck_assert_int_eq(d.commit_timestamp_ms, 1);
    /* v4 (flexible): compact metadata + empty tag section */
    static const uint8_t v4[] = { 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff,
                                  0x02, 'x', 0, 0, 0, 0, 0, 0, 0, 3, 0x00 };
    ck_assert_int_eq(brk_offsets_topic_offset_value_decode(bytes_make(v4, sizeof v4), &d), 0);
    ck_assert_int_eq(d.offset, 7);
    ck_assert_int_eq(d.leader_epoch, -1);
    ck_assert(bytes_eq(d.metadata, B("x")));
    ck_assert_int_eq(d.commit_timestamp_ms, 3);
    buf_deinit(&b);
}
END_TEST

START_TEST(test_group_value_v3)
{
    struct buf b;
    buf_init(&b, 0);
    struct brk_offsets_topic_member m = { .member_id = B("m1"), .group_instance_id = { NULL, 0 },
                                          .client_id = B("c"), .client_host = B("/h"),
                                          .rebalance_timeout_ms = 300000, .session_timeout_ms = 10000,
                                          .subscription = B("S"), .assignment = B("AB") };
    struct brk_offsets_topic_group g = { .protocol_type = B("consumer"), .generation = 3, .protocol = B("range"),
                                         .leader = B("m1"), .current_state_timestamp_ms = 256,
                                         .member_count = 1, .members = &m };
    ck_assert_int_eq(brk_offsets_topic_group_value_encode(&b, &g), 0);
    static const uint8_t want[] = {
        0x00, 0x03,                                             /* version 3 */
        0x00, 0x08, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r',     /* protocolType */
        0x00, 0x00, 0x00, 0x03,                                 /* generation */
        0x00, 0x05, 'r', 'a', 'n', 'g', 'e',                    /* protocol */
        0x00, 0x02, 'm', '1',                                   /* leader */
        0, 0, 0, 0, 0, 0, 0x01, 0x00,                           /* currentStateTimestamp */
        0x00, 0x00, 0x00, 0x01,                                 /* members: 1 */
        0x00, 0x02, 'm', '1',                                   /* memberId */
        0xff, 0xff,                                             /* groupInstanceId null */
        0x00, 0x01, 'c',                                        /* clientId */
        0x00, 0x02, '/', 'h',                                   /* clientHost */
        0x00, 0x04, 0x93, 0xe0,                                 /* rebalanceTimeout 300000 */
        0x00, 0x00, 0x27, 0x10,                                 /* sessionTimeout 10000 */
        0x00, 0x00, 0x00, 0x01, 'S',                            /* subscription */
        0x00, 0x00, 0x00, 0x02, 'A', 'B',                       /* assignment */
    };
    expect_bytes(&b, want, sizeof want);
    struct arena a;
    arena_init(&a, 4096, 1 << 20);
    struct brk_offsets_topic_group d;
    ck_assert_int_eq(brk_offsets_topic_group_value_decode(buf_bytes(&b), &a, &d), 0);
    ck_assert(bytes_eq(d.protocol_type, B("consumer")));
    ck_assert_int_eq(d.generation, 3);
    ck_assert(bytes_eq(d.protocol, B("range")));
    ck_assert(bytes_eq(d.leader, B("m1")));
    ck_assert_int_eq(d.current_state_timestamp_ms, 256);
    ck_assert_int_eq(d.member_count, 1);
    ck_assert(bytes_eq(d.members[0].member_id, B("m1")));
    ck_assert_ptr_null(d.members[0].group_instance_id.ptr);
    ck_assert_int_eq(d.members[0].rebalance_timeout_ms, 300000);
    ck_assert_int_eq(d.members[0].session_timeout_ms, 10000);
    ck_assert(bytes_eq(d.members[0].assignment, B("AB")));
    for (size_t n = 0; n < sizeof want; n++)
        ck_assert_int_eq(brk_offsets_topic_group_value_decode(bytes_make(want, n), &a, &d), ERR_DECODE);
    /* an empty group (all members left): protocol and leader null, no members */
    buf_reset(&b);
    struct brk_offsets_topic_group e = { .protocol_type = B("consumer"), .generation = 4,
                                         .current_state_timestamp_ms = 1 };
    ck_assert_int_eq(brk_offsets_topic_group_value_encode(&b, &e), 0);
    static const uint8_t want_empty[] = { 0x00, 0x03, 0x00, 0x08, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r',
                                          0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1,
                                          0, 0, 0, 0 };
    expect_bytes(&b, want_empty, sizeof want_empty);
    ck_assert_int_eq(brk_offsets_topic_group_value_decode(buf_bytes(&b), &a, &d), 0);
    ck_assert_ptr_null(d.protocol.ptr);
    ck_assert_ptr_null(d.leader.ptr);
    ck_assert_int_eq(d.member_count, 0);
    arena_deinit(&a);
    buf_deinit(&b);
}
END_TEST

/* decoding every truncation of a valid value fails cleanly */
static void expect_offset_truncations_fail(const uint8_t *v, size_t n)
{
    struct brk_offsets_topic_offset d;
    for (size_t k = 0; k < n; k++)
        ck_assert_int_eq(brk_offsets_topic_offset_value_decode(bytes_make(v, k), &d), ERR_DECODE);
}

START_TEST(test_offset_value_v2_v4_and_unknown)
{
    struct brk_offsets_topic_offset d;
    /* v2 (Kafka 2.0: expireTimestamp gone, no leader epoch yet) = v0's layout */
    static const uint8_t v2[] = { 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x00, /* offset 256 */
                                  0x00, 0x01, 'x',                          /* metadata */
                                  0, 0, 0, 0, 0, 0, 0, 9 };                 /* commitTimestamp */
    ck_assert_int_eq(brk_offsets_topic_offset_value_decode(bytes_make(v2, sizeof v2), &d), 0);
    ck_assert_int_eq(d.offset, 256);
    ck_assert_int_eq(d.leader_epoch, -1);
    ck_assert(bytes_eq(d.metadata, B("x")));
    ck_assert_int_eq(d.commit_timestamp_ms, 9);
    ck_assert_int_eq(d.expire_timestamp_ms, -1);
    expect_offset_truncations_fail(v2, sizeof v2);
    /* v4 carrying a tagged field this reader does not know (tag 7, 2 bytes): skipped */
    static const uint8_t v4[] = { 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 11, /* offset */
                                  0x00, 0x00, 0x00, 0x05,              /* leaderEpoch */
                                  0x03, 'm', 'd',                      /* compact metadata */
                                  0, 0, 0, 0, 0, 0, 0, 12,             /* commitTimestamp */
                                  0x01, 0x07, 0x02, 'a', 'b' };        /* tags: {7: "ab"} */
    ck_assert_int_eq(brk_offsets_topic_offset_value_decode(bytes_make(v4, sizeof v4), &d), 0);
    ck_assert_int_eq(d.offset, 11);
    ck_assert_int_eq(d.leader_epoch, 5);
    ck_assert(bytes_eq(d.metadata, B("md")));
    ck_assert_int_eq(d.commit_timestamp_ms, 12);
    expect_offset_truncations_fail(v4, sizeof v4);
    /* a version newer than Kafka's schema, or negative, is not ours to read */
    uint8_t v5[sizeof v4];
    memcpy(v5, v4, sizeof v4);
    v5[1] = 5;
    ck_assert_int_eq(brk_offsets_topic_offset_value_decode(bytes_make(v5, sizeof v5), &d), ERR_UNSUPPORTED);
    v5[0] = 0xff;
    v5[1] = 0xff;
    ck_assert_int_eq(brk_offsets_topic_offset_value_decode(bytes_make(v5, sizeof v5), &d), ERR_UNSUPPORTED);
}
END_TEST

/* check_group_m - the group every golden GroupMetadataValue below holds */
static void check_group_m(const struct brk_offsets_topic_group *d, int16_t version)
{
    ck_assert(bytes_eq(d->protocol_type, B("consumer")));
    ck_assert_int_eq(d->generation, 1);
    ck_assert(bytes_eq(d->protocol, B("range")));
    ck_assert(bytes_eq(d->leader, B("m")));
    ck_assert_int_eq(d->current_state_timestamp_ms, version >= 2 ? 256 : -1);
    ck_assert_int_eq(d->member_count, 1);
    const struct brk_offsets_topic_member *m = &d->members[0];
    ck_assert(bytes_eq(m->member_id, B("m")));
    if (version >= 4)
        ck_assert(bytes_eq(m->group_instance_id, B("i")));
    else
        ck_assert_ptr_null(m->group_instance_id.ptr);
    ck_assert(bytes_eq(m->client_id, B("c")));
    ck_assert(bytes_eq(m->client_host, B("/h")));
    ck_assert_int_eq(m->rebalance_timeout_ms, version >= 1 ? 300000 : -1);
    ck_assert_int_eq(m->session_timeout_ms, 10000);
    ck_assert(bytes_eq(m->subscription, B("S")));
    ck_assert(bytes_eq(m->assignment, B("A")));
}

static void expect_group_decodes(const uint8_t *v, size_t n, int16_t version)
{
    struct arena a;
    arena_init(&a, 4096, 1 << 20);
    struct brk_offsets_topic_group d;
    ck_assert_int_eq(brk_offsets_topic_group_value_decode(bytes_make(v, n), &a, &d), 0);
    check_group_m(&d, version);
    for (size_t k = 0; k < n; k++)
        ck_assert_int_eq(brk_offsets_topic_group_value_decode(bytes_make(v, k), &a, &d), ERR_DECODE);
    arena_deinit(&a);
}

START_TEST(test_group_value_v0_v1_v2_v4)
{
    /* v0 (Kafka 0.9): no rebalanceTimeout, currentStateTimestamp or groupInstanceId */
    static const uint8_t v0[] = {
        0x00, 0x00, 0x00, 0x08, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r', /* version, protocolType */
        0x00, 0x00, 0x00, 0x01,                                         /* generation */
        0x00, 0x05, 'r', 'a', 'n', 'g', 'e', 0x00, 0x01, 'm',           /* protocol, leader */
        0x00, 0x00, 0x00, 0x01,                                         /* members: 1 */
        0x00, 0x01, 'm', 0x00, 0x01, 'c', 0x00, 0x02, '/', 'h',         /* memberId, clientId, clientHost */
        0x00, 0x00, 0x27, 0x10,                                         /* sessionTimeout */
        0x00, 0x00, 0x00, 0x01, 'S', 0x00, 0x00, 0x00, 0x01, 'A',       /* subscription, assignment */
    };
    expect_group_decodes(v0, sizeof v0, 0);
    /* v1 (Kafka 0.10.1): + rebalanceTimeout before sessionTimeout */
    static const uint8_t v1[] = {
        0x00, 0x01, 0x00, 0x08, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r',
        0x00, 0x00, 0x00, 0x01,
        0x00, 0x05, 'r', 'a', 'n', 'g', 'e', 0x00, 0x01, 'm',
        0x00, 0x00, 0x00, 0x01,
        0x00, 0x01, 'm', 0x00, 0x01, 'c', 0x00, 0x02, '/', 'h',
        0x00, 0x04, 0x93, 0xe0,                                         /* rebalanceTimeout 300000 */
        0x00, 0x00, 0x27, 0x10,
        0x00, 0x00, 0x00, 0x01, 'S', 0x00, 0x00, 0x00, 0x01, 'A',
    };
    expect_group_decodes(v1, sizeof v1, 1);
    /* v2 (Kafka 2.1): + currentStateTimestamp after leader */
    static const uint8_t v2[] = {
        0x00, 0x02, 0x00, 0x08, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r',
        0x00, 0x00, 0x00, 0x01,
        0x00, 0x05, 'r', 'a', 'n', 'g', 'e', 0x00, 0x01, 'm',
        0, 0, 0, 0, 0, 0, 0x01, 0x00,                                   /* currentStateTimestamp 256 */
        0x00, 0x00, 0x00, 0x01,
        0x00, 0x01, 'm', 0x00, 0x01, 'c', 0x00, 0x02, '/', 'h',
        0x00, 0x04, 0x93, 0xe0,
        0x00, 0x00, 0x27, 0x10,
        0x00, 0x00, 0x00, 0x01, 'S', 0x00, 0x00, 0x00, 0x01, 'A',
    };
    expect_group_decodes(v2, sizeof v2, 2);
    /* v4 (flexible): compact strings, bytes and array, a tag section after
     * each member (here an unknown tag 5) and after the value */
    static const uint8_t v4[] = {
        0x00, 0x04, 0x09, 'c', 'o', 'n', 's', 'u', 'm', 'e', 'r',       /* version, protocolType */
        0x00, 0x00, 0x00, 0x01,                                         /* generation */
        0x06, 'r', 'a', 'n', 'g', 'e', 0x02, 'm',                       /* protocol, leader */
        0, 0, 0, 0, 0, 0, 0x01, 0x00,                                   /* currentStateTimestamp */
        0x02,                                                           /* members: 1 */
        0x02, 'm', 0x02, 'i', 0x02, 'c', 0x03, '/', 'h',                /* memberId, groupInstanceId, ... */
        0x00, 0x04, 0x93, 0xe0, 0x00, 0x00, 0x27, 0x10,                 /* rebalance, session timeouts */
        0x02, 'S', 0x02, 'A',                                           /* subscription, assignment */
        0x01, 0x05, 0x01, 'z',                                          /* member tags: {5: "z"} */
        0x00,                                                           /* value tags: none */
    };
    expect_group_decodes(v4, sizeof v4, 4);
    /* v5 is not a version Kafka's schema has */
    uint8_t v5[sizeof v4];
    memcpy(v5, v4, sizeof v4);
    v5[1] = 5;
    struct arena a;
    arena_init(&a, 4096, 1 << 20);
    struct brk_offsets_topic_group d;
    ck_assert_int_eq(brk_offsets_topic_group_value_decode(bytes_make(v5, sizeof v5), &a, &d), ERR_UNSUPPORTED);
    arena_deinit(&a);
}
END_TEST

START_TEST(test_group_value_member_limit)
{
    /* a count past BRK_OFFSETS_TOPIC_MEMBERS_MAX whose members are all there
     * (each the smallest v0 member: 18 bytes) is ERR_LIMIT, not a load */
    int32_t n = BRK_OFFSETS_TOPIC_MEMBERS_MAX + 1;
    static const uint8_t head[] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* "", gen 1 */
                                    0xff, 0xff, 0xff, 0xff };                     /* null, null */
    static const uint8_t member[18] = { 0 }; /* "", "", "", session 0, empty, empty */
    struct buf b;
    buf_init(&b, 0);
    ck_assert_int_eq(buf_append(&b, head, sizeof head), 0);
    uint8_t cnt[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };
    ck_assert_int_eq(buf_append(&b, cnt, sizeof cnt), 0);
    for (int32_t i = 0; i < n; i++)
        ck_assert_int_eq(buf_append(&b, member, sizeof member), 0);
    struct arena a;
    arena_init(&a, 4096, 64u << 20);
    struct brk_offsets_topic_group d;
    ck_assert_int_eq(brk_offsets_topic_group_value_decode(buf_bytes(&b), &a, &d), ERR_LIMIT);
    /* one member fewer loads */
    n--;
    b.ptr[sizeof head + 3] = (uint8_t)n;
    b.len -= sizeof member;
    ck_assert_int_eq(brk_offsets_topic_group_value_decode(buf_bytes(&b), &a, &d), 0);
    ck_assert_int_eq(d.member_count, n);
    arena_deinit(&a);
    buf_deinit(&b);
}
END_TEST

struct seen {
    int count;
    int64_t offsets[8];
    struct brk_offsets_topic_record recs[8];
};

static int seen_cb(void *arg, int64_t offset, const struct brk_offsets_topic_record *rec)
{
    struct seen *s = arg;
    ck_assert_int_lt(s->count, 8);
    s->offsets[s->count] = offset;
    s->recs[s->count++] = *rec;
    return 0;
}

START_TEST(test_batch_round_trip)
{
    struct buf b;
    buf_init(&b, 0);
    struct brk_offsets_topic_record recs[3] = {
        { B("k0"), B("v0") },
        { B("key1"), { NULL, 0 } }, /* tombstone */
        { B("k2"), B("") },
    };
    ck_assert_int_eq(brk_offsets_topic_batch_encode(&b, recs, 3, 1700000000000LL), 0);
    struct brk_batch_hdr h;
    ck_assert_int_eq(brk_batch_parse(b.ptr, b.len, &h), (int)b.len);
    ck_assert(brk_batch_crc_ok(b.ptr, &h));
    ck_assert_int_eq(h.records_count, 3);
    ck_assert_int_eq(h.last_offset_delta, 2);
    ck_assert_int_eq(h.producer_id, -1);
    ck_assert_int_eq(h.attributes, 0);
    ck_assert_int_eq(h.max_timestamp_ms, 1700000000000LL);
    /* the produce validator accepts it, so brk_plog_append will too */
    struct brk_batch_summary sum;
    ck_assert_int_eq(brk_batch_validate_produce(buf_bytes(&b), 1 << 20, &sum), 0);
    /* first record by hand: len=10 (zigzag 0x14) attrs ts=0 delta=0 klen=2 "k0" vlen=2 "v0" headers=0 */
    static const uint8_t rec0[] = { 0x14, 0x00, 0x00, 0x00, 0x04, 'k', '0', 0x04, 'v', '0', 0x00 };
    ck_assert_int_eq(memcmp(b.ptr + BRK_BATCH_HDR_BYTES, rec0, sizeof rec0), 0);
    /* patch the base offset like the log does; decode sees absolute offsets */
    brk_batch_patch(b.ptr, 100, 3);
    struct seen s = { 0 };
    ck_assert_int_eq(brk_offsets_topic_batches_decode(buf_bytes(&b), &s, seen_cb), 0);
    ck_assert_int_eq(s.count, 3);
    ck_assert_int_eq(s.offsets[0], 100);
    ck_assert_int_eq(s.offsets[2], 102);
    ck_assert(bytes_eq(s.recs[1].key, B("key1")));
    ck_assert_ptr_null(s.recs[1].value.ptr);
    ck_assert_ptr_nonnull(s.recs[2].value.ptr);
    ck_assert_uint_eq(s.recs[2].value.len, 0);
    /* a flipped bit is caught by the CRC */
    b.ptr[b.len - 2] ^= 1;
    s.count = 0;
    ck_assert_int_eq(brk_offsets_topic_batches_decode(buf_bytes(&b), &s, seen_cb), ERR_CORRUPT);
    ck_assert_int_eq(s.count, 0);
    buf_deinit(&b);
}
END_TEST

START_TEST(test_batch_bad_records_refused)
{
    struct buf b;
    buf_init(&b, 0);
    struct brk_offsets_topic_record recs[2] = { { B("k0"), B("v0") }, { B("k1"), B("v1") } };
    ck_assert_int_eq(brk_offsets_topic_batch_encode(&b, recs, 2, 5), 0);
    struct seen s = { 0 };
    /* lastOffsetDelta (header offset 23) says 0, the second record says 1 */
    b.ptr[BRK_BATCH_OFF_ATTRIBUTES + 2 + 3] = 0;
    be_put32(b.ptr + BRK_BATCH_OFF_CRC, crc32c(0, b.ptr + 21, b.len - 21));
    ck_assert_int_lt(brk_offsets_topic_batches_decode(buf_bytes(&b), &s, seen_cb), 0);
    /* a record whose length runs past the batch: an error, never an over-read */
    b.ptr[BRK_BATCH_OFF_ATTRIBUTES + 2 + 3] = 1;
    b.ptr[BRK_BATCH_HDR_BYTES] = 0x7e; /* first record's zigzag length: 63 */
    be_put32(b.ptr + BRK_BATCH_OFF_CRC, crc32c(0, b.ptr + 21, b.len - 21));
    s.count = 0;
    ck_assert_int_lt(brk_offsets_topic_batches_decode(buf_bytes(&b), &s, seen_cb), 0);
    ck_assert_int_eq(s.count, 0);
    buf_deinit(&b);
}
END_TEST

START_TEST(test_batch_compressed_refused)
{
    struct buf b;
    buf_init(&b, 0);
    struct brk_offsets_topic_record r = { B("k"), B("v") };
    ck_assert_int_eq(brk_offsets_topic_batch_encode(&b, &r, 1, 5), 0);
    b.ptr[BRK_BATCH_OFF_ATTRIBUTES + 1] = BRK_BATCH_CODEC_GZIP;
    be_put32(b.ptr + BRK_BATCH_OFF_CRC, crc32c(0, b.ptr + 21, b.len - 21));
    struct seen s = { 0 };
    ck_assert_int_eq(brk_offsets_topic_batches_decode(buf_bytes(&b), &s, seen_cb), ERR_UNSUPPORTED);
    buf_deinit(&b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("brk_offsets_topic");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_java_hash);
    tcase_add_test(tc, test_partition_for);
    tcase_add_test(tc, test_offset_key);
    tcase_add_test(tc, test_group_key);
    tcase_add_test(tc, test_offset_value_v3);
    tcase_add_test(tc, test_offset_value_v1);
    tcase_add_test(tc, test_group_value_v3);
    tcase_add_test(tc, test_offset_value_v2_v4_and_unknown);
    tcase_add_test(tc, test_group_value_v0_v1_v2_v4);
    tcase_add_test(tc, test_group_value_member_limit);
    tcase_add_test(tc, test_batch_round_trip);
    tcase_add_test(tc, test_batch_compressed_refused);
    tcase_add_test(tc, test_batch_bad_records_refused);
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
