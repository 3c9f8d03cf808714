/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/swap.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <poll.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "azure.h"
#include "bootopts.h"
#include "cmdline.h"
#include "crypt.h"
#include "devnode.h"
#include "format.h"
#include "log.h"
#include "macro.h"
#include "mounts.h"
#include "options.h"
#include "rootdev.h"
#include "safety.h"
#include "select.h"
#include "sources.h"
#include "state.h"
#include "stripe.h"
#include "swap.h"
#include "sysfs.h"
#include "util.h"

_Static_assert(OPTIONS_MAX_DISKS == STRIPE_MAX_MEMBERS, "a list names at most the members a stripe takes");

/* How long a disk sysfs shows may answer ENXIO to open() while the kernel
 * finishes adding it. */
#define OPEN_GRACE_MS 1000u

struct outcome {
        enum backing backing;
        bool have_disk;
        struct disk disk;       /* the selected disk, the first of several */
        const char *where;      /* the disk's SCSI address, for messages */
        char node[PATH_MAX];
        struct disk_set *set;   /* every selected disk */
        char names[OPTIONS_MAX_DISKS * 66];     /* their kernel names, comma-separated */
        const char *platform;   /* rd.scratch.cloud as resolved, "" */
        bool striped;           /* the disks are mapped as STRIPE_NAME */
        char stripe_node[PATH_MAX];
        enum verdict verdict;
        bool root_made_ro;      /* undone when no overlay is mounted */
        unsigned dropped;       /* MOUNT_DROPPED_*: options the kernel refused */
        const char *discard;    /* on|off|unsupported */
        uint64_t format_ms;
        char serial[OPTIONS_MAX_SERIAL * 4];
        char reason[512];
        bool mapped;            /* the disk is open through dm-crypt as CRYPT_NAME */
        char mapped_node[PATH_MAX];
        uint64_t swap_bytes;
        char swap_reason[256];
        uint64_t prepare_ms;    /* from the record of scratchroot prepare */
        int locks[OPTIONS_MAX_DISKS];   /* BSD locks held on the disks, -1 */
};

/* The device-mapper name of the boot's encrypted scratch disk. */
#define CRYPT_NAME "scratchroot"
/* The swap file, on the scratch filesystem beside upper/ and work/, so that
 * it is not seen in the overlay. */
#define SWAP_FILE "swap"

/* What one setup works on: the root at boot, or an instance. */
struct job {
        const char *sysfs;
        const char *mke2fs;
        const char *base;       /* RUN_DIR or INSTANCES_DIR/NAME: its scratch/ and lower/ */
        const char *lower;      /* the overlay's lower directory, protected as the root */
        const char *target;     /* where the overlay goes */
        const char *state_file;
        bool instance;          /* options are named as flags in messages */
        const char *stop;       /* what fallback=fail does */
        const char *leave;      /* what fallback=none does */
        /* Before the root is mounted (scratchroot prepare): the disk is
         * proven, formatted and mounted, no overlay. */
        bool early;
        struct root_devs root;  /* what backs the root: never a scratch disk */
        /* After an early prepare: its record, and what was mounted as it
         * says replaces the search for a disk. */
        const struct state_kv *prep;
        unsigned n_prep;
        const char *prep_error; /* the prepare could not be waited for */
};

/* The one way to make a job: what a failure stops or leaves follows from
 * whether it is the boot's or an instance's. */
static struct job job_make(bool instance, const char *sysfs, const char *mke2fs, const char *base,
                           const char *lower, const char *target, const char *state_file) {
        return (struct job) {
                .sysfs = sysfs,
                .mke2fs = mke2fs,
                .base = base,
                .lower = lower,
                .target = target,
                .state_file = state_file,
                .instance = instance,
                .stop = instance ? "not starting the instance" : "stopping the boot",
                .leave = instance ? "no overlay" : "leaving the root as it is",
        };
}

static const char *opt_name(const struct job *j, unsigned opt) {
        return j->instance ? option_flag(opt) : option_name(opt);
}

static int fail(struct outcome *out, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct outcome *out, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}

/* The submounts of the root, and a lower layer that cannot change under
 * the overlay. Neither a scratch nor a tmpfs overlay can be put over a root
 * that fails these. */
static int prepare_root(const char *newroot, struct outcome *out) {
        char canon[PATH_MAX], below[PATH_MAX];
        bool ro;
        int r;

        /* mountinfo names mount points by their canonical paths. */
        if (!realpath(newroot, canon))
                return fail(out, -errno, "cannot resolve %s: %s", newroot, strerror(errno));
        r = root_mount_facts(MOUNTINFO, canon, &ro, below, sizeof(below));
        if (r == -ENOENT)
                return fail(out, r, "%s is not a mount point", newroot);
        if (r < 0)
                return fail(out, r, "cannot read %s: %s", MOUNTINFO, strerror(-r));
        /* overlayfs sees a layer's own filesystem only: a separate /usr
         * below the root would be hidden behind the overlay. */
        if (below[0])
                return fail(out, -EBUSY, "%s has a mount below it at %s; the overlay would hide it", newroot, below);
        if (ro)
                return 0;
        /* A root mounted rw (rw on the command line) would change under the
         * overlay, which overlayfs does not allow for its lower layer. */
        r = root_make_ro(newroot);
        if (r == -EBUSY)
                return fail(out, r, "cannot make the filesystem at %s read-only, a file on it is open for writing",
                            newroot);
        if (r < 0)
                return fail(out, r, "cannot make the filesystem at %s read-only: %s", newroot, strerror(-r));
        out->root_made_ro = true;
        return 0;
}

/* A node for the disk under the job's own directory, so that an instance's
 * unmount takes the node's tmpfs too; RUN_NODE_DIR for the root. */
static int disk_node(const struct job *j, const struct disk *d, char *node, size_t n) {
        char nodedir[PATH_MAX];
        const struct node_dirs dirs = { .devdir = "/dev", .nodedir = nodedir, .mount_nodedir = true };
        int r;

        r = scratch_path(j->base, "dev", nodedir, sizeof(nodedir));
        if (r < 0)
                return r;
        return device_node_in(&dirs, d->name, S_IFBLK, d->devno, node, n);
}

static int find_disk(const struct job *j, const struct options *o, struct outcome *out) {
        struct disk *d = &out->disk;
        int r;

        out->set = calloc(1, sizeof(*out->set));
        if (!out->set)
                return fail(out, -ENOMEM, "cannot select the disks: %s", strerror(ENOMEM));
        r = select_disks(j->sysfs, o, j->instance ? option_flag : option_name, out->set, out->reason,
                         sizeof(out->reason));
        out->platform = out->set->platform != CLOUD_NONE ? cloud_to_string(out->set->platform) : "";
        if (r < 0)
                return r;
        *d = out->set->disks[0];
        out->have_disk = true;
        out->where = d->hctl[0] ? d->hctl : "no SCSI address";
        (void) snprintf(out->serial, sizeof(out->serial), "%s", d->serial);
        disk_set_names(out->set, out->names, sizeof(out->names));
        if (out->set->n > 1)
                log_info("%u disks selected: %s", out->set->n, out->names);

        r = disk_node(j, d, out->node, sizeof(out->node));
        if (r < 0)
                return fail(out, r, "cannot make a node for %s (%s, %u:%u): %s", d->name, out->where,
                            major(d->devno), minor(d->devno), strerror(-r));
        return 0;
}

/* O_EXCL fails with EBUSY while a filesystem, swap, device-mapper or md
 * holds the disk: the kernel's own word that it is in use (ret_fd -1 then).
 * A disk being hot-plugged shows its block device in sysfs a moment before
 * the kernel lets it be opened: ENXIO until then, so it is tried again for
 * a while. */
static int open_disk(struct outcome *out, const char *node, const char *where, int *ret_fd) {
        uint64_t waited;
        int fd;

        fd = open_grace(node, O_RDONLY | O_EXCL | O_CLOEXEC | O_NOCTTY, OPEN_GRACE_MS, &waited);
        if (fd == -EBUSY) {
                *ret_fd = -1;
                return 0;
        }
        if (fd == -ENXIO)
                return fail(out, fd, "cannot open %s (%s): %s for %u ms, it was not added in time", node, where,
                            strerror(ENXIO), OPEN_GRACE_MS);
        if (fd < 0)
                return fail(out, fd, "cannot open %s (%s): %s", node, where, strerror(-fd));
        if (waited > 0)
                log_info("%s (%s) opened after %" PRIu64 " ms of ENXIO (still being added)", node, where, waited);
        *ret_fd = fd;
        return 0;
}

