/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "dlopen.h"

#include <stdbool.h>
#include <stddef.h>

/* The label Azure gives the NTFS partition of the resource disk it delivers. */
#define AZURE_RESOURCE_LABEL "Temporary Storage"

/* Whether this build can list an NTFS directory (libntfs-3g). */
/* libntfs-3g, loaded at the first call (src/dlopen.h): its error says
 * "built without libntfs-3g", or the loader's words, when it cannot be
 * used. */
struct dlib *azure_ntfs_library(void);

/* Whether the whole disk at node is what Azure's agents reformat (cloud-init's
 * can_dev_be_reformatted, azure-vm-utils' label check): 1 yes, 0 no with the
 * reason in why, -errno. */
int azure_resource_disk_reformattable(const char *node, char *why, size_t n);

/* The same on a disk already open on fd (read-only is enough); nothing is
 * written to it. */
int azure_resource_fd_reformattable(int fd, char *why, size_t n);

/* Erases every partition-table signature on the whole disk at node (opened
 * exclusively, for writing), zeroes its first and last MiB (the tables'
 * entries with them) and has the kernel drop its partitions, so that what
 * is made on the disk next is all a later probe finds, and a disk left
 * before that reads as blank. A kernel that keeps its partitions because one
 * is busy sets *ret_busy (given NULL, that is -EBUSY). Returns how many
 * signatures were erased, or -errno. */
int azure_wipe_partition_table(const char *node, bool *ret_busy);
