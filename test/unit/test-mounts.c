/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* mounts: what mountinfo says of the root (a mount below it, a read-only
 * superblock), and making the root's superblock read-only in a private
 * mount namespace. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fixture.h"
#include "mounts.h"

static const char sysroot_ro[] =
        "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
        "28 1 8:1 / /sysroot ro,relatime shared:1 - ext4 /dev/sda1 ro\n"
        "29 1 0:25 / /run rw,nosuid,nodev shared:2 - tmpfs tmpfs rw,mode=755\n";

static const char sysroot_usr[] =
        "28 1 8:1 / /sysroot rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n"
        "29 1 0:25 / /run rw,nosuid,nodev shared:2 - tmpfs tmpfs rw\n"
        "30 28 8:2 / /sysroot/usr ro,relatime shared:3 - ext4 /dev/sda2 ro\n";

/* A second mount on /sysroot hides the first and what is below it. */
static const char stacked[] =
        "28 1 8:1 / /sysroot rw,relatime - ext4 /dev/sda1 rw\n"
        "30 28 8:2 / /sysroot/usr rw,relatime - ext4 /dev/sda2 rw\n"
        "31 1 7:0 / /sysroot ro,relatime - squashfs /dev/loop0 ro\n";

/* Optional fields before "-", escaped blanks, a /sysroot2 that is not below. */
static const char escaped[] =
        "40 1 8:1 / /new\\040root rw master:1 shared:7 - ext4 /dev/sda1 rw,data=ordered\n"
        "41 1 8:3 / /new\\040root2 rw - ext4 /dev/sda3 rw\n"
        "42 40 8:2 / /new\\040root/var\\040lib rw unbindable - ext4 /dev/sda2 rw\n";

static const char malformed[] =
        "garbage\n"
        "28 1 8:1 / /sysroot rw\n"
        "29 1 8:1 / /sysroot rw - ext4 /dev/sda1\n";

static int facts(const char *content, const char *newroot, bool *ro, char *below, size_t n) {
        char path[PATH_MAX];

        put(base, "mountinfo", content);
        xfmt(path, sizeof(path), "%s/mountinfo", base);
        return root_mount_facts(path, newroot, ro, below, n);
}

static void test_facts(void) {
        char below[PATH_MAX], path[PATH_MAX];
        bool ro = false;

        check_int(facts(sysroot_ro, "/sysroot", &ro, below, sizeof(below)), 0, "facts: /sysroot found");
        check(ro, "facts: its superblock is read-only");
        check_str(below, "", "facts: nothing below it");

        check_int(facts(sysroot_usr, "/sysroot", &ro, below, sizeof(below)), 0, "facts: a separate /usr");
        check(!ro, "facts: superblock rw (rw,errors=remount-ro)");
        check_str(below, "/sysroot/usr", "facts: the mount below is named");

        check_int(facts(stacked, "/sysroot", &ro, below, sizeof(below)), 0, "facts: stacked mounts");
        check(ro, "facts: the last mount at the path is the one seen");
        check_str(below, "", "facts: a mount below a hidden mount does not count");

        check_int(facts(escaped, "/new root", &ro, below, sizeof(below)), 0, "facts: escaped mount point");
        check_str(below, "/new root/var lib", "facts: escaped submount, unescaped");
        check_int(facts(escaped, "/new root2", &ro, below, sizeof(below)), 0, "facts: a sibling with a longer name");
        check_str(below, "", "facts: the sibling has nothing below it");

        check_int(facts(sysroot_ro, "/sysroot/usr", &ro, below, sizeof(below)), -ENOENT,
                  "facts: not a mount point: -ENOENT");
        check_int(facts(malformed, "/sysroot", &ro, below, sizeof(below)), -ENOENT,
                  "facts: lines without the fields after '-' are skipped");
        check_int(facts(sysroot_usr, "/sysroot", &ro, below, 8), -ENAMETOOLONG,
                  "facts: a submount that does not fit: -ENAMETOOLONG");
        xfmt(path, sizeof(path), "%s/none", base);
        check_int(root_mount_facts(path, "/sysroot", &ro, below, sizeof(below)), -ENOENT,
                  "facts: no mountinfo: -ENOENT");
}

static bool sb_ro(const char *dir) {
        char below[PATH_MAX];
        bool ro = false;

        return root_mount_facts(MOUNTINFO, dir, &ro, below, sizeof(below)) == 0 && ro;
}

/* In a namespace of its own: a tmpfs stands in for a root mounted rw. */
static void test_make_ro(void) {
        char root[PATH_MAX], file[PATH_MAX];
        struct statvfs sv;
        int fd;

        if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0) {
                tap_skip("make_ro: a superblock made read-only", "needs root and a mount namespace");
                return;
        }
        xfmt(root, sizeof(root), "%s/root", base);
        mkdirs(root);
        if (mount("sr-test", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") < 0)
                bail("cannot mount a tmpfs on %s: %s", root, strerror(errno));
        xfmt(file, sizeof(file), "%s/open", root);
        fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                bail("cannot create %s", file);

        check(!sb_ro(root), "make_ro: the root starts rw");
        check_int(root_make_ro(root), -EBUSY, "make_ro: a file open for writing: -EBUSY");
        check(!sb_ro(root), "make_ro: still rw after EBUSY");
        (void) close(fd);

        check_int(root_make_ro(root), 0, "make_ro: made read-only");
        check(sb_ro(root), "make_ro: mountinfo says the superblock is ro");
        check(open(file, O_WRONLY | O_CLOEXEC) < 0 && errno == EROFS, "make_ro: writing fails with EROFS");
        check_int(root_make_ro(root), 0, "make_ro: again, a no-op");
        check(statvfs(root, &sv) == 0 && (sv.f_flag & ST_NOSUID) && (sv.f_flag & ST_NODEV),
              "make_ro: the mount keeps nosuid and nodev");
        check_int(root_make_rw(root), 0, "make_rw: undone");
        check(!sb_ro(root), "make_rw: the superblock is rw again");
        fd = open(file, O_WRONLY | O_CLOEXEC);
        check(fd >= 0, "make_rw: writable again");
        if (fd >= 0)
                (void) close(fd);
        (void) umount2(root, MNT_DETACH);
}

int main(void) {
        if (!fixture_start("test-mounts", "test setup"))
                return tap_done();
        test_facts();
        test_make_ro();
        return fixture_done();
}
