#!/bin/bash
# profile-samsa.sh - where a Samsa node spends its CPU under one bench phase.
#
#   test/bench/profile-samsa.sh produce|consume|latency [samsa_load args...]
#
# Starts a fresh node (like run-bench.sh), records it with
# `perf record -e cpu-clock --call-graph dwarf` while build/bin/samsa_load
# runs the one phase (--reps 1), stops the node with SIGTERM and prints the
# top of `perf report` (inclusive, then self).  perf's hardware counters are
# not available in this VM; the cpu-clock software event is.  Output files
# go to $BUILD/bench/profile-<phase>.{data,txt}.  Needs perf (Debian: linux-perf).
set -u
cd "$(dirname "$0")/../.."
PHASE=${1:?usage: profile-samsa.sh produce|consume|latency [samsa_load args]}
shift
BUILD=${BUILD:-build}
BIN=$BUILD/bin
OUT=$BUILD/bench
mkdir -p "$OUT"
command -v perf >/dev/null || { echo "profile-samsa: perf not installed" >&2; exit 1; }
DIR=$(mktemp -d "${TMPDIR:-/tmp}/samsa-prof.XXXXXX")
SERVER_PID=""
PERF_PID=""
cleanup() {
    [ -n "$PERF_PID" ] && kill -INT "$PERF_PID" 2>/dev/null && wait "$PERF_PID" 2>/dev/null
    [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE
free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
CPORT=$(free_port)
cat > "$DIR/server.properties" <<CONF
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
CONF
"$BIN/samsa" storage format -t "$("$BIN/samsa" storage random-uuid)" -c "$DIR/server.properties" >/dev/null || exit 1
cp "$BIN/samsa-server" "$DIR/samsa-bench-node" # another name: see run-bench.sh
"$DIR/samsa-bench-node" "$DIR/server.properties" > "$OUT/profile-server.log" 2>&1 &
SERVER_PID=$!
deadline=$(( $(date +%s) + 30 ))
until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null || [ "$(date +%s)" -gt "$deadline" ]; then
        echo "profile-samsa: node did not start; see $OUT/profile-server.log" >&2
        exit 1
    fi
    sleep 0.05 # poll interval; readiness is the port accepting
done
DATA=$OUT/profile-$PHASE.data
perf record -q -e cpu-clock --call-graph dwarf,16384 -F 500 -o "$DATA" -p "$SERVER_PID" 2>/dev/null &
PERF_PID=$!
"$BIN/samsa_load" --bootstrap "127.0.0.1:$PORT" --broker-pid "$SERVER_PID" --reps 1 --only "$PHASE" "$@"
kill -INT "$PERF_PID"
wait "$PERF_PID"
PERF_PID=""
{
    echo "== inclusive (children) >= 2%"
    perf report -i "$DATA" --children --stdio -g none --percent-limit 2 2>/dev/null | grep -E '^ +[0-9]'
    echo "== self >= 1%"
    perf report -i "$DATA" --no-children --stdio -g none --percent-limit 1 2>/dev/null | grep -E '^ +[0-9]'
} > "$OUT/profile-$PHASE.txt"
cat "$OUT/profile-$PHASE.txt"
echo "(perf data: $DATA; report: $OUT/profile-$PHASE.txt)"
