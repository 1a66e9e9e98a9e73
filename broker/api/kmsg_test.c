/*
 * kmsg_test.c - tests for the generated Kafka codec (build/gen/kmsg.c).
 *
 * 1. Round trips: for every described API, both directions, every version
 *    in range, fill every field present in that version with a non-default
 *    value (generated helpers in kmsg_selftest.inc), encode, decode, compare
 *    the WHOLE struct (absent fields must come back as declared defaults),
 *    and re-encode to the same bytes.
 * 2. Golden bytes written by hand from the Kafka protocol spec, independent
 *    of the generator, so a bug symmetric in encode and decode is caught:
 *    ApiVersions v0/v3 (request and response), Metadata v1, Produce v3 and
 *    Fetch v4 requests, Fetch v12/v13/v15 requests and v12/v16 responses
 *    (tagged fields and tagged structs), OffsetForLeaderEpoch v0/v3/v4,
 *    request/response headers.
 * 3. Hostile input: every truncation of every valid encoding fails, huge
 *    array counts fail before allocating beyond the frame, random byte
 *    flips never crash (run under `make asan`).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/kwire.h"
#include "common/log.h"
#include "kmsg.h"

#include "kmsg_selftest.inc"

#define ARENA_CHUNK_BYTES 4096
#define ARENA_BYTES_MAX (1u << 20)

struct fixture {
    struct arena a;
    struct buf b;
    struct buf b2;
    void *m;
    void *d;
};

static void fx_init(struct fixture *fx, size_t size)
{
    arena_init(&fx->a, ARENA_CHUNK_BYTES, ARENA_BYTES_MAX);
    buf_init(&fx->b, 0);
    buf_init(&fx->b2, 0);
    fx->m = calloc(1, size);
    fx->d = calloc(1, size);
    ck_assert_ptr_nonnull(fx->m);
    ck_assert_ptr_nonnull(fx->d);
}

static void fx_deinit(struct fixture *fx)
{
    free(fx->m);
    free(fx->d);
    buf_deinit(&fx->b);
    buf_deinit(&fx->b2);
    arena_deinit(&fx->a);
}

static struct kwire_reader rd(const void *p, size_t n)
{
    struct kwire_reader r;
    kwire_reader_init(&r, bytes_make(p, n));
    return r;
}

/* Encodes case c at version v filled with seed into fx->b. */
static void encode_filled(struct fixture *fx, const struct st_case *c, int16_t v, int seed)
{
    c->init(fx->m);
    c->fill(fx->m, v, &fx->a, seed);
    buf_reset(&fx->b);
    ck_assert_int_eq(c->enc(&fx->b, v, fx->m), 0);
}

/* ---------------------------------------------------------------- round trips */

START_TEST(test_roundtrip_all_versions)
{
    int checked = 0;
    for (int ci = 0; ci < ST_CASE_COUNT; ci++) {
        const struct st_case *c = &st_cases[ci];
        for (int16_t v = c->min_version; v <= c->max_version; v++) {
            for (int seed = 1; seed <= 3; seed++) {
                struct fixture fx;
                fx_init(&fx, c->size);
                encode_filled(&fx, c, v, seed);
                struct kwire_reader r = rd(fx.b.ptr, fx.b.len);
                int rc = c->dec(&r, v, &fx.a, fx.d);
                if (rc != 0 || kwire_remaining(&r) != 0 || !c->eq(fx.m, fx.d))
                    ck_abort_msg("%s v%d seed %d: rc=%d remaining=%zu", c->name, v, seed, rc,
                                 kwire_remaining(&r));
                ck_assert_int_eq(c->enc(&fx.b2, v, fx.d), 0);
                ck_assert_uint_eq(fx.b2.len, fx.b.len);
                ck_assert(fx.b.len == 0 || memcmp(fx.b2.ptr, fx.b.ptr, fx.b.len) == 0);
                fx_deinit(&fx);
                checked++;
            }
        }
    }
    ck_assert_int_gt(checked, 100);
}
END_TEST

START_TEST(test_init_only_roundtrip)
{
    /* A struct straight from _init encodes and decodes back to itself. */
    for (int ci = 0; ci < ST_CASE_COUNT; ci++) {
        const struct st_case *c = &st_cases[ci];
        for (int16_t v = c->min_version; v <= c->max_version; v++) {
            struct fixture fx;
            fx_init(&fx, c->size);
            c->init(fx.m);
            ck_assert_int_eq(c->enc(&fx.b, v, fx.m), 0);
            struct kwire_reader r = rd(fx.b.ptr, fx.b.len);
            ck_assert_int_eq(c->dec(&r, v, &fx.a, fx.d), 0);
            if (!c->eq(fx.m, fx.d))
                ck_abort_msg("%s v%d: init struct does not round-trip", c->name, v);
            fx_deinit(&fx);
        }
    }
}
END_TEST

START_TEST(test_version_out_of_range)
{
    for (int ci = 0; ci < ST_CASE_COUNT; ci++) {
        const struct st_case *c = &st_cases[ci];
        struct fixture fx;
        fx_init(&fx, c->size);
        c->init(fx.m);
        static const uint8_t zeros[64];
        struct kwire_reader r = rd(zeros, sizeof(zeros));
        ck_assert_int_eq(c->dec(&r, (int16_t)(c->max_version + 1), &fx.a, fx.d), ERR_UNSUPPORTED);
        ck_assert_int_eq(c->enc(&fx.b, (int16_t)(c->max_version + 1), fx.m), ERR_UNSUPPORTED);
        ck_assert_int_eq(c->enc(&fx.b, -1, fx.m), ERR_UNSUPPORTED);
        if (c->min_version > 0)
            ck_assert_int_eq(c->dec(&r, (int16_t)(c->min_version - 1), &fx.a, fx.d), ERR_UNSUPPORTED);
        ck_assert_uint_eq(fx.b.len, 0);
        fx_deinit(&fx);
    }
}
END_TEST

/* ---------------------------------------------------------------- table */

START_TEST(test_api_table)
{
    static const struct { int16_t key, min, max, flex; } want[] = {
        { 0, 0, 8, INT16_MAX },   { 1, 0, 17, 12 },        { 2, 0, 7, 6 },
        { 3, 0, 8, INT16_MAX },   { 8, 2, 9, 8 },  { 9, 1, 7, 6 },
        { 10, 0, 4, 3 },          { 11, 0, 9, 6 },         { 12, 0, 4, 4 },
        { 13, 0, 5, 4 },          { 14, 0, 5, 4 },         { 15, 0, 5, 5 },
        { 16, 0, 4, 3 },          { 18, 0, 3, 3 },         { 19, 0, 4, INT16_MAX },
        { 20, 0, 3, INT16_MAX },  { 21, 0, 1, INT16_MAX }, { 22, 0, 4, 2 },         { 23, 0, 4, 4 },
        { 32, 0, 3, INT16_MAX },  { 33, 0, 1, INT16_MAX }, { 35, 0, 4, 2 },         { 37, 0, 1, INT16_MAX },
        { 42, 0, 1, INT16_MAX },  { 43, 0, 2, 2 },         { 44, 0, 1, 1 },         { 45, 0, 0, 0 },
        { 46, 0, 0, 0 },          { 47, 0, 0, INT16_MAX }, { 48, 0, 1, 1 },         { 49, 0, 1, 1 },
        { 55, 0, 1, 0 },
        { 60, 0, 0, 0 },          { 75, 0, 0, 0 },
    };
    int n = (int)(sizeof(want) / sizeof(want[0]));
    ck_assert_int_eq(kmsg_api_table_count, n);
    for (int i = 0; i < n; i++) {
        const struct kmsg_api_info *info = kmsg_api_find(want[i].key);
        ck_assert_ptr_nonnull(info);
        ck_assert_ptr_eq(info, &kmsg_api_table[i]); /* sorted by key */
        ck_assert_int_eq(info->min_version, want[i].min);
        ck_assert_int_eq(info->max_version, want[i].max);
        ck_assert_int_eq(info->flexible_min_version, want[i].flex);
        ck_assert_ptr_nonnull(info->name);
    }
    ck_assert_ptr_null(kmsg_api_find(17));
    ck_assert_ptr_null(kmsg_api_find(-1));
    ck_assert_int_eq(KMSG_API_PRODUCE, 0);
    ck_assert_int_eq(KMSG_API_API_VERSIONS, 18);
    ck_assert_int_eq(KMSG_API_INCREMENTAL_ALTER_CONFIGS, 44);
    ck_assert_int_eq(KMSG_API_DESCRIBE_CLUSTER, 60);
    ck_assert(kmsg_api_is_flexible(KMSG_API_API_VERSIONS, 3));
    ck_assert(!kmsg_api_is_flexible(KMSG_API_API_VERSIONS, 2));
    ck_assert(!kmsg_api_is_flexible(KMSG_API_FETCH, 11));
    ck_assert(kmsg_api_is_flexible(KMSG_API_FETCH, 12));
    ck_assert(kmsg_api_is_flexible(KMSG_API_OFFSET_FOR_LEADER_EPOCH, 4));
    ck_assert(!kmsg_api_is_flexible(KMSG_API_OFFSET_FOR_LEADER_EPOCH, 3));
    ck_assert(!kmsg_api_is_flexible(99, 0));
}
END_TEST

