/*
 * brk_config.c - topic defaults from the broker's configuration (what
 * DescribeConfigs on a topic and a partition log without its own setting
 * use).  Reads the finalized typed view for the defaults Kafka derives
 * (retention.ms, segment.ms, segment.jitter.ms, flush.ms) and the broker
 * synonym's effective value for the rest.  No state of its own.
 */
#include "brk_config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "controller/ctrl_topic_config.h"

int brk_config_topic_default(const struct config *cfg, const char *key, char *out, size_t out_size,
                             const char **synonym_out)
{
    const struct config_key *k = ctrl_topic_config_key_find(key);
    if (!k)
        return ERR_NOT_FOUND;
    if (synonym_out)
        *synonym_out = k->synonym;
    const struct config_node *node = config_node_get(cfg);
    int64_t derived;
    int has_derived = 1;
    if (strcmp(key, "retention.ms") == 0)
        derived = node->retention_ms;
    else if (strcmp(key, "segment.ms") == 0)
        derived = node->roll_ms;
    else if (strcmp(key, "flush.ms") == 0)
        derived = node->flush_interval_ms;
    else if (strcmp(key, "segment.jitter.ms") == 0)
        derived = node->roll_jitter_ms;
    else
        has_derived = 0;
    int n;
    if (has_derived) {
        n = snprintf(out, out_size, "%" PRId64, derived);
    } else {
        const char *v = k->synonym ? config_value_find(cfg, k->synonym) : NULL;
        if (!v)
            v = k->default_value ? k->default_value : "";
        n = snprintf(out, out_size, "%s", v);
    }
    return (n < 0 || (size_t)n >= out_size) ? ERR_LIMIT : 0;
}

int brk_config_topic_entry_get(const struct config *cfg, size_t index, const char *topic_value,
                               char *scratch, size_t scratch_size, struct config_entry *e)
{
    const struct config_key *k = ctrl_topic_config_key_at(index);
    e->key = k;
    e->is_sensitive = (k->flags & CONFIG_F_SENSITIVE) != 0;
    e->read_only = 0; /* topic configs are alterable */
    if (topic_value) {
        e->value = e->is_sensitive ? NULL : topic_value;
        e->source = CONFIG_SOURCE_TOPIC;
        e->origin = "topic";
        e->is_default = 0;
        return 0;
    }
    int rc = brk_config_topic_default(cfg, k->name, scratch, scratch_size, NULL);
    if (rc < 0)
        return rc;
    e->value = e->is_sensitive ? NULL : scratch;
    e->source = CONFIG_SOURCE_DEFAULT;
    e->origin = "default";
    if (k->synonym) {
        /* A derived default (retention.ms from log.retention.hours) takes
         * the source of whichever broker key supplied it. */
        struct config_synonym syn[CONFIG_SYNONYMS_MAX];
        size_t n = config_broker_synonym_chain(cfg, k->synonym, syn);
        if (n > 0 && syn[0].source != CONFIG_SOURCE_DEFAULT) {
            e->source = syn[0].source;
            e->origin = syn[0].origin;
        }
    }
    e->is_default = e->source == CONFIG_SOURCE_DEFAULT;
    return 0;
}
