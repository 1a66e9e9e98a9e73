/*
 * log.c - the log sink.  Formats a timestamp and level, then the caller's
 * "event key=value" text, as one write so lines from threads do not mix.
 */
#include "log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum log_level log_level_min = LOG_INFO;
static FILE *log_sink;

static const char *const log_names[] = { "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF" };

void log_set_level(enum log_level level) { log_level_min = level; }

int log_level_parse(const char *name)
{
    for (int i = 0; i <= LOG_OFF; i++)
        if (strcasecmp(name, log_names[i]) == 0)
            return i;
    if (strcasecmp(name, "warning") == 0)
        return LOG_WARN;
    return -1;
}

void log_set_file(FILE *f) { log_sink = f; }

void log_write(enum log_level level, const char *ctx, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s [%s] ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000L, log_names[level], ctx ? ctx : "-");
    if (n < 0)
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    FILE *out = log_sink ? log_sink : stderr;
    fwrite(line, 1, len, out);
    fflush(out);
}

void log_assert_fail(const char *file, int line, const char *expr)
{
    log_write(LOG_ERROR, "assert", "assertion failed file=%s line=%d expr=\"%s\"", file, line, expr);
    abort();
}
