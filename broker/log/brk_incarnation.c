/*
 * brk_incarnation.c - the incarnation file (see brk_incarnation.h).
 *
 * Read before written, both under the caller's log-dir lock: the id read is
 * the last process that held the lock, hence dead.  The write goes through
 * fileio_write_atomic, so a crash leaves the old id or the new one.
 */
#include "broker/log/brk_incarnation.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "common/fileio.h"
#include "common/log.h"

#define INCARNATION_TEXT_BYTES_MAX 192
#define INCARNATION_KEY "\nincarnation.id="
#define INCARNATION_DISK_KEY "\ndisk.id="

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

int brk_incarnation_disk_id(const char *dir, char *out, size_t out_size)
{
    struct statfs fs;
    struct stat st;
    if (statfs(dir, &fs) < 0 || stat(dir, &st) < 0)
        return -errno;
    uint32_t fsid[2];
    memcpy(fsid, &fs.f_fsid, sizeof fsid);
    int n = snprintf(out, out_size, "%08" PRIx32 "%08" PRIx32 ":%" PRIx64, fsid[0], fsid[1], (uint64_t)st.st_ino);
    return n > 0 && (size_t)n < out_size ? 0 : -ENAMETOOLONG;
}

/* Parse text (NUL-terminated) into id, for the disks disk_id names; 0,
 * ERR_CORRUPT, or ERR_NOT_FOUND (written on other disks). */
static int incarnation_parse(const char *text, const char *disk_id, uint8_t id[16])
{
    if (strncmp(text, "version=2\n", 10) != 0)
        return ERR_CORRUPT;
    const char *d = strstr(text, INCARNATION_DISK_KEY);
    if (!d)
        return ERR_CORRUPT;
    d += strlen(INCARNATION_DISK_KEY);
    size_t dl = strlen(disk_id);
    if (strncmp(d, disk_id, dl) != 0 || d[dl] != '\n')
        return ERR_NOT_FOUND;
    const char *p = strstr(text, INCARNATION_KEY);
    if (!p)
        return ERR_CORRUPT;
    p += strlen(INCARNATION_KEY);
    for (int i = 0; i < 16; i++) {
        int hi = hex_digit(p[2 * i]), lo = hi < 0 ? -1 : hex_digit(p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ERR_CORRUPT;
        id[i] = (uint8_t)(hi << 4 | lo);
    }
    return p[32] == '\n' ? 0 : ERR_CORRUPT;
}

static void incarnation_read(const char *path, const char *disk_id, uint8_t prev[16], uint32_t *prev_len)
{
    *prev_len = 0;
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT)
            log_info("server", "no incarnation file path=%s (first start on these disks): if another process "
                     "with this node.id is still registered, registration waits for its session to end", path);
        else
            log_warn("server", "incarnation file unreadable path=%s error=\"%s\"; registration waits for the "
                     "previous process's session to end", path, strerror(errno));
        return;
    }
    char text[INCARNATION_TEXT_BYTES_MAX + 1];
    size_t n = fread(text, 1, INCARNATION_TEXT_BYTES_MAX, f);
    fclose(f);
    text[n] = '\0';
    int rc = incarnation_parse(text, disk_id, prev);
    if (rc == ERR_NOT_FOUND) {
        log_info("server", "incarnation file path=%s was written on other disks (a copied or moved log dir; "
                 "this one is disk.id=%s): its predecessor is unknown, so if another process with this node.id "
                 "is still registered, registration waits for its session to end", path, disk_id);
        return;
    }
    if (rc < 0) {
        log_warn("server", "incarnation file malformed path=%s; registration waits for the previous process's "
                 "session to end (the file is rewritten now)", path);
        return;
    }
    *prev_len = 16;
}

int brk_incarnation_swap(const char *dir, const uint8_t self[16], uint8_t prev[16], uint32_t *prev_len)
{
    ASSERT(dir != NULL);
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, BRK_INCARNATION_FILE);
    if (n < 0 || (size_t)n >= sizeof path) {
        *prev_len = 0;
        return -ENAMETOOLONG;
    }
    char disk_id[64];
    int rc = brk_incarnation_disk_id(dir, disk_id, sizeof disk_id);
    if (rc < 0) {
        *prev_len = 0;
        return rc;
    }
    incarnation_read(path, disk_id, prev, prev_len);
    ASSERT(*prev_len == 0 || *prev_len == 16);
    char text[INCARNATION_TEXT_BYTES_MAX];
    int len = snprintf(text, sizeof text, "version=2%s", INCARNATION_KEY);
    for (int i = 0; i < 16; i++)
        len += snprintf(text + len, sizeof text - (size_t)len, "%02x", self[i]);
    len += snprintf(text + len, sizeof text - (size_t)len, "%s%s\n", INCARNATION_DISK_KEY, disk_id);
    ASSERT(len > 0 && (size_t)len < sizeof text);
    struct bytes part = { .ptr = (const uint8_t *)text, .len = (size_t)len };
    return fileio_write_atomic(path, &part, 1);
}
