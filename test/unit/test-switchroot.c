/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Freeing the old root: everything on its own filesystem goes, nothing
 * reached through a symlink does, and a root that is not a RAM filesystem is
 * left alone. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "switchroot.h"
#include "tap.h"
#include "util.h"

static int put(const char *dir, const char *name, const char *content) {
        char path[PATH_MAX];

        (void) snprintf(path, sizeof(path), "%s/%s", dir, name);
        return write_file_atomic(path, content, 0644);
}

static bool exists(const char *dir, const char *name) {
        char path[PATH_MAX];
        struct stat st;

        (void) snprintf(path, sizeof(path), "%s/%s", dir, name);
        return lstat(path, &st) == 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* A tree like an initramfs's: files, nested directories, symlinks (one to a
 * directory outside it, whose contents must survive), a FIFO. */
static int populate(const char *root, const char *outside) {
        char path[PATH_MAX];
        int r;

        (void) snprintf(path, sizeof(path), "%s/usr/lib/deep/er", root);
        if ((r = mkdir_p(path, 0755)) < 0)
                return r;
        if ((r = put(root, "init", "#!/bin/sh\n")) < 0 || (r = put(root, "usr/lib/libx.so", "x")) < 0 ||
            (r = put(root, "usr/lib/deep/er/file", "y")) < 0)
                return r;
        (void) snprintf(path, sizeof(path), "%s/outside-link", root);
        if (symlink(outside, path) < 0)
                return -errno;
        (void) snprintf(path, sizeof(path), "%s/usr/lib/deep/dangling", root);
        if (symlink("/nonexistent", path) < 0)
                return -errno;
        (void) snprintf(path, sizeof(path), "%s/fifo", root);
        if (mkfifo(path, 0600) < 0)
                return -errno;
        (void) snprintf(path, sizeof(path), "%s/.hidden", root);
        return mkdir_p(path, 0700);
}

static void test_ramfs(void) {
        char root[] = "/dev/shm/test-switchroot.XXXXXX", outside[] = "/dev/shm/test-switchroot-out.XXXXXX";
        struct statfs sfs;
        DIR *d;
        int fd, r, left = 0;

        if (statfs("/dev/shm", &sfs) < 0 || sfs.f_type != TMPFS_MAGIC) {
                check(true, "ramfs: skipped, /dev/shm is not a tmpfs");
                return;
        }
        if (!check(mkdtemp(root) && mkdtemp(outside), "ramfs: temporary directories"))
                return;
        check_int(put(outside, "keep", "precious"), 0, "ramfs: a file outside");
        r = populate(root, outside);
        check_int(r, 0, "ramfs: tree made");

        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (check(fd >= 0, "ramfs: opened the tree")) {
                check_int(switch_root_free_old(fd), 0, "ramfs: freed");
                check(fcntl(fd, F_GETFD) < 0 && errno == EBADF, "ramfs: the descriptor is closed");
        }
        d = opendir(root);
        if (check(d != NULL, "ramfs: the top directory itself stays")) {
                struct dirent *de;

                while ((de = readdir(d)))
                        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                                tap_diag("left: %s", de->d_name);
                                left++;
                        }
                (void) closedir(d);
        }
        check_int(left, 0, "ramfs: nothing is left in it");
        check(exists(outside, "keep"), "ramfs: what a symlink pointed to is untouched");
        (void) nftw(root, rm_one, 8, FTW_DEPTH | FTW_PHYS);
        (void) nftw(outside, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void test_not_ramfs(void) {
        char root[PATH_MAX];
        struct statfs sfs;
        int fd;

        /* The build directory: a disk's filesystem, as a rule. */
        if (!getcwd(root, sizeof(root) - 32) || statfs(root, &sfs) < 0 || sfs.f_type == TMPFS_MAGIC ||
            sfs.f_type == RAMFS_MAGIC) {
                check(true, "disk: skipped, the working directory is on a RAM filesystem");
                return;
        }
        strcat(root, "/test-switchroot.XXXXXX");
        if (!check(mkdtemp(root) != NULL, "disk: temporary directory"))
                return;
        check_int(put(root, "file", "stays"), 0, "disk: a file");
        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (check(fd >= 0, "disk: opened"))
                check_int(switch_root_free_old(fd), -EXDEV, "disk: refused with -EXDEV");
        check(exists(root, "file"), "disk: the file is still there");
        (void) nftw(root, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void) {
        test_ramfs();
        test_not_ramfs();
        return tap_done();
}