/* How long a disk's lock is waited for: udevd holds a shared one while it
 * probes a disk that has just appeared. */
#define DISK_LOCK_MS 10000u

/* udev's convention for programs that write a whole disk (systemd's
 * "Locking Block Device Access"): an exclusive BSD lock on it while they do.
 * udevd leaves a locked disk alone until it is let go (the change event of
 * mke2fs's close is handled after the mount), and another scratchroot
 * started at the same moment for the same disk finds it taken, from the
 * proof to the mount. Taken on a descriptor of its own, opened without
 * O_EXCL, so that mke2fs can still open the disk exclusively. A lock
 * belongs to the device node it was taken through: node is /dev's when that
 * is the disk, as udev's is; through a node of our own (no /dev node yet)
 * it keeps out only other scratchroot runs. */
static int lock_disk(struct outcome *out, const char *node, const char *where) {
        _cleanup_close_ int fd = -1;
        uint64_t t0 = now_ms();
        unsigned slot = 0;

        while (slot < ELEMENTSOF(out->locks) && out->locks[slot] >= 0)
                slot++;
        if (slot == ELEMENTSOF(out->locks))
                return fail(out, -EMFILE, "cannot lock %s (%s): too many disks", node, where);
        fd = open(node, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return fail(out, -errno, "cannot open %s (%s) to lock it: %s", node, where, strerror(errno));
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return fail(out, -errno, "cannot lock %s (%s): %s", node, where, strerror(errno));
                if (now_ms() - t0 >= DISK_LOCK_MS)
                        return fail(out, -EBUSY, "%s (%s) is locked by another program (a BSD lock, as udev and "
                                    "disk tools hold while they use a disk) for %u s; not touched", node, where,
                                    DISK_LOCK_MS / 1000);
                sleep_ms(10);
        }
        if (now_ms() - t0 >= 10)
                log_info("%s (%s) was locked by another program for %" PRIu64 " ms", node, where, now_ms() - t0);
        out->locks[slot] = TAKE_FD(fd);
        return 0;
}

static void unlock_disks(struct outcome *out) {
        for (size_t i = 0; i < ELEMENTSOF(out->locks); i++)
                out->locks[i] = safe_close(out->locks[i]);
}

/* The node the filesystem (or dm-crypt) goes on: the stripe of several
 * disks, else the one disk. */
static const char *data_node(const struct outcome *out) {
        return out->striped ? out->stripe_node : out->node;
}

static void close_stripe(struct outcome *out) {
        int r;

        if (!out->striped)
                return;
        r = stripe_close(STRIPE_NAME);
        if (r < 0)
                log_warning_errno(r, "cannot remove the stripe %s of %s: %m", STRIPE_NAME, out->names);
        out->striped = false;
}

static void close_crypt(struct outcome *out) {
        int r;

        if (!out->mapped)
                return;
        r = crypt_close_scratch(CRYPT_NAME);
        if (r < 0)
                log_warning_errno(r, "cannot remove the dm-crypt mapping %s of %s: %m", CRYPT_NAME, out->disk.name);
        out->mapped = false;
}

/* The disk, judged formattable, under a LUKS2 header with no key slot and
 * a dm-crypt mapping with a key of this boot only (rd.scratch.encrypt). */
static int open_crypt(const struct options *o, struct outcome *out, bool discard_all, bool discards,
                      uint64_t size) {
        const char *steps[] = {
                [CRYPT_STEP_KEY] = "cannot draw a key",
                [CRYPT_STEP_HEADER] = "cannot write the LUKS2 header on",
                [CRYPT_STEP_ACTIVATE] = "cannot map through dm-crypt",
        };
        enum crypt_step step;
        int r;

        /* The ciphertext of the last boot can never be read again; giving
         * its blocks back to the host reveals nothing, since all of the disk
         * is free now. */
        if (discard_all) {
                _cleanup_close_ int fd = open(data_node(out), O_WRONLY | O_EXCL | O_CLOEXEC | O_NOCTTY);
                uint64_t range[2] = { 0, size };

                if (fd < 0 || ioctl(fd, BLKDISCARD, range) < 0)
                        log_info("cannot discard %s (%s) before encrypting it: %m, the host keeps what the last "
                                 "boot wrote", out->disk.name, out->where);
        }
        r = crypt_open_scratch(data_node(out), CRYPT_NAME, o->discard && discards, out->mapped_node,
                               sizeof(out->mapped_node), &step);
        if (r < 0 && step == CRYPT_STEP_ACTIVATE && access("/sys/module/dm_crypt", F_OK) < 0)
                return fail(out, r, "%s %s (%s): %s; the kernel has no dm-crypt (no /sys/module/dm_crypt)",
                            steps[step], out->disk.name, out->where, strerror(-r));
        if (r < 0)
                return fail(out, r, "%s %s (%s): %s", steps[step], out->disk.name, out->where, strerror(-r));
        out->mapped = true;
        log_info("%s (%s) encrypted with %s, a %u-bit key of this boot only", out->disk.name, out->where,
                 CRYPT_SPEC, CRYPT_KEY_BYTES * 8);
        return 0;
}

/* The filesystem on the proven disk or stripe of size bytes: through
 * dm-crypt when asked, discarding first when discard. */
static int make_fs(const struct job *a, const struct options *o, struct outcome *out, bool discard, bool discards,
                   uint64_t size) {
        const char *what = out->striped ? STRIPE_NAME : out->disk.name;
        uint64_t t;
        int r, status = 0;

        if (o->encrypt) {
                r = open_crypt(o, out, discard, discards, size);
                if (r < 0)
                        return r;
                /* Through dm-crypt discards reach the disk only when they
                 * are let through, and the whole disk was discarded above. */
                discard = false;
        }
        t = now_ms();
        if (out->striped)
                r = format_scratch_striped(a->mke2fs, out->mapped ? out->mapped_node : data_node(out), discard,
                                           out->set->n, STRIPE_CHUNK_BYTES, FORMAT_TIMEOUT_MS, &status);
        else
                r = format_scratch(a->mke2fs, out->mapped ? out->mapped_node : data_node(out), discard,
                                   FORMAT_TIMEOUT_MS, &status);
        out->format_ms = now_ms() - t;
        if (r < 0)
                close_crypt(out);
        if (r == -ETIMEDOUT)
                return fail(out, r, "%s did not finish on %s (%s) within %u s", a->mke2fs, what, out->where,
                            FORMAT_TIMEOUT_MS / 1000);
        if (r == -EIO)
                return fail(out, r, "%s failed on %s (%s) with status %d", a->mke2fs, what, out->where, status);
        if (r < 0)
                return fail(out, r, "cannot run %s: %s", a->mke2fs, strerror(-r));
        return 0;
}

/* The partition table goes first: an mke2fs that leaves the sector of an
 * MBR (or GPT's backup header at the end) would have the next boot find the
 * disk foreign, and the kernel keeps the partitions it read until it is
 * told to read the table again. */
static int wipe_platform(struct outcome *out, const struct disk *d, const char *node, const char *where) {
        bool busy;
        int r;

        r = azure_wipe_partition_table(node, &busy);
        if (r < 0)
                return fail(out, r, "cannot erase the partition table of %s (%s): %s", d->name, where, strerror(-r));
        if (busy)
                log_warning("the kernel keeps the old partitions of %s (%s) until the next boot, one is busy; "
                            "the whole disk is formatted regardless", d->name, where);
        return 0;
}

/* Before the root is mounted only a blank disk, or one of ours, is
 * formatted: neither can hold a partition of the root, and the root's own
 * superblock is looked for on the disk itself (safety_gather). A disk
 * formatted on force or by the platform's rule waits for the mounted root. */
static bool early_verdict(enum verdict v) {
        return v == VERDICT_FORMAT_BLANK || v == VERDICT_FORMAT_OURS;
}

/* Before the root is mounted the initrd may be about to mount any disk,
 * and an exclusive open, even a moment's, would make that mount fail with
 * EBUSY. So the disk is proven first through a plain open: only one that
 * passes (blank or ours, not what root= names) is opened exclusively and
 * proven again; any other is left to setup. Returns the verdict of that
 * first look, why in why. */
