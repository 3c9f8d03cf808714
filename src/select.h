/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "options.h"
#include "sysfs.h"

/* The disks the options select: one, or the members of a stripe. */
struct disk_set {
        unsigned n;
        struct disk disks[OPTIONS_MAX_DISKS];
        enum cloud platform;    /* rd.scratch.cloud as resolved; CLOUD_NONE when not asked or unknown */
};

/* Finds every disk o selects under sysfs. Lists (rd.scratch.lun=,
 * rd.scratch.serial=): each listed disk must be there, waited for until
 * o->timeout_ms; globs (rd.scratch.model=, rd.scratch.vendor=) and
 * rd.scratch.cloud= take the disks that match now, without waiting (after
 * the lists' wait when combined with them). Every option given must match
 * every disk. name() names an option in messages (option_name, or
 * option_flag for an instance). Returns 0 with ret->n >= 1, or -errno with
 * the reason in why: -ENOENT when nothing is selected or present,
 * -ENOTUNIQ, -EBADSLT when a listed disk fails another option, -E2BIG for
 * more than OPTIONS_MAX_DISKS matches. */
int select_disks(const char *sysfs, const struct options *o, const char *(*name)(unsigned opt),
                 struct disk_set *ret, char *why, size_t n);

/* The members' kernel names, comma-separated ("nvme0n1,nvme1n1"). */
void disk_set_names(const struct disk_set *s, char *buf, size_t n);
