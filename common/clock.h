/*
 * clock.h - the two clocks the node reads, named by what they are for.
 *
 * clock_mono_ns: CLOCK_MONOTONIC nanoseconds, for durations, deadlines and
 * rate limits (never jumps).  clock_wall_ms: CLOCK_REALTIME milliseconds, for
 * what Kafka defines as wall-clock time (record timestamps, retention,
 * group session and offset-expiry bookkeeping, operator views).  State
 * machines (raft/, brk_group, replication) take `now` as a parameter and are
 * driven by a fake clock in their tests; only drivers call these.
 */
#ifndef SAMSA_CLOCK_H
#define SAMSA_CLOCK_H

#include <stdint.h>

int64_t clock_mono_ns(void);
int64_t clock_wall_ms(void);

#endif
