/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "switchroot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "util.h"

static const char *const api_mounts[] = { "/dev", "/proc", "/sys", "/run" };

int switch_root(const char *newroot, int *ret_oldroot) {
        _cleanup_close_ int oldroot = -1;
        struct stat root_st, new_st, st;
        char dst[PATH_MAX];
        int r;

        if (stat("/", &root_st) < 0 || stat(newroot, &new_st) < 0)
                return -errno;
        /* Not a mount point: MS_MOVE onto / would fail after the API
         * filesystems were already gone. */
        if (root_st.st_dev == new_st.st_dev)
                return -EINVAL;

        for (size_t i = 0; i < sizeof(api_mounts) / sizeof(api_mounts[0]); i++) {
                const char *m = api_mounts[i];

                if (stat(m, &st) < 0 || st.st_dev == root_st.st_dev)
                        continue;
                r = xsnprintf(dst, sizeof(dst), "%s%s", newroot, m);
                if (r < 0)
                        return r;
                /* Where the new root has no directory for it, or one that is
                 * mounted over already, the mount stays behind: detach it so
                 * that nothing pins the initramfs. */
                if (stat(dst, &st) < 0 || st.st_dev != new_st.st_dev) {
                        log_warning("%s has no directory %s to move %s to, unmounting it", newroot, m, m);
                        (void) umount2(m, MNT_DETACH);
                        continue;
                }
                if (mount(m, dst, NULL, MS_MOVE, NULL) < 0) {
                        log_warning_errno(errno, "cannot move %s to %s: %m, unmounting it", m, dst);
                        (void) umount2(m, MNT_DETACH);
                }
        }

        if (chdir(newroot) < 0)
                return -errno;
        oldroot = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (oldroot < 0)
                return -errno;
        if (mount(newroot, "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 || chdir("/") < 0)
                return -errno;
        *ret_oldroot = TAKE_FD(oldroot);
        return 0;
}

/* Deletes the directory dfd holds the contents of, and closes dfd. Entries
 * of another filesystem (mount points) are left alone. */
static void remove_tree(int dfd, dev_t dev) {
        _cleanup_close_ int fd = dfd;
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        d = fdopendir(fd);
        if (!d)
                return;
        fd = -1;                /* d owns it now */
        while ((de = readdir(d))) {
                struct stat st;
                bool isdir;

                if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev)
                        continue;
                isdir = S_ISDIR(st.st_mode);
                if (isdir) {
                        int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                        if (sub < 0)
                                continue;
                        remove_tree(sub, dev);
                }
                (void) unlinkat(dirfd(d), de->d_name, isdir ? AT_REMOVEDIR : 0);
        }
}

int switch_root_free_old(int oldroot) {
        _cleanup_close_ int fd = oldroot;
        struct statfs sfs;
        struct stat st;

        if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0)
                return -errno;
        if (sfs.f_type != RAMFS_MAGIC && sfs.f_type != TMPFS_MAGIC)
                return -EXDEV;
        remove_tree(TAKE_FD(fd), st.st_dev);
        return 0;
}
