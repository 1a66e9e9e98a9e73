/*
 * ctrl.h - the controller: admin operations in, committed metadata out.
 *
 * The controller plans each admin operation against the current image into
 * a batch of metadata records (ctrl_plan_*: pure, read-only), proposes the
 * batch to the quorum (ctrl_propose), and once it is committed applies the
 * records to the image and hands each one to the apply listener (the
 * broker opens or deletes partition logs there).
 *
 * Quorum: the Raft core (raft/) decides what is committed; this module is
 * its driver (tick, step, persist before send, apply, advance) and the
 * stable store under it is ctrl_mlog plus the quorum-state file.
 *
 * Not thread-safe: owned by the loop thread.
 */
#ifndef SAMSA_CTRL_H
#define SAMSA_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/err.h"
#include "controller/ctrl_env.h"
#include "controller/ctrl_image.h"
#include "metadata.pb-c.h"

#define CTRL_BATCH_RECORDS_MAX 200000
#define CTRL_TOPIC_CONFIGS_MAX 64

struct ctrl;
struct event_base;

#define CTRL_VOTERS_MAX 7
#define CTRL_PENDING_MAX 4096   /* proposals waiting for commit */

struct ctrl_voter {
    uint32_t id;
    char host[256];
    uint16_t port;
};

struct ctrl_config {
    int32_t node_id;
    const char *metadata_dir;     /* metadata.log.dir, else the first log dir */
    const char *cluster_id;
    struct event_base *base;
    bool listen;                  /* controller role: serve the controller listener */
    const char *listen_host;
    uint16_t listen_port;
    uint32_t voter_count;         /* controller.quorum.voters */
    struct ctrl_voter voters[CTRL_VOTERS_MAX];
    int64_t election_timeout_ms;  /* controller.quorum.election.timeout.ms */
    int64_t request_timeout_ms;   /* controller.quorum.request.timeout.ms: TCP_USER_TIMEOUT; 0 = kernel's */
    int64_t session_timeout_ms;   /* broker.session.timeout.ms: fence a silent broker */
    int64_t snapshot_bytes;       /* metadata.log.max.record.bytes.between.snapshots */
    int64_t tick_ms;              /* driver tick; 0 = 10 ms */
    bool unclean_leader_election; /* unclean.leader.election.enable (topic and dynamic configs override) */
    bool elr_enable;              /* eligible.leader.replicas.enable (KIP-966) */
    int32_t min_insync_replicas;  /* min.insync.replicas (topic and dynamic configs override); 0 = 1 */
    bool auto_leader_rebalance;   /* auto.leader.rebalance.enable */
    int64_t leader_imbalance_check_interval_ms;     /* leader.imbalance.check.interval.seconds; 0 = 300 s */
    int32_t leader_imbalance_per_broker_percentage; /* leader.imbalance.per.broker.percentage */
    bool uring_disabled;          /* samsa.io.uring=false: metadata syncs block the loop */
};

/* Called once per committed record, after the image applied it; with rec ==
 * NULL when the image was replaced wholesale by an installed snapshot (the
 * listener must then reconcile with the whole image). */
typedef void (*ctrl_apply_cb)(void *arg, const struct ctrl_image *img, const Samsa__MetadataRecord *rec,
                              int64_t offset);
/* Called once a proposal is committed (rc 0) or has failed (rc < 0). */
typedef void (*ctrl_commit_cb)(void *arg, int rc);
/* Called the first time this node has applied everything the quorum had
 * committed when it started (its image is current): reconcile, register. */
typedef void (*ctrl_caught_up_cb)(void *arg);

/* ctrl_create - open the metadata log and quorum state under
 * cfg->metadata_dir, start the Raft driver (a voter when node_id is in the
 * voters, an observer otherwise) on cfg->base.  Records reach `listener` as
 * they are committed, starting from the beginning of the log on every start
 * (replay).  Blocks only to open files. */
MUST_CHECK int ctrl_create(const struct ctrl_config *cfg, ctrl_apply_cb listener, ctrl_caught_up_cb caught_up,
                           void *arg, struct ctrl **out);
