/*
 * fuzz_legacy.c - libFuzzer target: any bytes as a Produce v0-2 partition's
 * magic 0/1 message set (brk_legacy_to_v2: framing, CRC-32, wrappers and
 * their decompression), and the v2 batch it yields (if any) down-converted
 * back to magic 0 and 1 (brk_legacy_from_v2).  A converted batch must pass
 * produce validation.  Any crash, sanitizer report or failed assertion is a bug.
 */
#include <stdlib.h>

#include "broker/log/brk_batch.h"
#include "broker/log/brk_legacy.h"
#include "common/buf.h"
#include "common/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_level(LOG_OFF);
    struct buf out, scratch, down;
    buf_init(&out, 4u << 20);
    buf_init(&scratch, 4u << 20);
    buf_init(&down, 8u << 20);
    int n = brk_legacy_to_v2(bytes_make(data, size), &out, &scratch);
    if (n > 0) {
        struct brk_batch_summary sum;
        if (brk_batch_validate_produce(buf_bytes(&out), 8 << 20, &sum) != 0 || sum.record_count != n)
            abort();
        for (int8_t magic = 0; magic <= 1; magic++) {
            buf_reset(&down);
            if (brk_legacy_from_v2(buf_bytes(&out), magic, 0, 8u << 20, true, &down, &scratch) != 0)
                abort();
        }
    } else if (out.len != 0) {
        abort();
    }
    buf_deinit(&out);
    buf_deinit(&scratch);
    buf_deinit(&down);
    return 0;
}
