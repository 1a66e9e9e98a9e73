/*
 * consumer_groups.c - `samsa consumer-groups`: list, describe, delete
 * consumer groups and reset their committed offsets like Kafka 3.x's
 * kafka-consumer-groups.sh, on librdkafka's admin API (ListConsumerGroups,
 * DescribeConsumerGroups, ListConsumerGroupOffsets,
 * AlterConsumerGroupOffsets, DeleteGroups) and ListOffsets through
 * rd_kafka_offsets_for_times (timestamp -2 earliest, -1 latest, or a time).
 *
 * Kafka compatibility, on purpose:
 *  - the column layout of ConsumerGroupCommand (widths grow with the
 *    longest value, "-" for a missing value, the trailing blanks of the
 *    --members and --reset-offsets tables);
 *  - a failed command prints "\nError: ..." on stdout and exits 0, as
 *    Kafka's does; only usage errors exit 1 (message and options on
 *    stderr); "has no active members" / "is rebalancing" go to stderr;
 *  - a group that does not exist is described by the broker as Dead, which
 *    prints "Error: Consumer group 'G' does not exist.";
 *  - --reset-offsets refuses groups that are not Empty or Dead and still
 *    prints the (empty) table header, as Kafka does; --dry-run is the
 *    default, with Kafka's warning when neither --dry-run nor --execute
 *    is given; --to-offset and --shift-by are clamped to the log's range.
 *
 * Deliberate differences: groups are sorted by id in --list, and rows by
 * topic then partition where Kafka's order comes from hash maps; exception
 * names are reconstructed from Kafka error codes (librdkafka gives codes,
 * not Java classes).  --delete-offsets sends OffsetDelete (KIP-496) with
 * Kafka's output.  Not here: --from-file, --export,
 * --by-duration (they fail with a usage error naming the missing feature).
 */
#include "consumer_groups.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"
#include "tools/tool_common.h"

#define CONSUMER_GROUPS_IDS_MAX 256 /* --group / --topic options on one command line */
#define CONSUMER_GROUPS_MISSING "-"

enum consumer_groups_scenario {
    CG_SCENARIO_NONE,
    CG_SCENARIO_EARLIEST,
    CG_SCENARIO_LATEST,
    CG_SCENARIO_CURRENT,
    CG_SCENARIO_OFFSET,
    CG_SCENARIO_SHIFT,
    CG_SCENARIO_DATETIME,
};

struct consumer_groups_args {
    const char *bootstrap;
    const char *command_config;
    const char *groups[CONSUMER_GROUPS_IDS_MAX];
    size_t group_count;
    const char *topics[CONSUMER_GROUPS_IDS_MAX];
    size_t topic_count;
    bool list, describe, delete_groups, reset, delete_offsets;
    bool all_groups, all_topics, members, verbose, offsets, state;
    const char *state_value; /* --state's optional value */
    bool dry_run, execute;
    enum consumer_groups_scenario scenario;
    const char *scenario_names[8]; /* the scenario options given, for the conflict message */
    size_t scenario_count;
    int64_t scenario_value; /* --to-offset / --shift-by */
    const char *datetime;
    int timeout_ms; /* -1: not given */
    bool help;
};

static void consumer_groups_usage(FILE *out)
{
    fprintf(out,
            "This tool helps to list all consumer groups, describe a consumer group, delete consumer group info, "
            "or reset consumer group offsets.\n"
            "Option                                  Description\n"
            "------                                  -----------\n"
            "--all-groups                            Apply to all consumer groups.\n"
            "--all-topics                            Consider all topics assigned to a group in the `reset-offsets`\n"
            "                                          process.\n"
            "--bootstrap-server <server to connect   REQUIRED: The server(s) to connect to.\n"
            "  to>\n"
            "--command-config <command config        Property file containing configs to be passed to the admin\n"
            "  property file>                          client (librdkafka settings).\n"
            "--delete                                Pass in groups to delete topic partition offsets and ownership\n"
            "                                          information over the entire consumer group. For instance\n"
            "                                          --group g1 --group g2\n"
            "--delete-offsets                        Delete offsets of consumer group. Supports one consumer group\n"
            "                                          at the time, and multiple topics (--topic t or t:0,1).\n"
            "--describe                              Describe consumer group and list offset lag (number of\n"
            "                                          messages not yet processed) related to given group.\n"
            "--dry-run                               Only show results without executing changes on Consumer\n"
            "                                          Groups. Supported operations: reset-offsets.\n"
            "--execute                               Execute operation. Supported operations: reset-offsets.\n"
            "--group <consumer group>                The consumer group we wish to act on.\n"
            "--help                                  Print usage information.\n"
            "--list                                  List all consumer groups.\n"
            "--members                               Describe members of the group. This option may be used with\n"
            "                                          '--describe' and '--bootstrap-server' options only.\n"
            "--offsets                               Describe the group and list all topic partitions in the group\n"
            "                                          along with their offset lag. This is the default sub-action.\n"
            "--reset-offsets                         Reset offsets of consumer group. Supports one consumer group at\n"
            "                                          the time, and instances should be inactive.\n"
            "                                        Has 2 execution options: --dry-run (the default) to plan which\n"
            "                                          offsets to reset, and --execute to update the offsets.\n"
            "                                        You must choose one of the following reset specifications:\n"
            "                                          --to-datetime, --to-earliest, --to-latest, --shift-by,\n"
            "                                          --to-offset, --to-current.\n"
            "                                        To define the scope use --all-topics or --topic.\n"
            "--shift-by <Long: number-of-offsets>    Reset offsets shifting current offset by 'n', where 'n' can\n"
            "                                          be positive or negative.\n"
            "--state [String]                        When specified with '--describe', includes the state of the\n"
            "                                          group. When specified with '--list', it displays the state\n"
            "                                          of all groups. It can also be used to list groups with\n"
            "                                          specific states, e.g. --list --state stable,empty\n"
            "--timeout <Long: timeout (ms)>          The timeout of each admin call in milliseconds (default:\n"
            "                                          5000).\n"
            "--to-current                            Reset offsets to current offset.\n"
            "--to-datetime <String: datetime>        Reset offsets to offset from datetime. Format:\n"
            "                                          'YYYY-MM-DDTHH:mm:SS.sss'\n"
            "--to-earliest                           Reset offsets to earliest offset.\n"
            "--to-latest                             Reset offsets to latest offset.\n"
            "--to-offset <Long: offset>              Reset offsets to a specific offset.\n"
            "--topic <topic>                         The topic whose offsets should be included in the reset\n"
            "                                          offset process: `topic1:0,1,2` names partitions.\n"
            "--verbose                               Provide additional information, if any, when describing the\n"
            "                                          group (--members --verbose adds ASSIGNMENT).\n");
}

/* Kafka's printUsageAndDie: the reason, then the options, on stderr; exit 1. */
static int consumer_groups_usage_error(const char *msg)
{
    return tool_usage_error(msg, consumer_groups_usage);
}

/* Kafka's printError: a blank line, then "Error: msg", on stdout.  The
 * command still exits 0, as ConsumerGroupCommand does. */
static void consumer_groups_error(const char *msg)
{
    printf("\nError: %s\n", msg);
}

static int consumer_groups_failed(const char *why)
{
    char msg[TOOL_ERRSTR_MAX + 64];
    snprintf(msg, sizeof msg, "Executing consumer group command failed due to %s", why);
    consumer_groups_error(msg);
    return 0;
}

