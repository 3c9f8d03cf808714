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

/* Options a kernel refused, the mount made without them (ret_dropped). */
enum {
        MOUNT_DROPPED_PREFETCH = 1 << 0,        /* ext4's no_prefetch_block_bitmaps */
        MOUNT_DROPPED_VOLATILE = 1 << 1,        /* overlay's volatile */
        MOUNT_DROPPED_METACOPY = 1 << 2,        /* overlay's redirect_dir=on,metacopy=on */
};

/* None of these logs: each returns -errno for the caller to tell. */

/* With discard, freed blocks are discarded as they are freed (online
 * discard), so a thin disk shrinks back on the host. */
int mount_scratch_ext4(const char *node, bool discard, unsigned *ret_dropped);
int mount_scratch_tmpfs(const struct size_spec *size);
void umount_scratch(void);

/* Binds the root at newroot to LOWER_DIR (read-only) and mounts the overlay
 * over newroot, with upper and work on whatever is mounted at SCRATCH_DIR.
 * On failure nothing of it is left mounted, and ret_step (when given) says
 * which step failed. */
int mount_overlay_root(const char *newroot, unsigned *ret_dropped, const char **ret_step);

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