/* ---------------------------------------------------------------- headers */

START_TEST(test_req_header_golden)
{
    struct kmsg_req_header h;
    /* ApiVersions v0, header v1: key, version, correlation id, client_id "c" */
    static const uint8_t v0[] = { 0x00, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x01, 'c' };
    struct kwire_reader r = rd(v0, sizeof(v0));
    ck_assert_int_eq(kmsg_req_header_decode(&r, &h), 0);
    ck_assert_int_eq(h.api_key, 18);
    ck_assert_int_eq(h.api_version, 0);
    ck_assert_int_eq(h.correlation_id, 7);
    ck_assert(bytes_eq_cstr(h.client_id, "c"));
    ck_assert_uint_eq(kwire_remaining(&r), 0);

    /* ApiVersions v3, header v2: client_id stays int16-length, then tags (one unknown) */
    static const uint8_t v3[] = { 0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02,
                                  'r', 'k', 0x01, 0x05, 0x01, 0xee, 0x99 };
    r = rd(v3, sizeof(v3));
    ck_assert_int_eq(kmsg_req_header_decode(&r, &h), 0);
    ck_assert_int_eq(h.api_version, 3);
    ck_assert(bytes_eq_cstr(h.client_id, "rk"));
    ck_assert_uint_eq(kwire_remaining(&r), 1);

    /* null client_id */
    static const uint8_t nul[] = { 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0xff, 0xff };
    r = rd(nul, sizeof(nul));
    ck_assert_int_eq(kmsg_req_header_decode(&r, &h), 0);
    ck_assert_ptr_null(h.client_id.ptr);

    /* unknown key: the three fields are still set */
    static const uint8_t unk[] = { 0x00, 0x63, 0x00, 0x02, 0x00, 0x00, 0x01, 0x00 };
    r = rd(unk, sizeof(unk));
    ck_assert_int_eq(kmsg_req_header_decode(&r, &h), ERR_UNSUPPORTED);
    ck_assert_int_eq(h.api_key, 99);
    ck_assert_int_eq(h.api_version, 2);
    ck_assert_int_eq(h.correlation_id, 256);

    /* ApiVersions v4 (newer than we describe) */
    static const uint8_t av4[] = { 0x00, 0x12, 0x00, 0x04, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00 };
    r = rd(av4, sizeof(av4));
    ck_assert_int_eq(kmsg_req_header_decode(&r, &h), ERR_UNSUPPORTED);
    ck_assert_int_eq(h.api_key, 18);
    ck_assert_int_eq(h.api_version, 4);
    ck_assert_int_eq(h.correlation_id, 9);

    /* OffsetCommit v1 is below our minimum (2) */
    static const uint8_t oc1[] = { 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff };
    r = rd(oc1, sizeof(oc1));
    ck_assert_int_eq(kmsg_req_header_decode(&r, &h), ERR_UNSUPPORTED);

    /* every truncation of the v3 header fails */
    for (size_t n = 0; n < sizeof(v3) - 1; n++) {
        r = rd(v3, n);
        ck_assert_int_eq(kmsg_req_header_decode(&r, &h), ERR_DECODE);
    }
}
END_TEST

START_TEST(test_resp_header_golden)
{
    struct buf b;
    buf_init(&b, 0);
    /* ApiVersions: always header v0, even at v3 */
    ck_assert_int_eq(kmsg_resp_header_encode(&b, KMSG_API_API_VERSIONS, 3, 0x01020304), 0);
    ck_assert_uint_eq(b.len, 4);
    ck_assert_int_eq(memcmp(b.ptr, "\x01\x02\x03\x04", 4), 0);
    buf_reset(&b);
    /* a flexible version of another API: header v1 adds an empty tag section */
    ck_assert_int_eq(kmsg_resp_header_encode(&b, KMSG_API_INCREMENTAL_ALTER_CONFIGS, 1, 5), 0);
    ck_assert_uint_eq(b.len, 5);
    ck_assert_int_eq(memcmp(b.ptr, "\x00\x00\x00\x05\x00", 5), 0);
    buf_reset(&b);
    ck_assert_int_eq(kmsg_resp_header_encode(&b, KMSG_API_INCREMENTAL_ALTER_CONFIGS, 0, 5), 0);
    ck_assert_uint_eq(b.len, 4);
    buf_reset(&b);
    ck_assert_int_eq(kmsg_resp_header_encode(&b, KMSG_API_METADATA, 8, 5), 0);
    ck_assert_uint_eq(b.len, 4);
    buf_deinit(&b);
}
END_TEST

/* ---------------------------------------------------------------- golden bodies */

static void expect_bytes(const struct buf *b, const uint8_t *want, size_t n)
{
    ck_assert_uint_eq(b->len, n);
    for (size_t i = 0; i < n; i++) {
        if (b->ptr[i] != want[i])
            ck_abort_msg("byte %zu: got 0x%02x want 0x%02x", i, b->ptr[i], want[i]);
    }
}

