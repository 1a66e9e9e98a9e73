#!/bin/bash
# kafka_cli_test.sh - runs test/tools/kafka_cli_test.py (the kafka-* command
# line tools against a 3-node cluster); a .sh so test/run-integration.sh finds it.
cd "$(dirname "$0")/../.." || exit 1
exec /usr/bin/python3 test/tools/kafka_cli_test.py
