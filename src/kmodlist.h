/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* Written by scratchroot-mkinitramfs: one module per line, in load order, as
 * "PATH [NEEDS...]": the .ko file in the initrd, then the files of the
 * modules it needs (listed on earlier lines). '#' starts a comment line. */
#define KMODLIST_PATH "/etc/scratchroot/modules"

/* Loads the listed modules with finit_module(), in order. A module that
 * fails is logged and skipped, and so is every module that needs it; one
 * already loaded counts as loaded. Modules whose path is not under
 * /lib/modules/RELEASE/ are for another kernel and are not loaded. Options
 * "NAME.PARAM=VALUE" on cmdline are given to module NAME, as modprobe does.
 * Returns -errno only when the list cannot be read. */
int kmod_load_list(const char *path, const char *release, const char *cmdline);

/* The module name of a .ko path: its file name without .ko, '-' as '_'. */
void kmod_name(const char *path, char *buf, size_t n);

/* The parameters cmdline gives module name ("NAME.PARAM=VALUE", with '-' and
 * '_' alike in NAME), as one string for finit_module(). */
int kmod_params(const char *cmdline, const char *name, char *buf, size_t n);
