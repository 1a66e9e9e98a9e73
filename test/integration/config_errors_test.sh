#!/bin/bash
# config_errors_test.sh - samsa-server refuses bad configuration the way an
# operator can act on: it exits non-zero, prints ONE line that names the key,
# the value and a fix, and never starts listening.  Cases: a port out of
# range, 0.0.0.0 advertised, a listener missing from the protocol map, a
# listener mapped to SSL / SASL_* (not supported yet; also by storage format), no
# node.id, an unformatted log dir, a cluster-id mismatch (CLUSTER_ID env vs
# meta.properties, and two log dirs formatted for different clusters): the
# last two name both ids.  Start-up failures after the config is read exit
# non-zero too: a client listener whose port is in use or whose host does not
# resolve (both are found only once the node has joined the quorum).
set -u
. "$(dirname "$0")/../lib/node.sh"

node_init cfg
W="$NODE_DIR/work"; mkdir -p "$W"
pass=0

# refused DESC EXPECT_LINES PATTERN... -- ARGS: run samsa-server ARGS, want exit
# non-zero within the timeout, at most EXPECT_LINES lines of output (0 = any),
# each PATTERN (fixed string) present, and the port never opened.
refused() {
    local desc=$1 lines=$2; shift 2
    local pats=() rc n
    while [ "$1" != "--" ]; do pats+=("$1"); shift; done
    shift
    timeout 20 env -u CLUSTER_ID "$SAMSA_SERVER" "$@" >"$W/out" 2>&1
    rc=$?
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || { cat "$W/out"; node_fail "$desc: exit $rc, want a non-zero exit"; }
    n=$(grep -c . "$W/out")
    if [ "$lines" -gt 0 ] && [ "$n" -ne "$lines" ]; then
        cat "$W/out"; node_fail "$desc: $n output lines, want $lines"
    fi
    for p in "${pats[@]}"; do
        grep -qF -- "$p" "$W/out" || { cat "$W/out"; node_fail "$desc: output lacks '$p'"; }
    done
    node_port_open "$NODE_PORT" && node_fail "$desc: port $NODE_PORT is open"
    echo "ok $desc: exit $rc: $(head -c 200 "$W/out" | head -n 1)"
    pass=$((pass + 1))
}

P=$NODE_PROPS
refused "port out of range" 1 "listeners=" "99999" "use a port" -- \
    "$P" --override "listeners=PLAINTEXT://127.0.0.1:99999,CONTROLLER://127.0.0.1:$NODE_CPORT"
refused "0.0.0.0 advertised" 1 "advertised.listeners=PLAINTEXT://0.0.0.0:$NODE_PORT" "not routable" "advertise a host" -- \
    "$P" --override "advertised.listeners=PLAINTEXT://0.0.0.0:$NODE_PORT"
refused "listener missing from protocol map" 1 "listener.security.protocol.map" "PLAINTEXT" "add PLAINTEXT:PLAINTEXT" -- \
    "$P" --override "listener.security.protocol.map=CONTROLLER:PLAINTEXT"
# no TLS/SASL yet: a listener mapped to SSL / SASL_* would be served as
# plaintext, so it stops the start (by the default map, and by an explicit map)
SSL_PORT=$(free_ports_besides 1 "$NODE_PORT" "$NODE_CPORT")
grep -v '^listener.security.protocol.map=' "$P" >"$W/default-map.properties"
refused "SSL listener (default map)" 1 "listeners=" "listener SSL uses security protocol SSL" "not supported yet" "remove SSL from listeners" -- \
    "$W/default-map.properties" --override "listeners=PLAINTEXT://127.0.0.1:$NODE_PORT,CONTROLLER://127.0.0.1:$NODE_CPORT,SSL://127.0.0.1:$SSL_PORT"
node_port_open "$SSL_PORT" && node_fail "SSL listener: port $SSL_PORT is open"
refused "SASL_SSL by protocol map" 1 "listener PLAINTEXT uses security protocol SASL_SSL" "not supported yet" -- \
    "$P" --override "listener.security.protocol.map=PLAINTEXT:SASL_SSL,CONTROLLER:PLAINTEXT"
refused "SASL_PLAINTEXT controller listener" 1 "listener CONTROLLER uses security protocol SASL_PLAINTEXT" "not supported yet" -- \
    "$P" --override "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:SASL_PLAINTEXT"
# samsa storage format reads the config as the server does: the same one line,
# a non-zero exit, and the log dir left unformatted
sed -e "s#^log.dirs=.*#log.dirs=$NODE_DIR/ssl-data#" \
    -e "s#^listeners=.*#listeners=PLAINTEXT://127.0.0.1:$NODE_PORT,CONTROLLER://127.0.0.1:$NODE_CPORT,SSL://127.0.0.1:$SSL_PORT#" \
    "$W/default-map.properties" >"$W/ssl.properties"
