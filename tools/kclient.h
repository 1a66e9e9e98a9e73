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

#endif
