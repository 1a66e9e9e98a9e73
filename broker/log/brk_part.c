/*
 * brk_part.c - local partitions: which exist, where they live, their config.
 *
 * The table is an open-addressing hash on (topic id, partition) over
 * heap-allocated entries; entries are created and removed only when
 * committed metadata says so.
 *
 * Removal never waits for the disk: the entry leaves the table, its waiters
 * hear BRK_PART_GONE and its directory is renamed "-delete" at once (a topic
 * created again under the same name gets a fresh directory); the log then
 * closes on its own completions (brk_plog_close) and the entry is freed and
 * the directory removed when it has (part_closed).  Until then the entry
 * is counted in closing_count; shutdown drains the uring for them.
 */
#include "broker/log/brk_part.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/brk_ckpt.h"
#include "broker/log/brk_pstore.h"
#include "broker/brk_config.h"
#include "broker/brk_ctx.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/log.h"

#define BRK_PARTS_MAX 200000
#define BRK_CKPT_ENTRIES_MAX 200000

struct brk_parts {
    struct brk_ctx *srv;
    struct brk_part **slots;  /* hash; NULL empty */
    int32_t slot_count;       /* power of two */
    struct brk_part **list;   /* dense, for iteration */
    int32_t count;
    int32_t cap;
    int32_t per_dir[CONFIG_LOG_DIRS_MAX];
    struct brk_ckpt_entry *start_hints;  /* log-start-offset-checkpoint at boot */
    size_t start_hint_count;
    struct brk_plog_shared plog_shared;  /* direct appends: settings, tail-buffer budget */
    int32_t closing_count;               /* removed entries whose logs are still closing */
    struct brk_parts_hooks hooks;        /* the replication role above (all NULL: none) */
    bool roles_held;                     /* start-up: no partition leads or follows (brk_parts_roles_hold) */
};

static uint64_t part_hash(const uint8_t id[16], int32_t partition)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < 16; i++) {
        h ^= id[i];
        h *= 1099511628211ULL;
    }
    h ^= (uint64_t)(uint32_t)partition;
    h *= 1099511628211ULL;
    return h;
}

static int parts_rehash(struct brk_parts *parts, int32_t slot_count)
{
    struct brk_part **slots = calloc((size_t)slot_count, sizeof *slots);
    if (!slots)
        return -ENOMEM;
    uint64_t mask = (uint64_t)slot_count - 1;
    for (int32_t i = 0; i < parts->count; i++) {
        struct brk_part *p = parts->list[i];
        for (uint64_t s = part_hash(p->topic_id, p->partition) & mask;; s = (s + 1) & mask)
            if (!slots[s]) {
                slots[s] = p;
                break;
            }
    }
    free(parts->slots);
    parts->slots = slots;
    parts->slot_count = slot_count;
    return 0;
}

static void read_start_hints(struct brk_parts *parts)
{
    const struct config_node *node = parts->srv->node;
    for (size_t d = 0; d < node->log_dir_count; d++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", node->log_dirs[d], BRK_CKPT_LOG_START);
        size_t cap = BRK_CKPT_ENTRIES_MAX - parts->start_hint_count;
        size_t n = 0;
        int rc = brk_ckpt_read(path, parts->start_hints + parts->start_hint_count, cap, &n);
        if (rc == -ENOENT)
            continue;
        if (rc < 0) {
            log_warn("parts", "ignoring unreadable checkpoint path=%s error=\"%s\"; log start offsets fall back to "
                     "the first segment", path, err_str(rc));
            continue;
        }
        parts->start_hint_count += n;
    }
}

