/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"

static bool kmsg;
static bool stderr_journal;
static int console_loglevel = -1;

static int kmsg_open(void) {
        return open("/dev/kmsg", O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);
}

/* systemd sets JOURNAL_STREAM=DEVICE:INODE when it connects stderr to the
 * journal, which reads /dev/kmsg as well. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

void log_open(int use_kmsg) {
        _cleanup_close_ int fd = -1;
        char buf[32];
        ssize_t k;

        kmsg = false;
        if (use_kmsg) {
                fd = kmsg_open();
                kmsg = fd >= 0;
                fd = safe_close(fd);
        }
        /* A record in the kernel log reaches the journal from there: a copy
         * on stderr would be a second entry. */
        stderr_journal = kmsg && stderr_is_journal();

        /* When stderr is a terminal and the kernel prints a line on the
         * console anyway, writing it to stderr too shows it twice. */
        console_loglevel = -1;
        if (!kmsg || !isatty(STDERR_FILENO))
                return;
        fd = open("/proc/sys/kernel/printk", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        k = read(fd, buf, sizeof(buf) - 1);
        if (k > 0) {
                buf[k] = '\0';
                console_loglevel = atoi(buf);
        }
}

void log_close(void) {
        kmsg = false;
}

/* Expands %m itself: glibc's printf would use errno, which the caller may
 * have clobbered since the failing call. */
static void expand_percent_m(char *out, size_t n, const char *fmt, int errnum) {
        const char *msg = strerror(abs(errnum));
        size_t o = 0;

        for (const char *p = fmt; *p && o + 1 < n; p++) {
                if (p[0] == '%' && p[1] == '%') {
                        if (o + 2 < n) {
                                out[o++] = '%';
                                out[o++] = '%';
                        }
                        p++;
                } else if (p[0] == '%' && p[1] == 'm') {
                        for (const char *m = msg; *m && o + 2 < n; m++) {
                                if (*m == '%')
                                        out[o++] = '%';
                                out[o++] = *m;
                        }
                        p++;
                } else
                        out[o++] = *p;
        }
        out[o] = '\0';
}

int log_full(enum log_level level, int errnum, const char *fmt, ...) {
        char f[512], line[1024];
        bool logged = false;
        va_list ap;

        expand_percent_m(f, sizeof(f), fmt, errnum);
        va_start(ap, fmt);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        (void) vsnprintf(line, sizeof(line), f, ap);
#pragma GCC diagnostic pop
        va_end(ap);

        /* One line of printable ASCII per message: embedded newlines (from
         * hostile input that a message quotes) would forge further log
         * lines, other bytes would reach terminals raw. */
        for (char *c = line; *c; c++)
                if ((unsigned char) *c < 0x20 || (unsigned char) *c >= 0x7f)
                        *c = '?';

        /* One write() per record: /dev/kmsg takes each write as one line.
         * The kernel rate-limits each open file of /dev/kmsg to 10 records
         * per 5 s and drops the rest silently: a fresh open per record keeps
         * every reason on the console. Without it, the line goes to stderr. */
        if (kmsg) {
                _cleanup_close_ int fd = kmsg_open();
                char rec[sizeof(line) + 32];
                int k = snprintf(rec, sizeof(rec), "<%d>scratchroot: %s\n", (int) level, line);

                logged = fd >= 0 && k > 0 &&
                         write(fd, rec, (size_t) k < sizeof(rec) ? (size_t) k : sizeof(rec) - 1) > 0;
        }
        if (!logged || (!stderr_journal && (int) level >= console_loglevel))
                (void) fprintf(stderr, "scratchroot: %s\n", line);

        return errnum == 0 ? 0 : -abs(errnum);
}
