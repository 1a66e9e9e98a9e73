/*
 * configs.h - `samsa configs`, the counterpart of kafka-configs.sh.
 *
 *   samsa configs --bootstrap-server HOST:PORT [--command-config FILE]
 *       --describe --entity-type topics|brokers [--entity-name X | --entity-default] [--all]
 *     | --alter --entity-type topics|brokers (--entity-name X | --entity-default)
 *               [--add-config k=v,k2=[a,b]] [--delete-config k1,k2]
 *   (--topic X and --broker N / --broker-defaults are the Kafka shortcuts.)
 *
 * Output and messages follow Kafka 3.x's ConfigCommand.  Exit status: 0 ok,
 * 1 any error.
 */
#ifndef SAMSA_TOOLS_CONFIGS_H
#define SAMSA_TOOLS_CONFIGS_H

/* tool_configs_main - argv[0] is "configs".  Returns the process exit code. */
int tool_configs_main(int argc, char **argv);

#endif