int brk_parts_create(struct brk_ctx *srv, struct brk_parts **out)
{
    struct brk_parts *parts = calloc(1, sizeof *parts);
    if (!parts)
        return -ENOMEM;
    parts->srv = srv;
    brk_plog_shared_init(&parts->plog_shared, srv->node->log_direct_io != 0, srv->node->log_tail_buffer_bytes,
                         srv->node->log_tail_buffers_max_bytes);
    int fault = brk_plog_test_fault_from_env(&parts->plog_shared);
    if (fault < 0) {
        log_error("parts", "SAMSA_TEST_ONLY_FSYNC_FAULT is malformed value=\"%s\" fix=\"unset it: it is a test-only "
                  "fault hook (delay_ms:N or fail)\"", getenv("SAMSA_TEST_ONLY_FSYNC_FAULT"));
        free(parts);
        return ERR_CONFIG;
    }
    if (fault > 0)
        log_warn("parts", "TEST ONLY fault hook active: SAMSA_TEST_ONLY_FSYNC_FAULT=\"%s\" delays or fails this node's "
                 "samsa.acks.all.fsync syncs; never set it outside tests", getenv("SAMSA_TEST_ONLY_FSYNC_FAULT"));
    parts->start_hints = calloc(BRK_CKPT_ENTRIES_MAX, sizeof *parts->start_hints);
    if (!parts->start_hints || parts_rehash(parts, 1024) < 0) {
        brk_parts_destroy(parts);
        return -ENOMEM;
    }
    read_start_hints(parts);
    *out = parts;
    return 0;
}

void brk_parts_set_hooks(struct brk_parts *parts, const struct brk_parts_hooks *hooks)
{
    ASSERT(parts->count == 0);
    parts->hooks = *hooks;
}

void brk_parts_roles_hold(struct brk_parts *parts)
{
    ASSERT(parts->count == 0);
    parts->roles_held = true;
}

bool brk_parts_roles_held(const struct brk_parts *parts) { return parts->roles_held; }

int32_t brk_parts_roles_release(struct brk_parts *parts, const struct ctrl_image *img)
{
    ASSERT(parts->roles_held);
    parts->roles_held = false;
    int32_t led = 0;
    int32_t self = parts->srv->node->node_id;
    for (int32_t i = 0; i < parts->count; i++) {
        struct brk_part *p = parts->list[i];
        const struct ctrl_topic *t = ctrl_image_topic_find_id(img, p->topic_id);
        if (!t || p->partition >= t->partition_count)
            continue; /* deleted meanwhile: its record closes it */
        const struct ctrl_partition *cp = &t->partitions[p->partition];
        p->leader_epoch = cp->leader_epoch;
        p->is_leader = cp->leader == self;
        led += p->is_leader;
        if (parts->hooks.state)
            parts->hooks.state(parts->hooks.arg, p, cp);
        brk_part_notify(p, BRK_PART_CHANGED);
    }
    return led;
}

void brk_parts_destroy(struct brk_parts *parts)
{
    if (!parts)
        return;
    for (int32_t i = 0; i < parts->count; i++)
        if (parts->hooks.closing)
            parts->hooks.closing(parts->hooks.arg, parts->list[i]);
    if (parts->closing_count > 0) {
        /* the server drained the uring already; this covers other callers */
        int rc = uring_drain(parts->srv->uring);
        if (rc < 0)
            log_error("parts", "closing partition logs did not finish count=%d error=\"%s\"", parts->closing_count,
                      err_str(rc));
        else
            ASSERT(parts->closing_count == 0); /* an idle log has finished closing */
    }
    for (int32_t i = 0; i < parts->count; i++) {
        struct brk_part *p = parts->list[i];
        while (p->waiters)
            brk_part_unwait(p->waiters);
        /* clean shutdown: snapshot the producer state at the log end, when
         * nothing is in flight (else the next open replays the log) */
        if (brk_plog_offline_err(p->plog) == 0 && brk_plog_end_offset(p->plog) == brk_plog_next_offset(p->plog) &&
            brk_pstore_write(p->pstate, p->dir, brk_plog_end_offset(p->plog)) < 0)
            log_warn("parts", "producer state not snapshotted at shutdown topic=%s partition=%d", p->topic,
                     p->partition);
        brk_plog_destroy(p->plog);
        brk_pstate_destroy(p->pstate);
        free(p);
    }
    free(parts->list);
    free(parts->slots);
    free(parts->start_hints);
    free(parts);
}

