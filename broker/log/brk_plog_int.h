/*
 * brk_plog_int.h - the partition log's internals, shared by the
 * brk_plog_*.c files only (never included elsewhere; brk_plog.h is the
 * public interface).
 *
 * Append slots form a ring (slot_head..slot_tail, absolute uint32 indexes)
 * in append order.  A slot is finished when its bytes are written (and its
 * optional fdatasync has completed); finished slots are retired from the
 * head only, so visibility (end_offset, seg->visible_bytes) advances
 * strictly in append order whatever order the kernel completes in.  Every
 * uring op this log queues is counted in io_count, and a slot or a write
 * in flight holds its segment's io_pending; a segment is never freed while
 * its io_pending is non-zero, so buffers handed to uring stay valid.
 *
 * Direct appends (broker/README.md, "Direct appends") add the tail ring:
 *
 *   slot_head <= sync_next <= done_slot <= copy_slot <= slot_tail
 *
 * copy_slot is the first slot not wholly copied into the ring, done_slot
 * the first not wholly written, sync_next the first whose flush.messages
 * fdatasync is not yet queued.  In file positions of the ring's segment:
 *
 *   lo <= round_down(written, align) <= written <= copied <= size_bytes
 *
 * with at most one write in flight, [round_down(written), round_up(copied)).
 *
 * The functions below are the ones one brk_plog_*.c file calls in another;
 * each is documented at its definition.  Everything else stays static.
 */
#ifndef SAMSA_BRK_PLOG_INT_H
#define SAMSA_BRK_PLOG_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/brk_batch.h"
#include "broker/log/brk_plog.h"
#include "common/buf.h"

#define BRK_PLOG_IDX_ENTRY_BYTES 8
#define BRK_PLOG_TIDX_ENTRY_BYTES 12
#define BRK_PLOG_NAME_DIGITS 20
/* Trailing zero bytes recovery accepts as direct-write slack (< the largest
 * alignment a file system may ask for). */
#define BRK_PLOG_SLACK_BYTES_MAX (64 << 10)

struct brk_plog_idx {
    uint32_t rel; /* last offset of the batch at pos, minus the segment base */
    uint32_t pos;
};

struct brk_plog_tidx {
    int64_t ts_ms;
    uint32_t rel;
};

struct brk_plog_seg {
    struct brk_plog *pl;
    int64_t base_offset;
    int64_t next_offset;   /* after the last assigned batch */
    int fd;                /* buffered: reads, syncs, truncation (and buffered appends) */
    int wfd;               /* O_DIRECT appends of the active segment; -1 otherwise */
    int64_t size_bytes;    /* assigned: written or queued */
    int64_t visible_bytes; /* completed, in order */
    int64_t max_ts_ms;
    int64_t max_ts_offset;
    int64_t roll_base_ms;  /* -1: set at the first append of this process */
    int64_t bytes_since_index;
    struct brk_plog_idx *idx;
    uint32_t idx_count, idx_cap;
    struct brk_plog_tidx *tidx;
    uint32_t tidx_count, tidx_cap;
    uint8_t *idx_disk;     /* encoded index files while their writes fly */
    uint8_t *tidx_disk;
    int idx_fd, tidx_fd;
    unsigned idx_writes;   /* index-file writes in flight (subset of io_pending) */
    unsigned io_pending;
    bool dirty;
};

struct brk_plog_slot {
    struct buf data;        /* the copy, for brk_plog_append */
    uint8_t *bytes;         /* what is written: data.ptr, or the caller's bytes (borrowed) */
    size_t len;
    struct brk_plog *pl;
    struct brk_plog_seg *seg;
    int64_t pos;
    int64_t next_offset;
    int pending;            /* its write and its sync, until each has completed */
    int rc;
    bool sync_failed;       /* the failure came from this append's fdatasync */
    bool want_sync;         /* direct: flush.messages asks for an fdatasync after the write */
    bool sync_queued;       /* direct: that fdatasync is in flight */
    brk_plog_append_cb cb;
    void *arg;
};

/* The O_DIRECT tail ring: file position p of seg lives at mem[p % cap_bytes]. */
struct brk_plog_tail {
    uint8_t *mem;             /* aligned to pl->align; NULL until the first append */
    size_t cap_bytes;         /* a multiple of pl->align */
    struct brk_plog_seg *seg; /* whose bytes the ring holds; NULL: not attached */
    int64_t lo;               /* first position held */
    int64_t copied;           /* end of the bytes copied in */
    int64_t written;          /* end of the bytes whose writes completed */
    int64_t inflight_end;     /* logical end of the write in flight; -1: none */
    uint32_t copy_slot;       /* first slot not wholly copied */
    size_t copy_off;          /* its bytes already copied */
    uint32_t done_slot;       /* first slot not wholly written */
    uint32_t sync_next;       /* first slot whose flush.messages sync is not queued */
    uint32_t sync_from, sync_to; /* the slots the sync in flight covers */
    bool sync_busy;
    bool retry;               /* the uring was full: pump again from the flush tick */
    int64_t last_append_ms;
};

