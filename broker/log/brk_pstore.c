/*
 * brk_pstore.c - producer-state snapshots and log replay (see brk_pstore.h).
 */
#include "broker/log/brk_pstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/brk_batch.h"
#include "common/fileio.h"
#include "common/log.h"

#define PSTORE_SUFFIX ".snapshot"
#define PSTORE_NAMES_MAX 64 /* snapshot files looked at per directory */

static int snap_path(const char *dir, int64_t offset, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/%020" PRId64 PSTORE_SUFFIX, dir, offset);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The offsets of dir's snapshot files, newest first (at most max); temp
 * files of interrupted writes are removed on the way. */
static size_t snap_list(const char *dir, int64_t *offsets, size_t max)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (strlen(name) == 20 + strlen(PSTORE_SUFFIX ".tmp") && strcmp(name + 20, PSTORE_SUFFIX ".tmp") == 0) {
            char path[PATH_MAX];
            if (snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path)
                (void)unlink(path); /* a write cut short by a crash */
            continue;
        }
        if (strlen(name) != 20 + strlen(PSTORE_SUFFIX) || strcmp(name + 20, PSTORE_SUFFIX) != 0)
            continue;
        char *end;
        long long v = strtoll(name, &end, 10);
        if (end != name + 20 || v < 0)
            continue;
        if (n < max) {
            offsets[n++] = v;
            continue;
        }
        /* over max: replace the oldest if this one is newer */
        size_t lo = 0;
        for (size_t i = 1; i < n; i++)
            if (offsets[i] < offsets[lo])
                lo = i;
        if (v > offsets[lo])
            offsets[lo] = v;
    }
    closedir(d);
    for (size_t i = 1; i < n; i++) /* insertion sort, newest first */
        for (size_t j = i; j > 0 && offsets[j] > offsets[j - 1]; j--) {
            int64_t t = offsets[j];
            offsets[j] = offsets[j - 1];
            offsets[j - 1] = t;
        }
    return n;
}

static void snap_unlink(const char *dir, int64_t offset, const char *why)
{
    char path[PATH_MAX];
    if (snap_path(dir, offset, path, sizeof path) < 0)
        return;
    if (unlink(path) < 0 && errno != ENOENT)
        log_warn("pstore", "cannot delete producer snapshot path=%s error=\"%s\"", path, strerror(errno));
    else
        log_debug("pstore", "deleted producer snapshot path=%s reason=\"%s\"", path, why);
}

/* Read one snapshot into ps.  0, or an error (logged by the caller). */
static int snap_read(struct brk_pstate *ps, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = 0;
    uint8_t *mem = NULL;
    if (fstat(fd, &st) < 0) {
        rc = -errno;
    } else if (st.st_size <= 0 || (uint64_t)st.st_size > BRK_PSTORE_SNAPSHOT_BYTES_MAX) {
        rc = ERR_CORRUPT;
    } else if (!(mem = malloc((size_t)st.st_size))) {
        rc = -ENOMEM;
    } else {
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t r = pread(fd, mem + got, (size_t)st.st_size - got, (off_t)got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                rc = r < 0 ? -errno : ERR_CORRUPT;
                break;
            }
            got += (size_t)r;
        }
        if (rc == 0)
            rc = brk_pstate_decode(ps, bytes_make(mem, (size_t)st.st_size));
    }
    free(mem);
    close(fd);
    return rc;
}

static int replay_one(void *arg, const struct brk_batch_hdr *h)
{
    struct brk_pstate_batch b;
    brk_pstate_batch_from_hdr(h, &b);
    int rc = brk_pstate_observe(arg, &b);
    if (rc == ERR_LIMIT) {
        log_warn("pstore", "producer state full max=%d producer_id=%" PRId64 "; not tracked",
                 BRK_PSTATE_PRODUCERS_MAX, b.producer_id);
        return 0;
    }
    return rc;
}

