/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cmdline.h"

#define BOOTOPTS_MAX_VALUE 512
#define BOOTOPTS_MAX_PROBLEMS 8
#define BOOTOPTS_DEFAULT_ROOT_WAIT_MS (30u * 1000u)

/* What the kernel command line asks of the initrd's init. */
struct boot_options {
        bool have_root;
        char root[BOOTOPTS_MAX_VALUE + 1];
        char rootfstype[BOOTOPTS_MAX_VALUE + 1];
        char rootflags[BOOTOPTS_MAX_VALUE + 1];
        char init[BOOTOPTS_MAX_VALUE + 1];      /* "" for the default list */
        bool rw;
        unsigned root_wait_ms;
        bool shell;                             /* rd.shell */

        unsigned n_problems;
        char problems[BOOTOPTS_MAX_PROBLEMS][BOOTOPTS_MAX_VALUE + 96];
};

void boot_options_init(struct boot_options *o);

/* Takes root=, rootfstype=, rootflags=, init=, ro, rw, rootdelay= and
 * rd.shell; the last occurrence of each wins. Never fails: a value that does
 * not parse is recorded in o->problems and leaves the default in place. */
void boot_options_parse(struct boot_options *o, const char *cmdline);
