#!/bin/sh
# run-unit.sh - run every check(3) unit test binary given; fail if any fails.
# Prints one summary line "N passed, N failed" (suites) at the end.
pass=0; fail=0; failed=""
for t in "$@"; do
    if CK_FORK=yes "$t" >"$t.log" 2>&1; then
        pass=$((pass + 1)); tail -n 1 "$t.log" | sed "s|^|$(basename "$t"): |"
    else
        fail=$((fail + 1)); failed="$failed $(basename "$t")"
        echo "FAILED $(basename "$t"):"; tail -n 30 "$t.log"
    fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
