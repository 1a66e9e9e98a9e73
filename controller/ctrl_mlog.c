/*
 * ctrl_mlog.c - frames on disk, an offset->position table in memory.
 *
 * Frame: u32 len | u32 crc32c | i64 offset | i32 epoch | data, big-endian,
 * len counting the bytes after itself, crc covering offset..data.
 * Recovery scans frames from the start and cuts the file at the first frame
 * that is short, oversized, out of sequence or fails its CRC: that tail was
 * never synced, so never acknowledged.
 */
#include "controller/ctrl_mlog.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/be.h"
#include "common/crc32c.h"
#include "common/fileio.h"
#include "common/log.h"

#define MLOG_FRAME_HDR_BYTES 20 /* len + crc + offset + epoch */

struct ctrl_mlog_pos {
    int64_t file_pos;
    int32_t epoch;
    uint32_t data_bytes;
};

struct ctrl_mlog {
    int fd;
    char path[PATH_MAX];
    int64_t start_offset;
    int64_t file_bytes;
    struct ctrl_mlog_pos *pos;
    int64_t pos_count;
    int64_t pos_cap;
};

static int mlog_pread_full(int fd, void *p, size_t n, int64_t off)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (uint8_t *)p + done, n - done, (off_t)(off + (int64_t)done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return 0; /* short: caller compares */
        done += (size_t)r;
    }
    return 1;
}

static int mlog_pos_push(struct ctrl_mlog *m, struct ctrl_mlog_pos p)
{
    if (m->pos_count >= CTRL_MLOG_ENTRIES_MAX)
        return ERR_LIMIT;
    if (m->pos_count == m->pos_cap) {
        int64_t cap = m->pos_cap ? m->pos_cap * 2 : 1024;
        struct ctrl_mlog_pos *np = realloc(m->pos, (size_t)cap * sizeof *np);
        if (!np)
            return -ENOMEM;
        m->pos = np;
        m->pos_cap = cap;
    }
    m->pos[m->pos_count++] = p;
    return 0;
}

static int mlog_recover(struct ctrl_mlog *m)
{
    struct stat st;
    if (fstat(m->fd, &st) < 0)
        return -errno;
    int64_t size = st.st_size, at = 0;
    uint8_t hdr[MLOG_FRAME_HDR_BYTES];
    uint8_t *data = NULL;
    int rc = 0;
    while (at < size) {
        if (size - at < MLOG_FRAME_HDR_BYTES)
            break;
        rc = mlog_pread_full(m->fd, hdr, sizeof hdr, at);
        if (rc < 0)
            goto out;
        uint32_t len = be_get32(hdr);
        if (len < MLOG_FRAME_HDR_BYTES - 4 || len - (MLOG_FRAME_HDR_BYTES - 4) > CTRL_MLOG_ENTRY_BYTES_MAX ||
            (int64_t)len > size - at - 4)
            break;
        int64_t offset = (int64_t)be_get64(hdr + 8);
        int32_t epoch = (int32_t)be_get32(hdr + 16);
        int64_t expect = m->pos_count == 0 ? offset : m->start_offset + m->pos_count;
        if (m->pos_count == 0)
            m->start_offset = offset;
        if (offset != expect || offset < 0)
            break;
        uint32_t data_bytes = len - (MLOG_FRAME_HDR_BYTES - 4);
        uint8_t *nd = realloc(data, data_bytes ? data_bytes : 1);
        if (!nd) {
            rc = -ENOMEM;
            goto out;
        }
        data = nd;
        rc = mlog_pread_full(m->fd, data, data_bytes, at + MLOG_FRAME_HDR_BYTES);
        if (rc < 0)
            goto out;
        uint32_t crc = crc32c(0, hdr + 8, 12);
        crc = crc32c(crc, data, data_bytes);
        if (crc != be_get32(hdr + 4))
            break;
        rc = mlog_pos_push(m, (struct ctrl_mlog_pos){ at, epoch, data_bytes });
        if (rc < 0)
            goto out;
        at += 4 + (int64_t)len;
    }
    rc = 0;
    if (at < size) {
        log_warn("mlog", "metadata log torn tail cut path=%s valid_bytes=%lld dropped_bytes=%lld entries=%lld",
                 m->path, (long long)at, (long long)(size - at), (long long)m->pos_count);
        if (ftruncate(m->fd, at) < 0 || fdatasync(m->fd) < 0)
            rc = -errno;
    }
    m->file_bytes = at;
out:
    free(data);
    return rc;
}

