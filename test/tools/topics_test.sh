#!/bin/bash
# topics_test.sh - end-to-end test of `samsa topics` (kafka-topics.sh) against
# a real single node: every action and flag, exact output lines (tabs
# included), which stream they go to, and exit codes.
# Standalone: prints "N passed, N failed" last and exits non-zero on failure.
# SAMSA=path/to/samsa overrides the CLI (default build/bin/samsa).
cd "$(dirname "$0")/../.." || exit 1
. test/lib/tooltest.sh
tooltest_up topics
topics() { "$SAMSA" topics "${BS[@]}" "$@"; }

WARN="WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both."
ERR="Error while executing topic command :"

# ---- usage errors: stderr, exit 1, nothing sent -----------------------------------
run 0 "--help" "$SAMSA" topics --help
out_has "This tool helps to create, delete, describe, or change a topic."
out_has "--if-not-exists                          When creating a topic, only act if the topic does"
err_empty
run 1 "no arguments" "$SAMSA" topics
err_first "Create, delete, describe, or change a topic."
run 1 "no action" topics --topic x
err_first "Command must include exactly one action: --list, --describe, --create, --alter or --delete"
out_is ""
run 1 "two actions" topics --list --describe
err_first "Command must include exactly one action: --list, --describe, --create, --alter or --delete"
run 1 "no bootstrap" "$SAMSA" topics --list
err_first "--bootstrap-server must be specified"
run 1 "unknown option" topics --list --frobnicate
err_first "frobnicate is not a recognized option"
run 1 "missing value" topics --list --topic
err_first "Option [topic] requires an argument"
run 1 "bad integer" topics --create --topic x --partitions abc
err_first "Cannot parse argument 'abc' of option partitions"
run 1 "create without topic" topics --create --partitions 1
err_first 'Missing required argument "[topic]"'
run 1 "delete without topic" topics --delete
err_first 'Missing required argument "[topic]"'
run 1 "alter without partitions" topics --alter --topic x
err_first 'Missing required argument "[partitions]"'
run 1 "partitions with list" topics --list --partitions 3
err_first 'Option "[partitions]" can'"'"'t be used with option "[list]"'
run 1 "replication-factor with alter" topics --alter --topic x --partitions 2 --replication-factor 1
err_first 'Option "[replication-factor]" can'"'"'t be used with option "[alter]"'
run 1 "if-not-exists with delete" topics --delete --topic x --if-not-exists
err_first 'Option "[if-not-exists]" can'"'"'t be used with option "[delete]"'
run 1 "if-exists with create" topics --create --topic x --if-exists
err_first 'Option "[if-exists]" can'"'"'t be used with option "[create]"'
run 1 "exclude-internal with delete" topics --delete --topic x --exclude-internal
err_first 'Option "[exclude-internal]" can'"'"'t be used with option "[delete]"'
run 1 "under-replicated with list" topics --list --under-replicated-partitions
err_first 'Option "[under-replicated-partitions]" can'"'"'t be used with option "[list]"'
run 1 "overrides with list" topics --list --topics-with-overrides
err_first 'Option "[topics-with-overrides]" can'"'"'t be used with option "[list]"'
run 1 "unavailable with create" topics --create --topic x --unavailable-partitions
err_first 'Option "[unavailable-partitions]" can'"'"'t be used with option "[create]"'
run 1 "config with alter" topics --alter --topic x --partitions 2 --config retention.ms=1
err_first 'Option "[config]" can'"'"'t be used with option "[alter]": to alter topic configs use `samsa configs` (kafka-configs.sh).'
run 1 "two describe filters" topics --describe --under-replicated-partitions --unavailable-partitions
err_first "Only one of --topics-with-overrides, --under-replicated-partitions, --unavailable-partitions, --under-min-isr-partitions and --at-min-isr-partitions may be given"
run 1 "at-min-isr with list" topics --list --at-min-isr-partitions
err_first 'Option "[at-min-isr-partitions]" can'"'"'t be used with option "[list]"'
run 1 "under-min-isr with alter" topics --alter --topic x --partitions 2 --under-min-isr-partitions
err_first 'Option "[under-min-isr-partitions]" can'"'"'t be used with option "[alter]"'

