#!/bin/sh
# seeds_test.sh - replay every seed that once found a violation; each must
# pass now.  One line per seed: the seed, then what it found and where the
# explanation lives.  Usage: test/sim/seeds_test.sh [path/to/samsa-sim]
SIM=${1:-build/bin/samsa-sim}
[ -x "$SIM" ] || { echo "seeds: $SIM not built (make build/bin/samsa-sim)"; exit 2; }
pass=0; fail=0
while read -r seed why; do
    case "$seed" in ''|'#'*) continue ;; esac
    if out=$("$SIM" --seed "$seed" 2>&1); then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        printf '%s\n' "$out" | grep '^VIOLATION'
        echo "seeds: seed=$seed fails again ($why)"
    fi
done <<'SEEDS'
# 100,000-seed soak, 2026-12-06: no_disruption began while the leader's
# check-quorum window still held the partition before the heal; P8 now waits
# for two stable windows (sim.c sim_disruption, raft_test.c
# test_check_quorum_judges_whole_window)
74617 no_disruption started too early after a heal
SEEDS
echo "seeds: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