void ctrl_destroy(struct ctrl *c);

const struct ctrl_image *ctrl_metadata(const struct ctrl *c);
/* ctrl_active_id - node id of the active controller (Raft leader), -1 when unknown. */
int32_t ctrl_active_id(const struct ctrl *c);
bool ctrl_is_active(const struct ctrl *c);
/* ctrl_ready_to_plan - active, its image holds everything committed before
 * its term (an entry of its own epoch applied), and no fence is in flight:
 * ctrl_propose would take an admin batch now.  Otherwise (a new leader, a
 * broker being fenced) for a few milliseconds it would answer
 * ERR_NOT_CONTROLLER; the broker's dispatch waits instead. */
bool ctrl_ready_to_plan(const struct ctrl *c);
bool ctrl_caught_up(const struct ctrl *c);
/* ctrl_resign - the active controller steps down before a graceful stop:
 * EndQuorumEpoch goes to the other voters, which elect a successor at once
 * instead of waiting out the election timeout (KIP-595).  True when this
 * node was the leader and the notices are queued (see ctrl_unsent_bytes). */
bool ctrl_resign(struct ctrl *c);
/* ctrl_unsent_bytes - controller-listener bytes not yet handed to the kernel. */
size_t ctrl_unsent_bytes(const struct ctrl *c);

#define CTRL_OBSERVERS_MAX 64

/* One replica of the metadata log as the active controller sees it.
 * Offsets are Kafka-style: log_end_offset is the next offset. */
struct ctrl_replica_status {
    int32_t id;
    int64_t log_end_offset;     /* -1 unknown */
    int64_t last_fetch_ms;      /* wall clock, -1 unknown */
    int64_t last_caught_up_ms;  /* -1 unknown */
};

/* Quorum status for operators (kafka-metadata-quorum's view).  Voter and
 * observer progress is known on the active controller only. */
struct ctrl_quorum_status {
    int32_t leader_id;
    uint64_t epoch;
    uint64_t high_watermark;    /* Kafka-style: the next offset after the committed ones */
    uint64_t last_index;
    const char *role;
    uint32_t voter_count;
    struct ctrl_replica_status voters[CTRL_VOTERS_MAX];
    uint32_t observer_count;
    struct ctrl_replica_status observers[CTRL_OBSERVERS_MAX];
};
void ctrl_quorum_status_get(const struct ctrl *c, struct ctrl_quorum_status *out);

/* ctrl_propose - commit records as one entry through the quorum.  The
 * records are packed before it returns; the caller keeps ownership.  cb runs
 * later, from the loop, after the image applied the entry (rc 0), or with
 * ERR_NOT_CONTROLLER if leadership was lost first.  Returns
 * ERR_NOT_CONTROLLER at once on a node that is not the active controller. */
MUST_CHECK int ctrl_propose(struct ctrl *c, Samsa__MetadataRecord *const *recs, size_t n, ctrl_commit_cb cb,
                            void *arg);

/* ---- Typed controller RPCs (controller/README.md, "Controller RPCs") ----
 *
 * Brokers send requests, never records: the active controller validates
 * each against its own image and plans the records itself.  On the active
 * controller the call runs locally; elsewhere it goes to the active
 * controller as a frame (proto/quorum.proto).  Callbacks run later, from the
 * loop, with 0 once the records are committed and applied, or an error:
 * ERR_NOT_CONTROLLER (no leader known, or leadership lost), ERR_TIMEOUT, or
 * the controller's refusal. */

#define CTRL_RPC_VERSION_MAX 1   /* the highest message version we speak */