START_TEST(test_api_versions_golden)
{
    struct arena a;
    arena_init(&a, ARENA_CHUNK_BYTES, ARENA_BYTES_MAX);
    struct buf b;
    buf_init(&b, 0);

    /* v0 request: empty body */
    struct kmsg_api_versions_req req;
    struct kwire_reader r = rd(NULL, 0);
    ck_assert_int_eq(kmsg_api_versions_req_decode(&r, 0, &a, &req), 0);
    ck_assert_int_eq(kmsg_api_versions_req_encode(&b, 0, &req), 0);
    ck_assert_uint_eq(b.len, 0);

    /* v3 request: compact strings + empty tags */
    static const uint8_t req3[] = { 0x0b, 'l', 'i', 'b', 'r', 'd', 'k', 'a', 'f', 'k', 'a',
                                    0x06, '2', '.', '0', '.', '2', 0x00 };
    r = rd(req3, sizeof(req3));
    ck_assert_int_eq(kmsg_api_versions_req_decode(&r, 3, &a, &req), 0);
    ck_assert(bytes_eq_cstr(req.client_software_name, "librdkafka"));
    ck_assert(bytes_eq_cstr(req.client_software_version, "2.0.2"));
    ck_assert_uint_eq(kwire_remaining(&r), 0);
    ck_assert_int_eq(kmsg_api_versions_req_encode(&b, 3, &req), 0);
    expect_bytes(&b, req3, sizeof(req3));
    buf_reset(&b);

    /* v3 request with an unknown tagged field: skipped */
    static const uint8_t req3t[] = { 0x02, 'x', 0x02, 'y', 0x01, 0x07, 0x02, 0xaa, 0xbb };
    r = rd(req3t, sizeof(req3t));
    ck_assert_int_eq(kmsg_api_versions_req_decode(&r, 3, &a, &req), 0);
    ck_assert(bytes_eq_cstr(req.client_software_version, "y"));
    ck_assert_uint_eq(kwire_remaining(&r), 0);

    /* v0 response */
    struct kmsg_api_versions_resp_api_key keys[2];
    struct kmsg_api_versions_resp resp;
    kmsg_api_versions_resp_init(&resp);
    kmsg_api_versions_resp_api_key_init(&keys[0]);
    kmsg_api_versions_resp_api_key_init(&keys[1]);
    keys[0].api_key = 0;
    keys[0].max_version = 8;
    keys[1].api_key = 18;
    keys[1].max_version = 3;
    resp.api_keys = keys;
    resp.api_keys_count = 2;
    resp.throttle_time_ms = 0x11; /* absent in v0: dropped */
    static const uint8_t resp0[] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
                                     0x00, 0x08, 0x00, 0x12, 0x00, 0x00, 0x00, 0x03 };
    ck_assert_int_eq(kmsg_api_versions_resp_encode(&b, 0, &resp), 0);
    expect_bytes(&b, resp0, sizeof(resp0));
    buf_reset(&b);

    /* v3 response: compact array, per-entry tags, throttle, tag 1 (epoch) set */
    resp.finalized_features_epoch = 5;
    static const uint8_t resp3[] = { 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00,
                                     0x00, 0x12, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
                                     0x11, 0x01, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                     0x00, 0x05 };
    ck_assert_int_eq(kmsg_api_versions_resp_encode(&b, 3, &resp), 0);
    expect_bytes(&b, resp3, sizeof(resp3));
    struct kmsg_api_versions_resp back;
    r = rd(resp3, sizeof(resp3));
    ck_assert_int_eq(kmsg_api_versions_resp_decode(&r, 3, &a, &back), 0);
    ck_assert_int_eq(back.api_keys_count, 2);
    ck_assert_int_eq(back.api_keys[1].api_key, 18);
    ck_assert_int_eq(back.api_keys[1].max_version, 3);
    ck_assert_int_eq(back.throttle_time_ms, 0x11);
    ck_assert(back.finalized_features_epoch == 5);
    ck_assert_int_eq(back.supported_features_count, 0);

    /* the v0 error-35 answer to an unsupported ApiVersions version */
    kmsg_api_versions_resp_init(&resp);
    resp.error_code = 35;
    buf_reset(&b);
    ck_assert_int_eq(kmsg_api_versions_resp_encode(&b, 0, &resp), 0);
    static const uint8_t err35[] = { 0x00, 0x23, 0x00, 0x00, 0x00, 0x00 };
    expect_bytes(&b, err35, sizeof(err35));

    buf_deinit(&b);
    arena_deinit(&a);
}
END_TEST

/* FindCoordinator v4 (KIP-699): a batch of keys in, one coordinator per key
 * out; bytes written from FindCoordinatorRequest/Response.json. */
START_TEST(test_find_coordinator_v4_golden)
{
    struct arena a;
    arena_init(&a, ARENA_CHUNK_BYTES, ARENA_BYTES_MAX);
    struct buf b;
    buf_init(&b, 0);
    /* key_type 0, coordinator_keys ["g1", "g2"], no tags */
    static const uint8_t req4[] = { 0x00, 0x03, 0x03, 'g', '1', 0x03, 'g', '2', 0x00 };
    struct kmsg_find_coordinator_req req;
    struct kwire_reader r = rd(req4, sizeof(req4));
    ck_assert_int_eq(kmsg_find_coordinator_req_decode(&r, 4, &a, &req), 0);
    ck_assert_uint_eq(kwire_remaining(&r), 0);
    ck_assert_int_eq(req.key_type, 0);
    ck_assert_int_eq(req.coordinator_keys_count, 2);
    ck_assert(bytes_eq_cstr(req.coordinator_keys[1], "g2"));
    /* v3: the single key, compact */
    static const uint8_t req3[] = { 0x03, 'g', '1', 0x01, 0x00 };
    r = rd(req3, sizeof(req3));
    ck_assert_int_eq(kmsg_find_coordinator_req_decode(&r, 3, &a, &req), 0);
    ck_assert(bytes_eq_cstr(req.key, "g1"));
    ck_assert_int_eq(req.key_type, 1);

    struct kmsg_find_coordinator_resp resp;
    kmsg_find_coordinator_resp_init(&resp);
    struct kmsg_find_coordinator_resp_coordinator c[1];
    kmsg_find_coordinator_resp_coordinator_init(&c[0]);
    c[0].key = bytes_cstr("g1");
    c[0].node_id = 2;
    c[0].host = bytes_cstr("h");
    c[0].port = 9092;
    c[0].error_code = 0;
    c[0].error_message = (struct bytes){ NULL, 0 };
    resp.coordinators = c;
    resp.coordinators_count = 1;
    static const uint8_t resp4[] = { 0x00, 0x00, 0x00, 0x00,             /* throttle */
                                     0x02,                               /* 1 coordinator */
                                     0x03, 'g', '1', 0x00, 0x00, 0x00, 0x02, /* key, node 2 */
                                     0x02, 'h', 0x00, 0x00, 0x23, 0x84,  /* host, port 9092 */
                                     0x00, 0x00, 0x00,                   /* error 0, null message */
                                     0x00, 0x00 };                       /* tags */
    ck_assert_int_eq(kmsg_find_coordinator_resp_encode(&b, 4, &resp), 0);
    expect_bytes(&b, resp4, sizeof(resp4));
    buf_deinit(&b);
    arena_deinit(&a);
}
END_TEST

