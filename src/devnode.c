/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "devnode.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* initrds mount /run nodev (systemd, initramfs-tools): a node made there
 * cannot be opened. Our nodes live on a small tmpfs of our own that allows
 * devices, mounted on first use. */
static int node_dir(void) {
        struct stat dir, parent;
        int r;

        r = mkdir_p(NODE_DIR, 0700);
        if (r < 0)
                return r;
        if (stat(NODE_DIR, &dir) < 0 || stat(NODE_DIR "/..", &parent) < 0)
                return -errno;
        if (dir.st_dev != parent.st_dev)
                return 0;
        if (mount("scratchroot-dev", NODE_DIR, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0700") < 0)
                return -errno;
        return 0;
}

int device_node(const char *name, mode_t type, dev_t devno, char *path, size_t n) {
        struct stat st;
        int r;

        if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return -EINVAL;
        if (xsnprintf(path, n, "/dev/%s", name) == 0 && stat(path, &st) == 0 && (st.st_mode & S_IFMT) == type &&
            st.st_rdev == devno)
                return 0;

        r = node_dir();
        if (r < 0)
                return r;
        if (xsnprintf(path, n, NODE_DIR "/%s", name) < 0)
                return -ENAMETOOLONG;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        if (mknod(path, type | 0600, devno) < 0)
                return -errno;
        return 0;
}
