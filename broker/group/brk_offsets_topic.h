/*
 * brk_offsets_topic.h - the records of __consumer_offsets, byte for byte as
 * Kafka writes them, and the magic-2 batches that carry them.
 *
 * Keys and values are an int16 version followed by the struct of Kafka's
 * group-coordinator schema in that version, described in
 * proto/kafka/<Name>.data and encoded/decoded by the generated codec:
 *
 *   key v0/v1  OffsetCommitKey    {group string, topic string, partition int32}
 *   key v2     GroupMetadataKey   {group string}
 *   value      OffsetCommitValue  v1 {offset, metadata, commitTimestamp, expireTimestamp}
 *                                 v3 {offset, leaderEpoch, metadata, commitTimestamp}
 *              written v1 when the commit carried a retention time, else v3
 *              (Kafka's rule; Burrow decodes v0/v1/v3 only)
 *   value      GroupMetadataValue v3 {protocolType, generation, protocol?,
 *              leader?, currentStateTimestamp, members[memberId,
 *              groupInstanceId?, clientId, clientHost, rebalanceTimeout,
 *              sessionTimeout, subscription bytes, assignment bytes]}
 *   a null value (tombstone) deletes the key's group or offset.
 *
 * Decoders take untrusted bytes (the log may have been written by anyone
 * with produce access): every length is bounds-checked (kwire), results
 * borrow the input.  They read value versions 0-3 (and v4, the flexible
 * one, skipping its tagged fields); unknown key versions (KIP-848 records)
 * are ERR_UNSUPPORTED so callers can skip them.
 *
 * Batches: brk_offsets_topic_batch_encode builds one uncompressed v2 batch
 * (producerId -1, CreateTime, CRC-32C) ready for brk_plog_append, which
 * patches baseOffset and the leader epoch.  brk_offsets_topic_batches_decode
 * walks a log read (brk_plog_read) record by record; compressed batches are
 * ERR_UNSUPPORTED (the coordinator never writes them) and control batches
 * are skipped.
 *
 * Not here: the coordinator state (brk_group), I/O.
 */
#ifndef SAMSA_BRK_OFFSETS_TOPIC_H
#define SAMSA_BRK_OFFSETS_TOPIC_H

#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/err.h"

#define BRK_OFFSETS_TOPIC_NAME "__consumer_offsets"
#define BRK_OFFSETS_TOPIC_KEY_OFFSET 1 /* OffsetCommitKey version we write */
#define BRK_OFFSETS_TOPIC_KEY_GROUP 2  /* GroupMetadataKey version */
#define BRK_OFFSETS_TOPIC_GROUP_VALUE_VERSION 3
#define BRK_OFFSETS_TOPIC_VALUE_VERSION_MAX 4 /* highest value version we read (both schemas) */
/* Members one GroupMetadataValue may carry when decoded (a named limit). */
#define BRK_OFFSETS_TOPIC_MEMBERS_MAX 10000

struct brk_offsets_topic_key {
    int16_t version;    /* 0/1: offset commit, 2: group metadata */
    struct bytes group;
    struct bytes topic; /* versions 0/1 only */
    int32_t partition;  /* versions 0/1 only */
};

struct brk_offsets_topic_offset {
    int64_t offset;
    int32_t leader_epoch;        /* -1: none (v3+) */
    struct bytes metadata;       /* never null on the wire */
    int64_t commit_timestamp_ms;
    int64_t expire_timestamp_ms; /* -1: none; >= 0 selects value v1 */
};

struct brk_offsets_topic_member {
    struct bytes member_id;
    struct bytes group_instance_id; /* nullable */
    struct bytes client_id;
    struct bytes client_host;
    int32_t rebalance_timeout_ms;
    int32_t session_timeout_ms;
    struct bytes subscription;
    struct bytes assignment;
};

struct brk_offsets_topic_group {
    struct bytes protocol_type;
    int32_t generation;
    struct bytes protocol; /* nullable */
    struct bytes leader;   /* nullable */
    int64_t current_state_timestamp_ms;
    int32_t member_count;
    const struct brk_offsets_topic_member *members;
};

/* One record of a batch; value.ptr == NULL is a tombstone. */
struct brk_offsets_topic_record {
    struct bytes key;
    struct bytes value;
};

/* brk_offsets_topic_java_hash - Java's String.hashCode of a UTF-8 string
 * (over UTF-16 code units; malformed UTF-8 counts as U+FFFD, like Java's
 * decoder). */
int32_t brk_offsets_topic_java_hash(struct bytes s);
/* brk_offsets_topic_partition_for - Kafka's placement:
 * Utils.abs(groupId.hashCode) % partition_count, where Utils.abs(n) is
 * (n == Integer.MIN_VALUE) ? 0 : Math.abs(n) (e.g. "cl-group" with 50 -> 43).
 * partition_count > 0 (asserted). */
int32_t brk_offsets_topic_partition_for(struct bytes group, int32_t partition_count);

/* Encoders append to b; ERR_LIMIT past b's ceiling or a string over 32767. */
MUST_CHECK int brk_offsets_topic_offset_key_encode(struct buf *b, struct bytes group, struct bytes topic,
                                                   int32_t partition);
MUST_CHECK int brk_offsets_topic_group_key_encode(struct buf *b, struct bytes group);
MUST_CHECK int brk_offsets_topic_offset_value_encode(struct buf *b, const struct brk_offsets_topic_offset *v);
MUST_CHECK int brk_offsets_topic_group_value_encode(struct buf *b, const struct brk_offsets_topic_group *g);

/* Decoders: ERR_DECODE on malformed input, ERR_UNSUPPORTED on an unknown
 * version.  Results borrow `in`; members are allocated in a. */
MUST_CHECK int brk_offsets_topic_key_decode(struct bytes in, struct brk_offsets_topic_key *out);
MUST_CHECK int brk_offsets_topic_offset_value_decode(struct bytes in, struct brk_offsets_topic_offset *out);
MUST_CHECK int brk_offsets_topic_group_value_decode(struct bytes in, struct arena *a,
                                                    struct brk_offsets_topic_group *out);

/* brk_offsets_topic_batch_encode - append one uncompressed v2 batch holding
 * recs[0..n) (n >= 1) with timestamps now_ms to out. */
MUST_CHECK int brk_offsets_topic_batch_encode(struct buf *out, const struct brk_offsets_topic_record *recs, int32_t n,
                                              int64_t now_ms);

typedef int (*brk_offsets_topic_record_cb)(void *arg, int64_t offset, const struct brk_offsets_topic_record *rec);

/*
 * brk_offsets_topic_batches_decode - call cb for every record of the whole
 * batches in `batches` (as brk_plog_read returns them), in order.  Checks
 * each batch's CRC; records are read with brk_records' iterator.  Returns
 * 0, ERR_CORRUPT / ERR_DECODE / ERR_LIMIT (bad bytes), ERR_UNSUPPORTED (a
 * compressed batch), or cb's first negative return.
 */
MUST_CHECK int brk_offsets_topic_batches_decode(struct bytes batches, void *arg, brk_offsets_topic_record_cb cb);

#endif
