#!/bin/bash
# consumer_groups_test.sh - end-to-end test of `samsa consumer-groups`
# (kafka-consumer-groups.sh) against a real single node: groups made by real
# confluent-kafka consumers, every action (--list [--state], --describe
# [--offsets|--members [--verbose]|--state], --delete, --reset-offsets with
# each scenario, --delete-offsets (refused for a subscribed topic), --dry-run/--execute), exact output lines (column padding
# and trailing blanks included), which stream they go to, and exit codes.
# After a reset --execute a consumer of the group must restart at the reset
# offset.  Standalone: prints "N passed, N failed" last, exits non-zero on
# failure.  SAMSA=path/to/samsa overrides the CLI (default build/bin/samsa).
cd "$(dirname "$0")/../.." || exit 1
PY=/usr/bin/python3
. test/lib/tooltest.sh
tooltest_up cgroups
cg() { "$SAMSA" consumer-groups "${BS[@]}" "$@"; }
# Kafka's offsets table: header and rows, padded like ConsumerGroupCommand (widths passed in)
row9() { printf "%-${1}s %-${2}s %-10s %-15s %-15s %-15s %-${3}s %-${4}s %s" "${@:5}"; }
H9() { row9 "$1" "$2" "$3" "$4" GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID; }
RH='GROUP                          TOPIC                          PARTITION  NEW-OFFSET     '
rrow() { printf '%-30s %-30s %-10s %-15s' "$1" "$2" "$3" "$4"; }
NOACT() { printf "\nConsumer group '%s' has no active members." "$1"; }
WARN_DRY="WARN: No action will be performed as the --execute option is missing.In a future major release, the default behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting."

# ---- data: topic t1 with 3 partitions x 10 records, timestamps BASE + offset seconds -------
BASE_MS=1700000000000   # 2023-11-14T22:13:20.000Z
"$SAMSA" topics "${BS[@]}" --create --topic t1 --partitions 3 >/dev/null || node_fail "create t1"
"$PY" - "$NODE_BOOTSTRAP" "$BASE_MS" <<'PY' || node_fail "produce"
import sys
from confluent_kafka import Producer
bs, base = sys.argv[1], int(sys.argv[2])
p = Producer({'bootstrap.servers': bs})
for part in range(3):
    for i in range(10):
        p.produce('t1', key=b'k%d' % i, value=b'v%d-%d' % (part, i), partition=part, timestamp=base + i * 1000)
if p.flush(15) != 0:
    sys.exit("unflushed")
PY

