/*
 * brk_ckpt.c - strict reader and atomic writer of Kafka checkpoint files.
 */
#include "brk_ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/log.h"

static bool brk_ckpt_topic_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

/* See brk_ckpt.h. */
bool brk_ckpt_parse_num(const char *p, const char *end, int64_t lo, int64_t hi, int64_t *out)
{
    bool neg = false;
    if (p < end && *p == '-') {
        neg = true;
        p++;
    }
    if (p == end || end - p > 19)
        return false;
    uint64_t v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > (uint64_t)INT64_MAX)
        return false;
    int64_t s = neg ? -(int64_t)v : (int64_t)v;
    if (s < lo || s > hi)
        return false;
    *out = s;
    return true;
}

/* See brk_ckpt.h. */
bool brk_ckpt_parse_line(const char *buf, size_t len, size_t *pos, const char **start,
                          const char **end)
{
    if (*pos >= len)
        return false;
    const char *s = buf + *pos;
    const char *nl = memchr(s, '\n', len - *pos);
    if (nl == NULL)
        return false;
    *start = s;
    *end = nl;
    *pos = (size_t)(nl - buf) + 1;
    return true;
}

int brk_ckpt_read(const char *path, struct brk_ckpt_entry *entries, size_t cap, size_t *count_out)
{
    ASSERT(count_out != NULL);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    if (st.st_size > (off_t)BRK_CKPT_FILE_BYTES_MAX) {
        close(fd);
        log_error("ckpt", "checkpoint too large path=%s bytes=%lld max=%u", path,
                  (long long)st.st_size, BRK_CKPT_FILE_BYTES_MAX);
        return ERR_LIMIT;
    }
    size_t len = (size_t)st.st_size;
    char *buf = malloc(len ? len : 1);
    if (buf == NULL) {
        close(fd);
        return -ENOMEM;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, buf + got, len - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int err = r < 0 ? -errno : ERR_CORRUPT;
            free(buf);
            close(fd);
            return err;
        }
        got += (size_t)r;
    }
    close(fd);

    int rc = ERR_CORRUPT;
    size_t pos = 0;
    int line_no = 1;
    const char *s, *e;
    int64_t version, count;
    if (!brk_ckpt_parse_line(buf, len, &pos, &s, &e) || !brk_ckpt_parse_num(s, e, 0, 0, &version))
        goto err_decode;
    line_no++;
    if (!brk_ckpt_parse_line(buf, len, &pos, &s, &e) || !brk_ckpt_parse_num(s, e, 0, INT32_MAX, &count))
        goto err_decode;
    if ((uint64_t)count > cap) {
        rc = ERR_LIMIT;
        log_error("ckpt", "checkpoint has more entries than allowed path=%s entries=%lld max=%zu",
                  path, (long long)count, cap);
        goto err_out;
    }
    for (int64_t k = 0; k < count; k++) {
        line_no++;
        if (!brk_ckpt_parse_line(buf, len, &pos, &s, &e))
            goto err_decode;
        const char *sp1 = memchr(s, ' ', (size_t)(e - s));
        if (sp1 == NULL || sp1 == s || sp1 - s > BRK_CKPT_TOPIC_BYTES_MAX)
            goto err_decode;
        const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(e - sp1 - 1));
        if (sp2 == NULL)
            goto err_decode;
        for (const char *c = s; c < sp1; c++)
            if (!brk_ckpt_topic_char_ok(*c))
                goto err_decode;
        int64_t part, off;
        if (!brk_ckpt_parse_num(sp1 + 1, sp2, 0, INT32_MAX, &part) ||
            !brk_ckpt_parse_num(sp2 + 1, e, -1, INT64_MAX, &off))
            goto err_decode;
        struct brk_ckpt_entry *en = &entries[k];
        memcpy(en->topic, s, (size_t)(sp1 - s));
        en->topic[sp1 - s] = '\0';
        en->partition = (int32_t)part;
        en->offset = off;
    }
    if (pos != len) {
        line_no++;
        goto err_decode;
    }
    free(buf);
    *count_out = (size_t)count;
    return 0;

err_decode:
    log_error("ckpt",
              "malformed checkpoint file path=%s line=%d fix=\"restore it from a replica or "
              "delete it (the broker then recovers all segments from scratch)\"",
              path, line_no);
err_out:
    free(buf);
    return rc;
}

int brk_ckpt_write(const char *path, const struct brk_ckpt_entry *entries, size_t count)
{
    for (size_t k = 0; k < count; k++) {
        size_t tl = strnlen(entries[k].topic, BRK_CKPT_TOPIC_BYTES_MAX + 1);
        if (tl == 0 || tl > BRK_CKPT_TOPIC_BYTES_MAX || entries[k].partition < 0)
            return ERR_INVALID;
        for (size_t c = 0; c < tl; c++)
            if (!brk_ckpt_topic_char_ok(entries[k].topic[c]))
                return ERR_INVALID;
    }
    struct fileio_tmp t;
    int rc = fileio_tmp_open(&t, path);
    if (rc < 0)
        return rc;
    char line[BRK_CKPT_TOPIC_BYTES_MAX + 64];
    int n = snprintf(line, sizeof line, "0\n%zu\n", count);
    rc = fileio_write_all(t.fd, line, (size_t)n);
    for (size_t k = 0; rc == 0 && k < count; k++) {
        n = snprintf(line, sizeof line, "%s %d %lld\n", entries[k].topic, (int)entries[k].partition,
                     (long long)entries[k].offset);
        ASSERT(n > 0 && (size_t)n < sizeof line);
        rc = fileio_write_all(t.fd, line, (size_t)n);
    }
    if (rc == 0)
        rc = fileio_tmp_commit(&t, false);
    else
        fileio_tmp_abort(&t);
    if (rc < 0 && !t.renamed)
        log_error("ckpt", "checkpoint write failed path=%s err=\"%s\"", path, err_str(rc));
    return rc;
}
