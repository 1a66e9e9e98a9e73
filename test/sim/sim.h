/*
 * sim.h - deterministic simulation of the real Raft core (TigerBeetle VOPR
 * style): 1-5 voters and 0-2 observers in one process, driven from one
 * 64-bit seed over a simulated network, disks and clock, with the safety and
 * liveness properties checked after every step.  See test/sim/README.md.
 */
#ifndef SAMSA_SIM_H
#define SAMSA_SIM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* sim_bug_known - is name one of the bug switches (or NULL/"none")? */
bool sim_bug_known(const char *name);
/* sim_name_listed - is name one of the space-separated names (or NULL/"none")?
 * Shared by the simulators' bug switches. */
bool sim_name_listed(const char *names, const char *name);
/* sim_violation_vprint / sim_trace_vprint - the line formats both simulators
 * print: "VIOLATION seed=S bug=B tick=T property=P detail" and "t=T event". */
void sim_violation_vprint(FILE *out, uint64_t seed, const char *bug, uint64_t tick, const char *property,
                          const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));
void sim_trace_vprint(FILE *out, uint64_t tick, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
/* sim_bug_names - the list, for --help and the teeth test. */
const char *sim_bug_names(void);
/* sim_run_seed - run one seed; 0 if every property held, 1 on a violation
 * (one line "VIOLATION seed=S tick=T property=... detail" on out).  The
 * output depends on (seed, bug) only.  verbose prints a trace of events. */
int sim_run_seed(uint64_t seed, const char *bug, bool verbose, FILE *out);

#endif
