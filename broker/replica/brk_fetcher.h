/*
 * brk_fetcher.h - follower fetch sessions: each partition this broker
 * follows is fetched from its leader's broker (broker/README.md,
 * "Follower fetch loop").  Placeholder interface until the fetcher lands.
 */
#ifndef SAMSA_BRK_FETCHER_H
#define SAMSA_BRK_FETCHER_H

#include "common/err.h"

struct brk_ctx;
struct brk_part;
struct brk_fetcher;

MUST_CHECK int brk_fetcher_create(struct brk_ctx *ctx, struct brk_fetcher **out);
void brk_fetcher_destroy(struct brk_fetcher *f);
/* brk_fetcher_follow - part->replica names the leader and leader epoch:
 * (re)place the partition in a session of that leader. */
void brk_fetcher_follow(struct brk_fetcher *f, struct brk_part *part);
/* brk_fetcher_unfollow - stop fetching part (a response in flight is dropped). */
void brk_fetcher_unfollow(struct brk_fetcher *f, struct brk_part *part);

#endif
