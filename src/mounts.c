/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "mounts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"
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
static int finish_scratch_mount(void) {
        int r;

        r = make_private(SCRATCH_DIR);
        if (r < 0)
                return r;
        if (chmod(SCRATCH_DIR, 0700) < 0)
                return -errno;
        return 0;
}

static int mount_scratch(const char *source, const char *type, unsigned long flags, const char *data) {
        int r;

        r = mkdir_p(SCRATCH_DIR, 0700);
        if (r < 0)
                return r;
        if (mount(source, SCRATCH_DIR, type, flags, data) < 0)
                return -errno;
        r = finish_scratch_mount();
        if (r < 0) {
                (void) umount2(SCRATCH_DIR, MNT_DETACH);
                return r;
        }
        return 0;
}

int mount_scratch_ext4(const char *node, bool discard) {
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

        r = mount_scratch(node, "ext4", flags,
                          discard ? "noinit_itable,no_prefetch_block_bitmaps,discard"
                                  : "noinit_itable,no_prefetch_block_bitmaps");
        if (r != -EINVAL)
                return r;
        r = mount_scratch(node, "ext4", flags, discard ? "noinit_itable,discard" : "noinit_itable");
        if (r == 0)
                log_info("ext4 option no_prefetch_block_bitmaps rejected, mounted without it");
        return r;
}

int mount_scratch_tmpfs(const struct size_spec *size) {
        char opts[64], sz[32];

        size_spec_format(size, sz, sizeof(sz));
        (void) snprintf(opts, sizeof(opts), "size=%s,mode=0700", sz);
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

int mount_overlay_root(const char *newroot, bool *ret_volatile) {
        static const char base[] = "lowerdir=" LOWER_DIR ",upperdir=" UPPER_DIR ",workdir=" WORK_DIR;
        int r;

        r = make_upper(newroot);
        if (r < 0)
                return log_error_errno(r, "cannot create %s and %s: %m", UPPER_DIR, WORK_DIR);

        r = mkdir_p(LOWER_DIR, 0755);
        if (r < 0)
                return log_error_errno(r, "cannot create %s: %m", LOWER_DIR);
        /* A bind rather than a move: moving a mount whose parent is shared
         * (a systemd initrd) fails with EINVAL. The original stays under the
         * overlay, unreachable once the root is switched. */
        if (mount(newroot, LOWER_DIR, "none", MS_BIND, NULL) < 0)
                return log_error_errno(errno, "cannot bind %s to %s: %m", newroot, LOWER_DIR);
        r = make_private(LOWER_DIR);
        if (r < 0) {
                log_error_errno(r, "cannot make %s private: %m", LOWER_DIR);
                goto fail_lower;
        }
        /* nosuid, nodev: /run moves into the new root, and this view of the
         * image must not run an old setuid program the overlay has since
         * replaced. The overlay's own mount flags govern its files. */
        if (mount("none", LOWER_DIR, "none", MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0) {
                r = log_error_errno(errno, "cannot make %s read-only: %m", LOWER_DIR);
                goto fail_lower;
        }

        /* Options beyond the directories, tried in this order while the
         * kernel answers EINVAL (it does not say which option it lacks):
         * - volatile: no syncs reach the scratch disk, its data dies with the
         *   boot anyway (5.10 and later);
         * - redirect_dir=on, metacopy=on: renaming a directory of the image
         *   and chown/chmod of its files no longer copy the data up (bench:
         *   0.05x and 0.3x the time; 4.19 and later). overlayfs warns against
         *   them with an untrusted upper layer; this one is made fresh at
         *   every boot and only root can reach it. */
        static const struct {
                const char *extra;
                const char *missing; /* what the mount goes without */
        } tries[] = {
                { ",volatile,redirect_dir=on,metacopy=on", NULL },
                { ",redirect_dir=on,metacopy=on", "option volatile rejected, mounted without it" },
                { ",volatile", "options redirect_dir=on,metacopy=on rejected, mounted without them" },
                { "", "options volatile,redirect_dir=on,metacopy=on rejected, mounted without them" },
        };
        size_t n = sizeof(tries) / sizeof(tries[0]);

        for (size_t i = 0; i < n; i++) {
                char opts[sizeof(base) + 64];

                (void) snprintf(opts, sizeof(opts), "%s%s", base, tries[i].extra);
                if (mount("overlay", newroot, "overlay", 0, opts) == 0) {
                        if (tries[i].missing)
                                log_warning("overlay %s", tries[i].missing);
                        *ret_volatile = strstr(tries[i].extra, "volatile") != NULL;
                        return 0;
                }
                if (errno != EINVAL || i == n - 1) {
                        r = log_error_errno(errno, "cannot mount the overlay on %s: %m", newroot);
                        goto fail_lower;
                }
        }

fail_lower:
        (void) umount2(LOWER_DIR, MNT_DETACH);
        return r;
}

bool overlay_already_set_up(const char *newroot) {
        struct statfs sfs;

        if (statfs(newroot, &sfs) < 0 || sfs.f_type != OVERLAYFS_SUPER_MAGIC)
                return false;
        return access(STATE_FILE, F_OK) == 0;
}