struct brk_part *brk_parts_find(const struct brk_parts *parts, const uint8_t topic_id[16], int32_t partition)
{
    uint64_t mask = (uint64_t)parts->slot_count - 1;
    for (uint64_t s = part_hash(topic_id, partition) & mask;; s = (s + 1) & mask) {
        struct brk_part *p = parts->slots[s];
        if (!p)
            return NULL;
        if (p->partition == partition && memcmp(p->topic_id, topic_id, 16) == 0)
            return p;
    }
}

struct brk_part *brk_parts_find_name(const struct brk_parts *parts, const struct ctrl_image *img, const char *name,
                                     size_t len, int32_t partition)
{
    const struct ctrl_topic *t = ctrl_image_topic_find(img, name, len);
    return t ? brk_parts_find(parts, t->topic_id, partition) : NULL;
}

int32_t brk_parts_count(const struct brk_parts *parts) { return parts->count; }

struct brk_part *brk_parts_at(const struct brk_parts *parts, int32_t index)
{
    ASSERT(index >= 0 && index < parts->count);
    return parts->list[index];
}

int64_t brk_part_high_watermark(const struct brk_part *part)
{
    /* without a replication role (unit tests) everything written is committed */
    return part->replica ? part->high_watermark : brk_plog_end_offset(part->plog);
}

static int64_t topic_cfg_i64(const struct brk_ctx *srv, const struct ctrl_topic *t, const char *key,
                             int64_t fallback)
{
    char buf[64];
    const char *v = ctrl_configs_find(&t->configs, key);
    if (!v) {
        if (brk_config_topic_default(srv->cfg, key, buf, sizeof buf, NULL) < 0 || buf[0] == '\0')
            return fallback;
        v = buf;
    }
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v)
        return fallback;
    return x;
}

static void part_config(const struct brk_ctx *srv, const struct ctrl_topic *t, struct brk_part *p)
{
    const struct config_node *n = srv->node;
    /* start from the plog's own defaults so no field is ever left at 0 */
    brk_plog_config_default(&p->pcfg);
    p->pcfg.segment_index_bytes = topic_cfg_i64(srv, t, "segment.index.bytes", n->index_size_max_bytes);
    p->pcfg.segment_bytes = topic_cfg_i64(srv, t, "segment.bytes", n->segment_bytes);
    p->pcfg.roll_ms = topic_cfg_i64(srv, t, "segment.ms", n->roll_ms);
    p->pcfg.retention_ms = topic_cfg_i64(srv, t, "retention.ms", n->retention_ms);
    p->pcfg.retention_bytes = topic_cfg_i64(srv, t, "retention.bytes", n->retention_bytes);
    p->pcfg.flush_interval_messages = topic_cfg_i64(srv, t, "flush.messages", n->flush_interval_messages);
    p->pcfg.flush_interval_ms = topic_cfg_i64(srv, t, "flush.ms", n->flush_interval_ms);
    p->pcfg.index_interval_bytes = topic_cfg_i64(srv, t, "index.interval.bytes", n->index_interval_bytes);
    p->max_message_bytes = (int32_t)topic_cfg_i64(srv, t, "max.message.bytes", n->message_max_bytes);
    p->min_insync_replicas = (int32_t)topic_cfg_i64(srv, t, "min.insync.replicas", n->min_insync_replicas);
    const char *fs = ctrl_configs_find(&t->configs, "samsa.acks.all.fsync");
    p->acks_all_fsync = fs ? strcmp(fs, "true") == 0 : n->acks_all_fsync != 0;
    char ts[32] = "";
    const char *v = ctrl_configs_find(&t->configs, "message.timestamp.type");
    if (!v && brk_config_topic_default(srv->cfg, "message.timestamp.type", ts, sizeof ts, NULL) == 0)
        v = ts;
    p->log_append_time = v && strcmp(v, "LogAppendTime") == 0;
}