struct ctrl_registration {
    int32_t broker_id;
    uint8_t incarnation_id[16];  /* new at every process start */
    /* Kafka's PreviousBrokerEpoch (KIP-966): the epoch of this broker's last
     * clean stop (its clean-shutdown file), its current epoch when it
     * registers again while running, -1 when unknown (after a crash).  Any
     * value but the registered epoch is an unclean shutdown: with
     * eligible.leader.replicas.enable the broker leaves every ISR and ELR. */
    int64_t previous_broker_epoch;
    /* The incarnation id of the last process that started on this broker's
     * disks (read under the log-dir lock, so it is dead), or length 0 when
     * unknown.  The controller accepts a new incarnation whose predecessor is
     * the registered one at once; any other while the registered one's
     * lease is live is refused with ERR_DUPLICATE_BROKER
     * (controller/README.md, "Duplicate node ids").  Sent as given: a length
     * other than 0 or 16 is refused as malformed (ERR_INVALID). */
    uint8_t previous_incarnation_id[16];
    uint32_t previous_incarnation_len;   /* 0 (unknown) or 16; at most 16 */
    const struct ctrl_endpoint *endpoints;
    int32_t endpoint_count;
};
typedef void (*ctrl_register_cb)(void *arg, int rc, int64_t broker_epoch);
/* ctrl_register_broker - Kafka's BrokerRegistration; the controller assigns
 * the broker epoch (the previous one + 1) and passes it to cb.  cb's rc is
 * ERR_DUPLICATE_BROKER while another live process holds this node id's
 * registration (retry with backoff), other negatives for a retry. */
MUST_CHECK int ctrl_register_broker(struct ctrl *c, const struct ctrl_registration *reg, ctrl_register_cb cb,
                                    void *arg);

/* ctrl_create_topic - a broker's topic auto-creation: spec->partition_count
 * and spec->replication_factor must be resolved (> 0), configs are checked
 * by the controller.  ERR_EXISTS when the topic exists or is being created. */
struct ctrl_topic_spec;
MUST_CHECK int ctrl_create_topic(struct ctrl *c, const struct ctrl_topic_spec *spec, ctrl_commit_cb cb, void *arg);

struct ctrl_heartbeat {
    int32_t broker_id;
    int64_t broker_epoch;
    int64_t metadata_offset;   /* the last metadata offset this broker applied */
    bool want_fence;
    bool want_shut_down;
};
struct ctrl_heartbeat_reply {
    int rc;                    /* 0, ERR_STALE (register again), ERR_NOT_FOUND, ERR_INVALID */
    bool fenced;
    bool should_shut_down;     /* controlled shutdown done: stop now */
    int64_t broker_epoch;      /* of the heartbeat answered: one for another epoch (a dead
                                * predecessor's, or this process's before it registered
                                * again) is not this registration's and must be ignored */
};
typedef void (*ctrl_heartbeat_cb)(void *arg, const struct ctrl_heartbeat_reply *r);
/* ctrl_heartbeat_handler_set - where heartbeat answers go (this node's broker). */
void ctrl_heartbeat_handler_set(struct ctrl *c, ctrl_heartbeat_cb cb, void *arg);
/* ctrl_broker_heartbeat - renew the broker's lease with the active
 * controller (Kafka's BrokerHeartbeat; dropped when no leader is known).  The
 * answer reaches the heartbeat handler. */
void ctrl_broker_heartbeat(struct ctrl *c, const struct ctrl_heartbeat *hb);

/* ctrl_alter_partition - a partition leader's ISR change (Kafka's
 * AlterPartition, KIP-497/841/903).  The active controller checks, against
 * its image, in this order (broker/README.md, "ISR changes"): the sender is
 * registered and unfenced with broker_epoch (else STALE_BROKER_EPOCH); it is
 * the partition's leader in leader_epoch (FENCED_LEADER_EPOCH /
 * NOT_LEADER_OR_FOLLOWER); partition_epoch equals the image's
 * (INVALID_UPDATE_VERSION: compare-and-set); the ISR is within the
 * replicas, distinct, and holds the leader (INVALID_REQUEST); every other
 * member is registered, unfenced, not shutting down, with the broker epoch
 * given (-1: not checked, an old fetch version) (INELIGIBLE_REPLICA).  Then
 * it commits one PartitionChangeRecord (partition epoch + 1) and answers
 * with the committed state.  An ISR equal to the current one commits
 * nothing and answers the current state.  Refusals come through cb (rc 0,
 * error_code set), from the loop; rc ERR_NOT_CONTROLLER means "send it
 * again": no leader, leadership lost, or a fence, an election or another
 * change of this partition is in flight (planned only on an image that
 * holds them).  Returns ERR_INVALID at once for a broker_id that is not
 * this node (on the active controller) or a bad isr_count. */
