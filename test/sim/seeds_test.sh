#!/bin/sh
# seeds_test.sh - replay every seed that once found a violation; each must
# pass now.  One line per seed: the seed (MODEL:SEED for a model other than
# raft; isr-fsync for the isr model with --fsync), then what it found and
# where the explanation lives.
# Usage: test/sim/seeds_test.sh [path/to/samsa-sim]
SIM=${1:-build/bin/samsa-sim}
[ -x "$SIM" ] || { echo "seeds: $SIM not built (make build/bin/samsa-sim)"; exit 2; }
pass=0; fail=0
while read -r seed why; do
    case "$seed" in ''|'#'*) continue ;; esac
    model=raft; extra=
    case "$seed" in *:*) model=${seed%%:*}; seed=${seed#*:} ;; esac
    [ "$model" = isr-fsync ] && { model=isr; extra=--fsync; }
    if out=$("$SIM" --model "$model" $extra --seed "$seed" 2>&1); then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        printf '%s\n' "$out" | grep '^VIOLATION'
        echo "seeds: model=$model seed=$seed fails again ($why)"
    fi
done <<'SEEDS'
# 100,000-seed soak, 2026-12-06: no_disruption began while the leader's
# check-quorum window still held the partition before the heal; P8 now waits
# for two stable windows (sim.c sim_disruption, raft_test.c
# test_check_quorum_judges_whole_window)
74617 no_disruption started too early after a heal
# 100,000-seed controller soak, 2026-12-06: a follower behind the leader's
# log start was sent the leader's zero-byte snapshot (an image with no
# records) and stopped on "snapshot install without data"; install_snapshot
# (controller/ctrl.c) now takes zero bytes as the empty image
# (ctrl_test.c test_snapshot_empty_image)
ctrl:18932 property=assertion: snapshot install of an empty image aborted
# the same soak: a crash between writing an installed snapshot and truncating
# the log it replaces left an entry older than the snapshot; every fetch then
# diverged below the node's HW and it never caught up, so the quorum could
# not fence a dead broker; ctrl_create drops such a log (controller/ctrl.c
# log_drop_older_than_snapshot)
ctrl:26300 lease_not_expired: a stale entry behind an installed snapshot
# the same soak: a follower asked for a snapshot, a late answer to an older
# fetch brought the entries past it, the next fetch acknowledged them, and
# then the snapshot installed over them (the leader counted an entry the
# voter no longer held); the core now drops a snapshot whose last entry is
# already in the log, Raft section 7 (raft/raft.c raft_follower_snapshot,
# raft_test.c test_late_snapshot_keeps_acknowledged_log)
ctrl:54852 ack_not_durable: a late snapshot cut an acknowledged log
# 100,000-seed controller soak, 2026-12-07: controller RPC request ids
# restarted at 1 in every process and answers go to "node X", whichever
# process runs X now; the answer to a crashed incarnation's (clean)
# registration matched the next incarnation's request 1, which took it for its
# own, so its unclean registration (previous broker epoch -1) was never
# planned and the broker kept its ELR place without the data.  Request ids now
# start at a random 64-bit point per process and an answer must come from the
# node the request went to (controller/ctrl.c ctrl_create_env, ctrl_rpc.c
# fwd_take; ctrl_test.c test_stale_answer_ignored)
ctrl:37816 committed_missing: a dead incarnation's registration answer was taken by the next one
# Controller soak of 8902688, 2026-12-07: a voter that crashed right after a
# snapshot at the HW restarted on it with an empty log; the quorum was idle,
# so no entry was ever committed for it to apply and the controller's "caught
# up" (which waited for an applied entry) never came: its broker never
# registered.  Caught up now also means "holds the HW the leader answered
# with" (raft_holds_leader_hw; raft_test test_restart_on_snapshot_holding_hw).
# Later timing (the idle-voter wake-up fix) passes this seed either way; the
# raft test is the regression that fails without the fix.
ctrl:59017 no_convergence: a restart on a snapshot at the HW never caught up
# isr, 20,000 seeds at 4fa6983 (main) and cb67f74 (2026-12-07): the leader lost power in the
# last chaos ticks and the heal phase restarted it within a network delay; a
# heartbeat answer to the dead process gave the new one its old broker epoch,
# so it led its old epoch again, unregistered, without its lost tail, and a
# follower truncated below its HW.  In-flight answers to a crashed node now
# die with it (isr_sim.c isim_crash)
isr:15258 truncation_below_hw: a dead incarnation's answer reached the next one
# isr, 20,000 seeds at df29ddb (2026-12-07), KIP-966 mode: a restarted node's
# registration was in flight when it lost power; the controller's answer to
# the dead process cleared the model's "lost its tail" exemption, so the new
# process was checked as an ISR/ELR member before its unclean registration
# took it out.  Only the registering process's own registration clears it
# now (isr_sim.c isim_ctrl_heartbeat, incarnation)
isr:13968 committed_missing: a dead process's registration cleared the power-loss exemption
isr:15039 committed_missing: the same
# isr --fsync, 20,000 seeds at 182855a (2026-12-07): the controller answered a
# heartbeat the dead process sent just before a whole-cluster power loss; the
# answer gave the next process the old broker epoch and leadership without
# its lost tail.  Heartbeat answers name the process they answer now
isr-fsync:15095 below_hw_diverges: a heartbeat answer reached the next process
# isr --fsync, 20,000 seeds at c947c77 (2026-12-07): a new leader's durable HW
# starts at 0, and the expansion rule compared the joiner's synced offset
# with it only, so a joiner holding but not having synced what an earlier
# leader acknowledged entered the ISR; a whole-cluster power loss then left
# it in the ISR without them.  A joiner must be durable up to the epoch's
# start offset too (brk_isr_alter_next; brk_isr_test
# durable_expand_needs_earlier_epochs_acks)
isr-fsync:18490 acked_not_durable: a fresh epoch's expansion admitted an unsynced joiner
isr-fsync:10164 acked_not_durable: the same
isr-fsync:10448 acked_not_durable: the same
isr-fsync:10518 committed_missing: the same, the expansion applied after the power loss
isr-fsync:12166 acked_not_durable: the same
isr-fsync:12240 acked_not_durable: the same
isr-fsync:17160 acked_not_durable: the same
isr-fsync:19299 acked_not_durable: the same
isr-fsync:19433 acked_not_durable: the same
SEEDS
echo "seeds: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
