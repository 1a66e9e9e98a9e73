#!/bin/bash
# server_scripts_test.sh - kafka-server-start[.sh] / kafka-server-stop[.sh] /
# kafka-run-class kafka.Kafka, run the way Kafka's scripts are: -daemon
# detaches and writes $LOG_DIR/kafkaServer.out, --override passes through,
# kafka-server-stop SIGTERMs running servers (filtered by --node-id /
# --process-role) and says "No kafka server to stop" when none runs.
#
# kafka-server-stop signals every samsa-server it can see, so the test runs
# itself in a private PID namespace (unshare, root only): it can only see,
# and stop, the servers it started.
cd "$(dirname "$0")/../.." || exit 1
if [ -z "${SERVER_SCRIPTS_NS:-}" ]; then
    if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
        echo "SKIP (needs unshare --pid for a private process table; run as root)"
        exit 77
    fi
    exec unshare --pid --fork --mount-proc env SERVER_SCRIPTS_NS=1 "$0" "$@"
fi
. test/lib/tooltest.sh
export PATH="$PWD/build/bin:$PATH"

server_pids() { # the samsa-server processes in this namespace
    local p
    for p in /proc/[0-9]*; do
        [ "$(tr '\0' '\n' <"$p/cmdline" 2>/dev/null | head -n 1 | sed 's|.*/||')" = samsa-server ] && echo "${p#/proc/}"
    done
}
wait_gone() { # wait up to 20 s for every samsa-server to exit
    local i
    for i in $(seq 200); do
        [ -z "$(server_pids)" ] && return 0
        sleep 0.1
    done
    return 1
}

node_init scripts
T=$NODE_ROOT
mkdir -p "$T/logs"

run 1 "start without a config" kafka-server-start.sh
err_first "USAGE: kafka-server-start.sh [-daemon] server.properties [--override property=value]*"
run 0 "start --help" kafka-server-start --help
out_has "USAGE: kafka-server-start [-daemon] server.properties [--override property=value]*"
run 1 "stop with nothing running" kafka-server-stop.sh
out_is "No kafka server to stop"

# -daemon: returns at once, the server keeps running, its output in LOG_DIR
LOG_DIR="$T/logs" run 0 "start -daemon" kafka-server-start.sh -daemon "$NODE_PROPS" --override log.retention.hours=170
out_is ""
if node_wait_port "$NODE_PORT"; then ok; else bad "daemon never listened on $NODE_PORT"; fi
run 0 "topics against the daemon" kafka-topics.sh --bootstrap-server "$NODE_BOOTSTRAP" --create --topic d1 --partitions 1
if [ -s "$T/logs/kafkaServer.out" ] && grep -q "node start\|INFO" "$T/logs/kafkaServer.out"; then ok
else bad "no server output in \$LOG_DIR/kafkaServer.out"; fi
run 0 "configs shows the --override" kafka-configs --bootstrap-server "$NODE_BOOTSTRAP" --describe --entity-type brokers --entity-name 1 --all
out_has "  log.retention.hours=170 sensitive=false synonyms={STATIC_BROKER_CONFIG:log.retention.hours=170, DEFAULT_CONFIG:log.retention.hours=168}"
run 1 "stop another node id" kafka-server-stop --node-id 99
out_is "No kafka server with node id 99 to stop"
run 1 "stop another role" kafka-server-stop --process-role nosuchrole
out_is "No kafka server with process role nosuchrole to stop"
run 0 "stop node 1" kafka-server-stop.sh --node-id 1
if wait_gone; then ok; else bad "server still running after kafka-server-stop"; fi
run 1 "stop again" kafka-server-stop
out_is "No kafka server to stop"

# foreground through kafka-run-class kafka.Kafka, stopped by role (SIGTERM: clean exit)
kafka-run-class kafka.Kafka "$NODE_PROPS" >"$T/fg.log" 2>&1 &
fg=$!
if node_wait_port "$NODE_PORT"; then ok; else bad "foreground server never listened"; fi
run 0 "stop by role" kafka-server-stop --process-role broker
wait "$fg"
rc=$?
if [ "$rc" -eq 0 ]; then ok; else bad "foreground server exit $rc after SIGTERM"; cat "$T/fg.log"; fi
run 1 "unknown class" kafka-run-class kafka.NoSuch
err_is "Error: Could not find or load main class kafka.NoSuch"

tooltest_done
