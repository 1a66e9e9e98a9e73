#!/bin/sh
# check-deps.sh - enforce the one-way include graph of STYLE.md §1:
#   common <- raft <- controller <- broker;  tools -> common (+ generated code)
# A file may include headers only from the folders listed for its own folder.
fail=0
check() { # folder allowed-regex
    for f in "$1"/*.c "$1"/*.h; do
        [ -e "$f" ] || continue
        grep -Hn '^#include "' "$f" | while IFS= read -r line; do
            inc=$(echo "$line" | sed 's/.*#include "\([^"]*\)".*/\1/')
            case "$inc" in */*) dir=${inc%%/*} ;; *) dir=local ;; esac
            if ! echo "$dir" | grep -Eq "^($2)$"; then
                echo "check-deps: $line: $1/ may not include $inc"
                echo x >> /tmp/check-deps.$$
            fi
        done
    done
}
rm -f /tmp/check-deps.$$
check common 'local|common'
check raft 'local|common|raft'
check controller 'local|common|raft|controller'
check broker 'local|common|controller|broker'
check tools 'local|common|tools'
if [ -f /tmp/check-deps.$$ ]; then rm -f /tmp/check-deps.$$; exit 1; fi
echo "check-deps: include graph is one-way"
