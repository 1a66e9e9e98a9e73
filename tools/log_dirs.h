/*
 * log_dirs.h - `samsa log-dirs` (kafka-log-dirs.sh).
 */
#ifndef SAMSA_LOG_DIRS_H
#define SAMSA_LOG_DIRS_H

int tool_log_dirs_main(int argc, char **argv);

#endif
