/*
 * brk_h_logdirs.c - DescribeLogDirs (kafka-log-dirs.sh --describe).
 *
 * Every broker answers about itself: one result per entry of log.dirs (the
 * absolute path, as Kafka reports it), the volume's total and usable bytes
 * (statvfs, v4), and each local partition in that dir with its size
 * (brk_plog_size_bytes) and offset lag (a follower's distance to its
 * leader's high watermark).  A dir statvfs cannot read is
 * reported with KAFKA_STORAGE_ERROR and no partitions, as Kafka reports an
 * offline dir.  There are no future logs (AlterReplicaLogDirs is not
 * served), so is_future_key is always false.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "broker/api/brk_h.h"
#include "broker/api/brk_kerr.h"
#include "broker/log/brk_part.h"
#include "broker/replica/brk_replica.h"
#include "common/config.h"

/* logdirs_offset_lag - how far this replica's log end is behind: 0 on the
 * leader (the reference); on a follower, the leader's high watermark from
 * its last fetch response minus its own log end (brk_replica_follower_lag),
 * so a replica catching up (a reassignment, a throttled or slow follower)
 * shows what it still has to fetch, and 0 once caught up.  Kafka reports
 * the local HW minus the log end, which on a follower (HW = min(leader HW,
 * log end)) is always 0; 0 too before the follower's first response. */
static int64_t logdirs_offset_lag(const struct brk_part *part)
{
    if (part->is_leader)
        return 0;
    int64_t lag = brk_replica_follower_lag(part);
    return lag > 0 ? lag : 0;
}

/* The request's filter: null = every topic; else the named topics'
 * listed partitions. */
static bool logdirs_wanted(const struct kmsg_describe_log_dirs_req *m, const struct brk_part *part)
{
    if (m->topics_count < 0)
        return true;
    for (int32_t i = 0; i < m->topics_count; i++) {
        const struct kmsg_describe_log_dirs_req_topic *t = &m->topics[i];
        if (t->topic.len != strlen(part->topic) || memcmp(t->topic.ptr, part->topic, t->topic.len) != 0)
            continue;
        for (int32_t j = 0; j < t->partitions_count; j++)
            if (t->partitions[j] == part->partition)
                return true;
    }
    return false;
}

static int logdirs_cmp(const void *a, const void *b)
{
    const struct brk_part *x = *(const struct brk_part *const *)a, *y = *(const struct brk_part *const *)b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

/* logdirs_fill - r's topics from the dir's partitions, sorted by topic and
 * partition (parts is scratch of at least n entries). */
static int logdirs_fill(struct arena *a, struct brk_part **parts, int32_t n, struct kmsg_describe_log_dirs_resp_result *r)
{
    qsort(parts, (size_t)n, sizeof *parts, logdirs_cmp);
    int32_t topics = 0;
    for (int32_t i = 0; i < n; i++)
        if (i == 0 || strcmp(parts[i]->topic, parts[i - 1]->topic) != 0)
            topics++;
    r->topics = arena_alloc_array(a, (size_t)(topics ? topics : 1), sizeof *r->topics);
    if (!r->topics)
        return ERR_LIMIT;
    r->topics_count = 0;
    for (int32_t i = 0; i < n;) {
        int32_t j = i;
        while (j < n && strcmp(parts[j]->topic, parts[i]->topic) == 0)
            j++;
        struct kmsg_describe_log_dirs_resp_topic *t = &r->topics[r->topics_count++];
        kmsg_describe_log_dirs_resp_topic_init(t);
        t->name = bytes_cstr(parts[i]->topic);
        t->partitions = arena_alloc_array(a, (size_t)(j - i), sizeof *t->partitions);
        if (!t->partitions)
            return ERR_LIMIT;
        t->partitions_count = j - i;
        for (int32_t k = i; k < j; k++) {
            struct kmsg_describe_log_dirs_resp_partition *p = &t->partitions[k - i];
            kmsg_describe_log_dirs_resp_partition_init(p);
            p->partition_index = parts[k]->partition;
            p->partition_size = brk_plog_size_bytes(parts[k]->plog);
            p->offset_lag = logdirs_offset_lag(parts[k]);
            p->is_future_key = false;
        }
        i = j;
    }
    return 0;
}

void brk_h_describe_log_dirs(struct brk_req *req)
{
    struct brk_ctx *srv = brk_req_ctx(req);
    struct kmsg_describe_log_dirs_req m;
    int rc = kmsg_describe_log_dirs_req_decode(&req->body, req->hdr.api_version, &req->arena, &m);
    if (rc < 0) {
        brk_req_malformed(req, rc);
        return;
    }
    struct kmsg_describe_log_dirs_resp resp;
    kmsg_describe_log_dirs_resp_init(&resp);
    int32_t dirs = (int32_t)srv->node->log_dir_count;
    int32_t part_count = brk_parts_count(srv->parts);
    resp.results = arena_alloc_array(&req->arena, (size_t)(dirs ? dirs : 1), sizeof *resp.results);
    struct brk_part **scratch = arena_alloc_array(&req->arena, (size_t)(part_count ? part_count : 1), sizeof *scratch);
    if (!resp.results || !scratch) {
        brk_req_finish(req, ERR_LIMIT);
        return;
    }
    resp.results_count = dirs;
    for (int32_t d = 0; d < dirs; d++) {
        struct kmsg_describe_log_dirs_resp_result *r = &resp.results[d];
        kmsg_describe_log_dirs_resp_result_init(r);
        const char *dir = srv->node->log_dirs[d];
        char *abs = arena_alloc(&req->arena, PATH_MAX);
        r->log_dir = bytes_cstr(abs && realpath(dir, abs) ? abs : dir);
        struct statvfs vfs;
        if (statvfs(dir, &vfs) != 0) {
            r->error_code = KERR_KAFKA_STORAGE_ERROR;
            continue;
        }
        r->total_bytes = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
        r->usable_bytes = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
        int32_t n = 0;
        for (int32_t i = 0; i < part_count; i++) {
            struct brk_part *part = brk_parts_at(srv->parts, i);
            if (part->log_dir_index == d && part->plog && logdirs_wanted(&m, part))
                scratch[n++] = part;
        }
        if (logdirs_fill(&req->arena, scratch, n, r) < 0) {
            brk_req_finish(req, ERR_LIMIT);
            return;
        }
    }
    BRK_RESPOND(req, describe_log_dirs, &resp);
}