# ---- create -----------------------------------------------------------------------
run 0 "list on an empty cluster" topics --list
out_is ""
run 0 "create (tutorial)" topics --create --partitions 3 --replication-factor 1 --config retention.ms=172800000 --topic hello.kafka
out_is "$WARN\nCreated topic hello.kafka."
err_empty
run 0 "create with broker defaults" topics --create --topic plain
out_is "Created topic plain."
run 0 "create, --opt=value form" topics --create --topic=hello-kafka --partitions=2
out_is "Created topic hello-kafka."
run 0 "create, two configs" topics --create --topic cfg --config cleanup.policy=compact --config "segment.ms = 3600000"
out_is "Created topic cfg."
run 1 "create existing" topics --create --topic plain
out_is "$ERR Topic 'plain' already exists."
run 0 "create existing --if-not-exists" topics --create --topic plain --if-not-exists
out_is ""
run 0 "create new --if-not-exists" topics --create --topic fresh --if-not-exists --partitions 2
out_is "Created topic fresh."
run 1 "create 0 partitions" topics --create --topic x --partitions 0
out_is "$ERR The partitions must be greater than 0"
run 1 "create rf 0" topics --create --topic x --replication-factor 0
out_is "$ERR The replication factor must be greater than 0"
run 1 "create rf 40000" topics --create --topic x --replication-factor 40000
out_is "$ERR The replication factor's maximum value must be less than or equal to 32767"
run 1 "create rf > brokers" topics --create --topic x --replication-factor 3
out_is "$ERR Replication factor: 3 larger than available brokers: 1."
run 1 "create bad config value" topics --create --topic x --config retention.ms=abc
out_is "$ERR Invalid value abc for configuration retention.ms: is not a valid 64-bit integer; use a whole number like the default 604800000"
run 1 "create malformed config" topics --create --topic x --config retention.ms
out_is "$ERR requirement failed: Invalid topic config: all configs to be added must be in the format \"key=val\"."
run 1 "create illegal name" topics --create --topic 'bad/name'
out_has "$ERR Topic name is illegal: it must be 1-249 characters of [a-zA-Z0-9._-], not '.' or '..'."
run 0 "create internal topic" topics --create --topic __consumer_offsets --partitions 1
out_is "$WARN\nCreated topic __consumer_offsets."

run 0 "create with --replica-assignment" topics --create --topic assigned --replica-assignment 1,1
out_is "Created topic assigned."
run 0 "assignment honoured" topics --describe --topic assigned
out_is "Topic: assigned\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: \n\tTopic: assigned\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n\tTopic: assigned\tPartition: 1\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: "
run 1 "assignment: duplicate broker" topics --create --topic x --replica-assignment 1:1
out_is "$ERR Partition replica lists may not contain duplicate entries: 1"
run 1 "assignment: not an integer" topics --create --topic x --replica-assignment 1,x
out_is "$ERR For input string: \"x\""
run 1 "assignment: uneven replication factor" topics --create --topic x --replica-assignment 1,1:2
out_is "$ERR Partition 1 has different replication factor: 1:2"
run 1 "assignment: unknown broker" topics --create --topic x --replica-assignment 2
out_is "$ERR The manual partition assignment includes broker 2, but no such broker is registered."
run 1 "assignment with --partitions" topics --create --topic x --replica-assignment 1 --partitions 1
err_first 'Option "[replica-assignment]" can'"'"'t be used with option "[partitions]"'
run 1 "assignment with list" topics --list --replica-assignment 1
err_first 'Option "[replica-assignment]" can'"'"'t be used with option "[list]"'
run 1 "alter with assignment: unknown broker" topics --alter --topic assigned --partitions 3 --replica-assignment 1,1,2
out_is "$ERR The manual partition assignment includes broker 2, but no such broker is registered."
run 0 "alter with assignment" topics --alter --topic assigned --partitions 3 --replica-assignment 1,1,1
out_is ""
run 0 "alter assignment honoured" topics --describe --topic assigned
out_is "Topic: assigned\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: \n\tTopic: assigned\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n\tTopic: assigned\tPartition: 1\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n\tTopic: assigned\tPartition: 2\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: "
run 0 "delete assigned" topics --delete --topic assigned
out_is ""

# ---- list -------------------------------------------------------------------------
run 0 "list" topics --list
out_is "__consumer_offsets\ncfg\nfresh\nhello-kafka\nhello.kafka\nplain"
run 0 "list --exclude-internal" topics --list --exclude-internal
out_is "cfg\nfresh\nhello-kafka\nhello.kafka\nplain"
run 0 "list regex" topics --list --topic 'hello.*'
out_is "hello-kafka\nhello.kafka"
run 0 "list comma list" topics --list --topic 'plain, cfg'
out_is "cfg\nplain"
run 0 "list regex is anchored" topics --list --topic 'lain'
out_is ""
run 0 "list internal by regex, excluded" topics --list --topic '__.*' --exclude-internal
out_is ""
run 1 "list bad regex" topics --list --topic 'a('
out_is "$ERR a( is an invalid regex."

