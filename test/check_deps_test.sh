#!/bin/sh
# check_deps_test.sh - prove test/check-deps.sh bites: build small temporary
# trees and check that it passes a clean one and fails (printing the cycle)
# on a header-level include cycle, a cycle through .c files, and a folder
# include against the direction; that name_int.h counts as its module's own
# header; and that an allowlisted folder's cycle is reported but passes.
# Run by `make check-deps`.  Prints "check-deps test: N passed, 0 failed".
CHECK=$(cd "$(dirname "$0")" && pwd)/check-deps.sh
unset CHECK_DEPS_ALLOW
TMP=$(mktemp -d "${TMPDIR:-/tmp}/check-deps-test.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

# mod FOLDER NAME [INCLUDE...]: write FOLDER/NAME.h including each INCLUDE
# (a path as written in the #include) and FOLDER/NAME.c including NAME.h
mod() {
    d=$TMP/tree/$1 name=$2
    shift 2
    mkdir -p "$d"
    { echo "#pragma once"; for i in "$@"; do echo "#include \"$i\""; done; } >"$d/$name.h"
    echo "#include \"$(basename "$d")/$name.h\"" >"$d/$name.c"
}
fresh() { rm -rf "$TMP/tree"; mkdir -p "$TMP/tree"; }

# expect DESC WANT-RC PATTERN...: run check-deps on the tree (no allowlist
# unless the case wrote one), want the exit code and every fixed-string PATTERN
expect() {
    desc=$1 want=$2
    shift 2
    out=$(sh "$CHECK" "$TMP/tree" 2>&1)
    rc=$?
    ok=1
    [ "$rc" -eq "$want" ] || ok=0
    for p in "$@"; do printf '%s\n' "$out" | grep -qF -- "$p" || ok=0; done
    if [ "$ok" -eq 1 ]; then
        pass=$((pass + 1))
        echo "ok $desc: exit $rc"
    else
        fail=$((fail + 1))
        echo "FAIL $desc: exit $rc (want $want); output:"
        printf '%s\n' "$out" | sed 's/^/    /'
    fi
}

fresh
mod common log
mod common buf common/log.h
mod raft core common/buf.h raft/rlog.h
mod raft rlog raft/core_types.h
echo "#pragma once" >"$TMP/tree/raft/core_types.h"
expect "clean tree passes" 0 "acyclic between modules"

# a header-level cycle: buf.h -> arena.h -> buf.h
mod common arena buf.h
mod common buf common/log.h common/arena.h
expect "header cycle in common/ fails" 1 \
    "include cycle in common/: arena -> buf -> arena (members: arena buf)" "FAILED"

# a longer cycle through .c files only: core.c -> rlog.h, rlog.c -> msg.h, msg.c -> core.h
fresh
mod raft core
mod raft rlog
mod raft msg
echo '#include "raft/rlog.h"' >>"$TMP/tree/raft/core.c"
echo '#include "raft/msg.h"' >>"$TMP/tree/raft/rlog.c"
echo '#include "core.h"' >>"$TMP/tree/raft/msg.c"
expect "cycle through .c files in raft/ fails" 1 \
    "include cycle in raft/: core -> rlog -> msg -> core (members: core msg rlog)"

# name_int.h belongs to its module: config.c -> config_int.h -> config.h is no cycle,
# and a unit test including anything is not a module
fresh
mod common config common/config_int.h
printf '#pragma once\n#include "common/config.h"\n' >"$TMP/tree/common/config_int.h"
mod common keys common/config_int.h
echo '#include "common/keys.h"' >"$TMP/tree/common/config_test.c"
expect "name_int.h is its module's own header" 0 "acyclic between modules"

# folder direction: common/ may not include raft/
fresh
mod raft core
mod common buf raft/core.h
expect "common/ including raft/ fails" 1 "common/ may not include raft/core.h"

# the same cycle in an allowlisted folder is reported, and passes
fresh
mod broker conn broker/server.h
mod broker server broker/conn.h
mkdir -p "$TMP/tree/test"
printf '# the lead removes it\nbroker\n' >"$TMP/tree/test/check-deps.allow"
expect "allowlisted broker/ cycle is report-only" 0 \
    "include cycle in broker/ (report-only, allowlisted): conn -> server -> conn"
rm "$TMP/tree/test/check-deps.allow"
expect "the same broker/ cycle without the allowlist fails" 1 \
    "include cycle in broker/: conn -> server -> conn"

echo "check-deps test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