static int early_look(const struct job *a, const struct options *o, const struct disk *d, const char *node,
                      enum verdict *ret, char *why, size_t n, uint64_t *ret_size) {
        _cleanup_close_ int fd = -1;
        struct disk_facts facts;
        uint64_t waited;
        int r;

        fd = open_grace(node, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, OPEN_GRACE_MS, &waited);
        if (fd < 0)
                return fd;
        r = safety_gather(d, fd, false, &a->root, &facts);
        if (r < 0)
                return r;
        *ret = safety_decide(&facts, o->force, why, n);
        *ret_size = facts.attrs.size_bytes;
        return 0;
}

static int format_disk(const struct job *a, const struct options *o, struct outcome *out, bool *ret_discards) {
        _cleanup_close_ int fd = -1;
        struct disk_facts facts;
        struct disk *d = &out->disk;
        char why[256], size[32];
        int r;

        if (a->early) {
                enum verdict v;
                uint64_t bytes;

                r = early_look(a, o, d, out->node, &v, why, sizeof(why), &bytes);
                if (r < 0)
                        return fail(out, r, "cannot inspect %s (%s): %s", d->name, out->where, strerror(-r));
                /* A refusal too is left to setup: after the root is
                 * mounted the exclusive open takes part, and the reason is
                 * the one the rules give first. */
                format_bytes(bytes, size, sizeof(size));
                if (!early_verdict(v))
                        return fail(out, -EAGAIN, "%s (%s, %s) is left to setup once the root is mounted: %s",
                                    d->name, out->where, size, why);
        }
        r = open_disk(out, out->node, out->where, &fd);
        if (r < 0)
                return r;
        if (fd >= 0) {
                r = lock_disk(out, out->node, out->where);
                if (r < 0)
                        return r;
        }
        r = safety_gather(d, fd, fd < 0, &a->root, &facts);
        if (r < 0)
                return fail(out, r, "cannot inspect %s (%s): %s", d->name, out->where, strerror(-r));
        fd = safe_close(fd);

        format_bytes(facts.attrs.size_bytes, size, sizeof(size));
        out->verdict = safety_decide(&facts, o->force, why, sizeof(why));
        if (out->verdict == VERDICT_REFUSE)
                return fail(out, -EPERM, "refusing %s (%s, %s): %s", d->name, out->where, size, why);
        if (a->early && !early_verdict(out->verdict))
                return fail(out, -EAGAIN, "%s (%s, %s) is left to setup once the root is mounted: %s", d->name,
                            out->where, size, why);
        log_info("formatting %s (%s, %u:%u, %s): %s", d->name, out->where, major(d->devno), minor(d->devno), size,
                 why);
        if (out->verdict == VERDICT_FORMAT_PLATFORM) {
                r = wipe_platform(out, d, out->node, out->where);
                if (r < 0)
                        return r;
        }

        /* A disk kept from an earlier boot is discarded so a thin host image
         * gives back what the last boot wrote; a blank one has nothing to
         * give, and discarding all of it would only cost time. */
        r = make_fs(a, o, out, facts.attrs.discards && out->verdict != VERDICT_FORMAT_BLANK, facts.attrs.discards,
                    facts.attrs.size_bytes);
        if (r < 0)
                return r;
        *ret_discards = facts.attrs.discards;
        return 0;
}

/* One member of a set of disks, while it is proven. */
struct member {
        char node[PATH_MAX];
        char where[160];        /* "nvme1n1 (0:0:0:2)", for messages */
        int fd;
        struct disk_facts facts;
        enum verdict verdict;
        char why[256];
};

static void members_free(struct member **m) {
        if (!*m)
                return;
        for (unsigned i = 0; i < OPTIONS_MAX_DISKS; i++)
                (*m)[i].fd = safe_close((*m)[i].fd);
        free(*m);
}

/* The verdict told for a set: the one that asked the most to format. */
static unsigned verdict_weight(enum verdict v) {
        switch (v) {
        case VERDICT_FORMAT_FORCED: return 4;
        case VERDICT_FORMAT_PLATFORM: return 3;
        case VERDICT_FORMAT_OURS: return 2;
        case VERDICT_FORMAT_BLANK: return 1;
        default: return 0;
        }
}

/* Several disks: each opened exclusively and proven on its own while all
 * are held; one refused refuses the set, before anything is written to
 * any. Then one striped device over all of them, formatted as one disk. */