/* "Class: message" as the Java admin client would show a broker error code. */
static void consumer_groups_exception(const struct tool_client *c, rd_kafka_resp_err_t e, char *out, size_t out_size)
{
    static const struct {
        rd_kafka_resp_err_t err;
        const char *text;
    } known[] = {
        { RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP, "GroupNotEmptyException: The group is not empty." },
        { RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND, "GroupIdNotFoundException: The group id does not exist." },
        { RD_KAFKA_RESP_ERR_INVALID_GROUP_ID, "InvalidGroupIdException: The configured groupId is invalid." },
        { RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
          "CoordinatorNotAvailableException: The coordinator is not available." },
        { RD_KAFKA_RESP_ERR_NOT_COORDINATOR, "NotCoordinatorException: This is not the correct coordinator." },
        { RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
          "CoordinatorLoadInProgressException: The coordinator is loading and hence can't process requests." },
        { RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED, "GroupAuthorizationException: Group authorization failed." },
        { RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
          "UnknownTopicOrPartitionException: This server does not host this topic-partition." },
        { RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID, "UnknownMemberIdException: The coordinator is not aware of this member." },
        { RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
          "RebalanceInProgressException: The group is rebalancing, so a rejoin is needed." },
        { RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION,
          "IllegalGenerationException: Specified group generation id is not valid." },
        { RD_KAFKA_RESP_ERR_GROUP_SUBSCRIBED_TO_TOPIC,
          "GroupSubscribedToTopicException: The consumer group is actively subscribed to the topic" },
        { RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE,
          "OffsetMetadataTooLarge: The metadata field of the offset request was too large." },
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (known[i].err == e) {
            snprintf(out, out_size, "org.apache.kafka.common.errors.%s", known[i].text);
            return;
        }
    }
    if ((e == RD_KAFKA_RESP_ERR__TIMED_OUT || e == RD_KAFKA_RESP_ERR__TRANSPORT) && c->last_error[0])
        /* no broker answered: say why, as tool_client_wait does */
        snprintf(out, out_size, "org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node "
                 "assignment. (%.300s)", c->last_error);
    else if (e == RD_KAFKA_RESP_ERR__TIMED_OUT || e == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT)
        snprintf(out, out_size, "org.apache.kafka.common.errors.TimeoutException: %s", rd_kafka_err2str(e));
    else
        snprintf(out, out_size, "org.apache.kafka.common.KafkaException: %s", rd_kafka_err2str(e));
}

/* ---- arguments ------------------------------------------------------------------ */

static int consumer_groups_parse_long(const char *opt, const char *s, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno == 0 && end != s && *end == '\0') {
        *out = (int64_t)v;
        return 0;
    }
    fprintf(stderr, "Cannot parse argument '%s' of option %s\n", s, opt);
    return ERR_INVALID;
}

static void consumer_groups_scenario_set(struct consumer_groups_args *a, enum consumer_groups_scenario s,
                                         const char *name)
{
    a->scenario = s;
    if (a->scenario_count < sizeof a->scenario_names / sizeof a->scenario_names[0])
        a->scenario_names[a->scenario_count++] = name;
}

/* Returns 0 to go on, or the exit code after printing why. */
static int consumer_groups_args_parse(int argc, char **argv, struct consumer_groups_args *a)
{
    memset(a, 0, sizeof *a);
    a->timeout_ms = -1;
    for (int i = 1; i < argc; i++) {
        const char *group = NULL, *topic = NULL, *timeout = NULL, *to_offset = NULL, *shift = NULL;
        const char *datetime = NULL;
        int m;
        if ((m = tool_opt(argc, argv, &i, "--bootstrap-server", true, &a->bootstrap)) ||
            (m = tool_opt(argc, argv, &i, "--command-config", true, &a->command_config)) ||
            (m = tool_opt(argc, argv, &i, "--group", true, &group)) ||
            (m = tool_opt(argc, argv, &i, "--topic", true, &topic)) ||
            (m = tool_opt(argc, argv, &i, "--timeout", true, &timeout)) ||
            (m = tool_opt(argc, argv, &i, "--to-offset", true, &to_offset)) ||
            (m = tool_opt(argc, argv, &i, "--shift-by", true, &shift)) ||
            (m = tool_opt(argc, argv, &i, "--to-datetime", true, &datetime))) {
            if (m < 0)
                return 1;
            if (group || topic) {
                size_t *count = group ? &a->group_count : &a->topic_count;
                if (*count == CONSUMER_GROUPS_IDS_MAX) {
                    fprintf(stderr, "Too many --%s options (at most %d)\n", group ? "group" : "topic",
                            CONSUMER_GROUPS_IDS_MAX);
                    return 1;
                }
                if (group)
                    a->groups[(*count)++] = group;
                else
                    a->topics[(*count)++] = topic;
            }
            int64_t ms = 0;
            if (timeout) {
                if (consumer_groups_parse_long("timeout", timeout, &ms) < 0)
                    return 1;
                a->timeout_ms = ms < 1 ? 1 : ms > 3600000 ? 3600000 : (int)ms;
            }
            if (to_offset || shift) {
                if (consumer_groups_parse_long(shift ? "shift-by" : "to-offset", shift ? shift : to_offset,
                                               &a->scenario_value) < 0)
                    return 1;
                consumer_groups_scenario_set(a, shift ? CG_SCENARIO_SHIFT : CG_SCENARIO_OFFSET,
                                             shift ? "shift-by" : "to-offset");
            }
            if (datetime) {
                a->datetime = datetime;
                consumer_groups_scenario_set(a, CG_SCENARIO_DATETIME, "to-datetime");
            }
            continue;
        }
        if (strcmp(argv[i], "--state") == 0 || strncmp(argv[i], "--state=", 8) == 0) {
            /* joptsimple's optional argument: the next word unless it is an option */
            a->state = true;
            if (argv[i][7] == '=')
                a->state_value = argv[i] + 8;
            else if (i + 1 < argc && argv[i + 1][0] != '-')
                a->state_value = argv[++i];
            continue;
        }
        if (tool_opt(argc, argv, &i, "--list", false, NULL))
            a->list = true;
        else if (tool_opt(argc, argv, &i, "--describe", false, NULL))
            a->describe = true;
        else if (tool_opt(argc, argv, &i, "--delete", false, NULL))
            a->delete_groups = true;
        else if (tool_opt(argc, argv, &i, "--reset-offsets", false, NULL))
            a->reset = true;
        else if (tool_opt(argc, argv, &i, "--delete-offsets", false, NULL))
            a->delete_offsets = true;
        else if (tool_opt(argc, argv, &i, "--all-groups", false, NULL))
            a->all_groups = true;
        else if (tool_opt(argc, argv, &i, "--all-topics", false, NULL))
            a->all_topics = true;
        else if (tool_opt(argc, argv, &i, "--members", false, NULL))
            a->members = true;
        else if (tool_opt(argc, argv, &i, "--verbose", false, NULL))
            a->verbose = true;
        else if (tool_opt(argc, argv, &i, "--offsets", false, NULL))
            a->offsets = true;
        else if (tool_opt(argc, argv, &i, "--dry-run", false, NULL))
            a->dry_run = true;
        else if (tool_opt(argc, argv, &i, "--execute", false, NULL))
            a->execute = true;
        else if (tool_opt(argc, argv, &i, "--to-earliest", false, NULL))
            consumer_groups_scenario_set(a, CG_SCENARIO_EARLIEST, "to-earliest");
        else if (tool_opt(argc, argv, &i, "--to-latest", false, NULL))
            consumer_groups_scenario_set(a, CG_SCENARIO_LATEST, "to-latest");
        else if (tool_opt(argc, argv, &i, "--to-current", false, NULL))
            consumer_groups_scenario_set(a, CG_SCENARIO_CURRENT, "to-current");
        else if (tool_opt(argc, argv, &i, "--help", false, NULL) || strcmp(argv[i], "-h") == 0)
            a->help = true;
        else {
            const char *name = argv[i];
            while (*name == '-')
                name++;
            fprintf(stderr, "%s is not a recognized option\n", name);
            return 1;
        }
    }
    return 0;
}

static int consumer_groups_conflict(const char *used, const char *other)
{
    char msg[256];
    snprintf(msg, sizeof msg, "Option \"[%s]\" can't be used with option \"[%s]\"", used, other);
    return consumer_groups_usage_error(msg);
}

