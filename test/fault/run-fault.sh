#!/bin/bash
# run-fault.sh - `make fault-test`: the fault suite, one test at a time.
#
#   checker_selftest.py   the checker catches planted violations (< 1 s)
#   failover_test.py      kill -9 leader / follower / active controller (~1-1.5 min)
#   partition_test.py     network-namespace partitions and a pause (root; ~3-4 min)
#
# Each test runs under a timeout (FAULT_TIMEOUT_S, default 420 s); its output
# goes to build/fault-logs/<test>.log and, on failure, its last 60 lines are
# printed.  FAULT_FILTER=<substring> runs a subset; FAULT_REPEAT=N runs each
# cluster test N times (a soak: interleavings differ run to run), stopping a
# test at its first failure.  A failed run's history and server logs are kept
# as build/fault-logs/failed-<name>-<rep>-*.  Prints PASS/FAIL/SKIP per run and
# "fault: N passed, N failed, N skipped"; exits 1 on any failure.
# Exit code 77 from a test means skipped (partition_test without root).
set -u
cd "$(dirname "$0")/../.."
LOGS=build/fault-logs
mkdir -p "$LOGS"
pass=0 fail=0 skip=0
t0=$(date +%s)
for t in checker_selftest failover_test partition_test; do
  case "$t" in *"${FAULT_FILTER:-}"*) ;; *) continue ;; esac
  reps=${FAULT_REPEAT:-1}
  [ "$t" = checker_selftest ] && reps=1
  for rep in $(seq "$reps"); do
    s=$(date +%s)
    timeout -k 10 "${FAULT_TIMEOUT_S:-420}" /usr/bin/python3 "test/fault/$t.py" > "$LOGS/$t.log" 2>&1
    rc=$?
    d=$(( $(date +%s) - s ))
    if [ $rc = 0 ]; then
        pass=$((pass + 1)); echo "PASS $t (${d} s)"
    elif [ $rc = 77 ]; then
        skip=$((skip + 1)); echo "SKIP $t: $(tail -1 "$LOGS/$t.log")"
    else
        fail=$((fail + 1)); echo "FAIL $t (exit $rc, ${d} s; $LOGS/$t.log):"
        grep -v '^20..-..-..T' "$LOGS/$t.log" | tail -60 | sed 's/^/    /'
        name=${t%_test}
        for f in "$LOGS/$t.log" "$LOGS/$name"-history.jsonl "$LOGS/$name"-node*.log; do
            [ -f "$f" ] && cp "$f" "$LOGS/failed-$name-$rep-$(basename "$f")"
        done
        echo "    kept as $LOGS/failed-$name-$rep-*"
    fi
    grep -E '^[0-9]+ acked, ' "$LOGS/$t.log" | sed "s/^/    $t: /"
    [ $rc = 0 ] || break
  done
done
echo "fault: $pass passed, $fail failed, $skip skipped ($(( $(date +%s) - t0 )) s)"
[ $fail = 0 ]