"$SAMSA_CLI" storage format -t "$NODE_CLUSTER_ID" -c "$W/ssl.properties" >"$W/out" 2>&1
rc=$?
[ "$rc" -ne 0 ] || { cat "$W/out"; node_fail "storage format with an SSL listener: exit 0"; }
[ "$(grep -c . "$W/out")" -eq 1 ] || { cat "$W/out"; node_fail "storage format with an SSL listener: want one line"; }
grep -qF "listener SSL uses security protocol SSL" "$W/out" && grep -qF "not supported yet" "$W/out" \
    || { cat "$W/out"; node_fail "storage format with an SSL listener: message"; }
[ -e "$NODE_DIR/ssl-data/meta.properties" ] && node_fail "storage format with an SSL listener wrote meta.properties"
echo "ok storage format with an SSL listener: exit $rc: $(head -n 1 "$W/out")"
pass=$((pass + 1))

grep -v '^node.id=' "$P" >"$W/no-node-id.properties"
refused "no node.id" 1 "node.id" "process.roles=broker,controller" "set node.id" -- "$W/no-node-id.properties"
refused "node.id not a number" 1 "node.id=abc" "whole number" -- "$P" --override node.id=abc

# unformatted: a fresh, empty log dir
sed "s#^log.dirs=.*#log.dirs=$NODE_DIR/empty#" "$P" >"$W/unformatted.properties"
refused "unformatted log dir" 0 "$NODE_DIR/empty" "not formatted" "samsa storage format" -- "$W/unformatted.properties"

# cluster id mismatch: CLUSTER_ID env (as cp-kafka passes it) vs meta.properties
OTHER=$("$SAMSA_CLI" storage random-uuid)
timeout 20 env CLUSTER_ID="$OTHER" "$SAMSA_SERVER" "$P" >"$W/out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || { cat "$W/out"; node_fail "CLUSTER_ID mismatch: exit $rc"; }
grep -qF "$OTHER" "$W/out" && grep -qF "$NODE_CLUSTER_ID" "$W/out" \
    || { cat "$W/out"; node_fail "CLUSTER_ID mismatch message does not name both ids"; }
echo "ok cluster id mismatch (env vs meta.properties) refused naming $NODE_CLUSTER_ID and $OTHER"
pass=$((pass + 1))

# two log dirs formatted for different clusters
sed "s#^log.dirs=.*#log.dirs=$NODE_DIR/other#" "$P" >"$W/other.properties"
"$SAMSA_CLI" storage format -t "$OTHER" -c "$W/other.properties" >/dev/null 2>&1 || node_fail "format other"
sed "s#^log.dirs=.*#log.dirs=$NODE_DIR/data,$NODE_DIR/other#" "$P" >"$W/two.properties"
refused "log dirs of two clusters" 0 "$OTHER" "$NODE_CLUSTER_ID" -- "$W/two.properties"

# bind failures: the port held by another process; a host that does not resolve
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); print("held", flush=True); time.sleep(60)' "$NODE_PORT" >"$W/holder" &
HOLDER=$!
for _ in $(seq 50); do grep -q held "$W/holder" && break; sleep 0.1; done
timeout 30 env -u CLUSTER_ID "$SAMSA_SERVER" "$P" >"$W/out" 2>&1
rc=$?
kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || { cat "$W/out"; node_fail "listener port in use: exit $rc, want non-zero"; }
grep -qF "cannot listen" "$W/out" && grep -qF "port=$NODE_PORT" "$W/out" && grep -qF "another process uses this port" "$W/out" \
    || { cat "$W/out"; node_fail "listener port in use: no operator line naming the port"; }
echo "ok listener port in use: exit $rc: $(grep -F 'cannot listen' "$W/out" | head -n 1 | cut -c1-200)"
pass=$((pass + 1))
timeout 30 env -u CLUSTER_ID "$SAMSA_SERVER" "$P" \
    --override "listeners=PLAINTEXT://no-such-host.invalid:$NODE_PORT,CONTROLLER://127.0.0.1:$NODE_CPORT" \
    --override "advertised.listeners=PLAINTEXT://127.0.0.1:$NODE_PORT" >"$W/out" 2>&1
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || { cat "$W/out"; node_fail "unresolvable listener host: exit $rc, want non-zero"; }
grep -qF "cannot resolve listener" "$W/out" && grep -qF "no-such-host.invalid" "$W/out" \
    || { cat "$W/out"; node_fail "unresolvable listener host: no operator line naming the host"; }
node_port_open "$NODE_PORT" && node_fail "unresolvable listener host: port $NODE_PORT is open"
echo "ok unresolvable listener host: exit $rc"
pass=$((pass + 1))

# and the good config still starts (the cases above changed nothing on disk)
node_start
node_stop || node_fail "SIGTERM exit non-zero"
echo "config errors: $pass cases refused; the valid config starts"
