/*
 * csim.h - deterministic simulation of the controller DRIVER (controller/
 * ctrl.c, ctrl_rpc.c over the real raft/ core): 3 controller nodes and 0-2
 * broker-only observers, each with a simulated broker that registers,
 * heartbeats and auto-creates topics, over a simulated disk (a crash loses
 * unsynced log writes), a lossy, partitionable network and a tick clock.
 * See test/sim/README.md, "The controller simulator".
 */
#ifndef SAMSA_CSIM_H
#define SAMSA_CSIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* csim_bug_known - is name one of the driver's re-injectable bugs (or NULL/"none")? */
bool csim_bug_known(const char *name);
const char *csim_bug_names(void);
/* csim_run_seed - run one seed; 0 if every property held, 1 on a violation
 * (one line "VIOLATION seed=S tick=T property=P detail" on out).  The output
 * depends on (seed, bug) only.  verbose also prints the driver's log. */
int csim_run_seed(uint64_t seed, const char *bug, bool verbose, FILE *out);

#endif
