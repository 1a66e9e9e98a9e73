/*
 * dirlock.h - the exclusive lock on a log directory, Kafka's `.lock`.
 *
 * Two processes appending to the same segments lose data, so a node takes a
 * lock on <dir>/.lock in every log dir and the metadata log dir at start,
 * before anything in them is opened, recovered or written, and holds it for
 * the life of the process.  A second process (a second samsa-server with
 * the same config, or Kafka itself pointed at the dir) fails to take it and
 * the node exits non-zero with a message naming the dir, the holder's pid
 * and the fix.
 *
 * The lock is a POSIX record lock (fcntl F_SETLK, F_WRLCK over the whole
 * file), not flock(2):
 *   - it is what Kafka takes (Java's FileChannel.tryLock is fcntl on
 *     Linux), so Samsa and a Kafka broker wrongly given one dir exclude each
 *     other;
 *   - F_GETLK names the holder's pid for the operator's message;
 *   - it is non-blocking, and the kernel drops it when the holder dies
 *     (kill -9 included), so a restart after a crash is never blocked.
 * Its catches, and why they do not bite here: the lock belongs to the
 * process, so closing ANY fd of the process on that file drops it (nothing
 * but this module opens `.lock`, and its fds stay open until exit), and a
 * second lock by the same process succeeds (a dir listed twice, or the
 * metadata dir among the log dirs, is harmless); it is not inherited across
 * fork (samsa-server does not fork after start; the launcher execs it).
 *
 * `.lock` is a regular hidden file: partition dir parsing skips names
 * starting with '.' and anything that is not a directory.
 *
 * Not here: waiting for a lock (a held one is an operator error), or
 * removing `.lock` (Kafka leaves it too; an empty file is no lock).  Every
 * call blocks briefly on open(2): call it at start, not from the event loop.
 */
#ifndef SAMSA_DIRLOCK_H
#define SAMSA_DIRLOCK_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

#define DIRLOCK_FILE_NAME ".lock"
#define DIRLOCK_DIRS_MAX 64 /* dirs one set holds: log dirs + the metadata log dir */

/* The locks a process holds; fds[i] is -1 once released. */
struct dirlock_set {
    size_t count;
    int fds[DIRLOCK_DIRS_MAX];
};

/*
 * dirlock_take - open (create, mode 0644) <dir>/.lock and take the lock
 * without waiting.  On 0, *fd_out is the open fd: the lock lasts while it
 * stays open.  Returns ERR_EXISTS when another process holds it (*holder_pid
 * its pid, 0 if it could not be told), or -errno (ENOENT: no such dir).  On
 * failure nothing stays open.
 */
MUST_CHECK int dirlock_take(const char *dir, int *fd_out, pid_t *holder_pid);

/*
 * dirlock_take_all - dirlock_take on every dir, in order; all or nothing.
 * On failure the locks taken are released and msg holds one line for the
 * operator naming the dir, the holder and the fix.  Returns 0, ERR_LIMIT
 * (more than DIRLOCK_DIRS_MAX dirs), or dirlock_take's error.
 */
MUST_CHECK int dirlock_take_all(const char *const *dirs, size_t dir_count, struct dirlock_set *set,
                                char *msg, size_t msg_size);

/* dirlock_release_all - close every fd (dropping the locks); set may be
 * zeroed memory that never held any (count 0). */
void dirlock_release_all(struct dirlock_set *set);

#endif
