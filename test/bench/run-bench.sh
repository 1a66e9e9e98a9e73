#!/bin/bash
# run-bench.sh - `make bench`: in ONE run, the machine's limits, one Samsa
# node and librdkafka's in-process mock cluster, measured the same way, each
# repeated BENCH_REPS times; prints medians, ratios and "TARGET MISSED" lines.
#
#   1. disk:     build/bin/bench_disk  - 1 GiB in 1 MiB writes + fdatasync, in the data dir
#   2. loopback: build/bin/bench_net   - one TCP flow over 127.0.0.1, 10 s or 8 GiB
#   3. samsa:    a fresh single node (broker+controller) started like a user would
#                (storage format, then the server binary with a server.properties that
#                has the single-node settings offsets/transaction replication factor 1),
#                driven by build/bin/samsa_load; its CPU from /proc/<pid>/stat
#   4. mock:     build/bin/samsa_load --mock (rd_kafka_mock_cluster_new, same load);
#                3 and 4 alternate repetition by repetition, one samsa_load each
#   5. cluster:  test/bench/cluster_bench.sh - a 3-node cluster (make run's shape,
#                min.insync.replicas=2): produce at RF=3 acks=all / acks=1 / RF=1,
#                e2e latency at 10 MB/s RF=3 acks=all, the three nodes' CPU per GB,
#                next to the mock's single copy, alternating rep by rep
#   6. summary:  test/bench/summarize.py -> table, ratios, TARGET MISSED lines
#
# Environment knobs (defaults in brackets):
#   BUILD [build]            where the binaries are
#   BENCH_DIR [mktemp -d]    data dir for the disk test and the node (removed after,
#                            unless BENCH_KEEP=1)
#   BENCH_OUT [$BUILD/bench] where raw.txt, server.log and results.md are written
#   BENCH_REPS [5]           repetitions of every measurement (medians reported)
#   BENCH_DISK_MIB [1024]    disk test size
#   BENCH_NET_SECS [10]      loopback test duration cap (8 GiB cap too)
#   BENCH_LOAD_ARGS []       extra samsa_load arguments for both targets
#   BENCH_SKIP_MOCK / BENCH_SKIP_SAMSA / BENCH_SKIP_MACHINE / BENCH_SKIP_CLUSTER = 1 to leave
#                            a part out (cluster knobs: see cluster_bench.sh)
#
# Exit status: 0 when every part ran (even if targets are missed); 1 when a
# part could not run (build missing, node failed to start, load errors).
# Never uses fixed sleeps for readiness: it polls the node's port.
set -u -o pipefail  # a failing measurement fails its `| tee` pipeline (the exit status above)
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
BIN=$BUILD/bin
REPS=${BENCH_REPS:-5}
OUT=${BENCH_OUT:-$BUILD/bench}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
RAW=$OUT/raw.txt
: > "$RAW"
if [ -n "${BENCH_DIR:-}" ]; then
    DIR=$BENCH_DIR
    mkdir -p "$DIR"
else
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/samsa-bench.XXXXXX")
fi
SERVER_PID=""
status=0
t_start=$(date +%s)

cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    fi
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

for b in bench_disk bench_net samsa_load samsa samsa-server; do
    if [ ! -x "$BIN/$b" ]; then
        echo "run-bench: $BIN/$b is missing: run make all first" >&2
        exit 1
    fi
done

echo "== samsa bench: $(date -u +%Y-%m-%dT%H:%M:%SZ) reps=$REPS data=$DIR"
echo "   host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
     "$(uname -r), librdkafka $(pkg-config --modversion rdkafka 2>/dev/null || echo '?')," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- 1+2: the machine -------------------------------------------------------
if [ "${BENCH_SKIP_MACHINE:-0}" != 1 ]; then
    for i in $(seq "$REPS"); do
        echo "-- disk rep $i"
        "$BIN/bench_disk" "$DIR" "${BENCH_DISK_MIB:-1024}" | tee -a "$RAW" || status=1
    done
    for i in $(seq "$REPS"); do
        echo "-- loopback rep $i"
        "$BIN/bench_net" "${BENCH_NET_SECS:-10}" 8 | tee -a "$RAW" || status=1
    done
fi

# ---- 3: one samsa node ------------------------------------------------------
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # port pid timeout_s: poll until the port accepts or the process dies
    local port=$1 pid=$2 deadline=$(( $(date +%s) + $3 ))
    while [ "$(date +%s)" -le "$deadline" ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "run-bench: process $pid exited before port $port accepted" >&2
            return 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.05 # poll interval; readiness is the port accepting, not this
    done
    echo "run-bench: port $port did not accept within $3 s" >&2
    return 1
}

