/*
 * console_producer.h - `samsa console-producer` = kafka-console-producer.sh.
 */
#ifndef SAMSA_TOOLS_CONSOLE_PRODUCER_H
#define SAMSA_TOOLS_CONSOLE_PRODUCER_H

int tool_console_producer_main(int argc, char **argv);

#endif