/* Kafka error codes the controller answers AlterPartition and ElectLeaders
 * with (these requests' replies carry Kafka's codes: the broker passes them
 * through, brk_kerr.h has the same numbers). */
enum ctrl_kerr {
    CTRL_KERR_NONE = 0,
    CTRL_KERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    CTRL_KERR_NOT_LEADER_OR_FOLLOWER = 6,
    CTRL_KERR_INVALID_REQUEST = 42,
    CTRL_KERR_FENCED_LEADER_EPOCH = 74,
    CTRL_KERR_STALE_BROKER_EPOCH = 77,
    CTRL_KERR_PREFERRED_LEADER_NOT_AVAILABLE = 80,
    CTRL_KERR_ELIGIBLE_LEADERS_NOT_AVAILABLE = 83,
    CTRL_KERR_ELECTION_NOT_NEEDED = 84,
    CTRL_KERR_UNKNOWN_TOPIC_ID = 100,
    CTRL_KERR_INELIGIBLE_REPLICA = 107,
    CTRL_KERR_INVALID_UPDATE_VERSION = 108,
};

struct ctrl_alter_partition {
    int32_t broker_id;             /* the leader sending it: must be the caller */
    int64_t broker_epoch;
    uint8_t topic_id[16];
    int32_t partition_id;
    int32_t leader_epoch;
    int32_t partition_epoch;
    int32_t isr_count;
    int32_t isr[CTRL_REPLICAS_MAX];
    int64_t isr_broker_epochs[CTRL_REPLICAS_MAX];
};
struct ctrl_alter_partition_reply {
    int rc;                        /* 0: answered (see error_code); ERR_NOT_CONTROLLER, ERR_TIMEOUT */
    int16_t error_code;            /* Kafka's error code (0 none) */
    int32_t leader;                /* the committed state when error_code == 0 */
    int32_t leader_epoch;
    int32_t partition_epoch;
    int32_t isr_count;
    int32_t isr[CTRL_REPLICAS_MAX];
};
typedef void (*ctrl_alter_partition_cb)(void *arg, const struct ctrl_alter_partition_reply *r);
MUST_CHECK int ctrl_alter_partition(struct ctrl *c, const struct ctrl_alter_partition *req,
                                    ctrl_alter_partition_cb cb, void *arg);

/* ctrl_propose_election - propose leader elections planned on this image
 * (ctrl_plan_elect_leader; ElectLeaders runs on the active controller).
 * ERR_NOT_CONTROLLER (the caller retries) also while a fence or an ISR
 * change is in flight: no leader is chosen from an ISR about to change. */
MUST_CHECK int ctrl_propose_election(struct ctrl *c, Samsa__MetadataRecord *const *recs, size_t n,
                                     ctrl_commit_cb cb, void *arg);
/* ctrl_allocate_producer_ids - a broker's request for a block of producer
 * ids (Kafka's AllocateProducerIds, KIP-730).  The active controller checks
 * that broker_id is the caller, registered with broker_epoch (else
 * ERR_STALE), commits a ProducerIdsRecord moving the next block start past
 * the block, and cb gets 0 and the block [start, start + len) once it is
 * committed: no id is ever handed out twice, across controller failover
 * too.  Errors as for every typed RPC. */
#define CTRL_PRODUCER_ID_BLOCK_LEN 1000
typedef void (*ctrl_producer_ids_cb)(void *arg, int rc, int64_t start, int32_t len);
MUST_CHECK int ctrl_allocate_producer_ids(struct ctrl *c, int32_t broker_id, int64_t broker_epoch,
                                          ctrl_producer_ids_cb cb, void *arg);

/* Kafka request forwarding (brokers -> active controller).  The controller
 * module only carries the bytes; the broker registers the handler that runs
 * a forwarded request and answers with ctrl_forward_reply. */