static int64_t start_hint(const struct brk_parts *parts, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < parts->start_hint_count; i++)
        if (parts->start_hints[i].partition == partition && strcmp(parts->start_hints[i].topic, topic) == 0)
            return parts->start_hints[i].offset;
    return -1;
}

static int pick_dir(struct brk_parts *parts, const char *topic, int32_t partition, char *dir, size_t size)
{
    const struct config_node *node = parts->srv->node;
    for (size_t d = 0; d < node->log_dir_count; d++) {
        snprintf(dir, size, "%s/%s-%d", node->log_dirs[d], topic, partition);
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            return (int)d;
    }
    size_t best = 0;
    for (size_t d = 1; d < node->log_dir_count; d++)
        if (parts->per_dir[d] < parts->per_dir[best])
            best = d;
    snprintf(dir, size, "%s/%s-%d", node->log_dirs[best], topic, partition);
    return (int)best;
}

static bool is_replica(const struct ctrl_partition *cp, int32_t node_id)
{
    for (int32_t i = 0; i < cp->replica_count; i++)
        if (cp->replicas[i] == node_id)
            return true;
    return false;
}

/* The log's visible end moved: the replication role first (the HW may
 * move), then the partition's waiters. */
static void part_advanced(void *arg, int64_t end_offset)
{
    struct brk_part *p = arg;
    struct brk_parts *parts = p->closing_in ? NULL : p->table;
    if (parts && parts->hooks.advanced)
        parts->hooks.advanced(parts->hooks.arg, p, end_offset);
    brk_part_notify(p, BRK_PART_APPENDED);
}

/* A segment roll: everything below base_offset has been observed. */
static void part_rolled(void *arg, int64_t base_offset)
{
    struct brk_part *p = arg;
    if (brk_pstore_write(p->pstate, p->dir, base_offset) < 0)
        return; /* logged; the next open replays from an older snapshot */
}

/* The producer state of a freshly opened log: its snapshot, then the log. */
static int part_producers_open(struct brk_part *p)
{
    int rc = brk_pstate_create(&p->pstate);
    if (rc == 0)
        rc = brk_pstore_load(p->pstate, p->plog, p->dir);
    if (rc < 0) {
        log_error("parts", "cannot rebuild producer state topic=%s partition=%d error=\"%s\"", p->topic, p->partition,
                  err_str(rc));
        brk_pstate_destroy(p->pstate);
        p->pstate = NULL;
        return rc;
    }
    brk_plog_on_roll(p->plog, part_rolled, p);
    return 0;
}

void brk_part_producers_observe(struct brk_part *part, const uint8_t *batches, size_t len)
{
    if (!part->pstate)
        return; /* a partition built without one (unit tests) */
    int rc = brk_pstore_observe_batches(part->pstate, batches, len);
    if (rc < 0)
        log_warn("parts", "producer state not updated topic=%s partition=%d error=\"%s\"", part->topic,
                 part->partition, err_str(rc));
}

int brk_part_producers_reload(struct brk_part *part)
{
    if (!part->pstate)
        return 0;
    return brk_pstore_load(part->pstate, part->plog, part->dir);
}

