/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "options.h"

#define RUN_DIR "/run/scratchroot"
#define LOWER_DIR RUN_DIR "/lower"
#define SCRATCH_DIR RUN_DIR "/scratch"
#define UPPER_DIR SCRATCH_DIR "/upper"
#define WORK_DIR SCRATCH_DIR "/work"
#define STATE_FILE RUN_DIR "/state"
#define MOUNTINFO "/proc/self/mountinfo"
/* One directory per instance (scratchroot run and mount), by name. */
#define INSTANCES_DIR RUN_DIR "/instances"

/* Options a kernel refused, the mount made without them (ret_dropped). */
enum {
        MOUNT_DROPPED_PREFETCH = 1 << 0,        /* ext4's no_prefetch_block_bitmaps */
        MOUNT_DROPPED_VOLATILE = 1 << 1,        /* overlay's volatile */
        MOUNT_DROPPED_METACOPY = 1 << 2,        /* overlay's redirect_dir=on,metacopy=on */
};

/* None of these logs: each returns -errno for the caller to tell.
 *
 * BASE is the directory whose scratch/ takes the scratch filesystem (with
 * upper/ and work/ in it) and whose lower/ the read-only bind of the lower
 * layer: RUN_DIR for the root, INSTANCES_DIR/NAME for an instance. */

/* INSTANCES_DIR/NAME into buf. */
int instance_dir(const char *name, char *buf, size_t n);

/* BASE/SUB into buf. */
int scratch_path(const char *base, const char *sub, char *buf, size_t n);

/* With discard, freed blocks are discarded as they are freed (online
 * discard), so a thin disk shrinks back on the host. */
int mount_scratch_ext4(const char *base, const char *node, bool discard, unsigned *ret_dropped);
int mount_scratch_tmpfs(const char *base, const struct size_spec *size);
void umount_scratch(const char *base);

/* BASE/scratch/upper and work, made ahead of the overlay: on a fresh ext4
 * the first directories cost the most (the allocator sets up its block
 * groups). mount_overlay_at() gives upper/ the lower root's owner and mode. */
int scratch_make_dirs(const char *base);

/* The steps of mount_overlay_at(), for the caller's message. */
enum overlay_step {
        OVERLAY_STEP_UPPER,     /* create BASE/scratch/upper and work */
        OVERLAY_STEP_LOWER_DIR, /* create BASE/lower */
        OVERLAY_STEP_BIND,      /* bind the lower directory to BASE/lower */
        OVERLAY_STEP_PRIVATE,   /* make BASE/lower private */
        OVERLAY_STEP_RDONLY,    /* make BASE/lower read-only */
        OVERLAY_STEP_OVERLAY,   /* mount the overlay */
};

/* Binds the directory lower to BASE/lower (read-only) and mounts the
 * overlay on target, with upper and work on whatever is mounted at
 * BASE/scratch. For the root, lower and target are both the root. On
 * failure nothing of it is left mounted, and ret_step (when given) says
 * which step failed. */
int mount_overlay_at(const char *base, const char *lower, const char *target, unsigned *ret_dropped,
                     enum overlay_step *ret_step);

/* Undoes mount_overlay_at(), the scratch mount and the tmpfs of device
 * nodes: target, BASE/lower, BASE/scratch and BASE/dev, in that order, each
 * unmounted at once (not lazily), so that the disk is free on success;
 * what is not mounted is passed over. Stops at the first failure (-EBUSY
 * while a process uses the overlay). */
int umount_overlay_at(const char *base, const char *target);

/* Reads mountinfo (MOUNTINFO, or a test's copy) for the mount at newroot:
 * -ENOENT when newroot is not a mount point; otherwise 0, with whether its
 * superblock is read-only in ret_ro and the first mount below it (a mount
 * whose parent it is) in submount, "" when there is none. */
int root_mount_facts(const char *mountinfo, const char *newroot, bool *ret_ro, char *submount, size_t n);

/* Makes the filesystem at newroot read-only, its superblock rather than
 * this one mount of it, keeping the mount's own flags: a no-op when it
 * already is. -EBUSY when a file on it is open for writing. root_make_rw()
 * undoes it. */
int root_make_ro(const char *newroot);
int root_make_rw(const char *newroot);

/* Whether newroot already is the overlay an earlier run made. */
bool overlay_already_set_up(const char *newroot);
