/*
 * dump_log.h - `samsa dump-log` = kafka-dump-log.sh.
 */
#ifndef SAMSA_TOOLS_DUMP_LOG_H
#define SAMSA_TOOLS_DUMP_LOG_H

int tool_dump_log_main(int argc, char **argv);

#endif