static int part_open(struct brk_parts *parts, const struct ctrl_topic *t, const struct ctrl_partition *cp)
{
    struct brk_ctx *srv = parts->srv;
    struct brk_part *p = brk_parts_find(parts, t->topic_id, cp->partition_id);
    if (p) {
        p->leader_epoch = cp->leader_epoch;
        if (parts->roles_held)
            return 0; /* brk_parts_roles_release takes the then-current state */
        p->is_leader = cp->leader == srv->node->node_id;
        if (parts->hooks.state)
            parts->hooks.state(parts->hooks.arg, p, cp);
        brk_part_notify(p, BRK_PART_CHANGED); /* a parked fetch sees NOT_LEADER now */
        return 0;
    }
    if (parts->count >= BRK_PARTS_MAX) {
        log_error("parts", "local partition limit reached max=%d topic=%s partition=%d", BRK_PARTS_MAX, t->name,
                  cp->partition_id);
        return ERR_LIMIT;
    }
    p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    memcpy(p->topic_id, t->topic_id, 16);
    snprintf(p->topic, sizeof p->topic, "%s", t->name);
    p->partition = cp->partition_id;
    p->leader_epoch = cp->leader_epoch;
    p->is_leader = !parts->roles_held && cp->leader == srv->node->node_id;
    p->log_dir_index = pick_dir(parts, t->name, cp->partition_id, p->dir, sizeof p->dir);
    part_config(srv, t, p);
    if (mkdir(p->dir, 0755) < 0 && errno != EEXIST) {
        int rc = -errno;
        log_error("parts", "cannot create partition directory path=%s error=\"%s\"; check log.dirs permissions",
                  p->dir, err_str(rc));
        free(p);
        return rc;
    }
    int rc = brk_plog_open(srv->uring, &parts->plog_shared, p->dir, &p->pcfg, start_hint(parts, t->name, cp->partition_id), &p->plog);
    if (rc < 0) {
        log_error("parts", "cannot open partition log path=%s error=\"%s\"", p->dir, err_str(rc));
        free(p);
        return rc;
    }
    if ((rc = part_producers_open(p)) < 0) {
        brk_plog_destroy(p->plog);
        free(p);
        return rc;
    }
    brk_plog_on_advance(p->plog, part_advanced, p);
    if (parts->count == parts->cap) {
        int32_t cap = parts->cap ? parts->cap * 2 : 256;
        struct brk_part **l = realloc(parts->list, (size_t)cap * sizeof *l);
        if (!l) {
            brk_plog_destroy(p->plog);
            brk_pstate_destroy(p->pstate);
            free(p);
            return -ENOMEM;
        }
        parts->list = l;
        parts->cap = cap;
    }
    parts->list[parts->count++] = p;
    parts->per_dir[p->log_dir_index]++;
    if (parts->count * 2 >= parts->slot_count) {
        rc = parts_rehash(parts, parts->slot_count * 2);
        ASSERT(rc == 0);
    } else {
        uint64_t mask = (uint64_t)parts->slot_count - 1;
        for (uint64_t s = part_hash(p->topic_id, p->partition) & mask;; s = (s + 1) & mask)
            if (!parts->slots[s]) {
                parts->slots[s] = p;
                break;
            }
    }
    p->table = parts;
    p->high_watermark = 0;
    if (parts->hooks.opened)
        parts->hooks.opened(parts->hooks.arg, p, parts->roles_held ? NULL : cp);
    log_debug("parts", "partition open topic=%s partition=%d dir=%s leader=%d", p->topic, p->partition, p->dir,
              p->is_leader);
    return 0;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (unlink(path) < 0)
                log_warn("parts", "cannot remove path=%s error=\"%s\"", path, strerror(errno));
        }
        closedir(d);
    }
    if (rmdir(dir) < 0 && errno != ENOENT) /* ENOENT: reconcile removed a "-delete" dir first */
        log_warn("parts", "cannot remove directory path=%s error=\"%s\"", dir, strerror(errno));
}

/* Rename first, like Kafka: a crash between the two leaves a "-delete" dir
 * that the next start removes instead of a half-deleted live partition.
 * The new name goes to del. */
static int dir_rename_deleted(const char *dir, char *del, size_t size)
{
    int n = snprintf(del, size, "%s.%llx-delete", dir, (unsigned long long)clock_mono_ns());
    int rc = n < 0 || (size_t)n >= size ? -ENAMETOOLONG : rename(dir, del) < 0 ? -errno : 0;
    if (rc < 0)
        log_warn("parts", "cannot rename for deletion path=%s error=\"%s\"", dir, err_str(rc));
    return rc;
}

