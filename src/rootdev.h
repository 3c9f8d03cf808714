/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define ROOTDEV_MAX_VALUE 256
#define ROOTDEV_POLL_MS 50u

enum root_kind {
        ROOT_PATH,              /* /dev/NAME: the kernel's block device NAME */
        ROOT_LABEL,
        ROOT_UUID,
        ROOT_PARTUUID,
};

struct root_spec {
        enum root_kind kind;
        /* ROOT_PATH: the kernel's name as sysfs spells it ("sda1",
         * "cciss!c0d0"); otherwise the label or UUID to look for. */
        char value[ROOTDEV_MAX_VALUE + 1];
};

/* Parses root=: LABEL=, UUID=, PARTUUID=, /dev/NAME, and the udev links
 * /dev/disk/by-label/, by-uuid/ and by-partuuid/ (which no udev makes in this
 * initrd, so they are looked up by what they name). Returns -EINVAL on an
 * empty or malformed value, -EOPNOTSUPP on a form that is not looked up. */
int root_spec_parse(const char *s, struct root_spec *ret);
void root_spec_format(const struct root_spec *spec, char *buf, size_t n);

/* Where the lookup reads: sysfs's mount point, the directory of device nodes,
 * and where to make a node of its own when the one in devdir is missing or
 * not the device sysfs names (NULL: never). */
struct rootdev_dirs {
        const char *sysfs;
        const char *devdir;
        const char *nodedir;
};

struct rootdev {
        char name[NAME_MAX + 1];        /* as sysfs names it */
        dev_t devno;
        char node[PATH_MAX];            /* a node for devno */
        char fstype[64];                /* what libblkid found, "" when nothing */
};

/* Scans sysfs's block devices once for the root. Returns 0, -ENOENT (not
 * there, yet), or -ENOTUNIQ when more than one device matches a LABEL= or
 * UUID= (their names are listed in ambiguous: booting either would be a
 * guess). */
int rootdev_find(const struct rootdev_dirs *dirs, const struct root_spec *spec, struct rootdev *ret,
                 char *ambiguous, size_t n);

/* The same, retried every ROOTDEV_POLL_MS until timeout_ms while the answer
 * is -ENOENT. */
int rootdev_wait(const struct rootdev_dirs *dirs, const struct root_spec *spec, unsigned timeout_ms,
                 struct rootdev *ret, char *ambiguous, size_t n);

/* Whether the whole device open on fd, which sysfs names name, is what spec
 * names: by name, or by its filesystem's label or UUID (libblkid). Never
 * for PARTUUID= (a whole device has no partition entry). 1, 0, or -errno
 * when it cannot be probed. */
int rootdev_fd_matches(int fd, const char *name, const struct root_spec *spec);
