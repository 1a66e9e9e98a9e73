/*
 * fuzz_request.c - libFuzzer target: any bytes as a Kafka request frame body.
 *
 * Decodes the request header, then the body with the decoder of every
 * described API at the header's version (and at every other version, so a
 * small corpus reaches all of them), then re-encodes what decoded.  Record
 * batches, controller frames, __consumer_offsets records and config files
 * have their own targets beside this one.  Any crash, sanitizer report or
 * over-limit allocation is a bug.
 */
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "kmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_API(api)                                                                        \
    do {                                                                                     \
        struct kmsg_##api##_req m;                                                           \
        struct kwire_reader r = body;                                                        \
        if (kmsg_##api##_req_decode(&r, version, &a, &m) == 0) {                             \
            buf_reset(&out);                                                                 \
            (void)kmsg_##api##_req_encode(&out, version, &m);                                \
        }                                                                                    \
        struct kmsg_##api##_resp mr;                                                         \
        r = body;                                                                            \
        if (kmsg_##api##_resp_decode(&r, version, &a, &mr) == 0) {                           \
            buf_reset(&out);                                                                 \
            (void)kmsg_##api##_resp_encode(&out, version, &mr);                              \
        }                                                                                    \
    } while (0)

static void fuzz_body(struct kwire_reader body, int16_t key, int16_t version, struct arena *pa)
{
    struct arena a = *pa;
    struct buf out;
    buf_init(&out, 1 << 20);
    switch (key) {
    case KMSG_API_PRODUCE: FUZZ_API(produce); break;
    case KMSG_API_FETCH: FUZZ_API(fetch); break;
    case KMSG_API_LIST_OFFSETS: FUZZ_API(list_offsets); break;
    case KMSG_API_METADATA: FUZZ_API(metadata); break;
    case KMSG_API_OFFSET_COMMIT: FUZZ_API(offset_commit); break;
    case KMSG_API_OFFSET_FETCH: FUZZ_API(offset_fetch); break;
    case KMSG_API_FIND_COORDINATOR: FUZZ_API(find_coordinator); break;
    case KMSG_API_JOIN_GROUP: FUZZ_API(join_group); break;
    case KMSG_API_HEARTBEAT: FUZZ_API(heartbeat); break;
    case KMSG_API_LEAVE_GROUP: FUZZ_API(leave_group); break;
    case KMSG_API_SYNC_GROUP: FUZZ_API(sync_group); break;
    case KMSG_API_DESCRIBE_GROUPS: FUZZ_API(describe_groups); break;
    case KMSG_API_LIST_GROUPS: FUZZ_API(list_groups); break;
    case KMSG_API_API_VERSIONS: FUZZ_API(api_versions); break;
    case KMSG_API_CREATE_TOPICS: FUZZ_API(create_topics); break;
    case KMSG_API_DELETE_TOPICS: FUZZ_API(delete_topics); break;
    case KMSG_API_DELETE_RECORDS: FUZZ_API(delete_records); break;
    case KMSG_API_INIT_PRODUCER_ID: FUZZ_API(init_producer_id); break;
    case KMSG_API_DESCRIBE_CONFIGS: FUZZ_API(describe_configs); break;
    case KMSG_API_ALTER_CONFIGS: FUZZ_API(alter_configs); break;
    case KMSG_API_CREATE_PARTITIONS: FUZZ_API(create_partitions); break;
    case KMSG_API_DELETE_GROUPS: FUZZ_API(delete_groups); break;
    case KMSG_API_OFFSET_DELETE: FUZZ_API(offset_delete); break;
    case KMSG_API_INCREMENTAL_ALTER_CONFIGS: FUZZ_API(incremental_alter_configs); break;
    case KMSG_API_DESCRIBE_CLUSTER: FUZZ_API(describe_cluster); break;
    case KMSG_API_DESCRIBE_LOG_DIRS: FUZZ_API(describe_log_dirs); break;
    case KMSG_API_DESCRIBE_CLIENT_QUOTAS: FUZZ_API(describe_client_quotas); break;
    case KMSG_API_ALTER_CLIENT_QUOTAS: FUZZ_API(alter_client_quotas); break;
    case KMSG_API_ALTER_PARTITION_REASSIGNMENTS: FUZZ_API(alter_partition_reassignments); break;
    case KMSG_API_LIST_PARTITION_REASSIGNMENTS: FUZZ_API(list_partition_reassignments); break;
    default: break;
    }
    buf_deinit(&out);
    *pa = a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    arena_init(&a, 4096, 64u << 20);
    struct kwire_reader r;
    kwire_reader_init(&r, bytes_make(data, size));
    struct kmsg_req_header hdr;
    if (kmsg_req_header_decode(&r, &hdr) == 0) {
        fuzz_body(r, hdr.api_key, hdr.api_version, &a);
        /* the same body at every described version of that API */
        const struct kmsg_api_info *info = kmsg_api_find(hdr.api_key);
        for (int16_t v = info ? info->min_version : 0; info && v <= info->max_version; v++) {
            arena_reset(&a);
            fuzz_body(r, hdr.api_key, v, &a);
        }
    }
    arena_deinit(&a);
    return 0;
}