/* ConsumerGroupCommandOptions.checkArgs, in Kafka's order. */
static int consumer_groups_args_check(const struct consumer_groups_args *a)
{
    int actions = a->list + a->describe + a->delete_groups + a->reset + a->delete_offsets;
    if (actions != 1)
        return consumer_groups_usage_error("Command must include exactly one action: --list, --describe, --delete, "
                                           "--reset-offsets, --delete-offsets");
    if (!a->bootstrap)
        return consumer_groups_usage_error("Missing required argument \"[bootstrap-server]\"");
    if (a->delete_offsets) {
        if (a->group_count == 0 || a->topic_count == 0)
            return consumer_groups_usage_error("Option [delete-offsets] takes the following options: [group], [topic]");
        if (a->group_count > 1)
            return consumer_groups_usage_error("Option [delete-offsets] supports only one [group] at a time");
    }
    if ((a->members || a->verbose || a->offsets) && !a->describe)
        return consumer_groups_usage_error(a->members   ? "Option(s) [members] are unavailable given other options on "
                                                          "the command line"
                                           : a->verbose ? "Option(s) [verbose] are unavailable given other options on "
                                                          "the command line"
                                                        : "Option(s) [offsets] are unavailable given other options on "
                                                          "the command line");
    if (a->state && !a->describe && !a->list)
        return consumer_groups_usage_error("Option(s) [state] are unavailable given other options on the command line");
    bool has_group = a->group_count > 0;
    if (a->describe) {
        if (!has_group && !a->all_groups)
            return consumer_groups_usage_error("Option [describe] takes one of these options: [group], [all-groups]");
        if (a->members + a->offsets + a->state > 1)
            return consumer_groups_usage_error(
                "Option [describe] takes at most one of these options: [members], [offsets], [state]");
        if (a->state && a->state_value)
            return consumer_groups_usage_error("Option [describe] does not take a value for [state]");
    }
    if (a->delete_groups) {
        if (!has_group && !a->all_groups)
            return consumer_groups_usage_error("Option [delete] takes one of these options: [group], [all-groups]");
        if (a->topic_count > 0)
            return consumer_groups_usage_error(
                "The consumer does not support topic-specific offset deletion from a consumer group.");
    }
    if (a->reset) {
        if (a->dry_run && a->execute)
            return consumer_groups_usage_error("Option [reset-offsets] only accepts one of [execute] and [dry-run]");
        if (!a->dry_run && !a->execute)
            fprintf(stderr, "WARN: No action will be performed as the --execute option is missing.In a future major "
                            "release, the default behavior of this command will be to prompt the user before "
                            "executing the reset rather than doing a dry run. You should add the --dry-run option "
                            "explicitly if you are scripting this command and want to keep the current default "
                            "behavior without prompting.\n");
        if (!has_group && !a->all_groups)
            return consumer_groups_usage_error(
                "Option [reset-offsets] takes one of these options: [group], [all-groups]");
        if (a->scenario_count > 1)
            return consumer_groups_conflict(a->scenario_names[0], a->scenario_names[1]);
    } else if (a->scenario_count > 0) {
        return consumer_groups_conflict(a->scenario_names[0], "reset-offsets");
    }
    if (has_group && a->all_groups)
        return consumer_groups_conflict("group", "all-groups");
    if (has_group && a->list)
        return consumer_groups_conflict("group", "list");
    if (a->topic_count > 0 && (a->list || a->describe))
        return consumer_groups_conflict("topic", a->list ? "list" : "describe");
    if (a->reset) {
        if (a->scenario == CG_SCENARIO_NONE)
            return consumer_groups_usage_error(
                "Option '[reset-offsets]' requires one of the following scenarios: [to-offset], [shift-by], "
                "[to-datetime], [to-earliest], [to-latest], [to-current]");
        if (a->topic_count == 0 && !a->all_topics)
            return consumer_groups_usage_error("One of the reset scopes should be defined: --all-topics, --topic.");
        if (a->topic_count > 0 && a->all_topics)
            return consumer_groups_conflict("all-topics", "topic");
    }
    return 0;
}

/* ---- shared look-ups ------------------------------------------------------------- */

struct consumer_groups_listing {
    char *group;
    char state[32];
};

static int consumer_groups_listing_cmp(const void *x, const void *y)
{
    const struct consumer_groups_listing *p = x, *q = y;
    return strcmp(p->group, q->group);
}

static void consumer_groups_listing_free(struct consumer_groups_listing *l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i].group);
    free(l);
}

/* Every group in the cluster, sorted by id.  Returns 0 or fills err. */
static int consumer_groups_list_all(struct tool_client *c, struct consumer_groups_listing **out, size_t *count,
                                    char *err, size_t err_size)
{
    *out = NULL;
    *count = 0;
    rd_kafka_AdminOptions_t *o = tool_admin_options(c, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    rd_kafka_ListConsumerGroups(c->rk, o, c->queue);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    rd_kafka_event_t *ev = tool_client_wait(c, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, err, err_size);
    if (!ev)
        return ERR_INVALID;
    const rd_kafka_ListConsumerGroups_result_t *res = rd_kafka_event_ListConsumerGroups_result(ev);
    size_t nerr = 0;
    const rd_kafka_error_t **errs = rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
    if (nerr > 0) {
        consumer_groups_exception(c, rd_kafka_error_code(errs[0]), err, err_size);
        rd_kafka_event_destroy(ev);
        return ERR_INVALID;
    }
    size_t n = 0;
    const rd_kafka_ConsumerGroupListing_t **valid = rd_kafka_ListConsumerGroups_result_valid(res, &n);
    struct consumer_groups_listing *l = calloc(n + 1, sizeof *l);
    if (!l) {
        rd_kafka_event_destroy(ev);
        snprintf(err, err_size, "out of memory");
        return ERR_LIMIT;
    }
    for (size_t i = 0; i < n; i++) {
        l[i].group = strdup(rd_kafka_ConsumerGroupListing_group_id(valid[i]));
        snprintf(l[i].state, sizeof l[i].state, "%s",
                 rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(valid[i])));
        if (!l[i].group) {
            consumer_groups_listing_free(l, i);
            rd_kafka_event_destroy(ev);
            snprintf(err, err_size, "out of memory");
            return ERR_LIMIT;
        }
    }
    rd_kafka_event_destroy(ev);
    qsort(l, n, sizeof *l, consumer_groups_listing_cmp);
    *out = l;
    *count = n;
    return 0;
}

/* The groups an action works on, and (when asked) their descriptions. */
struct consumer_groups_sel {
    const char **ids; /* sorted, distinct; point into argv or all[] */
    size_t count;
    struct consumer_groups_listing *all; /* --all-groups */
    size_t all_count;
    rd_kafka_event_t *ev; /* the DescribeConsumerGroups result owning descs */
    const rd_kafka_ConsumerGroupDescription_t **descs;
    size_t desc_count;
};

static void consumer_groups_sel_deinit(struct consumer_groups_sel *sel)
{
    if (sel->ev)
        rd_kafka_event_destroy(sel->ev);
    free(sel->ids);
    consumer_groups_listing_free(sel->all, sel->all_count);
    memset(sel, 0, sizeof *sel);
}

/*
 * The groups named on the command line, or all of them (--all-groups),
 * and with describe their DescribeConsumerGroups results.  On failure
 * fills err and leaves nothing to release.
 */
static int consumer_groups_sel_init(struct tool_client *c, const struct consumer_groups_args *a, bool describe,
                                    struct consumer_groups_sel *sel, char *err, size_t err_size)
{
    memset(sel, 0, sizeof *sel);
    if (a->all_groups && consumer_groups_list_all(c, &sel->all, &sel->all_count, err, err_size) < 0)
        return ERR_INVALID;
    size_t n = a->all_groups ? sel->all_count : a->group_count;
    sel->ids = calloc(n + 1, sizeof *sel->ids);
    if (!sel->ids) {
        consumer_groups_sel_deinit(sel);
        snprintf(err, err_size, "out of memory");
        return ERR_LIMIT;
    }
    for (size_t i = 0; i < n; i++)
        sel->ids[i] = a->all_groups ? sel->all[i].group : a->groups[i];
    qsort(sel->ids, n, sizeof *sel->ids, tool_str_cmp);
    for (size_t i = 0; i < n; i++)
        if (sel->count == 0 || strcmp(sel->ids[sel->count - 1], sel->ids[i]) != 0)
            sel->ids[sel->count++] = sel->ids[i];
    if (!describe || sel->count == 0)
        return 0;
    rd_kafka_AdminOptions_t *o = tool_admin_options(c, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    rd_kafka_DescribeConsumerGroups(c->rk, sel->ids, sel->count, o, c->queue);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    sel->ev = tool_client_wait(c, RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT, err, err_size);
    if (!sel->ev) {
        consumer_groups_sel_deinit(sel);
        return ERR_INVALID;
    }
    sel->descs = rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(sel->ev),
                                                               &sel->desc_count);
    for (size_t i = 0; i < sel->desc_count; i++) {
        const rd_kafka_error_t *ge = rd_kafka_ConsumerGroupDescription_error(sel->descs[i]);
        if (ge) {
            consumer_groups_exception(c, rd_kafka_error_code(ge), err, err_size);
            consumer_groups_sel_deinit(sel);
            return ERR_INVALID;
        }
    }
    return 0;
}

/* The description of group id, NULL when the broker returned none. */
static const rd_kafka_ConsumerGroupDescription_t *consumer_groups_sel_find(const struct consumer_groups_sel *sel,
                                                                          const char *id)
{
    for (size_t k = 0; k < sel->desc_count; k++)
        if (strcmp(rd_kafka_ConsumerGroupDescription_group_id(sel->descs[k]), id) == 0)
            return sel->descs[k];
    return NULL;
}

