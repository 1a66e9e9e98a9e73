/*
 * brk_incarnation.h - the incarnation file: which process last started on
 * this broker's disks (`<first log dir>/.samsa_incarnation`).
 *
 * At every start, while the process holds its log-dir locks
 * (common/dirlock), the broker reads the incarnation id the file names (its
 * predecessor on these disks, dead: it held the same lock) and replaces it
 * with its own (atomic write with fsync, common/fileio).  The id read is sent
 * as BrokerRegistration's previous_incarnation_id: equal to the registered
 * incarnation, the controller accepts the restart at once; otherwise it
 * refuses a new incarnation (DUPLICATE_BROKER_REGISTRATION) while the
 * registered one's session is live (controller/README.md, "Duplicate node
 * ids").
 *
 * Format, one line per key (text, so an operator can read it):
 *     version=2
 *     incarnation.id=<32 lower-case hex digits>
 *     disk.id=<file system id, 16 hex digits>:<the dir's inode, hex>
 * A missing, unreadable or malformed file is "predecessor unknown": the
 * registration then waits for the old session like Kafka's always does.  So
 * is one written on other disks (disk.id differs): a log dir copied with
 * cp -a or rsync while its broker runs must not pass for a restart of it.
 * A block-level clone of the volume keeps both ids and is not told apart.
 * Never asserts on the file's contents (disk input).  Blocks on file I/O:
 * start-up only.
 */
#ifndef SAMSA_BRK_INCARNATION_H
#define SAMSA_BRK_INCARNATION_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define BRK_INCARNATION_FILE ".samsa_incarnation"

/*
 * brk_incarnation_swap - prev = the incarnation id <dir>/.samsa_incarnation
 * names (*prev_len 16), or *prev_len 0 when it is missing or unusable
 * (logged); then replace the file with self.  The caller holds dir's lock.
 * Returns 0, or the write's -errno (prev is valid either way; the next start
 * then reads an older id and waits out the session: no data is at stake).
 */
MUST_CHECK int brk_incarnation_swap(const char *dir, const uint8_t self[16], uint8_t prev[16], uint32_t *prev_len);

/* brk_incarnation_disk_id - dir's disk.id (statfs f_fsid, stat st_ino) into
 * out; 0 or -errno. */
MUST_CHECK int brk_incarnation_disk_id(const char *dir, char *out, size_t out_size);

#endif