int ctrl_mlog_open(const char *dir, struct ctrl_mlog **out)
{
    char sub[PATH_MAX];
    int n = snprintf(sub, sizeof sub, "%s/__cluster_metadata-0", dir);
    if (n < 0 || (size_t)n >= sizeof sub)
        return ERR_LIMIT;
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return -errno;
    if (mkdir(sub, 0755) < 0 && errno != EEXIST)
        return -errno;
    struct ctrl_mlog *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    n = snprintf(m->path, sizeof m->path, "%s/00000000000000000000.log", sub);
    if (n < 0 || (size_t)n >= sizeof m->path) {
        free(m);
        return ERR_LIMIT;
    }
    m->fd = open(m->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m->fd < 0) {
        int rc = -errno;
        log_error("mlog", "cannot open metadata log path=%s error=\"%s\"; check that the directory is writable",
                  m->path, err_str(rc));
        free(m);
        return rc;
    }
    int rc = mlog_recover(m);
    if (rc < 0) {
        log_error("mlog", "metadata log recovery failed path=%s error=\"%s\"", m->path, err_str(rc));
        ctrl_mlog_destroy(m);
        return rc;
    }
    log_info("mlog", "metadata log open path=%s entries=%lld end_offset=%lld", m->path,
             (long long)m->pos_count, (long long)ctrl_mlog_end_offset(m));
    *out = m;
    return 0;
}

void ctrl_mlog_destroy(struct ctrl_mlog *m)
{
    if (!m)
        return;
    if (m->fd >= 0)
        close(m->fd);
    free(m->pos);
    free(m);
}

int64_t ctrl_mlog_start_offset(const struct ctrl_mlog *m) { return m->start_offset; }
int64_t ctrl_mlog_end_offset(const struct ctrl_mlog *m) { return m->start_offset + m->pos_count; }

int32_t ctrl_mlog_last_epoch(const struct ctrl_mlog *m)
{
    return m->pos_count ? m->pos[m->pos_count - 1].epoch : 0;
}

int ctrl_mlog_epoch_find(const struct ctrl_mlog *m, int64_t offset, int32_t *epoch_out)
{
    if (offset < m->start_offset || offset >= ctrl_mlog_end_offset(m))
        return ERR_OFFSET_RANGE;
    *epoch_out = m->pos[offset - m->start_offset].epoch;
    return 0;
}

int ctrl_mlog_append(struct ctrl_mlog *m, int64_t offset, int32_t epoch, struct bytes data)
{
    ASSERT(offset == ctrl_mlog_end_offset(m) || m->pos_count == 0);
    if (data.len > CTRL_MLOG_ENTRY_BYTES_MAX)
        return ERR_TOO_LARGE;
    if (m->pos_count == 0)
        m->start_offset = offset;
    uint8_t hdr[MLOG_FRAME_HDR_BYTES];
    be_put32(hdr, (uint32_t)(MLOG_FRAME_HDR_BYTES - 4 + data.len));
    be_put64(hdr + 8, (uint64_t)offset);
    be_put32(hdr + 16, (uint32_t)epoch);
    uint32_t crc = crc32c(0, hdr + 8, 12);
    crc = crc32c(crc, data.ptr, data.len);
    be_put32(hdr + 4, crc);
    struct iovec iov[2] = { { hdr, sizeof hdr }, { (void *)data.ptr, data.len } };
    size_t want = sizeof hdr + data.len;
    ssize_t w = pwritev(m->fd, iov, 2, (off_t)m->file_bytes);
    if (w < 0 || (size_t)w != want) {
        int rc = w < 0 ? -errno : -EIO;
        /* cut whatever part landed so the file stays a clean frame sequence */
        if (ftruncate(m->fd, m->file_bytes) < 0)
            log_error("mlog", "cannot cut failed append path=%s", m->path);
        log_error("mlog", "metadata log write failed path=%s error=\"%s\"; free disk space or fix the device",
                  m->path, err_str(rc));
        return rc == -ENOSPC ? ERR_NO_SPACE : rc;
    }
    int rc = mlog_pos_push(m, (struct ctrl_mlog_pos){ m->file_bytes, epoch, (uint32_t)data.len });
    if (rc < 0)
        return rc;
    m->file_bytes += (int64_t)want;
    return 0;
}