/*
 * One ListConsumerGroupOffsets (alter == NULL: every committed partition)
 * or AlterConsumerGroupOffsets (the offsets in alter) call for group.
 * Returns the result event (the caller destroys it) with *parts pointing
 * into it, or NULL with err filled in (also for a group-level error).
 */
static rd_kafka_event_t *consumer_groups_offsets_call(struct tool_client *c, const char *group,
                                                      const rd_kafka_topic_partition_list_t *alter,
                                                      const rd_kafka_topic_partition_list_t **parts, char *err,
                                                      size_t err_size)
{
    *parts = NULL;
    rd_kafka_event_type_t type;
    if (alter) {
        rd_kafka_AlterConsumerGroupOffsets_t *req = rd_kafka_AlterConsumerGroupOffsets_new(group, alter);
        rd_kafka_AdminOptions_t *o = tool_admin_options(c, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS);
        rd_kafka_AlterConsumerGroupOffsets(c->rk, &req, 1, o, c->queue);
        if (o)
            rd_kafka_AdminOptions_destroy(o);
        rd_kafka_AlterConsumerGroupOffsets_destroy(req);
        type = RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT;
    } else {
        rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(group, NULL);
        rd_kafka_AdminOptions_t *o = tool_admin_options(c, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
        rd_kafka_ListConsumerGroupOffsets(c->rk, &req, 1, o, c->queue);
        if (o)
            rd_kafka_AdminOptions_destroy(o);
        rd_kafka_ListConsumerGroupOffsets_destroy(req);
        type = RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT;
    }
    rd_kafka_event_t *ev = tool_client_wait(c, type, err, err_size);
    if (!ev)
        return NULL;
    size_t n = 0;
    const rd_kafka_group_result_t **gr =
        alter ? rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &n)
              : rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
    if (n != 1) {
        snprintf(err, err_size, "org.apache.kafka.common.KafkaException: no result for group %s", group);
    } else if (rd_kafka_group_result_error(gr[0])) {
        consumer_groups_exception(c, rd_kafka_error_code(rd_kafka_group_result_error(gr[0])), err, err_size);
    } else {
        *parts = rd_kafka_group_result_partitions(gr[0]);
        return ev;
    }
    rd_kafka_event_destroy(ev);
    return NULL;
}

/* The committed offsets of one group (all partitions); *out is a copy the
 * caller destroys.  Partitions without a committed offset are dropped. */
static int consumer_groups_committed(struct tool_client *c, const char *group, rd_kafka_topic_partition_list_t **out,
                                     char *err, size_t err_size)
{
    const rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_event_t *ev = consumer_groups_offsets_call(c, group, NULL, &parts, err, err_size);
    *out = NULL;
    if (!ev)
        return ERR_INVALID;
    rd_kafka_topic_partition_list_t *copy = rd_kafka_topic_partition_list_new(parts ? parts->cnt : 0);
    for (int i = 0; parts && i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &parts->elems[i];
        if (p->err || p->offset < 0)
            continue;
        rd_kafka_topic_partition_list_add(copy, p->topic, p->partition)->offset = p->offset;
    }
    rd_kafka_event_destroy(ev);
    *out = copy;
    return 0;
}

/*
 * ListOffsets for every partition of list: spec -2 earliest, -1 latest, or
 * a timestamp (ms).  Fills each element's offset (-1 when a timestamp has
 * no message at or after it).  Returns 0 or fills err.
 */
static int consumer_groups_log_offsets(struct tool_client *c, rd_kafka_topic_partition_list_t *list, int64_t spec,
                                       char *err, size_t err_size)
{
    if (list->cnt == 0)
        return 0;
    for (int i = 0; i < list->cnt; i++) {
        list->elems[i].offset = spec;
        list->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(c->rk, list, c->timeout_ms);
    if (e) {
        consumer_groups_exception(c, e, err, err_size);
        return ERR_INVALID;
    }
    for (int i = 0; i < list->cnt; i++) {
        if (list->elems[i].err) {
            consumer_groups_exception(c, list->elems[i].err, err, err_size);
            return ERR_INVALID;
        }
    }
    return 0;
}

static int consumer_groups_tp_cmp(const void *x, const void *y)
{
    const rd_kafka_topic_partition_t *p = x, *q = y;
    int c = strcmp(p->topic, q->topic);
    return c ? c : (p->partition > q->partition) - (p->partition < q->partition);
}

static int64_t consumer_groups_offset_of(const rd_kafka_topic_partition_list_t *l, const char *topic, int32_t part)
{
    const rd_kafka_topic_partition_t *p =
        l ? rd_kafka_topic_partition_list_find((rd_kafka_topic_partition_list_t *)l, topic, part) : NULL;
    return p ? p->offset : -1;
}

static int consumer_groups_width(int w, const char *s)
{
    int n = (int)strlen(s);
    return n > w ? n : w;
}

/* shouldPrintMemberState: the state messages; true when a table follows. */
static bool consumer_groups_state_check(const char *group, rd_kafka_consumer_group_state_t st, size_t rows)
{
    char msg[512];
    switch (st) {
    case RD_KAFKA_CONSUMER_GROUP_STATE_DEAD:
        snprintf(msg, sizeof msg, "Consumer group '%s' does not exist.", group);
        consumer_groups_error(msg);
        return false;
    case RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY:
        fprintf(stderr, "\nConsumer group '%s' has no active members.\n", group);
        break;
    case RD_KAFKA_CONSUMER_GROUP_STATE_PREPARING_REBALANCE:
    case RD_KAFKA_CONSUMER_GROUP_STATE_COMPLETING_REBALANCE:
        fprintf(stderr, "\nWarning: Consumer group '%s' is rebalancing.\n", group);
        break;
    default:
        break;
    }
    return rows > 0;
}

/* ---- --list ---------------------------------------------------------------------- */

static const char *const consumer_groups_state_names[] = { "PreparingRebalance", "CompletingRebalance", "Stable",
                                                           "Dead", "Empty" };

static int consumer_groups_list(struct tool_client *c, const struct consumer_groups_args *a)
{
    bool want[5] = { false };
    bool any_state = true;
    if (a->state_value && a->state_value[0]) {
        any_state = false;
        char buf[512];
        snprintf(buf, sizeof buf, "%s", a->state_value);
        char *save = NULL;
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ')
                tok++;
            size_t len = strlen(tok);
            while (len > 0 && tok[len - 1] == ' ')
                tok[--len] = '\0';
            size_t k = 0;
            while (k < 5 && strcasecmp(tok, consumer_groups_state_names[k]) != 0)
                k++;
            if (k == 5) {
                char msg[768];
                snprintf(msg, sizeof msg,
                         "Invalid state list '%s'. Valid states are: PreparingRebalance, CompletingRebalance, "
                         "Stable, Dead, Empty",
                         a->state_value);
                return consumer_groups_usage_error(msg);
            }
            want[k] = true;
        }
    }
    char err[TOOL_ERRSTR_MAX];
    struct consumer_groups_listing *l = NULL;
    size_t n = 0;
    if (consumer_groups_list_all(c, &l, &n, err, sizeof err) < 0)
        return consumer_groups_failed(err);
    if (!a->state) {
        for (size_t i = 0; i < n; i++)
            printf("%s\n", l[i].group);
        consumer_groups_listing_free(l, n);
        return 0;
    }
    int w = 15;
    for (size_t i = 0; i < n; i++)
        w = consumer_groups_width(w, l[i].group);
    printf("%-*s %s\n", w, "GROUP", "STATE");
    for (size_t i = 0; i < n; i++) {
        bool keep = any_state;
        for (size_t k = 0; k < 5 && !keep; k++)
            keep = want[k] && strcmp(l[i].state, consumer_groups_state_names[k]) == 0;
        if (keep)
            printf("%-*s %s\n", w, l[i].group, l[i].state);
    }
    consumer_groups_listing_free(l, n);
    return 0;
}

/* ---- --describe ------------------------------------------------------------------ */

/* One row of the offsets table. */
struct consumer_groups_row {
    const char *topic;
    int32_t partition;
    int64_t offset;          /* committed, -1 none */
    int64_t log_end;         /* -1 unknown */
    const char *consumer_id; /* "-" for partitions no member owns */
    const char *host;
    const char *client_id;
};

static int consumer_groups_row_cmp(const void *x, const void *y)
{
    const struct consumer_groups_row *p = x, *q = y;
    int c = strcmp(p->topic, q->topic);
    return c ? c : (p->partition > q->partition) - (p->partition < q->partition);
}

struct consumer_groups_member_ref {
    const rd_kafka_MemberDescription_t *m;
    size_t index;
    int partition_count;
};

