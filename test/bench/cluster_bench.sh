#!/bin/bash
# cluster_bench.sh - the replicated part of `make bench` (issue 9): a local
# 3-node cluster in `make run`'s shape (combined broker+controller nodes on
# loopback, offsets.topic.replication.factor=3) with min.insync.replicas=2,
# driven by samsa_load, next to librdkafka's mock cluster (one broker, one
# copy) measured the same way in the same run, alternating rep by rep.
#
# Per repetition (1 KiB records, BENCH_CLUSTER_PARTITIONS partitions, 3):
#   cluster-rf3-all   produce, RF=3 acks=all      MB/s and cluster CPU s/GB
#   cluster-rf3-all-fsync  produce, RF=3 acks=all with samsa.acks.all.fsync=true on the
#                     topics (every ISR member fdatasyncs before the ack)   MB/s
#   cluster-rf3-1     produce, RF=3 acks=1        MB/s
#   cluster-rf1       produce, RF=1 acks=1        cluster CPU s/GB (the overhead baseline; one
#                     copy, so acks=1 is acks=all, which min.insync.replicas=2 refuses)
#   replica-copy      bench_copy: the machine's CPU floor for one replica copy (sendfile over
#                     loopback into a fresh page-cache file), the size of one produce run
#   cluster-rf3-all   e2e at BENCH_E2E_MBPS (10) MB/s, RF=3 acks=all: p50/p99/p99.9
#   mock-1copy        produce and e2e (acks=all) against rd_kafka_mock_cluster_new(1)
# "cluster CPU" is utime+stime of all three nodes (/proc/<pid>/stat, summed by
# samsa_load --broker-pid p1,p2,p3).  RESULT lines are appended to $RAW (the
# caller's raw.txt, else $OUT/raw-cluster.txt); summarize.py prints the table,
# the ratios and TARGET MISSED lines (RF=3 acks=all >= 0.4x the mock's
# throughput; e2e p99 <= the mock's; RF=3/RF=1 cluster CPU per GB <= 2.5) and
# the floor no RF=3 cluster can go below on this machine (RF=1 + 2 replica copies).
#
# A configuration whose first run fails (e.g. acks=all with min.insync.replicas=2
# on a Samsa without replication: NOT_ENOUGH_REPLICAS) is not retried in later
# repetitions; the table then says n/a and the failure is in the log.
#
# Knobs: BUILD, BENCH_OUT, BENCH_REPS (5), BENCH_CLUSTER_PARTITIONS (3),
# BENCH_CLUSTER_COUNT (1 KiB records per produce run, 1000000), BENCH_WARMUP_COUNT
# (records of one unmeasured RF=3 acks=all run before rep 1; default
# BENCH_CLUSTER_COUNT, 0: none, every first run then measures a cold process), BENCH_E2E_MBPS
# (10), BENCH_E2E_SECS (10), BENCH_MIN_ISR (2), BENCH_PHASE_MAX_S (10),
# BENCH_CLUSTER_ONLY (space-separated LABEL/PHASE keys to run, e.g.
# "cluster-rf3-all/produce cluster-rf1/produce"; default all),
# BENCH_AFTER_S (0: off; else the cluster's CPU over that many seconds after
# each run, a RESULT kind=cluster-after line: work a run leaves behind, such
# as followers still copying what an acks=1 run was acknowledged for),
# BENCH_IDLE_S (0: off; else the idle cluster's CPU over that many seconds,
# a RESULT kind=cluster-idle line), BENCH_PROFILE=LABEL/PHASE (perf record -e cpu-clock of all three nodes
# during that run into $OUT/profile-cluster-<rep>.data; the report's top
# goes to $OUT/profile-cluster-<rep>.txt; needs perf), BENCH_PERF_STAT=EVENTS
# (perf stat -e EVENTS of all three nodes during every run, e.g.
# "context-switches,raw_syscalls:sys_enter", into $OUT/perfstat-cluster-LABEL-PHASE-<rep>.txt),
# BENCH_THREADS=1 (a RESULT kind=cluster-threads line per run: the nodes' CPU seconds in
# state threads, network threads and the rest - io_uring workers).
# Run alone: test/bench/cluster_bench.sh (after make all); exit 1 if the
# cluster could not start or a configuration failed.
set -u -o pipefail  # a failing samsa_load fails its `| tee` pipeline
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
BIN=$BUILD/bin
REPS=${BENCH_REPS:-5}
OUT=${BENCH_OUT:-$BUILD/bench}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
RAW=${RAW:-$OUT/raw-cluster.txt}
[ -n "${RAW_APPEND:-}" ] || : > "$RAW"
PARTS=${BENCH_CLUSTER_PARTITIONS:-3}
COUNT=${BENCH_CLUSTER_COUNT:-1000000}
DIR=$(mktemp -d "${TMPDIR:-/tmp}/samsa-cluster-bench.XXXXXX")
PIDS=()
status=0

cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

free_ports() { # N distinct free loopback ports
    /usr/bin/python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}

read -r -a ports <<< "$(free_ports 6)"
voters="" boot=""
for n in 1 2 3; do
    voters="$voters${voters:+,}$n@127.0.0.1:${ports[$((n + 2))]}"
    boot="$boot${boot:+,}127.0.0.1:${ports[$((n - 1))]}"
done
cid=$("$BIN/samsa" storage random-uuid)
# a byte-identical copy under another name: others' clean-ups on this shared
# machine have SIGTERMed every "samsa-server" (see run-bench.sh)
cp "$BIN/samsa-server" "$DIR/samsa-bench-node"
for n in 1 2 3; do
    d=$DIR/node-$n
    mkdir -p "$d"
    cat > "$d/server.properties" <<CONF
process.roles=broker,controller
node.id=$n
listeners=PLAINTEXT://127.0.0.1:${ports[$((n - 1))]},CONTROLLER://127.0.0.1:${ports[$((n + 2))]}
advertised.listeners=PLAINTEXT://127.0.0.1:${ports[$((n - 1))]}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.voters=$voters
inter.broker.listener.name=PLAINTEXT
log.dirs=$d/data
num.partitions=1
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
min.insync.replicas=${BENCH_MIN_ISR:-2}
${BENCH_NODE_PROPS:-}
CONF
    "$BIN/samsa" storage format -t "$cid" -c "$d/server.properties" > "$d/format.log" 2>&1 || {
        echo "cluster_bench: storage format of node $n failed:" >&2; cat "$d/format.log" >&2; exit 1; }
    "$DIR/samsa-bench-node" "$d/server.properties" > "$OUT/cluster-node-$n.log" 2>&1 &
    PIDS+=($!)
done
for n in 1 2 3; do
    port=${ports[$((n - 1))]} deadline=$(( $(date +%s) + 30 ))
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        if ! kill -0 "${PIDS[$((n - 1))]}" 2>/dev/null || [ "$(date +%s)" -gt "$deadline" ]; then
            echo "cluster_bench: node $n does not serve 127.0.0.1:$port; tail of $OUT/cluster-node-$n.log:" >&2
            tail -20 "$OUT/cluster-node-$n.log" >&2
            exit 1
        fi
        sleep 0.05 # poll interval; readiness is the port accepting
    done
done
pids=$(IFS=,; echo "${PIDS[*]}")
echo "RESULT kind=cluster-config min_isr=${BENCH_MIN_ISR:-2} partitions=$PARTS" >> "$RAW"
echo "-- cluster: 3 nodes on $boot (pids $pids), min.insync.replicas=${BENCH_MIN_ISR:-2}, $PARTS partitions"

