#!/bin/sh
# check-deps.sh - enforce the include graph of STYLE.md §1-2, at two levels.
#
# 1. Folders, one way:  common <- raft <- controller <- broker;
#    tools -> common (+ generated code).  A file may include headers only from
#    the folders listed for its own folder.
# 2. Modules inside a folder (its subfolders included: broker/log/brk_plog is
#    module log/brk_plog of broker/), no cycles.  A module is a name.c/name.h pair; its
#    name_int.h belongs to it (when name.c or name.h exists), while a
#    name_types.h or a header with no .c is a module of its own.  There is an
#    edge A -> B when A.c, A.h or A_int.h includes B.h ("B.h" or "folder/B.h").
#    Unit tests (*_test.c) are not modules.  A cycle prints as
#      check-deps: include cycle in broker/: a -> b -> c -> a (members: a b c)
#    and fails the check, except in the folders of the allowlist, where it is
#    reported and passes: the file test/check-deps.allow (one folder a line,
#    '#' comments) or, when set, CHECK_DEPS_ALLOW="folder ...".
#
# Usage: test/check-deps.sh [ROOT]   (ROOT: the tree to check, default the
# repository holding this script; test/check_deps_test.sh points it at a
# temporary tree).  Exit 0 when clean, 1 on a violation.
ROOT=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$ROOT" || { echo "check-deps: cannot enter $ROOT"; exit 2; }
FOLDERS="common raft controller broker tools"
if [ -n "${CHECK_DEPS_ALLOW+set}" ]; then
    allow=$CHECK_DEPS_ALLOW
elif [ -f test/check-deps.allow ]; then
    allow=$(sed -e 's/#.*//' test/check-deps.allow | tr -s ' \t\n' ' ' | sed 's/^ //; s/ $//')
else
    allow=""
fi

