/*
 * brk_cleanmark.c - the clean-shutdown file (see brk_cleanmark.h).
 *
 * Written after the partition logs are closed: Samsa acknowledges produce
 * from the page cache, so the file only says "nothing was lost" once
 * syncfs() has put every log dir's data on disk.  Taken at start before the
 * broker registers.  Never asserts on the file's contents (disk input).
 */
#include "broker/log/brk_cleanmark.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/log.h"

static void cleanmark_path(const struct config_node *node, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", node->log_dirs[0], BRK_CLEANMARK_FILE);
}

/* The removal must be durable: fsync the directory. */
static int dir_sync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return rc;
}

void brk_cleanmark_take(const struct config_node *node, int64_t *epoch)
{
    *epoch = -1;
    if (node->log_dir_count == 0)
        return;
    char path[PATH_MAX];
    cleanmark_path(node, path, sizeof path);
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno != ENOENT)
            log_warn("server", "clean-shutdown file unreadable path=%s error=\"%s\"; registering as after an "
                     "unclean shutdown", path, strerror(errno));
        else
            log_info("server", "no clean-shutdown file path=%s: registering as after an unclean shutdown", path);
        return;
    }
    char text[128] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    int64_t value = -1;
    const char *p = strstr(text, "\"brokerEpoch\"");
    if (!p || sscanf(p, "\"brokerEpoch\" : %" SCNd64, &value) != 1 || value < 0) {
        log_warn("server", "clean-shutdown file malformed path=%s; registering as after an unclean shutdown", path);
        value = -1;
    }
    if (unlink(path) < 0 || dir_sync(node->log_dirs[0]) < 0) {
        log_warn("server", "clean-shutdown file not removed path=%s error=\"%s\"; registering as after an unclean "
                 "shutdown (a crash of this run must not read as clean)", path, strerror(errno));
        return;
    }
    *epoch = value;
    if (value >= 0)
        log_info("server", "clean shutdown in broker_epoch=%lld (%s)", (long long)value, path);
}

int brk_cleanmark_write(const struct config_node *node, int64_t epoch)
{
    if (node->log_dir_count == 0)
        return 0;
    for (size_t i = 0; i < node->log_dir_count; i++) {
        int fd = open(node->log_dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
        int rc = syncfs(fd) < 0 ? -errno : 0;
        close(fd);
        if (rc < 0)
            return rc;
    }
    char text[96];
    int len = snprintf(text, sizeof text, "{\"version\":0,\"brokerEpoch\":%lld}\n", (long long)epoch);
    char path[PATH_MAX];
    cleanmark_path(node, path, sizeof path);
    struct bytes part = { .ptr = (const uint8_t *)text, .len = (size_t)len };
    return fileio_write_atomic(path, &part, 1);
}
