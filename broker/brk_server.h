/*
 * brk_server.h - the broker process's composition root: creates the context
 * (brk_ctx.h), wires the modules (controller, partitions, connections,
 * groups, handlers), runs the loop and stops it.  Only server_main includes
 * this.
 */
#ifndef SAMSA_BRK_SERVER_H
#define SAMSA_BRK_SERVER_H

#include "broker/brk_ctx.h"

/* brk_server_create - bind listeners, open the controller and every local
 * partition log (recovering them).  config_path is only quoted in
 * operator messages.  Blocks.  Errors are logged for the
 * operator (what failed, the value, the fix). */
MUST_CHECK int brk_server_create(struct config *cfg, const char *config_path, struct brk_ctx **out);
/* brk_server_run - the loop; returns after SIGINT/SIGTERM or brk_server_stop:
 * 0, or the negative error of a start-up step that failed inside the loop
 * (a listener that cannot bind, partitions or groups that cannot load), so
 * the process exits non-zero. */
MUST_CHECK int brk_server_run(struct brk_ctx *srv);
void brk_server_stop(struct brk_ctx *srv);
void brk_server_destroy(struct brk_ctx *srv);


#endif
