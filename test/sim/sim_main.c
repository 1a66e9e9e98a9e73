/*
 * sim_main.c - command line for the simulator.
 *
 *   samsa-sim --seed S          replay exactly one seed (same output every run)
 *   samsa-sim --seeds N         run seeds 1..N; prints "N seeds, V violations"
 *                               and "sim: P passed, F failed"
 *   samsa-sim --bug NAME ...    re-inject a known bug (test-only config switch)
 *   samsa-sim -v                trace events (with --seed)
 *   samsa-sim --ctrl ...        the controller-driver simulator (csim.c)
 *                               instead of the Raft-core one (sim.c)
 * Exit status: 0 when no violation, 1 otherwise, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test/sim/csim.h"
#include "test/sim/sim.h"

static int sim_usage(void)
{
    fprintf(stderr, "usage: samsa-sim [--ctrl] [--seed S | --seeds N] [--bug NAME] [-v]\n  bugs: %s\n"
            "  --ctrl bugs: %s\n", sim_bug_names(), csim_bug_names());
    return 2;
}

int main(int argc, char **argv)
{
    uint64_t seed = 0, seeds = 0;
    const char *bug = NULL;
    bool verbose = false, ctrl = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
            seeds = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--bug") == 0 && i + 1 < argc)
            bug = argv[++i];
        else if (strcmp(argv[i], "-v") == 0)
            verbose = true;
        else if (strcmp(argv[i], "--ctrl") == 0)
            ctrl = true;
        else
            return sim_usage();
    }
    int (*run_seed)(uint64_t, const char *, bool, FILE *) = ctrl ? csim_run_seed : sim_run_seed;
    if (!(ctrl ? csim_bug_known(bug) : sim_bug_known(bug))) {
        fprintf(stderr, "unknown bug %s\n", bug);
        return sim_usage();
    }
    if (seed != 0) {
        int v = run_seed(seed, bug, verbose, stdout);
        printf("seed %llu: %s\n", (unsigned long long)seed, v ? "VIOLATION" : "ok");
        return v ? 1 : 0;
    }
    if (seeds == 0)
        return sim_usage();
    uint64_t violations = 0;
    for (uint64_t s = 1; s <= seeds; s++)
        violations += (uint64_t)run_seed(s, bug, false, stdout);
    printf("%llu seeds, %llu violations\n", (unsigned long long)seeds,
           (unsigned long long)violations);
    printf("%s: %llu passed, %llu failed\n", ctrl ? "csim" : "sim", (unsigned long long)(seeds - violations),
           (unsigned long long)violations);
    return violations ? 1 : 0;
}
