/*
 * brk_replica_testutil.h - shared by the follower-side unit tests
 * (brk_follower_test, brk_fetcher_test), each a program of its own: a
 * leader's record batch built by hand, and recorders standing in for
 * brk_replica.c's two hooks with the same contract (the HW moves forward
 * only and never past the log end).  Include it from one test file per
 * program; never from library code.
 */
#ifndef SAMSA_BRK_REPLICA_TESTUTIL_H
#define SAMSA_BRK_REPLICA_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "broker/log/brk_batch.h"
#include "broker/log/brk_part.h"
#include "broker/log/brk_plog.h"
#include "broker/replica/brk_replica.h"
#include "common/be.h"
#include "common/crc32c.h"

/* How often brk_replica_epochs_changed ran. */
static int g_epochs_changed;

void brk_replica_set_high_watermark(struct brk_part *part, int64_t hw)
{
    int64_t end = brk_plog_end_offset(part->plog);
    if (hw > end)
        hw = end;
    if (hw > part->high_watermark)
        part->high_watermark = hw;
}

void brk_replica_epochs_changed(struct brk_part *part)
{
    (void)part;
    g_epochs_changed++;
}

/* A leader's v2 batch of `count` records at base, stamped with epoch
 * (both outside the CRC), payload_bytes of opaque records. */
static inline size_t testutil_lead_batch(uint8_t *out, int64_t base, int32_t epoch, int32_t count,
                                         size_t payload_bytes)
{
    size_t size = BRK_BATCH_HDR_BYTES + payload_bytes;
    memset(out, 0, size);
    be_put64(out, (uint64_t)base);
    be_put32(out + 8, (uint32_t)(size - 12));
    be_put32(out + 12, (uint32_t)epoch);
    out[16] = 2;
    be_put32(out + 23, (uint32_t)(count - 1));
    be_put64(out + 27, 1000);
    be_put64(out + 35, 1000);
    be_put64(out + 43, (uint64_t)-1);
    be_put32(out + 57, (uint32_t)count);
    memset(out + BRK_BATCH_HDR_BYTES, (int)(base & 0xff), payload_bytes);
    be_put32(out + 17, crc32c(0, out + 21, size - 21));
    return size;
}

#endif
