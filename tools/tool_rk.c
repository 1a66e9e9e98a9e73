/*
 * tool_rk.c - librdkafka handles for the data tools (see tool_rk.h).
 *
 * librdkafka retries an unreachable bootstrap server for ever and logs each
 * attempt; Kafka's Java tools do the same.  A command-line tool should
 * instead say once that nothing answered and exit non-zero, so the
 * start-up metadata wait watches error_cb for "all brokers down" and
 * "resolve failed" and stops there.
 */
#include "tools/tool_rk.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

#define TOOL_RK_POLL_MS 200

static void tool_rk_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    struct tool_rk *t = opaque;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__RESOLVE)
        t->unreachable = true;
    /* "1/1 brokers are down" says less than the connect failure before it */
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && t->last_error[0])
        return;
    t->last_err = (rd_kafka_resp_err_t)err;
    snprintf(t->last_error, sizeof t->last_error, "%s", reason);
}

static void tool_rk_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)fac;
    if (level > 3)
        return;
    struct tool_rk *t = rd_kafka_opaque(rk);
    if (t)
        snprintf(t->last_error, sizeof t->last_error, "%s", buf);
}

rd_kafka_conf_t *tool_rk_conf_create(struct tool_rk *t, const char *bootstrap, char *err, size_t err_size)
{
    ASSERT(t != NULL);
    ASSERT(bootstrap != NULL);
    memset(t, 0, sizeof *t);
    t->bootstrap = bootstrap;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (tool_rk_set(conf, "bootstrap.servers", bootstrap, err, err_size) < 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, t);
    rd_kafka_conf_set_error_cb(conf, tool_rk_error_cb);
    rd_kafka_conf_set_log_cb(conf, tool_rk_log_cb);
    return conf;
}

int tool_rk_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err, size_t err_size)
{
    char why[TOOL_ERRSTR_MAX];
    if (rd_kafka_conf_set(conf, key, value, why, sizeof why) != RD_KAFKA_CONF_OK) {
        snprintf(err, err_size, "invalid value '%s' for %s: %s", value, key, why);
        return ERR_INVALID;
    }
    return 0;
}

int tool_rk_create(struct tool_rk *t, rd_kafka_type_t type, rd_kafka_conf_t *conf, char *err, size_t err_size)
{
    char why[TOOL_ERRSTR_MAX];
    t->rk = rd_kafka_new(type, conf, why, sizeof why);
    if (!t->rk) {
        snprintf(err, err_size, "%s", why);
        rd_kafka_conf_destroy(conf);
        return ERR_INVALID;
    }
    return 0;
}

void tool_rk_destroy(struct tool_rk *t)
{
    if (t->rk)
        rd_kafka_destroy(t->rk);
    t->rk = NULL;
}

int tool_rk_metadata(struct tool_rk *t, const char *topic, int timeout_ms, const struct rd_kafka_metadata **md,
                     char *err, size_t err_size)
{
    ASSERT(t->rk != NULL);
    *md = NULL;
    rd_kafka_topic_t *rkt = NULL;
    if (topic) {
        rkt = rd_kafka_topic_new(t->rk, topic, NULL);
        if (!rkt) {
            snprintf(err, err_size, "invalid topic '%s': %s", topic, rd_kafka_err2str(rd_kafka_last_error()));
            return ERR_INVALID;
        }
    }
    int64_t deadline_ms = tool_now_ms() + timeout_ms;
    int rc = ERR_TIMEOUT;
    for (;;) {
        const struct rd_kafka_metadata *m = NULL;
        rd_kafka_resp_err_t e = rd_kafka_metadata(t->rk, rkt ? 0 : 1, rkt, &m, TOOL_RK_POLL_MS);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_resp_err_t te = rkt && m->topic_cnt > 0 ? m->topics[0].err : RD_KAFKA_RESP_ERR_NO_ERROR;
            if (te == RD_KAFKA_RESP_ERR_NO_ERROR) {
                *md = m;
                rc = 0;
                break;
            }
            rd_kafka_metadata_destroy(m);
            if (te == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
                snprintf(err, err_size,
                         "Topic %s does not exist (UNKNOWN_TOPIC_OR_PARTITION from %s); create it with "
                         "kafka-topics --create --topic %s",
                         topic, t->bootstrap, topic);
                rc = ERR_NOT_FOUND;
                break;
            }
            if (te != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) {
                snprintf(err, err_size, "Topic %s: %s", topic, rd_kafka_err2str(te));
                rc = ERR_INVALID;
                break;
            }
        }
        rd_kafka_poll(t->rk, 0); /* serve error_cb */
        if (t->unreachable) {
            snprintf(err, err_size, "Cannot connect to bootstrap server(s) %s: %s", t->bootstrap, t->last_error);
            rc = ERR_TIMEOUT;
            break;
        }
        if (tool_now_ms() >= deadline_ms) {
            snprintf(err, err_size, "Timed out after %d ms waiting for metadata%s%s from %s%s%s%s", timeout_ms,
                     topic ? " of topic " : "", topic ? topic : "", t->bootstrap, t->last_error[0] ? " (" : "",
                     t->last_error, t->last_error[0] ? ")" : "");
            break;
        }
    }
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    return rc;
}

int tool_rk_open(struct tool_rk *t, rd_kafka_type_t type, rd_kafka_conf_t *conf, const char *topic, int timeout_ms,
                 const struct rd_kafka_metadata **md)
{
    char err[TOOL_ERRSTR_MAX];
    const struct rd_kafka_metadata *m = NULL;
    int rc = tool_rk_create(t, type, conf, err, sizeof err);
    if (rc == 0 && (rc = tool_rk_metadata(t, topic, timeout_ms, &m, err, sizeof err)) < 0)
        tool_rk_destroy(t);
    if (rc < 0) {
        fprintf(stderr, "ERROR %s\n", err);
        return rc;
    }
    if (md)
        *md = m;
    else
        rd_kafka_metadata_destroy(m);
    return 0;
}

void tool_signals_catch(void (*handler)(int sig))
{
    struct sigaction sa = { .sa_handler = handler };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}
