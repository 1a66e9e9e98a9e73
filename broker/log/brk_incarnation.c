/*
 * brk_incarnation.c - the incarnation file (see brk_incarnation.h).
 *
 * Read before written, both under the caller's log-dir lock: the id read is
 * the last process that held the lock, hence dead.  The write goes through
 * fileio_write_atomic, so a crash leaves the old id or the new one.
 */
#include "broker/log/brk_incarnation.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "common/fileio.h"
#include "common/log.h"

#define INCARNATION_TEXT_BYTES_MAX 128
#define INCARNATION_KEY "\nincarnation.id="

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* Parse text (NUL-terminated) into id; 0 or ERR_CORRUPT. */
static int incarnation_parse(const char *text, uint8_t id[16])
{
    if (strncmp(text, "version=1\n", 10) != 0)
        return ERR_CORRUPT;
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

static void incarnation_read(const char *path, uint8_t prev[16], uint32_t *prev_len)
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
    if (incarnation_parse(text, prev) < 0) {
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
    incarnation_read(path, prev, prev_len);
    ASSERT(*prev_len == 0 || *prev_len == 16);
    char text[INCARNATION_TEXT_BYTES_MAX];
    int len = snprintf(text, sizeof text, "version=1%s", INCARNATION_KEY);
    for (int i = 0; i < 16; i++)
        len += snprintf(text + len, sizeof text - (size_t)len, "%02x", self[i]);
    len += snprintf(text + len, sizeof text - (size_t)len, "\n");
    ASSERT(len > 0 && (size_t)len < sizeof text);
    struct bytes part = { .ptr = (const uint8_t *)text, .len = (size_t)len };
    return fileio_write_atomic(path, &part, 1);
}
