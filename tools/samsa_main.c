/*
 * samsa_main.c - the `samsa` multi-tool: `samsa <tool> [args...]`, or a
 * Kafka name in argv[0]: `kafka-<tool>` and `kafka-<tool>.sh` (symlinks
 * made by `make` under build/bin and by `make install`) run `samsa <tool>`.
 *
 * Each tool lives in tools/<tool>.c with a header tools/<tool>.h that
 * exposes `int tool_<tool>_main(int argc, char **argv)`; argv[0] is the
 * tool's name and the return value is the exit code.  Adding a tool is one
 * #include and one row in samsa_tools[] below (and its name in the
 * Makefile's KAFKA_NAMES so the kafka-* link is made).
 *
 * This file only dispatches: no tool logic, no config loading.
 */
#include <stdio.h>
#include <string.h>

#include "tools/broker_api_versions.h"
#include "tools/configs.h"
#include "tools/console_consumer.h"
#include "tools/console_producer.h"
#include "tools/consumer_groups.h"
#include "tools/delete_records.h"
#include "tools/dump_log.h"
#include "tools/get_offsets.h"
#include "tools/launcher.h"
#include "tools/leader_election.h"
#include "tools/log_dirs.h"
#include "tools/metadata_quorum.h"
#include "tools/perf_tools.h"
#include "tools/reassign_partitions.h"
#include "tools/storage.h"
#include "tools/topics.h"
#include "tools/verifiable_consumer.h"
#include "tools/verifiable_producer.h"

struct samsa_tool {
    const char *name;
    int (*main_fn)(int argc, char **argv);
    const char *summary;
};

static const struct samsa_tool samsa_tools[] = {
    { "storage", tool_storage_main, "format log directories and make cluster ids (kafka-storage)" },
    { "configs", tool_configs_main, "describe and alter topic and broker configs (kafka-configs)" },
    { "topics", tool_topics_main, "create, list, describe, alter and delete topics (kafka-topics)" },
    { "consumer-groups", tool_consumer_groups_main, "list, describe, delete consumer groups and reset offsets (kafka-consumer-groups)" },
    { "metadata-quorum", tool_metadata_quorum_main, "describe the KRaft metadata quorum (kafka-metadata-quorum)" },
    { "console-producer", tool_console_producer_main, "send lines from stdin to a topic (kafka-console-producer)" },
    { "console-consumer", tool_console_consumer_main, "print a topic's records (kafka-console-consumer)" },
    { "get-offsets", tool_get_offsets_main, "print topic:partition:offset for a time (kafka-get-offsets, GetOffsetShell)" },
    { "delete-records", tool_delete_records_main, "delete records below offsets from a JSON file (kafka-delete-records)" },
    { "leader-election", tool_leader_election_main, "elect preferred or unclean partition leaders (kafka-leader-election)" },
    { "verifiable-producer", tool_verifiable_producer_main, "produce 0,1,2,... and print JSON events (kafka-verifiable-producer)" },
    { "verifiable-consumer", tool_verifiable_consumer_main, "consume in a group and print JSON events (kafka-verifiable-consumer)" },
    { "broker-api-versions", tool_broker_api_versions_main, "each broker's API versions (kafka-broker-api-versions)" },
    { "producer-perf-test", tool_producer_perf_test_main, "producer throughput and latency (kafka-producer-perf-test)" },
    { "consumer-perf-test", tool_consumer_perf_test_main, "consumer throughput (kafka-consumer-perf-test)" },
    { "log-dirs", tool_log_dirs_main, "each broker's log directories and partition sizes (kafka-log-dirs)" },
    { "reassign-partitions", tool_reassign_partitions_main, "move partitions' replicas between brokers (kafka-reassign-partitions)" },
    { "dump-log", tool_dump_log_main, "decode segment, index and time index files (kafka-dump-log)" },
    { "server-start", tool_server_start_main, "run samsa-server [-daemon] (kafka-server-start)" },
    { "server-stop", tool_server_stop_main, "SIGTERM running samsa-server processes (kafka-server-stop)" },
    { "run-class", tool_run_class_main, "run a tool by its Kafka class name, e.g. kafka.tools.GetOffsetShell (kafka-run-class)" },
};

#define SAMSA_TOOL_COUNT (sizeof samsa_tools / sizeof samsa_tools[0])

static void samsa_usage(FILE *out)
{
    fprintf(out, "usage: samsa <tool> [options]   (or kafka-<tool>[.sh] [options])\n\nTools:\n");
    for (size_t i = 0; i < SAMSA_TOOL_COUNT; i++)
        fprintf(out, "  %-18s %s\n", samsa_tools[i].name, samsa_tools[i].summary);
    fprintf(out, "\n`samsa <tool> --help` shows a tool's options.\n");
}

static const struct samsa_tool *samsa_tool_find(const char *name, size_t len)
{
    for (size_t i = 0; i < SAMSA_TOOL_COUNT; i++)
        if (strlen(samsa_tools[i].name) == len && strncmp(name, samsa_tools[i].name, len) == 0)
            return &samsa_tools[i];
    return NULL;
}

int main(int argc, char **argv)
{
    /* kafka-<tool>[.sh]: the tool comes from the program name */
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    if (strncmp(base, "kafka-", 6) == 0) {
        const char *name = base + 6;
        size_t len = strlen(name);
        if (len > 3 && strcmp(name + len - 3, ".sh") == 0)
            len -= 3;
        const struct samsa_tool *t = samsa_tool_find(name, len);
        if (!t) {
            fprintf(stderr, "samsa: %s is not a Kafka tool Samsa provides; `samsa --help` lists them\n", base);
            return 1;
        }
        return t->main_fn(argc, argv);
    }
    if (argc < 2) {
        samsa_usage(stderr);
        return 1;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        samsa_usage(stdout);
        return 0;
    }
    const struct samsa_tool *t = samsa_tool_find(argv[1], strlen(argv[1]));
    if (t)
        return t->main_fn(argc - 1, argv + 1);
    fprintf(stderr, "samsa: unknown tool '%s'\n\n", argv[1]);
    samsa_usage(stderr);
    return 1;
}
