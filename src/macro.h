/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A variable marked with one of these is released when it goes out of
 * scope, on every return path. TAKE_FD() and TAKE_PTR() hand the value on
 * and leave nothing to release. */
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* errno survives, so that a caller's "return -errno" after the cleanup of
 * another variable still tells the first failure. */
static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;

                (void) close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

/* Closes fd now, for a variable that is also marked _cleanup_close_. */
static inline int safe_close(int fd) {
        closep(&fd);
        return -1;
}

/* name(&p) calls func(p) when p is set, keeping errno. */
#define DEFINE_CLEANUP_FUNC(type, name, func)           \
        static inline void name(type *p) {              \
                if (*p) {                               \
                        int saved_ = errno;             \
                        (void) func(*p);                \
                        errno = saved_;                 \
                }                                       \
        }

DEFINE_CLEANUP_FUNC(DIR *, closedirp, closedir)
#define _cleanup_closedir_ _cleanup_(closedirp)

DEFINE_CLEANUP_FUNC(FILE *, fclosep, fclose)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Only where <blkid.h> was included first: not every unit links libblkid. */
#ifdef _BLKID_BLKID_H
DEFINE_CLEANUP_FUNC(blkid_probe, blkid_free_probep, blkid_free_probe)
#define _cleanup_blkid_probe_ _cleanup_(blkid_free_probep)
#endif

#define TAKE_FD(fd)                     \
        ({                              \
                int _fd_ = (fd);        \
                (fd) = -1;              \
                _fd_;                   \
        })

#define TAKE_PTR(p)                             \
        ({                                      \
                __typeof__(p) _p_ = (p);        \
                (p) = NULL;                     \
                _p_;                            \
        })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* The name of value i of an enum in a table indexed by the enum, "?" for a
 * value the table does not name. */
#define TABLE_STRING(table, i)                                                         \
        ((unsigned) (i) < ELEMENTSOF(table) && (table)[(unsigned) (i)] ? (table)[(unsigned) (i)] : "?")
