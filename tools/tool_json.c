/*
 * tool_json.c - a small iterative JSON scanner for the tools' input files
 * (kafka-delete-records' offsets, kafka-reassign-partitions' plans): the
 * caller walks the shape it expects; unknown values are skipped with a
 * depth counter, never by recursion.
 */
#include "tools/tool_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void tool_json_ws(struct tool_json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

bool tool_json_eat(struct tool_json *j, char c)
{
    tool_json_ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return true;
    }
    return false;
}

/* a JSON string into out (escapes decoded; \u only for ASCII) */
int tool_json_string_read(struct tool_json *j, char *out, size_t size)
{
    if (!tool_json_eat(j, '"'))
        return ERR_INVALID;
    size_t n = 0;
    while (j->p < j->end && *j->p != '"') {
        char c = *j->p++;
        if (c == '\\') {
            if (j->p >= j->end)
                return ERR_INVALID;
            c = *j->p++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                if (j->end - j->p < 4)
                    return ERR_INVALID;
                char hex[5] = { j->p[0], j->p[1], j->p[2], j->p[3], 0 };
                char *e = NULL;
                long v = strtol(hex, &e, 16);
                if (*e != '\0' || v > 0x7f)
                    return ERR_INVALID;
                c = (char)v;
                j->p += 4;
                break;
            }
            default: break; /* \" \\ \/ */
            }
        }
        if (n + 1 >= size)
            return ERR_LIMIT;
        out[n++] = c;
    }
    if (j->p >= j->end)
        return ERR_INVALID;
    j->p++;
    out[n] = '\0';
    return 0;
}

int tool_json_number(struct tool_json *j, int64_t *out)
{
    tool_json_ws(j);
    char buf[32];
    size_t n = 0;
    while (j->p < j->end && n + 1 < sizeof buf && (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')))
        buf[n++] = *j->p++;
    buf[n] = '\0';
    char *e = NULL;
    errno = 0;
    long long v = strtoll(buf, &e, 10);
    if (n == 0 || *e != '\0' || errno)
        return ERR_INVALID;
    *out = v;
    return 0;
}

/* skip one value of any shape, iteratively */
int tool_json_skip(struct tool_json *j)
{
    int depth = 0;
    do {
        tool_json_ws(j);
        if (j->p >= j->end)
            return ERR_INVALID;
        char c = *j->p;
        if (c == '"') {
            char tmp[4096];
            if (tool_json_string_read(j, tmp, sizeof tmp) < 0)
                return ERR_INVALID;
        } else if (c == '{' || c == '[') {
            depth++;
            j->p++;
            continue;
        } else if (c == '}' || c == ']') {
            depth--;
            j->p++;
        } else if (c == ',' || c == ':') {
            j->p++;
            continue;
        } else {
            while (j->p < j->end && !strchr(",]} \t\r\n", *j->p))
                j->p++;
        }
    } while (depth > 0);
    return depth == 0 ? 0 : ERR_INVALID;
}


static int json_open(struct tool_json *j, struct tool_json_iter *it, char open)
{
    it->first = true;
    return tool_json_eat(j, open) ? 0 : ERR_INVALID;
}

/* json_next - 1 when another item follows, 0 after close. */
static int json_next(struct tool_json *j, struct tool_json_iter *it, char close)
{
    bool first = it->first;
    it->first = false;
    if (tool_json_eat(j, close))
        return 0;
    if (!first && !tool_json_eat(j, ','))
        return ERR_INVALID;
    return 1;
}

int tool_json_object_begin(struct tool_json *j, struct tool_json_iter *it)
{
    return json_open(j, it, '{');
}

int tool_json_member_next(struct tool_json *j, struct tool_json_iter *it, char *key, size_t size)
{
    int rc = json_next(j, it, '}');
    if (rc <= 0)
        return rc;
    if (tool_json_string_read(j, key, size) < 0 || !tool_json_eat(j, ':'))
        return ERR_INVALID;
    return 1;
}

int tool_json_array_begin(struct tool_json *j, struct tool_json_iter *it)
{
    return json_open(j, it, '[');
}

int tool_json_element_next(struct tool_json *j, struct tool_json_iter *it)
{
    return json_next(j, it, ']');
}
