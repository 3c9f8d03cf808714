/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Moves /dev, /proc, /sys and /run into newroot (unmounting one that cannot
 * be moved), makes newroot the root and the working directory. On success
 * *ret_oldroot is a descriptor of the old root's top directory, for
 * switch_root_free_old(). Past the first move the process is half switched:
 * a failure is not undone. */
int switch_root(const char *newroot, int *ret_oldroot);

/* Deletes what is left of the initramfs through oldroot, never crossing
 * into another filesystem, and closes oldroot: its memory is not given back
 * otherwise. Returns -EXDEV, deleting nothing, unless the old root is the
 * initramfs (ramfs or tmpfs). */
int switch_root_free_old(int oldroot);
