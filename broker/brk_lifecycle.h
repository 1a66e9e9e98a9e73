/*
 * brk_lifecycle.h - when a starting broker may take its partition roles
 * (Kafka's BrokerLifecycleManager / BrokerServer start-up, KIP-631).
 *
 * A broker that starts replays its metadata log and opens its partition
 * logs, but the image it replayed is the one of its previous incarnation:
 * leaderships the controller is about to move away.  Acting on it (taking
 * produce as leader, starting follower fetchers with stale epochs, loading
 * groups) could acknowledge records the real leader never sees.  So the
 * broker holds every partition role until
 *
 *   1. its registration is committed (the active controller answered with
 *      this incarnation's broker epoch), and
 *   2. its local image shows that registration: the metadata applied here
 *      reached the RegisterBrokerRecord with this incarnation id and epoch
 *      (Kafka: caught up to the metadata offset of the registration).  The
 *      controller commits the records that move the previous incarnation's
 *      leaderships in the same batch, before the registration record, so
 *      the image then shows them.
 *
 * Then the roles are taken from the then-current image, once.  The states
 * are Kafka's BrokerState names:
 *
 *   STARTING ──registered(epoch)──► RECOVERY ──image shows it──► RUNNING
 *       └──────image shows it first (reply still on its way)──────┘ (needs both)
 *
 * Pure: no I/O, no clock; brk_server feeds the events and acts on
 * BRK_LIFECYCLE_START.  Unit-tested in brk_lifecycle_test.
 */
#ifndef SAMSA_BRK_LIFECYCLE_H
#define SAMSA_BRK_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

enum brk_lifecycle_state {
    BRK_LIFECYCLE_STARTING = 0, /* replaying, opening logs, registering: no roles */
    BRK_LIFECYCLE_RECOVERY,     /* registered; the image has not reached the registration yet: no roles */
    BRK_LIFECYCLE_RUNNING,      /* roles taken from the image */
};

/* What the caller must do after an event. */
enum brk_lifecycle_action {
    BRK_LIFECYCLE_NONE = 0,
    BRK_LIFECYCLE_START, /* take every partition role from the current image, now (once per life) */
};

struct brk_lifecycle {
    enum brk_lifecycle_state state;
    uint8_t incarnation_id[16]; /* this process's */
    int64_t registered_epoch;   /* from the committed registration; -1 none yet */
    int64_t image_epoch;        /* the image's registration of this incarnation; -1 not seen */
};

void brk_lifecycle_init(struct brk_lifecycle *lc, const uint8_t incarnation_id[16]);
/* brk_lifecycle_registered - the active controller committed our
 * registration with broker_epoch (> 0).  A later re-registration of the
 * same incarnation (a controller that lost us) does not take roles away. */
enum brk_lifecycle_action brk_lifecycle_registered(struct brk_lifecycle *lc, int64_t broker_epoch);
/* brk_lifecycle_image - the image's registration of this node id changed
 * (or a snapshot replaced the image): its incarnation id and broker epoch,
 * or incarnation_id NULL when the image has none. */
enum brk_lifecycle_action brk_lifecycle_image(struct brk_lifecycle *lc, const uint8_t *incarnation_id,
                                              int64_t broker_epoch);
/* brk_lifecycle_roles - may partition roles be held now? */
bool brk_lifecycle_roles(const struct brk_lifecycle *lc);
const char *brk_lifecycle_state_name(enum brk_lifecycle_state s);

#endif
