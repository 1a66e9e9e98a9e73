/*
 * brk_dispatch.h - from a request frame to its handler: the request header
 * (v0-v2), the API table, ApiVersions.  Called by the connection layer.
 *
 * What the broker serves, as ApiVersions tells clients: the codec
 * (proto/kafka/NAME.api -> kmsg) may describe more than the broker serves:
 * an API or versions added for work in progress (Fetch v12+ and
 * OffsetForLeaderEpoch for partition replication).  brk_dispatch.c keeps the
 * served table - each API's handler and the highest version it serves - and
 * advertises exactly that; a request for a described but unserved API or
 * version closes the connection, like an unknown one.
 */
#ifndef SAMSA_BRK_DISPATCH_H
#define SAMSA_BRK_DISPATCH_H

#include <stdint.h>

#include "broker/net/brk_req.h"
#include "kmsg.h"

/* brk_dispatch - decode req's header and run its handler.  Returns < 0 when
 * the connection must be closed (malformed frame; nothing answered it). */
MUST_CHECK int brk_dispatch(struct brk_req *req);

/* brk_dispatch_served_max - the highest version of api_key this broker
 * serves, or -1 if it does not serve the API. */
int16_t brk_dispatch_served_max(int16_t api_key);

/* brk_dispatch_api_keys_count - how many APIs ApiVersions lists. */
int brk_dispatch_api_keys_count(void);

/* brk_dispatch_api_keys_fill - ApiVersions' list: keys[0..count) get each
 * served API's key, the codec's min version and the served max version.
 * keys must have room for brk_dispatch_api_keys_count() entries. */
void brk_dispatch_api_keys_fill(struct kmsg_api_versions_resp_api_key *keys);

#endif
