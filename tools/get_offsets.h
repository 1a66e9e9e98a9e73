/*
 * get_offsets.h - `samsa get-offsets` = kafka-get-offsets.sh and
 * `kafka-run-class kafka.tools.GetOffsetShell`.
 */
#ifndef SAMSA_TOOLS_GET_OFFSETS_H
#define SAMSA_TOOLS_GET_OFFSETS_H

int tool_get_offsets_main(int argc, char **argv);

#endif
