/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "options.h"
#include "state.h"

struct setup_args {
        const char *newroot;
        const char *sysfs;
        const char *cmdline;    /* NULL: read /proc/cmdline */
        const char *mke2fs;
        const char *config;     /* the image's own defaults, CONFIG_FILE */
};

/* Returns 0 when the boot can go on (scratch, tmpfs, or the root left as it
 * was), 1 when rd.scratch.fallback=fail asks to stop it. */
int run_setup(const struct setup_args *a);

/* The early part of run_setup(), while the initrd still looks for the root
 * (newroot is not used): the disk found, proven, formatted and mounted, its
 * record left for run_setup(), which waits for it and then only mounts the
 * overlay. root= names the root to be protected; without a root= that can
 * be looked up it leaves everything to run_setup(). With background it
 * forks once it holds its lock and returns at once in the caller (the
 * child's pid in ret_child). Never fatal: returns 0, or -errno when it
 * could not start (run_setup() then does everything). */
int run_prepare(const struct setup_args *a, bool background, pid_t *ret_child);

struct instance_args {
        const char *name;
        const char *lower;      /* the overlay's lower directory */
        const char *target;     /* where the overlay is mounted */
        const char *sysfs;
        const char *mke2fs;
};

/* The boot's decision for an instance: the overlay of a->lower on
 * a->target in the caller's mount namespace, its upper on the disk o
 * selects, else on what o->fallback says, with its mounts under
 * INSTANCES_DIR/NAME (instance_dir()) and the outcome in its state file.
 * Returns 0 with the backing used in ret_backing (BACKING_NONE:
 * nothing mounted), or 1 when the instance is not to start. */
int setup_instance(const struct instance_args *a, const struct options *o, enum backing *ret_backing);