typedef void (*ctrl_forward_handler_fn)(void *arg, uint32_t from, uint64_t request_id, struct bytes kafka_request);
typedef void (*ctrl_forward_done_cb)(void *arg, int rc, struct bytes kafka_response);
void ctrl_forward_handler_set(struct ctrl *c, ctrl_forward_handler_fn fn, void *arg);
/* ctrl_forward_request - send a Kafka request frame to the active controller;
 * cb gets 0 and the response frame, or ERR_NOT_CONTROLLER / ERR_TIMEOUT. */
MUST_CHECK int ctrl_forward_request(struct ctrl *c, struct bytes kafka_request, ctrl_forward_done_cb cb, void *arg);
void ctrl_forward_reply(struct ctrl *c, uint32_t to, uint64_t request_id, int err, struct bytes kafka_response);

/* A planned batch: records allocated in the caller's arena. */
struct ctrl_records {
    Samsa__MetadataRecord **recs;
    size_t count;
    size_t cap;
};

struct ctrl_config_kv {
    const char *name;
    const char *value;
};

struct ctrl_topic_spec {
    const char *name;
    size_t name_len;
    int32_t partition_count;      /* -1: use default_partitions */
    int16_t replication_factor;   /* -1: use default_replication_factor */
    int32_t assignment_count;     /* manual replica assignment, 0 if none */
    const int32_t *const *assignments;   /* assignment_count arrays of ... */
    const int32_t *assignment_lens;      /* ... these lengths */
    int32_t config_count;
    const struct ctrl_config_kv *configs; /* validated by the caller */
};

/* ctrl_plan_error_text - the operator- and client-facing sentence for a
 * planning error (Kafka's wording where Kafka has one). */
const char *ctrl_plan_error_text(int rc);

/* ctrl_topic_name_check - Kafka's topic name rules (1..249 of [a-zA-Z0-9._-],
 * not "." or ".."). */
MUST_CHECK int ctrl_topic_name_check(const char *name, size_t len);

/* ctrl_plan_random_hook - test hook (test/sim/csim.c): when set, planning
 * takes its random bytes (topic ids, placement) from it instead of
 * getrandom, so a simulated run replays exactly.  NULL in production. */
typedef void (*ctrl_plan_random_fn)(void *out, size_t len);
extern ctrl_plan_random_fn ctrl_plan_random_hook;

/* ctrl_plan_create_topic - records for a new topic with partitions placed on
 * the unfenced brokers of the image.  Errors: ERR_EXISTS, ERR_INVALID_TOPIC,
 * ERR_INVALID_PARTITIONS, ERR_INVALID_REPLICATION_FACTOR,
 * ERR_INVALID_REPLICA_ASSIGNMENT, ERR_LIMIT.  *effective_* report what the
 * topic gets after defaults. */
MUST_CHECK int ctrl_plan_create_topic(const struct ctrl_image *img, const struct ctrl_topic_spec *spec,
                                      int32_t default_partitions, int16_t default_replication_factor,
                                      struct arena *a, struct ctrl_records *out, int32_t *effective_partitions,
                                      int16_t *effective_replication_factor);
MUST_CHECK int ctrl_plan_delete_topic(const struct ctrl_image *img, const char *name, size_t len,
                                      struct arena *a, struct ctrl_records *out);
/* ctrl_plan_create_partitions - records for partitions [current, new_count):
 * placed like a new topic's, or, with assignment_count > 0 (exactly
 * new_count - current lists), on the given brokers after
 * ctrl_plan_assignment_check with the topic's replication factor.  Errors:
 * ERR_NOT_FOUND, ERR_INVALID_PARTITIONS, ERR_INVALID_REPLICATION_FACTOR,
 * ERR_INVALID_REPLICA_ASSIGNMENT, ERR_LIMIT. */
MUST_CHECK int ctrl_plan_create_partitions(const struct ctrl_image *img, const char *name, size_t len,
                                           int32_t new_count, const int32_t *const *assignments,
                                           const int32_t *assignment_lens, int32_t assignment_count,
                                           struct arena *a, struct ctrl_records *out);