static void dir_delete(const char *dir)
{
    char del[PATH_MAX];
    if (dir_rename_deleted(dir, del, sizeof del) == 0)
        remove_tree(del);
}

void brk_part_wait(struct brk_part *part, struct brk_part_waiter *w, void *owner, brk_part_wake_fn wake)
{
    ASSERT(w->part == NULL);
    ASSERT(wake != NULL);
    w->part = part;
    w->owner = owner;
    w->wake = wake;
    w->prev = NULL;
    w->next = part->waiters;
    if (part->waiters)
        part->waiters->prev = w;
    part->waiters = w;
}

void brk_part_unwait(struct brk_part_waiter *w)
{
    if (!w->part)
        return;
    if (w->part->notify_next == w)
        w->part->notify_next = w->next;
    if (w->prev)
        w->prev->next = w->next;
    else
        w->part->waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
    w->part = NULL;
}

static uint64_t brk_part_notify_rounds; /* state thread only */

/* The walk goes from the head (newest first, as parked fetches always
 * woke).  The cursor (notify_next) survives any unlinking a wake function
 * does: brk_part_unwait moves it past the waiter it unlinks.  Waiters parked
 * meanwhile sit at the head and are not visited. */
void brk_part_notify(struct brk_part *part, enum brk_part_event ev)
{
    STATIC_ASSERT(BRK_PART_HW < 32, "events fit the notify_again mask");
    if (part->notifying) {
        part->notify_again |= 1u << ev; /* after this round: see the header */
        return;
    }
    for (;;) {
        if (part->waiters) {
            part->notifying = true;
            uint64_t round = ++brk_part_notify_rounds;
            for (struct brk_part_waiter *w = part->waiters; w; w = part->notify_next) {
                part->notify_next = w->next;
                w->wake(w, ev, round);
            }
            part->notify_next = NULL;
            part->notifying = false;
        }
        if (!part->notify_again)
            return;
        ev = (enum brk_part_event)__builtin_ctz(part->notify_again);
        part->notify_again &= ~(1u << ev);
    }
}


/* The log has closed: nothing of it is in flight, its files are closed. */
static void part_closed(void *arg)
{
    struct brk_part *p = arg;
    struct brk_parts *parts = p->closing_in;
    ASSERT(parts != NULL);
    ASSERT(parts->closing_count > 0);
    if (p->dir[0] != '\0')
        remove_tree(p->dir);
    log_debug("parts", "partition closed topic=%s partition=%d", p->topic, p->partition);
    parts->closing_count--;
    brk_pstate_destroy(p->pstate);
    free(p);
}

/* Out of the table at once; the log closes without waiting for anybody
 * else's I/O.  The caller rehashes. */
static void parts_remove_at(struct brk_parts *parts, int32_t i)
{
    struct brk_part *p = parts->list[i];
    if (parts->hooks.closing)
        parts->hooks.closing(parts->hooks.arg, p);
    brk_part_notify(p, BRK_PART_GONE); /* parked fetches answer now, not at max_wait_ms */
    while (p->waiters)
        brk_part_unwait(p->waiters); /* the rest answer at their timers */
    parts->per_dir[p->log_dir_index]--;
    parts->list[i] = parts->list[--parts->count];
    char del[PATH_MAX];
    STATIC_ASSERT(sizeof del == sizeof p->dir, "the renamed path fits the entry");
    if (dir_rename_deleted(p->dir, del, sizeof del) == 0)
        memcpy(p->dir, del, sizeof del);
    else
        p->dir[0] = '\0'; /* left in place: the next start's reconcile removes it */
    p->closing_in = parts;
    parts->closing_count++;
    brk_plog_close(p->plog, part_closed, p); /* may run part_closed at once */
}

