/*
 * topics.h - `samsa topics`, the counterpart of kafka-topics.sh.
 *
 *   samsa topics --bootstrap-server HOST:PORT [--command-config FILE]
 *       --create --topic T [--partitions N] [--replication-factor R | --replica-assignment 1:2,2:3]
 *                [--config k=v]... [--if-not-exists]
 *     | --list [--topic REGEX] [--exclude-internal]
 *     | --describe [--topic REGEX] [--if-exists] [--exclude-internal]
 *                  [--topics-with-overrides | --under-replicated-partitions
 *                   | --unavailable-partitions | --under-min-isr-partitions
 *                   | --at-min-isr-partitions]
 *     | --alter --topic REGEX --partitions N [--replica-assignment ...] [--if-exists]
 *     | --delete --topic REGEX [--if-exists]
 *
 * Output and messages follow Kafka 3.x's TopicCommand so scripts written
 * for kafka-topics.sh keep working.  Exit status: 0 ok, 1 any error.
 */
#ifndef SAMSA_TOOLS_TOPICS_H
#define SAMSA_TOOLS_TOPICS_H

/* tool_topics_main - argv[0] is "topics".  Returns the process exit code. */
int tool_topics_main(int argc, char **argv);

#endif
