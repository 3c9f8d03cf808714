/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the unit tests share to build their fixtures: a temporary directory
 * per test, files, directories and symlinks made below it, and bail(),
 * which reports a failed setup through TAP and ends the test. All of it is
 * for setup: any failure bails rather than returning an error. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "tap.h"

/* The test's temporary directory, made by fixture_start(). */
extern char base[PATH_MAX];

/* Set in a forked child: bail() then exits with status 2 and prints
 * nothing, since TAP is the parent's to write. */
extern bool in_child;

/* fork() for a child that does part of the setup: stdout flushed first, so
 * that the child cannot write the parent's buffered TAP again, and in_child
 * set in the child. Bails if fork fails; the child ends with _exit(). */
pid_t fork_child(void);

/* Makes base a fresh $TMPDIR/<name>.XXXXXX (/tmp without TMPDIR). setup
 * names the setup in the check bail() fails ("test setup", ...). False,
 * with a failed check, if the directory could not be made. */
bool fixture_start(const char *name, const char *setup);

/* Removes base; the value for main() to return, as tap_done(). */
int fixture_done(void);

/* The setup failed: a failed check saying why, base removed, and the test
 * ends with the plan. In a forked child, _exit(2) alone. */
void bail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* snprintf that never truncates silently: it bails instead. */
void xfmt(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* rm -rf path; nothing if path is too long to quote. */
void rm_rf(const char *path);

/* mkdir -p path */
void mkdirs(const char *path);

/* mkdir -p of the directory path is in */
void mkparent(const char *path);

/* dir/rel as a directory, with its parents */
void mkd(const char *dir, const char *rel);

/* dir/rel holding exactly len bytes, written whole under a temporary name
 * and renamed, so that a concurrent reader never sees it half written. */
void put_bytes(const char *dir, const char *rel, const void *data, size_t len);

/* dir/rel holding the string s */
void put(const char *dir, const char *rel, const char *s);

/* dir/link as a relative symlink to dir/target, as sysfs makes them. */
void lnk(const char *dir, const char *link, const char *target);

/* A fresh, empty directory base/name, in buf (PATH_MAX bytes). */
const char *new_dir(const char *name, char *buf);

/* A negative errno value by name ("-ENOENT"), "0", or the number. */
const char *errname(int r);

/* check_err(got, want, "description %s", ...): the errno values compared,
 * both shown by name when they differ. */
#define check_err(got, want, ...)                                                                  \
        do {                                                                                       \
                int gr_ = (got), wr_ = (want);                                                     \
                if (!check(gr_ == wr_, __VA_ARGS__))                                               \
                        tap_diag("got %s, expected %s", errname(gr_), errname(wr_));              \
        } while (0)
