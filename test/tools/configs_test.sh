#!/bin/bash
# configs_test.sh - end-to-end test of `samsa configs` (kafka-configs.sh)
# against a real single node: describe (dynamic, --all, every entity form),
# alter by read-modify-write (add, replace, [a,b] lists, delete), the broker's
# refusal of dynamic broker configs, argument errors; exact lines, streams
# and exit codes.
# Standalone: prints "N passed, N failed" last and exits non-zero on failure.
# SAMSA=path/to/samsa overrides the CLI (default build/bin/samsa).
cd "$(dirname "$0")/../.." || exit 1
. test/lib/tooltest.sh
tooltest_up configs
configs() { "$SAMSA" configs "${BS[@]}" "$@"; }
# a failed admin call: Kafka's two lines on stderr, nothing on stdout
call_failed() { # ARGS-TEXT EXCEPTION-LINE
    err_is "Error while executing config command with args '$1'\njava.util.concurrent.ExecutionException: $2"
    out_is ""
}

"$SAMSA" topics "${BS[@]}" --create --topic t1 --config retention.ms=1000 >/dev/null || node_fail "create t1"
"$SAMSA" topics "${BS[@]}" --create --topic t2 >/dev/null || node_fail "create t2"

# ---- argument errors --------------------------------------------------------------
run 0 "--help" "$SAMSA" configs --help
out_has "This tool helps to manipulate and describe entity config for a topic, broker, user or client."
run 1 "no arguments" "$SAMSA" configs
err_first "This tool helps to manipulate and describe entity config for a topic, broker, user or client."
run 1 "no action" configs --entity-type topics
err_first "Command must include exactly one action: --describe, --alter"
run 1 "two actions" configs --describe --alter --entity-type topics
err_first "Command must include exactly one action: --describe, --alter"
run 1 "no bootstrap" "$SAMSA" configs --describe --entity-type topics
err_first "One of the required bootstrap-server or bootstrap-controller arguments must be specified"
run 1 "no entity type" configs --describe
err_is "At least one entity type must be specified"
run 1 "bad entity type" configs --describe --entity-type ips
err_is "Invalid entity-type ips, --entity-type must be one of topics,clients,users,brokers"
run 1 "broker name not an id" configs --describe --entity-type brokers --entity-name abc
err_is "The entity name for brokers must be a valid integer broker id, found: abc"
run 1 "illegal topic name" configs --describe --entity-type topics --entity-name 'a/b'
err_is "Topic name \"a/b\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
run 1 "alter without name" configs --alter --entity-type topics --add-config retention.ms=1
err_is "an entity name must be specified with --alter of topics"
run 1 "alter without changes" configs --alter --entity-type topics --entity-name t1
err_is "At least one of --add-config or --delete-config must be specified with --alter"
run 1 "describe with add-config" configs --describe --entity-type topics --add-config a=b
err_first 'Option "[add-config]" can'"'"'t be used with option "[describe]"'
run 1 "alter with --all" configs --alter --entity-type topics --entity-name t1 --add-config a=b --all
err_first 'Option "[all]" can'"'"'t be used with option "[alter]"'
run 1 "name and default" configs --describe --entity-type brokers --entity-name 1 --entity-default
err_is "--entity-name and --entity-default cannot both be specified"
run 1 "default for topics" configs --describe --entity-type topics --entity-default
err_first "--entity-default is not valid for topics: a topic's defaults are the broker's configs (see --entity-type brokers)"
run 1 "shortcut and entity-type" configs --describe --topic t1 --entity-type topics
err_is "--entity-type cannot be combined with --topic, --broker or --broker-defaults"
run 1 "unknown option" configs --describe --entity-type topics --frob
err_is "frob is not a recognized option"
run 1 "malformed add-config" configs --alter --entity-type topics --entity-name t1 --add-config retention.ms
err_is "requirement failed: Invalid entity config: all configs to be added must be in the format \"key=val\"."
run 1 "add-config with two =" configs --alter --entity-type topics --entity-name t1 --add-config a=b=c
err_is "requirement failed: Invalid entity config: all configs to be added must be in the format \"key=val\"."

# ---- describe topics --------------------------------------------------------------
run 0 "describe topic" configs --describe --entity-type topics --entity-name t1
out_is "Dynamic configs for topic t1 are:\n  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000}"
err_empty
run 0 "describe topic without overrides" configs --describe --entity-type topics --entity-name t2
out_is "Dynamic configs for topic t2 are:"
run 0 "describe --topic shortcut" configs --describe --topic t1
out_is "Dynamic configs for topic t1 are:\n  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000}"
run 0 "describe all topics" configs --describe --entity-type topics
out_is "Dynamic configs for topic t1 are:\n  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000}\nDynamic configs for topic t2 are:"
run 0 "describe topic --all" configs --describe --entity-type topics --entity-name t1 --all
out_has "All configs for topic t1 are:"
out_has "  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000}"
out_has "  cleanup.policy=delete sensitive=false synonyms={DEFAULT_CONFIG:log.cleanup.policy=delete}"
out_has "  max.message.bytes=1048588 sensitive=false synonyms={DEFAULT_CONFIG:message.max.bytes=1048588}"
[ "$(tail -n +2 "$T/out")" = "$(tail -n +2 "$T/out" | LC_ALL=C sort)" ] && ok || bad "--all: entries not sorted by name"
[ "$(wc -l <"$T/out")" -gt 20 ] && ok || bad "--all: too few entries"
run 1 "describe unknown topic" configs --describe --entity-type topics --entity-name nope
call_failed "${BS[*]} --describe --entity-type topics --entity-name nope" \
    "org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Topic does not exist."