fail=0
files=$(for d in $FOLDERS; do
    for f in "$d"/*.c "$d"/*.h "$d"/*/*.c "$d"/*/*.h; do [ -e "$f" ] && echo "$f"; done
done)
[ -n "$files" ] || { echo "check-deps: no sources under $ROOT"; exit 2; }

# One pass over every quoted include: "D<TAB>message" for a folder-direction
# violation, "C<TAB>folder<TAB>cycle<TAB>members" for each module cycle.
report=$(printf '%s\n' "$files" | xargs grep -Hn '^#include "' /dev/null | awk -v files="$files" '
BEGIN {
    may["common"] = "common"
    may["raft"] = "common raft"
    may["controller"] = "common raft controller"
    may["broker"] = "common controller broker"
    may["tools"] = "common tools"
    n = split(files, fl, "\n")
    for (i = 1; i <= n; i++) exists[fl[i]] = 1
}
# the module a file of folder d belongs to (see the header comment)
function module_of(d, name,    b, base) {
    b = name; sub(/\.[ch]$/, "", b)
    if (b ~ /_int$/) {
        base = b; sub(/_int$/, "", base)
        if ((d "/" base ".c") in exists || (d "/" base ".h") in exists) b = base
    }
    return b
}
{
    line = $0
    path = line; sub(/:.*/, "", path)
    d = path; sub(/\/.*/, "", d)
    file = path; sub(/^[^\/]*\//, "", file)
    inc = line; sub(/^[^"]*"/, "", inc); sub(/".*/, "", inc)
    if (inc ~ /\//) { idir = inc; sub(/\/.*/, "", idir); h = inc; sub(/^[^\/]*\//, "", h) }
    else { idir = d; h = inc; if (file ~ /\//) { sub_dir = file; sub(/\/[^\/]*$/, "", sub_dir); h = sub_dir "/" inc } }
    if (idir != d && index(" " may[d] " ", " " idir " ") == 0) {
        print "D\tcheck-deps: " line ": " d "/ may not include " inc
        next
    }
    if (idir != d || file ~ /_test\.c$/ || !((d "/" h) in exists)) next
    v = d "/" module_of(d, file); w = d "/" module_of(d, h)
    if (v == w || (v, w) in edge) next
    edge[v, w] = 1; node[v] = 1; node[w] = 1
    out[v, ++outn[v]] = w
}
# Tarjan: every strongly connected component of more than one module holds a cycle
function strong(v,    i, w, size) {
    idx[v] = ++counter; low[v] = counter
    stack[++sp] = v; onstk[v] = 1
    for (i = 1; i <= outn[v]; i++) {
        w = out[v, i]
        if (!(w in idx)) {
            strong(w)
            if (low[w] < low[v]) low[v] = low[w]
        } else if (onstk[w] && idx[w] < low[v]) {
            low[v] = idx[w]
        }
    }
    if (low[v] == idx[v]) {
        ncomp++; size = 0
        do {
            w = stack[sp--]; onstk[w] = 0; comp[w] = ncomp; size++
            members[ncomp, size] = w
            if (!(ncomp in first) || w < first[ncomp]) first[ncomp] = w
        } while (w != v)
        csize[ncomp] = size
    }
}
# one shortest cycle through s inside component c (breadth first)
function cycle_of(s, c,    qh, qt, v, i, w, last, cyc) {
    split("", par); split("", seen); split("", q)
    qh = 1; qt = 0; q[++qt] = s; last = ""
    while (qh <= qt && last == "") {
        v = q[qh++]
        for (i = 1; i <= outn[v]; i++) {
            w = out[v, i]
            if (comp[w] != c) continue
            if (w == s) { last = v; break }
            if (!(w in seen)) { seen[w] = 1; par[w] = v; q[++qt] = w }
        }
    }
    cyc = short(s)
    for (v = last; v != s; v = par[v]) cyc = short(v) " -> " cyc
    return short(s) " -> " cyc
}
function short(v) { sub(/^[^\/]*\//, "", v); return v }
# the members of component c, sorted, as " a b c"
function member_list(c,    i, j, t, m, s) {
    for (i = 1; i <= csize[c]; i++) m[i] = short(members[c, i])
    for (i = 2; i <= csize[c]; i++)
        for (j = i; j > 1 && m[j - 1] > m[j]; j--) { t = m[j]; m[j] = m[j - 1]; m[j - 1] = t }
    s = ""
    for (i = 1; i <= csize[c]; i++) s = s " " m[i]
    return s
}
END {
    for (v in node) if (!(v in idx)) strong(v)
    for (c = 1; c <= ncomp; c++) {
        if (csize[c] < 2) continue
        folder = first[c]; sub(/\/.*/, "", folder)
        print "C\t" folder "\t" cycle_of(first[c], c) "\t" member_list(c)
    }
}' | sort)

tab=$(printf '\t')
dir_violations=$(printf '%s\n' "$report" | sed -n "s/^D$tab//p")
if [ -n "$dir_violations" ]; then
    printf '%s\n' "$dir_violations"
    fail=1
fi
cycles=$(printf '%s\n' "$report" | sed -n "s/^C$tab//p")
if [ -n "$cycles" ]; then
    printf '%s\n' "$cycles" | while IFS="$tab" read -r folder path members; do
        case " $allow " in
        *" $folder "*) echo "check-deps: include cycle in $folder/ (report-only, allowlisted): $path (members:$members)" ;;
        *) echo "check-deps: include cycle in $folder/: $path (members:$members)" ;;
        esac
    done
    for folder in $(printf '%s\n' "$cycles" | cut -f1 | sort -u); do
        case " $allow " in *" $folder "*) ;; *) fail=1 ;; esac
    done
fi

if [ "$fail" -ne 0 ]; then
    echo "check-deps: FAILED (fix the includes above; move shared types into a name_types.h)"
    exit 1
fi
echo "check-deps: include graph is one-way between folders, and acyclic between modules${allow:+ (report-only: $allow)}"
