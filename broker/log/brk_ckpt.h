/*
 * brk_ckpt.h - Kafka's offset checkpoint files.
 *
 * Each log dir holds log-start-offset-checkpoint,
 * recovery-point-offset-checkpoint and replication-offset-checkpoint in
 * Kafka's text format, byte-compatible with Kafka's OffsetCheckpointFile:
 *
 *     0\n                      version
 *     2\n                      entry count
 *     orders 0 1234\n          topic SP partition SP offset
 *     orders 1 99\n
 *
 * Reading is strict: any deviation (bad version, count mismatch, a topic
 * name Kafka would not allow, a non-decimal or out-of-range number, extra
 * spaces, missing final newline, trailing lines) is ERR_CORRUPT with the
 * path and line logged; the file is bounded by BRK_CKPT_FILE_BYTES_MAX and
 * the caller's entry capacity (ERR_LIMIT).  Writing is atomic: a .tmp file
 * is written and fsynced, renamed over the target, and the directory
 * fsynced, so a crash leaves either the old or the new file.
 *
 * Both calls do blocking file I/O: use them at startup/shutdown or from a
 * periodic task, not per request.  Not here: deciding what to checkpoint.
 */
#ifndef SAMSA_BRK_CKPT_H
#define SAMSA_BRK_CKPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define BRK_CKPT_TOPIC_BYTES_MAX 249
#define BRK_CKPT_FILE_BYTES_MAX (64u << 20)

#define BRK_CKPT_LOG_START "log-start-offset-checkpoint"
#define BRK_CKPT_RECOVERY_POINT "recovery-point-offset-checkpoint"
#define BRK_CKPT_REPLICATION "replication-offset-checkpoint"

struct brk_ckpt_entry {
    char topic[BRK_CKPT_TOPIC_BYTES_MAX + 1]; /* NUL-terminated */
    int32_t partition;
    int64_t offset;
};

/*
 * brk_ckpt_read - parse the checkpoint at path into entries[0..cap).
 * Returns 0 with *count_out set; -ENOENT if the file does not exist (a new
 * log dir: callers treat it as empty); ERR_CORRUPT if malformed;
 * ERR_LIMIT if it holds more than cap entries or BRK_CKPT_FILE_BYTES_MAX
 * bytes; other -errno from the OS.  Blocks.
 */
MUST_CHECK int brk_ckpt_read(const char *path, struct brk_ckpt_entry *entries, size_t cap,
                             size_t *count_out);

/*
 * brk_ckpt_write - atomically replace path with the given entries.  Topic
 * names must be valid (ERR_INVALID otherwise, nothing written).  Returns 0
 * or -errno.  Blocks (two fsyncs).
 */
MUST_CHECK int brk_ckpt_write(const char *path, const struct brk_ckpt_entry *entries,
                              size_t count);

/*
 * brk_ckpt_parse_line - the next '\n'-terminated line of buf[0..len) from
 * *pos: [*start, *end) without the newline; *pos moves past it.  False when
 * no terminated line is left.  Shared with brk_epoch_cache, whose
 * leader-epoch-checkpoint has the same strict text shape.
 */
bool brk_ckpt_parse_line(const char *buf, size_t len, size_t *pos, const char **start, const char **end);
/*
 * brk_ckpt_parse_num - a decimal integer (optional '-', at most 19 digits,
 * nothing else) in [lo, hi] from [p, end).  False on anything else.
 */
bool brk_ckpt_parse_num(const char *p, const char *end, int64_t lo, int64_t hi, int64_t *out);

#endif
