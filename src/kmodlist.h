/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Written by scratchroot-mkinitramfs: one line per module asked for,
 * "PATH [NEEDS...]", the .ko file in the initrd and then the files of the
 * modules it needs, in load order; then, for a driver, lines "alias PATTERN"
 * with its device aliases (modinfo's, such as "pci:v00001AF4d*sv*sd*bc*sc*i*").
 * '#' starts a comment line. */
#define KMODLIST_PATH "/etc/scratchroot/modules"

/* Loads the listed modules with finit_module(), each after what it needs. A
 * driver is loaded only when a device on sysfs/bus/BUS/devices has a
 * modalias one of its aliases matches; since loading one driver makes the
 * devices another one drives (the SCSI host's disks), the list is gone over
 * again until a pass loads nothing. A module that fails is logged and
 * skipped, and so is every module that needs it; one already loaded counts as
 * loaded. Files not under /lib/modules/RELEASE/ are for another kernel and
 * are not loaded. Options "NAME.PARAM=VALUE" on cmdline are given to module
 * NAME, as modprobe does. Returns -errno only when the list cannot be read. */
int kmod_load_list(const char *path, const char *sysfs, const char *release, const char *cmdline);

/* Whether a device under sysfs/bus/BUS/devices has a modalias that one of
 * the aliases matches (BUS: what precedes the alias's first '*' or ':'). */
bool kmod_device_present(const char *sysfs, char *const *aliases, size_t n);

/* The module name of a .ko path: its file name without .ko, '-' as '_'. */
void kmod_name(const char *path, char *buf, size_t n);

/* The parameters cmdline gives module name ("NAME.PARAM=VALUE", with '-' and
 * '_' alike in NAME), as one string for finit_module(). */
int kmod_params(const char *cmdline, const char *name, char *buf, size_t n);