/* Kafka: members with the most partitions first (a stable sort). */
static int consumer_groups_member_cmp(const void *x, const void *y)
{
    const struct consumer_groups_member_ref *p = x, *q = y;
    if (p->partition_count != q->partition_count)
        return p->partition_count > q->partition_count ? -1 : 1;
    return (p->index > q->index) - (p->index < q->index);
}

static const rd_kafka_topic_partition_list_t *consumer_groups_member_parts(const rd_kafka_MemberDescription_t *m)
{
    const rd_kafka_MemberAssignment_t *as = rd_kafka_MemberDescription_assignment(m);
    return as ? rd_kafka_MemberAssignment_partitions(as) : NULL;
}

static void consumer_groups_print_offsets(const char *group, const struct consumer_groups_row *rows, size_t n)
{
    int wg = consumer_groups_width(15, group), wt = 15, wc = 15, wh = 15;
    for (size_t i = 0; i < n; i++) {
        wt = consumer_groups_width(wt, rows[i].topic);
        wc = consumer_groups_width(wc, rows[i].consumer_id);
        wh = consumer_groups_width(wh, rows[i].host);
    }
    printf("\n%-*s %-*s %-10s %-15s %-15s %-15s %-*s %-*s %s\n", wg, "GROUP", wt, "TOPIC", "PARTITION",
           "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", wc, "CONSUMER-ID", wh, "HOST", "CLIENT-ID");
    for (size_t i = 0; i < n; i++) {
        const struct consumer_groups_row *r = &rows[i];
        char off[24], leo[24], lag[24];
        snprintf(off, sizeof off, "%s", CONSUMER_GROUPS_MISSING);
        snprintf(leo, sizeof leo, "%s", CONSUMER_GROUPS_MISSING);
        snprintf(lag, sizeof lag, "%s", CONSUMER_GROUPS_MISSING);
        if (r->offset >= 0)
            snprintf(off, sizeof off, "%lld", (long long)r->offset);
        if (r->log_end >= 0)
            snprintf(leo, sizeof leo, "%lld", (long long)r->log_end);
        if (r->offset >= 0 && r->log_end >= 0)
            snprintf(lag, sizeof lag, "%lld", (long long)(r->log_end - r->offset));
        printf("%-*s %-*s %-10d %-15s %-15s %-15s %-*s %-*s %s\n", wg, group, wt, r->topic, (int)r->partition, off,
               leo, lag, wc, r->consumer_id, wh, r->host, r->client_id);
    }
}

/* The offsets view of one group: assigned partitions per member, then committed ones no member owns. */
static int consumer_groups_describe_offsets(struct tool_client *c, const rd_kafka_ConsumerGroupDescription_t *d)
{
    const char *group = rd_kafka_ConsumerGroupDescription_group_id(d);
    char err[TOOL_ERRSTR_MAX];
    rd_kafka_topic_partition_list_t *committed = NULL;
    if (consumer_groups_committed(c, group, &committed, err, sizeof err) < 0)
        return consumer_groups_failed(err);
    size_t members = rd_kafka_ConsumerGroupDescription_member_count(d);
    struct consumer_groups_member_ref *refs = calloc(members + 1, sizeof *refs);
    size_t cap = (size_t)committed->cnt + 1;
    for (size_t i = 0; refs && i < members; i++) {
        refs[i].m = rd_kafka_ConsumerGroupDescription_member(d, i);
        refs[i].index = i;
        const rd_kafka_topic_partition_list_t *mp = consumer_groups_member_parts(refs[i].m);
        refs[i].partition_count = mp ? mp->cnt : 0;
        cap += (size_t)refs[i].partition_count;
    }
    struct consumer_groups_row *rows = calloc(cap, sizeof *rows);
    rd_kafka_topic_partition_list_t *leo = rd_kafka_topic_partition_list_new((int)cap);
    if (!refs || !rows || !leo) {
        free(refs);
        free(rows);
        if (leo)
            rd_kafka_topic_partition_list_destroy(leo);
        rd_kafka_topic_partition_list_destroy(committed);
        return consumer_groups_failed("out of memory");
    }
    qsort(refs, members, sizeof *refs, consumer_groups_member_cmp);
    size_t n = 0;
    for (size_t i = 0; i < members; i++) {
        const rd_kafka_topic_partition_list_t *mp = consumer_groups_member_parts(refs[i].m);
        size_t first = n;
        for (int k = 0; mp && k < mp->cnt; k++) {
            struct consumer_groups_row *r = &rows[n++];
            r->topic = mp->elems[k].topic;
            r->partition = mp->elems[k].partition;
            r->offset = consumer_groups_offset_of(committed, r->topic, r->partition);
            r->consumer_id = rd_kafka_MemberDescription_consumer_id(refs[i].m);
            r->host = rd_kafka_MemberDescription_host(refs[i].m);
            r->client_id = rd_kafka_MemberDescription_client_id(refs[i].m);
        }
        qsort(rows + first, n - first, sizeof *rows, consumer_groups_row_cmp);
    }
    size_t first = n;
    for (int k = 0; k < committed->cnt; k++) {
        const rd_kafka_topic_partition_t *p = &committed->elems[k];
        bool owned = false;
        for (size_t j = 0; j < first && !owned; j++)
            owned = rows[j].partition == p->partition && strcmp(rows[j].topic, p->topic) == 0;
        if (owned)
            continue;
        struct consumer_groups_row *r = &rows[n++];
        r->topic = p->topic;
        r->partition = p->partition;
        r->offset = p->offset;
        r->consumer_id = r->host = r->client_id = CONSUMER_GROUPS_MISSING;
    }
    qsort(rows + first, n - first, sizeof *rows, consumer_groups_row_cmp);
    for (size_t i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(leo, rows[i].topic, rows[i].partition);
    int rc = consumer_groups_log_offsets(c, leo, -1, err, sizeof err);
    for (size_t i = 0; i < n; i++)
        rows[i].log_end = rc == 0 ? consumer_groups_offset_of(leo, rows[i].topic, rows[i].partition) : -1;
    if (rc < 0) {
        consumer_groups_failed(err);
    } else if (consumer_groups_state_check(group, rd_kafka_ConsumerGroupDescription_state(d), n)) {
        consumer_groups_print_offsets(group, rows, n);
    }
    rd_kafka_topic_partition_list_destroy(leo);
    rd_kafka_topic_partition_list_destroy(committed);
    free(rows);
    free(refs);
    return 0;
}

/* "topic(0,1), topic2(3)": topics sorted, partitions sorted; "-" for none. */
static void consumer_groups_assignment_text(const rd_kafka_topic_partition_list_t *mp, char *out, size_t out_size)
{
    snprintf(out, out_size, "%s", CONSUMER_GROUPS_MISSING);
    if (!mp || mp->cnt == 0)
        return;
    rd_kafka_topic_partition_list_t *s = rd_kafka_topic_partition_list_copy(mp);
    qsort(s->elems, (size_t)s->cnt, sizeof s->elems[0], consumer_groups_tp_cmp);
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < s->cnt && len + 1 < out_size; i++) {
        bool new_topic = i == 0 || strcmp(s->elems[i - 1].topic, s->elems[i].topic) != 0;
        bool last = i + 1 == s->cnt || strcmp(s->elems[i + 1].topic, s->elems[i].topic) != 0;
        int w = snprintf(out + len, out_size - len, "%s%s%s%d%s", new_topic && i ? ", " : "",
                         new_topic ? s->elems[i].topic : "", new_topic ? "(" : ",", (int)s->elems[i].partition,
                         last ? ")" : "");
        if (w < 0)
            break;
        len += (size_t)w;
    }
    rd_kafka_topic_partition_list_destroy(s);
}

