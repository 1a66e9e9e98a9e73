/*
 * crc32c.h - CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the
 * checksum Kafka puts in every v2 record batch header.
 *
 * crc32c() picks the SSE4.2 `crc32` instruction when the running CPU has
 * it (checked at run time, so the binary needs no -msse4.2) and otherwise
 * a slicing-by-8 table walk.  Both give identical results; the two paths
 * are exported separately only so tests can compare them.
 *
 * Chaining: crc32c(crc32c(0, a, na), b, nb) == crc32c(0, a||b, na+nb), the
 * same convention as zlib's crc32(): the pre/post inversion is done inside.
 *
 * Not here: CRC-32 (IEEE, magic v0/v1 batches) - we do not accept those.
 */
#ifndef SAMSA_CRC32C_H
#define SAMSA_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* crc32c - extend crc (0 to start) over n bytes at p.  Never fails, never blocks. */
uint32_t crc32c(uint32_t crc, const void *p, size_t n);

/* crc32c_sw - the portable slicing-by-8 path (tests compare it with crc32c_hw). */
uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n);

/* crc32c_x_pow - x^n mod P (Castagnoli), reflected (bit 31 is x^0): the
 * constants that join crc32c_hw's lanes are x_pow(8L - 33), x_pow(16L - 33). */
uint32_t crc32c_x_pow(uint64_t n);

/* crc32c_hw_available - true if crc32c_hw may be called on this CPU (SSE4.2 and PCLMUL). */
bool crc32c_hw_available(void);

/* crc32c_hw - the SSE4.2 + PCLMUL path.  Precondition: crc32c_hw_available(). */
uint32_t crc32c_hw(uint32_t crc, const void *p, size_t n);

#endif
