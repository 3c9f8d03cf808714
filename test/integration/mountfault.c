/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* LD_PRELOAD shim for test/integration/mountfault.sh: mount(2) as a kernel
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
#include <stdbool.h>
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

/* refuse ERR TARGET DATA: records the mount as refused (ERR != 0) or passed;
 * -1 with errno ERR when refused, 0 when it goes on to the kernel. */
static int refuse(int err, const char *target, const char *data) {
        record(err ? "refused" : "passed", target, data);
        if (!err)
                return 0;
        errno = err;
        return -1;
}

int mount(const char *source, const char *target, const char *type, unsigned long flags, const void *data) {
        const char *fault = getenv("SR_MOUNTFAULT"), *d = data;
        bool fresh = !(flags & (MS_REMOUNT | MS_BIND | MS_MOVE));

        if (type && strcmp(type, "overlay") == 0 && fresh) {
                int err = 0;

                if (fault && strcmp(fault, "volatile-einval") == 0 && d && strstr(d, "volatile"))
                        err = EINVAL;
                else if (fault && strcmp(fault, "metacopy-einval") == 0 && d && strstr(d, "metacopy"))
                        err = EINVAL;
                else if (fault && strcmp(fault, "overlay-enodev") == 0)
                        err = ENODEV;
                if (refuse(err, target, d) < 0)
                        return -1;
        }
        if (type && strcmp(type, "ext4") == 0 && fresh && fault && strcmp(fault, "ext4-noprefetch-einval") == 0 &&
            refuse(d && strstr(d, "no_prefetch_block_bitmaps") ? EINVAL : 0, target, d) < 0)
                return -1;
        return (int) syscall(SYS_mount, source, target, type, flags, data);
}
