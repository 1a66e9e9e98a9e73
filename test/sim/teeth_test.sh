#!/bin/sh
# teeth_test.sh - prove a simulator has teeth: re-inject each known bug
# (test-only switch) and assert the simulator reports at least one
# violation for it.  Exits non-zero if any bug goes undetected.
# Usage: test/sim/teeth_test.sh [path/to/samsa-sim] [raft|isr|ctrl]
SIM=${1:-build/bin/samsa-sim}
MODEL=${2:-raft}
[ -x "$SIM" ] || { echo "teeth: $SIM not built (make build/bin/samsa-sim)"; exit 2; }
# bug:seeds per model.
# raft: hw_from_old_epoch needs a Figure-8 interleaving (a commit by counting
# an old-epoch entry, then a crash before the leader's own entry spreads),
# which is rare: give it more seeds.
# isr: no_partition_epoch_check needs an AlterPartition in flight while the
# controller commits another change (a fence) and the stale request then
# re-adds a member: rarer, so it gets more seeds.
# ctrl: the controller driver's bugs (ctrl_env test switches): planning on an
# image that has not caught up, planning on proposals still in flight, and a
# fetch acknowledging metadata entries before their asynchronous sync completed,
# and (ELR seeds) registrations after a crash counted as clean.
# isr: ignore_unclean_shutdown and no_elr need a power loss on the replica that is the last ISR member (or is
# re-registering while still in the ISR): rarer still.  durable_from_leo turns on fsync mode (a third of
# the non-KIP-966 seeds) and needs a whole-cluster power loss with an acknowledged record unflushed: ~20%.
case $MODEL in
raft) specs="vote_without_log_check:2000 hw_from_old_epoch:10000 no_check_quorum:2000 no_pre_vote:2000" ;;
ctrl) specs="plan_before_caught_up:300 plan_on_proposals_in_flight:300 ack_before_sync:300 ignore_unclean_shutdown:300" ;;
isr) specs="hw_from_fetchers:200 truncate_to_hw:200 unclean_election:300 no_partition_epoch_check:1000 ignore_unclean_shutdown:1000 no_elr:2000 durable_from_leo:100" ;;
*) echo "teeth: unknown model $MODEL (raft, isr or ctrl)"; exit 2 ;;
esac
pass=0; fail=0
for spec in $specs; do
    bug=${spec%%:*}; seeds=${spec#*:}
    out=$("$SIM" --model "$MODEL" --bug "$bug" --seeds "$seeds" 2>/dev/null)
    v=$(printf '%s\n' "$out" | sed -n 's/^[0-9]* seeds, \([0-9]*\) violations$/\1/p')
    first=$(printf '%s\n' "$out" | grep -m1 '^VIOLATION' | sed 's/.*property=\([a-z_]*\).*/\1/')
    if [ -n "$v" ] && [ "$v" -gt 0 ]; then
        pass=$((pass + 1)); echo "teeth: model=$MODEL bug=$bug caught: $v/$seeds seeds violate (first: $first)"
    else
        fail=$((fail + 1)); echo "teeth: model=$MODEL bug=$bug NOT caught in $seeds seeds"
    fi
done
echo "teeth: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