static int format_set(const struct job *a, const struct options *o, struct outcome *out, bool *ret_discards) {
        _cleanup_(members_free) struct member *m = NULL;
        const struct disk_set *set = out->set;
        const char *nodes[OPTIONS_MAX_DISKS], *why;
        uint64_t total = 0;
        bool discards = true, all_blank = true;
        char size[32];
        int r, bad = -1;

        m = calloc(OPTIONS_MAX_DISKS, sizeof(*m));
        if (!m)
                return fail(out, -ENOMEM, "cannot prove %u disks: %s", set->n, strerror(ENOMEM));
        for (unsigned i = 0; i < OPTIONS_MAX_DISKS; i++)
                m[i].fd = -1;
        for (unsigned i = 0; i < set->n; i++) {
                const struct disk *d = &set->disks[i];

                if (d->hctl[0])
                        (void) snprintf(m[i].where, sizeof(m[i].where), "%s (%s)", d->name, d->hctl);
                else
                        (void) snprintf(m[i].where, sizeof(m[i].where), "%s", d->name);
                r = i == 0 ? xsnprintf(m[i].node, sizeof(m[i].node), "%s", out->node)
                           : disk_node(a, d, m[i].node, sizeof(m[i].node));
                if (r < 0)
                        return fail(out, r, "cannot make a node for %s, %u:%u: %s", m[i].where, major(d->devno),
                                    minor(d->devno), strerror(-r));
                if (a->early) {
                        enum verdict v;
                        uint64_t bytes;

                        r = early_look(a, o, d, m[i].node, &v, m[i].why, sizeof(m[i].why), &bytes);
                        if (r < 0)
                                return fail(out, r, "cannot inspect %s: %s; none of the %u disks is touched",
                                            m[i].where, strerror(-r), set->n);
                        format_bytes(bytes, size, sizeof(size));
                        if (!early_verdict(v))
                                return fail(out, -EAGAIN, "%s (%s) is left to setup once the root is mounted: %s; "
                                            "so are the other %u disks", m[i].where, size, m[i].why, set->n - 1);
                }
                r = open_disk(out, m[i].node, m[i].where, &m[i].fd);
                if (r < 0)
                        return r;
                if (m[i].fd >= 0) {
                        r = lock_disk(out, m[i].node, m[i].where);
                        if (r < 0)
                                return r;
                }
        }
        for (unsigned i = 0; i < set->n; i++) {
                r = safety_gather(&set->disks[i], m[i].fd, m[i].fd < 0, &a->root, &m[i].facts);
                if (r < 0)
                        return fail(out, r, "cannot inspect %s: %s; none of the %u disks is touched", m[i].where,
                                    strerror(-r), set->n);
                m[i].verdict = safety_decide(&m[i].facts, o->force, m[i].why, sizeof(m[i].why));
                if (m[i].verdict == VERDICT_REFUSE && bad < 0)
                        bad = (int) i;
        }
        if (bad >= 0) {
                format_bytes(m[bad].facts.attrs.size_bytes, size, sizeof(size));
                return fail(out, -EPERM, "refusing %s (%s): %s; the whole set of %u disks (%s) is refused, none "
                            "is touched", m[bad].where, size, m[bad].why, set->n, out->names);
        }

        for (unsigned i = 0; i < set->n; i++)
                if (a->early && !early_verdict(m[i].verdict))
                        return fail(out, -EAGAIN, "%s is left to setup once the root is mounted: %s", m[i].where,
                                    m[i].why);

        /* After the proof: a refused member is worth telling first. */
        why = dlib_unsupported(stripe_library());
        if (why)
                return fail(out, -EOPNOTSUPP, "%u disks selected (%s), but they cannot be striped: %s", set->n,
                            out->names, why);

        out->verdict = VERDICT_FORMAT_BLANK;
        for (unsigned i = 0; i < set->n; i++) {
                const struct disk *d = &set->disks[i];

                format_bytes(m[i].facts.attrs.size_bytes, size, sizeof(size));
                log_info("stripe member %u of %u: %s, %u:%u, %s: %s", i + 1, set->n, m[i].where, major(d->devno),
                         minor(d->devno), size, m[i].why);
                if (verdict_weight(m[i].verdict) > verdict_weight(out->verdict))
                        out->verdict = m[i].verdict;
                total += m[i].facts.attrs.size_bytes;
                discards = discards && m[i].facts.attrs.discards;
                all_blank = all_blank && m[i].verdict == VERDICT_FORMAT_BLANK;
                m[i].fd = safe_close(m[i].fd);
                nodes[i] = m[i].node;
        }
        for (unsigned i = 0; i < set->n; i++)
                if (m[i].verdict == VERDICT_FORMAT_PLATFORM) {
                        r = wipe_platform(out, &set->disks[i], m[i].node, m[i].where);
                        if (r < 0)
                                return r;
                }

        r = stripe_open(nodes, set->n, STRIPE_NAME, out->stripe_node, sizeof(out->stripe_node), &bad);
        if (r < 0 && bad >= 0 && (unsigned) bad < set->n)
                return fail(out, r, "cannot stripe %s over %s: %s", STRIPE_NAME, m[bad].where, strerror(-r));
        if (r < 0 && access("/sys/module/dm_mod", F_OK) < 0)
                return fail(out, r, "cannot stripe %s (%s): %s; the kernel has no device-mapper", STRIPE_NAME,
                            out->names, strerror(-r));
        if (r < 0)
                return fail(out, r, "cannot stripe %s (%s): %s", STRIPE_NAME, out->names, strerror(-r));
        out->striped = true;
        {
                _cleanup_close_ int sfd = open(out->stripe_node, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                uint64_t bytes;

                /* The members' common length times their number: less than
                 * the sum when they differ. */
                if (sfd >= 0 && ioctl(sfd, BLKGETSIZE64, &bytes) == 0)
                        total = bytes;
        }
        format_bytes(total, size, sizeof(size));
        log_info("formatting %s, %u disks striped (%s, %s)", out->stripe_node, set->n, out->names, size);

        r = make_fs(a, o, out, discards && !all_blank, discards, total);
        if (r < 0) {
                close_stripe(out);
                return r;
        }
        *ret_discards = discards;
        return 0;
}

static int overlay_fail(const struct job *j, struct outcome *out, int r, enum overlay_step step, const char *upper) {
        switch (step) {
        case OVERLAY_STEP_UPPER:
                return fail(out, r, "cannot create %s/scratch/upper and %s/scratch/work: %s", j->base, j->base,
                            strerror(-r));
        case OVERLAY_STEP_LOWER_DIR:
                return fail(out, r, "cannot create %s/lower: %s", j->base, strerror(-r));
        case OVERLAY_STEP_BIND:
                return fail(out, r, "cannot bind %s to %s/lower: %s", j->instance ? j->lower : "the root", j->base,
                            strerror(-r));
        case OVERLAY_STEP_PRIVATE:
                return fail(out, r, "cannot make %s/lower private: %s", j->base, strerror(-r));
        case OVERLAY_STEP_RDONLY:
                return fail(out, r, "cannot make %s/lower read-only: %s", j->base, strerror(-r));
        case OVERLAY_STEP_OVERLAY:
                break;
        }
        return fail(out, r, "cannot mount the overlay with its upper on %s: %s", upper, strerror(-r));
}

/* "sdb (0:0:0:1)", or the stripe with its members, for messages. */
static void scratch_label(const struct outcome *out, char *buf, size_t n) {
        (void) snprintf(buf, n, "%s (%s)", out->striped ? out->stripe_node : out->disk.name,
                        out->striped ? out->names : out->where);
}

#define LABEL_MAX (PATH_MAX + sizeof(((struct outcome *) NULL)->names) + 8)

/* Gives back what the scratch filesystem holds: its swap file, the mount,
 * the mappings. The lazy unmount lets go of a mapping only when the
 * filesystem is gone: tried, and told if it is still busy. */
static void release_scratch(const struct job *j, struct outcome *out) {
        char path[PATH_MAX];

        if (out->swap_bytes && scratch_path(j->base, "scratch/" SWAP_FILE, path, sizeof(path)) == 0) {
                if (swapoff(path) < 0)
                        log_warning_errno(errno, "cannot turn off the swap file %s: %m", path);
                out->swap_bytes = 0;
        }
        umount_scratch(j->base);
        close_crypt(out);
        close_stripe(out);
}

/* The ext4 on the formatted disk, at BASE/scratch. */
static int mount_fs(const struct job *j, const struct options *o, struct outcome *out, bool discards) {
        char label[LABEL_MAX];
        int r;

        scratch_label(out, label, sizeof(label));
        out->discard = !o->discard ? "off" : discards ? "on" : "unsupported";
        if (o->discard && !discards)
                log_info("%s does not support discard, deleted files keep their space on the host", label);
        r = mount_scratch_ext4(j->base, out->mapped ? out->mapped_node : data_node(out),
                               strcmp(out->discard, "on") == 0, &out->dropped);
        if (r < 0) {
                close_crypt(out);
                close_stripe(out);
                return fail(out, r, "cannot mount %s on %s/scratch: %s", label, j->base, strerror(-r));
        }
        r = scratch_make_dirs(j->base);
        if (r < 0) {
                release_scratch(j, out);
                return overlay_fail(j, out, r, OVERLAY_STEP_UPPER, label);
        }
        return 0;
}

/* The overlay with its upper on the mounted scratch filesystem. */
static int mount_upper(const struct job *j, struct outcome *out) {
        enum overlay_step step;
        char label[LABEL_MAX];
        unsigned dropped;
        int r;

        r = mount_overlay_at(j->base, j->lower, j->target, &dropped, &step);
        if (r < 0) {
                scratch_label(out, label, sizeof(label));
                release_scratch(j, out);
                return overlay_fail(j, out, r, step, label);
        }
        out->dropped |= dropped;
        return 0;
}

static const char *discard_string(const char *s) {
        static const char *const known[] = { "on", "off", "unsupported" };

        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (strcmp(s, known[i]) == 0)
                        return known[i];
        return "off";
}

static enum verdict verdict_from_string(const char *s) {
        static const enum verdict all[] = { VERDICT_FORMAT_BLANK, VERDICT_FORMAT_OURS, VERDICT_FORMAT_FORCED,
                                            VERDICT_FORMAT_PLATFORM };

        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                if (strcmp(s, verdict_to_string(all[i])) == 0)
                        return all[i];
        return VERDICT_FORMAT_BLANK;
}

/* The outcome a prepare's record describes (kv, n): the disks, and when it
 * is on the scratch disk (returns true) the mount and mappings as made. */
static bool outcome_from_record(const struct state_kv *kv, unsigned n, struct outcome *out) {
#define P(key) state_get(kv, n, state_keys[STATE_KEY_##key].name)
        unsigned maj, min;

        out->platform = P(cloud);
        (void) snprintf(out->serial, sizeof(out->serial), "%s", P(serial));
        (void) snprintf(out->names, sizeof(out->names), "%s", P(disks));
        (void) snprintf(out->disk.hctl, sizeof(out->disk.hctl), "%s", P(hctl));
        (void) snprintf(out->disk.name, sizeof(out->disk.name), "%.*s", (int) strcspn(out->names, ","),
                        out->names);
        out->where = out->disk.hctl[0] ? out->disk.hctl : "no SCSI address";
        if (sscanf(P(devno), "%u:%u", &maj, &min) == 2) {
                out->have_disk = true;
                out->disk.devno = makedev(maj, min);
                (void) snprintf(out->node, sizeof(out->node), "%s", P(device));
        }
        if (strcmp(P(backing), backing_to_string(BACKING_SCRATCH)) != 0)
                return false;

        out->verdict = verdict_from_string(P(format));
        out->discard = discard_string(P(discard));
        out->format_ms = strtoull(P(format_ms), NULL, 10);
        out->swap_bytes = strtoull(P(swap), NULL, 10);
        (void) snprintf(out->swap_reason, sizeof(out->swap_reason), "%s", P(swap_reason));
        out->mapped = P(encrypt)[0] != '\0';
        if (out->mapped)
                (void) snprintf(out->mapped_node, sizeof(out->mapped_node), "/dev/mapper/%s", CRYPT_NAME);
        out->striped = strchr(out->names, ',') != NULL;
        if (out->striped)
                (void) snprintf(out->stripe_node, sizeof(out->stripe_node), "/dev/mapper/%s", STRIPE_NAME);
        return true;
#undef P
}

/* What an early prepare left, taken as the disk: its record says which, and
 * what is mounted at BASE/scratch must be an ext4 on that disk, the root
 * (mounted now) on none of what backs it. */
static int use_prepared(const struct job *j, struct outcome *out) {
        dev_t backing[SYSFS_MAX_BACKING];
        unsigned nb = 0;
        char dir[PATH_MAX];
        struct statfs sf;
        struct stat st;
        bool ours = false;
        int r;

        if (j->prep_error)
                return fail(out, -ETIMEDOUT, "%s", j->prep_error);
        if (!outcome_from_record(j->prep, j->n_prep, out)) {
                const char *reason = state_get(j->prep, j->n_prep, state_keys[STATE_KEY_reason].name);

                return fail(out, -ENODEV, "%s", reason[0] ? reason : "scratchroot prepare left no disk");
        }

        r = scratch_path(j->base, "scratch", dir, sizeof(dir));
        if (r < 0)
                return fail(out, r, "cannot name %s/scratch: %s", j->base, strerror(-r));
        if (stat(dir, &st) < 0 || statfs(dir, &sf) < 0)
                return fail(out, -errno, "scratchroot prepare left nothing at %s: %s", dir, strerror(errno));
        if (sf.f_type != EXT4_SUPER_MAGIC || major(st.st_dev) == 0)
                return fail(out, -EMEDIUMTYPE, "what is mounted at %s is not the ext4 scratchroot prepare made", dir);
        r = sysfs_backing_devs(j->sysfs, st.st_dev, backing, &nb, SYSFS_MAX_BACKING);
        if (r < 0)
                return fail(out, r, "cannot tell which disk backs %s (%u:%u): %s", dir, major(st.st_dev),
                            minor(st.st_dev), strerror(-r));
        for (unsigned i = 0; i < nb; i++)
                ours = ours || backing[i] == out->disk.devno;
        if (!ours)
                return fail(out, -EXDEV, "%s is not on %s (%u:%u), the disk scratchroot prepare recorded", dir,
                            out->disk.name, major(out->disk.devno), minor(out->disk.devno));
        /* The prepare told the root by root= alone; now it is mounted. */
        if (j->root.unknown) {
                release_scratch(j, out);
                return fail(out, -EPERM, "cannot tell which disks back the root filesystem, %s is not used",
                            out->disk.name);
        }
        for (unsigned i = 0; i < nb; i++)
                for (unsigned k = 0; k < j->root.n; k++)
                        if (backing[i] == j->root.set[k]) {
                                release_scratch(j, out);
                                return fail(out, -EPERM, "the root filesystem is on %u:%u, which backs the scratch "
                                            "filesystem scratchroot prepare made on %s; not used",
                                            major(backing[i]), minor(backing[i]), out->disk.name);
                        }
        return mount_upper(j, out);
}

static int try_scratch(const struct job *j, const struct options *o, struct outcome *out) {
        const char *why;
        bool discards = false;
        int r;

        if (j->prep || j->prep_error)
                return use_prepared(j, out);
        if (o->invalid)
                return fail(out, -EINVAL, "%s", o->problems[o->first_invalid]);
        if (o->encrypt && (why = dlib_unsupported(crypt_library())))
                return fail(out, -EOPNOTSUPP, "%s=1, but %s", opt_name(j, OPT_ENCRYPT), why);
        for (size_t i = 0; i < ELEMENTSOF(out->locks); i++)
                out->locks[i] = -1;
        r = find_disk(j, o, out);
        if (r < 0)
                return r;
        /* An instance's teardown unmounts its overlay and knows no
         * device-mapper: the stripe is the boot's. */
        if (j->instance && out->set->n > 1)
                return fail(out, -EOPNOTSUPP, "the options select %u disks (%s); an instance takes one, several are "
                            "striped only at boot", out->set->n, out->names);
        r = out->set->n > 1 ? format_set(j, o, out, &discards) : format_disk(j, o, out, &discards);
        if (r >= 0)
                r = mount_fs(j, o, out, discards);
        /* Mounted, or not touched: the disks' locks have done their part. */
        unlock_disks(out);
        if (r < 0 || j->early)
                return r;
        return mount_upper(j, out);
}

static int try_tmpfs(const struct job *j, const struct options *o, struct outcome *out) {
        enum overlay_step step;
        int r;

        r = mount_scratch_tmpfs(j->base, &o->tmpfs_size);
        if (r < 0)
                return fail(out, r, "cannot mount a tmpfs on %s/scratch: %s", j->base, strerror(-r));
        r = mount_overlay_at(j->base, j->lower, j->target, &out->dropped, &step);
        if (r < 0) {
                umount_scratch(j->base);
                return overlay_fail(j, out, r, step, "tmpfs");
        }
        return 0;
}

static void log_dropped(unsigned dropped) {
        if (dropped & MOUNT_DROPPED_PREFETCH)
                log_info("ext4 option no_prefetch_block_bitmaps rejected, mounted without it");
        dropped &= MOUNT_DROPPED_VOLATILE | MOUNT_DROPPED_METACOPY;
        if (dropped == MOUNT_DROPPED_VOLATILE)
                log_warning("overlay option volatile rejected, mounted without it");
        else if (dropped == MOUNT_DROPPED_METACOPY)
                log_warning("overlay options redirect_dir=on,metacopy=on rejected, mounted without them");
        else if (dropped)
                log_warning("overlay options volatile,redirect_dir=on,metacopy=on rejected, mounted without them");
}

/* The one place that decides: the scratch disk, else what the fallback
 * option says. Returns 1 when the boot (or the instance) is to stop. */
static int decide(struct job *j, const struct options *o, struct outcome *out) {
        const char *fallback = opt_name(j, OPT_FALLBACK);
        struct outcome t = {};
        size_t k;

        if (!j->instance && prepare_root(j->target, out) < 0) {
                /* A tmpfs overlay would hide the same. */
                if (o->fallback == FALLBACK_FAIL) {
                        log_error("%s; %s=fail, %s", out->reason, fallback, j->stop);
                        return 1;
                }
                log_warning("%s, %s", out->reason, j->leave);
                return 0;
        }
        safety_root_mounted(j->sysfs, j->lower, &j->root);
        if (try_scratch(j, o, out) == 0) {
                out->backing = BACKING_SCRATCH;
                return 0;
        }
        if (o->fallback == FALLBACK_FAIL) {
                log_error("%s; %s=fail, %s", out->reason, fallback, j->stop);
                return 1;
        }
        if (o->fallback == FALLBACK_NONE) {
                log_warning("%s; %s=none, %s", out->reason, fallback, j->leave);
                return 0;
        }
        log_warning("%s, falling back to tmpfs", out->reason);
        if (try_tmpfs(j, o, &t) == 0) {
                out->backing = BACKING_TMPFS;
                out->dropped = t.dropped;
                return 0;
        }
        k = strlen(out->reason);
        /* Cut when too long: the state file keeps what fits. */
        (void) xsnprintf(out->reason + k, sizeof(out->reason) - k, "; the tmpfs overlay failed too: %s", t.reason);
        log_error("the tmpfs overlay failed too: %s, %s", t.reason, j->leave);
        return 0;
}

/* rd.scratch.swap: only on the scratch disk, whose host image allocates a
 * page of it only when the kernel swaps one out; on the tmpfs fallback it
 * would take the RAM it is meant to relieve. Never fatal. */
static void enable_swap(const struct job *j, const struct options *o, struct outcome *out) {
        const char *steps[] = {
                [SWAP_STEP_CREATE] = "cannot create",
                [SWAP_STEP_ALLOCATE] = "cannot allocate",
                [SWAP_STEP_HEADER] = "cannot write the swap header of",
                [SWAP_STEP_SWAPON] = "cannot enable",
        };
        char path[PATH_MAX], size[32];
        struct sysinfo si;
        enum swap_step step;
        uint64_t bytes, ram = 0;
        int r;

        if (o->swap.bytes == 0 && o->swap.percent == 0)
                return;
        if (out->backing != BACKING_SCRATCH) {
                (void) snprintf(out->swap_reason, sizeof(out->swap_reason), "%s",
                                out->backing == BACKING_TMPFS ? "the overlay is on the tmpfs fallback"
                                                              : "there is no overlay");
                log_info("%s is set, but %s: no swap", opt_name(j, OPT_SWAP), out->swap_reason);
                return;
        }
        if (sysinfo(&si) == 0)
                ram = (uint64_t) si.totalram * si.mem_unit;
        bytes = swap_bytes(&o->swap, ram, (uint64_t) sysconf(_SC_PAGESIZE));
        if (bytes == 0) {
                (void) snprintf(out->swap_reason, sizeof(out->swap_reason), "%s is less than two pages",
                                opt_name(j, OPT_SWAP));
                log_warning("%s", out->swap_reason);
                return;
        }
        r = scratch_path(j->base, "scratch/" SWAP_FILE, path, sizeof(path));
        if (r == 0)
                r = swap_file_enable(path, bytes, &step);
        else
                step = SWAP_STEP_CREATE;
        format_bytes(bytes, size, sizeof(size));
        if (r < 0) {
                (void) snprintf(out->swap_reason, sizeof(out->swap_reason), "%s the swap file %.128s (%s): %s",
                                steps[step], path, size, strerror(-r));
                log_warning("%s, going on without swap", out->swap_reason);
                return;
        }
        out->swap_bytes = bytes;
        log_info("swap on %s (%s)%s", path, size, out->mapped ? ", encrypted with the scratch disk" : "");
}

/* User and system CPU time of who (getrusage), in ms: under emulation the
 * early part's cost to the boot is its CPU time, not its wall time. */
static uint64_t cpu_ms(int who) {
        struct rusage ru;

        if (getrusage(who, &ru) < 0)
                return 0;
        return (uint64_t) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
               (uint64_t) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

static void write_state(const struct job *j, const struct options *o, const struct outcome *out, uint64_t t0) {
        const char *what = j->instance ? "overlay" : "root overlay";
        char devno[32] = "", tmpfs_size[32] = "";
        bool scratch = out->backing == BACKING_SCRATCH;
        struct state s = {
                .backing = out->backing,
                .device = out->have_disk ? out->node : "",
                .devno = devno,
                .hctl = out->have_disk ? out->disk.hctl : "",
                .serial = out->have_disk ? out->serial : "",
                .disks = out->have_disk ? out->names : "",
                .cloud = out->platform ? out->platform : "",
                .format = scratch ? verdict_to_string(out->verdict) : "",
                .tmpfs_size = tmpfs_size,
                .reason = scratch ? "" : out->reason,
                .source = source_to_string(options_disk_source(o)),
                .volatile_ = out->backing != BACKING_NONE && !(out->dropped & MOUNT_DROPPED_VOLATILE),
                .discard = scratch ? out->discard : "",
                .format_ms = scratch ? out->format_ms : 0,
                .encrypt = scratch && out->mapped ? CRYPT_SPEC : "",
                .swap_bytes = out->swap_bytes,
                .swap_reason = out->swap_reason,
                .fallback = o->active ? fallback_to_string(o->fallback) : "",
                .prepare_ms = out->prepare_ms,
                .prepared = j->early,
        };
        int r;

        size_spec_format(&o->tmpfs_size, tmpfs_size, sizeof(tmpfs_size));
        if (out->have_disk)
                (void) snprintf(devno, sizeof(devno), "%u:%u", major(out->disk.devno), minor(out->disk.devno));
        s.setup_ms = now_ms() - t0;
        r = state_write(j->state_file, &s);
        if (r < 0)
                log_error_errno(r, "cannot write %s: %m", j->state_file);

        if (j->early && scratch)
                log_info("%s (%s) ready for the root overlay, ext4 without journal%s, prepared in %" PRIu64
                         " ms (CPU: %" PRIu64 " ms, mke2fs %" PRIu64 " ms)",
                         out->striped ? out->stripe_node : out->disk.name, out->striped ? out->names : out->where,
                         strcmp(out->discard, "on") == 0 ? ", discard" : "", s.setup_ms, cpu_ms(RUSAGE_SELF),
                         cpu_ms(RUSAGE_CHILDREN));
        else if (scratch)
                log_info("%s on %s (%s), ext4 without journal%s%s, setup took %" PRIu64 " ms%s", what,
                         out->striped ? out->stripe_node : out->disk.name, out->striped ? out->names : out->where,
                         strcmp(out->discard, "on") == 0 ? ", discard" : "", s.volatile_ ? ", volatile" : "",
                         s.setup_ms, out->prepare_ms ? " once the root was mounted" : "");
        else if (out->backing == BACKING_TMPFS)
                log_info("%s on tmpfs (size=%s), setup took %" PRIu64 " ms", what, tmpfs_size, s.setup_ms);
}

/* The record scratchroot prepare leaves for setup, and the lock it holds
 * while it works; the lock file tells its pid and until when it may take. */
#define PREPARED_FILE RUN_DIR "/prepared"
#define PREPARE_LOCK RUN_DIR "/prepare.lock"
/* The hash of the options the prepare worked with (options_hash()). */
#define PREPARED_OPTIONS RUN_DIR "/prepared.options"
/* The virtio port's line, once read (struct gather_args). */
#define VPORT_COPY RUN_DIR "/vport"
/* Setup leaves this when it starts: from then on a prepare waits for the
 * disk as setup would. */
#define ROOT_MOUNTED_FILE RUN_DIR "/root-mounted"
/* How long a prepare looks for the disks before the root is mounted, at
 * most, and how often. */
#define PREPARE_DRIVERS_MS 60000u
#define PREPARE_LOOK_MS 20u
#define PREPARE_IDLE_MS 500
/* Setup looks at the lock this often while a prepare works. */
#define PREPARE_POLL_MS 2u
/* What a prepare may take beyond its disk wait and mke2fs's limit (the
 * LUKS2 header, the mappings, the mounts), and what setup gives it before
 * it has said more. */
#define PREPARE_SLACK_MS 30000u
/* After SIGKILL, how long setup waits for the lock to be let go. */
#define PREPARE_KILL_MS 2000u

static void lock_note(int fd, uint64_t deadline_ms) {
        char buf[64];
        int n;

        n = snprintf(buf, sizeof(buf), "%d %" PRIu64 "\n", (int) getpid(), deadline_ms);
        if (ftruncate(fd, 0) < 0 || pwrite_full(fd, buf, (size_t) n, 0) < 0)
                log_warning_errno(errno, "cannot write %s: %m", PREPARE_LOCK);
}

/* Waits for a prepare of this boot to end, then reads what it left.
 * -ENOENT: no prepare ran, or it left the work to setup; -ETIMEDOUT: it did
 * not end in the time it gave itself and was killed. */
static int prepared_wait(int *ret_fd, struct state_kv *kv, unsigned max, unsigned *n) {
        _cleanup_close_ int fd = -1;
        uint64_t t0 = now_ms(), killed = 0;

        /* Held until setup ends: a prepare that starts only now finds it
         * taken, then the state file, and does nothing. */
        fd = open(PREPARE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0)
                return -errno;
        {
                _cleanup_close_ int m = open(ROOT_MOUNTED_FILE, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);

                if (m < 0)
                        log_warning_errno(errno, "cannot create %s: %m", ROOT_MOUNTED_FILE);
        }
        for (;;) {
                char buf[64] = "";
                unsigned long long deadline = 0;
                int pid = 0;

                if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                        break;
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return -errno;
                if (pread(fd, buf, sizeof(buf) - 1, 0) > 0)
                        (void) sscanf(buf, "%d %llu", &pid, &deadline);
                if (deadline == 0)
                        deadline = t0 + PREPARE_SLACK_MS;
                if (!killed && now_ms() > deadline) {
                        log_error("scratchroot prepare (pid %d) has not ended in the %llu ms it gave itself, "
                                  "killing it", pid, deadline > t0 ? deadline - t0 : 0);
                        if (pid > 1)
                                (void) kill(pid, SIGKILL);
                        killed = now_ms();
                }
                if (killed && now_ms() > killed + PREPARE_KILL_MS)
                        return -ETIMEDOUT;
                sleep_ms(PREPARE_POLL_MS);
        }
        *ret_fd = TAKE_FD(fd);
        if (killed)
                return -ETIMEDOUT;
        if (now_ms() - t0 >= 10)
                log_info("waited %" PRIu64 " ms for scratchroot prepare to end", now_ms() - t0);
        return state_read(PREPARED_FILE, kv, max, n);
}

/* The options, told (unless told_before: scratchroot prepare read the same
 * at this boot and told them then); false when there is nothing to do. */
static bool options_told(const struct options *o, bool told_before) {
        /* The first bad value is told once, as the reason for the fallback. */
        for (unsigned i = 0; i < o->n_problems && !told_before; i++)
                if (!o->invalid || i != o->first_invalid || o->disabled || !o->active)
                        log_warning("%s", o->problems[i]);
        if (o->disabled) {
                if (!told_before)
                        log_info("disabled by rd.scratch=0, leaving the root as it is");
                return false;
        }
        return o->active;
}


/* A hash of the options as parsed (FNV-1a over the structure, which is
 * zeroed before it is filled): scratchroot prepare's and setup's agree when
 * both read the same. */
static uint64_t options_hash(const struct options *o) {
        const unsigned char *p = (const unsigned char *) o;
        uint64_t h = 0xcbf29ce484222325u;

        for (size_t i = 0; i < sizeof(*o); i++)
                h = (h ^ p[i]) * 0x100000001b3u;
        return h;
}

/* Undoes what a prepare mounted and mapped, by its record, when setup does
 * not take it. */
static void release_prepared(const struct job *j, const struct state_kv *kv, unsigned n) {
        struct outcome t = {};

        if (outcome_from_record(kv, n, &t))
                release_scratch(j, &t);
}

/* Whether scratchroot prepare read these same options at this boot: it
 * leaves their hash in PREPARED_OPTIONS. */
static bool prepare_read_same(const struct options *o) {
        char want[32] = "", have[32];

        (void) snprintf(have, sizeof(have), "%016" PRIx64, options_hash(o));
        return read_line(PREPARED_OPTIONS, want, sizeof(want)) == 0 && strcmp(want, have) == 0;
}

/* Everything after the root is mounted waits for setup, and on a guest with
 * one CPU what else runs then took turns with it: systemd re-reading the
 * mount table after each of its mounts, udev, journald. Under TCG that made
 * 70 ms of setup's CPU take 190-230 ms in dracut's systemd initrd. Setup runs
 * at the lowest real-time priority: it only sleeps when it waits (for a
 * disk, for mke2fs, which SCHED_RESET_ON_FORK leaves to the normal policy),
 * and its policy is put back before it returns (the standalone init executes
 * the root's init next). It starts once the prepare has ended: polling for
 * that at this priority would only take turns from the prepare itself. */
struct sched_saved {
        bool changed;
        int policy;
        struct sched_param param;
};

static void realtime_begin(struct sched_saved *saved) {
        const struct sched_param rt = { .sched_priority = 1 };

        saved->changed = false;
        saved->policy = sched_getscheduler(0);
        if (saved->policy < 0 || sched_getparam(0, &saved->param) < 0)
                return;
        /* Without CAP_SYS_NICE it runs as it is. */
        saved->changed = sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &rt) == 0;
}

static void realtime_end(const struct sched_saved *saved) {
        if (saved->changed && sched_setscheduler(0, saved->policy, &saved->param) < 0)
                log_warning_errno(errno, "cannot put the scheduling policy back: %m");
}

static int setup_locked(const struct setup_args *a, int *lock_fd, struct sched_saved *rt) {
        /* A prepare makes RUN_DIR first thing. */
        const bool run_dir = access(RUN_DIR, F_OK) == 0;
        const struct gather_args g = {
                .cmdline = a->cmdline, .sysfs = a->sysfs, .config = a->config,
                .vport_copy = run_dir ? VPORT_COPY : NULL,
        };
        struct job j = job_make(false, a->sysfs, a->mke2fs, RUN_DIR, a->newroot, a->newroot, STATE_FILE);
        uint64_t t0 = now_ms();
        struct state_kv kv[STATE_MAX_KV];
        unsigned n = 0;
        struct options o;
        struct outcome out = { .backing = BACKING_NONE };
        int r, ret, wr;
        bool same;

        wr = run_dir ? prepared_wait(lock_fd, kv, ELEMENTSOF(kv), &n) : -ENOENT;
        realtime_begin(rt);
        if (wr == -ETIMEDOUT)
                j.prep_error = "scratchroot prepare did not end in time and was killed";
        else if (wr < 0 && wr != -ENOENT)
                log_warning_errno(wr, "cannot read what scratchroot prepare left: %m, looking for the disk again");
        r = gather_options(&g, &o);
        if (r < 0) {
                log_error_errno(r, "cannot read /proc/cmdline: %m, leaving the root as it is");
                if (wr == 0)
                        release_prepared(&j, kv, n);
                return 0;
        }
        same = prepare_read_same(&o);
        if (!options_told(&o, same)) {
                if (wr == 0)
                        release_prepared(&j, kv, n);
                return 0;
        }
        /* The prepare's record is one setup takes when it worked with the
         * options read now (the host may have said more since: a virtio
         * port that was not there yet). */
        if (wr == 0 && state_get(kv, n, state_keys[STATE_KEY_fallback].name)[0]) {
                if (same) {
                        j.prep = kv;
                        j.n_prep = n;
                        out.prepare_ms = strtoull(state_get(kv, n, state_keys[STATE_KEY_setup_ms].name), NULL, 10);
                } else {
                        log_info("the options differ from those scratchroot prepare read before the root was "
                                 "mounted: the disk is set up again");
                        release_prepared(&j, kv, n);
                }
        }

        if (overlay_already_set_up(a->newroot)) {
                log_info("%s already is the scratchroot overlay, nothing to do", a->newroot);
                return 0;
        }
        r = mkdir_p(RUN_DIR, 0755);
        if (r < 0) {
                log_error_errno(r, "cannot create %s: %m%s", RUN_DIR,
                                o.fallback == FALLBACK_FAIL ? ", stopping the boot" : ", leaving the root as it is");
                return o.fallback == FALLBACK_FAIL ? 1 : 0;
        }
        /* Held from here on: a prepare that starts now does nothing. */
        if (*lock_fd < 0 && !j.prep && prepared_wait(lock_fd, kv, ELEMENTSOF(kv), &n) == 0)
                log_warning("scratchroot prepare ran while setup started, its disk is not used");

        ret = decide(&j, &o, &out);
        if (out.backing != BACKING_NONE)
                log_dropped(out.dropped);
        else if (out.root_made_ro) {
                r = root_make_rw(a->newroot);
                if (r < 0)
                        log_warning_errno(r, "cannot make the filesystem at %s writable again: %m", a->newroot);
        }
        /* A prepared disk has its swap already (the record says). */
        if (ret == 0 && (!j.prep || out.backing != BACKING_SCRATCH))
                enable_swap(&j, &o, &out);
        write_state(&j, &o, &out, t0);
        free(out.set);
        return ret;
}

int run_setup(const struct setup_args *a) {
        _cleanup_close_ int fd = -1;
        struct sched_saved rt = {};
        int r;

        r = setup_locked(a, &fd, &rt);
        realtime_end(&rt);
        /* What the prepare left is in the state file now; the lock file
         * goes last, while it is still held. */
        if (fd >= 0) {
                (void) unlink(ROOT_MOUNTED_FILE);
                (void) unlink(PREPARED_FILE);
                (void) unlink(PREPARED_OPTIONS);
                (void) unlink(VPORT_COPY);
                (void) unlink(PREPARE_LOCK);
        }
        return r;
}

/* root= as the standalone init looks it up: false when it is missing or a
 * form that cannot be looked up here; then the disk waits for the root to be
 * mounted. */
static bool root_spec_given(const struct gather_args *g, struct root_spec *ret) {
        _cleanup_free_ char *text = NULL;
        struct boot_options bo;

        if (!g->cmdline && cmdline_read("/proc/cmdline", &text) < 0)
                return false;
        boot_options_init(&bo);
        boot_options_parse(&bo, g->cmdline ? g->cmdline : text);
        if (!bo.have_root) {
                log_info("no root= on the kernel command line: the scratch disk is prepared once the root is "
                         "mounted");
                return false;
        }
        if (root_spec_parse(bo.root, ret) < 0) {
                log_info("root=%s cannot be looked up before it is mounted: the scratch disk is prepared once "
                         "the root is", bo.root);
                return false;
        }
        return true;
}

/* What makes the prepare look again: the kernel telling of a device (a
 * disk added, a driver bound to a controller: its uevents, the netlink
 * group udev listens to) and setup saying the root is mounted (a file
 * made in RUN_DIR). Looking means reading sysfs, 1-2 ms of CPU each time
 * under emulation: looked for every 20 ms, the 3-4 s a disk took to come
 * in dracut's initrd cost the boot 250-350 ms of its one CPU. */
struct change_watch {
        int uevents, run_dir;
};

static void change_watch_open(struct change_watch *w) {
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };

        w->uevents = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
        if (w->uevents >= 0 && bind(w->uevents, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                w->uevents = safe_close(w->uevents);
        w->run_dir = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (w->run_dir >= 0 && inotify_add_watch(w->run_dir, RUN_DIR, IN_CREATE | IN_MOVED_TO) < 0)
                w->run_dir = safe_close(w->run_dir);
}

static void change_watch_close(struct change_watch *w) {
        w->uevents = safe_close(w->uevents);
        w->run_dir = safe_close(w->run_dir);
}

/* Returns once something may have changed: at most every PREPARE_LOOK_MS,
 * at least every PREPARE_IDLE_MS (a kernel message lost when the socket's
 * buffer ran over says nothing). Without either source, every
 * PREPARE_LOOK_MS. */
static void change_watch_wait(const struct change_watch *w) {
        struct pollfd p[] = { { .fd = w->uevents, .events = POLLIN }, { .fd = w->run_dir, .events = POLLIN } };
        char buf[4096];

        sleep_ms(PREPARE_LOOK_MS);
        if (w->uevents < 0 && w->run_dir < 0)
                return;
        if (poll(p, ELEMENTSOF(p), PREPARE_IDLE_MS) <= 0)
                return;
        /* What came is not read: any of it is a reason to look. */
        while (w->uevents >= 0 && recv(w->uevents, buf, sizeof(buf), MSG_DONTWAIT) > 0)
                ;
        while (w->run_dir >= 0 && read(w->run_dir, buf, sizeof(buf)) > 0)
                ;
}

/* Before the root is mounted the disks may still be coming: the listed
 * ones are looked for until all are there, or until the root is mounted;
 * from then on rd.scratch.timeout applies as it does without a prepare.
 * Globs and the cloud take what is there: they wait for the root. */
static void wait_for_disks(const char *sysfs, const struct options *o) {
        _cleanup_free_ struct options *once = NULL;
        _cleanup_free_ struct disk_set *set = NULL;
        struct change_watch w;
        uint64_t t0 = now_ms();
        char why[512];

        once = malloc(sizeof(*once));
        set = malloc(sizeof(*set));
        if (!once || !set)
                return;
        *once = *o;
        once->timeout_ms = 0;
        /* Opened before the first look: what happens after it wakes the wait. */
        change_watch_open(&w);
        for (;;) {
                if (o->have_lun || o->have_serial) {
                        int r = select_disks(sysfs, once, option_name, set, why, sizeof(why));

                        if (r != -ENOENT && r != -ENODEV)
                                break;
                }
                if (access(ROOT_MOUNTED_FILE, F_OK) == 0)
                        break;
                if (now_ms() - t0 >= PREPARE_DRIVERS_MS) {
                        log_info("the disk is not there after %u s and the root is not mounted: looking for it "
                                 "within %s=", PREPARE_DRIVERS_MS / 1000, option_name(OPT_TIMEOUT));
                        break;
                }
                change_watch_wait(&w);
        }
        change_watch_close(&w);
}

/* The early part: while the initrd looks for the root, the disk is found,
 * proven, formatted and mounted, and PREPARED_FILE says so; setup then
 * only mounts the overlay. */
static int prepare_locked(const struct setup_args *a, int lock_fd) {
        const struct gather_args g = {
                .cmdline = a->cmdline, .sysfs = a->sysfs, .config = a->config, .vport_copy = VPORT_COPY,
        };
        struct job j = job_make(false, a->sysfs, a->mke2fs, RUN_DIR, "/", "/", PREPARED_FILE);
        struct root_spec spec;
        uint64_t t0 = now_ms();
        struct options o;
        struct outcome out = { .backing = BACKING_NONE };
        int r;

        j.early = true;
        /* Before the options, which a virtio port gives only once: with
         * no root= to protect, setup reads them. */
        if (!root_spec_given(&g, &spec))
                return 0;
        r = gather_options(&g, &o);
        if (r < 0) {
                log_error_errno(r, "cannot read /proc/cmdline: %m; setup looks again once the root is mounted");
                return 0;
        }
        {
                char hash[32];

                /* Also when there is nothing to do: setup then does not tell
                 * the same problems again. */
                (void) snprintf(hash, sizeof(hash), "%016" PRIx64 "\n", options_hash(&o));
                r = write_file_atomic(PREPARED_OPTIONS, hash, 0644);
        }
        if (!options_told(&o, false))
                return 0;
        if (r < 0) {
                log_warning_errno(r, "cannot write %s: %m; setup does it all once the root is mounted",
                                  PREPARED_OPTIONS);
                return 0;
        }
        lock_note(lock_fd, t0 + PREPARE_DRIVERS_MS + o.timeout_ms + FORMAT_TIMEOUT_MS + PREPARE_SLACK_MS);
        wait_for_disks(a->sysfs, &o);
        safety_root_named(&spec, &j.root);
        r = try_scratch(&j, &o, &out);
        if (r == -EAGAIN) {
                log_info("%s", out.reason);
                free(out.set);
                return 0;
        }
        if (r == 0)
                out.backing = BACKING_SCRATCH;
        else
                log_warning("%s; setup falls back as %s=%s says once the root is mounted", out.reason,
                            option_name(OPT_FALLBACK), fallback_to_string(o.fallback));
        enable_swap(&j, &o, &out);
        write_state(&j, &o, &out, t0);
        free(out.set);
        return 0;
}

int setup_instance(const struct instance_args *a, const struct options *o, enum backing *ret_backing) {
        char base[PATH_MAX], state[PATH_MAX];
        struct job j = job_make(true, a->sysfs, a->mke2fs, base, a->lower, a->target, state);
        uint64_t t0 = now_ms();
        struct outcome out = { .backing = BACKING_NONE };
        int r, ret;

        r = instance_dir(a->name, base, sizeof(base));
        if (r < 0 || (r = scratch_path(base, "state", state, sizeof(state))) < 0)
                return log_error_errno(r, "instance name %s is too long", a->name);

        ret = decide(&j, o, &out);
        if (out.backing != BACKING_NONE)
                log_dropped(out.dropped);
        write_state(&j, o, &out, t0);
        free(out.set);
        *ret_backing = out.backing;
        return ret;
}

int run_prepare(const struct setup_args *a, bool background, pid_t *ret_child) {
        _cleanup_close_ int fd = -1;
        pid_t pid;
        int r;

        if (ret_child)
                *ret_child = 0;
        r = mkdir_p(RUN_DIR, 0755);
        if (r < 0)
                return log_error_errno(r, "cannot create %s: %m, setup does it all once the root is mounted",
                                       RUN_DIR);
        fd = open(PREPARE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0)
                return log_error_errno(errno, "cannot open %s: %m, setup does it all once the root is mounted",
                                       PREPARE_LOCK);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno == EWOULDBLOCK) {
                        log_info("scratchroot prepare is already running");
                        return 0;
                }
                return log_error_errno(errno, "cannot lock %s: %m", PREPARE_LOCK);
        }
        if (access(STATE_FILE, F_OK) == 0 || access(PREPARED_FILE, F_OK) == 0 ||
            access(ROOT_MOUNTED_FILE, F_OK) == 0) {
                log_info("scratchroot has prepared or set up at this boot already, nothing to do");
                return 0;
        }
        lock_note(fd, now_ms() + PREPARE_SLACK_MS);
        if (background) {
                /* The child holds the lock (one open file description);
                 * the caller goes on at once. */
                pid = fork();
                if (pid < 0)
                        return log_error_errno(errno, "cannot fork: %m, setup does it all once the root is mounted");
                if (pid > 0) {
                        if (ret_child)
                                *ret_child = pid;
                        return 0;
                }
                (void) setsid();
                lock_note(fd, now_ms() + PREPARE_SLACK_MS);
        }
        r = prepare_locked(a, fd);
        if (background)
                _exit(0);
        return r;
}
