/*
 * verifiable_consumer.h - `samsa verifiable-consumer` =
 * kafka-verifiable-consumer.sh.
 */
#ifndef SAMSA_TOOLS_VERIFIABLE_CONSUMER_H
#define SAMSA_TOOLS_VERIFIABLE_CONSUMER_H

int tool_verifiable_consumer_main(int argc, char **argv);

#endif
