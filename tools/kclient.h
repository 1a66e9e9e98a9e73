/*
 * kclient.h - a minimal blocking Kafka client over the project's own codec,
 * for the requests librdkafka does not expose (DescribeQuorum, ...).
 *
 * One TCP connection, one request at a time, a deadline on every call.
 * The caller encodes the request body with the generated kmsg_*_encode and
 * decodes the response body from the returned bytes.
 */
#ifndef SAMSA_KCLIENT_H
#define SAMSA_KCLIENT_H

#include <stdint.h>

#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/err.h"

#define KCLIENT_RESPONSE_BYTES_MAX (64u << 20)

struct kclient {
    int fd;
    int32_t correlation_id;
    int timeout_ms;
    struct buf in;
    char server[256];
};

/* kclient_connect - connect to the first reachable host:port of a
 * comma-separated bootstrap list. */
MUST_CHECK int kclient_connect(struct kclient *kc, const char *bootstrap, int timeout_ms);
void kclient_close(struct kclient *kc);
/* kclient_call - send body as (api_key, version) and return the response
 * body (after the response header) in *resp, borrowed until the next call. */
MUST_CHECK int kclient_call(struct kclient *kc, int16_t api_key, int16_t version, struct bytes body,
                            struct bytes *resp);

/* KCLIENT_CALL - encode *reqp as kmsg_<api>_req at version, call, and
 * decode the answer into *respp: the response bytes are copied into arena
 * a first, so what it decodes (strings, arrays) stays valid after the next
 * call and after kclient_close.  rc gets 0 or the first error. */
#define KCLIENT_CALL(rc, kc, api, api_key, version, reqp, a, respp)                     \
    do {                                                                               \
        struct buf kc_body_;                                                           \
        struct bytes kc_out_;                                                          \
        buf_init(&kc_body_, KCLIENT_RESPONSE_BYTES_MAX);                               \
        (rc) = kmsg_##api##_req_encode(&kc_body_, (version), (reqp));                  \
        if ((rc) == 0)                                                                 \
            (rc) = kclient_call((kc), (api_key), (version), buf_bytes(&kc_body_), &kc_out_); \
        buf_deinit(&kc_body_);                                                         \
        uint8_t *kc_copy_ = (rc) == 0 ? arena_alloc((a), kc_out_.len ? kc_out_.len : 1) : NULL; \
        if ((rc) == 0 && !kc_copy_)                                                    \
            (rc) = ERR_LIMIT;                                                          \
        if ((rc) == 0) {                                                               \
            struct kwire_reader kc_r_;                                                 \
            memcpy(kc_copy_, kc_out_.ptr, kc_out_.len);                                \
            kwire_reader_init(&kc_r_, bytes_make(kc_copy_, kc_out_.len));              \
            (rc) = kmsg_##api##_resp_decode(&kc_r_, (version), (a), (respp));          \
        }                                                                              \
    } while (0)

#endif
