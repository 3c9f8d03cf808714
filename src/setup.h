/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

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
