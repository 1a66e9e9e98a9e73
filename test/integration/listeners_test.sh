#!/bin/bash
# listeners_test.sh - the seed tutorial's LISTENER_BOB / LISTENER_FRED example
# on one node: several named listeners on different ports advertising
# different host names (127.0.0.1, localhost, and LISTENER_ALICE's
# unreachable "never-gonna-give-you-up").  Metadata asked through each
# listener must return that listener's advertised address (kcat -L against
# each port), and a client that bootstraps through a listener produces and
# consumes through the advertised address.
# Then: a node configured ONLY through KAFKA_* environment variables (the
# properties file is empty, like the cp-kafka image) formats, starts and
# serves produce/consume, with CLUSTER_ID from the environment.
set -u
. "$(dirname "$0")/../lib/node.sh"

node_init listeners
# not NODE_CPORT (node_init's, unbound until the node starts): the CI once drew it again
read -r BOB FRED ALICE <<<"$(free_ports_besides 3 "$NODE_PORT" "$NODE_CPORT" | tr '\n' ' ')"
cat >"$NODE_PROPS" <<EOP
process.roles=broker,controller
node.id=1
listeners=LISTENER_BOB://127.0.0.1:$BOB,LISTENER_FRED://127.0.0.1:$FRED,LISTENER_ALICE://127.0.0.1:$ALICE,CONTROLLER://127.0.0.1:$NODE_CPORT
advertised.listeners=LISTENER_BOB://127.0.0.1:$BOB,LISTENER_FRED://localhost:$FRED,LISTENER_ALICE://never-gonna-give-you-up:$ALICE
listener.security.protocol.map=LISTENER_BOB:PLAINTEXT,LISTENER_FRED:PLAINTEXT,LISTENER_ALICE:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=LISTENER_BOB
controller.listener.names=CONTROLLER
controller.quorum.voters=1@127.0.0.1:$NODE_CPORT
log.dirs=$NODE_DIR/data
EOP
NODE_PORT=$BOB
node_start
node_wait_port "$FRED"
node_wait_port "$ALICE"

W="$NODE_DIR/work"; mkdir -p "$W"
check_md() {  # check_md BOOTSTRAP_PORT WANT_ADDRESS
    kcat -b "127.0.0.1:$1" -L -m 10 >"$W/md.$1" 2>&1 || { cat "$W/md.$1"; node_fail "kcat -L via port $1"; }
    grep -q "^  broker 1 at $2" "$W/md.$1" || { cat "$W/md.$1"; node_fail "Metadata via port $1 does not advertise $2"; }
    n=$(grep -c "^  broker " "$W/md.$1")
    [ "$n" -eq 1 ] || { cat "$W/md.$1"; node_fail "Metadata via port $1 lists $n brokers"; }
    echo "ok Metadata via port $1 -> broker 1 at $2"
}
check_md "$BOB" "127.0.0.1:$BOB"
check_md "$FRED" "localhost:$FRED"
check_md "$ALICE" "never-gonna-give-you-up:$ALICE"

# a client that bootstraps through FRED then talks to localhost:FRED
echo "hello-fred" | kcat -b "127.0.0.1:$FRED" -P -t fred-topic -X topic.request.required.acks=-1 2>"$W/p.err" \
    || { cat "$W/p.err"; node_fail "produce via LISTENER_FRED (advertised localhost)"; }
got=$(kcat -b "localhost:$FRED" -C -t fred-topic -o beginning -e -q 2>&1)
[ "$got" = "hello-fred" ] || node_fail "consume via LISTENER_FRED got: $got"
got=$(kcat -b "127.0.0.1:$BOB" -C -t fred-topic -o beginning -e -q 2>&1)
[ "$got" = "hello-fred" ] || node_fail "consume via LISTENER_BOB got: $got"
echo "ok produce/consume through the advertised addresses"
node_stop || node_fail "listeners node: SIGTERM exit non-zero"

# ---- a node configured only through KAFKA_* environment variables --------
node_init envnode
: >"$NODE_PROPS"   # empty file: every value comes from the environment
ENVDIR="$NODE_DIR/envdata"
ENV_ID=$("$SAMSA_CLI" storage random-uuid)
export KAFKA_PROCESS_ROLES=broker,controller
export KAFKA_NODE_ID=1
export KAFKA_LISTENERS="PLAINTEXT://127.0.0.1:$NODE_PORT,CONTROLLER://127.0.0.1:$NODE_CPORT"
export KAFKA_ADVERTISED_LISTENERS="PLAINTEXT://localhost:$NODE_PORT"
export KAFKA_LISTENER_SECURITY_PROTOCOL_MAP="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
export KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER
export KAFKA_CONTROLLER_QUORUM_VOTERS="1@127.0.0.1:$NODE_CPORT"
export KAFKA_LOG_DIRS="$ENVDIR"
export KAFKA_NUM_PARTITIONS=3
export CLUSTER_ID="$ENV_ID"
"$SAMSA_CLI" storage format -t "$ENV_ID" -c "$NODE_PROPS" >>"$NODE_LOG" 2>&1 || node_fail "format from env"
grep -qx "cluster.id=$ENV_ID" "$ENVDIR/meta.properties" || node_fail "env format did not write $ENVDIR/meta.properties"
node_start
check_md "$NODE_PORT" "localhost:$NODE_PORT"
seq 1 100 | kcat -b "$NODE_BOOTSTRAP" -P -t env-topic -X topic.request.required.acks=-1 2>"$W/p.err" \
    || { cat "$W/p.err"; node_fail "produce to env-configured node"; }
kcat -b "$NODE_BOOTSTRAP" -L -t env-topic | grep -q 'topic "env-topic" with 3 partitions' \
    || node_fail "KAFKA_NUM_PARTITIONS=3 not applied to auto-created topic"
n=$(kcat -b "$NODE_BOOTSTRAP" -C -t env-topic -o beginning -e -q 2>/dev/null | sort -n | uniq | wc -l)
[ "$n" -eq 100 ] || node_fail "env node: consumed $n distinct records, want 100"
grep -q "cluster_id=$ENV_ID" "$NODE_LOG" || node_fail "env node did not start with cluster id $ENV_ID"
echo "ok KAFKA_* environment-only node serves (3 partitions from KAFKA_NUM_PARTITIONS)"
node_stop || node_fail "env node: SIGTERM exit non-zero"
