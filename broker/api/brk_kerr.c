/*
 * brk_kerr.c - the one mapping from internal errors to Kafka error codes.
 */
#include "broker/api/brk_kerr.h"

#include <errno.h>

#include "common/err.h"
#include "common/log.h"

int16_t brk_kerr_from_err(int err)
{
    switch (err) {
    case 0: return KERR_NONE;
    case ERR_CORRUPT: return KERR_CORRUPT_MESSAGE;
    case ERR_NOT_FOUND: return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    case ERR_EXISTS: return KERR_TOPIC_ALREADY_EXISTS;
    case ERR_TOO_LARGE: return KERR_MESSAGE_TOO_LARGE;
    case ERR_INVALID: return KERR_INVALID_REQUEST;
    case ERR_UNSUPPORTED: return KERR_INVALID_RECORD;
    case ERR_NOT_LEADER: return KERR_NOT_LEADER_OR_FOLLOWER;
    case ERR_NOT_CONTROLLER: return KERR_NOT_CONTROLLER;
    case ERR_TIMEOUT: return KERR_REQUEST_TIMED_OUT;
    case ERR_OFFSET_RANGE: return KERR_OFFSET_OUT_OF_RANGE;
    case ERR_NO_SPACE: return KERR_KAFKA_STORAGE_ERROR;
    case ERR_INVALID_TOPIC: return KERR_INVALID_TOPIC_EXCEPTION;
    case ERR_INVALID_PARTITIONS: return KERR_INVALID_PARTITIONS;
    case ERR_INVALID_REPLICATION_FACTOR: return KERR_INVALID_REPLICATION_FACTOR;
    case ERR_INVALID_REPLICA_ASSIGNMENT: return KERR_INVALID_REPLICA_ASSIGNMENT;
    case ERR_INVALID_CONFIG: return KERR_INVALID_CONFIG;
    case ERR_OUT_OF_SEQUENCE: return KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    case ERR_PRODUCER_EPOCH: return KERR_INVALID_PRODUCER_EPOCH;
    case ERR_NO_REASSIGNMENT: return KERR_NO_REASSIGNMENT_IN_PROGRESS;
    case ERR_DUPLICATE_BROKER: return KERR_DUPLICATE_BROKER_REGISTRATION;
    case -EIO: case -ENOSPC: case -EROFS: case -EDQUOT: return KERR_KAFKA_STORAGE_ERROR;
    default: break;
    }
    log_error("kerr", "unmapped internal error err=%d (%s) answered as UNKNOWN_SERVER_ERROR; this is a bug", err,
              err_str(err));
    return KERR_UNKNOWN_SERVER_ERROR;
}
