/*
 * perf_tools.h - `samsa producer-perf-test` / `samsa consumer-perf-test` =
 * kafka-producer-perf-test.sh / kafka-consumer-perf-test.sh.
 */
#ifndef SAMSA_TOOLS_PERF_TOOLS_H
#define SAMSA_TOOLS_PERF_TOOLS_H

int tool_producer_perf_test_main(int argc, char **argv);
int tool_consumer_perf_test_main(int argc, char **argv);

#endif
