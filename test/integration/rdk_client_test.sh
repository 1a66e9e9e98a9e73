#!/bin/bash
# rdk_client_test.sh - runs build/bin/rdk_client (test/clients/rdk_client.c,
# librdkafka's C API) against a fresh node: admin (create with configs and
# validate-only, configs, partitions, delete topics, delete records), produce
# with every codec and acks=all, consume, offsets_for_times.
set -u
. "$(dirname "$0")/../lib/node.sh"
CLIENT="$NODE_TOP/build/bin/rdk_client"
[ -x "$CLIENT" ] || node_fail "$CLIENT not built (make all)"
node_up
"$CLIENT" "$NODE_BOOTSTRAP" || node_fail "rdk_client reported a failure"
node_alive || node_fail "server died"
