/*
 * config.h - Kafka-style broker configuration: sources, validation, and the
 * typed view the server runs on.
 *
 * Users configure Samsa exactly like Apache Kafka.  A value comes from one of
 * four sources, lowest to highest precedence:
 *
 *     Kafka default  <  file  <  environment (KAFKA_*)  <  --override
 *
 * Precedence is by source rank, not by call order: loading the environment
 * and then the file still lets the environment win.  Within one source the
 * last assignment wins (as java.util.Properties does).
 *
 *   file         Java .properties syntax exactly (comments, separators, line
 *                continuations, escapes), or YAML when the name ends in
 *                .yaml/.yml (nested mappings flatten to dotted names,
 *                sequences of scalars join with commas).
 *   environment  the cp-kafka image's rule: KAFKA_LOG_DIRS -> log.dirs,
 *                ___ -> '-', __ -> '_', _ -> '.'.  The image's JVM/launcher
 *                variables (KAFKA_HEAP_OPTS, KAFKA_OPTS, ...) are accepted and
 *                ignored.  CLUSTER_ID is the cluster id.  The environment is
 *                passed in as an envp array; this module never reads environ.
 *
 * Lifecycle: config_create -> config_load_* / config_set ... ->
 * config_finalize -> config_node_get / config_print / entries -> destroy.
 * After a successful finalize the config is read-only and may be shared by
 * threads.  Unknown keys produce one warning each and are never fatal.
 *
 * Errors are collected as text, one line per problem, each naming the key,
 * its value and the fix ("config error: listeners=PLAINTEXT://:99999 port
 * 99999 is out of range 0-65535; use a port like 9092").  Callers print
 * config_errors() and exit.
 *
 * Topic-level configs (retention.ms, cleanup.policy, ...) are not here: their
 * table and validation are in controller/ctrl_topic_config.h, the topic
 * defaults a broker derives from this config in broker/brk_config.h.
 *
 * Dynamic broker configs (KIP-226) are two layers over these sources; see
 * config_dynamic_* below.
 *
 * This module does not: resolve host names, touch the log directories (see metaprops), or read
 * the process environment on its own.
 */
#ifndef SAMSA_CONFIG_H
#define SAMSA_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

/* Limits on the typed view.  Going over one is a config error, not a crash. */
#define CONFIG_LISTENERS_MAX 16
#define CONFIG_LISTENER_NAME_BYTES_MAX 64   /* including the NUL */
#define CONFIG_HOST_BYTES_MAX 256           /* including the NUL */
#define CONFIG_VOTERS_MAX 64
#define CONFIG_LOG_DIRS_MAX 32
#define CONFIG_PATH_BYTES_MAX 1024          /* including the NUL */
#define CONFIG_CLUSTER_ID_BYTES_MAX 64      /* including the NUL */
#define CONFIG_VALUE_BYTES_MAX 65536        /* one key or value */
#define CONFIG_FILE_BYTES_MAX (4u << 20)    /* one config file */
#define CONFIG_YAML_DEPTH_MAX 16            /* nesting of YAML mappings */
#define CONFIG_MESSAGES_BYTES_MAX 65536     /* collected errors or warnings */
#define CONFIG_ORIGIN_BYTES_MAX 512         /* "file:<path>" / "env:<VAR>" */

enum config_type {
    CONFIG_INT,      /* 32-bit signed */
    CONFIG_LONG,     /* 64-bit signed */
    CONFIG_DOUBLE,
    CONFIG_BOOL,     /* true/false, case-insensitive */
    CONFIG_STRING,
    CONFIG_LIST,     /* comma separated; entries trimmed, empty entries dropped */
    CONFIG_CLASS,    /* a Java class name: accepted, unused */
    CONFIG_PASSWORD, /* never printed or described */
};

/* Where an effective value came from, lowest precedence first. */
enum config_source {
    CONFIG_SOURCE_DEFAULT,
    CONFIG_SOURCE_FILE,
    CONFIG_SOURCE_ENV,
    CONFIG_SOURCE_OVERRIDE,
    CONFIG_SOURCE_TOPIC, /* a topic's own setting; only in topic entries, never set here */
    CONFIG_SOURCE_DYNAMIC_DEFAULT, /* cluster-wide dynamic broker default (kafka-configs --entity-default) */
    CONFIG_SOURCE_DYNAMIC_BROKER,  /* this broker's dynamic config (kafka-configs --entity-name <id>) */
};

