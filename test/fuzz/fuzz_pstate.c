/*
 * fuzz_pstate.c - libFuzzer target: any bytes as a producer-state snapshot
 * (<offset>.snapshot, read at partition open): brk_pstate_decode.  The
 * CRC-32C at bytes 2..5 is rewritten first so mutations reach the entry
 * decoder.  A decoded state must encode back to the same bytes (the format
 * has one encoding), and answer a check and an observe without harm.  Any
 * crash, sanitizer report or abort is a bug; ERR_CORRUPT / ERR_UNSUPPORTED
 * / ERR_LIMIT are the expected answers to garbage.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/log/brk_pstate.h"
#include "common/be.h"
#include "common/crc32c.h"
#include "common/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_level(LOG_OFF);
    struct brk_pstate *ps = NULL;
    if (brk_pstate_create(&ps) < 0)
        return 0;
    uint8_t *p = malloc(size ? size : 1);
    if (!p) {
        brk_pstate_destroy(ps);
        return 0;
    }
    memcpy(p, data, size);
    if (size >= 6)
        be_put32(p + 2, crc32c(0, p + 6, size - 6));
    if (brk_pstate_decode(ps, bytes_make(p, size)) == 0) {
        struct buf b;
        buf_init(&b, 1u << 30);
        if (brk_pstate_encode(ps, &b) == 0 && (b.len != size || memcmp(b.ptr, p, size) != 0))
            abort(); /* decode then encode must give the same bytes */
        buf_deinit(&b);
        struct brk_pstate_batch batch = { .producer_id = 1, .producer_epoch = 0, .first_seq = 0, .last_seq = 0,
                                          .first_offset = 0, .last_offset = 0, .max_timestamp_ms = 0 };
        struct brk_pstate_meta dup;
        (void)brk_pstate_check(ps, &batch, &dup);
        (void)brk_pstate_observe(ps, &batch);
        (void)brk_pstate_expire(ps, INT64_MAX / 2, 1);
    }
    free(p);
    brk_pstate_destroy(ps);
    return 0;
}
