/*
 * kclient.c - connect, frame, send, receive, with poll() deadlines.
 */
#include "tools/kclient.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/be.h"
#include "common/kwire.h"
#include "kmsg.h"

int kclient_connect(struct kclient *kc, const char *bootstrap, int timeout_ms)
{
    memset(kc, 0, sizeof *kc);
    kc->fd = -1;
    kc->timeout_ms = timeout_ms;
    buf_init(&kc->in, KCLIENT_RESPONSE_BYTES_MAX);
    char list[1024];
    snprintf(list, sizeof list, "%s", bootstrap);
    int rc = -ECONNREFUSED;
    for (char *save = NULL, *hp = strtok_r(list, ",", &save); hp; hp = strtok_r(NULL, ",", &save)) {
        char *colon = strrchr(hp, ':');
        if (!colon)
            continue;
        *colon = '\0';
        const char *host = hp[0] == '[' ? hp + 1 : hp;
        if (hp[0] == '[' && colon[-1] == ']')
            colon[-1] = '\0';
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
        struct addrinfo *res = NULL;
        if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
            continue;
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
            int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
            if (fd < 0)
                continue;
            if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
                kc->fd = fd;
                snprintf(kc->server, sizeof kc->server, "%s:%s", host, colon + 1);
                break;
            }
            rc = -errno;
            close(fd);
        }
        freeaddrinfo(res);
        if (kc->fd >= 0)
            return 0;
    }
    buf_deinit(&kc->in);
    return rc;
}

void kclient_close(struct kclient *kc)
{
    if (kc->fd >= 0)
        close(kc->fd);
    kc->fd = -1;
    buf_deinit(&kc->in);
}

static int io_wait(struct kclient *kc, short events)
{
    struct pollfd p = { kc->fd, events, 0 };
    int n = poll(&p, 1, kc->timeout_ms);
    if (n < 0)
        return -errno;
    return n == 0 ? ERR_TIMEOUT : 0;
}

static int send_all(struct kclient *kc, const uint8_t *p, size_t n)
{
    while (n > 0) {
        int rc = io_wait(kc, POLLOUT);
        if (rc < 0)
            return rc;
        ssize_t w = send(kc->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int recv_all(struct kclient *kc, uint8_t *p, size_t n)
{
    while (n > 0) {
        int rc = io_wait(kc, POLLIN);
        if (rc < 0)
            return rc;
        ssize_t r = recv(kc->fd, p, n, 0);
        if (r == 0)
            return -ECONNRESET;
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return -errno;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int kclient_call(struct kclient *kc, int16_t api_key, int16_t version, struct bytes body, struct bytes *resp)
{
    struct buf req;
    buf_init(&req, KCLIENT_RESPONSE_BYTES_MAX);
    int32_t corr = ++kc->correlation_id;
    bool flexible = kmsg_api_is_flexible(api_key, version);
    int rc = kwire_write_i32(&req, 0);
    if (rc == 0)
        rc = kwire_write_i16(&req, api_key);
    if (rc == 0)
        rc = kwire_write_i16(&req, version);
    if (rc == 0)
        rc = kwire_write_i32(&req, corr);
    if (rc == 0)
        rc = kwire_write_string(&req, bytes_cstr("samsa-tools"));
    if (rc == 0 && flexible)
        rc = kwire_write_uvarint(&req, 0);
    if (rc == 0)
        rc = buf_append(&req, body.ptr, body.len);
    if (rc == 0) {
        uint32_t size = (uint32_t)(req.len - 4);
        be_put32(req.ptr, size);
        rc = send_all(kc, req.ptr, req.len);
    }
    buf_deinit(&req);
    if (rc < 0)
        return rc;
    uint8_t h[4];
    if ((rc = recv_all(kc, h, 4)) < 0)
        return rc;
    uint32_t size = be_get32(h);
    if (size < 4 || size > KCLIENT_RESPONSE_BYTES_MAX)
        return ERR_DECODE;
    buf_reset(&kc->in);
    if ((rc = buf_reserve(&kc->in, size)) < 0)
        return rc;
    if ((rc = recv_all(kc, kc->in.ptr, size)) < 0)
        return rc;
    kc->in.len = size;
    struct kwire_reader r;
    kwire_reader_init(&r, buf_bytes(&kc->in));
    int32_t got;
    if ((rc = kwire_read_i32(&r, &got)) < 0)
        return rc;
    if (got != corr)
        return ERR_DECODE;
    if (flexible && api_key != KMSG_API_API_VERSIONS && (rc = kwire_skip_tags(&r)) < 0)
        return rc;
    *resp = bytes_make(r.p, kwire_remaining(&r));
    return 0;
}
