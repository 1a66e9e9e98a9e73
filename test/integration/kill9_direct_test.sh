#!/bin/bash
# kill9_direct_test.sh - kill9_test.py with direct appends (samsa.log.direct.io=true)
# through the smallest tail buffer: every acknowledged record survives kill -9,
# a consumer following the tail reads only what was produced.
exec env KILL9_APPENDS=direct /usr/bin/python3 "$(dirname "$0")/kill9_test.py"
