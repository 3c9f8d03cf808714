/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "options.h"
#include "setup.h"

/* Letters, digits, '.', '_' and '-', not first; as scratchroot-qemu names
 * its instances. */
#define INSTANCE_NAME_MAX 64
bool instance_name_valid(const char *name);
/* The name of an instance given no --name: from its serial, else its LUN;
 * -ENOENT when neither is given. */
int instance_default_name(const struct options *o, char *buf, size_t n);

/* These log what fails and return an exit status. */

/* scratchroot run: in a new mount namespace, the overlay of a->lower on the
 * disk o selects (or its fallback) becomes the root of argv, with the
 * caller's /proc, /sys, /dev and /run; returns argv's exit status (128+N
 * when signal N ended it), 1 when it did not start. */
int instance_run(const struct instance_args *a, const struct options *o, char **argv);
/* scratchroot mount: the same overlay on a->target in the caller's
 * namespace. */
int instance_mount(const struct instance_args *a, const struct options *o);
/* scratchroot umount: undoes instance_mount() of the instance at target. */
int instance_umount(const char *target);

/* The instance's state file, and its scratch directory when it is mounted
 * here ("" otherwise), for print_status(). */
int instance_status(const char *name, char *state, size_t n_state, char *scratch, size_t n_scratch);