# ---- alter topics (read-modify-write AlterConfigs) --------------------------------
run 0 "add configs, [a,b] list" configs --alter --entity-type topics --entity-name t1 \
    --add-config 'cleanup.policy=[compact,delete],segment.ms=3600000'
out_is "Completed updating config for topic t1."
err_empty
run 0 "existing override kept" configs --describe --topic t1
out_is "Dynamic configs for topic t1 are:\n  cleanup.policy=compact,delete sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete, DEFAULT_CONFIG:log.cleanup.policy=delete}\n  retention.ms=1000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=1000}\n  segment.ms=3600000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:segment.ms=3600000}"
run 0 "replace a value (tutorial)" configs --alter --add-config retention.ms=86400000 "${BS[@]}" --entity-type topics --entity-name t1
out_is "Completed updating config for topic t1."
run 0 "replaced" configs --describe --topic t1
out_has "  retention.ms=86400000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=86400000}"
out_has "  segment.ms=3600000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:segment.ms=3600000}"
run 0 "delete one config" configs --alter --entity-type topics --entity-name t1 --delete-config segment.ms
out_is "Completed updating config for topic t1."
run 0 "deleted, others kept" configs --describe --topic t1
out_is "Dynamic configs for topic t1 are:\n  cleanup.policy=compact,delete sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete, DEFAULT_CONFIG:log.cleanup.policy=delete}\n  retention.ms=86400000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=86400000}"
run 1 "delete a config that is not set" configs --alter --entity-type topics --entity-name t1 --delete-config retention.ms,nope,segment.ms
err_is "Invalid config(s): nope,segment.ms"
out_is ""
run 0 "nothing changed by the refused delete" configs --describe --topic t1
out_has "  retention.ms=86400000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=86400000}"
run 0 "add and delete together" configs --alter --topic t1 --add-config max.message.bytes=2000000 --delete-config cleanup.policy,retention.ms
out_is "Completed updating config for topic t1."
run 0 "after add+delete" configs --describe --topic t1
out_is "Dynamic configs for topic t1 are:\n  max.message.bytes=2000000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:max.message.bytes=2000000, DEFAULT_CONFIG:message.max.bytes=1048588}"
run 0 "kafka-topics sees the override" "$SAMSA" topics "${BS[@]}" --describe --topic t1 --topics-with-overrides
out_is "Topic: t1\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: max.message.bytes=2000000"
run 1 "invalid value" configs --alter --topic t1 --add-config retention.ms=abc
call_failed "${BS[*]} --alter --topic t1 --add-config retention.ms=abc" \
    "org.apache.kafka.common.errors.InvalidConfigurationException: Invalid value abc for configuration retention.ms: is not a valid 64-bit integer; use a whole number like the default 604800000"
run 1 "unknown key" configs --alter --topic t1 --add-config bogus.key=1
call_failed "${BS[*]} --alter --topic t1 --add-config bogus.key=1" \
    "org.apache.kafka.common.errors.InvalidConfigurationException: Unknown topic config name: bogus.key"
run 0 "failed alters changed nothing" configs --describe --topic t1
out_is "Dynamic configs for topic t1 are:\n  max.message.bytes=2000000 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:max.message.bytes=2000000, DEFAULT_CONFIG:message.max.bytes=1048588}"
run 1 "alter unknown topic" configs --alter --topic nope --add-config retention.ms=1
call_failed "${BS[*]} --alter --topic nope --add-config retention.ms=1" \
    "org.apache.kafka.common.errors.UnknownTopicOrPartitionException: Topic does not exist."

