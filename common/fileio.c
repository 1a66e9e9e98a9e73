/*
 * fileio.c - crash-safe whole-file replacement (see fileio.h).
 *
 * Order is the invariant: data fsync'd before the rename (else a crash can
 * leave PATH naming an empty or torn inode), the rename before the directory
 * fsync (which is what makes the rename durable).  PATH.tmp never outlives a
 * failed call; a stale one left by a crash is truncated by the next open.
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

int fileio_write_all(int fd, const void *p, size_t n)
{
    const uint8_t *at = p;
    while (n > 0) {
        ssize_t w = write(fd, at, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (w == 0)
            return -EIO; /* not for a regular file; never loop on it */
        at += w;
        n -= (size_t)w;
    }
    return 0;
}

int fileio_tmp_open(struct fileio_tmp *t, const char *path)
{
    memset(t, 0, sizeof *t);
    t->fd = -1;
    int n1 = snprintf(t->path, sizeof t->path, "%s", path);
    int n2 = snprintf(t->tmp_path, sizeof t->tmp_path, "%s.tmp", path);
    if (n1 < 0 || n2 < 0 || (size_t)n2 >= sizeof t->tmp_path)
        return -ENAMETOOLONG;
    t->fd = open(t->tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (t->fd < 0)
        return -errno;
    return 0;
}

void fileio_tmp_abort(struct fileio_tmp *t)
{
    ASSERT(!t->renamed);
    if (t->fd >= 0)
        (void)close(t->fd);
    t->fd = -1;
    (void)unlink(t->tmp_path);
}

/* fsync the directory holding path (".", when it has no slash) */
static int fileio_dir_sync(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        memcpy(dir, ".", 2);
    } else {
        size_t len = slash == path ? 1 : (size_t)(slash - path);
        ASSERT(len < sizeof dir);
        memcpy(dir, path, len);
        dir[len] = '\0';
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    int rc = fsync(dfd) < 0 ? -errno : 0;
    (void)close(dfd);
    return rc;
}

int fileio_tmp_commit(struct fileio_tmp *t, bool keep_open)
{
    ASSERT(t->fd >= 0);
    ASSERT(!t->renamed);
    int rc = fsync(t->fd) < 0 ? -errno : 0;
    if (rc == 0 && !keep_open) {
        int fd = t->fd;
        t->fd = -1;
        if (close(fd) < 0)
            rc = -errno;
    }
    if (rc == 0 && rename(t->tmp_path, t->path) < 0)
        rc = -errno;
    if (rc < 0) {
        fileio_tmp_abort(t);
        return rc;
    }
    t->renamed = true;
    return fileio_dir_sync(t->path);
}

int fileio_write_atomic(const char *path, const struct bytes *parts, size_t count)
{
    struct fileio_tmp t;
    int rc = fileio_tmp_open(&t, path);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < count && rc == 0; i++)
        rc = fileio_write_all(t.fd, parts[i].ptr, parts[i].len);
    if (rc < 0) {
        fileio_tmp_abort(&t);
        return rc;
    }
    return fileio_tmp_commit(&t, false);
}
