/*
 * fuzz_offsets_topic.c - libFuzzer target: any bytes as __consumer_offsets
 * batches replayed at start-up: brk_offsets_topic_batches_decode (batch
 * framing, CRC) hands every record to brk_groups_load_record, which decodes
 * the key (OffsetCommitKey / GroupMetadataKey, any version) and the value
 * (OffsetCommitValue, GroupMetadataValue with members) and folds it into a
 * group coordinator.  The CRC of every whole batch is rewritten first so
 * mutations reach the record decoders.  Any crash or sanitizer report is a
 * bug; ERR_DECODE is the expected answer to garbage.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "broker/group/brk_group.h"
#include "broker/group/brk_offsets_topic.h"
#include "test/fuzz/fuzz_batch_crc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int load_cb(void *arg, int64_t offset, const struct brk_offsets_topic_record *rec)
{
    (void)offset;
    int rc = brk_groups_load_record(arg, rec, 1700000000000);
    return rc == ERR_DECODE || rc == ERR_UNSUPPORTED ? 0 : rc; /* keep going, as the broker does */
}

/* Loading never answers a request nor stores a record: these must not run. */
static void join_done(void *ctx, void *waiter, const struct brk_group_join_result *r)
{
    (void)ctx, (void)waiter, (void)r;
    abort();
}

static void sync_done(void *ctx, void *waiter, const struct brk_group_sync_result *r)
{
    (void)ctx, (void)waiter, (void)r;
    abort();
}

static int store(void *ctx, struct bytes group_id, const struct brk_offsets_topic_record *recs, int32_t n, void *arg,
                 brk_groups_store_done_cb done)
{
    (void)ctx, (void)group_id, (void)recs, (void)n, (void)arg, (void)done;
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_level(LOG_OFF); /* garbage is expected: its log lines would only slow the run */
    struct brk_groups_config cfg = { .initial_rebalance_delay_ms = 0, .offsets_retention_ms = 0,
                                     .retention_check_interval_ms = 600000, .seed = 1 };
    struct brk_groups_ops ops = { .join_done = join_done, .sync_done = sync_done, .store = store };
    struct brk_groups *gs = NULL;
    if (brk_groups_create(&cfg, &ops, &gs) < 0)
        return 0;
    uint8_t *p = malloc(size ? size : 1);
    if (p) {
        memcpy(p, data, size);
        fuzz_batch_fix_crc(p, size);
        (void)brk_offsets_topic_batches_decode(bytes_make(p, size), gs, load_cb);
        free(p);
    }
    brk_groups_destroy(gs);
    return 0;
}