static void consumer_groups_describe_members(const rd_kafka_ConsumerGroupDescription_t *d, bool verbose)
{
    const char *group = rd_kafka_ConsumerGroupDescription_group_id(d);
    size_t n = rd_kafka_ConsumerGroupDescription_member_count(d);
    if (!consumer_groups_state_check(group, rd_kafka_ConsumerGroupDescription_state(d), n))
        return;
    int wg = consumer_groups_width(15, group), wc = 15, wi = 17, wh = 15, wl = 15;
    bool with_instance = false;
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_MemberDescription_t *m = rd_kafka_ConsumerGroupDescription_member(d, i);
        const char *inst = rd_kafka_MemberDescription_group_instance_id(m);
        wc = consumer_groups_width(wc, rd_kafka_MemberDescription_consumer_id(m));
        wh = consumer_groups_width(wh, rd_kafka_MemberDescription_host(m));
        wl = consumer_groups_width(wl, rd_kafka_MemberDescription_client_id(m));
        if (inst && inst[0]) {
            wi = consumer_groups_width(wi, inst);
            with_instance = true;
        }
    }
    printf("\n%-*s %-*s ", wg, "GROUP", wc, "CONSUMER-ID");
    if (with_instance)
        printf("%-*s ", wi, "GROUP-INSTANCE-ID");
    printf("%-*s %-*s %-15s %s\n", wh, "HOST", wl, "CLIENT-ID", "#PARTITIONS", verbose ? "ASSIGNMENT" : "");
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_MemberDescription_t *m = rd_kafka_ConsumerGroupDescription_member(d, i);
        const rd_kafka_topic_partition_list_t *mp = consumer_groups_member_parts(m);
        const char *inst = rd_kafka_MemberDescription_group_instance_id(m);
        printf("%-*s %-*s ", wg, group, wc, rd_kafka_MemberDescription_consumer_id(m));
        if (with_instance)
            printf("%-*s ", wi, inst ? inst : "");
        char text[4096] = "";
        if (verbose)
            consumer_groups_assignment_text(mp, text, sizeof text);
        printf("%-*s %-*s %-15d %s\n", wh, rd_kafka_MemberDescription_host(m), wl,
               rd_kafka_MemberDescription_client_id(m), mp ? mp->cnt : 0, text);
    }
}

static void consumer_groups_describe_state(const rd_kafka_ConsumerGroupDescription_t *d)
{
    const char *group = rd_kafka_ConsumerGroupDescription_group_id(d);
    rd_kafka_consumer_group_state_t st = rd_kafka_ConsumerGroupDescription_state(d);
    if (!consumer_groups_state_check(group, st, 1))
        return;
    const rd_kafka_Node_t *node = rd_kafka_ConsumerGroupDescription_coordinator(d);
    char coordinator[300] = "";
    if (node)
        snprintf(coordinator, sizeof coordinator, "%s:%u (%d)", rd_kafka_Node_host(node),
                 (unsigned)rd_kafka_Node_port(node), rd_kafka_Node_id(node));
    const char *assignor = rd_kafka_ConsumerGroupDescription_partition_assignor(d);
    /* Kafka sizes the GROUP column by the coordinator's text (sic) */
    int w = consumer_groups_width(25, coordinator);
    printf("\n%-*s %-25s %-20s %-15s %s", w, "GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS");
    printf("\n%-*s %-25s %-20s %-15s %d\n", w, group, coordinator, assignor ? assignor : "",
           rd_kafka_consumer_group_state_name(st), (int)rd_kafka_ConsumerGroupDescription_member_count(d));
}

static int consumer_groups_describe(struct tool_client *c, const struct consumer_groups_args *a)
{
    char err[TOOL_ERRSTR_MAX];
    struct consumer_groups_sel sel;
    if (consumer_groups_sel_init(c, a, true, &sel, err, sizeof err) < 0)
        return consumer_groups_failed(err);
    /* in the order of the sorted ids, as Kafka's TreeMap */
    for (size_t i = 0; i < sel.count; i++) {
        const rd_kafka_ConsumerGroupDescription_t *d = consumer_groups_sel_find(&sel, sel.ids[i]);
        if (!d)
            continue;
        if (a->members)
            consumer_groups_describe_members(d, a->verbose);
        else if (a->state)
            consumer_groups_describe_state(d);
        else
            consumer_groups_describe_offsets(c, d);
    }
    consumer_groups_sel_deinit(&sel);
    return 0;
}

/* ---- --delete -------------------------------------------------------------------- */

static int consumer_groups_delete(struct tool_client *c, const struct consumer_groups_args *a)
{
    char err[TOOL_ERRSTR_MAX];
    struct consumer_groups_sel sel;
    if (consumer_groups_sel_init(c, a, false, &sel, err, sizeof err) < 0)
        return consumer_groups_failed(err);
    const char **ids = sel.ids;
    size_t n = sel.count;
    rd_kafka_DeleteGroup_t **dg = calloc(n + 1, sizeof *dg);
    rd_kafka_event_t *ev = NULL;
    if (!dg) {
        consumer_groups_failed("out of memory");
    } else if (n > 0) {
        for (size_t i = 0; i < n; i++)
            dg[i] = rd_kafka_DeleteGroup_new(ids[i]);
        rd_kafka_AdminOptions_t *o = tool_admin_options(c, RD_KAFKA_ADMIN_OP_DELETEGROUPS);
        rd_kafka_DeleteGroups(c->rk, dg, n, o, c->queue);
        if (o)
            rd_kafka_AdminOptions_destroy(o);
        rd_kafka_DeleteGroup_destroy_array(dg, n);
        ev = tool_client_wait(c, RD_KAFKA_EVENT_DELETEGROUPS_RESULT, err, sizeof err);
        if (!ev)
            consumer_groups_failed(err);
    }
    if (ev) {
        size_t rn = 0;
        const rd_kafka_group_result_t **gr = rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &rn);
        size_t failed = 0;
        for (size_t i = 0; i < rn; i++)
            failed += rd_kafka_group_result_error(gr[i]) != NULL;
        /* the success list, then (on failures) each failure */
        char ok[4096] = "";
        size_t len = 0;
        for (size_t i = 0; i < rn; i++) {
            if (rd_kafka_group_result_error(gr[i]))
                continue;
            int w = snprintf(ok + len, sizeof ok - len, "%s'%s'", len ? ", " : "", rd_kafka_group_result_name(gr[i]));
            if (w < 0 || (size_t)w >= sizeof ok - len)
                break;
            len += (size_t)w;
        }
        if (failed == 0) {
            printf("Deletion of requested consumer groups (%s) was successful.\n", ok);
        } else {
            consumer_groups_error("Deletion of some consumer groups failed:");
            for (size_t i = 0; i < rn; i++) {
                const rd_kafka_error_t *ge = rd_kafka_group_result_error(gr[i]);
                if (!ge)
                    continue;
                char why[TOOL_ERRSTR_MAX];
                consumer_groups_exception(c, rd_kafka_error_code(ge), why, sizeof why);
                printf("* Group '%s' could not be deleted due to: java.util.concurrent.ExecutionException: %s\n",
                       rd_kafka_group_result_name(gr[i]), why);
            }
            if (len > 0)
                printf("\nThese consumer groups were deleted successfully: %s\n", ok);
        }
        rd_kafka_event_destroy(ev);
    }
    free(dg);
    consumer_groups_sel_deinit(&sel);
    return 0;
}

/* ---- --delete-offsets ------------------------------------------------------------ */

static int consumer_groups_scope(struct tool_client *c, const struct consumer_groups_args *a, const char *group,
                                 rd_kafka_topic_partition_list_t **out, char *err, size_t err_size);

static int consumer_groups_tp_text_cmp(const void *x, const void *y)
{
    const rd_kafka_topic_partition_t *p = x, *q = y;
    char a[320], b[320];
    snprintf(a, sizeof a, "%s%d", p->topic, (int)p->partition); /* Kafka sorts by topic + partition as text */
    snprintf(b, sizeof b, "%s%d", q->topic, (int)q->partition);
    return strcmp(a, b);
}

/* ConsumerGroupService.deleteOffsets: OffsetDelete (KIP-496) through the
 * group's coordinator; one --group, --topic T or T:0,1. */
