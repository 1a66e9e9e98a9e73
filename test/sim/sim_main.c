/*
 * sim_main.c - command line for the simulators.
 *
 *   samsa-sim --seed S          replay exactly one seed (same output every run)
 *   samsa-sim --seeds N         run seeds 1..N; prints "N seeds, V violations"
 *                               and "sim: P passed, F failed"
 *   samsa-sim --bug NAME ...    re-inject a known bug (test-only config switch)
 *   samsa-sim --model isr ...   the replication model (isr_sim.c) instead of Raft
 *   samsa-sim -v                trace events (with --seed)
 * The replication model runs each seed in a child process, so a failed
 * ASSERT in the real broker code is reported as that seed's violation
 * (property=assertion) instead of ending the run.
 * Exit status: 0 when no violation, 1 otherwise, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test/sim/isr_sim.h"
#include "test/sim/sim.h"

static int sim_usage(void)
{
    fprintf(stderr,
            "usage: samsa-sim [--model raft|isr] [--seed S | --seeds N] [--bug NAME] [-v]\n"
            "  raft bugs: %s\n  isr bugs: %s\n",
            sim_bug_names(), isim_bug_names());
    return 2;
}

/* One replication seed in a child: 0 ok, 1 violation (printed). */
static int sim_isr_seed(uint64_t seed, const char *bug, bool verbose)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        int v = isim_run_seed(seed, bug, verbose, stdout);
        fflush(stdout);
        _exit(v);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) {
        perror("waitpid");
        exit(2);
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status) == 0 ? 0 : 1;
    printf("VIOLATION seed=%llu bug=%s tick=? property=assertion signal=%d (the ASSERT line is on stderr)\n",
           (unsigned long long)seed, bug ? bug : "none", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    return 1;
}

int main(int argc, char **argv)
{
    uint64_t seed = 0, seeds = 0;
    const char *bug = NULL;
    bool verbose = false, isr = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
            seeds = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--bug") == 0 && i + 1 < argc)
            bug = argv[++i];
        else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) {
            const char *m = argv[++i];
            if (strcmp(m, "isr") == 0)
                isr = true;
            else if (strcmp(m, "raft") != 0)
                return sim_usage();
        } else if (strcmp(argv[i], "-v") == 0)
            verbose = true;
        else
            return sim_usage();
    }
    if (isr ? !isim_bug_known(bug) : !sim_bug_known(bug)) {
        fprintf(stderr, "unknown bug %s\n", bug);
        return sim_usage();
    }
    if (seed != 0) {
        int v = isr ? sim_isr_seed(seed, bug, verbose) : sim_run_seed(seed, bug, verbose, stdout);
        printf("seed %llu: %s\n", (unsigned long long)seed, v ? "VIOLATION" : "ok");
        return v ? 1 : 0;
    }
    if (seeds == 0)
        return sim_usage();
    uint64_t violations = 0;
    for (uint64_t s = 1; s <= seeds; s++)
        violations += (uint64_t)(isr ? sim_isr_seed(s, bug, false) : sim_run_seed(s, bug, false, stdout));
    printf("%llu seeds, %llu violations\n", (unsigned long long)seeds, (unsigned long long)violations);
    printf("sim: %llu passed, %llu failed\n", (unsigned long long)(seeds - violations),
           (unsigned long long)violations);
    return violations ? 1 : 0;
}