# ---- describe ---------------------------------------------------------------------
run 0 "describe one" topics --describe --topic plain
out_is "Topic: plain\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: \n\tTopic: plain\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: "
err_empty
run 0 "describe tutorial topic (regex: also hello-kafka)" topics --describe --topic hello.kafka
out_is "Topic: hello-kafka\tPartitionCount: 2\tReplicationFactor: 1\tConfigs: \n\tTopic: hello-kafka\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n\tTopic: hello-kafka\tPartition: 1\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \nTopic: hello.kafka\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=172800000\n\tTopic: hello.kafka\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n\tTopic: hello.kafka\tPartition: 1\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n\tTopic: hello.kafka\tPartition: 2\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: "
run 0 "describe two configs" topics --describe --topic cfg
out_has "Topic: cfg\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: cleanup.policy=compact,segment.ms=3600000"
run 0 "describe all" topics --describe
out_has "Topic: __consumer_offsets	PartitionCount: 1	ReplicationFactor: 1	Configs: "
out_has "Topic: fresh	PartitionCount: 2	ReplicationFactor: 1	Configs: "
out_has "	Topic: fresh	Partition: 1	Leader: 1	Replicas: 1	Isr: 1	Elr: 	LastKnownElr: "
cp "$T/out" "$T/describe_all"
# KIP-966 paging (Kafka 3.7+): one partition per DescribeTopicPartitions page, the same answer
run 0 "describe all, one partition per response" topics --describe --partition-size-limit-per-response 1
cmp -s "$T/out" "$T/describe_all" && ok || bad "describe with --partition-size-limit-per-response 1 differs from describe"
n=$(grep -c '^Topic: ' "$T/out"); [ "$n" -eq 6 ] && ok || bad "describe all: $n topic lines, want 6"
n=$(grep -c '^	Topic: ' "$T/out"); [ "$n" -eq 10 ] && ok || bad "describe all: $n partition lines, want 10"
[ "$(grep '^Topic: ' "$T/out" | cut -f1)" = "$(grep '^Topic: ' "$T/out" | cut -f1 | LC_ALL=C sort)" ] && ok || bad "describe all: topics not sorted"
run 0 "describe --exclude-internal" topics --describe --exclude-internal
out_lacks "__consumer_offsets"
n=$(grep -c '^Topic: ' "$T/out"); [ "$n" -eq 5 ] && ok || bad "describe --exclude-internal: $n topic lines, want 5"
run 1 "describe missing" topics --describe --topic nope
out_is "$ERR Topic 'nope' does not exist as expected"
run 0 "describe missing --if-exists" topics --describe --topic nope --if-exists
out_is ""
run 0 "describe --topics-with-overrides" topics --describe --topics-with-overrides
out_is "Topic: cfg\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: cleanup.policy=compact,segment.ms=3600000\nTopic: hello.kafka\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=172800000"
run 0 "describe --topics-with-overrides, no overrides" topics --describe --topic plain --topics-with-overrides
out_is ""
run 0 "describe --under-replicated-partitions (single node: none)" topics --describe --under-replicated-partitions
out_is ""
run 0 "describe --unavailable-partitions (all led)" topics --describe --unavailable-partitions
out_is ""
# min.insync.replicas: default 1 = the single node's ISR, so every partition is "at" it
run 0 "describe --at-min-isr-partitions" topics --describe --at-min-isr-partitions --topic 'plain|cfg'
out_is "\tTopic: cfg\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n\tTopic: plain\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: "
run 0 "describe --under-min-isr-partitions (none)" topics --describe --under-min-isr-partitions
out_is ""
run 0 "create a topic needing 2 in-sync replicas" topics --create --topic needs2 --partitions 2 --config min.insync.replicas=2
out_is "Created topic needs2."
run 0 "describe --under-min-isr-partitions" topics --describe --under-min-isr-partitions
out_is "\tTopic: needs2\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n\tTopic: needs2\tPartition: 1\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: "
run 0 "needs2 is not at its minimum" topics --describe --at-min-isr-partitions --topic needs2
out_is ""
run 0 "delete needs2" topics --delete --topic needs2
out_is ""