# the three nodes' utime+stime in seconds (/proc/<pid>/stat fields 14, 15)
cluster_cpu_s() {
    local t=0 p f
    for p in "${PIDS[@]}"; do
        read -r -a f < "/proc/$p/stat" || continue
        t=$((t + f[13] + f[14]))
    done
    echo "$t $(getconf CLK_TCK)" | awk '{printf "%.2f", $1 / $2}'
}
# "STATE NET OTHER": the three nodes' CPU seconds in their state threads
# (the main thread), their network threads (samsa-net-*) and the rest (io_uring
# workers, which come and go, and exited threads: the process total minus both)
threads_cpu() {
    local st=0 net=0 tot=0 p t f
    for p in "${PIDS[@]}"; do
        read -r -a f < "/proc/$p/stat" || continue
        tot=$((tot + f[13] + f[14]))
        for t in /proc/$p/task/*; do
            read -r -a f < "$t/stat" 2>/dev/null || continue
            if [ "${t##*/}" = "$p" ]; then st=$((st + f[13] + f[14]))
            elif [[ "$(cat "$t/comm" 2>/dev/null)" == samsa-net-* ]]; then net=$((net + f[13] + f[14])); fi
        done
    done
    echo "$st $net $tot $(getconf CLK_TCK)" | awk '{printf "%.2f %.2f %.2f", $1 / $4, $2 / $4, ($3 - $1 - $2) / $4}'
}
if [ "${BENCH_IDLE_S:-0}" -gt 0 ]; then # the cluster's CPU with no load: a fixed cost every run pays
    sleep 5 # metadata settles
    if [ "${BENCH_PROFILE:-}" = idle ]; then
        perf record -q -e cpu-clock --call-graph dwarf,16384 -F 250 -o "$OUT/profile-idle.data" -p "$pids" 2>/dev/null &
        idle_perf=$!
    fi
    c0=$(cluster_cpu_s); sleep "$BENCH_IDLE_S"; c1=$(cluster_cpu_s)
    if [ -n "${idle_perf:-}" ]; then kill -INT "$idle_perf"; wait "$idle_perf"; fi
    echo "RESULT kind=cluster-idle secs=$BENCH_IDLE_S cpu_s=$(echo "$c0 $c1" | awk '{printf "%.2f", $2 - $1}')" | tee -a "$RAW"
fi
# A fresh process's first few hundred MB cost page faults as its heaps grow to the
# working set (produce requests held until the HW passes them, fetch responses,
# follower appends): ~60k faults per 200 MB in the first run, few after.  Without
# a warm-up the first measured run (RF=3 acks=all) paid that alone, while RF=1 ran
# warm after it.  One unmeasured RF=3 acks=all run first puts every run on a warm
# cluster, as a long-running broker is.  BENCH_WARMUP_COUNT=0 measures cold.
WARMUP=${BENCH_WARMUP_COUNT:-$COUNT}
if [ "$WARMUP" -gt 0 ]; then
    echo "-- warm-up: $WARMUP records, RF=3 acks=all (not measured)"
    "$BIN/samsa_load" --label warmup --reps 1 --partitions "$PARTS" --large-count "$WARMUP" \
        --phase-max-s "${BENCH_PHASE_MAX_S:-10}" --bootstrap "$boot" --acks all --replication-factor 3 \
        --only produce --produce-size 1024 >> "$OUT/samsa_load.cluster.log" 2>&1 ||
        echo "cluster_bench: the warm-up run failed (see $OUT/samsa_load.cluster.log); measuring anyway" >&2
