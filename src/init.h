/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#define INIT_NEWROOT "/sysroot"

/* The initrd's init, as process 1: mounts the API filesystems, loads the
 * listed kernel modules, mounts root= at INIT_NEWROOT, runs the scratchroot
 * setup on it, switches into it and execs its init with args (a
 * NULL-terminated list). Never returns: on a fatal error it says why and
 * either runs the rescue shell (rd.shell) or powers the machine off. */
__attribute__((noreturn)) void run_init(char **args);
