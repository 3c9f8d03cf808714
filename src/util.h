/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads a small text file (sysfs attribute, /proc file) into buf, without
 * the trailing newline. */
int read_line(const char *path, char *buf, size_t n);
/* Reads a whole file into a new NUL-terminated buffer (its size without the
 * NUL in ret_size, when given). A file of more than max bytes is refused
 * with -E2BIG, not cut. */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_size);
int read_u64(const char *path, uint64_t *ret);
/* Parses "MAJ:MIN". */
int parse_devno(const char *s, dev_t *ret);
int read_devno(const char *path, dev_t *ret);

int mkdir_p(const char *path, mode_t mode);
int write_file_atomic(const char *path, const char *content, mode_t mode);

uint64_t now_ms(void);
void sleep_ms(unsigned ms);

/* Formats a byte count as "64.0 GiB". */
void format_bytes(uint64_t bytes, char *buf, size_t n);

/* snprintf that reports truncation as -ENAMETOOLONG instead of warning. */
int xsnprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Undoes in place the \ooo escapes /proc/self/mountinfo writes for blanks,
 * newlines and backslashes in paths. */
void mountinfo_unescape(char *s);

/* Read or write exactly n bytes at offset off, going on after short
 * transfers and EINTR: 0, -EIO when the device ends first, or -errno. */
int pread_full(int fd, void *buf, size_t n, uint64_t off);
int pwrite_full(int fd, const void *buf, size_t n, uint64_t off);

/* n bytes from getrandom(), blocking until the kernel's pool is
 * initialised: 0 or -errno. */
int random_bytes(void *buf, size_t n);

/* How long open_grace() sleeps between two tries. */
#define OPEN_RETRY_MS 10u

/* open() that tries again while the answer is ENXIO, until grace_ms have
 * passed: a device sysfs shows may not open yet while the kernel finishes
 * adding it. Returns the fd, with the time spent trying again in
 * ret_waited_ms (0 when the first try opened it), or -errno of the last
 * try. */
int open_grace(const char *path, int flags, unsigned grace_ms, uint64_t *ret_waited_ms);
