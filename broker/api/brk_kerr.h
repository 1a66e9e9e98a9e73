/*
 * brk_kerr.h - Kafka protocol error codes, used only at the protocol edge.
 *
 * Internally Samsa speaks -errno and ERR_*; handlers turn a result into a
 * Kafka code with brk_kerr_from_err() and nowhere else.
 */
#ifndef SAMSA_BRK_KERR_H
#define SAMSA_BRK_KERR_H

#include <stdint.h>

enum brk_kerr {
    KERR_UNKNOWN_SERVER_ERROR = -1,
    KERR_NONE = 0,
    KERR_OFFSET_OUT_OF_RANGE = 1,
    KERR_CORRUPT_MESSAGE = 2,
    KERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    KERR_LEADER_NOT_AVAILABLE = 5,
    KERR_NOT_LEADER_OR_FOLLOWER = 6,
    KERR_REQUEST_TIMED_OUT = 7,
    KERR_MESSAGE_TOO_LARGE = 10,
    KERR_INVALID_TOPIC_EXCEPTION = 17,
    KERR_RECORD_LIST_TOO_LARGE = 18,
    KERR_NOT_ENOUGH_REPLICAS = 19,
    KERR_INVALID_REQUIRED_ACKS = 21,
    KERR_INVALID_TIMESTAMP = 32,
    KERR_UNSUPPORTED_VERSION = 35,
    KERR_TOPIC_ALREADY_EXISTS = 36,
    KERR_INVALID_PARTITIONS = 37,
    KERR_INVALID_REPLICATION_FACTOR = 38,
    KERR_INVALID_REPLICA_ASSIGNMENT = 39,
    KERR_INVALID_CONFIG = 40,
    KERR_NOT_CONTROLLER = 41,
    KERR_INVALID_REQUEST = 42,
    KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
    KERR_POLICY_VIOLATION = 44,
    KERR_KAFKA_STORAGE_ERROR = 56,
    KERR_TOPIC_DELETION_DISABLED = 73,
    KERR_UNSUPPORTED_COMPRESSION_TYPE = 76,
    KERR_NO_REASSIGNMENT_IN_PROGRESS = 85,
    KERR_INVALID_RECORD = 87,
};

/* brk_kerr_from_err - the Kafka code for an internal result (0 -> NONE).
 * Unmappable codes become UNKNOWN_SERVER_ERROR and are logged as bugs. */
int16_t brk_kerr_from_err(int err);

#endif
