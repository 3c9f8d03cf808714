/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sysfs.h"

#define SCRATCH_LABEL "scratchroot"
#define SCRATCH_MIN_BYTES (UINT64_C(64) << 20)

enum content {
        CONTENT_BLANK,          /* no signature, sampled data all zeros */
        CONTENT_OURS,           /* ext4 or LUKS2 labelled SCRATCH_LABEL */
        CONTENT_FOREIGN,        /* any other signature or partition table */
        CONTENT_DATA,           /* no signature, but not zeros either */
        CONTENT_UNKNOWN,        /* could not be read or probed */
};

/* What is known about a candidate disk; gathered by safety_gather(), judged
 * by safety_decide(), which is pure so that its table can be tested. */
struct disk_facts {
        struct disk_attrs attrs;
        bool mounted;           /* the disk or one of its partitions */
        bool busy;              /* an exclusive open failed with EBUSY */
        bool backs_root;        /* the lower root lives on it */
        bool root_unknown;      /* what backs the root could not be worked out */
        enum content content;
        char content_desc[160];
        /* Only for a foreign disk selected as Azure's resource disk:
         * whether it is what Azure delivers and its agents reformat
         * (azure.h), the reason in platform_desc. */
        enum platform_check {
                PLATFORM_NOT_ASKED,
                PLATFORM_REFORMATTABLE,
                PLATFORM_NOT_AS_DELIVERED,
        } platform;
        char platform_desc[160];
};

enum verdict {
        VERDICT_REFUSE,
        VERDICT_FORMAT_BLANK,
        VERDICT_FORMAT_OURS,
        VERDICT_FORMAT_FORCED,
        VERDICT_FORMAT_PLATFORM,        /* Azure's resource disk as delivered */
};

enum verdict safety_decide(const struct disk_facts *f, bool force, char *why, size_t n);
const char *verdict_to_string(enum verdict v);

/* Probes the device open on fd with libblkid, and samples its first and
 * last MiB for data that carries no signature at all. */
int safety_probe_content(int fd, uint64_t size, enum content *ret, char *desc, size_t n);

/* Whether any of devs is the source of a mount in mountinfo. */
int mountinfo_find_dev(const char *mountinfo, const dev_t *devs, unsigned n, bool *ret);

/* Calls fn with the source of every mount at path in mountinfo (path with
 * repeated and trailing slashes dropped, the file's fields unescaped).
 * Returns how many there were, or the first -errno of fn or of reading. */
typedef int (*mount_fn)(const char *source, void *userdata);
int mountinfo_mounts_at(const char *mountinfo, const char *path, mount_fn fn, void *userdata);

/* Adds the devices the root at newroot comes from to set: its st_dev with
 * what is beneath it, and the block devices mountinfo names as the source
 * of the mount newroot is in (newroot's own, else the nearest mount point
 * above it). Fails when the st_dev is anonymous (btrfs, overlay) and they
 * cannot be found: -ENOENT when mountinfo has no such mount. */
int safety_root_devices(const char *sysfs, const char *mountinfo, const char *newroot, dev_t *set, unsigned *n,
                        unsigned max);

/* The devices the root filesystem comes from, worked out once for all the
 * disks a setup looks at. */
struct root_devs {
        dev_t set[SYSFS_MAX_BACKING];
        unsigned n;
        bool unknown;           /* nobody can tell: every disk is refused */
        /* Before the root is mounted: root= as given, matched against each
         * disk itself too (safety_gather), NULL once the root is mounted. */
        const struct root_spec *spec;
};

/* The root mounted at newroot (safety_root_devices). */
void safety_root_mounted(const char *sysfs, const char *newroot, struct root_devs *ret);

/* The root before it is mounted, as root= names it (spec, which must
 * outlive ret): safety_gather() matches it against each disk itself, by
 * the disk's name and its own superblock's label or UUID. That is the whole
 * of it for the disks that may be formatted before the root is mounted,
 * blank ones and ours: neither has a partition table, nor a holder (the
 * exclusive open would fail), so the root can be on such a disk only as
 * its whole-disk filesystem. Looking up the device root= names elsewhere
 * would add nothing but a probe of every block device. */
struct root_spec;
void safety_root_named(const struct root_spec *spec, struct root_devs *ret);

/* Collects every fact about the disk, whose node is open on fd (read-only,
 * exclusive: fd < 0 with busy set when that failed). root is what backs the
 * root filesystem, to be protected. */
int safety_gather(const struct disk *d, int fd, bool busy, const struct root_devs *root,
                  struct disk_facts *ret);
