/*
 * brk_config.h - topic defaults from a broker's configuration: the value a
 * topic gets for a config it does not set (its broker synonym's effective
 * value, derived ones such as retention.ms from log.retention.hours
 * included), and the DescribeConfigs row of a topic key.  The topic key
 * table and validation are controller/ctrl_topic_config.h; the broker
 * configuration itself is common/config.h.
 */
#ifndef SAMSA_BRK_CONFIG_H
#define SAMSA_BRK_CONFIG_H

#include <stddef.h>

#include "common/config.h"
#include "common/err.h"

/* brk_config_topic_default - the value a topic gets when it does not set
 * key (cfg finalized): its broker synonym's effective value, else the topic
 * table default.  *synonym_out (if not NULL) gets the broker key or NULL.
 * Returns 0, ERR_NOT_FOUND for an unknown key, ERR_LIMIT if out is too
 * small.  A null default is "". */
MUST_CHECK int brk_config_topic_default(const struct config *cfg, const char *key, char *out,
                                        size_t out_size, const char **synonym_out);

/*
 * brk_config_topic_entry_get - the DescribeConfigs row of topic key index
 * (ctrl_topic_config_key_at): the topic's own value when topic_value is not
 * NULL (source TOPIC), else the default from the broker (source and origin
 * of the broker synonym that supplied it, is_default when that is Kafka's
 * default).  The default is formatted into scratch, which e->value may then
 * point into.  Returns 0 or ERR_LIMIT (scratch small).
 */
MUST_CHECK int brk_config_topic_entry_get(const struct config *cfg, size_t index,
                                          const char *topic_value, char *scratch,
                                          size_t scratch_size, struct config_entry *e);

#endif
