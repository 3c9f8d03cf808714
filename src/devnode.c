/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "devnode.h"

#include <errno.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* sysfs spells a "/" in a device's name as "!". */
static int swap_char(const char *s, char from, char to, char *buf, size_t n) {
        size_t len = strlen(s);

        if (len >= n)
                return -ENAMETOOLONG;
        for (size_t i = 0; i <= len; i++)
                buf[i] = s[i] == from ? to : s[i];
        return 0;
}

int devnode_name(const char *sysname, char *buf, size_t n) {
        return swap_char(sysname, '!', '/', buf, n);
}

int devnode_sysname(const char *devname, char *buf, size_t n) {
        return swap_char(devname, '/', '!', buf, n);
}

/* initrds mount /run nodev (systemd, initramfs-tools): a node made there
 * cannot be opened. Nodes under /run live on a small tmpfs of our own that
 * allows devices, mounted on first use. */
static int node_dir(const struct node_dirs *dirs) {
        struct stat dir, parent;
        char up[4096];
        int r;

        r = mkdir_p(dirs->nodedir, 0700);
        if (r < 0 || !dirs->mount_nodedir)
                return r;
        r = xsnprintf(up, sizeof(up), "%s/..", dirs->nodedir);
        if (r < 0)
                return r;
        if (stat(dirs->nodedir, &dir) < 0 || stat(up, &parent) < 0)
                return -errno;
        if (dir.st_dev != parent.st_dev)
                return 0;
        if (mount("scratchroot-dev", dirs->nodedir, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0700") < 0)
                return -errno;
        return 0;
}

static bool is_the_device(const struct node_dirs *dirs, const char *path, mode_t type, dev_t devno) {
        struct stat st;

        if (stat(path, &st) < 0)
                return false;
        if (dirs->regular_ok && S_ISREG(st.st_mode))
                return true;
        return (st.st_mode & S_IFMT) == type && st.st_rdev == devno;
}

int device_node_in(const struct node_dirs *dirs, const char *sysname, mode_t type, dev_t devno, char *path,
                   size_t n) {
        char name[256];
        int r;

        if (!sysname[0] || strchr(sysname, '/') || strcmp(sysname, ".") == 0 || strcmp(sysname, "..") == 0)
                return -EINVAL;
        r = devnode_name(sysname, name, sizeof(name));
        if (r < 0)
                return r;
        if (xsnprintf(path, n, "%s/%s", dirs->devdir, name) == 0 && is_the_device(dirs, path, type, devno))
                return 0;
        if (!dirs->nodedir)
                return -ENODEV;

        r = node_dir(dirs);
        if (r < 0)
                return r;
        r = xsnprintf(path, n, "%s/%s", dirs->nodedir, sysname);
        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        if (mknod(path, type | 0600, devno) < 0)
                return -errno;
        return 0;
}

int device_node(const char *sysname, mode_t type, dev_t devno, char *path, size_t n) {
        static const struct node_dirs run = { .devdir = "/dev", .nodedir = RUN_NODE_DIR, .mount_nodedir = true };

        return device_node_in(&run, sysname, type, devno, path, n);
}
