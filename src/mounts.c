/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mounts.h"

#include <errno.h>
#include <limits.h>
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

int instance_dir(const char *name, char *buf, size_t n) {
        return xsnprintf(buf, n, "%s/%s", INSTANCES_DIR, name);
}

int scratch_path(const char *base, const char *sub, char *buf, size_t n) {
        return xsnprintf(buf, n, "%s/%s", base, sub);
}

/* The scratch filesystem's root is reachable at BASE/scratch by root only:
 * upper/ holds the overlay's files, and writing there behind the overlay's
 * back is undefined. */
static int mount_scratch(const char *base, const char *source, const char *type, unsigned long flags,
                         const char *data) {
        char dir[PATH_MAX];
        int r;

        r = scratch_path(base, "scratch", dir, sizeof(dir));
        if (r < 0)
                return r;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        if (mount(source, dir, type, flags, data) < 0)
                return -errno;
        r = make_private(dir);
        if (r == 0 && chmod(dir, 0700) < 0)
                r = -errno;
        if (r < 0)
                (void) umount2(dir, MNT_DETACH);
        return r;
}

int mount_scratch_ext4(const char *base, const char *node, bool discard, unsigned *ret_dropped) {
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
        r = mount_scratch(base, node, "ext4", flags,
                          discard ? "noinit_itable,no_prefetch_block_bitmaps,discard"
                                  : "noinit_itable,no_prefetch_block_bitmaps");
        if (r != -EINVAL)
                return r;
        r = mount_scratch(base, node, "ext4", flags, discard ? "noinit_itable,discard" : "noinit_itable");
        if (r == 0)
                *ret_dropped = MOUNT_DROPPED_PREFETCH;
        return r;
}

int mount_scratch_tmpfs(const char *base, const struct size_spec *size) {
        char opts[64], sz[32];
        int r;

        size_spec_format(size, sz, sizeof(sz));
        r = xsnprintf(opts, sizeof(opts), "size=%s,mode=0700", sz);
        if (r < 0)
                return r;
        return mount_scratch(base, "scratchroot", "tmpfs", MS_NOSUID | MS_NODEV, opts);
}

void umount_scratch(const char *base) {
        char dir[PATH_MAX];

        if (scratch_path(base, "scratch", dir, sizeof(dir)) == 0)
                (void) umount2(dir, MNT_DETACH);
}

int scratch_make_dirs(const char *base) {
        char upper[PATH_MAX], work[PATH_MAX];

        if (scratch_path(base, "scratch/upper", upper, sizeof(upper)) < 0 ||
            scratch_path(base, "scratch/work", work, sizeof(work)) < 0)
                return -ENAMETOOLONG;
        if (mkdir(upper, 0755) < 0 && errno != EEXIST)
                return -errno;
        if (mkdir(work, 0700) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* The overlay's root directory takes its owner and mode from upper/. */
static int make_upper(const char *base, const char *lower) {
        char upper[PATH_MAX], work[PATH_MAX];
        struct stat st;

        if (scratch_path(base, "scratch/upper", upper, sizeof(upper)) < 0 ||
            scratch_path(base, "scratch/work", work, sizeof(work)) < 0)
                return -ENAMETOOLONG;
        if (stat(lower, &st) < 0)
                return -errno;
        if (mkdir(upper, st.st_mode & 07777) < 0 && errno != EEXIST)
                return -errno;
        if (chown(upper, st.st_uid, st.st_gid) < 0 || chmod(upper, st.st_mode & 07777) < 0)
                return -errno;
        if (mkdir(work, 0700) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* The lower directory, read-only, at BASE/lower. A bind rather than a move:
 * moving a mount whose parent is shared (a systemd initrd) fails with
 * EINVAL. The original stays under the overlay, unreachable once the root
 * is switched. */
static int bind_lower(const char *base, const char *lower, enum overlay_step *ret_step) {
        char dir[PATH_MAX];
        int r;

        *ret_step = OVERLAY_STEP_LOWER_DIR;
        r = scratch_path(base, "lower", dir, sizeof(dir));
        if (r == 0)
                r = mkdir_p(dir, 0755);
        if (r < 0)
                return r;
        *ret_step = OVERLAY_STEP_BIND;
        if (mount(lower, dir, "none", MS_BIND, NULL) < 0)
                return -errno;
        *ret_step = OVERLAY_STEP_PRIVATE;
        r = make_private(dir);
        /* nosuid, nodev: /run moves into the new root, and this view of the
         * image must not run an old setuid program the overlay has since
         * replaced. The overlay's own mount flags govern its files. */
        if (r == 0 && mount("none", dir, "none", MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0) {
                *ret_step = OVERLAY_STEP_RDONLY;
                r = -errno;
        }
        if (r < 0)
                (void) umount2(dir, MNT_DETACH);
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
static int mount_overlay(const char *base, const char *target, unsigned *ret_dropped) {
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
                char opts[3 * PATH_MAX + 128];
                int r;

                r = xsnprintf(opts, sizeof(opts), "lowerdir=%s/lower,upperdir=%s/scratch/upper,workdir=%s/scratch/work%s",
                              base, base, base, tries[i].extra);
                if (r < 0)
                        return r;
                if (mount("overlay", target, "overlay", 0, opts) == 0) {
                        *ret_dropped = tries[i].dropped;
                        return 0;
                }
                if (errno != EINVAL)
                        break;
        }
        return -errno;
}

int mount_overlay_at(const char *base, const char *lower, const char *target, unsigned *ret_dropped,
                     enum overlay_step *ret_step) {
        enum overlay_step step = OVERLAY_STEP_UPPER;
        char dir[PATH_MAX];
        int r;

        r = make_upper(base, lower);
        if (r == 0)
                r = bind_lower(base, lower, &step);
        if (r == 0) {
                step = OVERLAY_STEP_OVERLAY;
                r = mount_overlay(base, target, ret_dropped);
                if (r < 0 && scratch_path(base, "lower", dir, sizeof(dir)) == 0)
                        (void) umount2(dir, MNT_DETACH);
        }
        if (r < 0 && ret_step)
                *ret_step = step;
        return r;
}

int umount_overlay_at(const char *base, const char *target) {
        char lower[PATH_MAX], scratch[PATH_MAX];

        if (scratch_path(base, "lower", lower, sizeof(lower)) < 0 ||
            scratch_path(base, "scratch", scratch, sizeof(scratch)) < 0)
                return -ENAMETOOLONG;
        if (umount2(target, UMOUNT_NOFOLLOW) < 0 && errno != EINVAL)
                return -errno;
        if (umount2(lower, UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
                return -errno;
        if (umount2(scratch, UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
                return -errno;
        if (scratch_path(base, "dev", scratch, sizeof(scratch)) < 0)
                return -ENAMETOOLONG;
        if (umount2(scratch, UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
                return -errno;
        return 0;
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
