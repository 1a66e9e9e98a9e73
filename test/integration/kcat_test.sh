#!/bin/bash
# kcat_test.sh - kcat (librdkafka) against one node: for EVERY codec (none,
# gzip, snappy, lz4, zstd) produce 1000 keyed records with headers to a topic
# that does not exist yet (auto-create through Metadata), consume from the
# beginning and compare key, value, headers and offsets byte for byte.
set -u
. "$(dirname "$0")/../lib/node.sh"
node_up

N=1000
W="$NODE_DIR/work"; mkdir -p "$W"
for codec in none gzip snappy lz4 zstd; do
    topic="kcat-$codec"
    # keys repeat (key-N mod 37) so compression has something to work on;
    # values carry spaces, punctuation and non-ASCII bytes.
    /usr/bin/python3 - "$N" "$codec" >"$W/in.$codec" <<'PY'
import sys
n, codec = int(sys.argv[1]), sys.argv[2]
for i in range(n):
    print("key-%d|value %s #%06d: ÄÖÜ {json:%d} %s" % (i % 37, codec, i, i * i, "x" * (i % 50)))
PY
    kcat -b "$NODE_BOOTSTRAP" -P -t "$topic" -z "$codec" -K '|' \
        -H "codec=$codec" -H "h2=second header" -H "empty=" \
        -X topic.request.required.acks=-1 -X linger.ms=5 -l "$W/in.$codec" 2>"$W/p.err" \
        || { cat "$W/p.err"; node_fail "kcat produce $codec"; }
    kcat -b "$NODE_BOOTSTRAP" -C -t "$topic" -o beginning -e -q \
        -f '%p %o %k|%s %h\n' >"$W/out.$codec" 2>"$W/c.err" \
        || { cat "$W/c.err"; node_fail "kcat consume $codec"; }
    /usr/bin/python3 - "$W/in.$codec" "$W/out.$codec" "$codec" <<'PY' || node_fail "content mismatch for codec $codec"
import sys
inp = open(sys.argv[1], encoding="utf-8").read().splitlines()
out = open(sys.argv[2], encoding="utf-8").read().splitlines()
codec = sys.argv[3]
want_h = "codec=%s,h2=second header,empty=" % codec
if len(out) != len(inp):
    sys.exit("got %d records, want %d" % (len(out), len(inp)))
for i, (a, b) in enumerate(zip(inp, out)):
    want = "0 %d %s %s" % (i, a, want_h)
    if b != want:
        sys.exit("record %d:\n  got  %r\n  want %r" % (i, b, want))
PY
    echo "ok codec=$codec records=$N"
done

# the topics were auto-created and are listed in Metadata
kcat -b "$NODE_BOOTSTRAP" -L >"$W/meta" 2>&1 || node_fail "kcat -L"
for codec in none gzip snappy lz4 zstd; do
    grep -q "topic \"kcat-$codec\" with 1 partitions" "$W/meta" || { cat "$W/meta"; node_fail "kcat-$codec not in metadata"; }
done
node_alive || node_fail "server died"
echo "kcat: all codecs round-tripped"