START_TEST(test_metadata_v1_golden)
{
    struct arena a;
    arena_init(&a, ARENA_CHUNK_BYTES, ARENA_BYTES_MAX);
    struct buf b;
    buf_init(&b, 0);
    static const uint8_t req1[] = { 0x00, 0x00, 0x00, 0x02, 0x00, 0x03, 'f', 'o', 'o',
                                    0x00, 0x01, 'b' };
    struct kmsg_metadata_req req;
    struct kwire_reader r = rd(req1, sizeof(req1));
    ck_assert_int_eq(kmsg_metadata_req_decode(&r, 1, &a, &req), 0);
    ck_assert_int_eq(req.topics_count, 2);
    ck_assert(bytes_eq_cstr(req.topics[0].name, "foo"));
    ck_assert(bytes_eq_cstr(req.topics[1].name, "b"));
    ck_assert(req.allow_auto_topic_creation); /* default for v<4 */
    ck_assert_int_eq(kmsg_metadata_req_encode(&b, 1, &req), 0);
    expect_bytes(&b, req1, sizeof(req1));

    /* null topics = all topics, allowed from v1 */
    static const uint8_t all[] = { 0xff, 0xff, 0xff, 0xff };
    r = rd(all, sizeof(all));
    ck_assert_int_eq(kmsg_metadata_req_decode(&r, 1, &a, &req), 0);
    ck_assert_int_eq(req.topics_count, -1);
    /* ... but not in v0 */
    r = rd(all, sizeof(all));
    ck_assert_int_eq(kmsg_metadata_req_decode(&r, 0, &a, &req), ERR_DECODE);

    /* v1 response: brokers (node, host, port, rack), controller, topics */
    struct kmsg_metadata_resp resp;
    struct kmsg_metadata_resp_broker br;
    struct kmsg_metadata_resp_topic tp;
    struct kmsg_metadata_resp_partition pt;
    int32_t replicas[1] = { 1 };
    kmsg_metadata_resp_init(&resp);
    kmsg_metadata_resp_broker_init(&br);
    kmsg_metadata_resp_topic_init(&tp);
    kmsg_metadata_resp_partition_init(&pt);
    br.node_id = 1;
    br.host = bytes_cstr("h");
    br.port = 9092;
    resp.brokers = &br;
    resp.brokers_count = 1;
    resp.controller_id = 1;
    tp.name = bytes_cstr("t");
    tp.partitions = &pt;
    tp.partitions_count = 1;
    pt.leader_id = 1;
    pt.replica_nodes = replicas;
    pt.replica_nodes_count = 1;
    pt.isr_nodes = replicas;
    pt.isr_nodes_count = 1;
    resp.topics = &tp;
    resp.topics_count = 1;
    static const uint8_t resp1[] = {
        0x00, 0x00, 0x00, 0x01,                         /* brokers */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 'h',        /* node 1, "h" */
        0x00, 0x00, 0x23, 0x84, 0xff, 0xff,             /* 9092, rack null */
        0x00, 0x00, 0x00, 0x01,                         /* controller 1 */
        0x00, 0x00, 0x00, 0x01,                         /* topics */
        0x00, 0x00, 0x00, 0x01, 't', 0x00,              /* err 0, "t", internal false */
        0x00, 0x00, 0x00, 0x01,                         /* partitions */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* err, index 0, leader 1 */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, /* replicas [1] */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, /* isr [1] */
    };
    buf_reset(&b);
    ck_assert_int_eq(kmsg_metadata_resp_encode(&b, 1, &resp), 0);
    expect_bytes(&b, resp1, sizeof(resp1));
    buf_deinit(&b);
    arena_deinit(&a);
}
END_TEST

START_TEST(test_produce_v3_golden)
{
    struct arena a;
    arena_init(&a, ARENA_CHUNK_BYTES, ARENA_BYTES_MAX);
    struct buf b;
    buf_init(&b, 0);
    static const uint8_t req3[] = {
        0xff, 0xff,                   /* transactional_id null */
        0xff, 0xff,                   /* acks -1 */
        0x00, 0x00, 0x75, 0x30,       /* timeout 30000 */
        0x00, 0x00, 0x00, 0x01,       /* 1 topic */
        0x00, 0x01, 't',              /* name */
        0x00, 0x00, 0x00, 0x01,       /* 1 partition */
        0x00, 0x00, 0x00, 0x02,       /* index 2 */
        0x00, 0x00, 0x00, 0x03, 'a', 'b', 'c', /* records */
    };
    struct kmsg_produce_req req;
    struct kwire_reader r = rd(req3, sizeof(req3));
    ck_assert_int_eq(kmsg_produce_req_decode(&r, 3, &a, &req), 0);
    ck_assert_ptr_null(req.transactional_id.ptr);
    ck_assert_int_eq(req.acks, -1);
    ck_assert_int_eq(req.timeout_ms, 30000);
    ck_assert_int_eq(req.topics_count, 1);
    ck_assert(bytes_eq_cstr(req.topics[0].name, "t"));
    ck_assert_int_eq(req.topics[0].partitions_count, 1);
    ck_assert_int_eq(req.topics[0].partitions[0].index, 2);
    ck_assert(bytes_eq_cstr(req.topics[0].partitions[0].records, "abc"));
    ck_assert_ptr_eq(req.topics[0].partitions[0].records.ptr, req3 + sizeof(req3) - 3);
    ck_assert_int_eq(kmsg_produce_req_encode(&b, 3, &req), 0);
    expect_bytes(&b, req3, sizeof(req3));

    /* null topic name is not allowed */
    static const uint8_t badname[] = { 0xff, 0xff, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
                                       0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00 };
    r = rd(badname, sizeof(badname));
    ck_assert_int_eq(kmsg_produce_req_decode(&r, 3, &a, &req), ERR_DECODE);

    /* v3 response: topic, partition{index, error, base_offset, log_append_time}, throttle */
    struct kmsg_produce_resp resp;
    struct kmsg_produce_resp_topic t;
    struct kmsg_produce_resp_partition p;
    kmsg_produce_resp_init(&resp);
    kmsg_produce_resp_topic_init(&t);
    kmsg_produce_resp_partition_init(&p);
    ck_assert(p.log_append_time_ms == -1);
    ck_assert(p.log_start_offset == -1);
    p.index = 2;
    p.base_offset = 7;
    t.name = bytes_cstr("t");
    t.partition_responses = &p;
    t.partition_responses_count = 1;
    resp.responses = &t;
    resp.responses_count = 1;
    static const uint8_t resp3[] = {
        0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't', 0x00, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0x00, 0x00, 0x00, 0x00,
    };
    buf_reset(&b);
    ck_assert_int_eq(kmsg_produce_resp_encode(&b, 3, &resp), 0);
    expect_bytes(&b, resp3, sizeof(resp3));
    buf_deinit(&b);
    arena_deinit(&a);
}
END_TEST

START_TEST(test_fetch_v4_golden)
{
    struct arena a;
    arena_init(&a, ARENA_CHUNK_BYTES, ARENA_BYTES_MAX);
    struct buf b;
    buf_init(&b, 0);
    static const uint8_t req4[] = {
        0xff, 0xff, 0xff, 0xff,                         /* replica_id -1 */
        0x00, 0x00, 0x01, 0xf4,                         /* max_wait 500 */
        0x00, 0x00, 0x00, 0x01,                         /* min_bytes 1 */
        0x03, 0x20, 0x00, 0x00,                         /* max_bytes 52428800 */
        0x01,                                           /* read_committed */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',        /* topics ["t"] */
        0x00, 0x00, 0x00, 0x01,                         /* 1 partition */
        0x00, 0x00, 0x00, 0x02,                         /* partition 2 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, /* fetch_offset 10 */
        0x00, 0x10, 0x00, 0x00,                         /* partition_max_bytes 1 MiB */
    };
    struct kmsg_fetch_req req;
    struct kwire_reader r = rd(req4, sizeof(req4));
    ck_assert_int_eq(kmsg_fetch_req_decode(&r, 4, &a, &req), 0);
    ck_assert_int_eq(req.replica_id, -1);
    ck_assert_int_eq(req.max_wait_ms, 500);
    ck_assert_int_eq(req.min_bytes, 1);
    ck_assert_int_eq(req.max_bytes, 52428800);
    ck_assert_int_eq(req.isolation_level, 1);
    ck_assert_int_eq(req.session_id, 0);
    ck_assert_int_eq(req.session_epoch, -1);
    ck_assert_int_eq(req.forgotten_topics_data_count, 0);
    ck_assert(bytes_eq_cstr(req.rack_id, ""));
    ck_assert_int_eq(req.topics_count, 1);
    ck_assert(bytes_eq_cstr(req.topics[0].topic, "t"));
    const struct kmsg_fetch_req_partition *p = &req.topics[0].partitions[0];
    ck_assert_int_eq(p->partition, 2);
    ck_assert(p->fetch_offset == 10);
    ck_assert_int_eq(p->partition_max_bytes, 1 << 20);
    ck_assert_int_eq(p->current_leader_epoch, -1);
    ck_assert(p->log_start_offset == -1);
    ck_assert_uint_eq(kwire_remaining(&r), 0);
    ck_assert_int_eq(kmsg_fetch_req_encode(&b, 4, &req), 0);
    expect_bytes(&b, req4, sizeof(req4));

    /* declared defaults (what an older version decodes to) */
    struct kmsg_fetch_req r0;
    kmsg_fetch_req_init(&r0);
    ck_assert_int_eq(r0.max_bytes, 0x7fffffff);
    ck_assert_int_eq(r0.isolation_level, 0);
    ck_assert_int_eq(r0.replica_id, -1);

    /* v4 response: throttle, topic, partition{idx, err, hw, lso, aborted(null), records} */
    struct kmsg_fetch_resp resp;
    struct kmsg_fetch_resp_topic t;
    struct kmsg_fetch_resp_partition rp;
    kmsg_fetch_resp_init(&resp);
    kmsg_fetch_resp_topic_init(&t);
    kmsg_fetch_resp_partition_init(&rp);
    rp.partition_index = 2;
    rp.high_watermark = 11;
    rp.last_stable_offset = 11;
    rp.aborted_transactions_count = -1;
    rp.records = bytes_cstr("xy");
    t.topic = bytes_cstr("t");
    t.partitions = &rp;
    t.partitions_count = 1;
    resp.responses = &t;
    resp.responses_count = 1;
    static const uint8_t resp4[] = {
        0x00, 0x00, 0x00, 0x00,                                           /* throttle */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't', 0x00, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x02, 0x00, 0x00,                               /* idx, err */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b,                   /* hw */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b,                   /* lso */
        0xff, 0xff, 0xff, 0xff,                                           /* aborted null */
        0x00, 0x00, 0x00, 0x02, 'x', 'y',
    };
    buf_reset(&b);
    ck_assert_int_eq(kmsg_fetch_resp_encode(&b, 4, &resp), 0);
    expect_bytes(&b, resp4, sizeof(resp4));
    buf_deinit(&b);
    arena_deinit(&a);
}
END_TEST

