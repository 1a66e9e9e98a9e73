/*
 * config_int.h - what the config module's files share and nothing else
 * includes: the broker key table (config_keys.c) and its size, struct
 * config itself, and the few helpers config_roles.c borrows from config.c
 * (reading an effective value, collecting an error line, comma lists).
 */
#ifndef SAMSA_CONFIG_INT_H
#define SAMSA_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"

/* The security protocols a listener may map to (a valid-values list and
 * the operator's hint). */
#define SP_VALID "PLAINTEXT,SSL,SASL_PLAINTEXT,SASL_SSL"

/* The number of broker keys: struct config sizes its arrays with it, and
 * config_keys.c asserts the table has exactly this many entries. */
#define CONFIG_KEYS_BROKER_COUNT 125

extern const struct config_key config_keys_broker[CONFIG_KEYS_BROKER_COUNT];
/* the broker keys Kafka lets you change at run time (DynamicBrokerConfig) */
extern const char *const config_keys_broker_dynamic[];
extern const size_t config_keys_broker_dynamic_count;

/*
 * Invariants:
 *   - values[i] belongs to config_keys_broker[i]; NULL means "not set by
 *     any source" and the table default applies.
 *   - ranks[i] is the source of values[i]; a set from a lower rank is
 *     dropped, so the load order never changes the outcome.
 *   - dyn[0][i] / dyn[1][i] are the dynamic default and dynamic broker
 *     layers of config_keys_broker[i] (NULL: unset); config_eff reads
 *     broker, default, static, table default in that order.
 *   - Every problem found is one line in errors; finalize returns
 *     ERR_CONFIG when there is at least one.
 */
struct config {
    char *values[CONFIG_KEYS_BROKER_COUNT];
    enum config_source ranks[CONFIG_KEYS_BROKER_COUNT];
    char *origins[CONFIG_KEYS_BROKER_COUNT];
    char *dyn[2][CONFIG_KEYS_BROKER_COUNT]; /* [0] dynamic default, [1] dynamic broker */
    struct config_node node;
    char cluster_id_origin[CONFIG_ORIGIN_BYTES_MAX];
    struct buf errors;   /* NUL-terminated text */
    struct buf warnings; /* NUL-terminated text */
    int finalized;
};

/* One "config error: ..." line into cfg->errors. */
__attribute__((format(printf, 2, 3))) void config_error(struct config *cfg, const char *fmt, ...);
/* One warning line into cfg->warnings, also logged at WARN. */
__attribute__((format(printf, 2, 3))) void config_warn(struct config *cfg, const char *fmt, ...);
/* The effective string of broker key `name` (a table key; may be NULL). */
const char *config_eff(const struct config *cfg, const char *name);
/* Did any static source (file, env, override) set broker key `name`? */
int config_is_set(const struct config *cfg, const char *name);
/* The effective value of an integer key (checked by finalize's phase 1). */
int64_t config_num(const struct config *cfg, const char *name);
/* Copy s[0..n) trimmed into out; ERR_LIMIT if it does not fit. */
MUST_CHECK int config_copy_trim(char *out, size_t out_size, const char *s, size_t n);
/* The next non-empty trimmed entry of a comma list (*pos is the cursor):
 * 1 with an item, 0 at the end, ERR_LIMIT when an entry does not fit. */
MUST_CHECK int config_list_next(const char *list, size_t *pos, char *item, size_t item_size);
/* A trimmed decimal 64-bit integer: 0 or ERR_CONFIG. */
MUST_CHECK int config_parse_int64(const char *s, int64_t *out);

/* config_roles_derive (config_roles.c) - finalize's structural phase:
 * process.roles, node.id, listeners and their protocols, the controller
 * quorum, log.dirs and metadata.log.dir into cfg->node; each problem is an
 * error line (the first of each step). */
void config_roles_derive(struct config *cfg);

#endif