/* Key flags. */
#define CONFIG_F_SENSITIVE 0x1u  /* value hidden in print and DescribeConfigs */
#define CONFIG_F_UNUSED 0x2u     /* accepted for compatibility, has no effect */

/* One row of a key table (broker or topic) (immutable, static storage). */
struct config_key {
    const char *name;
    enum config_type type;
    const char *default_value; /* NULL: Kafka's null (unset) */
    const char *synonym;       /* topic keys: the broker key that supplies the default */
    const char *valid_values;  /* comma list of allowed values, or NULL */
    int64_t min, max;          /* numeric range when has_range */
    int has_range;
    unsigned flags;
    const char *doc;
};

enum config_security_protocol {
    CONFIG_SP_PLAINTEXT,
    CONFIG_SP_SSL,
    CONFIG_SP_SASL_PLAINTEXT,
    CONFIG_SP_SASL_SSL,
};

#define CONFIG_ROLE_BROKER 0x1u
#define CONFIG_ROLE_CONTROLLER 0x2u

/* A listener or advertised listener: NAME://host:port.  An empty host means
 * all interfaces (listeners) or the machine's canonical host name
 * (advertised listeners) as in Kafka; the server resolves that. */
struct config_endpoint {
    char name[CONFIG_LISTENER_NAME_BYTES_MAX]; /* upper-cased, as Kafka does */
    char host[CONFIG_HOST_BYTES_MAX];          /* without IPv6 brackets */
    uint16_t port;
    enum config_security_protocol security_protocol;
};

/* One controller.quorum.voters entry (id@host:port), or a bootstrap server
 * (id == -1). */
struct config_voter {
    int32_t id;
    char host[CONFIG_HOST_BYTES_MAX];
    uint16_t port;
};

/*
 * The typed, validated view the server runs on.  All derived precedence is
 * already applied (log.retention.ms > minutes > hours, log.roll.ms > hours,
 * log.dirs > log.dir, node.id / broker.id, advertised.listeners defaulting to
 * listeners).  Numbers use -1 for "unlimited" where Kafka does.
 */
struct config_node {
    int32_t node_id;      /* -1 when unset (only allowed without process.roles) */
    unsigned roles;       /* CONFIG_ROLE_* bits; 0: process.roles unset (Kafka's
                             ZooKeeper mode, which Samsa does not have) */

    size_t listener_count;
    struct config_endpoint listeners[CONFIG_LISTENERS_MAX];
    /* Broker-facing advertised listeners: advertised.listeners, or listeners
     * when unset; controller listeners are never advertised to clients. */
    size_t advertised_count;
    struct config_endpoint advertised[CONFIG_LISTENERS_MAX];
    char inter_broker_listener_name[CONFIG_LISTENER_NAME_BYTES_MAX];
    size_t controller_listener_name_count;
    char controller_listener_names[CONFIG_LISTENERS_MAX][CONFIG_LISTENER_NAME_BYTES_MAX];
    size_t voter_count;
    struct config_voter voters[CONFIG_VOTERS_MAX];
    size_t bootstrap_server_count; /* controller.quorum.bootstrap.servers */
    struct config_voter bootstrap_servers[CONFIG_VOTERS_MAX];

    size_t log_dir_count;
    char log_dirs[CONFIG_LOG_DIRS_MAX][CONFIG_PATH_BYTES_MAX];
    char metadata_log_dir[CONFIG_PATH_BYTES_MAX]; /* metadata.log.dir or log_dirs[0] */
    char cluster_id[CONFIG_CLUSTER_ID_BYTES_MAX];  /* CLUSTER_ID env; "" if unset */

    /* Threads and sockets. */
    int64_t num_network_threads;
    int64_t num_io_threads;
    int64_t message_max_bytes;
    int64_t socket_request_max_bytes;
    int64_t fetch_max_bytes;             /* KIP-541: cap on one consumer Fetch response's record bytes */
    int64_t fetch_response_target_bytes; /* samsa.fetch.response.target.bytes (0: off) */
    int64_t connections_max_idle_ms;     /* client connections idle this long are closed; <= 0: never */
    int64_t socket_send_buffer_bytes;    /* -1: OS default */
    int64_t socket_receive_buffer_bytes; /* -1: OS default */

