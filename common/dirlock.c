/*
 * dirlock.c - the `.lock` of a log directory (see dirlock.h for why fcntl
 * record locks and what they do not cover).
 *
 * Invariant: a struct dirlock_set's fds[0..count) are open fds each holding
 * the lock of one dir; nothing else in the process opens a `.lock` (closing
 * another fd on it would drop the lock: POSIX locks are per process).
 */
#include "dirlock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

int dirlock_take(const char *dir, int *fd_out, pid_t *holder_pid)
{
    ASSERT(dir != NULL);
    ASSERT(fd_out != NULL);
    *fd_out = -1;
    *holder_pid = 0;
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, DIRLOCK_FILE_NAME);
    if (n < 0 || (size_t)n >= sizeof path)
        return -ENAMETOOLONG;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    if (fcntl(fd, F_SETLK, &fl) == 0) {
        *fd_out = fd;
        return 0;
    }
    int err = errno;
    if (err == EACCES || err == EAGAIN) {
        /* held: ask who holds it (it may have exited since: pid unknown) */
        struct flock q = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
        if (fcntl(fd, F_GETLK, &q) == 0 && q.l_type != F_UNLCK)
            *holder_pid = q.l_pid;
        close(fd);
        return ERR_EXISTS;
    }
    close(fd);
    return -err;
}

void dirlock_release_all(struct dirlock_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        if (set->fds[i] >= 0)
            close(set->fds[i]); /* a lock fd was only read: nothing to lose on close */
        set->fds[i] = -1;
    }
    set->count = 0;
}

int dirlock_take_all(const char *const *dirs, size_t dir_count, struct dirlock_set *set, char *msg,
                     size_t msg_size)
{
    ASSERT(set->count == 0);
    if (dir_count > DIRLOCK_DIRS_MAX) {
        snprintf(msg, msg_size, "%zu log dirs; at most %d can be locked", dir_count, DIRLOCK_DIRS_MAX);
        return ERR_LIMIT;
    }
    for (size_t i = 0; i < dir_count; i++) {
        pid_t holder = 0;
        int fd = -1;
        int rc = dirlock_take(dirs[i], &fd, &holder);
        if (rc == 0) {
            set->fds[set->count++] = fd;
            continue;
        }
        if (rc == ERR_EXISTS && holder > 0)
            snprintf(msg, msg_size, "Failed to acquire lock on file %s in %s: another process (pid %ld) is using "
                     "this directory, most likely a samsa-server (or Kafka) started with the same log.dirs / "
                     "metadata.log.dir; stop that process first, or give this node its own directories. Two "
                     "processes appending to one log lose data, so this one does not start",
                     DIRLOCK_FILE_NAME, dirs[i], (long)holder);
        else if (rc == ERR_EXISTS)
            snprintf(msg, msg_size, "Failed to acquire lock on file %s in %s: another process is using this "
                     "directory (its pid is not visible here: it runs in another container or PID namespace "
                     "sharing this volume, or it just exited), most likely a samsa-server (or Kafka) "
                     "started with the same log.dirs / metadata.log.dir; stop that process first, or give this "
                     "node its own directories", DIRLOCK_FILE_NAME, dirs[i]);
        else
            snprintf(msg, msg_size, "cannot lock %s/%s error=\"%s\"; check that the directory exists and is "
                     "writable by this user", dirs[i], DIRLOCK_FILE_NAME, err_str(rc));
        dirlock_release_all(set);
        return rc;
    }
    ASSERT(set->count == dir_count);
    return 0;
}