/* ctrl_plan_assignment_check - Kafka's rules for a manual replica
 * assignment (ReplicationControlManager.validateManualPartitionAssignment):
 * every list non-empty (and at most CTRL_REPLICAS_MAX), of registered
 * brokers, each broker once, every list rf long (rf < 0: as long as the
 * first), with at least one unfenced broker.  first_partition is the first
 * list's partition index (for messages).  0, or ERR_INVALID_REPLICA_ASSIGNMENT
 * with Kafka's message in msg (msg may be NULL). */
MUST_CHECK int ctrl_plan_assignment_check(const struct ctrl_image *img, const int32_t *const *assignments,
                                          const int32_t *lens, int32_t count, int32_t rf, int32_t first_partition,
                                          char *msg, size_t msg_size);
/* ctrl_plan_config - one config change (value NULL = delete the override).
 * resource_type is Kafka's (2 topic, 4 broker). */
MUST_CHECK int ctrl_plan_config(const struct ctrl_image *img, int resource_type, const char *resource_name,
                                const char *name, const char *value, struct arena *a, struct ctrl_records *out);
/* The controller's election policy: the static defaults behind the topic
 * and cluster-wide dynamic configs (ctrl_plan_unclean_enabled,
 * ctrl_plan_min_isr). */
struct ctrl_plan_policy {
    bool unclean_default;        /* unclean.leader.election.enable */
    bool elr_enabled;            /* eligible.leader.replicas.enable (KIP-966) */
    int32_t min_isr_default;     /* min.insync.replicas; < 1 counts as 1 */
};
/* ctrl_plan_client_quota - one ClientQuotaRecord: key of the entity (a
 * user and/or a client id, ctrl_image.h) set to value, or removed.  The
 * caller checks the key and the value (Kafka's rules, brk_h_quotas). */
MUST_CHECK int ctrl_plan_client_quota(const struct ctrl_quota_part *user, const struct ctrl_quota_part *client_id,
                                      const char *key, double value, bool remove, struct arena *a,
                                      struct ctrl_records *out);
/* ctrl_plan_fence - fence (or unfence) a broker: its registration change
 * and the partition changes that follow (Kafka KRaft's rules,
 * broker/README.md "Elections"): fencing removes the broker from every ISR
 * where it is not the last member (with ELR: from every ISR) and replaces it
 * as leader by the first unfenced ISR member in replicas order (the
 * preferred replica first), else (ELR) by the first unfenced eligible leader
 * replica, else (ELR) by an unfenced last known ELR member, else, when
 * unclean election is allowed (ctrl_plan_unclean_enabled), by the first live
 * replica with the ISR [it], else by none (-1).  With ELR, members leaving
 * an ISR that ends below min.insync.replicas (ctrl_plan_min_isr) become
 * eligible leader replicas; an ISR back at min.insync.replicas clears the
 * ELR.  Unfencing gives each leaderless partition a leader by the same
 * order. */
MUST_CHECK int ctrl_plan_fence(const struct ctrl_image *img, int32_t broker_id, bool fenced,
                               const struct ctrl_plan_policy *pol, struct arena *a, struct ctrl_records *out);
/* ctrl_plan_unfence_elects - would unfencing broker_id (now, or again)
 * give a leaderless partition a leader? */
bool ctrl_plan_unfence_elects(const struct ctrl_image *img, int32_t broker_id, const struct ctrl_plan_policy *pol);
/* ctrl_plan_new_incarnation - broker_id registers as a new incarnation
 * (another incarnation id than the image's; Kafka's handleBrokerShutdown at
 * registration): the previous incarnation's partition roles end in the same
 * batch, so the new one, catching up to its registration, never acts on
 * them.  After an unclean shutdown with ELR: ctrl_plan_unclean_shutdown.
 * Otherwise (clean, or ELR off) as if the broker were fenced
 * (ctrl_plan_fence's rules): it leaves the ISRs (not as the last member
 * without ELR) and another live member leads; where none can, it leads
 * again in a new leader epoch (leader -1, then it: two changes), as
 * unfencing it would elect it.  *changed counts the partitions. */
