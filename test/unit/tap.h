/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A minimal TAP producer: one "ok N - ..." or "not ok N - ..." line per
 * check, "ok N - ... # SKIP why" for a check that could not be made,
 * diagnostics as "# ..." lines, and the plan "1..N" printed last by
 * tap_done(), whose value is the exit status. */
#pragma once

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Checks made and failed so far: defined once, in fixture.c. */
extern unsigned tap_count;
extern unsigned tap_failures;

/* TAP reads '#' in a description as the start of a directive (SKIP, TODO):
 * keep it out of what a check says, and keep that on one line. Directives
 * are written by tap_skip() alone. */
static inline void tap_print_desc(const char *s) {
        for (; *s; s++)
                (void) putchar(*s == '#' ? '%' : (unsigned char) *s < 0x20 ? '?' : *s);
}

static inline void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...) {
        char line[2048];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        (void) fputs("# ", stdout);
        for (const char *s = line; *s; s++) {
                (void) putchar(*s);
                if (*s == '\n' && s[1])
                        (void) fputs("# ", stdout);
        }
        if (!line[0] || line[strlen(line) - 1] != '\n')
                (void) putchar('\n');
        (void) fflush(stdout);
}

static inline bool tap_check(bool ok, const char *file, int line, const char *expr, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
static inline bool tap_check(bool ok, const char *file, int line, const char *expr, const char *fmt, ...) {
        char desc[1024];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(desc, sizeof(desc), fmt, ap);
        va_end(ap);

        tap_count++;
        if (!ok)
                tap_failures++;
        (void) printf("%sok %u - ", ok ? "" : "not ", tap_count);
        tap_print_desc(desc);
        (void) putchar('\n');
        if (!ok)
                tap_diag("failed at %s:%d: %s", file, line, expr);
        (void) fflush(stdout);
        return ok;
}

/* A check that cannot be made here: counted by the TAP reader as skipped,
 * neither passed nor failed. */
static inline void tap_skip(const char *desc, const char *why_fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void tap_skip(const char *desc, const char *why_fmt, ...) {
        char why[512];
        va_list ap;

        va_start(ap, why_fmt);
        (void) vsnprintf(why, sizeof(why), why_fmt, ap);
        va_end(ap);

        tap_count++;
        (void) printf("ok %u - ", tap_count);
        tap_print_desc(desc);
        (void) fputs(" # SKIP ", stdout);
        tap_print_desc(why);
        (void) putchar('\n');
        (void) fflush(stdout);
}

/* check(cond, "description %s", ...) */
#define check(cond, ...) tap_check(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

/* Comparisons that show both sides when they fail. */
#define check_int(got, want, ...)                                                                  \
        do {                                                                                       \
                long long got_ = (long long) (got), want_ = (long long) (want);                    \
                if (!check(got_ == want_, __VA_ARGS__))                                            \
                        tap_diag("got %lld, expected %lld", got_, want_);                          \
        } while (0)

#define check_u64(got, want, ...)                                                                  \
        do {                                                                                       \
                uint64_t got_ = (uint64_t) (got), want_ = (uint64_t) (want);                       \
                if (!check(got_ == want_, __VA_ARGS__))                                            \
                        tap_diag("got %" PRIu64 ", expected %" PRIu64, got_, want_);               \
        } while (0)

#define check_str(got, want, ...)                                                                  \
        do {                                                                                       \
                const char *got_ = (got), *want_ = (want);                                         \
                if (!check(got_ && want_ && strcmp(got_, want_) == 0, __VA_ARGS__))                \
                        tap_diag("got '%s'\nexpected '%s'", got_ ? got_ : "(null)", want_);       \
        } while (0)

/* haystack contains needle */
#define check_has(haystack, needle, ...)                                                           \
        do {                                                                                       \
                const char *hay_ = (haystack), *needle_ = (needle);                                \
                if (!check(hay_ && strstr(hay_, needle_), __VA_ARGS__))                            \
                        tap_diag("'%s' does not contain '%s'", hay_ ? hay_ : "(null)", needle_);  \
        } while (0)

static inline int tap_done(void) {
        (void) printf("1..%u\n", tap_count);
        if (tap_failures)
                tap_diag("%u of %u checks failed", tap_failures, tap_count);
        (void) fflush(stdout);
        return tap_failures ? 1 : 0;
}