    /* Log. */
    int64_t retention_ms;                /* -1: unlimited */
    int64_t retention_bytes;             /* -1: unlimited */
    int64_t segment_bytes;
    int64_t roll_ms;
    int64_t roll_jitter_ms;              /* log.roll.jitter.ms, else .hours in ms */
    int64_t retention_check_interval_ms;
    int64_t index_interval_bytes;
    int64_t index_size_max_bytes;
    int64_t flush_interval_messages;
    int64_t flush_interval_ms;           /* log.flush.interval.ms, else scheduler interval */
    int64_t flush_scheduler_interval_ms;
    char cleanup_policy[32];             /* "delete", "compact" or "compact,delete" */
    char message_timestamp_type[32];     /* CreateTime / LogAppendTime */
    char compression_type[32];
    int log_cleaner_enable;

    /* Topics and replication. */
    int64_t num_partitions;
    int64_t default_replication_factor;
    int64_t min_insync_replicas;
    int64_t offsets_topic_replication_factor;
    int64_t offsets_topic_num_partitions;
    int64_t transaction_state_log_replication_factor;
    int64_t transaction_state_log_min_isr;
    int64_t replica_lag_time_max_ms;
    int64_t replica_hw_checkpoint_interval_ms; /* replica.high.watermark.checkpoint.interval.ms */
    int64_t num_replica_fetchers;             /* fetch sessions per source broker */
    int64_t replica_fetch_max_bytes;          /* per partition */
    int64_t replica_fetch_response_max_bytes; /* per fetch response */
    int64_t replica_fetch_min_bytes;
    int64_t replica_fetch_wait_max_ms;
    int64_t replica_fetch_backoff_ms;
    int64_t fetch_session_cache_slots;   /* max.incremental.fetch.session.cache.slots */
    int auto_create_topics_enable;
    int delete_topic_enable;
    int unclean_leader_election_enable;
    int eligible_leader_replicas_enable;      /* KIP-966 (controller ELR, strict min ISR on leaders) */
    int auto_leader_rebalance_enable;
    int64_t leader_imbalance_check_interval_ms;     /* leader.imbalance.check.interval.seconds, in ms */
    int64_t leader_imbalance_per_broker_percentage;
    int controlled_shutdown_enable;
    int64_t controlled_shutdown_max_retries;
    int64_t controlled_shutdown_retry_backoff_ms;

    /* Groups. */
    int64_t group_initial_rebalance_delay_ms;
    int64_t offsets_retention_ms;                /* offsets.retention.minutes, in ms */
    int64_t offsets_retention_check_interval_ms; /* offsets.retention.check.interval.ms */
    int64_t producer_id_expiration_ms;           /* producer.id.expiration.ms */

    /* KRaft. */
    int64_t broker_heartbeat_interval_ms;
    int64_t broker_session_timeout_ms;
    int64_t controller_quorum_election_timeout_ms;
    int64_t controller_quorum_fetch_timeout_ms;
    int64_t controller_quorum_request_timeout_ms;
    int64_t controller_quorum_election_backoff_max_ms;
    int64_t metadata_snapshot_bytes;  /* metadata.log.max.record.bytes.between.snapshots */

    /* Samsa. */
    int log_level;   /* enum log_level from log.h */
    int io_uring;    /* samsa.io.uring */
    int log_direct_io;                  /* samsa.log.direct.io */
    int acks_all_fsync;                 /* samsa.acks.all.fsync (topic override of the same name) */
    int64_t log_tail_buffer_bytes;      /* samsa.log.tail.buffer.bytes */
    int64_t log_tail_buffers_max_bytes; /* samsa.log.tail.buffers.max.bytes */
};

/* One broker key's effective state, for DescribeConfigs and --print-config.
 * Strings borrow from the config and stay valid until config_destroy. */
struct config_entry {
    const struct config_key *key;
    const char *value;        /* NULL: null, or hidden because sensitive */
    enum config_source source;
    const char *origin;       /* "default", "file:<path>", "env:<VAR>", "override" */
    int is_default;
    int read_only;            /* 1: not changeable dynamically (config_key_is_dynamic) */
    int is_sensitive;
};

struct config;

/* config_create - an empty config holding only Kafka defaults.  Returns 0 or
 * -ENOMEM. */
