/*
 * isr_sim.h - deterministic simulation of partition replication: one
 * partition, 3-5 replicas, each running the REAL broker/brk_isr (as leader)
 * and broker/brk_epoch_cache (leader and follower), a fake controller that
 * validates AlterPartition requests and elects leaders from the ISR, a
 * simulated network and clock, all from one 64-bit seed.  Properties are
 * checked after every tick.  See test/sim/README.md ("Replication model").
 */
#ifndef SAMSA_ISR_SIM_H
#define SAMSA_ISR_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* isim_bug_known - is name one of the replication bug switches (or NULL/"none")? */
bool isim_bug_known(const char *name);
/* isim_bug_names - the list, for --help and the teeth test. */
const char *isim_bug_names(void);
/* isim_run_seed - run one seed; 0 if every property held, 1 on a violation
 * (one line "VIOLATION seed=S bug=B tick=T property=P detail" on out).  A
 * failed ASSERT inside the real code aborts: run seeds in a child process
 * (samsa-sim does) to report it as property=assertion. */
int isim_run_seed(uint64_t seed, const char *bug, bool verbose, FILE *out);
/* isim_set_fsync_seeds - run the samsa.acks.all.fsync mode (with
 * whole-cluster power losses) on a third of the non-KIP-966 seeds.  Off by
 * default; the bug durable_from_leo turns it on by itself. */
void isim_set_fsync_seeds(bool on);

#endif
