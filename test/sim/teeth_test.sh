#!/bin/sh
# teeth_test.sh - prove the simulator has teeth: re-inject each known bug
# (test-only raft config switch, or ctrl_env switch for the controller
# simulator, "ctrl/" below) and assert the simulator reports at least one
# violation for it.  Exits non-zero if any bug goes undetected.
# Usage: test/sim/teeth_test.sh [path/to/samsa-sim]
SIM=${1:-build/bin/samsa-sim}
[ -x "$SIM" ] || { echo "teeth: $SIM not built (make build/bin/samsa-sim)"; exit 2; }
pass=0; fail=0
# bug:seeds - hw_from_old_epoch needs a Figure-8 interleaving (a commit by
# counting an old-epoch entry, then a crash before the leader's own entry
# spreads), which is rare: give it more seeds.
for spec in vote_without_log_check:2000 hw_from_old_epoch:10000 no_check_quorum:2000 no_pre_vote:2000 \
            ctrl/plan_before_caught_up:300 ctrl/plan_on_proposals_in_flight:300; do
    bug=${spec%%:*}; seeds=${spec#*:}; mode=
    case $bug in ctrl/*) bug=${bug#ctrl/}; mode=--ctrl ;; esac
    out=$("$SIM" $mode --bug "$bug" --seeds "$seeds" 2>&1)
    v=$(printf '%s\n' "$out" | sed -n 's/^[0-9]* seeds, \([0-9]*\) violations$/\1/p')
    first=$(printf '%s\n' "$out" | grep -m1 '^VIOLATION' | sed 's/.*property=\([a-z_]*\).*/\1/')
    if [ -n "$v" ] && [ "$v" -gt 0 ]; then
        pass=$((pass + 1)); echo "teeth: bug=$bug caught: $v/$seeds seeds violate (first: $first)"
    else
        fail=$((fail + 1)); echo "teeth: bug=$bug NOT caught in $seeds seeds"
    fi
done
echo "teeth: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
