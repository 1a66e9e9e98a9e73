/*
 * tool_json.h - reading JSON input files in the tools, one token at a time.
 */
#ifndef SAMSA_TOOL_JSON_H
#define SAMSA_TOOL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct tool_json {
    const char *p, *end;
};

/* tool_json_ws - skip blanks. */
void tool_json_ws(struct tool_json *j);
/* tool_json_eat - the next token is the character c: consume it. */
bool tool_json_eat(struct tool_json *j, char c);
/* tool_json_string_read - a JSON string into out (escapes decoded; \u only
 * for ASCII).  ERR_INVALID when the next token is not a string, ERR_LIMIT
 * when it does not fit. */
MUST_CHECK int tool_json_string_read(struct tool_json *j, char *out, size_t size);
/* tool_json_number - a whole number. */
MUST_CHECK int tool_json_number(struct tool_json *j, int64_t *out);
/* tool_json_skip - one value of any shape. */
MUST_CHECK int tool_json_skip(struct tool_json *j);

/* Walking an object or an array: tool_json_object_begin (or _array_begin)
 * eats the opening bracket; each tool_json_member_next reads the next key
 * and its ':' (tool_json_element_next: positions at the next element) and
 * returns 1, or 0 after the closing bracket; ERR_INVALID on bad JSON. */
struct tool_json_iter {
    bool first;
};
MUST_CHECK int tool_json_object_begin(struct tool_json *j, struct tool_json_iter *it);
MUST_CHECK int tool_json_member_next(struct tool_json *j, struct tool_json_iter *it, char *key, size_t size);
MUST_CHECK int tool_json_array_begin(struct tool_json *j, struct tool_json_iter *it);
MUST_CHECK int tool_json_element_next(struct tool_json *j, struct tool_json_iter *it);

#endif
