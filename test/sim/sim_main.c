/*
 * sim_main.c - command line for the simulators.
 *
 *   samsa-sim --seed S          replay exactly one seed (same output every run)
 *   samsa-sim --seeds N         run seeds 1..N; prints "N seeds, V violations"
 *                               and "<model>: P passed, F failed"
 *   samsa-sim --bug NAME ...    re-inject a known bug (test-only config switch)
 *   samsa-sim --model M ...     raft (default): the Raft core (sim.c);
 *                               isr: the replication model (isr_sim.c);
 *                               ctrl: the controller driver (csim.c)
 *   samsa-sim --ctrl ...        the same as --model ctrl
 *   samsa-sim -v                trace events (with --seed)
 *   samsa-sim --from F ...      with --seeds N: run seeds F..F+N-1 (to split a soak)
 *   samsa-sim --fsync ...       isr: samsa.acks.all.fsync mode with whole-cluster
 *                               power losses on a third of the non-KIP-966 seeds
 * The replication model and the controller driver run each seed in a child
 * process, so a failed ASSERT (or abort) in the real broker or controller
 * code is reported as that seed's violation (property=assertion) instead of
 * ending the run.
 * Exit status: 0 when no violation, 1 otherwise, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test/sim/csim.h"
#include "test/sim/isr_sim.h"
#include "test/sim/sim.h"

/* One seed of run in a child: 0 ok, 1 violation (printed).  A failed
 * ASSERT (or an abort() of the real code) ends only the child, and is that
 * seed's violation rather than the end of the run. */
static int sim_seed_in_child(int (*run)(uint64_t, const char *, bool, FILE *), uint64_t seed,
                             const char *bug, bool verbose, FILE *out)
{
    fflush(out);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(2);
    }
    if (pid == 0) {
        int v = run(seed, bug, verbose, out);
        fflush(out);
        _exit(v);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) {
        perror("waitpid");
        exit(2);
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status) == 0 ? 0 : 1;
    fprintf(out, "VIOLATION seed=%llu bug=%s tick=? property=assertion signal=%d (the ASSERT line is on "
            "stderr; replay with --seed %llu -v for the log)\n",
            (unsigned long long)seed, bug ? bug : "none", WIFSIGNALED(status) ? WTERMSIG(status) : -1,
            (unsigned long long)seed);
    fflush(out);
    return 1;
}

static int sim_isr_seed(uint64_t seed, const char *bug, bool verbose, FILE *out)
{
    return sim_seed_in_child(isim_run_seed, seed, bug, verbose, out);
}

static int sim_ctrl_seed(uint64_t seed, const char *bug, bool verbose, FILE *out)
{
    return sim_seed_in_child(csim_run_seed, seed, bug, verbose, out);
}

struct sim_model {
    const char *name;    /* --model NAME */
    const char *label;   /* the summary line's "label: P passed, F failed" */
    int (*run_seed)(uint64_t seed, const char *bug, bool verbose, FILE *out);
    bool (*bug_known)(const char *bug);
    const char *(*bug_names)(void);
};

static const struct sim_model sim_models[] = {
    { "raft", "sim", sim_run_seed, sim_bug_known, sim_bug_names },
    { "isr", "isr", sim_isr_seed, isim_bug_known, isim_bug_names },
    { "ctrl", "csim", sim_ctrl_seed, csim_bug_known, csim_bug_names },
};
#define SIM_MODEL_COUNT (sizeof sim_models / sizeof sim_models[0])

static int sim_usage(void)
{
    fprintf(stderr, "usage: samsa-sim [--model raft|isr|ctrl | --ctrl] [--seed S | --seeds N [--from F]] [--bug NAME] [--fsync] [-v]\n");
    for (size_t i = 0; i < SIM_MODEL_COUNT; i++)
        fprintf(stderr, "  %s bugs: %s\n", sim_models[i].name, sim_models[i].bug_names());
    return 2;
}

static const struct sim_model *sim_model_find(const char *name)
{
    for (size_t i = 0; i < SIM_MODEL_COUNT; i++)
        if (strcmp(sim_models[i].name, name) == 0)
            return &sim_models[i];
    return NULL;
}

int main(int argc, char **argv)
{
    uint64_t seed = 0, seeds = 0, first = 1;
    const char *bug = NULL;
    bool verbose = false;
    const struct sim_model *m = &sim_models[0];
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--seeds") == 0 && i + 1 < argc)
            seeds = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
            first = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--bug") == 0 && i + 1 < argc)
            bug = argv[++i];
        else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) {
            if (!(m = sim_model_find(argv[++i])))
                return sim_usage();
        } else if (strcmp(argv[i], "--ctrl") == 0)
            m = sim_model_find("ctrl");
        else if (strcmp(argv[i], "-v") == 0)
            verbose = true;
        else if (strcmp(argv[i], "--fsync") == 0)
            isim_set_fsync_seeds(true); /* isr: samsa.acks.all.fsync seeds */
        else
            return sim_usage();
    }
    if (!m->bug_known(bug)) {
        fprintf(stderr, "unknown bug %s\n", bug);
        return sim_usage();
    }
    if (seed != 0) {
        int v = m->run_seed(seed, bug, verbose, stdout);
        printf("seed %llu: %s\n", (unsigned long long)seed, v ? "VIOLATION" : "ok");
        return v ? 1 : 0;
    }
    if (seeds == 0 || first == 0 || first > UINT64_MAX - seeds)
        return sim_usage();
    uint64_t violations = 0;
    for (uint64_t s = first; s < first + seeds; s++)
        violations += (uint64_t)m->run_seed(s, bug, false, stdout);
    printf("%llu seeds, %llu violations\n", (unsigned long long)seeds, (unsigned long long)violations);
    printf("%s: %llu passed, %llu failed\n", m->label, (unsigned long long)(seeds - violations),
           (unsigned long long)violations);
    return violations ? 1 : 0;
}
