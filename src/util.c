/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"

int read_line(const char *path, char *buf, size_t n) {
        _cleanup_close_ int fd = -1;
        ssize_t k;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        k = read(fd, buf, n - 1);
        if (k < 0)
                return -errno;
        buf[k] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return 0;
}

int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        /* One byte more than max tells a file that is too long. */
        buf = malloc(max + 2);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf + len, max + 1 - len);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > max)
                        return -E2BIG;
        }
        buf[len] = '\0';
        if (ret_size)
                *ret_size = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

int read_u64(const char *path, uint64_t *ret) {
        char buf[32], *end;
        unsigned long long v;
        int r;

        r = read_line(path, buf, sizeof(buf));
        if (r < 0)
                return r;
        if (buf[0] < '0' || buf[0] > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(buf, &end, 10);
        if (errno != 0 || *end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_devno(const char *s, dev_t *ret) {
        unsigned maj, min;
        char tail;

        if (sscanf(s, "%u:%u%c", &maj, &min, &tail) != 2)
                return -EINVAL;
        *ret = makedev(maj, min);
        return 0;
}

int read_devno(const char *path, dev_t *ret) {
        char buf[32];
        int r;

        r = read_line(path, buf, sizeof(buf));
        if (r < 0)
                return r;
        return parse_devno(buf, ret);
}

int mkdir_p(const char *path, mode_t mode) {
        char p[4096];
        size_t len = strlen(path);

        if (len == 0 || len >= sizeof(p))
                return -EINVAL;
        memcpy(p, path, len + 1);
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int write_file_atomic(const char *path, const char *content, mode_t mode) {
        char tmp[4096];
        size_t len = strlen(content);
        int fd, r = 0;

        if (xsnprintf(tmp, sizeof(tmp), "%s.tmp", path) < 0)
                return -ENAMETOOLONG;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        if (write(fd, content, len) != (ssize_t) len)
                r = errno ? -errno : -EIO;
        if (fchmod(fd, mode) < 0 && r == 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

uint64_t now_ms(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

void sleep_ms(unsigned ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

void format_bytes(uint64_t bytes, char *buf, size_t n) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
        double v = (double) bytes;
        unsigned u = 0;

        while (v >= 1024.0 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024.0;
                u++;
        }
        if (u == 0)
                (void) snprintf(buf, n, "%" PRIu64 " B", bytes);
        else
                (void) snprintf(buf, n, "%.1f %s", v, units[u]);
}

int xsnprintf(char *buf, size_t n, const char *fmt, ...) {
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vsnprintf(buf, n, fmt, ap);
        va_end(ap);
        return k < 0 || (size_t) k >= n ? -ENAMETOOLONG : 0;
}

void mountinfo_unescape(char *s) {
        char *o = s;

        for (; *s; s++, o++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
                    s[3] <= '7') {
                        *o = (char) ((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
                        s += 3;
                } else
                        *o = *s;
        }
        *o = '\0';
}

int open_grace(const char *path, int flags, unsigned grace_ms, uint64_t *ret_waited_ms) {
        uint64_t t0 = now_ms(), waited;
        int fd;

        for (;;) {
                fd = open(path, flags);
                waited = now_ms() - t0;
                if (fd >= 0)
                        break;
                if (errno != ENXIO || waited >= grace_ms)
                        return -errno;
                sleep_ms(OPEN_RETRY_MS);
        }
        if (ret_waited_ms)
                *ret_waited_ms = waited;
        return fd;
}

int pread_full(int fd, void *buf, size_t n, uint64_t off) {
        size_t done = 0;

        while (done < n) {
                ssize_t k = pread(fd, (unsigned char *) buf + done, n - done, (off_t) (off + done));

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                done += (size_t) k;
        }
        return 0;
}

int pwrite_full(int fd, const void *buf, size_t n, uint64_t off) {
        size_t done = 0;

        while (done < n) {
                ssize_t k = pwrite(fd, (const unsigned char *) buf + done, n - done, (off_t) (off + done));

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                done += (size_t) k;
        }
        return 0;
}

int random_bytes(void *buf, size_t n) {
        size_t got = 0;

        while (got < n) {
                ssize_t k = getrandom((unsigned char *) buf + got, n - got, 0);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t) k;
        }
        return 0;
}