# consume GROUP N: a confluent-kafka consumer of t1 in GROUP reads N records from the
# committed position (earliest if none), commits, closes; prints "partition offset" per record
consume() {
    "$PY" - "$NODE_BOOTSTRAP" "$1" "$2" <<'PY'
import sys, time
from confluent_kafka import Consumer
bs, group, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = Consumer({'bootstrap.servers': bs, 'group.id': group, 'client.id': 'cg-test',
              'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
c.subscribe(['t1'])
got, deadline = [], time.time() + 30
while len(got) < want and time.time() < deadline:
    m = c.poll(0.5)
    if m is None or m.error():
        continue
    got.append((m.partition(), m.offset()))
c.commit(asynchronous=False)
c.close()
for p, o in sorted(got):
    print(p, o)
sys.exit(0 if len(got) == want else 1)
PY
}

# ---- usage errors: stderr, exit 1 -------------------------------------------------------
run 0 "--help" "$SAMSA" consumer-groups --help
out_has "--reset-offsets                         Reset offsets of consumer group. Supports one consumer group at"
run 1 "no arguments" "$SAMSA" consumer-groups
err_first "This tool helps to list all consumer groups, describe a consumer group, delete consumer group info, or reset consumer group offsets."
run 1 "no action" cg --group g
err_first "Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets"
run 1 "two actions" cg --list --describe
err_first "Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets"
run 1 "no bootstrap" "$SAMSA" consumer-groups --list
err_first 'Missing required argument "[bootstrap-server]"'
run 1 "unknown option" cg --list --frobnicate
err_first "frobnicate is not a recognized option"
run 1 "describe without group" cg --describe
err_first "Option [describe] takes one of these options: [group], [all-groups]"
run 1 "describe two sub-actions" cg --describe --group g --members --state
err_first "Option [describe] takes at most one of these options: [members], [offsets], [state]"
run 1 "describe --state value" cg --describe --group g --state Stable
err_first "Option [describe] does not take a value for [state]"
run 1 "delete without group" cg --delete
err_first "Option [delete] takes one of these options: [group], [all-groups]"
run 1 "delete with topic" cg --delete --group g --topic t1
err_first "The consumer does not support topic-specific offset deletion from a consumer group."
run 1 "reset dry-run and execute" cg --reset-offsets --group g --topic t1 --to-earliest --dry-run --execute
err_first "Option [reset-offsets] only accepts one of [execute] and [dry-run]"
run 1 "reset two scenarios" cg --reset-offsets --group g --topic t1 --to-earliest --to-offset 3 --dry-run
err_first 'Option "[to-earliest]" can'"'"'t be used with option "[to-offset]"'
run 1 "reset without scope" cg --reset-offsets --group g --to-earliest --dry-run
err_first "One of the reset scopes should be defined: --all-topics, --topic."
run 1 "reset without group" cg --reset-offsets --topic t1 --to-earliest --dry-run
err_first "Option [reset-offsets] takes one of these options: [group], [all-groups]"
run 1 "group with all-groups" cg --describe --group g --all-groups
err_first 'Option "[group]" can'"'"'t be used with option "[all-groups]"'
run 1 "group with list" cg --list --group g
err_first 'Option "[group]" can'"'"'t be used with option "[list]"'
run 1 "members without describe" cg --list --members
err_first "Option(s) [members] are unavailable given other options on the command line"
run 1 "bad --to-offset" cg --reset-offsets --group g --topic t1 --to-offset x --dry-run
err_first "Cannot parse argument 'x' of option to-offset"
run 1 "bad --list --state" cg --list --state bogus
err_first "Invalid state list 'bogus'. Valid states are: PreparingRebalance, CompletingRebalance, Stable, Dead, Empty"
run 1 "bad partition in --topic" cg --reset-offsets --group g --topic t1:x --to-earliest --dry-run
err_first "Invalid partition 'x' specified in topic arg 't1:x''"

# ---- an empty cluster -----------------------------------------------------------------------
run 0 "list, no groups" cg --list
out_is ""
run 0 "describe --all-groups, no groups" cg --describe --all-groups
out_is ""

# ---- g1: consumed 10 + 10 + 10, committed, closed (Empty) -----------------------------------
consume g1 30 >"$T/consumed" || node_fail "consume g1: $(cat "$T/consumed")"
run 0 "list" cg --list
out_is "g1"
run 0 "list --state" cg --list --state
out_is "GROUP           STATE\ng1              Empty"
run 0 "list --state stable (none)" cg --list --state stable
out_is "GROUP           STATE"
run 0 "list --state Empty,Stable" cg --list --state Empty,Stable
out_is "GROUP           STATE\ng1              Empty"

run 0 "describe empty group" cg --describe --group g1
out_is "\nGROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID
g1              t1              0          10              10              0               -               -               -
g1              t1              1          10              10              0               -               -               -
g1              t1              2          10              10              0               -               -               -"
err_is "$(NOACT g1)"
run 0 "describe --offsets = default" cg --describe --group g1 --offsets
out_has "g1              t1              2          10              10              0               -               -               -"
run 0 "describe missing group" cg --describe --group nope
out_is "\nError: Consumer group 'nope' does not exist."
err_is ""
run 0 "describe --members, empty group" cg --describe --group g1 --members
out_is ""
err_is "$(NOACT g1)"
run 0 "describe --state, empty group" cg --describe --group g1 --state
COORD="$NODE_BOOTSTRAP (1)"
W=$(( ${#COORD} > 25 ? ${#COORD} : 25 ))
out_is "$(printf "\n%-${W}s %-25s %-20s %-15s %s\n%-${W}s %-25s %-20s %-15s %s" GROUP "COORDINATOR (ID)" ASSIGNMENT-STRATEGY STATE "#MEMBERS" g1 "$COORD" "" Empty 0)"
run 0 "describe --state missing group" cg --describe --group nope --state
out_is "\nError: Consumer group 'nope' does not exist."

# ---- reset-offsets ------------------------------------------------------------------------------
run 0 "reset --to-earliest --dry-run (tutorial)" cg --group g1 --topic t1 --reset-offsets --to-earliest --dry-run
out_is "\n$RH\n$(rrow g1 t1 0 0)\n$(rrow g1 t1 1 0)\n$(rrow g1 t1 2 0)"
err_is ""
run 0 "dry run changed nothing" cg --describe --group g1
out_has "g1              t1              0          10              10              0               -               -               -"
run 0 "reset without --dry-run/--execute warns" cg --group g1 --topic t1 --reset-offsets --to-earliest
err_is "$WARN_DRY"
out_has "$(rrow g1 t1 1 0)"
run 0 "reset --to-offset on t1:0,2 --execute" cg --group g1 --topic t1:0,2 --reset-offsets --to-offset 4 --execute
out_is "\n$RH\n$(rrow g1 t1 0 4)\n$(rrow g1 t1 2 4)"
run 0 "describe after --to-offset" cg --describe --group g1
out_is "\n$(H9 15 15 15 15)
$(row9 15 15 15 15 g1 t1 0 4 10 6 - - -)
$(row9 15 15 15 15 g1 t1 1 10 10 0 - - -)
$(row9 15 15 15 15 g1 t1 2 4 10 6 - - -)"
run 0 "reset --shift-by -3 --all-topics --execute" cg --group g1 --all-topics --reset-offsets --shift-by -3 --execute
out_is "\n$RH\n$(rrow g1 t1 0 1)\n$(rrow g1 t1 1 7)\n$(rrow g1 t1 2 1)"
run 0 "reset --shift-by -5 clamps to earliest" cg --group g1 --topic t1:0 --reset-offsets --shift-by -5 --dry-run
out_is "\n$RH\n$(rrow g1 t1 0 0)"
err_has "WARN New offset (-4) is lower than earliest offset for topic partition t1-0. Value will be set to 0"
run 0 "reset --to-offset 100 clamps to latest" cg --group g1 --topic t1:1 --reset-offsets --to-offset 100 --dry-run
out_is "\n$RH\n$(rrow g1 t1 1 10)"
err_has "WARN New offset (100) is higher than latest offset for topic partition t1-1. Value will be set to 10"
run 0 "reset --to-latest" cg --group g1 --topic t1 --reset-offsets --to-latest --dry-run
out_is "\n$RH\n$(rrow g1 t1 0 10)\n$(rrow g1 t1 1 10)\n$(rrow g1 t1 2 10)"
run 0 "reset --to-current" cg --group g1 --topic t1 --reset-offsets --to-current --dry-run
out_is "\n$RH\n$(rrow g1 t1 0 1)\n$(rrow g1 t1 1 7)\n$(rrow g1 t1 2 1)"
run 0 "reset --to-datetime (UTC)" cg --group g1 --topic t1 --reset-offsets --to-datetime 2023-11-14T22:13:25.000 --dry-run
out_is "\n$RH\n$(rrow g1 t1 0 5)\n$(rrow g1 t1 1 5)\n$(rrow g1 t1 2 5)"
run 0 "reset --to-datetime with zone" cg --group g1 --topic t1:2 --reset-offsets --to-datetime 2023-11-15T00:13:27.500+02:00 --dry-run
out_is "\n$RH\n$(rrow g1 t1 2 8)"
run 0 "reset --to-datetime after the last record" cg --group g1 --topic t1:0 --reset-offsets --to-datetime 2030-01-01T00:00:00.000 --dry-run
out_is "\nWarn: Partition 0 from topic t1 is empty. Falling back to latest known offset.\n\n$RH\n$(rrow g1 t1 0 10)"
run 0 "reset --to-datetime unparseable" cg --group g1 --topic t1 --reset-offsets --to-datetime 2023-11-14 --dry-run
out_is "\nError: Executing consumer group command failed due to Error parsing timestamp. It does not contain a 'T' according to ISO8601 format"
run 0 "reset unknown topic" cg --group g1 --topic nosuch --reset-offsets --to-earliest --dry-run
out_is "\nError: Executing consumer group command failed due to org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition."
run 1 "reset --shift-by without a committed offset" cg --group fresh --topic t1 --reset-offsets --shift-by 1 --dry-run
err_first "Cannot shift offset for partition t1-0 since there is no current committed offset"

# --execute then a consumer of the group restarts at the reset offsets
run 0 "reset --to-offset 7 --execute" cg --group g1 --topic t1 --reset-offsets --to-offset 7 --execute
out_is "\n$RH\n$(rrow g1 t1 0 7)\n$(rrow g1 t1 1 7)\n$(rrow g1 t1 2 7)"
consume g1 9 >"$T/consumed"; rc=$?
if [ "$rc" -eq 0 ] && [ "$(cat "$T/consumed")" = "$(printf '%s\n' '0 7' '0 8' '0 9' '1 7' '1 8' '1 9' '2 7' '2 8' '2 9')" ]; then ok
else fail=$((fail + 1)); echo "FAIL: consumer after reset did not restart at offset 7:"; sed 's/^/    |/' "$T/consumed"; fi
run 0 "a new group by reset --execute" cg --group made --topic t1:1 --reset-offsets --to-offset 3 --execute
out_is "\n$RH\n$(rrow made t1 1 3)"
run 0 "describe the new group" cg --describe --group made
out_is "\n$(H9 15 15 15 15)\n$(row9 15 15 15 15 made t1 1 3 10 7 - - -)"

# ---- a live group: a consumer stays in group "live" ------------------------------------------
# and a static member (group.instance.id) stays in group "static"
"$PY" - "$NODE_BOOTSTRAP" "$T/stop" "$T/live.log" <<'PY' &
import sys, os, time
from confluent_kafka import Consumer
bs, stop, log = sys.argv[1], sys.argv[2], sys.argv[3]
c = Consumer({'bootstrap.servers': bs, 'group.id': 'live', 'client.id': 'live-client',
              'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
s = Consumer({'bootstrap.servers': bs, 'group.id': 'static', 'client.id': 'static-client',
              'group.instance.id': 'inst-1', 'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
c.subscribe(['t1'])
s.subscribe(['t1'])
n, deadline = 0, time.time() + 120
while not os.path.exists(stop) and time.time() < deadline:
    s.poll(0)
    m = c.poll(0.2)
    if m is not None and not m.error():
        n += 1
        if n == 30:
            c.commit(asynchronous=False)
            open(log, 'w').write('committed\n')
c.close()
s.close()
PY
LIVE_PID=$!
# wait (bounded) until the group is Stable and has committed everything it read
deadline=$((SECONDS + 30))
until cg --describe --group live --state 2>/dev/null | grep -q " Stable " && [ -s "$T/live.log" ] &&
      cg --describe --group static --state 2>/dev/null | grep -q " Stable "; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "FAIL: group live never became Stable"; fail=$((fail + 1)); break; }
    sleep 0.1   # poll interval, not a wait for an event
done
run 0 "describe --members live" cg --describe --group live --members
MID=$(awk 'NR == 3 { print $2 }' "$T/out")
case "$MID" in live-client-*) ok ;; *) bad "member id '$MID' is not live-client-<uuid>" ;; esac
WC=$(( ${#MID} > 15 ? ${#MID} : 15 ))
out_is "$(printf "\n%-15s %-${WC}s %-15s %-15s %-15s \n%-15s %-${WC}s %-15s %-15s %-15s " GROUP CONSUMER-ID HOST CLIENT-ID "#PARTITIONS" live "$MID" /127.0.0.1 live-client 3)"
err_is ""
run 0 "describe --members, a static member" cg --describe --group static --members
SID=$(awk 'NR == 3 { print $2 }' "$T/out")
# Kafka names a static member <group.instance.id>-<uuid>
case "$SID" in inst-1-*) ok ;; *) bad "static member id '$SID' is not inst-1-<uuid>" ;; esac
WS=$(( ${#SID} > 15 ? ${#SID} : 15 ))
out_is "$(printf "\n%-15s %-${WS}s %-17s %-15s %-15s %-15s \n%-15s %-${WS}s %-17s %-15s %-15s %-15s " GROUP CONSUMER-ID GROUP-INSTANCE-ID HOST CLIENT-ID "#PARTITIONS" static "$SID" inst-1 /127.0.0.1 static-client 3)"
run 0 "describe --members --verbose live" cg --describe --group live --members --verbose
out_is "$(printf "\n%-15s %-${WC}s %-15s %-15s %-15s ASSIGNMENT\n%-15s %-${WC}s %-15s %-15s %-15s t1(0,1,2)" GROUP CONSUMER-ID HOST CLIENT-ID "#PARTITIONS" live "$MID" /127.0.0.1 live-client 3)"
run 0 "describe live (offsets)" cg --describe --group live
out_is "\n$(H9 15 15 "$WC" 15)
$(row9 15 15 "$WC" 15 live t1 0 10 10 0 "$MID" /127.0.0.1 live-client)
$(row9 15 15 "$WC" 15 live t1 1 10 10 0 "$MID" /127.0.0.1 live-client)
$(row9 15 15 "$WC" 15 live t1 2 10 10 0 "$MID" /127.0.0.1 live-client)"
err_is ""
run 0 "describe --state live" cg --describe --group live --state
out_is "$(printf "\n%-${W}s %-25s %-20s %-15s %s\n%-${W}s %-25s %-20s %-15s %s" GROUP "COORDINATOR (ID)" ASSIGNMENT-STRATEGY STATE "#MEMBERS" live "$COORD" range Stable 1)"
run 0 "list --state" cg --list --state
out_is "GROUP           STATE\ng1              Empty\nlive            Stable\nmade            Empty\nstatic          Stable"
run 0 "list --state stable" cg --list --state stable
out_is "GROUP           STATE\nlive            Stable\nstatic          Stable"
run 0 "reset refused on an active group" cg --group live --topic t1 --reset-offsets --to-earliest --execute
out_is "\nError: Assignments can only be reset if the group 'live' is inactive, but the current state is Stable.\n\n$RH"
run 0 "offsets unchanged after the refusal" cg --describe --group live
out_has "$(row9 15 15 "$WC" 15 live t1 0 10 10 0 "$MID" /127.0.0.1 live-client)"
run 0 "delete refused on an active group" cg --delete --group live
out_is "\nError: Deletion of some consumer groups failed:\n* Group 'live' could not be deleted due to: java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty."
# --delete-offsets of a topic an active member subscribes to: GROUP_SUBSCRIBED_TO_TOPIC per partition
DOH="$(printf '%-30s %-15s %-15s' TOPIC PARTITION STATUS)"
drow() { printf '%-30s %-15s %-15s' "$1" "$2" "$3"; }
SUBSCRIBED="Error: The consumer group is actively subscribed to the topic"
run 0 "delete-offsets refused for a subscribed topic" cg --delete-offsets --group live --topic t1
out_is "\nError: Encounter some partition level error, see the follow-up details:\n\n$DOH\n$(drow t1 0 "$SUBSCRIBED")\n\n$(drow t1 1 "$SUBSCRIBED")\n\n$(drow t1 2 "$SUBSCRIBED")"
run 0 "offsets kept after the refusal" cg --describe --group live
out_has "$(row9 15 15 "$WC" 15 live t1 2 10 10 0 "$MID" /127.0.0.1 live-client)"
run 0 "describe --all-groups --state" cg --describe --all-groups --state
out_has "$(printf "%-${W}s %-25s %-20s %-15s %s" live "$COORD" range Stable 1)"
out_has "$(printf "%-${W}s %-25s %-20s %-15s %s" made "$COORD" "" Empty 0)"
touch "$T/stop"
wait "$LIVE_PID"
run 0 "describe live after the consumer left" cg --describe --group live
err_is "$(NOACT live)"
out_has "$(row9 15 15 15 15 live t1 1 10 10 0 - - -)"

# ---- a group while it rebalances (the coordinator's initial rebalance delay keeps a new
# group in PreparingRebalance for a while): one describe --state that sees the state must
# also print Kafka's warning on stderr
"$PY" - "$NODE_BOOTSTRAP" "$T/stop2" <<'PY' &
import sys, os, time
from confluent_kafka import Consumer
bs, stop = sys.argv[1], sys.argv[2]
c = Consumer({'bootstrap.servers': bs, 'group.id': 'joining', 'auto.offset.reset': 'earliest'})
c.subscribe(['t1'])
deadline = time.time() + 60
while not os.path.exists(stop) and time.time() < deadline:
    c.poll(0.1)
c.close()
PY
JOIN_PID=$!
seen=""; deadline=$((SECONDS + 20))
while [ -z "$seen" ] && [ "$SECONDS" -lt "$deadline" ]; do
    cg --describe --group joining --state >"$T/out" 2>"$T/err"
    seen=$(sed -n 3p "$T/out" | grep -oE "PreparingRebalance|CompletingRebalance")
    [ -n "$seen" ] || sleep 0.05   # poll interval, not a wait for an event
done
last="describe --state while rebalancing"
if [ -n "$seen" ]; then ok; else bad "$last: the group was never seen rebalancing"; fi
err_is "\nWarning: Consumer group 'joining' is rebalancing."
run 0 "reset refused while rebalancing" cg --group joining --topic t1:0 --reset-offsets --to-earliest --dry-run
case "$(sed -n 2p "$T/out")" in
"Error: Assignments can only be reset if the group 'joining' is inactive, but the current state is "*) ok ;;
*) bad "$last: no refusal" ;;
esac
touch "$T/stop2"
wait "$JOIN_PID"
# as in Kafka, a group whose last member left during the initial rebalance delay stays
# PreparingRebalance until the delay ends, and only an Empty group can be deleted
deadline=$((SECONDS + 20))
until cg --describe --group joining --state 2>/dev/null | grep -q " Empty "; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "FAIL: group joining never became Empty"; fail=$((fail + 1)); break; }
    sleep 0.1   # poll interval, not a wait for an event
done
run 0 "delete the rebalanced group once it is empty" cg --delete --group joining
out_is "Deletion of requested consumer groups ('joining') was successful."

# ---- delete -------------------------------------------------------------------------------
run 0 "delete two groups" cg --delete --group g1 --group live
out_is "Deletion of requested consumer groups ('g1', 'live') was successful."
run 0 "delete a missing group" cg --delete --group g1
out_is "\nError: Deletion of some consumer groups failed:\n* Group 'g1' could not be deleted due to: java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist."
run 0 "delete one ok, one missing" cg --delete --group made --group g1
out_is "\nError: Deletion of some consumer groups failed:\n* Group 'g1' could not be deleted due to: java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist.\n\nThese consumer groups were deleted successfully: 'made'"
run 0 "list after deletes (a static member stays until its session times out)" cg --list
out_is "static"
run 0 "deleted group is gone" cg --describe --group g1
out_is "\nError: Consumer group 'g1' does not exist."

# ---- delete-offsets (OffsetDelete, KIP-496) ----------------------------------------------
run 1 "delete-offsets without topic" cg --delete-offsets --group doff
err_first "Option [delete-offsets] takes the following options: [group], [topic]"
run 1 "delete-offsets with two groups" cg --delete-offsets --group a --group b --topic t1
err_first "Option [delete-offsets] supports only one [group] at a time"
run 0 "delete-offsets of a missing group" cg --delete-offsets --group doff --topic t1:0
out_is "\nError: 'doff' does not exist.\n\n$DOH\n$(drow t1 0 "Error: The group id does not exist.")"
run 0 "a group with two offsets" cg --group doff --topic t1:0,1 --reset-offsets --to-offset 2 --execute
run 0 "delete-offsets of one partition" cg --delete-offsets --group doff --topic t1:0
out_is "Request succeed for deleting offsets with topic t1:0 group doff\n\n$DOH\n$(drow t1 0 Successful)"
run 0 "describe after delete-offsets" cg --describe --group doff
out_is "\n$(H9 15 15 15 15)\n$(row9 15 15 15 15 doff t1 1 2 10 8 - - -)"
run 0 "delete-offsets of the whole topic" cg --delete-offsets --group doff --topic t1
out_is "Request succeed for deleting offsets with topic t1 group doff\n\n$DOH\n$(drow t1 0 Successful)\n\n$(drow t1 1 Successful)\n\n$(drow t1 2 Successful)"
run 0 "an empty group without offsets is gone" cg --describe --group doff
out_is "\nError: Consumer group 'doff' does not exist."

# ---- an unreachable bootstrap server: Kafka's error line, exit 0 ------------------------------
run 0 "unreachable server" "$SAMSA" consumer-groups --bootstrap-server 127.0.0.1:1 --timeout 1000 --list
case "$(sed -n 2p "$T/out")" in
"Error: Executing consumer group command failed due to org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. ("*"Connection refused"*) ok ;;
*) bad "unreachable server: no error line" ;;
esac

tooltest_done
