/*
 * reassign_partitions.h - `samsa reassign-partitions`
 * (kafka-reassign-partitions.sh).
 */
#ifndef SAMSA_REASSIGN_PARTITIONS_H
#define SAMSA_REASSIGN_PARTITIONS_H

int tool_reassign_partitions_main(int argc, char **argv);

#endif
