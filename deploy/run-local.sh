#!/bin/bash
# run-local.sh - `make run`: a local Samsa cluster on this machine, configured
# like Apache Kafka in KRaft mode, formatted on first use, kept between runs.
#
#   NODES        1 or 3 (default 3): combined broker+controller nodes on loopback
#   SAMSA_DATA   data directory (default ./build/run)
#   SAMSA_PORT   first client port (default 9092): node N serves clients on
#                SAMSA_PORT+N-1 and its controller listener on SAMSA_PORT+10000+N-1
#                (with NODES=1: the controller listener is SAMSA_PORT+1, as before)
#
# NODES=3 runs the nodes in the background of this script, logs to
# <data>/node-N/server.log, prints the bootstrap servers once every node
# serves, and on Ctrl-C (or SIGTERM) stops all three with SIGTERM (the active
# controller hands over first) and waits for them.  NODES=1 runs one node in
# the foreground with its data in <data>/logs, as `make run` always did.
set -eu
cd "$(dirname "$0")/.."
DATA=${SAMSA_DATA:-$PWD/build/run}
PORT=${SAMSA_PORT:-9092}
NODES=${NODES:-3}
BIN=$PWD/build/bin

case "$NODES" in
    1|3) ;;
    *) echo "run-local: NODES=$NODES is not supported; use NODES=1 or NODES=3" >&2; exit 2 ;;
esac

# write_conf FILE NODE_ID CLIENT_PORT CTRL_PORT LOG_DIR VOTERS
write_conf() {
    cat > "$1" <<CONF
process.roles=broker,controller
node.id=$2
listeners=PLAINTEXT://127.0.0.1:$3,CONTROLLER://127.0.0.1:$4
advertised.listeners=PLAINTEXT://127.0.0.1:$3
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.voters=$6
inter.broker.listener.name=PLAINTEXT
log.dirs=$5
num.partitions=1
offsets.topic.replication.factor=$NODES
transaction.state.log.replication.factor=$NODES
CONF
}

mkdir -p "$DATA"
if [ "$NODES" = 1 ]; then
    CONF="$DATA/server.properties"
    write_conf "$CONF" 1 "$PORT" $((PORT + 1)) "$DATA/logs" "1@127.0.0.1:$((PORT + 1))"
    if [ ! -f "$DATA/logs/meta.properties" ]; then
        "$BIN/samsa" storage format -t "$("$BIN/samsa" storage random-uuid)" -c "$CONF"
    fi
    echo "Samsa node on 127.0.0.1:$PORT (data in $DATA). Try:"
    echo "  kcat -b 127.0.0.1:$PORT -L"
    echo "  ./build/bin/samsa topics --bootstrap-server 127.0.0.1:$PORT --create --topic demo --partitions 3"
    exec "$BIN/samsa-server" "$CONF"
fi

voters=""
bootstrap=""
for n in 1 2 3; do
    voters="$voters${voters:+,}$n@127.0.0.1:$((PORT + 10000 + n - 1))"
    bootstrap="$bootstrap${bootstrap:+,}127.0.0.1:$((PORT + n - 1))"
done
if [ ! -f "$DATA/cluster.id" ]; then
    "$BIN/samsa" storage random-uuid > "$DATA/cluster.id"
fi
cid=$(cat "$DATA/cluster.id")
for n in 1 2 3; do
    dir="$DATA/node-$n"
    mkdir -p "$dir"
    write_conf "$dir/server.properties" "$n" $((PORT + n - 1)) $((PORT + 10000 + n - 1)) "$dir/data" "$voters"
    if [ ! -f "$dir/data/meta.properties" ]; then
        "$BIN/samsa" storage format -t "$cid" -c "$dir/server.properties" >/dev/null
    fi
done

pids=()
stop_all() {
    trap - INT TERM
    echo
    echo "stopping the cluster (SIGTERM to each node)..."
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    rc=0
    for p in "${pids[@]}"; do wait "$p" || rc=$?; done
    echo "stopped."
    exit $rc
}
trap stop_all INT TERM

# each node in its own session: Ctrl-C reaches only this script, which then
# stops the nodes with one SIGTERM each (a second signal would stop a node at
# once, skipping the controller's handover)
for n in 1 2 3; do
    setsid "$BIN/samsa-server" "$DATA/node-$n/server.properties" >> "$DATA/node-$n/server.log" 2>&1 &
    pids+=($!)
done

# ready: every client port accepts (the node registered with the quorum)
deadline=$((SECONDS + 60))
for n in 1 2 3; do
    until (exec 3<>"/dev/tcp/127.0.0.1/$((PORT + n - 1))") 2>/dev/null; do
        if ! kill -0 "${pids[$((n - 1))]}" 2>/dev/null; then
            echo "run-local: node $n exited; its log ($DATA/node-$n/server.log) ends with:" >&2
            tail -n 20 "$DATA/node-$n/server.log" >&2
            stop_all
        fi
        if [ $SECONDS -ge $deadline ]; then
            echo "run-local: node $n does not serve 127.0.0.1:$((PORT + n - 1)) after 60 s; see $DATA/node-$n/server.log" >&2
            stop_all
        fi
        sleep 0.2
    done
done

cat <<EOF
Samsa: a 3-node cluster (broker+controller each) on this machine, data in $DATA.
  bootstrap servers: $bootstrap
  logs:              $DATA/node-{1,2,3}/server.log
Try, in another shell:
  kcat -b $bootstrap -L
  ./build/bin/samsa topics --bootstrap-server 127.0.0.1:$PORT --create --topic demo --partitions 3
  ./build/bin/samsa metadata-quorum --bootstrap-server 127.0.0.1:$PORT describe --status
Ctrl-C stops all three nodes.
EOF
wait
