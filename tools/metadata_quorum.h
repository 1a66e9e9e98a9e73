/*
 * metadata_quorum.h - `samsa metadata-quorum` (kafka-metadata-quorum.sh).
 */
#ifndef SAMSA_METADATA_QUORUM_H
#define SAMSA_METADATA_QUORUM_H

int tool_metadata_quorum_main(int argc, char **argv);

#endif
