#!/bin/bash
# groups_kafkajs_test.sh - kafkajs consumer groups (test/js/groups_kafkajs.js)
# against a node with offsets.topic.replication.factor=1 (the default 3 is
# more than one broker: COORDINATOR_NOT_AVAILABLE, as with Kafka).
# Skipped (77) when kafkajs is not installed in test/js/node_modules.
set -u
cd "$(dirname "$0")/../.."
if [ ! -d test/js/node_modules/kafkajs ] || ! command -v node >/dev/null; then
    echo "SKIP (kafkajs not installed: cd test/js && npm ci)"; exit 77
fi
. test/lib/node.sh
node_init
node_start --override offsets.topic.replication.factor=1 --override group.initial.rebalance.delay.ms=0
export SAMSA_BOOTSTRAP="$NODE_BOOTSTRAP"
node test/js/groups_kafkajs.js || node_fail "kafkajs groups test failed"
node_alive || node_fail "samsa-server died during the kafkajs groups test"
node_stop || node_fail "samsa-server exited non-zero after SIGTERM"
echo "groups_kafkajs_test: OK"
