#!/bin/bash
# run-integration.sh - run every integration test, one at a time, each under a
# timeout, and print one line per test and a final summary line:
#   integration: N passed, N failed, N skipped
# Exit status is non-zero if any test failed (or timed out).
#
# Tests are discovered by convention:
#   test/integration/*.sh, test/integration/*.py, test/tools/*.sh,
#   test/js/*.test.js (run with node under test/lib/with-node.sh, which starts
#   a node and exports SAMSA_BOOTSTRAP; `npm ci` first if node_modules is missing)
# A test passes with exit 0, is SKIPPED with exit 77 (it must print why:
# e.g. "SKIP (needs consumer groups, issue: consumer groups)"), fails otherwise.
# A test's full output goes to build/integration-logs/<name>.log and is printed
# (last 80 lines) when it fails.
#
# Env: IT_TIMEOUT_S (default 300) per-test timeout, IT_FILTER (substring) to run
# a subset, IT_VERBOSE=1 to print every test's output.
cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)
LOGS="$TOP/build/integration-logs"
mkdir -p "$LOGS"
TIMEOUT_S=${IT_TIMEOUT_S:-300}
PY=/usr/bin/python3
pass=0; fail=0; skip=0
failed_names=""

tests=()
for f in test/integration/*.sh test/integration/*.py test/tools/*.sh test/js/*.test.js; do
    [ -f "$f" ] || continue
    if [ -n "${IT_FILTER:-}" ] && [[ "$f" != *"$IT_FILTER"* ]]; then continue; fi
    tests+=("$f")
done

js_ready=""
js_prepare() {
    [ -n "$js_ready" ] && return "$js_ready"
    js_ready=0
    if [ ! -d test/js/node_modules/kafkajs ]; then
        if ! command -v npm >/dev/null 2>&1; then
            echo "npm not found" >"$LOGS/npm-install.log"; js_ready=1; return 1
        fi
        (cd test/js && npm ci --no-audit --no-fund) >"$LOGS/npm-install.log" 2>&1 || js_ready=1
    fi
    return "$js_ready"
}

# kafkajs is used by test/js and by integration tests that drive it (groups):
# install it once up front; the js tests report a failed install themselves
js_prepare || true

for t in "${tests[@]}"; do
    name=${t#test/}
    log="$LOGS/$(echo "$name" | tr '/' '_').log"
    case "$t" in
        *.py) cmd=("$PY" "$t") ;;
        *.js)
            if ! js_prepare; then
                echo "FAIL  $name (npm ci failed, see $LOGS/npm-install.log)"
                tail -n 20 "$LOGS/npm-install.log"
                fail=$((fail + 1)); failed_names="$failed_names $name"; continue
            fi
            cmd=(bash test/lib/with-node.sh node "$t") ;;
        *) cmd=(bash "$t") ;;
    esac
    start_us=${EPOCHREALTIME/./}
    timeout -k 10 "$TIMEOUT_S" "${cmd[@]}" >"$log" 2>&1 </dev/null
    rc=$?
    el_ds=$(( (${EPOCHREALTIME/./} - start_us) / 100000 ))
    secs="$((el_ds / 10)).$((el_ds % 10))"
    if [ "$rc" -eq 0 ]; then
        echo "PASS  $name (${secs}s)"
        pass=$((pass + 1))
        [ -n "${IT_VERBOSE:-}" ] && sed 's/^/    /' "$log"
    elif [ "$rc" -eq 77 ]; then
        why=$(grep -m1 '^SKIP' "$log")
        echo "SKIP  $name: ${why:-SKIP (no reason printed)}"
        skip=$((skip + 1))
    else
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
            echo "FAIL  $name (timed out after ${TIMEOUT_S}s)"
        else
            echo "FAIL  $name (exit $rc, ${secs}s)"
        fi
        tail -n 80 "$log" | sed 's/^/    /'
        fail=$((fail + 1)); failed_names="$failed_names $name"
    fi
done

[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "integration: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
