/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mounts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "macro.h"
#include "util.h"

#ifndef OVERLAYFS_SUPER_MAGIC
#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#endif

/* The type is ignored for bind, remount and propagation changes; "none"
 * rather than NULL keeps valgrind from flagging the syscall. */
static int make_private(const char *path) {
        /* In a systemd initrd every mount is shared; ours must neither
         * propagate nor be propagated into. */
        if (mount("none", path, "none", MS_PRIVATE, NULL) < 0)
                return -errno;
        return 0;
}

/* The scratch filesystem's root is reachable at SCRATCH_DIR by root only:
 * upper/ holds the root's files, and writing there behind the overlay's back
 * is undefined. */
static int mount_scratch(const char *source, const char *type, unsigned long flags, const char *data) {
        int r;

        r = mkdir_p(SCRATCH_DIR, 0700);
        if (r < 0)
                return r;
        if (mount(source, SCRATCH_DIR, type, flags, data) < 0)
                return -errno;
        r = make_private(SCRATCH_DIR);
        if (r == 0 && chmod(SCRATCH_DIR, 0700) < 0)
                r = -errno;
        if (r < 0)
                (void) umount2(SCRATCH_DIR, MNT_DETACH);
        return r;
}

int mount_scratch_ext4(const char *node, bool discard, unsigned *ret_dropped) {
        /* noinit_itable: without it the kernel zeroes every lazy inode table
         * in the background, and a thin 64 GiB disk grows by about 1 GiB.
         * no_prefetch_block_bitmaps: without it the same background thread
         * reads the block bitmaps of all 512 groups of a 64 GiB disk and
         * builds their buddy caches (4 MiB of page cache) while the boot
         * goes on; on a fresh filesystem there is nothing in them to find.
         * Kernels before 5.13 do not know the option and refuse the mount
         * with EINVAL: mounted again without it. */
        const unsigned long flags = MS_NOATIME | MS_NOSUID | MS_NODEV;
        int r;

        *ret_dropped = 0;
        r = mount_scratch(node, "ext4", flags,
                          discard ? "noinit_itable,no_prefetch_block_bitmaps,discard"
                                  : "noinit_itable,no_prefetch_block_bitmaps");
        if (r != -EINVAL)
                return r;
        r = mount_scratch(node, "ext4", flags, discard ? "noinit_itable,discard" : "noinit_itable");
        if (r == 0)
                *ret_dropped = MOUNT_DROPPED_PREFETCH;
        return r;
}

int mount_scratch_tmpfs(const struct size_spec *size) {
        char opts[64], sz[32];
        int r;

        size_spec_format(size, sz, sizeof(sz));
        r = xsnprintf(opts, sizeof(opts), "size=%s,mode=0700", sz);
        if (r < 0)
                return r;
        return mount_scratch("scratchroot", "tmpfs", MS_NOSUID | MS_NODEV, opts);
}

void umount_scratch(void) {
        (void) umount2(SCRATCH_DIR, MNT_DETACH);
}

