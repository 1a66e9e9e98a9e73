/*
 * log.h - one-line structured logging and always-on assertions.
 *
 * Lines look like: "2026-11-25T00:00:00.000Z ERROR [ctx] event key=value".
 * The sink (stderr by default) and the level are the only process-wide
 * state; both are set once at start.  Hot paths call log_debug/log_trace,
 * which cost one compare when disabled.  ASSERT stays on in release builds.
 */
#ifndef SAMSA_LOG_H
#define SAMSA_LOG_H

#include <stdio.h>

enum log_level { LOG_TRACE, LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF };

extern enum log_level log_level_min;

void log_set_level(enum log_level level);
/* log_level_parse - "trace".."error" (case-insensitive); returns -1 if unknown. */
int log_level_parse(const char *name);
/* log_set_file - redirect the sink; NULL restores stderr.  Not thread-safe. */
void log_set_file(FILE *f);

void log_write(enum log_level level, const char *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_AT(level, ctx, ...) \
    do { if ((level) >= log_level_min) log_write((level), (ctx), __VA_ARGS__); } while (0)
#define log_trace(ctx, ...) LOG_AT(LOG_TRACE, ctx, __VA_ARGS__)
#define log_debug(ctx, ...) LOG_AT(LOG_DEBUG, ctx, __VA_ARGS__)
#define log_info(ctx, ...)  LOG_AT(LOG_INFO, ctx, __VA_ARGS__)
#define log_warn(ctx, ...)  LOG_AT(LOG_WARN, ctx, __VA_ARGS__)
#define log_error(ctx, ...) LOG_AT(LOG_ERROR, ctx, __VA_ARGS__)

void log_assert_fail(const char *file, int line, const char *expr) __attribute__((noreturn));

/* ASSERT - always on.  Never use it on input from the network, disk or config. */
#define ASSERT(expr) \
    do { if (__builtin_expect(!(expr), 0)) log_assert_fail(__FILE__, __LINE__, #expr); } while (0)
/* DEBUG_ASSERT - for O(n) checks; compiled in unless SAMSA_NO_DEBUG_ASSERT. */
#ifdef SAMSA_NO_DEBUG_ASSERT
#define DEBUG_ASSERT(expr) ((void)0)
#else
#define DEBUG_ASSERT(expr) ASSERT(expr)
#endif
#define STATIC_ASSERT(expr, msg) _Static_assert(expr, msg)

#endif
