/*
 * fuzz_batch_crc.h - shared by the libFuzzer targets that feed record
 * batches: rewrite the CRC-32C of every whole v2 batch in a fuzzer input so
 * mutations get past the CRC check and reach the record decoders.  Header
 * only (each target is one .c file linked with libsamsa.a); test code only.
 */
#ifndef FUZZ_BATCH_CRC_H
#define FUZZ_BATCH_CRC_H

#include <stddef.h>
#include <stdint.h>

#include "common/crc32c.h"

#define FUZZ_BATCH_CRC_AT 17 /* baseOffset 8, batchLength 4, leaderEpoch 4, magic 1 */
#define FUZZ_BATCH_CRC_FROM 21

/* fuzz_batch_fix_crc - walk p[0..n) batch by batch (12-byte prefix + batchLength)
 * and store the right CRC in each whole batch; stops at the first that does not fit. */
static inline void fuzz_batch_fix_crc(uint8_t *p, size_t n)
{
    size_t at = 0;
    while (n - at >= FUZZ_BATCH_CRC_FROM) {
        uint32_t len = (uint32_t)p[at + 8] << 24 | (uint32_t)p[at + 9] << 16 | (uint32_t)p[at + 10] << 8 | p[at + 11];
        if (len > n - at - 12 || len + 12 < FUZZ_BATCH_CRC_FROM)
            return;
        size_t end = at + 12 + len;
        uint32_t crc = crc32c(0, p + at + FUZZ_BATCH_CRC_FROM, end - at - FUZZ_BATCH_CRC_FROM);
        p[at + FUZZ_BATCH_CRC_AT] = (uint8_t)(crc >> 24);
        p[at + FUZZ_BATCH_CRC_AT + 1] = (uint8_t)(crc >> 16);
        p[at + FUZZ_BATCH_CRC_AT + 2] = (uint8_t)(crc >> 8);
        p[at + FUZZ_BATCH_CRC_AT + 3] = (uint8_t)crc;
        at = end;
    }
}

#endif
