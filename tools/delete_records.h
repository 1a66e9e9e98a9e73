/*
 * delete_records.h - `samsa delete-records` = kafka-delete-records.sh.
 */
#ifndef SAMSA_TOOLS_DELETE_RECORDS_H
#define SAMSA_TOOLS_DELETE_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* One entry of the offset JSON file (topic owned by the caller's buffer). */
struct delete_records_entry {
    char topic[256];
    int32_t partition;
    int64_t offset;
};

/*
 * delete_records_json_parse - Kafka's offset JSON
 * {"partitions":[{"topic":"t","partition":0,"offset":5}],"version":1}.
 * Like Kafka's Jackson reader, text after the first complete JSON value is
 * ignored (so the tutorial's `...}]}, "version":1}` is read).  Fills
 * out[0..*count), at most max entries.  Returns 0, or ERR_INVALID with
 * Kafka's message in err ("The input string is not a valid JSON", "Missing
 * partitions field", "Not supported version field value 2", ...).
 */
MUST_CHECK int delete_records_json_parse(const char *text, size_t len, struct delete_records_entry *out,
                                         size_t max, size_t *count, char *err, size_t err_size);

/* delete_records_json_parse_partitions - the same file without offsets
 * ({"partitions":[{"topic":"t","partition":0}]}: kafka-leader-election's
 * --path-to-json-file); offset is -1. */
MUST_CHECK int delete_records_json_parse_partitions(const char *text, size_t len, struct delete_records_entry *out,
                                                    size_t max, size_t *count, char *err, size_t err_size);

int tool_delete_records_main(int argc, char **argv);

#endif
