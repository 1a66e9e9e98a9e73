/*
 * ctrl_topic_config.h - Kafka's topic-level configs (LogConfig): the key
 * table and the check every topic config goes through before it becomes a
 * ConfigRecord.  The active controller checks CreateTopics configs here;
 * the broker checks CreateTopics / AlterConfigs requests with the same
 * function (broker/ may include controller/), so a refusal reads the same
 * wherever it happens.
 *
 * Each key names its broker-level synonym, whose effective value is the
 * topic's default (computed from a broker's config in broker/brk_config.h).
 */
#ifndef SAMSA_CTRL_TOPIC_CONFIG_H
#define SAMSA_CTRL_TOPIC_CONFIG_H

#include <stddef.h>

#include "common/config.h"
#include "common/err.h"

size_t ctrl_topic_config_key_count(void);
const struct config_key *ctrl_topic_config_key_at(size_t index);
/* ctrl_topic_config_key_find - the key named name, or NULL. */
const struct config_key *ctrl_topic_config_key_find(const char *name);

/* ctrl_topic_config_validate - 0, or ERR_INVALID with Kafka's one-line
 * reason in msg (unknown key, null value, wrong type, out of range, not an
 * allowed value, a message.format.version that is no Kafka version,
 * remote.storage.enable=true); the broker maps ERR_INVALID to
 * INVALID_CONFIG.  A valid message.format.version is accepted with a
 * warning (deprecated and ignored, as in Kafka 3.x). */
MUST_CHECK int ctrl_topic_config_validate(const char *key, const char *value, char *msg,
                                          size_t msg_size);

#endif
