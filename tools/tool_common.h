/*
 * tool_common.h - helpers shared by the admin tools (`samsa topics`,
 * `samsa configs`, ...): the Kafka-style --bootstrap-server/--command-config
 * client set-up on librdkafka, waiting for admin results with a deadline,
 * cluster metadata, kafka-topics style topic include-lists and name sorting.
 *
 * Every tool is a short-lived process, so these helpers allocate with
 * malloc and report problems as text in a caller buffer; nothing is global.
 *
 * Not here: option parsing (each tool mirrors its Kafka counterpart's
 * flags), output formats, security set-up beyond passing the client
 * properties file through to librdkafka.
 */
#ifndef SAMSA_TOOLS_TOOL_COMMON_H
#define SAMSA_TOOLS_TOOL_COMMON_H

#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "common/err.h"

/* Default deadline for one admin call (Kafka's default.api.timeout.ms is 60 s;
 * ours is shorter so a mistyped --bootstrap-server fails in reasonable time). */
#define TOOL_TIMEOUT_MS_DEFAULT 30000
#define TOOL_ERRSTR_MAX 512

/* An admin connection.  rk is a producer-type handle used only for admin
 * calls and metadata; queue receives the admin results. */
struct tool_client {
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    int timeout_ms;
    /* the last client-level error librdkafka reported (e.g. all brokers
     * down): shown when a call times out so the user sees why */
    char last_error[TOOL_ERRSTR_MAX];
    /* the error code of the last result event tool_client_wait refused
     * (a request-level broker error, e.g. GROUP_ID_NOT_FOUND) */
    rd_kafka_resp_err_t last_event_err;
};

/*
 * tool_client_create - connect settings for an admin client.
 * bootstrap: --bootstrap-server (required, "host:port[,host:port]").
 * command_config: --command-config properties file or NULL; each key is
 * passed to librdkafka, except default.api.timeout.ms which sets the call
 * deadline; keys librdkafka does not know are skipped with a warning on
 * stderr (Java-only client settings).  On failure writes the reason into
 * err and returns a negative error.
 */
MUST_CHECK int tool_client_create(struct tool_client *c, const char *bootstrap, const char *command_config,
                                  char *err, size_t err_size);

/* tool_client_destroy - release everything; safe on a zeroed struct. */
void tool_client_destroy(struct tool_client *c);

/*
 * tool_client_wait - block until the admin result event of the given type
 * arrives (or the deadline passes).  Returns the event (the caller destroys
 * it with rd_kafka_event_destroy) or NULL with err filled in.  An event
 * whose request failed as a whole is also returned as NULL with its error.
 */
rd_kafka_event_t *tool_client_wait(struct tool_client *c, rd_kafka_event_type_t type, char *err, size_t err_size);

/* tool_admin_options - options for one call with the client's deadline;
 * returns NULL only when out of memory, which librdkafka's admin calls accept
 * as "default options" (destroy only a non-NULL result). */
rd_kafka_AdminOptions_t *tool_admin_options(struct tool_client *c, rd_kafka_admin_op_t op);

/*
 * tool_metadata_get - all topics' metadata.  *md must be released with
 * rd_kafka_metadata_destroy.  Blocks up to the client's deadline.
 */
MUST_CHECK int tool_metadata_get(struct tool_client *c, const struct rd_kafka_metadata **md, char *err,
                                 size_t err_size);

/* True for Kafka's internal topics (__consumer_offsets, __transaction_state). */
bool tool_topic_is_internal(const char *name);

/*
 * A kafka-topics include-list: the --topic value as a regular expression
 * that must match the whole name, ',' meaning '|', spaces and surrounding
 * quotes dropped (as Kafka's IncludeList).  POSIX extended syntax, which
 * agrees with Java's for topic-name patterns.
 */
struct tool_topic_filter {
    bool any; /* no pattern: everything matches */
    bool exclude_internal;
    regex_t re;
};

/* tool_topic_filter_init - pattern may be NULL (match all).  On a bad
 * regex writes "<pattern> is an invalid regex." into err and fails. */
MUST_CHECK int tool_topic_filter_init(struct tool_topic_filter *f, const char *pattern, bool exclude_internal,
                                      char *err, size_t err_size);
bool tool_topic_filter_match(const struct tool_topic_filter *f, const char *name);
void tool_topic_filter_deinit(struct tool_topic_filter *f);

/* qsort comparator for an array of `const char *`. */
int tool_str_cmp(const void *a, const void *b);

/* tool_usage_error - Kafka's printUsageAndDie: the reason, then the tool's
 * options (usage(stderr)), on stderr; returns the exit code, 1. */
int tool_usage_error(const char *msg, void (*usage)(FILE *out));

/*
 * tool_opt - match argv[*i] against a long option `name` ("--topic"),
 * accepting "--topic VALUE" and "--topic=VALUE".  Returns 1 when matched
 * (advancing *i past a separate value and setting *val when takes_value),
 * 0 when argv[*i] is another option, and ERR_INVALID after printing
 * "Option [topic] requires an argument" to stderr when the value is missing.
 */
MUST_CHECK int tool_opt(int argc, char **argv, int *i, const char *name, bool takes_value, const char **val);

/*
 * tool_int_parse - a whole decimal int in [min, max]; returns ERR_INVALID
 * otherwise (no message).
 */
MUST_CHECK int tool_int_parse(const char *s, long min, long max, int *out);

/* One item of a --add-config / --delete-config list; owned strings. */
struct tool_kv {
    char *name;
    char *value; /* NULL in a names-only list */
};