MUST_CHECK int ctrl_plan_new_incarnation(const struct ctrl_image *img, int32_t broker_id, bool clean,
                                         const struct ctrl_plan_policy *pol, struct arena *a,
                                         struct ctrl_records *out, int32_t *changed);
/* ctrl_plan_unclean_shutdown - KIP-966: broker_id registers again after an
 * unclean shutdown (it may have lost an unflushed tail): the partition
 * changes that take it out of every ISR and ELR (a leader it was replaced
 * by the rules of ctrl_plan_fence, the broker counted as live since its new
 * registration is).  Nothing when pol->elr_enabled is off (Kafka 3.x
 * keeps such a broker in the ISR).  *changed counts the partitions. */
MUST_CHECK int ctrl_plan_unclean_shutdown(const struct ctrl_image *img, int32_t broker_id,
                                          const struct ctrl_plan_policy *pol, struct arena *a,
                                          struct ctrl_records *out, int32_t *changed);
/* ctrl_plan_unclean_enabled - unclean.leader.election.enable of topic t:
 * the topic's config, else the cluster-wide dynamic broker config, else
 * unclean_default (the controller's static config). */
struct ctrl_topic;
bool ctrl_plan_unclean_enabled(const struct ctrl_image *img, const struct ctrl_topic *t, bool unclean_default);
/* ctrl_plan_min_isr - the effective min.insync.replicas of topic t: the
 * topic's config, else the cluster-wide dynamic broker config, else
 * min_isr_default, at most the replication factor (Kafka's
 * getTopicEffectiveMinIsr) and at least 1. */
int32_t ctrl_plan_min_isr(const struct ctrl_image *img, const struct ctrl_topic *t, const struct ctrl_partition *cp,
                          int32_t min_isr_default);
/* ctrl_plan_alter_partition - check an AlterPartition against the image
 * (the order of ctrl_alter_partition; a topic id the image does not hold is
 * UNKNOWN_TOPIC_ID, a partition it does not hold UNKNOWN_TOPIC_OR_PARTITION,
 * both after the broker epoch check) and plan its PartitionChangeRecord.
 * shutting_down lists the brokers in controlled shutdown (the active
 * controller's leases: not in the image).  Returns 0 with r->error_code set
 * and nothing in out (refused), or 0 with r the state to answer: one record
 * in out (partition epoch + 1), or none when the ISR is the current one.
 * With pol->elr_enabled the record also carries the ELR (members leaving an
 * ISR below min.insync.replicas join it; an ISR at min.insync.replicas
 * clears it).  ERR_LIMIT when the arena is full. */
MUST_CHECK int ctrl_plan_alter_partition(const struct ctrl_image *img, const struct ctrl_alter_partition *req,
                                         const int32_t *shutting_down, int32_t shutting_down_count,
                                         const struct ctrl_plan_policy *pol, struct arena *a,
                                         struct ctrl_records *out, struct ctrl_alter_partition_reply *r);
enum ctrl_election_type {
    CTRL_ELECTION_PREFERRED = 0,   /* Kafka's ElectionType 0 */
    CTRL_ELECTION_UNCLEAN = 1,
};
/* ctrl_plan_elect_leader - one partition of ElectLeaders (Kafka's rules):
 * PREFERRED elects the first replica when it is in the ISR and unfenced
 * (ELECTION_NOT_NEEDED when it leads, PREFERRED_LEADER_NOT_AVAILABLE when
 * it cannot); UNCLEAN elects, for a partition without a leader, the first
 * unfenced ISR member, else the first unfenced eligible leader replica, else
 * an unfenced last known ELR member, else the first unfenced replica with
 * the ISR [it]
 * (ELECTION_NOT_NEEDED when it has a leader, ELIGIBLE_LEADERS_NOT_AVAILABLE
 * when no replica is alive).  t NULL or a partition it does not hold:
 * UNKNOWN_TOPIC_OR_PARTITION.  *error_code 0: one record appended. */
