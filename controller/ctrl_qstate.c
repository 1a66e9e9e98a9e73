/*
 * ctrl_qstate.c - read and atomically write the quorum-state file.
 */
#include "controller/ctrl_qstate.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/log.h"

#define QSTATE_FILE_BYTES_MAX 4096

static int qstate_path(const char *dir, const char *name, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/__cluster_metadata-0/%s", dir, name);
    return n < 0 || (size_t)n >= size ? ERR_LIMIT : 0;
}

static int json_i64(const char *text, const char *key, int64_t *out)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(text, pat);
    if (!p)
        return ERR_CORRUPT;
    p += strlen(pat);
    char *end;
    errno = 0;
    long long v = strtoll(p, &end, 10);
    if (errno || end == p)
        return ERR_CORRUPT;
    *out = v;
    return 0;
}

int ctrl_qstate_read(const char *dir, struct ctrl_qstate *out)
{
    char path[PATH_MAX];
    int rc = qstate_path(dir, "quorum-state", path, sizeof path);
    if (rc < 0)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char text[QSTATE_FILE_BYTES_MAX + 1];
    ssize_t n = read(fd, text, QSTATE_FILE_BYTES_MAX);
    int err = errno;
    close(fd);
    if (n < 0)
        return -err;
    text[n] = '\0';
    int64_t epoch = 0, voted = -1;
    /* votedId -1 is "none"; 0 is node 0 (Kafka's ids start at 0) */
    if (json_i64(text, "leaderEpoch", &epoch) < 0 || json_i64(text, "votedId", &voted) < 0 || epoch < 0 ||
        voted < -1 || voted >= (int64_t)RAFT_ID_NONE) {
        log_error("qstate", "quorum-state does not parse path=%s; move it away only if this node's "
                  "metadata log is also discarded", path);
        return ERR_CORRUPT;
    }
    out->epoch = (uint64_t)epoch;
    out->voted_for = voted < 0 ? RAFT_ID_NONE : (uint32_t)voted;
    out->catching_up = strstr(text, "\"catchingUp\":true") != NULL;
    return 0;
}

int ctrl_qstate_write(const char *dir, const struct ctrl_qstate *qs)
{
    char path[PATH_MAX];
    int rc = qstate_path(dir, "quorum-state", path, sizeof path);
    if (rc < 0)
        return rc;
    char text[256];
    int n = snprintf(text, sizeof text, "{\"leaderEpoch\":%llu,\"votedId\":%lld,\"catchingUp\":%s,\"data_version\":0}\n",
                     (unsigned long long)qs->epoch, qs->voted_for != RAFT_ID_NONE ? (long long)qs->voted_for : -1LL,
                     qs->catching_up ? "true" : "false");
    ASSERT(n > 0 && (size_t)n < sizeof text);
    struct bytes data = { (const uint8_t *)text, (size_t)n };
    return fileio_write_atomic(path, &data, 1);
}
