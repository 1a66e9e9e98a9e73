#!/bin/sh
# storage_test.sh - end-to-end test of `samsa storage` (random-uuid, format,
# --ignore-formatted, info, cluster/node id mismatch, config errors).
# Standalone: exits non-zero on failure, prints "N passed, N failed" last.
# SAMSA=path/to/samsa overrides the binary (default build/bin/samsa).
cd "$(dirname "$0")/../.." || exit 1
SAMSA=${SAMSA:-build/bin/samsa}
[ -x "$SAMSA" ] || { echo "storage_test: $SAMSA not built"; echo "0 passed, 1 failed"; exit 1; }
SAMSA=$(cd "$(dirname "$SAMSA")" && pwd)/$(basename "$SAMSA")

T=$(mktemp -d /tmp/samsa-storage-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0; fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $1"; [ -f "$T/out" ] && sed 's/^/    /' "$T/out"; }

# run EXPECTED_RC DESCRIPTION cmd... : runs with a clean KAFKA_* environment.
run() {
    want=$1; what=$2; shift 2
    env -u CLUSTER_ID "$@" >"$T/out" 2>&1
    got=$?
    if [ "$got" -eq "$want" ]; then ok; else bad "$what (exit $got, want $want)"; fi
}
has() { if grep -q -- "$1" "$T/out"; then ok; else bad "output lacks: $1"; fi; }

cat >"$T/server.properties" <<EOF
# a KRaft combined node
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
controller.listener.names=CONTROLLER
controller.quorum.voters=1@localhost:9093
log.dirs=$T/d1,$T/d2
metadata.log.dir=$T/meta
EOF

# random-uuid
run 0 "random-uuid" "$SAMSA" storage random-uuid
ID=$(cat "$T/out")
if printf '%s' "$ID" | grep -Eq '^[A-Za-z0-9_][A-Za-z0-9_-]{21}$'; then ok; else bad "uuid format: $ID"; fi
run 0 "random-uuid again" "$SAMSA" storage random-uuid
[ "$(cat "$T/out")" != "$ID" ] && ok || bad "two random-uuids are equal"

# format: every log dir and the metadata dir, created with parents
run 0 "format" "$SAMSA" storage format -t "$ID" -c "$T/server.properties"
for d in d1 d2 meta; do
    f="$T/$d/meta.properties"
    if [ -f "$f" ] && grep -qx "cluster.id=$ID" "$f" && grep -qx "node.id=1" "$f" \
        && grep -qx "version=1" "$f" && grep -q "^directory.id=" "$f"; then ok
    else bad "meta.properties in $d"; fi
done
has "Formatting $T/d1"
n=$(cat "$T"/d1/meta.properties "$T"/d2/meta.properties "$T"/meta/meta.properties | grep '^directory.id=' | sort -u | wc -l)
[ "$n" -eq 3 ] && ok || bad "directory ids are not distinct ($n)"

# format twice: refused, nothing changed
cp "$T/d1/meta.properties" "$T/before"
run 1 "format twice" "$SAMSA" storage format -t "$ID" -c "$T/server.properties"
has "is already formatted. Use --ignore-formatted"
cmp -s "$T/before" "$T/d1/meta.properties" && ok || bad "second format changed d1"

# --ignore-formatted: all formatted -> exit 0
run 0 "ignore-formatted, all done" "$SAMSA" storage format -t "$ID" -c "$T/server.properties" --ignore-formatted
has "All of the log directories are already formatted."

# --ignore-formatted with one new dir (added by --override): only it is formatted
run 0 "ignore-formatted, one new" "$SAMSA" storage format -t "$ID" -c "$T/server.properties" -g \
    --override "log.dirs=$T/d1,$T/d2,$T/deep/d3"
[ -f "$T/deep/d3/meta.properties" ] && ok || bad "d3 not formatted"
has "Formatting $T/deep/d3"
if grep -q "Formatting $T/d1" "$T/out"; then bad "d1 reformatted"; else ok; fi
cmp -s "$T/before" "$T/d1/meta.properties" && ok || bad "ignore-formatted changed d1"

# info: all agree
run 0 "info" "$SAMSA" storage info -c "$T/server.properties"
has "ok: all 3 dirs belong to cluster $ID node 1"

# mismatch: another cluster id (CLUSTER_ID env, as in the cp-kafka image)
OTHER=$("$SAMSA" storage random-uuid)
run 1 "cluster id mismatch" env CLUSTER_ID="$OTHER" "$SAMSA" storage info -c "$T/server.properties"
has "belongs to cluster $ID"
has "expects cluster $OTHER"

# mismatch: node id
run 1 "node id mismatch" "$SAMSA" storage info -c "$T/server.properties" --override node.id=2 \
    --override controller.quorum.voters=2@localhost:9093
has "belongs to node.id=1"
has "set node.id=1"

# an unformatted dir
run 1 "unformatted dir" "$SAMSA" storage info -c "$T/server.properties" --override "log.dirs=$T/d1,$T/new"
has "log dir $T/new is not formatted: run \`samsa storage format -t $ID -c $T/server.properties\`"

# bad cluster id, missing -t, config errors, legacy config
run 1 "invalid cluster id" "$SAMSA" storage format -t not-a-uuid -c "$T/server.properties"
has "is not a valid Kafka Uuid"
run 1 "missing -t" "$SAMSA" storage format -c "$T/server.properties"
has "cluster-id is required"
run 1 "bad port" "$SAMSA" storage format -t "$ID" -c "$T/server.properties" --override "listeners=PLAINTEXT://:99999,CONTROLLER://:9093"
has "config error: listeners=PLAINTEXT://:99999,CONTROLLER://:9093 port 99999 is out of range 0-65535"
printf 'log.dirs=%s/zk\n' "$T" >"$T/zk.properties"
run 1 "no process.roles" "$SAMSA" storage format -t "$ID" -c "$T/zk.properties"
has "formatting is only for KRaft nodes"
run 1 "missing config file" "$SAMSA" storage format -t "$ID" -c "$T/nope.properties"
has "cannot read config file"

# YAML config and KAFKA_* env, CLUSTER_ID as the id when -t is absent
cat >"$T/server.yaml" <<EOF
process.roles: broker,controller
node.id: 5
listeners: PLAINTEXT://:9092,CONTROLLER://:9093
controller:
  listener.names: CONTROLLER
  quorum.voters: [5@localhost:9093]
log:
  dirs: $T/y1
EOF
run 0 "yaml + env" env KAFKA_LOG_DIRS="$T/y2" CLUSTER_ID="$ID" "$SAMSA" storage format -c "$T/server.yaml"
[ -f "$T/y2/meta.properties" ] && grep -qx "node.id=5" "$T/y2/meta.properties" && ok || bad "env log dir not formatted"
[ ! -e "$T/y1" ] && ok || bad "KAFKA_LOG_DIRS did not override the file"

# dispatcher
run 0 "samsa --help" "$SAMSA" --help
has "storage"
run 1 "unknown tool" "$SAMSA" frobnicate
has "unknown tool 'frobnicate'"
run 0 "storage --help" "$SAMSA" storage --help
has "random-uuid"
run 0 "format --help" "$SAMSA" storage format --help
run 1 "unknown storage command" "$SAMSA" storage explode

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
