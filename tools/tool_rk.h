/*
 * tool_rk.h - librdkafka producer/consumer handles for the data tools
 * (console producer and consumer, get-offsets, ...): the configuration
 * built the way Kafka's tools build theirs (defaults, then a properties
 * file, then k=v properties, then explicit flags), librdkafka's own log
 * lines kept quiet, and a start-up metadata wait that fails fast with one
 * line when no bootstrap server answers or the topic does not exist.
 *
 * Admin-only tools use tool_common's struct tool_client instead.
 */
#ifndef SAMSA_TOOLS_TOOL_RK_H
#define SAMSA_TOOLS_TOOL_RK_H

#include <stdbool.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "common/err.h"
#include "tools/tool_common.h"

struct tool_rk {
    rd_kafka_t *rk;
    const char *bootstrap;
    /* the last client-level error (error_cb, or an error-level log line) */
    rd_kafka_resp_err_t last_err;
    bool unreachable; /* every bootstrap server refused or did not resolve */
    char last_error[TOOL_ERRSTR_MAX];
    void *user; /* the tool's own state, for librdkafka callbacks (rd_kafka_opaque is t) */
};

/*
 * tool_rk_conf_create - a new conf with bootstrap.servers and the callbacks
 * bound to t (t must not move until tool_rk_destroy).  bootstrap is
 * borrowed for messages.  Returns NULL with err filled on a bad value.
 */
rd_kafka_conf_t *tool_rk_conf_create(struct tool_rk *t, const char *bootstrap, char *err, size_t err_size);

/* tool_rk_set - one key the tool itself sets; a failure is a bug in the
 * tool's mapping and is reported in err. */
MUST_CHECK int tool_rk_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err, size_t err_size);

/* tool_rk_create - the handle; takes conf (destroyed on failure too). */
MUST_CHECK int tool_rk_create(struct tool_rk *t, rd_kafka_type_t type, rd_kafka_conf_t *conf, char *err,
                              size_t err_size);

/* tool_rk_destroy - destroy the handle; safe on a zeroed struct. */
void tool_rk_destroy(struct tool_rk *t);

/*
 * tool_rk_metadata - metadata for one topic (topic != NULL) or all topics,
 * waiting up to timeout_ms while brokers come up or an auto-created topic
 * gets its leaders.  Fails fast (ERR_IO) when every bootstrap server
 * refused or did not resolve, ERR_NOT_FOUND when the topic does not exist,
 * ERR_TIMEOUT at the deadline; err then holds one line for the user.
 * *md is released with rd_kafka_metadata_destroy.
 */
MUST_CHECK int tool_rk_metadata(struct tool_rk *t, const char *topic, int timeout_ms,
                                const struct rd_kafka_metadata **md, char *err, size_t err_size);

/*
 * tool_rk_open - tool_rk_create, then tool_rk_metadata for topic; on
 * failure prints "ERROR <reason>" (one line) on stderr, leaves t destroyed
 * and returns non-zero.  *md (optional) receives the topic's metadata,
 * else it is released.  Takes conf.
 */
MUST_CHECK int tool_rk_open(struct tool_rk *t, rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *topic,
                            int timeout_ms, const struct rd_kafka_metadata **md);

/* tool_signals_catch - SIGINT and SIGTERM to handler (no SA_RESTART, so a
 * blocking read returns), for tools that end cleanly on Ctrl-C. */
void tool_signals_catch(void (*handler)(int sig));

#endif