/* ---------------------------------------------------------------- hostile input */

/*
 * golden - decode hand-written bytes p[0..n) as case `name` at version v
 * into out (which the caller then checks field by field), require that every
 * byte was used, and re-encode to exactly the same bytes.
 */
static void golden(const char *name, int16_t v, const uint8_t *p, size_t n, struct arena *a, void *out)
{
    const struct st_case *c = NULL;
    for (int ci = 0; ci < ST_CASE_COUNT; ci++)
        if (strcmp(st_cases[ci].name, name) == 0)
            c = &st_cases[ci];
    ck_assert_ptr_nonnull(c);
    struct kwire_reader r = rd(p, n);
    int rc = c->dec(&r, v, a, out);
    if (rc != 0 || kwire_remaining(&r) != 0)
        ck_abort_msg("%s v%d: rc=%d remaining=%zu", name, v, rc, kwire_remaining(&r));
    struct buf b;
    buf_init(&b, 0);
    ck_assert_int_eq(c->enc(&b, v, out), 0);
    expect_bytes(&b, p, n);
    buf_deinit(&b);
}

/* Fetch v12 (first flexible): last_fetched_epoch, cluster_id as tag 0 */
START_TEST(test_fetch_v12_request_golden)
{
    struct arena a;
    arena_init(&a, ARENA_CHUNK_BYTES, ARENA_BYTES_MAX);
    static const uint8_t req12[] = {
        0x00, 0x00, 0x00, 0x02,                         /* replica_id 2 (a follower) */
        0x00, 0x00, 0x01, 0xf4,                         /* max_wait 500 */
        0x00, 0x00, 0x00, 0x01,                         /* min_bytes 1 */
        0x00, 0x10, 0x00, 0x00,                         /* max_bytes 1 MiB */
        0x00,                                           /* isolation_level */
        0x00, 0x00, 0x00, 0x00,                         /* session_id 0 */
        0xff, 0xff, 0xff, 0xff,                         /* session_epoch -1 */
        0x02, 0x02, 't',                                /* topics: 1, compact "t" */
        0x02,                                           /* partitions: 1 */
        0x00, 0x00, 0x00, 0x00,                         /* partition 0 */
        0x00, 0x00, 0x00, 0x05,                         /* current_leader_epoch 5 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, /* fetch_offset 100 */
        0x00, 0x00, 0x00, 0x04,                         /* last_fetched_epoch 4 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* log_start_offset 0 */
        0x00, 0x10, 0x00, 0x00,                         /* partition_max_bytes */
        0x00, 0x00,                                     /* partition, topic tags */
        0x01,                                           /* forgotten_topics_data: 0 */
        0x01,                                           /* rack_id "" */
        0x01, 0x00, 0x04, 0x04, 'a', 'b', 'c',          /* tags: {0: cluster_id "abc"} */
    };
    struct kmsg_fetch_req m;
    golden("kmsg_fetch_req", 12, req12, sizeof(req12), &a, &m);
    ck_assert_int_eq(m.replica_id, 2);
    ck_assert_int_eq(m.max_bytes, 1 << 20);
    ck_assert(bytes_eq_cstr(m.cluster_id, "abc"));
    ck_assert_int_eq(m.replica_state.replica_id, -1); /* v15+ only */
    ck_assert_int_eq(m.topics_count, 1);
    ck_assert(bytes_eq_cstr(m.topics[0].topic, "t"));
    const struct kmsg_fetch_req_partition *p = &m.topics[0].partitions[0];
    ck_assert_int_eq(p->current_leader_epoch, 5);
    ck_assert(p->fetch_offset == 100);
    ck_assert_int_eq(p->last_fetched_epoch, 4);
    ck_assert(p->log_start_offset == 0);
    ck_assert_int_eq(m.forgotten_topics_data_count, 0);
    ck_assert(bytes_eq_cstr(m.rack_id, ""));
    /* without the tag, cluster_id is its default: null */
    kmsg_fetch_req_init(&m);
    ck_assert_ptr_null(m.cluster_id.ptr);
    ck_assert_int_eq(m.topics_count, 0);
    arena_deinit(&a);
}
END_TEST

/* DescribeTopicPartitions v0: Kafka's nullable struct (an int8 marker, -1
 * null, 1 present) for the cursor, as Kafka 3.7's kafka-topics sends it. */
START_TEST(test_describe_topic_partitions_cursor_golden)
{
    struct arena a;
    arena_init(&a, ARENA_CHUNK_BYTES, ARENA_BYTES_MAX);
    static const uint8_t null_cursor[] = {
        0x02, 0x02, 't', 0x00,  /* topics: [{name "t"}] */
        0x00, 0x00, 0x07, 0xd0, /* response_partition_limit 2000 */
        0xff,                   /* cursor null */
        0x00,                   /* tags */
    };
    struct kmsg_describe_topic_partitions_req m;
    golden("kmsg_describe_topic_partitions_req", 0, null_cursor, sizeof(null_cursor), &a, &m);
    ck_assert(m.cursor_is_null);
    ck_assert_int_eq(m.response_partition_limit, 2000);
    static const uint8_t cursor[] = {
        0x01,                   /* topics: [] (every topic) */
        0x00, 0x00, 0x00, 0x02, /* response_partition_limit 2 */
        0x01, 0x02, 't', 0x00, 0x00, 0x00, 0x03, 0x00, /* cursor {"t", 3}, its tags */
        0x00,
    };
    golden("kmsg_describe_topic_partitions_req", 0, cursor, sizeof(cursor), &a, &m);
    ck_assert(!m.cursor_is_null);
    ck_assert(bytes_eq_cstr(m.cursor.topic_name, "t"));
    ck_assert_int_eq(m.cursor.partition_index, 3);
    ck_assert_int_eq(m.topics_count, 0);
    kmsg_describe_topic_partitions_req_init(&m);
    ck_assert(m.cursor_is_null);
    ck_assert_int_eq(m.response_partition_limit, 2000);
    struct kmsg_describe_topic_partitions_resp r;
    kmsg_describe_topic_partitions_resp_init(&r);
    ck_assert(r.next_cursor_is_null);
    arena_deinit(&a);
}
END_TEST