static int consumer_groups_delete_offsets(struct tool_client *c, const struct consumer_groups_args *a)
{
    char err[TOOL_ERRSTR_MAX];
    const char *group = a->groups[0];
    rd_kafka_topic_partition_list_t *l = NULL;
    int rc = consumer_groups_scope(c, a, group, &l, err, sizeof err);
    if (rc == ERR_CONFIG)
        return consumer_groups_usage_error(err);
    if (rc < 0)
        return consumer_groups_failed(err);
    rd_kafka_DeleteConsumerGroupOffsets_t *d = rd_kafka_DeleteConsumerGroupOffsets_new(group, l);
    rd_kafka_AdminOptions_t *o = tool_admin_options(c, RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS);
    rd_kafka_DeleteConsumerGroupOffsets(c->rk, &d, 1, o, c->queue);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    rd_kafka_DeleteConsumerGroupOffsets_destroy(d);
    c->last_event_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_event_t *ev = tool_client_wait(c, RD_KAFKA_EVENT_DELETECONSUMERGROUPOFFSETS_RESULT, err, sizeof err);
    /* librdkafka fails the whole event on a group-level error (Kafka's
     * future fails the same way): the code is what the output needs */
    if (!ev && (c->last_event_err <= 0 || c->last_event_err == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT)) {
        rd_kafka_topic_partition_list_destroy(l);
        return consumer_groups_failed(err);
    }
    size_t n = 0;
    const rd_kafka_group_result_t **gr =
        ev ? rd_kafka_DeleteConsumerGroupOffsets_result_groups(rd_kafka_event_DeleteConsumerGroupOffsets_result(ev),
                                                               &n)
           : NULL;
    const rd_kafka_error_t *ge = n > 0 ? rd_kafka_group_result_error(gr[0]) : NULL;
    const rd_kafka_topic_partition_list_t *parts = n > 0 ? rd_kafka_group_result_partitions(gr[0]) : NULL;
    rd_kafka_resp_err_t top = !ev ? c->last_event_err : ge ? rd_kafka_error_code(ge) : RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int i = 0; top == RD_KAFKA_RESP_ERR_NO_ERROR && parts && i < parts->cnt; i++)
        top = parts->elems[i].err; /* the Java future fails with the first partition's error */
    char topics[1024] = "";
    size_t len = 0;
    for (size_t i = 0; i < a->topic_count; i++) {
        int w = snprintf(topics + len, sizeof topics - len, "%s%s", i ? ", " : "", a->topics[i]);
        if (w < 0 || (size_t)w >= sizeof topics - len)
            break;
        len += (size_t)w;
    }
    char msg[1200];
    switch (top) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        printf("Request succeed for deleting offsets with topic %s group %s\n", topics, group);
        break;
    case RD_KAFKA_RESP_ERR_INVALID_GROUP_ID:
        snprintf(msg, sizeof msg, "'%s' is not valid.", group);
        consumer_groups_error(msg);
        break;
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND:
        snprintf(msg, sizeof msg, "'%s' does not exist.", group);
        consumer_groups_error(msg);
        break;
    case RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP:
        snprintf(msg, sizeof msg, "Deleting offsets of a consumer group '%s' is forbidden if the group is not empty.",
                 group);
        consumer_groups_error(msg);
        break;
    case RD_KAFKA_RESP_ERR_GROUP_SUBSCRIBED_TO_TOPIC:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        consumer_groups_error("Encounter some partition level error, see the follow-up details:");
        break;
    default:
        consumer_groups_exception(c, top, err, sizeof err);
        snprintf(msg, sizeof msg, "Encounter some unknown error: %s", err);
        consumer_groups_error(msg);
        break;
    }
    /* Kafka prints "%n%-30s %-15s %-15s" per line: a blank line between rows */
    printf("\n%-30s %-15s %-15s", "TOPIC", "PARTITION", "STATUS");
    /* a group-level failure fails every partition's future with it, as in Kafka */
    rd_kafka_topic_partition_list_t *sorted = rd_kafka_topic_partition_list_copy(parts ? parts : l);
    for (int i = 0; !parts && sorted && i < sorted->cnt; i++)
        sorted->elems[i].err = top;
    rd_kafka_topic_partition_list_destroy(l);
    if (sorted) {
        qsort(sorted->elems, (size_t)sorted->cnt, sizeof *sorted->elems, consumer_groups_tp_text_cmp);
        for (int i = 0; i < sorted->cnt; i++) {
            const rd_kafka_topic_partition_t *p = &sorted->elems[i];
            char status[TOOL_ERRSTR_MAX + 16] = "Successful";
            if (p->err) {
                consumer_groups_exception(c, p->err, err, sizeof err);
                const char *colon = strstr(err, ": "); /* Kafka prints the message, not the class */
                snprintf(status, sizeof status, "Error: %s", colon ? colon + 2 : err);
            }
            printf("\n%-30s %-15d %-15s\n", p->topic, (int)p->partition, status);
        }
        rd_kafka_topic_partition_list_destroy(sorted);
    } else {
        printf("\n");
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    return 0;
}

/* ---- --reset-offsets ------------------------------------------------------------- */

/* Utils.getDateTime: "YYYY-MM-DDTHH:mm:SS[.sss][Z|+hh:mm|-hh:mm|+hhmm|+hh]", UTC without a zone. */
static int consumer_groups_datetime_parse(const char *s, int64_t *ms, char *err, size_t err_size)
{
    if (!strchr(s, 'T')) {
        snprintf(err, err_size, "Error parsing timestamp. It does not contain a 'T' according to ISO8601 format");
        return ERR_INVALID;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int used = 0, millis = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec, &used) != 6)
        goto bad;
    const char *p = s + used;
    if (*p == '.') {
        int digits = 0;
        p++;
        while (*p >= '0' && *p <= '9' && digits < 3) {
            millis = millis * 10 + (*p++ - '0');
            digits++;
        }
        if (digits != 3)
            goto bad;
    }
    int offset_min = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, hh = 0, mm = 0, n = 0;
        if (sscanf(p, "%2d:%2d%n", &hh, &mm, &n) == 2 || sscanf(p, "%2d%2d%n", &hh, &mm, &n) == 2 ||
            (mm = 0, sscanf(p, "%2d%n", &hh, &n) == 1))
            p += n;
        else
            goto bad;
        offset_min = sign * (hh * 60 + mm);
    }
    if (*p != '\0' || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60)
        goto bad;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    *ms = ((int64_t)t - (int64_t)offset_min * 60) * 1000 + millis;
    return 0;
bad:
    snprintf(err, err_size, "Unparseable date: \"%s\"", s);
    return ERR_INVALID;
}

/*
 * The partitions to reset: --all-topics = the group's committed ones; each
 * --topic T:0,1 names partitions, a bare T means all of T's partitions.
 * Returns 0 with *out (the caller destroys it), ERR_CONFIG with err for a
 * malformed --topic (a usage error in Kafka) or ERR_INVALID with err.
 */
static int consumer_groups_scope(struct tool_client *c, const struct consumer_groups_args *a, const char *group,
                                 rd_kafka_topic_partition_list_t **out, char *err, size_t err_size)
{
    if (a->all_topics)
        return consumer_groups_committed(c, group, out, err, err_size);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)a->topic_count);
    const struct rd_kafka_metadata *md = NULL;
    for (size_t i = 0; i < a->topic_count; i++) {
        const char *arg = a->topics[i];
        const char *colon = strchr(arg, ':');
        char topic[256];
        size_t tlen = colon ? (size_t)(colon - arg) : strlen(arg);
        if (tlen >= sizeof topic)
            tlen = sizeof topic - 1;
        memcpy(topic, arg, tlen);
        topic[tlen] = '\0';
        if (colon) {
            const char *p = colon + 1;
            if (*p == '\0' || strchr(p, ':')) {
                snprintf(err, err_size, "Invalid topic arg '%s', expected topic name and partitions", arg);
                goto usage;
            }
            while (*p) {
                size_t len = strcspn(p, ",");
                char item[32];
                int part = 0;
                snprintf(item, sizeof item, "%.*s", (int)(len < sizeof item - 1 ? len : sizeof item - 1), p);
                if (len >= sizeof item || tool_int_parse(item, -2147483647L - 1, 2147483647L, &part) < 0) {
                    snprintf(err, err_size, "Invalid partition '%.*s' specified in topic arg '%s''", (int)len, p, arg);
                    goto usage;
                }
                rd_kafka_topic_partition_list_add(l, topic, part);
                p += len;
                if (*p == ',')
                    p++;
            }
            continue;
        }
        if (!md && tool_metadata_get(c, &md, err, err_size) < 0)
            goto fail;
        const struct rd_kafka_metadata_topic *t = NULL;
        for (int k = 0; k < md->topic_cnt && !t; k++)
            if (strcmp(md->topics[k].topic, topic) == 0 && md->topics[k].err == 0)
                t = &md->topics[k];
        if (!t) {
            consumer_groups_exception(c, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, err, err_size);
            goto fail;
        }
        for (int k = 0; k < t->partition_cnt; k++)
            rd_kafka_topic_partition_list_add(l, topic, t->partitions[k].id);
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    *out = l;
    return 0;
usage:
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_partition_list_destroy(l);
    return ERR_CONFIG; /* a bad argument: a usage error, exit 1 */
fail:
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_partition_list_destroy(l);
    return ERR_INVALID;
}

/* Kafka's log4j WARN line on stderr. */
static void consumer_groups_warn_clamp(int64_t want, const char *which, const rd_kafka_topic_partition_t *p,
                                       int64_t to)
{
    char when[64] = "";
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S,000", &tm);
    fprintf(stderr,
            "[%s] WARN New offset (%lld) is %s than %s offset for topic partition %s-%d. Value will be set to %lld "
            "(kafka.admin.ConsumerGroupCommand$)\n",
            when, (long long)want, which[0] == 'h' ? "higher" : "lower", which[0] == 'h' ? "latest" : "earliest",
            p->topic, (int)p->partition, (long long)to);
}

