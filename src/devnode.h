/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#define NODE_DIR "/run/scratchroot/dev"

/* A node for the device devno (S_IFBLK or S_IFCHR in type): /dev/<name>
 * when that is the device sysfs gave the number of, else one of our own
 * under NODE_DIR. A name alone proves nothing: sdX names follow probe
 * order, which changes between boots. */
int device_node(const char *name, mode_t type, dev_t devno, char *path, size_t n);
