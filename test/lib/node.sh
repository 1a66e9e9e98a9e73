# node.sh - bash helpers that run one Samsa node the way a user does, for tests.
#
# Source it from a test (`. test/lib/node.sh`).  It owns a fresh temp dir per
# test (NODE_ROOT), picks free loopback ports from the kernel, writes a KRaft
# combined-mode server.properties, formats the log dir with `samsa storage
# format`, starts build/bin/samsa-server, and polls (with a deadline, never a
# fixed sleep) until the PLAINTEXT listener accepts connections.
#
# Invariants:
#   - every server this file starts is recorded in NODE_PIDS and is killed
#     by the EXIT trap, so no server outlives the test, even on failure;
#   - server stdout+stderr go to $NODE_DIR/server.log (appended across
#     restarts, with a marker line per start) and are printed by node_fail
#     and by the trap when the test exits non-zero;
#   - one "current" node per shell (NODE_*); node_init again makes another.
#
# Does not: build anything (run `make all` first), run more than the caller
# asks, or talk Kafka (tests use real clients for that).
#
# Public functions:
#   node_init [NAME]     fresh dir + ports + properties + format (no start)
#   node_start [ARGS..]  start samsa-server on the current dir, wait until ready
#   node_stop            SIGTERM, wait for exit (fails the test if it hangs)
#   node_kill            SIGKILL, wait
#   node_restart         node_stop + node_start on the same dir
#   node_up [NAME]       node_init + node_start
#   node_wait_port PORT  poll until PORT accepts (deadline NODE_WAIT_S)
#   node_alive           0 if the current server process is running
#   node_fail MSG        print MSG + server logs, exit 1
#   free_ports N         print N free TCP ports, one per line
#   free_ports_besides N PORT...  the same, none of them one of PORT... (ports an
#                        earlier free_ports handed out are free again until bound)
# Variables after node_init: NODE_DIR NODE_PORT NODE_CPORT NODE_BOOTSTRAP
#   NODE_PROPS NODE_LOG NODE_CLUSTER_ID; after node_start: NODE_PID.

NODE_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SAMSA_SERVER=${SAMSA_SERVER:-$NODE_TOP/build/bin/samsa-server}
SAMSA_CLI=${SAMSA_CLI:-$NODE_TOP/build/bin/samsa}
NODE_WAIT_S=${NODE_WAIT_S:-20}
NODE_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/samsa-it.XXXXXX")
NODE_PIDS=""
NODE_PID=""
NODE_LOGS=""
NODE_PDEATH=""
setpriv --pdeathsig KILL true 2>/dev/null && NODE_PDEATH="setpriv --pdeathsig KILL"

[ -x "$SAMSA_SERVER" ] || { echo "node.sh: $SAMSA_SERVER not built (make all)"; exit 1; }
[ -x "$SAMSA_CLI" ] || { echo "node.sh: $SAMSA_CLI not built (make all)"; exit 1; }

node_print_logs() {
    local l
    for l in $NODE_LOGS; do
        [ -f "$l" ] || continue
        echo "---- server log $l (last 60 lines) ----"
        tail -n 60 "$l"
    done
}

node_cleanup() {
    local rc=$? p
    for p in $NODE_PIDS; do
        if kill -0 "$p" 2>/dev/null; then
            kill -9 "$p" 2>/dev/null
            wait "$p" 2>/dev/null
        fi
    done
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then   # 77 = skipped, not a failure
        node_print_logs
    fi
    if [ -n "${KEEP:-}" ]; then
        echo "node.sh: kept $NODE_ROOT"
    else
        rm -rf "$NODE_ROOT"
    fi
    exit "$rc"
}
trap node_cleanup EXIT
trap 'exit 130' INT TERM

node_fail() {
    echo "FAIL: $*"
    exit 1
}

free_ports() {
    /usr/bin/python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
PY
}

free_ports_besides() {
    local n=$1 got p clash
    shift
    while :; do
        got=$(free_ports "$n")
        clash=0
        for p in $got; do
            case " $* " in *" $p "*) clash=1 ;; esac
        done
        [ "$clash" = 0 ] && { echo "$got"; return; }
    done
}

# node_write_props: the default single-node KRaft combined config.
node_write_props() {
    cat >"$NODE_PROPS" <<EOP
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:$NODE_PORT,CONTROLLER://127.0.0.1:$NODE_CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$NODE_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.voters=1@127.0.0.1:$NODE_CPORT
log.dirs=$NODE_DIR/data
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
EOP
}

node_init() {
    local name=${1:-node}
    local ports
    NODE_DIR="$NODE_ROOT/$name"
    mkdir -p "$NODE_DIR"
    ports=$(free_ports 2)
    NODE_PORT=$(echo "$ports" | sed -n 1p)
    NODE_CPORT=$(echo "$ports" | sed -n 2p)
    NODE_BOOTSTRAP="127.0.0.1:$NODE_PORT"
    NODE_PROPS="$NODE_DIR/server.properties"
    NODE_LOG="$NODE_DIR/server.log"
    NODE_LOGS="$NODE_LOGS $NODE_LOG"
    NODE_PID=""
    node_write_props
    NODE_CLUSTER_ID=$("$SAMSA_CLI" storage random-uuid) || node_fail "samsa storage random-uuid"
    "$SAMSA_CLI" storage format -t "$NODE_CLUSTER_ID" -c "$NODE_PROPS" >>"$NODE_LOG" 2>&1 \
        || node_fail "samsa storage format -c $NODE_PROPS"
}

node_alive() {
    [ -n "$NODE_PID" ] && kill -0 "$NODE_PID" 2>/dev/null
}

# node_port_open PORT: one connection attempt, no data sent.
node_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

node_wait_port() {
    local port=$1 deadline=$((SECONDS + NODE_WAIT_S))
    while [ "$SECONDS" -lt "$deadline" ]; do
        node_port_open "$port" && return 0
        if [ -n "$NODE_PID" ] && ! kill -0 "$NODE_PID" 2>/dev/null; then
            node_fail "samsa-server (pid $NODE_PID) exited before port $port opened"
        fi
        sleep 0.05   # poll interval, not a wait for an event
    done
    node_fail "port $port did not accept connections within ${NODE_WAIT_S}s"
}

# node_start [ARGS...]: ARGS are passed to samsa-server after the properties file.
node_start() {
    echo "==== node start $(date +%T.%N) args: $* ====" >>"$NODE_LOG"
    # setpriv --pdeathsig: the server gets SIGKILL if this shell dies, even
    # by SIGKILL, so no server outlives its test
    $NODE_PDEATH "$SAMSA_SERVER" "$NODE_PROPS" "$@" >>"$NODE_LOG" 2>&1 &
    NODE_PID=$!
    NODE_PIDS="$NODE_PIDS $NODE_PID"
    node_wait_port "$NODE_PORT"
}

node_up() {
    node_init "$@"
    node_start
}

node_stop() {
    local deadline=$((SECONDS + NODE_WAIT_S)) rc
    node_alive || node_fail "node_stop: server is not running"
    kill -TERM "$NODE_PID"
    while kill -0 "$NODE_PID" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || node_fail "samsa-server did not exit ${NODE_WAIT_S}s after SIGTERM"
        sleep 0.05
    done
    wait "$NODE_PID"; rc=$?
    NODE_PID=""
    return "$rc"
}

node_kill() {
    node_alive || node_fail "node_kill: server is not running"
    kill -9 "$NODE_PID"
    wait "$NODE_PID" 2>/dev/null
    NODE_PID=""
}

node_restart() {
    node_stop || node_fail "samsa-server exited non-zero after SIGTERM"
    node_start "$@"
}
