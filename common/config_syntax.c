/*
 * config_syntax.c - the two text syntaxes a Kafka operator writes that need
 * no knowledge of keys: Java Properties.load (comments, the three
 * separators, backslash continuations and escapes, \uXXXX) and the cp-kafka
 * image's environment-variable naming rule (KAFKA_LOG_DIRS -> log.dirs).
 *
 * Pure functions over text: no struct config, no allocation beyond the
 * per-call line buffers, nothing logged.  config.c applies what they yield.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "config_int.h"

static int is_prop_ws(char c) { return c == ' ' || c == '\t' || c == '\f'; }

/* ---- Java properties ---------------------------------------------------- */

static int utf8_put(struct buf *out, uint32_t cp)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xC0 | (cp >> 6));
        b[1] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xE0 | (cp >> 12));
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xF0 | (cp >> 18));
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (uint8_t)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return buf_append(out, b, n);
}

/* Four hex digits at s[0..4) (bounds checked by the caller). */
static int hex4(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return ERR_DECODE;
    }
    *out = v;
    return 0;
}

/* Java's loadConvert: resolve escapes in s[0..n) into out (NUL-terminated). */
static int props_unescape(const char *s, size_t n, struct buf *out)
{
    buf_reset(out);
    size_t i = 0;
    int rc = 0;
    while (i < n && rc == 0) {
        char c = s[i++];
        if (c != '\\') {
            rc = buf_append(out, &c, 1);
            continue;
        }
        if (i >= n)
            break; /* a lone trailing backslash is dropped */
        c = s[i++];
        switch (c) {
        case 't': c = '\t'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 'f': c = '\f'; break;
        case 'u': {
            uint32_t cp;
            if (n - i < 4 || hex4(s + i, &cp) < 0)
                return ERR_DECODE;
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && n - i >= 6 && s[i] == '\\' && s[i + 1] == 'u') {
                uint32_t lo;
                if (hex4(s + i + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD; /* an unpaired surrogate has no UTF-8 form */
            rc = utf8_put(out, cp);
            continue;
        }
        default: break; /* \<other> is other: \= \: \\ \# \! \space */
        }
        rc = buf_append(out, &c, 1);
    }
    if (rc == 0)
        rc = buf_append(out, "", 1);
    return rc;
}

/* Split one logical line into key and value as Properties.load0 does. */
static int props_line(const char *line, size_t limit, struct buf *key, struct buf *value,
                      void *arg, config_properties_parse_cb cb)
{
    size_t key_len = 0, value_start = limit;
    int has_sep = 0, preceding_backslash = 0;
    while (key_len < limit) {
        char c = line[key_len];
        if ((c == '=' || c == ':') && !preceding_backslash) {
            value_start = key_len + 1;
            has_sep = 1;
            break;
        }
        if (is_prop_ws(c) && !preceding_backslash) {
            value_start = key_len + 1;
            break;
        }
        preceding_backslash = c == '\\' ? !preceding_backslash : 0;
        key_len++;
    }
    while (value_start < limit) {
        char c = line[value_start];
        if (!is_prop_ws(c)) {
            if (!has_sep && (c == '=' || c == ':'))
                has_sep = 1;
            else
                break;
        }
        value_start++;
    }
    int rc = props_unescape(line, key_len, key);
    if (rc == 0)
        rc = props_unescape(line + value_start, limit - value_start, value);
    if (rc < 0)
        return rc;
    return cb(arg, (const char *)key->ptr, (const char *)value->ptr);
}

int config_properties_parse(const char *text, size_t len, void *arg, config_properties_parse_cb cb)
{
    struct buf line, key, value;
    buf_init(&line, CONFIG_VALUE_BYTES_MAX);
    buf_init(&key, CONFIG_VALUE_BYTES_MAX);
    buf_init(&value, CONFIG_VALUE_BYTES_MAX);
    int rc = 0;
    size_t i = 0;
    while (i < len && rc == 0) {
        /* Start of a logical line: leading whitespace and blank lines go. */
        while (i < len && is_prop_ws(text[i]))
            i++;
        if (i >= len)
            break;
        if (text[i] == '\n' || text[i] == '\r') {
            i++;
            continue;
        }
        if (text[i] == '#' || text[i] == '!') {
            /* A comment line never continues, even after a backslash. */
            while (i < len && text[i] != '\n' && text[i] != '\r')
                i++;
            continue;
        }
        buf_reset(&line);
        for (;;) {
            size_t start = i;
            while (i < len && text[i] != '\n' && text[i] != '\r')
                i++;
            size_t end = i;
            if (i < len && text[i] == '\r') {
                i++;
                if (i < len && text[i] == '\n')
                    i++;
            } else if (i < len) {
                i++;
            }
            size_t backslashes = 0;
            while (end - backslashes > start && text[end - backslashes - 1] == '\\')
                backslashes++;
            int cont = backslashes % 2 == 1;
            rc = buf_append(&line, text + start, end - start - (cont ? 1 : 0));
            if (rc < 0 || !cont || i >= len)
                break;
            /* The continued line's leading whitespace is dropped. */
            while (i < len && is_prop_ws(text[i]))
                i++;
        }
        if (rc == 0)
            rc = props_line((const char *)line.ptr, line.len, &key, &value, arg, cb);
    }
    buf_deinit(&line);
    buf_deinit(&key);
    buf_deinit(&value);
    return rc;
}

/* cp-kafka image variables that are not broker configs. */
static const char *const config_syntax_env_ignored[] = {
    "KAFKA_HEAP_OPTS", "KAFKA_JVM_PERFORMANCE_OPTS", "KAFKA_OPTS", "KAFKA_LOG4J_OPTS",
    "KAFKA_JMX_OPTS", "KAFKA_GC_LOG_OPTS", "KAFKA_DEBUG", "KAFKA_VERSION",
    "KAFKA_LOG4J_ROOT_LOGLEVEL", "KAFKA_LOG4J_LOGGERS", "KAFKA_TOOLS_LOG4J_LOGLEVEL",
    "KAFKA_JMX_PORT", "KAFKA_JMX_HOSTNAME",
};

int config_env_to_key(const char *var, char *out, size_t out_size)
{
    static const char prefix[] = "KAFKA_";
    if (strncmp(var, prefix, sizeof prefix - 1) != 0 || var[sizeof prefix - 1] == '\0')
        return ERR_NOT_FOUND;
    for (size_t i = 0; i < sizeof config_syntax_env_ignored / sizeof config_syntax_env_ignored[0]; i++)
        if (strcmp(var, config_syntax_env_ignored[i]) == 0)
            return ERR_NOT_FOUND;
    const char *s = var + sizeof prefix - 1;
    size_t o = 0;
    while (*s) {
        char c;
        if (s[0] == '_' && s[1] == '_' && s[2] == '_') {
            c = '-';
            s += 3;
        } else if (s[0] == '_' && s[1] == '_') {
            c = '_';
            s += 2;
        } else if (s[0] == '_') {
            c = '.';
            s += 1;
        } else {
            c = (char)tolower((unsigned char)s[0]);
            s += 1;
        }
        if (o + 1 >= out_size)
            return ERR_LIMIT;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}
