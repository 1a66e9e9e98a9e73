#!/bin/bash
# opview_test.sh - runs test/tools/opview_test.py (kafka-log-dirs,
# kafka-reassign-partitions and kafka-topics' describe filters against a
# 3-node cluster); a .sh so test/run-integration.sh finds it.
cd "$(dirname "$0")/../.." || exit 1
exec /usr/bin/python3 test/tools/opview_test.py