/* Fetch v13: topics and forgotten topics by id; v15: replica_state (tag 1) */
START_TEST(test_fetch_v13_v15_request_golden)
{
    struct arena a;
    arena_init(&a, ARENA_CHUNK_BYTES, ARENA_BYTES_MAX);
    static const uint8_t req13[] = {
        0xff, 0xff, 0xff, 0xff,                         /* replica_id -1 (a consumer) */
        0x00, 0x00, 0x01, 0xf4, 0x00, 0x00, 0x00, 0x01, /* max_wait, min_bytes */
        0x7f, 0xff, 0xff, 0xff, 0x01,                   /* max_bytes, read_committed */
        0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x02, /* session 7, epoch 2 */
        0x02,                                           /* topics: 1 */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* topic_id */
        0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
        0x02, 0x00, 0x00, 0x00, 0x03,                   /* partitions: 1, partition 3 */
        0xff, 0xff, 0xff, 0xff,                         /* current_leader_epoch -1 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, /* fetch_offset 10 */
        0xff, 0xff, 0xff, 0xff,                         /* last_fetched_epoch -1 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log_start_offset -1 */
        0x00, 0x00, 0x10, 0x00, 0x00, 0x00,             /* partition_max_bytes; tags */
        0x02,                                           /* forgotten: 1 */
        0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, /* topic_id */
        0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
        0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* partitions [1, 2] */
        0x00,                                           /* forgotten tags */
        0x02, 'r',                                      /* rack_id "r" */
        0x00,                                           /* no tags */
    };
    struct kmsg_fetch_req m;
    golden("kmsg_fetch_req", 13, req13, sizeof(req13), &a, &m);
    ck_assert_int_eq(m.replica_id, -1);
    ck_assert_int_eq(m.isolation_level, 1);
    ck_assert_int_eq(m.session_id, 7);
    ck_assert_int_eq(m.topics[0].topic_id[0], 0x01);
    ck_assert_int_eq(m.topics[0].topic_id[15], 0x10);
    ck_assert_uint_eq(m.topics[0].topic.len, 0); /* names are v0-12 */
    ck_assert_int_eq(m.topics[0].partitions[0].partition, 3);
    ck_assert_int_eq(m.topics[0].partitions[0].last_fetched_epoch, -1);
    ck_assert_int_eq(m.forgotten_topics_data[0].topic_id[0], 0x11);
    ck_assert_int_eq(m.forgotten_topics_data[0].partitions_count, 2);
    ck_assert_int_eq(m.forgotten_topics_data[0].partitions[1], 2);
    ck_assert(bytes_eq_cstr(m.rack_id, "r"));

    /* v15: replica_id leaves the body for the tagged replica_state */
    static const uint8_t req15[] = {
        0x00, 0x00, 0x01, 0xf4, 0x00, 0x00, 0x00, 0x01, /* max_wait, min_bytes */
        0x7f, 0xff, 0xff, 0xff, 0x00,                   /* max_bytes, isolation */
        0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, /* session 0, epoch -1 */
        0x01, 0x01, 0x01,                               /* no topics, no forgotten, rack "" */
        0x01, 0x01, 0x0d,                               /* tags: 1; tag 1, 13 bytes */
        0x00, 0x00, 0x00, 0x03,                         /* replica_id 3 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, /* replica_epoch 9 */
        0x00,                                           /* replica_state's tags */
    };
    golden("kmsg_fetch_req", 15, req15, sizeof(req15), &a, &m);
    ck_assert_int_eq(m.replica_id, -1);
    ck_assert_int_eq(m.replica_state.replica_id, 3);
    ck_assert(m.replica_state.replica_epoch == 9);
    ck_assert_ptr_null(m.cluster_id.ptr);

    /* Samsa extension: a follower's partition reports its durable offset in
     * tag 23130 (uvarint 0xda 0xb4 0x01); -1 (the default) is not written */
    static const uint8_t req15d[] = {
        0x00, 0x00, 0x01, 0xf4, 0x00, 0x00, 0x00, 0x01, /* max_wait, min_bytes */
        0x7f, 0xff, 0xff, 0xff, 0x00,                   /* max_bytes, isolation */
        0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, /* session 0, epoch -1 */
        0x02,                                           /* topics: 1 */
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* topic_id */
        0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10,
        0x02, 0x00, 0x00, 0x00, 0x00,                   /* partitions: 1, partition 0 */
        0x00, 0x00, 0x00, 0x05,                         /* current_leader_epoch 5 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, /* fetch_offset 10 */
        0x00, 0x00, 0x00, 0x05,                         /* last_fetched_epoch 5 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* log_start_offset 0 */
        0x00, 0x10, 0x00, 0x00,                         /* partition_max_bytes */
        0x01, 0xda, 0xb4, 0x01, 0x08,                   /* tags: 1; tag 23130, 8 bytes */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, /* samsa_durable_offset 7 */
        0x00,                                           /* topic tags */
        0x01, 0x01,                                     /* no forgotten, rack "" */
        0x01, 0x01, 0x0d,                               /* tags: 1; tag 1, 13 bytes */
        0x00, 0x00, 0x00, 0x03,                         /* replica_id 3 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, /* replica_epoch 9 */
        0x00,                                           /* replica_state's tags */
    };
    golden("kmsg_fetch_req", 15, req15d, sizeof(req15d), &a, &m);
    ck_assert(m.topics[0].partitions[0].samsa_durable_offset == 7);
    ck_assert(m.topics[0].partitions[0].fetch_offset == 10);
    ck_assert_int_eq(m.replica_state.replica_id, 3);
    golden("kmsg_fetch_req", 13, req13, sizeof(req13), &a, &m); /* without it: the default */
    ck_assert(m.topics[0].partitions[0].samsa_durable_offset == -1);
    arena_deinit(&a);
}
END_TEST

/* Fetch v12 response: diverging_epoch, current_leader, snapshot_id (tags 0-2)
 * written only when they differ from their defaults */
