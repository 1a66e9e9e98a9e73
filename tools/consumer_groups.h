/*
 * consumer_groups.h - `samsa consumer-groups`, the counterpart of
 * kafka-consumer-groups.sh.
 *
 *   samsa consumer-groups --bootstrap-server HOST:PORT [--command-config FILE] [--timeout MS]
 *       --list [--state [STATE,...]]
 *     | --describe (--group G... | --all-groups) [--offsets | --members [--verbose] | --state]
 *     | --delete (--group G... | --all-groups)
 *     | --reset-offsets (--group G... | --all-groups) (--topic T[:P,P]... | --all-topics)
 *           (--to-earliest | --to-latest | --to-current | --to-offset N | --shift-by N
 *            | --to-datetime YYYY-MM-DDTHH:mm:SS.sss) [--dry-run | --execute]
 *
 * Output and messages follow Kafka 3.x's ConsumerGroupCommand so scripts
 * written for kafka-consumer-groups.sh keep working, including its exit
 * status: 1 for usage errors, 0 otherwise (Kafka prints "Error: ..." for a
 * failed command and still exits 0).
 */
#ifndef SAMSA_TOOLS_CONSUMER_GROUPS_H
#define SAMSA_TOOLS_CONSUMER_GROUPS_H

/* tool_consumer_groups_main - argv[0] is "consumer-groups".  Returns the process exit code. */
int tool_consumer_groups_main(int argc, char **argv);

#endif
