/*
 * brk_dispatch.h - from a request frame to its handler: the request header
 * (v0-v2), the API table, ApiVersions.  Called by the connection layer.
 */
#ifndef SAMSA_BRK_DISPATCH_H
#define SAMSA_BRK_DISPATCH_H

#include "broker/brk_req.h"

/* brk_dispatch - decode req's header and run its handler.  Returns < 0 when
 * the connection must be closed (malformed frame; nothing answered it). */
MUST_CHECK int brk_dispatch(struct brk_req *req);

#endif
