/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>

enum log_level { LOG_ERR = 3, LOG_WARNING = 4, LOG_INFO = 6, LOG_DEBUG = 7 };

/* Where log lines go: the kernel log (so they reach the console and the
 * journal of the booted system) and stderr. */
void log_open(int use_kmsg);
void log_close(void);

/* Logs one "scratchroot: ..." line; %m is expanded from errnum. Returns
 * -abs(errnum) when errnum is non-zero, so callers can log and return in one
 * statement; otherwise 0. */
int log_full(enum log_level level, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#define log_error(...) log_full(LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, 0, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, 0, __VA_ARGS__)
#define log_error_errno(e, ...) log_full(LOG_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full(LOG_WARNING, (e), __VA_ARGS__)
