/*
 * brk_fetcher.c - INTERIM: the follower fetch sessions land with the fetcher
 * work (issue 9); until then a follower does not fetch, and says so once.
 */
#include "broker/replica/brk_fetcher.h"

#include <errno.h>
#include <stdlib.h>

#include "broker/log/brk_part.h"
#include "common/log.h"

struct brk_fetcher {
    struct brk_ctx *ctx;
    bool warned;
};

int brk_fetcher_create(struct brk_ctx *ctx, struct brk_fetcher **out)
{
    struct brk_fetcher *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    f->ctx = ctx;
    *out = f;
    return 0;
}

void brk_fetcher_destroy(struct brk_fetcher *f) { free(f); }

void brk_fetcher_follow(struct brk_fetcher *f, struct brk_part *part)
{
    if (!f->warned)
        log_warn("fetcher", "follower fetching is not built yet; topic=%s partition=%d is not replicated here",
                 part->topic, part->partition);
    f->warned = true;
}

void brk_fetcher_unfollow(struct brk_fetcher *f, struct brk_part *part)
{
    (void)f;
    (void)part;
}