START_TEST(test_fetch_v12_v16_response_golden)
{
    struct arena a;
    arena_init(&a, ARENA_CHUNK_BYTES, ARENA_BYTES_MAX);
    static const uint8_t resp12[] = {
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* throttle, error */
        0x00, 0x00, 0x00, 0x00,                         /* session_id */
        0x02, 0x02, 't',                                /* responses: 1, "t" */
        0x03,                                           /* partitions: 2 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* [0] index 0, error 0 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, /* high_watermark 32 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, /* last_stable_offset 32 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* log_start_offset 0 */
        0x00,                                           /* aborted_transactions null */
        0xff, 0xff, 0xff, 0xff,                         /* preferred_read_replica -1 */
        0x03, 'x', 'y',                                 /* records */
        0x03,                                           /* tags: 3 */
        0x00, 0x0d, 0x00, 0x00, 0x00, 0x03,             /* 0 diverging_epoch: epoch 3 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, /* end_offset 16; its tags */
        0x01, 0x09, 0x00, 0x00, 0x00, 0x02,             /* 1 current_leader: id 2 */
        0x00, 0x00, 0x00, 0x07, 0x00,                   /* epoch 7; its tags */
        0x02, 0x0d,                                     /* 2 snapshot_id */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, /* end_offset 64 */
        0x00, 0x00, 0x00, 0x06, 0x00,                   /* epoch 6; its tags */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x06,             /* [1] index 1, NOT_LEADER_OR_FOLLOWER */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* high_watermark -1 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* last_stable_offset -1 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log_start_offset -1 */
        0x01,                                           /* aborted_transactions [] */
        0xff, 0xff, 0xff, 0xff, 0x00,                   /* preferred -1, records null */
        0x00,                                           /* tags: none (all defaults) */
        0x00, 0x00,                                     /* topic tags, response tags */
    };
    struct kmsg_fetch_resp m;
    golden("kmsg_fetch_resp", 12, resp12, sizeof(resp12), &a, &m);
    const struct kmsg_fetch_resp_partition *p = m.responses[0].partitions;
    ck_assert(p[0].high_watermark == 32);
    ck_assert_int_eq(p[0].aborted_transactions_count, -1);
    ck_assert_int_eq(p[0].diverging_epoch.epoch, 3);
    ck_assert(p[0].diverging_epoch.end_offset == 16);
    ck_assert_int_eq(p[0].current_leader.leader_id, 2);
    ck_assert_int_eq(p[0].current_leader.leader_epoch, 7);
    ck_assert(p[0].snapshot_id.end_offset == 64);
    ck_assert_int_eq(p[0].snapshot_id.epoch, 6);
    ck_assert(bytes_eq_cstr(p[0].records, "xy"));
    ck_assert_int_eq(p[1].error_code, 6);
    ck_assert_int_eq(p[1].aborted_transactions_count, 0);
    ck_assert_ptr_null(p[1].records.ptr);
    ck_assert_int_eq(p[1].diverging_epoch.epoch, -1);
    ck_assert(p[1].diverging_epoch.end_offset == -1);
    ck_assert_int_eq(p[1].current_leader.leader_id, -1);
    ck_assert(p[1].snapshot_id.end_offset == -1);

    /* one field off its default is enough to write the tagged struct */
    struct kmsg_fetch_resp_partition rp;
    kmsg_fetch_resp_partition_init(&rp);
    rp.current_leader.leader_epoch = 1; /* leader_id stays -1 */
    struct kmsg_fetch_resp_topic t;
    kmsg_fetch_resp_topic_init(&t);
    t.partitions = &rp;
    t.partitions_count = 1;
    kmsg_fetch_resp_init(&m);
    m.responses = &t;
    m.responses_count = 1;
    struct buf b;
    buf_init(&b, 0);
    ck_assert_int_eq(kmsg_fetch_resp_encode(&b, 12, &m), 0);
    static const uint8_t tail[] = { 0x01, 0x01, 0x09, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00,
                                    0x00, 0x00 };
    ck_assert_uint_ge(b.len, sizeof(tail));
    ck_assert_int_eq(memcmp(b.ptr + b.len - sizeof(tail), tail, sizeof(tail)), 0);
    buf_deinit(&b);

    /* v16: node_endpoints, a tagged array at the top level (tag 0) */
    static const uint8_t resp16[] = {
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* throttle, error, session */
        0x01,                                           /* responses: 0 */
        0x01, 0x00, 0x0d,                               /* tags: 1; tag 0, 13 bytes */
        0x02, 0x00, 0x00, 0x00, 0x02,                   /* 1 endpoint: node 2 */
        0x02, 'h', 0x00, 0x00, 0x23, 0x84,              /* host "h", port 9092 */
        0x00, 0x00,                                     /* rack null; its tags */
    };
    golden("kmsg_fetch_resp", 16, resp16, sizeof(resp16), &a, &m);
    ck_assert_int_eq(m.node_endpoints_count, 1);
    ck_assert_int_eq(m.node_endpoints[0].node_id, 2);
    ck_assert(bytes_eq_cstr(m.node_endpoints[0].host, "h"));
    ck_assert_int_eq(m.node_endpoints[0].port, 9092);
    ck_assert_ptr_null(m.node_endpoints[0].rack.ptr);
    arena_deinit(&a);
}
END_TEST

START_TEST(test_offset_for_leader_epoch_golden)
{
    struct arena a;
    arena_init(&a, ARENA_CHUNK_BYTES, ARENA_BYTES_MAX);
    struct kmsg_offset_for_leader_epoch_req q;
    struct kmsg_offset_for_leader_epoch_resp s;
    /* v0: topics[t, partitions[partition, leader_epoch]] */
    static const uint8_t req0[] = { 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't', 0x00, 0x00, 0x00, 0x01,
                                    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05 };
    golden("kmsg_offset_for_leader_epoch_req", 0, req0, sizeof(req0), &a, &q);
    ck_assert_int_eq(q.replica_id, -2); /* v3+; -2 = debugging consumer */
    ck_assert_int_eq(q.topics[0].partitions[0].current_leader_epoch, -1);
    ck_assert_int_eq(q.topics[0].partitions[0].leader_epoch, 5);
    /* v3: + replica_id, current_leader_epoch (v2+) */
    static const uint8_t req3[] = { 0x00, 0x00, 0x00, 0x01,                         /* replica_id 1 */
                                    0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't', 0x00, 0x00, 0x00, 0x01,
                                    0x00, 0x00, 0x00, 0x00,                         /* partition 0 */
                                    0x00, 0x00, 0x00, 0x07,                         /* current 7 */
                                    0x00, 0x00, 0x00, 0x05 };                       /* leader_epoch 5 */
    golden("kmsg_offset_for_leader_epoch_req", 3, req3, sizeof(req3), &a, &q);
    ck_assert_int_eq(q.replica_id, 1);
    ck_assert_int_eq(q.topics[0].partitions[0].current_leader_epoch, 7);
    /* v4: flexible */
    static const uint8_t req4[] = { 0x00, 0x00, 0x00, 0x01, 0x02, 0x02, 't', 0x02, 0x00, 0x00, 0x00, 0x00,
                                    0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00 };
    golden("kmsg_offset_for_leader_epoch_req", 4, req4, sizeof(req4), &a, &q);
    ck_assert_int_eq(q.topics[0].partitions[0].leader_epoch, 5);
    /* responses: v0 {error, partition, end_offset}; v4 + throttle, leader_epoch, tags */
    static const uint8_t resp0[] = { 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't', 0x00, 0x00, 0x00, 0x01,
                                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64 };
    golden("kmsg_offset_for_leader_epoch_resp", 0, resp0, sizeof(resp0), &a, &s);
    ck_assert_int_eq(s.topics[0].partitions[0].leader_epoch, -1);
    ck_assert(s.topics[0].partitions[0].end_offset == 100);
    static const uint8_t resp4[] = { 0x00, 0x00, 0x00, 0x00,                         /* throttle */
                                     0x02, 0x02, 't', 0x02,                          /* topics, "t", 1 */
                                     0x00, 0x4b, 0x00, 0x00, 0x00, 0x00,             /* FENCED_LEADER_EPOCH */
                                     0x00, 0x00, 0x00, 0x05,                         /* leader_epoch 5 */
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* end_offset -1 */
                                     0x00, 0x00, 0x00 };
    golden("kmsg_offset_for_leader_epoch_resp", 4, resp4, sizeof(resp4), &a, &s);
    ck_assert_int_eq(s.topics[0].partitions[0].error_code, 75);
    ck_assert_int_eq(s.topics[0].partitions[0].leader_epoch, 5);
    ck_assert(s.topics[0].partitions[0].end_offset == -1);
    arena_deinit(&a);
}
END_TEST

