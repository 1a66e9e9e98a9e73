/*
 * brk_lifecycle.c - the start-up gate for partition roles: registration
 * committed and caught up to it (see brk_lifecycle.h).
 */
#include "broker/brk_lifecycle.h"

#include <string.h>

#include "common/log.h"

void brk_lifecycle_init(struct brk_lifecycle *lc, const uint8_t incarnation_id[16])
{
    ASSERT(lc != NULL && incarnation_id != NULL);
    memset(lc, 0, sizeof *lc);
    lc->state = BRK_LIFECYCLE_STARTING;
    memcpy(lc->incarnation_id, incarnation_id, sizeof lc->incarnation_id);
    lc->registered_epoch = -1;
    lc->image_epoch = -1;
}

/* Both halves known, and the image's registration is the committed one (or
 * a later one of this incarnation): the roles start. */
static enum brk_lifecycle_action advance(struct brk_lifecycle *lc)
{
    if (lc->state == BRK_LIFECYCLE_RUNNING)
        return BRK_LIFECYCLE_NONE; /* once per life: later changes reach the roles record by record */
    if (lc->registered_epoch < 0) {
        ASSERT(lc->state == BRK_LIFECYCLE_STARTING);
        return BRK_LIFECYCLE_NONE;
    }
    lc->state = BRK_LIFECYCLE_RECOVERY;
    if (lc->image_epoch < lc->registered_epoch)
        return BRK_LIFECYCLE_NONE;
    lc->state = BRK_LIFECYCLE_RUNNING;
    return BRK_LIFECYCLE_START;
}

enum brk_lifecycle_action brk_lifecycle_registered(struct brk_lifecycle *lc, int64_t broker_epoch)
{
    ASSERT(broker_epoch > 0);
    if (broker_epoch > lc->registered_epoch)
        lc->registered_epoch = broker_epoch;
    return advance(lc);
}

enum brk_lifecycle_action brk_lifecycle_image(struct brk_lifecycle *lc, const uint8_t *incarnation_id,
                                              int64_t broker_epoch)
{
    /* another incarnation's registration (the previous one, replayed from
     * the log) says nothing about ours */
    if (!incarnation_id || memcmp(incarnation_id, lc->incarnation_id, sizeof lc->incarnation_id) != 0)
        return BRK_LIFECYCLE_NONE;
    if (broker_epoch > lc->image_epoch)
        lc->image_epoch = broker_epoch;
    return advance(lc);
}

bool brk_lifecycle_roles(const struct brk_lifecycle *lc) { return lc->state == BRK_LIFECYCLE_RUNNING; }

const char *brk_lifecycle_state_name(enum brk_lifecycle_state s)
{
    switch (s) {
    case BRK_LIFECYCLE_STARTING: return "STARTING";
    case BRK_LIFECYCLE_RECOVERY: return "RECOVERY";
    case BRK_LIFECYCLE_RUNNING: return "RUNNING";
    }
    return "?";
}