MUST_CHECK int ctrl_plan_elect_leader(const struct ctrl_image *img, enum ctrl_election_type type,
                                      const struct ctrl_topic *t, int32_t partition_id, struct arena *a,
                                      struct ctrl_records *out, int16_t *error_code);
/* ctrl_plan_rebalance - auto.leader.rebalance: for every broker whose share
 * of partitions it prefers (first replica) but does not lead is above
 * imbalance_pct percent, the preferred elections that can run (Kafka's
 * checkAndTriggerAutoLeaderRebalance).  *count is the number planned. */
MUST_CHECK int ctrl_plan_rebalance(const struct ctrl_image *img, int32_t imbalance_pct, struct arena *a,
                                   struct ctrl_records *out, int32_t *count);
/* ctrl_plan_reassign - AlterPartitionReassignments for one partition
 * (KIP-455).  target_count >= 0: move to target (distinct, registered
 * brokers): replicas become target + the current ones not in it, with the
 * adding and removing sets recorded; a change that adds no replica (a
 * shrink, a reorder) completes at once.  target_count < 0: cancel, back to
 * the original replicas (ISR minus the adding ones).  The leader stays
 * unless it left the replicas or the ISR (then the first live target
 * replica in the ISR, else none).  At most one PartitionChangeRecord;
 * none when nothing changes.  Errors: ERR_NOT_FOUND (topic or partition),
 * ERR_INVALID_REPLICA_ASSIGNMENT, ERR_NO_REASSIGNMENT (cancel with none in
 * progress), ERR_LIMIT. */
MUST_CHECK int ctrl_plan_reassign(const struct ctrl_image *img, const char *topic, size_t topic_len,
                                  int32_t partition_id, const int32_t *target, int32_t target_count,
                                  struct arena *a, struct ctrl_records *out);
/* ctrl_plan_reassign_complete - the final step of cp's reassignment once
 * every adding replica is in its ISR: replicas = target, ISR minus the
 * removing replicas, the leader moved into the target if needed.  Returns
 * 1 with the record planned, 0 when not ready (or none in progress). */
MUST_CHECK int ctrl_plan_reassign_complete(const struct ctrl_image *img, const struct ctrl_topic *t,
                                           const struct ctrl_partition *cp, struct arena *a,
                                           struct ctrl_records *out);
/* ctrl_plan_register_broker - the registration record of a broker with its
 * advertised endpoints and the epoch the active controller assigned. */
MUST_CHECK int ctrl_plan_register_broker(int32_t broker_id, int64_t broker_epoch, const uint8_t *incarnation_id,
                                         const struct ctrl_endpoint *eps, int32_t ep_count, struct arena *a,
                                         struct ctrl_records *out);

/* ---- The driver over an environment (controller/ctrl_env.h): ctrl_create
 * (ctrl_wire.c) wires the real storage, transport and clock; the simulator
 * (test/sim/csim.c) wires simulated ones. ---- */

/* ctrl_create_env - start the driver over env (cfg->base, listen_* and the
 * voters' addresses are not used: the transport owns them).  Reads the
 * snapshot, quorum state and log through env->storage.  env is copied and
 * its release hook is owned from here on: called by ctrl_destroy, or at
 * once when this fails. */
MUST_CHECK int ctrl_create_env(const struct ctrl_config *cfg, const struct ctrl_env *env, ctrl_apply_cb listener,
                               ctrl_caught_up_cb caught_up, void *arg, struct ctrl **out);
/* ctrl_tick - one driver tick (cfg->tick_ms of time passed). */
void ctrl_tick(struct ctrl *c);
/* ctrl_on_frame - a decoded frame from node `from` (the transport's
 * callback); f is borrowed for the call. */
void ctrl_on_frame(void *ctrl, uint32_t from, const Samsa__ControllerFrame *f);
/* ctrl_applied_index - the Raft index the image has applied (tests). */
uint64_t ctrl_applied_index(const struct ctrl *c);
/* ctrl_request_id_last - the request id of the last controller RPC this
 * process sent (before any: the random start, see ctrl_create_env) (tests). */
uint64_t ctrl_request_id_last(const struct ctrl *c);

#endif
