/*
 * fuzz_batch.c - libFuzzer target: any bytes as the records field of a
 * Produce (brk_batch_validate_produce: framing, CRC, offsets, limits) and as
 * one stored batch (brk_records iteration, decompression included).  The
 * input is fed twice: as is (CRC failures are the common case) and with
 * every whole batch's CRC rewritten, so mutations reach the record
 * decoders.  Any crash, sanitizer report or over-limit allocation is a bug.
 */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "broker/log/brk_batch.h"
#include "broker/log/brk_records.h"
#include "common/buf.h"
#include "test/fuzz/fuzz_batch_crc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_one(const uint8_t *data, size_t size, struct buf *scratch)
{
    struct brk_batch_summary sum;
    (void)brk_batch_validate_produce(bytes_make(data, size), 1 << 20, &sum);
    struct brk_batch_hdr hdr;
    (void)brk_batch_parse(data, size, &hdr);
    buf_reset(scratch);
    struct brk_records_iter it;
    if (brk_records_iter_init(&it, bytes_make(data, size), scratch) == 0) {
        struct brk_record rec;
        for (int n = 0; n < 100000 && brk_records_next(&it, &rec) == 1; n++) {
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_level(LOG_OFF); /* garbage is expected: its log lines would only slow the run */
    struct buf scratch;
    buf_init(&scratch, 4u << 20);
    fuzz_one(data, size, &scratch);
    uint8_t *fixed = malloc(size ? size : 1);
    if (fixed) {
        memcpy(fixed, data, size);
        fuzz_batch_fix_crc(fixed, size);
        fuzz_one(fixed, size, &scratch);
        free(fixed);
    }
    buf_deinit(&scratch);
    return 0;
}