static void parts_remove_topic(struct brk_parts *parts, const uint8_t topic_id[16])
{
    bool removed = false;
    for (int32_t i = 0; i < parts->count;) {
        if (memcmp(parts->list[i]->topic_id, topic_id, 16) == 0) {
            parts_remove_at(parts, i);
            removed = true;
        } else {
            i++;
        }
    }
    if (removed)
        ASSERT(parts_rehash(parts, parts->slot_count) == 0);
}

/* parts_remove_moved - this node is no longer a replica of (t, pid) (a
 * reassignment finished or was cancelled): drop the local copy, as Kafka's
 * StopReplica with delete does. */
static void parts_remove_moved(struct brk_parts *parts, const struct ctrl_topic *t, int32_t pid)
{
    const struct brk_part *p = brk_parts_find(parts, t->topic_id, pid);
    for (int32_t i = 0; p && i < parts->count; i++) { /* (a hash lookup first: most changes are not ours) */
        if (parts->list[i] != p)
            continue;
        log_info("parts", "no longer a replica here: removing the local copy topic=%s partition=%d", t->name, pid);
        parts_remove_at(parts, i);
        ASSERT(parts_rehash(parts, parts->slot_count) == 0);
        return;
    }
}

/* Recompute p's config from t's overrides and the broker's defaults, and
 * tell the replication state (hooks.reconfigured). */
static void part_reconfigure(struct brk_parts *parts, const struct ctrl_topic *t, struct brk_part *p)
{
    part_config(parts->srv, t, p);
    brk_plog_set_config(p->plog, &p->pcfg);
    if (parts->hooks.reconfigured)
        parts->hooks.reconfigured(parts->hooks.arg, p);
}

static void topic_reconfigure(struct brk_parts *parts, const struct ctrl_topic *t)
{
    for (int32_t i = 0; i < parts->count; i++) {
        struct brk_part *p = parts->list[i];
        if (memcmp(p->topic_id, t->topic_id, 16) == 0)
            part_reconfigure(parts, t, p);
    }
}

void brk_parts_reconfigure(struct brk_parts *parts, const struct ctrl_image *img)
{
    for (int32_t i = 0; i < parts->count; i++) {
        struct brk_part *p = parts->list[i];
        const struct ctrl_topic *t = ctrl_image_topic_find_id(img, p->topic_id);
        if (!t)
            continue; /* being removed */
        part_reconfigure(parts, t, p);
    }
}

void brk_parts_apply(struct brk_parts *parts, const struct ctrl_image *img, const Samsa__MetadataRecord *rec)
{
    int32_t self = parts->srv->node->node_id;
    switch (rec->record_case) {
    case SAMSA__METADATA_RECORD__RECORD_PARTITION:
    case SAMSA__METADATA_RECORD__RECORD_PARTITION_CHANGE: {
        const ProtobufCBinaryData *id = rec->record_case == SAMSA__METADATA_RECORD__RECORD_PARTITION
                                            ? &rec->partition->topic_id
                                            : &rec->partition_change->topic_id;
        int32_t pid = rec->record_case == SAMSA__METADATA_RECORD__RECORD_PARTITION
                          ? rec->partition->partition_id
                          : rec->partition_change->partition_id;
        const struct ctrl_topic *t = id->len == 16 ? ctrl_image_topic_find_id(img, id->data) : NULL;
        if (!t || pid < 0 || pid >= t->partition_count)
            return;
        if (is_replica(&t->partitions[pid], self)) {
            int rc = part_open(parts, t, &t->partitions[pid]);
            if (rc < 0)
                log_error("parts", "partition unavailable topic=%s partition=%d error=\"%s\"", t->name, pid,
                          err_str(rc));
        } else {
            parts_remove_moved(parts, t, pid);
        }
        return;
    }
    case SAMSA__METADATA_RECORD__RECORD_REMOVE_TOPIC:
        if (rec->remove_topic->topic_id.len == 16)
            parts_remove_topic(parts, rec->remove_topic->topic_id.data);
        return;
    case SAMSA__METADATA_RECORD__RECORD_CONFIG:
        if (rec->config->resource_type == SAMSA__CONFIG_RESOURCE_TYPE__CONFIG_RESOURCE_TOPIC) {
            const struct ctrl_topic *t =
                ctrl_image_topic_find(img, rec->config->resource_name, strlen(rec->config->resource_name));
            if (t)
                topic_reconfigure(parts, t);
        }
        return;
    default:
        return;
    }
}