int ctrl_mlog_fd(const struct ctrl_mlog *m) { return m->fd; }

int ctrl_mlog_sync(struct ctrl_mlog *m)
{
    if (fdatasync(m->fd) < 0) {
        int rc = -errno;
        log_error("mlog", "metadata log fsync failed path=%s error=\"%s\"", m->path, err_str(rc));
        return rc;
    }
    return 0;
}

int ctrl_mlog_read(struct ctrl_mlog *m, int64_t offset, struct buf *out, int32_t *epoch_out)
{
    if (offset < m->start_offset || offset >= ctrl_mlog_end_offset(m))
        return ERR_OFFSET_RANGE;
    const struct ctrl_mlog_pos *p = &m->pos[offset - m->start_offset];
    buf_reset(out);
    int rc = buf_reserve(out, p->data_bytes);
    if (rc < 0)
        return rc;
    rc = mlog_pread_full(m->fd, out->ptr, p->data_bytes, p->file_pos + MLOG_FRAME_HDR_BYTES);
    if (rc < 0)
        return rc;
    if (rc == 0 && p->data_bytes > 0)
        return ERR_CORRUPT;
    out->len = p->data_bytes;
    *epoch_out = p->epoch;
    return 0;
}

int ctrl_mlog_truncate(struct ctrl_mlog *m, int64_t offset)
{
    if (offset >= ctrl_mlog_end_offset(m))
        return 0;
    if (offset < m->start_offset)
        offset = m->start_offset;
    int64_t keep = offset - m->start_offset;
    int64_t at = keep < m->pos_count ? m->pos[keep].file_pos : m->file_bytes;
    if (ftruncate(m->fd, at) < 0)
        return -errno;
    m->pos_count = keep;
    m->file_bytes = at;
    return ctrl_mlog_sync(m);
}

int ctrl_mlog_cut_prefix(struct ctrl_mlog *m, int64_t offset)
{
    if (offset <= m->start_offset || m->pos_count == 0)
        return 0;
    if (offset >= ctrl_mlog_end_offset(m))
        return ctrl_mlog_truncate(m, m->start_offset); /* empty: the next append sets the start */
    int64_t keep_from = offset - m->start_offset;
    int64_t from_pos = m->pos[keep_from].file_pos;
    struct fileio_tmp t;
    int rc = fileio_tmp_open(&t, m->path);
    if (rc < 0)
        return rc;
    uint8_t chunk[65536];
    for (int64_t at = from_pos; at < m->file_bytes && rc == 0;) {
        size_t n = (size_t)(m->file_bytes - at < (int64_t)sizeof chunk ? m->file_bytes - at : (int64_t)sizeof chunk);
        rc = mlog_pread_full(m->fd, chunk, n, at);
        if (rc == 0)
            rc = ERR_CORRUPT;
        if (rc < 0)
            break;
        rc = fileio_write_all(t.fd, chunk, n);
        at += (int64_t)n;
    }
    if (rc < 0) {
        fileio_tmp_abort(&t);
        return rc;
    }
    rc = fileio_tmp_commit(&t, true);
    if (!t.renamed)
        return rc;
    /* the cut file is in place (even if its directory sync failed): use it */
    close(m->fd);
    m->fd = t.fd;
    memmove(m->pos, m->pos + keep_from, (size_t)(m->pos_count - keep_from) * sizeof *m->pos);
    m->pos_count -= keep_from;
    for (int64_t i = 0; i < m->pos_count; i++)
        m->pos[i].file_pos -= from_pos;
    m->file_bytes -= from_pos;
    m->start_offset = offset;
    return rc;
}
