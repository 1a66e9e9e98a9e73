/*
 * samsa_main.c - the `samsa` multi-tool: `samsa <tool> [args...]`.
 *
 * Each tool lives in tools/<tool>.c with a header tools/<tool>.h that
 * exposes `int tool_<tool>_main(int argc, char **argv)`; argv[0] is the
 * tool's name and the return value is the exit code.  Adding a tool is one
 * #include and one row in samsa_tools[] below.
 *
 * This file only dispatches: no tool logic, no config loading.
 */
#include <stdio.h>
#include <string.h>

#include "tools/configs.h"
#include "tools/consumer_groups.h"
#include "tools/storage.h"
#include "tools/topics.h"
#include "tools/metadata_quorum.h"

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
};

#define SAMSA_TOOL_COUNT (sizeof samsa_tools / sizeof samsa_tools[0])

static void samsa_usage(FILE *out)
{
    fprintf(out, "usage: samsa <tool> [options]\n\nTools:\n");
    for (size_t i = 0; i < SAMSA_TOOL_COUNT; i++)
        fprintf(out, "  %-18s %s\n", samsa_tools[i].name, samsa_tools[i].summary);
    fprintf(out, "\n`samsa <tool> --help` shows a tool's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        samsa_usage(stderr);
        return 1;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        samsa_usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < SAMSA_TOOL_COUNT; i++)
        if (strcmp(argv[1], samsa_tools[i].name) == 0)
            return samsa_tools[i].main_fn(argc - 1, argv + 1);
    fprintf(stderr, "samsa: unknown tool '%s'\n\n", argv[1]);
    samsa_usage(stderr);
    return 1;
}
