/*
 * brk_cleanmark.h - the clean-shutdown file, Kafka's .kafka_cleanshutdown
 * (KIP-966's PreviousBrokerEpoch).
 *
 * At a clean stop, once every partition log is closed, the file systems of
 * the log dirs are synced (syncfs) and `<first log dir>/.kafka_cleanshutdown`
 * is written atomically with the broker epoch the broker held, in Kafka's
 * format ({"version":0,"brokerEpoch":N}).  At start it is taken: read and
 * removed (durably), so a crash in the run that follows leaves none.  The
 * broker sends the epoch in its registration; the controller treats any
 * other value than the epoch it registered last as an unclean shutdown
 * (with eligible.leader.replicas.enable the broker leaves every ISR and
 * ELR: it may have lost an unflushed tail).
 *
 * Both calls BLOCK on disk I/O (start-up and shutdown only).
 */
#ifndef SAMSA_BRK_CLEANMARK_H
#define SAMSA_BRK_CLEANMARK_H

#include <stdint.h>

#include "common/config.h"
#include "common/err.h"

#define BRK_CLEANMARK_FILE ".kafka_cleanshutdown"

/* brk_cleanmark_take - *epoch = the broker epoch of the last clean stop, -1
 * when there was none (no file, an unreadable one, or one that could not be
 * removed: a later crash must not read as clean). */
void brk_cleanmark_take(const struct config_node *node, int64_t *epoch);

/* brk_cleanmark_write - sync the log dirs' file systems, then write the file
 * with epoch.  0, or -errno (the next start counts as unclean). */
MUST_CHECK int brk_cleanmark_write(const struct config_node *node, int64_t epoch);

#endif
