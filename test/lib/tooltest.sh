# tooltest.sh - shared by the end-to-end tests of the `samsa` tools
# (test/tools/<tool>_test.sh): source it from the repo root, then call
# `tooltest_up NAME` to start a real single node (test/lib/node.sh).
#
# It gives $SAMSA (the CLI; SAMSA=path overrides build/bin/samsa), $T (the
# node's scratch dir), BS=(--bootstrap-server HOST:PORT), and the checks:
#   run RC WHAT cmd...   run cmd, stdout -> $T/out, stderr -> $T/err; check the exit code
#   out_is TEXT / err_is TEXT   the stream is exactly TEXT (printf %b escapes;
#                               a final newline added unless TEXT is empty)
#   out_has LINE         stdout has exactly this line (%b escapes)
#   out_lacks S / err_has S     substring checks
#   err_empty / err_first LINE
#   ok / bad WHY         count a pass / a failure (bad prints both streams)
#   tooltest_done        prints "N passed, N failed"; returns non-zero on failure
# The checks never stop the script: one run reports every failure.
SAMSA=${SAMSA:-$PWD/build/bin/samsa}
export SAMSA_CLI=${SAMSA_CLI:-$SAMSA}
. test/lib/node.sh

pass=0; fail=0; last=""

tooltest_up() {
    node_up "$1"
    T=$NODE_ROOT
    BS=(--bootstrap-server "$NODE_BOOTSTRAP")
}
ok()  { pass=$((pass + 1)); }
bad() {
    fail=$((fail + 1)); echo "FAIL: $1"
    echo "  stdout:"; sed 's/^/    |/' "$T/out"; echo "  stderr:"; sed 's/^/    |/' "$T/err"
}
run() {
    local want=$1; last=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"
    local got=$?
    if [ "$got" -eq "$want" ]; then ok; else bad "$last (exit $got, want $want)"; fi
}
same() { # STREAM TEXT
    if [ -z "$2" ]; then : >"$T/want"; else printf '%b\n' "$2" >"$T/want"; fi
    if cmp -s "$T/want" "$T/$1"; then ok; else bad "$last: $1 is not exactly:"; sed 's/^/    >/' "$T/want"; fi
}
out_is()    { same out "$1"; }
err_is()    { same err "$1"; }
err_empty() { if [ ! -s "$T/err" ]; then ok; else bad "$last: stderr not empty"; fi; }
err_first() { if [ "$(head -n 1 "$T/err")" = "$1" ]; then ok; else bad "$last: stderr line 1 is not: $1"; fi; }
out_has()   { local l; l=$(printf '%b' "$1"); if grep -qxF -- "$l" "$T/out"; then ok; else bad "$last: stdout lacks line: $l"; fi; }
out_lacks() { if grep -qF -- "$1" "$T/out"; then bad "$last: stdout has: $1"; else ok; fi; }
err_has()   { if grep -qF -- "$1" "$T/err"; then ok; else bad "$last: stderr lacks: $1"; fi; }
tooltest_done() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
