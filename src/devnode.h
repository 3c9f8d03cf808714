/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Where the setup makes its nodes (the scratch disk, the virtio port). */
#define RUN_NODE_DIR "/run/scratchroot/dev"

/* The name under /dev of a device sysfs names sysname: sysfs spells a "/"
 * in it as "!" ("cciss!c0d0" is /dev/cciss/c0d0). */
int devnode_name(const char *sysname, char *buf, size_t n);
/* The reverse: the name sysfs gives the device /dev/devname. */
int devnode_sysname(const char *devname, char *buf, size_t n);

struct node_dirs {
        const char *devdir;     /* the directory of device nodes, "/dev" */
        const char *nodedir;    /* where to make one of our own; NULL: never */
        bool mount_nodedir;     /* on a tmpfs of its own (the one under /run is nodev) */
        bool regular_ok;        /* a regular file in devdir stands in for the device (test trees) */
};

/* A node for the device devno (S_IFBLK or S_IFCHR in type) that sysfs names
 * sysname: devdir's when that is the device sysfs gave the number of, else
 * one of our own in nodedir. A name alone proves nothing: sdX names follow
 * probe order, which changes between boots. */
int device_node_in(const struct node_dirs *dirs, const char *sysname, mode_t type, dev_t devno, char *path,
                   size_t n);

/* The same with /dev and RUN_NODE_DIR. */
int device_node(const char *sysname, mode_t type, dev_t devno, char *path, size_t n);
