/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Timing tool of the benchmark workloads, built statically into the test
 * root image as /usr/lib/srtest/srbench (busybox has no fsync, no clock with
 * sub-second resolution):
 *
 *   srbench ms                        monotonic clock, milliseconds
 *   srbench seqwrite FILE MIB         write MIB MiB (1 MiB writes, not zeros),
 *                                     close, sync(); prints
 *                                     "write_ms=N sync_ms=N total_ms=N"
 *   srbench fsyncfiles DIR N BYTES    N files of BYTES each, as a package
 *                                     manager writes them: DIR/.tmp.I written,
 *                                     fsync'd and renamed to DIR/fI; then DIR
 *                                     fsync'd; prints "total_ms=N"
 *
 * Exit status 0, or 1 with a message on standard error naming the call that
 * failed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ms(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

static int fail(const char *what, const char *path) {
        fprintf(stderr, "srbench: %s %s: %s\n", what, path, strerror(errno));
        return 1;
}

static int parse_u(const char *s, unsigned long max, unsigned long *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v == 0 || v > max) {
                fprintf(stderr, "srbench: bad number '%s'\n", s);
                return -1;
        }
        *ret = v;
        return 0;
}

static void fill(unsigned char *buf, size_t n, uint32_t seed) {
        /* Not zeros, so that nothing on the way can skip them. */
        for (size_t i = 0; i < n; i++) {
                seed = seed * 1103515245u + 12345u;
                buf[i] = (unsigned char) (seed >> 16);
        }
}

static int write_all(int fd, const unsigned char *buf, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, buf, n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                buf += k;
                n -= (size_t) k;
        }
        return 0;
}

static int seqwrite(const char *path, unsigned long mib) {
        static unsigned char buf[1 << 20];
        uint64_t t0, t1, t2;
        int fd;

        fill(buf, sizeof(buf), 42);
        t0 = now_ms();
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return fail("open", path);
        for (unsigned long i = 0; i < mib; i++) {
                buf[0] = (unsigned char) i; /* every MiB differs */
                if (write_all(fd, buf, sizeof(buf)) < 0) {
                        int e = errno;

                        (void) close(fd);
                        errno = e;
                        return fail("write", path);
                }
        }
        if (close(fd) < 0)
                return fail("close", path);
        t1 = now_ms();
        sync();
        t2 = now_ms();
        printf("write_ms=%" PRIu64 " sync_ms=%" PRIu64 " total_ms=%" PRIu64 "\n", t1 - t0, t2 - t1, t2 - t0);
        return 0;
}

static int fsyncfiles(const char *dir, unsigned long n, unsigned long bytes) {
        unsigned char *buf;
        char tmp[4096], dst[4096];
        uint64_t t0;
        int fd;

        buf = malloc(bytes);
        if (!buf) {
                fprintf(stderr, "srbench: out of memory\n");
                return 1;
        }
        fill(buf, bytes, 7);
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                free(buf);
                return fail("mkdir", dir);
        }
        t0 = now_ms();
        for (unsigned long i = 0; i < n; i++) {
                (void) snprintf(tmp, sizeof(tmp), "%s/.tmp.%lu", dir, i);
                (void) snprintf(dst, sizeof(dst), "%s/f%lu", dir, i);
                fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0)
                        goto fail_tmp;
                buf[0] = (unsigned char) i;
                if (write_all(fd, buf, bytes) < 0 || fsync(fd) < 0) {
                        int e = errno;

                        (void) close(fd);
                        errno = e;
                        goto fail_tmp;
                }
                if (close(fd) < 0)
                        goto fail_tmp;
                if (rename(tmp, dst) < 0)
                        goto fail_tmp;
        }
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0) {
                free(buf);
                return fail("fsync", dir);
        }
        (void) close(fd);
        printf("total_ms=%" PRIu64 "\n", now_ms() - t0);
        free(buf);
        return 0;

fail_tmp:
        free(buf);
        return fail("writing", tmp);
}

/* N files of BYTES each in DIR, without fsync, then one sync(2): the
 * small files whose deletion the thin workload times. */
static int files(const char *dir, unsigned long n, unsigned long bytes) {
        unsigned char *buf;
        char path[4096];
        uint64_t t0;
        int fd;

        buf = malloc(bytes);
        if (!buf) {
                fprintf(stderr, "srbench: out of memory\n");
                return 1;
        }
        fill(buf, bytes, 11);
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                free(buf);
                return fail("mkdir", dir);
        }
        t0 = now_ms();
        for (unsigned long i = 0; i < n; i++) {
                (void) snprintf(path, sizeof(path), "%s/f%lu", dir, i);
                fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0)
                        break;
                buf[0] = (unsigned char) i;
                if (write_all(fd, buf, bytes) < 0) {
                        (void) close(fd);
                        break;
                }
                if (close(fd) < 0)
                        break;
                if (i + 1 == n) {
                        free(buf);
                        sync();
                        printf("total_ms=%" PRIu64 "\n", now_ms() - t0);
                        return 0;
                }
        }
        free(buf);
        return n == 0 ? 0 : fail("writing", path);
}

int main(int argc, char **argv) {
        unsigned long a, b;

        if (argc == 2 && strcmp(argv[1], "ms") == 0) {
                printf("%" PRIu64 "\n", now_ms());
                return 0;
        }
        if (argc == 4 && strcmp(argv[1], "seqwrite") == 0) {
                if (parse_u(argv[3], 1ul << 20, &a) < 0)
                        return 2;
                return seqwrite(argv[2], a);
        }
        if (argc == 5 && strcmp(argv[1], "fsyncfiles") == 0) {
                if (parse_u(argv[3], 1000000ul, &a) < 0 || parse_u(argv[4], 64ul << 20, &b) < 0)
                        return 2;
                return fsyncfiles(argv[2], a, b);
        }
        if (argc == 5 && strcmp(argv[1], "files") == 0) {
                if (parse_u(argv[3], 1000000ul, &a) < 0 || parse_u(argv[4], 64ul << 20, &b) < 0)
                        return 2;
                return files(argv[2], a, b);
        }
        fprintf(stderr, "usage: srbench ms | seqwrite FILE MIB | fsyncfiles DIR N BYTES | files DIR N BYTES\n");
        return 2;
}
