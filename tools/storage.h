/*
 * storage.h - `samsa storage`, the counterpart of kafka-storage.sh.
 *
 *   samsa storage random-uuid
 *   samsa storage format -t CLUSTER_ID -c server.properties [--ignore-formatted]
 *                        [--override key=value]...
 *   samsa storage info -c server.properties
 *
 * format writes meta.properties into every log dir and the metadata log
 * dir, creating them; the config is loaded exactly as the server loads it
 * (file, KAFKA_* environment, overrides).  Exit codes follow kafka-storage:
 * 0 on success, 1 on any failure (usage included).
 */
#ifndef SAMSA_TOOLS_STORAGE_H
#define SAMSA_TOOLS_STORAGE_H

/* tool_storage_main - argv[0] is "storage".  Returns the process exit code. */
int tool_storage_main(int argc, char **argv);

#endif
