/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "options.h"

#define RUN_DIR "/run/scratchroot"
#define LOWER_DIR RUN_DIR "/lower"
#define SCRATCH_DIR RUN_DIR "/scratch"
#define UPPER_DIR SCRATCH_DIR "/upper"
#define WORK_DIR SCRATCH_DIR "/work"
#define STATE_FILE RUN_DIR "/state"

/* With discard, freed blocks are discarded as they are freed (online
 * discard), so a thin disk shrinks back on the host. */
int mount_scratch_ext4(const char *node, bool discard);
int mount_scratch_tmpfs(const struct size_spec *size);
void umount_scratch(void);

/* Binds the root at newroot to LOWER_DIR (read-only) and mounts the overlay
 * over newroot, with upper and work on whatever is mounted at SCRATCH_DIR.
 * On failure nothing of it is left mounted. */
int mount_overlay_root(const char *newroot, bool *ret_volatile);

/* Whether newroot already is the overlay an earlier run made. */
bool overlay_already_set_up(const char *newroot);
