/*
 * brk_dispatch.h - what the broker serves, as ApiVersions tells clients.
 *
 * The codec (proto/kafka/NAME.api -> kmsg) may describe more than the broker
 * serves: an API or versions added for work in progress (Fetch v12+ and
 * OffsetForLeaderEpoch for partition replication).  brk_dispatch.c keeps the
 * served table - each API's handler and the highest version it serves - and
 * advertises exactly that; a request for a described but unserved API or
 * version closes the connection, like an unknown one.
 *
 * brk_dispatch() itself is declared in brk_int.h (it takes a brk_req).
 */
#ifndef SAMSA_BRK_DISPATCH_H
#define SAMSA_BRK_DISPATCH_H

#include <stdint.h>

#include "kmsg.h"

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