MUST_CHECK int config_create(struct config **out);
void config_destroy(struct config *cfg);

/*
 * config_set - assign key=value from a source.  origin names it for
 * config_print ("file:/etc/x.properties", "env:KAFKA_LOG_DIRS"); NULL means
 * the source's bare name.  A lower-ranked source never replaces a higher one.
 * An unknown key adds one warning and returns 0.  Values are checked at
 * finalize, not here.  Returns 0, ERR_LIMIT (value too long) or -ENOMEM.
 */
MUST_CHECK int config_set(struct config *cfg, const char *key, const char *value,
                          enum config_source source, const char *origin);
/* config_override - "key=value" from --override.  ERR_CONFIG (with an error
 * line) when there is no '='. */
MUST_CHECK int config_override(struct config *cfg, const char *key_value);

/* config_load_file - read a .properties file, or YAML when the name ends in
 * .yaml/.yml.  Blocks on file I/O.  Errors: -errno (unreadable), ERR_LIMIT
 * (bigger than CONFIG_FILE_BYTES_MAX), ERR_CONFIG (syntax); each adds an
 * error line. */
MUST_CHECK int config_load_file(struct config *cfg, const char *path);
/* The same, from memory; origin is as for config_set. */
MUST_CHECK int config_load_properties(struct config *cfg, const char *text, size_t len,
                                      const char *origin);
MUST_CHECK int config_load_yaml(struct config *cfg, const char *text, size_t len,
                                const char *origin);
/* config_load_env - apply every KAFKA_* variable and CLUSTER_ID from envp
 * ("NAME=VALUE" strings, NULL-terminated; NULL envp is empty). */
MUST_CHECK int config_load_env(struct config *cfg, char *const *envp);

/* config_env_to_key - the cp-kafka name rule: "KAFKA_LOG_DIRS" -> "log.dirs".
 * Returns 0, ERR_NOT_FOUND if the variable is not a config (no KAFKA_ prefix,
 * or one of the image's JVM/launcher variables), ERR_LIMIT if out is small. */
MUST_CHECK int config_env_to_key(const char *var, char *out, size_t out_size);

/*
 * config_load_all - the loader the server and tools share: file (if path is
 * not NULL; properties or YAML), then envp, then each "key=value" override,
 * then config_finalize.  Returns the first failure; config_errors() has the
 * lines to print.
 */
MUST_CHECK int config_load_all(struct config *cfg, const char *path, char *const *envp,
                               char *const *overrides, size_t override_count);

/*
 * config_finalize - check every value and build the typed view.  Returns 0,
 * or ERR_CONFIG with every problem listed in config_errors().  Warnings
 * (unknown keys, unused ZooKeeper settings) are in config_warnings() and are
 * also logged at WARN.
 */
MUST_CHECK int config_finalize(struct config *cfg);

/* Collected lines, each ending in '\n'; "" when none.  Borrowed. */
const char *config_errors(const struct config *cfg);
const char *config_warnings(const struct config *cfg);

/* config_node_get - the typed view; only after a successful finalize. */
const struct config_node *config_node_get(const struct config *cfg);

/* config_value_find - a known key's effective string value; NULL when the
 * key is unknown or its value is null. */
const char *config_value_find(const struct config *cfg, const char *key);

/* config_print - every broker key, its effective value and where it came
 * from, in properties syntax ("key=value  # source").  Sensitive values are
 * printed as [hidden]. */
void config_print(const struct config *cfg, FILE *out);

/* Broker keys, for DescribeConfigs on a broker (kafka-configs --all). */
size_t config_broker_key_count(void);
const struct config_key *config_broker_key_at(size_t index);
const struct config_key *config_broker_key_find(const char *name);
void config_broker_entry_get(const struct config *cfg, size_t index, struct config_entry *e);

/*
 * config_value_check - one value against a key's type, range and allowed
 * values (any key table: the broker's here, the topic table in
 * controller/ctrl_topic_config.c).  0, or ERR_CONFIG with
 * "<problem>; <fix>" in why.  A NULL value (unset) always passes.
 */
MUST_CHECK int config_value_check(const struct config_key *k, const char *value, char *why,
                                  size_t why_size);