/* "<topic>-<partition>" -> does the image host it here? */
static bool dir_is_live(const struct ctrl_image *img, const char *name, int32_t self)
{
    const char *dash = strrchr(name, '-');
    if (!dash || dash == name || !dash[1])
        return false;
    char *end;
    long pid = strtol(dash + 1, &end, 10);
    if (*end != '\0' || pid < 0)
        return false;
    const struct ctrl_topic *t = ctrl_image_topic_find(img, name, (size_t)(dash - name));
    if (!t || pid >= t->partition_count)
        return false;
    return is_replica(&t->partitions[pid], self);
}

int brk_parts_reconcile(struct brk_parts *parts, const struct ctrl_image *img)
{
    const struct config_node *node = parts->srv->node;
    /* open partitions the image no longer places here go first */
    bool removed = false;
    for (int32_t i = 0; i < parts->count;) {
        const struct brk_part *p = parts->list[i];
        const struct ctrl_topic *t = ctrl_image_topic_find_id(img, p->topic_id);
        if (!t || p->partition >= t->partition_count || !is_replica(&t->partitions[p->partition], node->node_id)) {
            parts_remove_at(parts, i);
            removed = true;
        } else {
            i++;
        }
    }
    if (removed)
        ASSERT(parts_rehash(parts, parts->slot_count) == 0);
    for (size_t d = 0; d < node->log_dir_count; d++) {
        DIR *dir = opendir(node->log_dirs[d]);
        if (!dir)
            continue;
        struct dirent *e;
        while ((e = readdir(dir))) {
            if (e->d_name[0] == '.' || strncmp(e->d_name, "__cluster_metadata", 18) == 0)
                continue;
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", node->log_dirs[d], e->d_name);
            struct stat st;
            if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
                continue;
            size_t len = strlen(e->d_name);
            if (len > 7 && strcmp(e->d_name + len - 7, "-delete") == 0) {
                remove_tree(path);
                continue;
            }
            if (!dir_is_live(img, e->d_name, node->node_id)) {
                log_info("parts", "removing directory of a deleted or foreign partition path=%s", path);
                dir_delete(path);
            }
        }
        closedir(dir);
    }
    for (int32_t i = 0; i < ctrl_image_topic_count(img); i++) {
        const struct ctrl_topic *t = ctrl_image_topic_at(img, i);
        for (int32_t p = 0; p < t->partition_count; p++) {
            if (!is_replica(&t->partitions[p], node->node_id))
                continue;
            int rc = part_open(parts, t, &t->partitions[p]);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

int brk_parts_checkpoint(struct brk_parts *parts)
{
    const struct config_node *node = parts->srv->node;
    int result = 0;
    for (size_t d = 0; d < node->log_dir_count; d++) {
        size_t n = 0;
        for (int32_t i = 0; i < parts->count && n < BRK_CKPT_ENTRIES_MAX; i++) {
            const struct brk_part *p = parts->list[i];
            if (p->log_dir_index != (int)d)
                continue;
            struct brk_ckpt_entry *e = &parts->start_hints[n++];
            snprintf(e->topic, sizeof e->topic, "%s", p->topic);
            e->partition = p->partition;
            e->offset = brk_plog_start_offset(p->plog);
        }
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", node->log_dirs[d], BRK_CKPT_LOG_START);
        int rc = brk_ckpt_write(path, parts->start_hints, n);
        if (rc < 0) {
            log_error("parts", "cannot write checkpoint path=%s error=\"%s\"", path, err_str(rc));
            result = rc;
        }
    }
    parts->start_hint_count = 0; /* the hints buffer was reused */
    return result;
}