/*
 * The new offset of every partition in plan (prepareOffsetsToReset).
 * Returns 0, ERR_INVALID with err (the command failed) or ERR_CONFIG with
 * err (a bad argument, which Kafka reports as a usage error).
 */
static int consumer_groups_plan(struct tool_client *c, const struct consumer_groups_args *a, const char *group,
                                rd_kafka_topic_partition_list_t *plan, char *err, size_t err_size)
{
    int n = plan->cnt;
    rd_kafka_topic_partition_list_t *lo = rd_kafka_topic_partition_list_copy(plan);
    rd_kafka_topic_partition_list_t *hi = rd_kafka_topic_partition_list_copy(plan);
    rd_kafka_topic_partition_list_t *committed = NULL;
    int rc = 0;
    if (consumer_groups_log_offsets(c, lo, -2, err, err_size) < 0 || consumer_groups_log_offsets(c, hi, -1, err, err_size) < 0) {
        rc = ERR_INVALID;
        goto out;
    }
    if ((a->scenario == CG_SCENARIO_SHIFT || a->scenario == CG_SCENARIO_CURRENT) &&
        consumer_groups_committed(c, group, &committed, err, err_size) < 0) {
        rc = ERR_INVALID;
        goto out;
    }
    if (a->scenario == CG_SCENARIO_DATETIME) {
        int64_t ts = 0;
        if (consumer_groups_datetime_parse(a->datetime, &ts, err, err_size) < 0 ||
            consumer_groups_log_offsets(c, plan, ts, err, err_size) < 0) {
            rc = ERR_INVALID;
            goto out;
        }
        for (int i = 0; i < n; i++) {
            rd_kafka_topic_partition_t *p = &plan->elems[i];
            if (p->offset < 0) {
                printf("\nWarn: Partition %d from topic %s is empty. Falling back to latest known offset.\n",
                       (int)p->partition, p->topic);
                p->offset = consumer_groups_offset_of(hi, p->topic, p->partition);
            }
        }
        goto out;
    }
    for (int i = 0; i < n; i++) {
        rd_kafka_topic_partition_t *p = &plan->elems[i];
        int64_t start = lo->elems[i].offset, end = hi->elems[i].offset;
        int64_t cur = consumer_groups_offset_of(committed, p->topic, p->partition);
        switch (a->scenario) {
        case CG_SCENARIO_EARLIEST: p->offset = start; continue;
        case CG_SCENARIO_LATEST: p->offset = end; continue;
        case CG_SCENARIO_CURRENT: p->offset = cur >= 0 ? cur : end; continue;
        case CG_SCENARIO_OFFSET: p->offset = a->scenario_value; break;
        case CG_SCENARIO_SHIFT:
            if (cur < 0) {
                snprintf(err, err_size,
                         "Cannot shift offset for partition %s-%d since there is no current committed offset",
                         p->topic, (int)p->partition);
                rc = ERR_CONFIG;
                goto out;
            }
            p->offset = cur + a->scenario_value;
            break;
        default: ASSERT(0); break;
        }
        /* checkOffsetsRange */
        if (p->offset > end) {
            consumer_groups_warn_clamp(p->offset, "higher", p, end);
            p->offset = end;
        } else if (p->offset < start) {
            consumer_groups_warn_clamp(p->offset, "lower", p, start);
            p->offset = start;
        }
    }
out:
    if (committed)
        rd_kafka_topic_partition_list_destroy(committed);
    rd_kafka_topic_partition_list_destroy(lo);
    rd_kafka_topic_partition_list_destroy(hi);
    return rc;
}

static int consumer_groups_alter(struct tool_client *c, const char *group, const rd_kafka_topic_partition_list_t *plan,
                                 char *err, size_t err_size)
{
    const rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_event_t *ev = consumer_groups_offsets_call(c, group, plan, &parts, err, err_size);
    if (!ev)
        return ERR_INVALID;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int k = 0; !e && parts && k < parts->cnt; k++)
        e = parts->elems[k].err;
    if (e)
        consumer_groups_exception(c, e, err, err_size);
    rd_kafka_event_destroy(ev);
    return e ? ERR_INVALID : 0;
}

static int consumer_groups_reset(struct tool_client *c, const struct consumer_groups_args *a)
{
    char err[TOOL_ERRSTR_MAX];
    struct consumer_groups_sel sel;
    if (consumer_groups_sel_init(c, a, true, &sel, err, sizeof err) < 0)
        return consumer_groups_failed(err);
    const char **ids = sel.ids;
    size_t n = sel.count;
    rd_kafka_topic_partition_list_t **plans = calloc(n + 1, sizeof *plans);
    int rc = 0;
    if (!plans) {
        rc = consumer_groups_failed("out of memory");
        goto out;
    }
    bool dry_run = !a->execute;
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_ConsumerGroupDescription_t *d = consumer_groups_sel_find(&sel, ids[i]);
        rd_kafka_consumer_group_state_t st = d ? rd_kafka_ConsumerGroupDescription_state(d)
                                               : RD_KAFKA_CONSUMER_GROUP_STATE_DEAD;
        if (st != RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY && st != RD_KAFKA_CONSUMER_GROUP_STATE_DEAD) {
            char msg[512];
            snprintf(msg, sizeof msg,
                     "Assignments can only be reset if the group '%s' is inactive, but the current state is %s.",
                     ids[i], rd_kafka_consumer_group_state_name(st));
            consumer_groups_error(msg);
            plans[i] = rd_kafka_topic_partition_list_new(0);
            continue;
        }
        int prc = consumer_groups_scope(c, a, ids[i], &plans[i], err, sizeof err);
        if (prc == 0)
            prc = consumer_groups_plan(c, a, ids[i], plans[i], err, sizeof err);
        if (prc == 0 && !dry_run && plans[i]->cnt > 0)
            prc = consumer_groups_alter(c, ids[i], plans[i], err, sizeof err);
        if (prc == ERR_CONFIG) {
            rc = consumer_groups_usage_error(err);
            goto out;
        }
        if (prc < 0) {
            rc = consumer_groups_failed(err);
            goto out;
        }
        qsort(plans[i]->elems, (size_t)plans[i]->cnt, sizeof plans[i]->elems[0], consumer_groups_tp_cmp);
    }
    if (n > 0)
        printf("\n%-30s %-30s %-10s %-15s\n", "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET");
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < plans[i]->cnt; k++)
            printf("%-30s %-30s %-10d %-15lld\n", ids[i], plans[i]->elems[k].topic, (int)plans[i]->elems[k].partition,
                   (long long)plans[i]->elems[k].offset);
out:
    for (size_t i = 0; plans && i < n; i++)
        if (plans[i])
            rd_kafka_topic_partition_list_destroy(plans[i]);
    free(plans);
    consumer_groups_sel_deinit(&sel);
    return rc;
}

int tool_consumer_groups_main(int argc, char **argv)
{
    struct consumer_groups_args a;
    if (argc < 2)
        return consumer_groups_usage_error("This tool helps to list all consumer groups, describe a consumer group, "
                                           "delete consumer group info, or reset consumer group offsets.");
    int rc = consumer_groups_args_parse(argc, argv, &a);
    if (rc != 0)
        return rc;
    if (a.help) {
        consumer_groups_usage(stdout);
        return 0;
    }
    rc = consumer_groups_args_check(&a);
    if (rc != 0)
        return rc;
    struct tool_client c;
    char err[TOOL_ERRSTR_MAX];
    if (tool_client_create(&c, a.bootstrap, a.command_config, err, sizeof err) < 0)
        return consumer_groups_failed(err);
    /* Kafka's --timeout defaults to 5000 ms; --command-config's default.api.timeout.ms
     * still wins when --timeout is not given */
    if (a.timeout_ms > 0)
        c.timeout_ms = a.timeout_ms;
    if (a.list)
        rc = consumer_groups_list(&c, &a);
    else if (a.describe)
        rc = consumer_groups_describe(&c, &a);
    else if (a.delete_groups)
        rc = consumer_groups_delete(&c, &a);
    else if (a.delete_offsets)
        rc = consumer_groups_delete_offsets(&c, &a);
    else
        rc = consumer_groups_reset(&c, &a);
    fflush(stdout);
    tool_client_destroy(&c);
    return rc;
}