int brk_pstore_load(struct brk_pstate *ps, struct brk_plog *pl, const char *dir)
{
    brk_pstate_clear(ps);
    int64_t end = brk_plog_end_offset(pl);
    int64_t offsets[PSTORE_NAMES_MAX];
    size_t n = snap_list(dir, offsets, PSTORE_NAMES_MAX);
    int64_t from = -1;
    for (size_t i = 0; i < n; i++) {
        if (offsets[i] > end) {
            /* it covers batches recovery cut off: they are not in the log */
            log_info("pstore", "producer snapshot beyond the log end dir=%s offset=%" PRId64 " log_end=%" PRId64
                     "; deleted", dir, offsets[i], end);
            snap_unlink(dir, offsets[i], "beyond the log end");
            continue;
        }
        if (from >= 0)
            continue;
        char path[PATH_MAX];
        int rc = snap_path(dir, offsets[i], path, sizeof path);
        if (rc == 0)
            rc = snap_read(ps, path);
        if (rc == 0) {
            from = offsets[i];
            continue;
        }
        log_warn("pstore", "unreadable producer snapshot path=%s error=\"%s\"; using an older one or the log",
                 path, err_str(rc));
        brk_pstate_clear(ps);
    }
    int64_t start = from >= 0 ? from : brk_plog_start_offset(pl);
    int rc = brk_plog_scan(pl, start, replay_one, ps);
    if (rc < 0) {
        log_error("pstore", "cannot rebuild producer state dir=%s from_offset=%" PRId64 " error=\"%s\"", dir, start,
                  err_str(rc));
        return rc;
    }
    log_debug("pstore", "producer state loaded dir=%s snapshot_offset=%" PRId64 " replayed_from=%" PRId64
              " log_end=%" PRId64 " producers=%d", dir, from, start, end, brk_pstate_count(ps));
    return 0;
}

/* PATH.tmp, then rename: a reader sees the old file or the whole new one.
 * No fsync (see brk_pstore.h): a snapshot an OS crash loses or tears is
 * refused by its CRC at the next open and the log is replayed instead. */
static int snap_write_file(const char *path, struct bytes data)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = fileio_write_all(fd, data.ptr, data.len);
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

int brk_pstore_write(const struct brk_pstate *ps, const char *dir, int64_t offset)
{
    ASSERT(offset >= 0);
    struct buf b;
    buf_init(&b, BRK_PSTORE_SNAPSHOT_BYTES_MAX);
    char path[PATH_MAX];
    int rc = brk_pstate_encode(ps, &b);
    if (rc == 0)
        rc = snap_path(dir, offset, path, sizeof path);
    if (rc == 0)
        rc = snap_write_file(path, buf_bytes(&b));
    buf_deinit(&b);
    if (rc < 0) {
        log_warn("pstore", "cannot write producer snapshot dir=%s offset=%" PRId64 " error=\"%s\" (rebuilt from the "
                 "log at the next open)", dir, offset, err_str(rc));
        return rc;
    }
    int64_t offsets[PSTORE_NAMES_MAX];
    size_t n = snap_list(dir, offsets, PSTORE_NAMES_MAX);
    for (size_t i = BRK_PSTORE_SNAPSHOTS_KEPT; i < n; i++)
        snap_unlink(dir, offsets[i], "superseded");
    return 0;
}

int brk_pstore_observe_batches(struct brk_pstate *ps, const uint8_t *batches, size_t len)
{
    int result = 0;
    for (size_t pos = 0; pos < len;) {
        struct brk_batch_hdr h;
        int rc = brk_batch_parse(batches + pos, len - pos, &h);
        if (rc <= 0 || h.size_bytes > len - pos)
            return ERR_CORRUPT;
        struct brk_pstate_batch b;
        brk_pstate_batch_from_hdr(&h, &b);
        rc = brk_pstate_observe(ps, &b);
        if (rc < 0)
            result = rc;
        pos += h.size_bytes;
    }
    return result;
}
