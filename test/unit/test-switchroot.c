/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Freeing the old root: everything on its own filesystem (tmpfs, ramfs)
 * goes, nothing reached through a symlink does, and a root that is not a RAM
 * filesystem is left alone. Switching: a tmpfs becomes the root, with /proc
 * moved into it, in a child with a mount namespace of its own. Needs root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/magic.h>

#include "switchroot.h"
#include "fixture.h"
#include "util.h"

static bool exists(const char *dir, const char *name) {
        char path[PATH_MAX];
        struct stat st;

        xfmt(path, sizeof(path), "%s/%s", dir, name);
        return lstat(path, &st) == 0;
}

/* A tree like an initramfs's: files, nested directories, symlinks (one to a
 * directory outside it, whose contents must survive), a FIFO. */
static int populate(const char *root, const char *outside) {
        char path[PATH_MAX];
        int r;

        xfmt(path, sizeof(path), "%s/usr/lib/deep/er", root);
        if ((r = mkdir_p(path, 0755)) < 0)
                return r;
        put(root, "init", "#!/bin/sh\n");
        put(root, "usr/lib/libx.so", "x");
        put(root, "usr/lib/deep/er/file", "y");
        xfmt(path, sizeof(path), "%s/outside-link", root);
        if (symlink(outside, path) < 0)
                return -errno;
        xfmt(path, sizeof(path), "%s/usr/lib/deep/dangling", root);
        if (symlink("/nonexistent", path) < 0)
                return -errno;
        xfmt(path, sizeof(path), "%s/fifo", root);
        if (mkfifo(path, 0600) < 0)
                return -errno;
        xfmt(path, sizeof(path), "%s/.hidden", root);
        return mkdir_p(path, 0700);
}

/* The old root on a RAM filesystem of type fstype, mounted at top/root;
 * a directory of top a symlink in it points to. */
static void test_ramfs(const char *top, const char *fstype) {
        char root[PATH_MAX], outside[PATH_MAX];
        struct statfs sfs;
        DIR *d;
        int fd, r, left = 0;

        xfmt(root, sizeof(root), "%s/%s", top, fstype);
        xfmt(outside, sizeof(outside), "%s/%s-outside", top, fstype);
        if (!check(mkdir(root, 0755) == 0 && mkdir(outside, 0755) == 0, "%s: directories", fstype))
                return;
        if (mount(fstype, root, fstype, 0, NULL) < 0)
                bail("mount %s on %s: %s", fstype, root, strerror(errno));
        check(statfs(root, &sfs) == 0 && (sfs.f_type == TMPFS_MAGIC || sfs.f_type == RAMFS_MAGIC),
              "%s: a RAM filesystem at %s", fstype, root);
        put(outside, "keep", "precious");
        r = populate(root, outside);
        check_int(r, 0, "%s: tree made", fstype);

        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (check(fd >= 0, "%s: opened the tree", fstype)) {
                check_int(switch_root_free_old(fd), 0, "%s: freed", fstype);
                check(fcntl(fd, F_GETFD) < 0 && errno == EBADF, "%s: the descriptor is closed", fstype);
        }
        d = opendir(root);
        if (check(d != NULL, "%s: the top directory itself stays", fstype)) {
                struct dirent *de;

                while ((de = readdir(d)))
                        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                                tap_diag("left: %s", de->d_name);
                                left++;
                        }
                (void) closedir(d);
        }
        check_int(left, 0, "%s: nothing is left in it", fstype);
        check(exists(outside, "keep"), "%s: what a symlink pointed to is untouched", fstype);
        check(umount(root) == 0, "%s: unmounted", fstype);
}

/* The old root on top's filesystem, which is not a RAM filesystem. */
static void test_not_ramfs(const char *top) {
        char root[PATH_MAX];
        struct statfs sfs;
        int fd;

        if (statfs(top, &sfs) < 0 || sfs.f_type == TMPFS_MAGIC || sfs.f_type == RAMFS_MAGIC) {
                tap_skip("disk: an old root that is not a RAM filesystem is left alone",
                         "%s is on a RAM filesystem; set TMPDIR to a disk's", top);
                return;
        }
        xfmt(root, sizeof(root), "%s/disk", top);
        if (!check(mkdir(root, 0755) == 0, "disk: directory"))
                return;
        put(root, "file", "stays");
        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (check(fd >= 0, "disk: opened"))
                check_int(switch_root_free_old(fd), -EXDEV, "disk: refused with -EXDEV");
        check(exists(root, "file"), "disk: the file is still there");
}

