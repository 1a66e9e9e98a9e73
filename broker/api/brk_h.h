/*
 * brk_h.h - the per-API request handlers (brk_h_*.c).
 *
 * Each handler decodes req->body at req->hdr.api_version into req->arena,
 * does the work, and answers with BRK_RESPOND (or later, asynchronously).
 * A body that does not decode closes the connection (brk_req_malformed).
 */
#ifndef SAMSA_BRK_H_H
#define SAMSA_BRK_H_H

#include <stdbool.h>
#include <stddef.h>

#include "broker/net/brk_req.h"
#include "broker/brk_ctx.h"
#include "controller/ctrl_image.h"

void brk_h_produce(struct brk_req *req);
void brk_h_fetch(struct brk_req *req);
void brk_h_list_offsets(struct brk_req *req);
void brk_h_offset_for_leader_epoch(struct brk_req *req);
void brk_h_metadata(struct brk_req *req);
void brk_h_create_topics(struct brk_req *req);
void brk_h_delete_topics(struct brk_req *req);
void brk_h_delete_records(struct brk_req *req);
void brk_h_describe_configs(struct brk_req *req);
/* Dynamic broker configs (brk_h_configs.c): is rec a broker ConfigRecord
 * for this broker or the cluster default?  brk_configs_refresh re-fills the
 * configuration's dynamic layers from the image (the broker then
 * reconfigures its partitions). */
struct Samsa__MetadataRecord;
bool brk_configs_dynamic_record(const struct brk_ctx *srv, const struct Samsa__MetadataRecord *rec);
void brk_configs_refresh(struct brk_ctx *srv, const struct ctrl_image *img);
void brk_h_alter_configs(struct brk_req *req);
void brk_h_create_partitions(struct brk_req *req);
void brk_h_incremental_alter_configs(struct brk_req *req);
void brk_h_describe_cluster(struct brk_req *req);
/* DescribeTopicPartitions (brk_h_dtp.c, KIP-966): partitions with their ELR, paged. */
void brk_h_describe_topic_partitions(struct brk_req *req);
void brk_h_describe_quorum(struct brk_req *req);
void brk_h_describe_log_dirs(struct brk_req *req);
void brk_h_alter_partition_reassignments(struct brk_req *req);
void brk_h_list_partition_reassignments(struct brk_req *req);
void brk_h_find_coordinator(struct brk_req *req);
void brk_h_offset_delete(struct brk_req *req);
void brk_h_join_group(struct brk_req *req);
void brk_h_sync_group(struct brk_req *req);
void brk_h_heartbeat(struct brk_req *req);
void brk_h_leave_group(struct brk_req *req);
void brk_h_offset_commit(struct brk_req *req);
void brk_h_offset_fetch(struct brk_req *req);
void brk_h_describe_groups(struct brk_req *req);
void brk_h_list_groups(struct brk_req *req);
void brk_h_delete_groups(struct brk_req *req);
void brk_h_elect_leaders(struct brk_req *req);
void brk_h_init_producer_id(struct brk_req *req);
/* Client quotas (brk_h_quotas.c): stored and shown, not enforced. */
void brk_h_describe_client_quotas(struct brk_req *req);
void brk_h_alter_client_quotas(struct brk_req *req);
/* brk_h_producer_stop - free the producer-id blocks; after ctrl_destroy. */
void brk_h_producer_stop(struct brk_ctx *srv);
/* brk_h_group_start - create the group coordinator and replay the
 * __consumer_offsets partitions this node leads (blocks on reads); call once
 * the local partitions have taken their roles (brk_parts_roles_release).
 * Starts its timer. */
MUST_CHECK int brk_h_group_start(struct brk_ctx *srv);
/* brk_h_group_follow - after a metadata record (NULL: a snapshot) was
 * applied to the partitions: groups follow their __consumer_offsets
 * partition.  A partition this node came to lead is loaded from its log
 * soon after (COORDINATOR_LOAD_IN_PROGRESS meanwhile); one it stopped
 * leading has its groups dropped (NOT_COORDINATOR to their members). */
void brk_h_group_follow(struct brk_ctx *srv, const Samsa__MetadataRecord *rec);
/* brk_h_group_stop - after in-flight appends drained (their callbacks use it). */
void brk_h_group_stop(struct brk_ctx *srv);

#endif

/* Asynchronous admin commits (brk_h_admin.c).  A handler sets
 * req->pending = 1 while it starts commits, calls brk_admin_commit for each
 * result slot, then brk_admin_release: `respond` runs once every commit has
 * finished (at once if none was started).  brk_admin_commit returns 0 when
 * the records were proposed (the slot's error code, and message when the
 * commit fails, are filled in later), or a negative code the caller reports
 * itself (ERR_NOT_CONTROLLER on a node that is not the active controller).
 * check_topic_id: for creations, the commit only counts if that topic id won
 * (another request may have created the same name first). */
struct ctrl_records;
MUST_CHECK int brk_admin_commit(struct brk_req *req, const struct ctrl_records *recs, int16_t *error_code,
                                struct bytes *error_message, const uint8_t *check_topic_id, brk_handler_fn respond);
/* brk_admin_commit_election - brk_admin_commit for leader elections
 * (ctrl_propose_election). */
MUST_CHECK int brk_admin_commit_election(struct brk_req *req, const struct ctrl_records *recs, int16_t *error_code,
                                         struct bytes *error_message, brk_handler_fn respond);
void brk_admin_release(struct brk_req *req, brk_handler_fn respond);
/* brk_auto_create_topic - Metadata/Produce auto-creation when
 * auto.create.topics.enable is on; 0 if the topic exists afterwards. */
MUST_CHECK int brk_auto_create_topic(struct brk_ctx *srv, struct arena *a, struct bytes name);
/* brk_h_group_offsets_topic_ensure - create __consumer_offsets (offsets.topic.*
 * settings) if it does not exist; asynchronous: COORDINATOR_NOT_AVAILABLE
 * until it does, which clients retry; srv->groups_topic_creating while the
 * creation is in flight.  Group requests and Metadata auto-creation. */
int16_t brk_h_group_offsets_topic_ensure(struct brk_ctx *srv);
/* brk_endpoint_for - this broker's endpoint for the listener a request came
 * in on, from the image; NULL when that listener is not advertised. */
const struct ctrl_endpoint *brk_endpoint_for(const struct ctrl_broker *b, const char *listener_name);
/* brk_arena_cstr - NUL-terminated copy of a wire string in the arena. */
char *brk_arena_cstr(struct arena *a, struct bytes s);
