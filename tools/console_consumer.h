/*
 * console_consumer.h - `samsa console-consumer` = kafka-console-consumer.sh.
 */
#ifndef SAMSA_TOOLS_CONSOLE_CONSUMER_H
#define SAMSA_TOOLS_CONSOLE_CONSUMER_H

int tool_console_consumer_main(int argc, char **argv);

#endif
