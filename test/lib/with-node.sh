#!/bin/bash
# with-node.sh - run a command against a fresh node: `with-node.sh CMD ARGS...`
# starts a node with test/lib/node.sh, exports SAMSA_BOOTSTRAP (host:port of
# its PLAINTEXT listener), runs CMD, then checks the node is still alive and
# stops it (SIGTERM, must exit 0).  Exit status: CMD's (77 = skipped passes
# through), or 1 if the node died or stopped badly.  Server logs are printed
# on failure by node.sh's trap.  Used for the kafkajs tests (test/js).
set -u
. "$(dirname "$0")/node.sh"
node_up
export SAMSA_BOOTSTRAP="$NODE_BOOTSTRAP"
"$@"
rc=$?
node_alive || node_fail "samsa-server died while '$*' ran"
node_stop || node_fail "samsa-server exited non-zero after SIGTERM"
exit "$rc"