/* Valid-value lists the broker and topic key tables share. */
#define CONFIG_COMPRESSION_VALID "uncompressed,zstd,lz4,snappy,gzip,producer"
#define CONFIG_TS_TYPE_VALID "CreateTime,LogAppendTime"
#define CONFIG_CLEANUP_VALID "delete,compact"
#define CONFIG_LONG_MAX_STR "9223372036854775807"

/* ---- Dynamic broker configs (KIP-226) ----------------------------------
 *
 * Two layers above the static configuration, filled from the metadata
 * image's broker ConfigRecords: this broker's own ("1") over the
 * cluster-wide default (""), over the file/env/overrides, over the table
 * defaults.  Only keys Kafka lets you change at run time may be set
 * (config_key_is_dynamic).  The typed view (config_node_get) is re-derived
 * in place by config_dynamic_commit, so readers see new values at once.
 * Setting allocates (rare, operator-driven); nothing else does after
 * finalize. */
int config_key_is_dynamic(const char *name);
/* config_dynamic_validate - may key be set to value dynamically?  0, or
 * ERR_NOT_FOUND (unknown key), ERR_UNSUPPORTED (read-only: not dynamic) or
 * ERR_INVALID (bad value), with a one-line reason in msg.  value NULL
 * checks a deletion. */
MUST_CHECK int config_dynamic_validate(const char *key, const char *value, char *msg, size_t msg_size);
/* config_dynamic_clear - empty both layers (before re-filling them). */
void config_dynamic_clear(struct config *cfg);
/* config_dynamic_set - one value in layer CONFIG_SOURCE_DYNAMIC_DEFAULT or
 * _DYNAMIC_BROKER; an unknown, read-only or invalid one is refused
 * (config_dynamic_validate) and the layer keeps its old value. */
MUST_CHECK int config_dynamic_set(struct config *cfg, enum config_source layer, const char *key, const char *value);
/* config_dynamic_commit - re-derive the typed view after sets. */
void config_dynamic_commit(struct config *cfg);
/* config_dynamic_value - the layer's value of key, or NULL. */
const char *config_dynamic_value(const struct config *cfg, enum config_source layer, const char *key);

/* One DescribeConfigs synonym: the broker keys that could supply a value,
 * most to least significant, each in every layer that sets it. */
struct config_synonym {
    const char *name;
    const char *value;   /* NULL: hidden (sensitive) */
    enum config_source source;
    const char *origin;  /* as config_entry's origin ("file:<path>", "dynamic broker config", ...) */
};
#define CONFIG_SYNONYMS_MAX 16
/* config_broker_synonyms - Kafka's synonyms of broker key `name` (its
 * chain, e.g. log.retention.ms, .minutes, .hours): every dynamic broker
 * value, then every dynamic default, static and default one, where set,
 * starting at the first entry of `name` itself (Kafka drops those before).
 * Returns the count (<= CONFIG_SYNONYMS_MAX). */
size_t config_broker_synonyms(const struct config *cfg, const char *name, struct config_synonym *out);
/* config_broker_synonym_chain - the same over name's whole chain, nothing
 * dropped: out[0] is the value that wins for the chain (a topic default
 * derived from log.retention.hours takes its source from there). */
size_t config_broker_synonym_chain(const struct config *cfg, const char *name, struct config_synonym *out);

/* config_source_kafka_code - the DescribeConfigs ConfigSource number Kafka
 * reports: DYNAMIC_TOPIC_CONFIG(1), STATIC_BROKER_CONFIG(4) for file, env and
 * override, DEFAULT_CONFIG(5). */
int config_source_kafka_code(enum config_source source);

const char *config_source_name(enum config_source source);
const char *config_type_name(enum config_type type);
const char *config_security_protocol_name(enum config_security_protocol sp);

/*
 * config_properties_parse - Java Properties.load over text: calls cb once per
 * key/value pair, in order, with NUL-terminated strings valid only during
 * the call.  A non-zero return from cb stops the parse and is returned.
 * Returns 0, ERR_LIMIT (a line over CONFIG_VALUE_BYTES_MAX), ERR_DECODE
 * (malformed \uXXXX) or -ENOMEM.  Bytes are passed through as UTF-8 (Java
 * reads ISO-8859-1; \uXXXX escapes are encoded to UTF-8).
 */
typedef int (*config_properties_parse_cb)(void *arg, const char *key, const char *value);
MUST_CHECK int config_properties_parse(const char *text, size_t len, void *arg,
                                       config_properties_parse_cb cb);

#endif