struct brk_plog {
    struct uring *u;
    brk_plog_advance_cb advance_cb;   /* the visible end moved (brk_plog_on_advance) */
    void *advance_arg;
    brk_plog_roll_cb roll_cb;         /* a new segment starts (brk_plog_on_roll) */
    void *roll_arg;
    struct brk_plog_shared *shared; /* NULL: buffered appends */
    bool direct;                    /* appends go through the tail ring */
    size_t align;                   /* O_DIRECT alignment (bytes, power of two) */
    struct brk_plog_tail tail;
    char dir[PATH_MAX - 32];
    struct brk_plog_config cfg;
    struct brk_plog_seg **segs;
    size_t seg_count, seg_cap;
    int64_t start_offset, end_offset, next_offset;
    int64_t messages_since_flush;
    int64_t last_flush_ms;
    int offline_err;
    bool offline_sticky;          /* EIO, a failed sync or an untrimmable tail: offline until reopened */
    bool nospace_outage;          /* appends failed for lack of space since the last good one */
    int64_t nospace_refused_count; /* appends refused during the current outage */
    unsigned io_count;
    uint32_t slot_head, slot_tail;
    struct brk_plog_slot **slots;   /* slot_cap pointers; a slot is allocated at its first use */
    uint32_t slot_cap;              /* power of two, <= BRK_PLOG_APPENDS_MAX */
    struct buf scratch;
    bool closing;                   /* brk_plog_close: appends refused, finishing when idle */
    brk_plog_close_cb close_cb;
    void *close_arg;
    unsigned callouts;              /* owner callbacks running now (a close inside one waits) */
    /* group commit (brk_plog_sync.c) */
    int64_t durable_offset;         /* offsets below are fdatasync'd */
    struct brk_plog_sync_req *sync_head, *sync_tail; /* waiting requests, in order */
    unsigned dsync_inflight;        /* fdatasyncs of the current wave in flight */
    bool dsync_wave;                /* a wave is in flight or held (test delay) */
    int64_t dsync_target;           /* the wave's durable offset once it completes */
    int dsync_err;                  /* the first failure of the wave */
    int64_t dsync_release_ms;       /* test delay: the held wave counts from then; -1 not held */
    uint64_t dsync_count;           /* fdatasyncs the group commit queued */
};

#define BRK_PLOG_SLOTS_INITIAL 16u

/* ---- brk_plog.c: life, appends, completions, failure, deletion */
void brk_plog_config_clamp(struct brk_plog_config *cfg);
uint32_t brk_plog_idx_max(const struct brk_plog *pl);
uint32_t brk_plog_tidx_max(const struct brk_plog *pl);
bool brk_plog_flush_policy_on(const struct brk_plog *pl);
struct brk_plog_seg *brk_plog_active(const struct brk_plog *pl);
struct brk_plog_slot *brk_plog_slot_at(const struct brk_plog *pl, uint32_t index);
void brk_plog_free_all(struct brk_plog *pl);
int brk_plog_err_map(int res);
void brk_plog_fail(struct brk_plog *pl, int err, bool write_failed);
void brk_plog_queue_sync(struct brk_plog *pl, struct brk_plog_seg *seg);
void brk_plog_completed(struct brk_plog *pl);

/* ---- brk_plog_sync.c: group commit */
void brk_plog_sync_init(struct brk_plog *pl);
void brk_plog_sync_clamp(struct brk_plog *pl);
void brk_plog_sync_fail_all(struct brk_plog *pl, int err);
void brk_plog_sync_tick(struct brk_plog *pl, int64_t now_ms);

/* ---- brk_plog_seg.c: segments and indexes */
int brk_plog_path(const struct brk_plog *pl, int64_t base, const char *ext, char *out,
                  size_t n);
int brk_plog_pread_all(int fd, void *p, size_t n, int64_t off);
void brk_plog_seg_free(struct brk_plog_seg *seg);
struct brk_plog_seg *brk_plog_seg_new(struct brk_plog *pl, int64_t base, int fd);
void brk_plog_tidx_push(struct brk_plog *pl, struct brk_plog_seg *seg, int64_t ts_ms,
                        uint32_t rel);
void brk_plog_seg_note_batch(struct brk_plog *pl, struct brk_plog_seg *seg, int64_t pos,
                             int64_t base_offset, const struct brk_batch_hdr *h);
int64_t brk_plog_seg_lookup(const struct brk_plog_seg *seg, int64_t offset);
int brk_plog_hdr_at(const struct brk_plog_seg *seg, int64_t pos, int64_t limit,
                    struct brk_batch_hdr *h);
void brk_plog_idx_encode(const struct brk_plog_seg *seg, uint8_t *idx_out,
                         uint8_t *tidx_out);
int brk_plog_seg_write_indexes_sync(struct brk_plog *pl, struct brk_plog_seg *seg);
int brk_plog_seg_scan(struct brk_plog *pl, struct brk_plog_seg *seg, int64_t pos,
                      int64_t limit, bool verify, bool build, int64_t *valid_end_out,
                      const char **why_out);
bool brk_plog_seg_load_indexes(struct brk_plog *pl, struct brk_plog_seg *seg);
void brk_plog_seg_delete_files(struct brk_plog *pl, struct brk_plog_seg *seg);
void brk_plog_seg_idx_close(struct brk_plog_seg *seg);

/* ---- brk_plog_recover.c: open and recovery */
int brk_plog_seg_open_direct(struct brk_plog *pl, struct brk_plog_seg *seg);
int brk_plog_seg_create(struct brk_plog *pl, int64_t base);

/* ---- brk_plog_tail.c: the direct-I/O tail ring */
int brk_plog_seg_pread(const struct brk_plog_seg *seg, void *dst, size_t n, int64_t pos);
void brk_plog_tail_free(struct brk_plog *pl);
void brk_plog_tail_reset(struct brk_plog *pl);
int brk_plog_tail_attach(struct brk_plog *pl, struct brk_plog_seg *seg, int64_t pos);
void brk_plog_tail_detach(struct brk_plog *pl);
void brk_plog_tail_pump(struct brk_plog *pl);
void brk_plog_tail_idle(struct brk_plog *pl, int64_t now_ms);

#endif