START_TEST(test_truncations_fail)
{
    for (int ci = 0; ci < ST_CASE_COUNT; ci++) {
        const struct st_case *c = &st_cases[ci];
        for (int16_t v = c->min_version; v <= c->max_version; v++) {
            struct fixture fx;
            fx_init(&fx, c->size);
            encode_filled(&fx, c, v, 1);
            /* copy each prefix into its own allocation so ASan sees any over-read */
            for (size_t n = 0; n < fx.b.len; n++) {
                uint8_t *p = malloc(n ? n : 1);
                ck_assert_ptr_nonnull(p);
                if (n)
                    memcpy(p, fx.b.ptr, n);
                struct kwire_reader r = rd(p, n);
                arena_reset(&fx.a);
                int rc = c->dec(&r, v, &fx.a, fx.d);
                if (rc != ERR_DECODE)
                    ck_abort_msg("%s v%d: prefix %zu/%zu gave %d", c->name, v, n, fx.b.len, rc);
                free(p);
            }
            fx_deinit(&fx);
        }
    }
}
END_TEST

START_TEST(test_huge_counts_fail_fast)
{
    struct arena a;
    arena_init(&a, 1024, 64 * 1024);
    struct kmsg_metadata_req req;
    /* 2^31-1 topics announced, 4 bytes present */
    static const uint8_t huge[] = { 0x7f, 0xff, 0xff, 0xff, 0x00, 0x01, 'a', 0x00 };
    struct kwire_reader r = rd(huge, sizeof(huge));
    ck_assert_int_eq(kmsg_metadata_req_decode(&r, 1, &a, &req), ERR_DECODE);
    ck_assert_uint_le(a.used_bytes, 1024);

    /* compact: uvarint 0xffffffff */
    struct kmsg_api_versions_resp resp;
    static const uint8_t chuge[] = { 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00 };
    r = rd(chuge, sizeof(chuge));
    ck_assert_int_eq(kmsg_api_versions_resp_decode(&r, 3, &a, &resp), ERR_DECODE);

    /* a count that fits the frame but whose structs exceed the arena ceiling */
    size_t n = 40000;
    uint8_t *frame = calloc(1, 4 + n);
    ck_assert_ptr_nonnull(frame);
    frame[0] = 0;
    frame[1] = (uint8_t)(n >> 16);
    frame[2] = (uint8_t)(n >> 8);
    frame[3] = (uint8_t)n;
    r = rd(frame, 4 + n);
    ck_assert_int_eq(kmsg_metadata_req_decode(&r, 1, &a, &req), ERR_LIMIT);
    ck_assert_uint_le(a.used_bytes, a.bytes_max);
    free(frame);

    /* primitive arrays too: Metadata v1 response partition replica_nodes */
    static const uint8_t prim[] = { 0, 0, 0, 0, /* brokers */ 0xff, 0xff, 0xff, 0xff, /* ctrl */
                                    0, 0, 0, 1, 0, 0, 0, 1, 't', 0, 0, 0, 0, 1,
                                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                    0x10, 0x00, 0x00, 0x00, 1, 2, 3, 4 };
    struct kmsg_metadata_resp mresp;
    r = rd(prim, sizeof(prim));
    ck_assert_int_eq(kmsg_metadata_resp_decode(&r, 1, &a, &mresp), ERR_DECODE);
    arena_deinit(&a);
}
END_TEST

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

/*
 * fuzz_one - libFuzzer-shaped entry point: a request frame body (header +
 * body).  Decodes the header, then the body for its API; whatever decodes
 * is re-encoded.  Never crashes; returns the decode result.
 */
static int fuzz_one(const uint8_t *data, size_t size, struct arena *a)
{
    struct kwire_reader r = rd(data, size);
    struct kmsg_req_header h;
    int rc = kmsg_req_header_decode(&r, &h);
    if (rc)
        return rc;
    for (int ci = 0; ci < ST_CASE_COUNT; ci++) {
        const struct st_case *c = &st_cases[ci];
        if (c->api_key != h.api_key || c->is_resp)
            continue;
        void *m = calloc(1, c->size);
        ASSERT(m);
        rc = c->dec(&r, h.api_version, a, m);
        if (rc == 0) {
            struct buf b;
            buf_init(&b, 0);
            ASSERT(c->enc(&b, h.api_version, m) == 0);
            buf_deinit(&b);
        }
        free(m);
        return rc;
    }
    return ERR_UNSUPPORTED;
}

START_TEST(test_random_flips_never_crash)
{
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    int decoded_ok = 0, rejected = 0;
    for (int ci = 0; ci < ST_CASE_COUNT; ci++) {
        const struct st_case *c = &st_cases[ci];
        for (int16_t v = c->min_version; v <= c->max_version; v++) {
            struct fixture fx;
            fx_init(&fx, c->size);
            encode_filled(&fx, c, v, 2);
            size_t len = fx.b.len;
            uint8_t *p = malloc(len ? len : 1);
            ck_assert_ptr_nonnull(p);
            for (int iter = 0; iter < 64; iter++) {
                if (len)
                    memcpy(p, fx.b.ptr, len);
                int flips = 1 + (int)(xorshift(&seed) % 4);
                for (int k = 0; k < flips && len; k++)
                    p[xorshift(&seed) % len] ^= (uint8_t)(1u << (xorshift(&seed) % 8));
                struct kwire_reader r = rd(p, len);
                arena_reset(&fx.a);
                int rc = c->dec(&r, v, &fx.a, fx.d);
                if (rc == 0) {
                    decoded_ok++;
                    buf_reset(&fx.b2);
                    ck_assert_int_eq(c->enc(&fx.b2, v, fx.d), 0);
                } else {
                    ck_assert(rc == ERR_DECODE || rc == ERR_LIMIT);
                    rejected++;
                }
            }
            free(p);
            fx_deinit(&fx);
        }
    }
    ck_assert_int_gt(decoded_ok, 0);
    ck_assert_int_gt(rejected, 0);

    /* whole frames with headers through the fuzz entry point */
    struct arena a;
    arena_init(&a, ARENA_CHUNK_BYTES, ARENA_BYTES_MAX);
    uint8_t frame[256];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = xorshift(&seed) % sizeof(frame);
        for (size_t i = 0; i < n; i++)
            frame[i] = (uint8_t)xorshift(&seed);
        if (n >= 4) { /* aim at real keys/versions half the time */
            const struct kmsg_api_info *info = &kmsg_api_table[xorshift(&seed) % (uint64_t)kmsg_api_table_count];
            frame[0] = 0;
            frame[1] = (uint8_t)info->api_key;
            frame[2] = 0;
            frame[3] = (uint8_t)(info->min_version + (int)(xorshift(&seed) % (uint64_t)(info->max_version - info->min_version + 1)));
        }
        arena_reset(&a);
        (void)fuzz_one(frame, n, &a);
    }
    arena_deinit(&a);
}
END_TEST

static Suite *kmsg_suite(void)
{
    Suite *s = suite_create("kmsg");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_roundtrip_all_versions);
    tcase_add_test(tc, test_init_only_roundtrip);
    tcase_add_test(tc, test_version_out_of_range);
    tcase_add_test(tc, test_api_table);
    tcase_add_test(tc, test_req_header_golden);
    tcase_add_test(tc, test_resp_header_golden);
    tcase_add_test(tc, test_api_versions_golden);
    tcase_add_test(tc, test_find_coordinator_v4_golden);
    tcase_add_test(tc, test_metadata_v1_golden);
    tcase_add_test(tc, test_produce_v3_golden);
    tcase_add_test(tc, test_fetch_v4_golden);
    tcase_add_test(tc, test_fetch_v12_request_golden);
    tcase_add_test(tc, test_fetch_v13_v15_request_golden);
    tcase_add_test(tc, test_fetch_v12_v16_response_golden);
    tcase_add_test(tc, test_offset_for_leader_epoch_golden);
    tcase_add_test(tc, test_describe_topic_partitions_cursor_golden);
    tcase_add_test(tc, test_truncations_fail);
    tcase_add_test(tc, test_huge_counts_fail_fast);
    tcase_add_test(tc, test_random_flips_never_crash);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(kmsg_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