if [ "${BENCH_SKIP_SAMSA:-0}" != 1 ]; then
    PORT=$(free_port)
    CPORT=$(free_port)
    while [ "$CPORT" = "$PORT" ]; do CPORT=$(free_port); done
    CONF=$DIR/server.properties
    cat > "$CONF" <<CONF
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.voters=1@127.0.0.1:$CPORT
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
log.dirs=$DIR/logs
${BENCH_NODE_PROPS:-}
CONF
    echo "-- samsa: format + start on 127.0.0.1:$PORT (controller $CPORT)"
    if ! "$BIN/samsa" storage format -t "$("$BIN/samsa" storage random-uuid)" -c "$CONF" > "$OUT/format.log" 2>&1; then
        echo "run-bench: samsa storage format failed:" >&2
        cat "$OUT/format.log" >&2
        exit 1
    fi
    # The node runs from a byte-identical copy under another name: on this shared
    # machine other people's clean-ups have SIGTERMed every "samsa-server" mid-run.
    cp "$BIN/samsa-server" "$DIR/samsa-bench-node"
    "$DIR/samsa-bench-node" "$CONF" > "$OUT/server.log" 2>&1 &
    SERVER_PID=$!
    if ! wait_port "$PORT" "$SERVER_PID" 30; then
        echo "run-bench: samsa-server did not accept on $PORT; tail of $OUT/server.log:" >&2
        tail -20 "$OUT/server.log" >&2
        exit 1
    fi
fi

# ---- 3 + 4: the same load against Samsa and against librdkafka's mock
# cluster (rd_kafka_mock_cluster_new), alternating repetition by repetition:
# each samsa_load is a fresh process, and on this VM memory a process touches
# for the first time since boot costs several times more than reused memory,
# so whichever target ran second in one block would inherit warm pages.
for i in $(seq "$REPS"); do
    if [ "${BENCH_SKIP_SAMSA:-0}" != 1 ] && [ -n "$SERVER_PID" ]; then
        # shellcheck disable=SC2086
        if ! "$BIN/samsa_load" --bootstrap "127.0.0.1:$PORT" --broker-pid "$SERVER_PID" --label samsa \
                --reps 1 --first-rep "$i" ${BENCH_LOAD_ARGS:-} 2>> "$OUT/samsa_load.samsa.log" | tee -a "$RAW"; then
            echo "run-bench: samsa_load against samsa reported errors; see $OUT/samsa_load.samsa.log" >&2
            tail -5 "$OUT/samsa_load.samsa.log" >&2
            status=1
        fi
    fi
    if [ "${BENCH_SKIP_MOCK:-0}" != 1 ]; then
        # shellcheck disable=SC2086
        if ! "$BIN/samsa_load" --mock --label mock --reps 1 --first-rep "$i" ${BENCH_LOAD_ARGS:-} \
                2>> "$OUT/samsa_load.mock.log" | tee -a "$RAW"; then
            echo "run-bench: samsa_load against the mock reported errors; see $OUT/samsa_load.mock.log" >&2
            tail -5 "$OUT/samsa_load.mock.log" >&2
            status=1
        fi
    fi
done

if [ "${BENCH_SKIP_SAMSA:-0}" != 1 ] && [ -n "$SERVER_PID" ]; then
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "-- samsa: RSS at end $(awk '/VmRSS/ {print $2, $3}' "/proc/$SERVER_PID/status")," \
             "data dir $(du -sh "$DIR/logs" | cut -f1)"
        kill -TERM "$SERVER_PID"
        wait "$SERVER_PID"
        echo "-- samsa: exit status after SIGTERM: $?"
    else
        echo "run-bench: samsa-server died during the bench; tail of $OUT/server.log:" >&2
        tail -20 "$OUT/server.log" >&2
        status=1
    fi
    SERVER_PID=""
fi

# ---- 5: the replicated 3-node cluster ----------------------------------------
if [ "${BENCH_SKIP_CLUSTER:-0}" != 1 ]; then
    echo
    RAW=$RAW RAW_APPEND=1 BENCH_OUT=$OUT BENCH_REPS=$REPS test/bench/cluster_bench.sh || status=1
fi

# ---- 6: summary -------------------------------------------------------------
echo
/usr/bin/python3 test/bench/summarize.py "$RAW" "$OUT/results.md" || status=1

# ---- 7: the metadata quorum (3-node cluster) ---------------------------------
if [ "${BENCH_SKIP_QUORUM:-0}" != 1 ]; then
    echo
    echo "-- quorum: 3 combined nodes: CreateTopics p50/p99, failover, 10,000 partitions"
    /usr/bin/python3 test/bench/quorum_bench.py 2>"$OUT/quorum_bench.log" | tee -a "$OUT/results.md" || status=1
fi
echo "(raw results: $RAW; markdown: $OUT/results.md; bench took $(( $(date +%s) - t_start )) s)"
exit $status