fi
declare -A dead
# run LABEL ARGS...: one samsa_load run for this rep, unless LABEL's first run failed
run() {
    local label=$1 key=$1/$2; shift 2
    if [ -n "${dead[$key]:-}" ]; then return; fi
    if [ -n "${BENCH_CLUSTER_ONLY:-}" ] && [[ " $BENCH_CLUSTER_ONLY " != *" $key "* ]]; then return; fi
    local perf_pid="" data=$OUT/profile-cluster-$i.data
    if [ "${BENCH_PROFILE:-}" = "$key" ]; then
        perf record -q -e cpu-clock --call-graph dwarf,16384 -F ${BENCH_PROFILE_HZ:-250} -o "$data" -p "$pids" 2>/dev/null &
        perf_pid=$!
        sleep 0.5 # perf attaches
    fi
    local stat_pid="" stat_out=$OUT/perfstat-cluster-${key//\//-}-$i.txt
    if [ -n "${BENCH_PERF_STAT:-}" ]; then # counts per run: wake-ups and syscalls per GB
        perf stat -e "$BENCH_PERF_STAT" -p "$pids" -o "$stat_out" 2>/dev/null &
        stat_pid=$!
        sleep 0.5 # perf attaches
    fi
    local th0=""
    [ "${BENCH_THREADS:-0}" = 1 ] && th0=$(threads_cpu)
    # shellcheck disable=SC2086
    if ! "$BIN/samsa_load" --label "$label" --reps 1 --first-rep "$i" --partitions "$PARTS" \
            --large-count "$COUNT" --phase-max-s "${BENCH_PHASE_MAX_S:-10}" \
            --e2e-mbps "${BENCH_E2E_MBPS:-10}" --e2e-seconds "${BENCH_E2E_SECS:-10}" "$@" \
            2>> "$OUT/samsa_load.cluster.log" | tee -a "$RAW"; then
        echo "cluster_bench: $key failed (not retried; with acks=all the ISR must reach" \
             "min.insync.replicas=${BENCH_MIN_ISR:-2}, which a Samsa without partition replication" \
             "refuses with NOT_ENOUGH_REPLICAS); see $OUT/samsa_load.cluster.log:" >&2
        tail -3 "$OUT/samsa_load.cluster.log" >&2
        dead[$key]=1
        status=1
    fi
    if [ -n "$th0" ]; then
        echo "RESULT kind=cluster-threads target=$label phase=${key#*/} rep=$i $(echo "$th0 $(threads_cpu)" |
            awk '{printf "state_s=%.2f net_s=%.2f other_s=%.2f", $4 - $1, $5 - $2, $6 - $3}')" | tee -a "$RAW"
    fi
    if [ "${BENCH_AFTER_S:-0}" -gt 0 ]; then # CPU the run left behind (replication still catching up)
        local c0 c1
        c0=$(cluster_cpu_s); sleep "$BENCH_AFTER_S"; c1=$(cluster_cpu_s)
        echo "RESULT kind=cluster-after target=${key%/*} phase=${key#*/} rep=$i secs=$BENCH_AFTER_S cpu_s=$(echo "$c0 $c1" | awk '{printf "%.2f", $2 - $1}')" | tee -a "$RAW"
    fi
    if [ -n "$stat_pid" ]; then
        kill -INT "$stat_pid"
        wait "$stat_pid"
        echo "-- perf stat: $stat_out"
    fi
    if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid"
        wait "$perf_pid"
        {
            echo "== $key rep $i: inclusive (children) >= 2%"
            perf report -i "$data" --children --stdio -g none --percent-limit 2 2>/dev/null | grep -E '^ +[0-9]'
            echo "== self >= 0.7%"
            perf report -i "$data" --no-children --stdio -g none --percent-limit 0.7 2>/dev/null | grep -E '^ +[0-9]'
        } > "$OUT/profile-cluster-$i.txt"
        echo "-- profile: $OUT/profile-cluster-$i.txt (perf data: $data)"
    fi
}
for i in $(seq "$REPS"); do
    echo "-- cluster rep $i"
    C=(--bootstrap "$boot" --broker-pid "$pids")
    run cluster-rf3-all produce "${C[@]}" --acks all --replication-factor 3 --only produce --produce-size 1024
    run mock-1copy produce --mock --acks all --only produce --produce-size 1024
    run cluster-rf3-all-fsync produce "${C[@]}" --acks all --replication-factor 3 --only produce --produce-size 1024 \
        --topic-config samsa.acks.all.fsync=true
    run cluster-rf3-1 produce "${C[@]}" --acks 1 --replication-factor 3 --only produce --produce-size 1024
    run cluster-rf1 produce "${C[@]}" --acks 1 --replication-factor 1 --only produce --produce-size 1024
    # the machine's floor for one replica copy, next to the runs it bounds
    "$BIN/bench_copy" "$DIR" $(( (COUNT + 1023) / 1024 )) | sed "s/\$/ rep=$i/" | tee -a "$RAW" ||
        echo "cluster_bench: bench_copy failed; no replication floor this rep" >&2
    run cluster-rf3-all e2e "${C[@]}" --acks all --replication-factor 3 --only e2e
    run mock-1copy e2e --mock --acks all --only e2e
done
for n in 1 2 3; do
    p=${PIDS[$((n - 1))]}
    kill -0 "$p" 2>/dev/null || { echo "cluster_bench: node $n died during the bench; see $OUT/cluster-node-$n.log" >&2; status=1; }
done
exit $status