/*
 * tool_kv_list_parse - kafka-configs' list syntax.  with_values: "k=v,k2=[a,b]"
 * split on commas outside [...], each item exactly one '=' with blanks
 * around it dropped, a non-empty key, and one surrounding [] removed from
 * the value (k=[a,b] sets "a,b"; an empty value is allowed, as in Kafka).
 * Without values: "k1, k2" names.  Empty items are skipped.  Fills kv[0..*count)
 * (free with tool_kv_list_free even on failure).  Returns 0, ERR_INVALID on
 * a malformed item, ERR_LIMIT past max items or out of memory.
 */
MUST_CHECK int tool_kv_list_parse(const char *text, bool with_values, struct tool_kv *kv, size_t max,
                                  size_t *count);
void tool_kv_list_free(struct tool_kv *kv, size_t count);

/*
 * tool_args_join - the command line as one string for messages like
 * "Error while executing config command with args '...'"; truncates.
 */
void tool_args_join(int argc, char **argv, char *out, size_t out_size);

/*
 * tool_conf_file_apply - a Java-style client properties file (k=v, k: v,
 * '#'/'!' comments) into conf, as --command-config, --producer.config and
 * --consumer.config do (flag names the option in the unreadable-file error).  default.api.timeout.ms goes to *timeout_ms (skipped
 * when NULL); keys librdkafka does not know are skipped with a warning on
 * stderr.  Returns 0, -errno when unreadable, ERR_INVALID on a bad value.
 */
MUST_CHECK int tool_conf_file_apply(rd_kafka_conf_t *conf, const char *path, const char *flag, int *timeout_ms,
                                    char *err, size_t err_size);

/* tool_conf_kv_set - one "k=v" (--producer-property, --consumer-property,
 * a properties file line) into conf.  An unknown key warns naming origin
 * (the flag or file); a bad value fails with "where: <librdkafka's reason>". */
MUST_CHECK int tool_conf_kv_set(rd_kafka_conf_t *conf, const char *kv, const char *origin, const char *where,
                                char *err, size_t err_size);

/* tool_now_ms - CLOCK_MONOTONIC in ms, for deadlines. */
int64_t tool_now_ms(void);

/*
 * tool_props_each - call fn(ctx, "key=value", line) for each setting of a
 * Java-style properties file (k=v, k: v or k v; '#'/'!' comments; no
 * continuations).  Returns -errno when unreadable, else the first
 * negative fn result, else 0.
 */
MUST_CHECK int tool_props_each(const char *path, int (*fn)(void *ctx, const char *kv, int line_number), void *ctx);
/* tool_props_plaintext_only - for the tools over tools/kclient (plain TCP):
 * 0 when the client properties file `path` (option `opt`) asks for no other
 * security.protocol than PLAINTEXT, else 1 after one line on stderr saying
 * that `tool` cannot honour it (or that the file cannot be read). */
int tool_props_plaintext_only(const char *path, const char *opt, const char *tool);

/* tool_json_string - p[0..len) as a JSON string literal (quotes, escapes;
 * bytes >= 0x80 pass through as UTF-8), or null when p is NULL. */
void tool_json_string(FILE *out, const void *p, size_t len);

/* tool_json_double - a double as Java's Double.toString prints it in
 * Jackson output: the shortest decimal that reads back exactly, with ".0"
 * on whole numbers (26.17801047120419, 30.0). */
void tool_json_double(FILE *out, double v);

/* tool_wall_ms - the wall clock in ms since the epoch (Kafka's event
 * timestamps). */
int64_t tool_wall_ms(void);

/* One option of a table-driven tool (name without the leading "--"). */
struct tool_optdef {
    const char *name;
    bool takes_value;
    bool value_optional; /* "--compression-codec" alone is allowed */
    bool repeat;         /* every occurrence is kept (--property k=v ...) */
    bool multi;          /* argparse nargs='+': the words after it up to the next option are values too */
};

#define TOOL_OPT_POSITIONAL (-1)

/*
 * tool_optv_next - match argv[*i] against defs the way Kafka's option
 * parsers (joptsimple, argparse4j) do: "--name VALUE", "--name=VALUE", and
 * any unambiguous prefix ("--max-message" for --max-messages).  Returns the
 * index of the matched def (advancing *i past a separate value, setting
 * *val; an optional value is taken when the next word is not an option),
 * TOOL_OPT_POSITIONAL for a non-option, or ERR_INVALID after printing
 * "X is not a recognized option" (or the missing-argument / ambiguity
 * message) on stderr.
 */
MUST_CHECK int tool_optv_next(int argc, char **argv, int *i, const struct tool_optdef *defs, size_t count,
                              const char **val);

#define TOOL_OPTV_MAX 32
#define TOOL_OPTV_LIST_MAX 128

/* A parsed command line: the last value of each option, and every value
 * of the repeatable ones in order. */
struct tool_optv {
    const char *val[TOOL_OPTV_MAX];
    bool given[TOOL_OPTV_MAX];
    size_t list_count;
    int list_opt[TOOL_OPTV_LIST_MAX];
    const char *list_val[TOOL_OPTV_LIST_MAX];
};

/*
 * tool_optv_parse - the whole command line (argv[1..]) against defs
 * (count <= TOOL_OPTV_MAX).  Returns 0 to go on, or 1 with *exit_code set
 * when the tool is done: a def named "help" prints usage(stdout) (0), one
 * named "version" prints the Kafka version this tool follows (0), and a
 * bad option or a stray word prints the reason and usage(stderr) (1).
 */
int tool_optv_parse(int argc, char **argv, const struct tool_optdef *defs, size_t count, struct tool_optv *o,
                    void (*usage)(FILE *out), int *exit_code);

#endif