/* The overlay's root directory takes its owner and mode from upper/. */
static int make_upper(const char *newroot) {
        struct stat st;

        if (stat(newroot, &st) < 0)
                return -errno;
        if (mkdir(UPPER_DIR, st.st_mode & 07777) < 0 && errno != EEXIST)
                return -errno;
        if (chown(UPPER_DIR, st.st_uid, st.st_gid) < 0 || chmod(UPPER_DIR, st.st_mode & 07777) < 0)
                return -errno;
        if (mkdir(WORK_DIR, 0700) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* The root, read-only, at LOWER_DIR. A bind rather than a move: moving a
 * mount whose parent is shared (a systemd initrd) fails with EINVAL. The
 * original stays under the overlay, unreachable once the root is switched. */
static int bind_lower(const char *newroot, const char **ret_step) {
        int r;

        *ret_step = "create " LOWER_DIR;
        r = mkdir_p(LOWER_DIR, 0755);
        if (r < 0)
                return r;
        *ret_step = "bind the root to " LOWER_DIR;
        if (mount(newroot, LOWER_DIR, "none", MS_BIND, NULL) < 0)
                return -errno;
        *ret_step = "make " LOWER_DIR " private";
        r = make_private(LOWER_DIR);
        /* nosuid, nodev: /run moves into the new root, and this view of the
         * image must not run an old setuid program the overlay has since
         * replaced. The overlay's own mount flags govern its files. */
        if (r == 0 && mount("none", LOWER_DIR, "none", MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV,
                            NULL) < 0) {
                *ret_step = "make " LOWER_DIR " read-only";
                r = -errno;
        }
        if (r < 0)
                (void) umount2(LOWER_DIR, MNT_DETACH);
        return r;
}

/* Options beyond the directories, tried in this order while the kernel
 * answers EINVAL (it does not say which option it lacks):
 * - volatile: no syncs reach the scratch disk, its data dies with the boot
 *   anyway (5.10 and later);
 * - redirect_dir=on, metacopy=on: renaming a directory of the image and
 *   chown/chmod of its files no longer copy the data up (4.19 and later).
 *   overlayfs warns against them with an untrusted upper layer; this one is
 *   made fresh at every boot and only root can reach it. */
static int mount_overlay(const char *newroot, unsigned *ret_dropped) {
        static const char base[] = "lowerdir=" LOWER_DIR ",upperdir=" UPPER_DIR ",workdir=" WORK_DIR;
        static const struct {
                const char *extra;
                unsigned dropped;
        } tries[] = {
                { ",volatile,redirect_dir=on,metacopy=on", 0 },
                { ",redirect_dir=on,metacopy=on", MOUNT_DROPPED_VOLATILE },
                { ",volatile", MOUNT_DROPPED_METACOPY },
                { "", MOUNT_DROPPED_VOLATILE | MOUNT_DROPPED_METACOPY },
        };

        for (size_t i = 0; i < ELEMENTSOF(tries); i++) {
                char opts[sizeof(base) + 64];
                int r;

                r = xsnprintf(opts, sizeof(opts), "%s%s", base, tries[i].extra);
                if (r < 0)
                        return r;
                if (mount("overlay", newroot, "overlay", 0, opts) == 0) {
                        *ret_dropped = tries[i].dropped;
                        return 0;
                }
                if (errno != EINVAL)
                        break;
        }
        return -errno;
}

int mount_overlay_root(const char *newroot, unsigned *ret_dropped, const char **ret_step) {
        const char *step = NULL;
        int r;

        step = "create " UPPER_DIR " and " WORK_DIR;
        r = make_upper(newroot);
        if (r == 0)
                r = bind_lower(newroot, &step);
        if (r == 0) {
                step = "mount the overlay";
                r = mount_overlay(newroot, ret_dropped);
                if (r < 0)
                        (void) umount2(LOWER_DIR, MNT_DETACH);
        }
        if (r < 0 && ret_step)
                *ret_step = step;
        return r;
}

struct mountinfo_line {
        unsigned long id, parent;
        char *mount_point;      /* unescaped, in the line's buffer */
        bool ro;                /* the superblock's */
};

/* "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue" */
static int parse_mountinfo_line(char *line, struct mountinfo_line *ret) {
        char *save = NULL, *f[6], *t, *super = NULL;

        for (size_t i = 0; i < ELEMENTSOF(f); i++)
                if (!(f[i] = strtok_r(i == 0 ? line : NULL, " \n", &save)))
                        return -EINVAL;
        while ((t = strtok_r(NULL, " \n", &save)) && strcmp(t, "-") != 0)
                ;
        /* After "-": the type, the source, the superblock's options. */
        if (!t || !strtok_r(NULL, " \n", &save) || !strtok_r(NULL, " \n", &save) ||
            !(super = strtok_r(NULL, " \n", &save)))
                return -EINVAL;
        if (sscanf(f[0], "%lu", &ret->id) != 1 || sscanf(f[1], "%lu", &ret->parent) != 1)
                return -EINVAL;
        mountinfo_unescape(f[4]);
        ret->mount_point = f[4];
        ret->ro = strcmp(super, "ro") == 0 || strncmp(super, "ro,", 3) == 0;
        return 0;
}

int root_mount_facts(const char *mountinfo, const char *newroot, bool *ret_ro, char *submount, size_t n) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        struct mountinfo_line m;
        unsigned long root = 0;
        bool found = false, ro = false;
        size_t cap = 0;

        f = fopen(mountinfo, "re");
        if (!f)
                return -errno;
        /* The last mount at newroot is the one seen there. */
        while (getline(&line, &cap, f) >= 0)
                if (parse_mountinfo_line(line, &m) == 0 && strcmp(m.mount_point, newroot) == 0) {
                        found = true;
                        root = m.id;
                        ro = m.ro;
                }
        if (!found)
                return -ENOENT;
        rewind(f);
        submount[0] = '\0';
        while (getline(&line, &cap, f) >= 0)
                if (parse_mountinfo_line(line, &m) == 0 && m.parent == root && m.id != root) {
                        if (xsnprintf(submount, n, "%s", m.mount_point) < 0)
                                return -ENAMETOOLONG;
                        break;
                }
        *ret_ro = ro;
        return 0;
}

/* A remount sets the mount's own flags along with the superblock's: they
 * are given again as they are. */
static unsigned long mount_flags(const char *path) {
        static const struct {
                unsigned long st, ms;
        } map[] = {
                { ST_NOSUID, MS_NOSUID },       { ST_NODEV, MS_NODEV },           { ST_NOEXEC, MS_NOEXEC },
                { ST_NOATIME, MS_NOATIME },     { ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
        };
        struct statvfs sv;
        unsigned long flags = 0;

        if (statvfs(path, &sv) < 0)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (sv.f_flag & map[i].st)
                        flags |= map[i].ms;
        return flags;
}

int root_make_ro(const char *newroot) {
        if (mount("none", newroot, "none", MS_REMOUNT | MS_RDONLY | mount_flags(newroot), NULL) < 0)
                return -errno;
        return 0;
}

int root_make_rw(const char *newroot) {
        if (mount("none", newroot, "none", MS_REMOUNT | mount_flags(newroot), NULL) < 0)
                return -errno;
        return 0;
}

bool overlay_already_set_up(const char *newroot) {
        struct statfs sfs;

        if (statfs(newroot, &sfs) < 0 || sfs.f_type != OVERLAYFS_SUPER_MAGIC)
                return false;
        return access(STATE_FILE, F_OK) == 0;
}
