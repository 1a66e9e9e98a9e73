/*
 * verifiable_producer.h - `samsa verifiable-producer` =
 * kafka-verifiable-producer.sh.
 */
#ifndef SAMSA_TOOLS_VERIFIABLE_PRODUCER_H
#define SAMSA_TOOLS_VERIFIABLE_PRODUCER_H

int tool_verifiable_producer_main(int argc, char **argv);

#endif
