/*
 * config_int.h - what the config module's files share and nothing else
 * includes: the key tables (config_keys.c) and their sizes.
 */
#ifndef SAMSA_CONFIG_INT_H
#define SAMSA_CONFIG_INT_H

#include <stddef.h>

#include "config.h"

/* The number of broker keys: struct config sizes its arrays with it, and
 * config_keys.c asserts the table has exactly this many entries. */
/* The security protocols a listener may map to (a valid-values list and
 * the operator's hint). */
#define SP_VALID "PLAINTEXT,SSL,SASL_PLAINTEXT,SASL_SSL"

#define CONFIG_KEYS_BROKER_COUNT 125

extern const struct config_key config_keys_broker[CONFIG_KEYS_BROKER_COUNT];
extern const struct config_key config_keys_topic[];
extern const size_t config_keys_topic_count;
/* the broker keys Kafka lets you change at run time (DynamicBrokerConfig) */
extern const char *const config_keys_broker_dynamic[];
extern const size_t config_keys_broker_dynamic_count;

#endif