# ---- alter --partitions -----------------------------------------------------------
run 0 "alter partitions" topics --alter --topic plain --partitions 3
out_is ""
err_empty
run 0 "describe after alter" topics --describe --topic plain
out_is "Topic: plain\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: \n\tTopic: plain\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n\tTopic: plain\tPartition: 1\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n\tTopic: plain\tPartition: 2\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: "
run 1 "alter to fewer partitions" topics --alter --topic plain --partitions 2
out_is "$ERR Topic currently has 3 partitions, which is higher than the requested 2."
run 1 "alter missing topic" topics --alter --topic nope --partitions 2
out_is "$ERR Topic 'nope' does not exist as expected"
run 0 "alter missing topic --if-exists" topics --alter --topic nope --partitions 2 --if-exists
out_is ""
run 1 "alter to 0 partitions" topics --alter --topic plain --partitions 0
out_is "$ERR The partitions must be greater than 0"
run 0 "alter by regex" topics --alter --topic 'hello.kafka' --partitions 4
out_is ""
run 0 "both regex matches grew" topics --describe --topic 'hello.*'
out_has "Topic: hello-kafka	PartitionCount: 4	ReplicationFactor: 1	Configs: "
out_has "Topic: hello.kafka	PartitionCount: 4	ReplicationFactor: 1	Configs: retention.ms=172800000"

# ---- delete -----------------------------------------------------------------------
run 0 "delete" topics --delete --topic plain
out_is ""
err_empty
run 0 "list after delete" topics --list --exclude-internal
out_is "cfg\nfresh\nhello-kafka\nhello.kafka"
run 1 "delete missing" topics --delete --topic plain
out_is "$ERR Topic 'plain' does not exist as expected"
run 0 "delete missing --if-exists" topics --delete --topic plain --if-exists
out_is ""
run 0 "delete by regex" topics --delete --topic 'hello.*,fresh'
out_is ""
run 0 "list after regex delete" topics --list
out_is "__consumer_offsets\ncfg"
run 0 "re-create a deleted topic" topics --create --topic plain --partitions 2
out_is "Created topic plain."
run 0 "re-created topic is new" topics --describe --topic plain
out_has "Topic: plain	PartitionCount: 2	ReplicationFactor: 1	Configs: "

# ---- --command-config and connection failures -------------------------------------
printf '# client settings\nclient.id = samsa-topics-test\nsocket.timeout.ms: 10000\nsome.java.only.setting=1\n' >"$T/client.properties"
run 0 "command-config" topics --command-config "$T/client.properties" --list --exclude-internal
out_is "cfg\nplain"
err_first "WARNING: ignoring client setting some.java.only.setting from $T/client.properties: not supported by librdkafka"
run 1 "command-config missing file" topics --command-config "$T/nope.properties" --list
out_is "$ERR cannot read --command-config file $T/nope.properties: No such file or directory"
printf 'socket.timeout.ms=abc\n' >"$T/bad.properties"
run 1 "command-config bad value" topics --command-config "$T/bad.properties" --list
out_has "$ERR $T/bad.properties:1: Invalid value for configuration property \"socket.timeout.ms\""
DEAD=$(free_ports 1)
printf 'default.api.timeout.ms=1500\n' >"$T/fast.properties"
start=$SECONDS
run 1 "unreachable broker" "$SAMSA" topics --bootstrap-server "127.0.0.1:$DEAD" --command-config "$T/fast.properties" --list
if grep -q "^$ERR Timed out waiting for a node assignment. (.*Connection refused" "$T/out"; then ok; else bad "unreachable: no timeout message"; fi
[ $((SECONDS - start)) -le 10 ] && ok || bad "unreachable broker: took $((SECONDS - start))s with a 1.5s deadline"

# ---- a broker-level setting shows in Configs: (as in the Kafka tutorial) ----------
# kafka-topics lists every entry DescribeConfigs does not mark as default, so a
# log.segment.bytes in server.properties appears as segment.bytes.
node_init seg
echo "log.segment.bytes=1073741824" >>"$NODE_PROPS"
node_start
BS=(--bootstrap-server "$NODE_BOOTSTRAP")
run 0 "create on the second node" topics --create --partitions 3 --replication-factor 1 --config retention.ms=172800000 --topic hello.kafka
out_is "$WARN\nCreated topic hello.kafka."
run 0 "describe shows the static broker setting" topics --describe --topic hello.kafka
out_is "Topic: hello.kafka\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=172800000,segment.bytes=1073741824\n\tTopic: hello.kafka\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n\tTopic: hello.kafka\tPartition: 1\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n\tTopic: hello.kafka\tPartition: 2\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: "
run 0 "a topic without overrides still shows it" topics --create --topic other
run 0 "describe other" topics --describe --topic other --topics-with-overrides
out_is "Topic: other\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: segment.bytes=1073741824"

# ---- dispatcher -------------------------------------------------------------------
run 0 "samsa --help lists topics" "$SAMSA" --help
if grep -q '^  topics ' "$T/out"; then ok; else bad "samsa --help lacks topics"; fi

tooltest_done
