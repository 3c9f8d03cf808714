/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LD_PRELOAD shim for test/integration/faults.sh: mount(2) as a kernel
 * that lacks a feature would answer. SR_MOUNTFAULT picks the fault:
 *   volatile-einval  an overlay mount whose data holds "volatile" fails
 *                    with EINVAL (kernels before 5.10)
 *   metacopy-einval  one whose data holds "metacopy" fails with EINVAL
 *                    (a kernel built without it)
 *   overlay-enodev   every overlay mount fails with ENODEV (no overlay
 *                    module)
 *   ext4-noprefetch-einval
 *                    an ext4 mount whose data holds
 *                    "no_prefetch_block_bitmaps" fails with EINVAL
 *                    (kernels before 5.13)
 * Every overlay mount, and under ext4-noprefetch-einval every ext4 mount,
 * is recorded, one line each, in SR_MOUNTFAULT_LOG as "refused|passed
 * TARGET DATA". Other mounts go to the kernel unchanged. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

static void record(const char *what, const char *target, const char *data) {
        const char *path = getenv("SR_MOUNTFAULT_LOG");
        char line[1024];
        int fd, n;

        if (!path)
                return;
        n = snprintf(line, sizeof(line), "%s %s %s\n", what, target ? target : "-", data ? data : "-");
        if (n < 0)
                return;
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return;
        (void) !write(fd, line, (size_t) n < sizeof(line) ? (size_t) n : sizeof(line) - 1);
        (void) close(fd);
}

int mount(const char *source, const char *target, const char *type, unsigned long flags, const void *data) {
        const char *fault = getenv("SR_MOUNTFAULT"), *d = data;

        if (type && strcmp(type, "overlay") == 0 && !(flags & (MS_REMOUNT | MS_BIND | MS_MOVE))) {
                int err = 0;

                if (fault && strcmp(fault, "volatile-einval") == 0 && d && strstr(d, "volatile"))
                        err = EINVAL;
                else if (fault && strcmp(fault, "metacopy-einval") == 0 && d && strstr(d, "metacopy"))
                        err = EINVAL;
                else if (fault && strcmp(fault, "overlay-enodev") == 0)
                        err = ENODEV;
                record(err ? "refused" : "passed", target, d);
                if (err) {
                        errno = err;
                        return -1;
                }
        }
        if (type && strcmp(type, "ext4") == 0 && fault && strcmp(fault, "ext4-noprefetch-einval") == 0 &&
            !(flags & (MS_REMOUNT | MS_BIND | MS_MOVE))) {
                int err = d && strstr(d, "no_prefetch_block_bitmaps") ? EINVAL : 0;

                record(err ? "refused" : "passed", target, d);
                if (err) {
                        errno = err;
                        return -1;
                }
        }
        return (int) syscall(SYS_mount, source, target, type, flags, data);
}