# ---- brokers ----------------------------------------------------------------------
run 0 "describe brokers (tutorial)" configs --describe --entity-type brokers --all
out_has "All configs for broker 1 are:"
out_has "  node.id=1 sensitive=false synonyms={STATIC_BROKER_CONFIG:node.id=1, DEFAULT_CONFIG:node.id=-1}"
out_has "  process.roles=broker,controller sensitive=false synonyms={STATIC_BROKER_CONFIG:process.roles=broker,controller, DEFAULT_CONFIG:process.roles=}"
out_has "  advertised.listeners=PLAINTEXT://$NODE_BOOTSTRAP sensitive=false synonyms={STATIC_BROKER_CONFIG:advertised.listeners=PLAINTEXT://$NODE_BOOTSTRAP}"
out_has "  ssl.keystore.password=null sensitive=true synonyms={}"
[ "$(head -n 1 "$T/out")" = "All configs for broker 1 are:" ] && ok || bad "brokers --all: first line"
[ "$(tail -n 1 "$T/out")" = "Default configs for brokers in the cluster are:" ] && ok || bad "brokers --all: last line"
sed -n '2,$p' "$T/out" | sed '$d' >"$T/entries"
[ "$(cat "$T/entries")" = "$(LC_ALL=C sort "$T/entries")" ] && ok || bad "brokers --all: not sorted"
run 0 "describe brokers (dynamic: none)" configs --describe --entity-type brokers
out_is "Dynamic configs for broker 1 are:\nDefault configs for brokers in the cluster are:"
run 0 "describe broker 1 --all" configs --describe --entity-type brokers --entity-name 1 --all
out_has "  node.id=1 sensitive=false synonyms={STATIC_BROKER_CONFIG:node.id=1, DEFAULT_CONFIG:node.id=-1}"
out_has "  broker.id=1 sensitive=false synonyms={DEFAULT_CONFIG:broker.id=-1}"
out_has "  auto.leader.rebalance.enable=true sensitive=false synonyms={DEFAULT_CONFIG:auto.leader.rebalance.enable=true}"
[ "$(head -n 1 "$T/out")" = "All configs for broker 1 are:" ] && ok || bad "broker 1 --all: first line"
if grep -q "^Default configs" "$T/out"; then bad "broker 1 --all: shows the default entity"; else ok; fi
run 0 "--broker shortcut" configs --describe --broker 1
out_is "Dynamic configs for broker 1 are:"
run 0 "describe --entity-default" configs --describe --entity-type brokers --entity-default
out_is "Default configs for brokers in the cluster are:"
run 0 "--broker-defaults --all" configs --describe --broker-defaults --all
out_is "Default configs for brokers in the cluster are:"
# dynamic broker configs (KIP-226): one broker, the cluster default, read-only keys
run 0 "alter broker 1" configs --alter --entity-type brokers --entity-name 1 --add-config log.retention.ms=1000
out_is "Completed updating config for broker 1."
run 0 "describe broker 1: its dynamic config" configs --describe --entity-type brokers --entity-name 1
out_is "Dynamic configs for broker 1 are:\n  log.retention.ms=1000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=1000, DEFAULT_CONFIG:log.retention.hours=168}"
run 0 "alter broker default" configs --alter --entity-type brokers --entity-default --add-config log.retention.ms=2000,log.segment.bytes=1048576
out_is "Completed updating default config for brokers in the cluster."
run 0 "describe --entity-default after alter" configs --describe --entity-type brokers --entity-default
out_is "Default configs for brokers in the cluster are:\n  log.retention.ms=2000 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=2000}\n  log.segment.bytes=1048576 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:log.segment.bytes=1048576}"
run 0 "broker 1 over the default" configs --describe --entity-type brokers --entity-name 1 --all
out_has "  log.retention.ms=1000 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:log.retention.ms=1000, DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=2000, DEFAULT_CONFIG:log.retention.hours=168}"
run 1 "alter a read-only broker config" configs --alter --entity-type brokers --entity-name 1 --add-config log.dirs=/elsewhere
call_failed "${BS[*]} --alter --entity-type brokers --entity-name 1 --add-config log.dirs=/elsewhere" \
    "org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: Set(log.dirs)"
run 1 "alter a read-only broker default" configs --alter --entity-type brokers --entity-default --add-config num.partitions=3
call_failed "${BS[*]} --alter --entity-type brokers --entity-default --add-config num.partitions=3" \
    "org.apache.kafka.common.errors.InvalidRequestException: Cannot update these configs dynamically: Set(num.partitions)"
run 0 "delete broker 1's config" configs --alter --entity-type brokers --entity-name 1 --delete-config log.retention.ms
run 0 "delete the defaults" configs --alter --entity-type brokers --entity-default --delete-config log.retention.ms,log.segment.bytes
run 0 "describe brokers: no dynamic configs left" configs --describe --entity-type brokers
out_is "Dynamic configs for broker 1 are:\nDefault configs for brokers in the cluster are:"
printf 'default.api.timeout.ms=1500\n' >"$T/fast.properties"
run 1 "describe a broker that does not exist" configs --command-config "$T/fast.properties" --describe --broker 7
call_failed "${BS[*]} --command-config $T/fast.properties --describe --broker 7" \
    "org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment."

# ---- dispatcher -------------------------------------------------------------------
run 0 "samsa --help lists configs" "$SAMSA" --help
if grep -q '^  configs ' "$T/out"; then ok; else bad "samsa --help lacks configs"; fi

tooltest_done