/* What the child of test_switch() found, as its exit status. */
enum {
        SWITCHED,
        NO_NAMESPACE,
        NOT_A_MOUNT_POINT_ACCEPTED,
        FAILED,
        NO_MARKER,
        NO_PROC,
        ROOT_NOT_TMPFS,
        CWD_NOT_ROOT,
        OLDROOT_NOT_OPEN,
};

static int switch_child(const char *newroot) {
        struct statfs sfs;
        struct stat st;
        char cwd[PATH_MAX];
        int oldroot = -1;

        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return NO_NAMESPACE;
        if (switch_root("/", &oldroot) != -EINVAL)
                return NOT_A_MOUNT_POINT_ACCEPTED;
        if (switch_root(newroot, &oldroot) < 0)
                return FAILED;
        if (access("/marker", F_OK) < 0)
                return NO_MARKER;
        if (access("/proc/self/stat", F_OK) < 0)
                return NO_PROC;
        if (statfs("/", &sfs) < 0 || sfs.f_type != TMPFS_MAGIC)
                return ROOT_NOT_TMPFS;
        if (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/") != 0)
                return CWD_NOT_ROOT;
        if (fstat(oldroot, &st) < 0 || !S_ISDIR(st.st_mode))
                return OLDROOT_NOT_OPEN;
        return SWITCHED;
}

/* switch_root() in a child with a mount namespace of its own: a tmpfs with
 * dev, proc, sys and run becomes the root, /proc moved into it. */
static void test_switch(const char *top) {
        static const char *const names[] = {
                "switched", "no mount namespace", "a newroot that is not a mount point accepted",
                "switch_root failed", "the new root's file is not at /", "/proc was not moved",
                "/ is not the tmpfs", "the working directory is not /", "no descriptor of the old root",
        };
        static const char *const api[] = { "dev", "proc", "sys", "run" };
        char newroot[PATH_MAX], path[PATH_MAX + 8];
        int status = -1, code;
        pid_t pid;

        xfmt(newroot, sizeof(newroot), "%s/newroot", top);
        if (!check(mkdir(newroot, 0755) == 0 && mount("tmpfs", newroot, "tmpfs", 0, "size=1m") == 0,
                   "switch: a tmpfs as the new root"))
                return;
        for (size_t i = 0; i < sizeof(api) / sizeof(api[0]); i++) {
                xfmt(path, sizeof(path), "%s/%s", newroot, api[i]);
                (void) mkdir(path, 0755);
        }
        put(newroot, "marker", "new");
        (void) fflush(stdout);
        pid = fork();
        if (pid == 0)
                _exit(switch_child(newroot));
        check(pid > 0 && waitpid(pid, &status, 0) == pid, "switch: the child ran");
        code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (!check(code == SWITCHED, "switch: newroot is /, with /proc in it, cwd /, the old root open"))
                tap_diag("the child says: %s", code >= 0 && (size_t) code < sizeof(names) / sizeof(names[0])
                                                       ? names[code] : "it crashed");
        check(umount(newroot) == 0, "switch: the new root unmounted here, untouched by the child");
}

int main(void) {
        /* Mounting the RAM filesystems to free and the new root to switch to
         * needs root, in a mount namespace of the test's own. */
        if (geteuid() != 0) {
                tap_skip("switch_root and switch_root_free_old", "mounting filesystems needs root");
                return tap_done();
        }
        if (!check(unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0,
                   "a private mount namespace"))
                return tap_done();
        if (!fixture_start("test-switchroot", "test setup"))
                return tap_done();

        test_ramfs(base, "tmpfs");
        test_ramfs(base, "ramfs");
        test_not_ramfs(base);
        test_switch(base);

        return fixture_done();
}
