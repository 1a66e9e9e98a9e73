/*
 * err.h - Samsa's own error codes and the MUST_CHECK marker.
 *
 * A fallible function returns int: 0 on success, negative on failure.  OS
 * failures are returned as -errno (captured at once); our own failures are
 * the ERR_* codes below, which live in a range no errno reaches.  Kafka
 * error codes never appear here: they are produced only at the protocol
 * edge by brk_kerr_from_err().
 */
#ifndef SAMSA_ERR_H
#define SAMSA_ERR_H

#define MUST_CHECK __attribute__((warn_unused_result))

enum err_code {
    ERR_FIRST = -100000,
    ERR_DECODE,        /* malformed bytes from the wire or disk */
    ERR_LIMIT,         /* a named maximum was exceeded */
    ERR_CORRUPT,       /* checksum or structure mismatch in stored data */
    ERR_CONFIG,        /* invalid configuration value */
    ERR_NOT_FOUND,     /* the named thing does not exist */
    ERR_EXISTS,        /* the named thing already exists */
    ERR_TOO_LARGE,     /* a message or batch is over its size limit */
    ERR_INVALID,       /* a well-formed request that asks for something invalid */
    ERR_UNSUPPORTED,   /* a version, codec or feature we do not implement */
    ERR_NOT_LEADER,    /* this node does not lead the partition or quorum */
    ERR_NOT_CONTROLLER,/* this node is not the active controller */
    ERR_TIMEOUT,       /* a deadline passed */
    ERR_OFFSET_RANGE,  /* an offset outside [log start, log end] */
    ERR_SHUTDOWN,      /* the node is stopping */
    ERR_STALE,         /* an epoch or incarnation older than ours */
    ERR_NO_SPACE,      /* ENOSPC surfaced as a storage error */
    ERR_INVALID_TOPIC, /* a topic name Kafka would reject */
    ERR_INVALID_PARTITIONS,          /* partition count <= 0 or not increasing */
    ERR_INVALID_REPLICATION_FACTOR,  /* replication factor <= 0 or > live brokers */
    ERR_INVALID_REPLICA_ASSIGNMENT,  /* a manual assignment Kafka would reject */
    ERR_INVALID_CONFIG,              /* an unknown config key or a bad value */
    ERR_OUT_OF_SEQUENCE,             /* an idempotent batch's sequence leaves a gap */
    ERR_PRODUCER_EPOCH,              /* an idempotent batch's producer epoch is older than the partition's */
    ERR_NO_REASSIGNMENT,             /* cancelling a partition reassignment that is not in progress */
    ERR_DUPLICATE_BROKER,            /* another live process is registered with this node.id (Kafka's
                                      * DUPLICATE_BROKER_REGISTRATION) */
    ERR_LAST
};

/* err_str - a static, human-readable name for an ERR_* code or -errno. */
const char *err_str(int err);

#endif
