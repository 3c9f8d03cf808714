/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "devnode.h"
#include "format.h"
#include "log.h"
#include "macro.h"
#include "mounts.h"
#include "options.h"
#include "safety.h"
#include "sources.h"
#include "state.h"
#include "sysfs.h"
#include "util.h"

/* How long a disk sysfs shows may answer ENXIO to open() while the kernel
 * finishes adding it. */
#define OPEN_GRACE_MS 1000u

struct outcome {
        enum backing backing;
        bool have_disk;
        struct disk disk;
        const char *where;      /* the disk's SCSI address, for messages */
        char node[PATH_MAX];
        enum verdict verdict;
        bool root_made_ro;      /* undone when no overlay is mounted */
        unsigned dropped;       /* MOUNT_DROPPED_*: options the kernel refused */
        const char *discard;    /* on|off|unsupported */
        uint64_t format_ms;
        char serial[OPTIONS_MAX_SERIAL * 4];
        char reason[512];
};

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

static int find_disk(const struct setup_args *a, const struct options *o, struct outcome *out) {
        char want[160], lun[64] = "", amb[256];
        struct selector sel = {
                .have_lun = o->have_lun,
                .lun = o->lun,
                .serial = o->have_serial ? o->serial : NULL,
        };
        struct disk *d = &out->disk;
        int r;

        if (o->have_lun) {
                hctl_format(&o->lun, lun, sizeof(lun));
                (void) snprintf(want, sizeof(want), "rd.scratch.lun=%s%s%s", lun, o->have_serial ? " rd.scratch.serial=" : "",
                                o->have_serial ? o->serial : "");
        } else
                (void) snprintf(want, sizeof(want), "rd.scratch.serial=%s", o->serial);

        r = sysfs_wait_selected(a->sysfs, &sel, o->timeout_ms, d, amb, sizeof(amb));
        if (r == -ENOENT)
                return fail(out, r, "no disk at %s after %u ms", want, o->timeout_ms);
        if (r == -ENODEV)
                return fail(out, r, "the SCSI device at %s has no block device after %u ms", want, o->timeout_ms);
        if (r == -ENOTUNIQ)
                return fail(out, r, "%s is ambiguous, it matches %s; %s", want, amb,
                            o->have_lun ? "give H:C:T:L" : "serial numbers must be unique");
        if (r == -EMLINK)
                return fail(out, r, "the SCSI device at %s has more than one block device", want);
        if (r == -EBADSLT)
                return fail(out, r, "the disk at rd.scratch.lun=%s carries serial %s, not %s", lun, amb, o->serial);
        if (r < 0)
                return fail(out, r, "cannot look up %s in %s: %s", want, a->sysfs, strerror(-r));
        out->have_disk = true;
        out->where = d->hctl[0] ? d->hctl : "no SCSI address";
        if (sysfs_disk_serial(d, out->serial, sizeof(out->serial)) < 0)
                out->serial[0] = '\0';

        r = device_node(d->name, S_IFBLK, d->devno, out->node, sizeof(out->node));
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
static int open_disk(struct outcome *out, int *ret_fd) {
        uint64_t waited;
        int fd;

        fd = open_grace(out->node, O_RDONLY | O_EXCL | O_CLOEXEC | O_NOCTTY, OPEN_GRACE_MS, &waited);
        if (fd == -EBUSY) {
                *ret_fd = -1;
                return 0;
        }
        if (fd == -ENXIO)
                return fail(out, fd, "cannot open %s (%s): %s for %u ms, it was not added in time", out->node,
                            out->where, strerror(ENXIO), OPEN_GRACE_MS);
        if (fd < 0)
                return fail(out, fd, "cannot open %s (%s): %s", out->node, out->where, strerror(-fd));
        if (waited > 0)
                log_info("%s (%s) opened after %" PRIu64 " ms of ENXIO (still being added)", out->node, out->where,
                         waited);
        *ret_fd = fd;
        return 0;
}

static int format_disk(const struct setup_args *a, const struct options *o, struct outcome *out, bool *ret_discards) {
        _cleanup_close_ int fd = -1;
        struct disk_facts facts;
        struct disk *d = &out->disk;
        char why[256], size[32];
        uint64_t t;
        int r, status = 0;

        r = open_disk(out, &fd);
        if (r < 0)
                return r;
        r = safety_gather(a->sysfs, d, fd, fd < 0, a->newroot, &facts);
        if (r < 0)
                return fail(out, r, "cannot inspect %s (%s): %s", d->name, out->where, strerror(-r));
        fd = safe_close(fd);

        format_bytes(facts.attrs.size_bytes, size, sizeof(size));
        out->verdict = safety_decide(&facts, o->force, why, sizeof(why));
        if (out->verdict == VERDICT_REFUSE)
                return fail(out, -EPERM, "refusing %s (%s, %s): %s", d->name, out->where, size, why);
        log_info("formatting %s (%s, %u:%u, %s): %s", d->name, out->where, major(d->devno), minor(d->devno), size,
                 why);

        /* A disk kept from an earlier boot is discarded so a thin host image
         * gives back what the last boot wrote; a blank one has nothing to
         * give, and discarding all of it would only cost time. */
        t = now_ms();
        r = format_scratch(a->mke2fs, out->node, facts.attrs.discards && out->verdict != VERDICT_FORMAT_BLANK,
                           FORMAT_TIMEOUT_MS, &status);
        out->format_ms = now_ms() - t;
        if (r == -ETIMEDOUT)
                return fail(out, r, "%s did not finish on %s (%s) within %u s", a->mke2fs, d->name, out->where,
                            FORMAT_TIMEOUT_MS / 1000);
        if (r == -EIO)
                return fail(out, r, "%s failed on %s (%s) with status %d", a->mke2fs, d->name, out->where, status);
        if (r < 0)
                return fail(out, r, "cannot run %s: %s", a->mke2fs, strerror(-r));
        *ret_discards = facts.attrs.discards;
        return 0;
}

static int overlay_fail(struct outcome *out, int r, const char *step, const char *upper) {
        if (strcmp(step, "mount the overlay") == 0)
                return fail(out, r, "cannot mount the overlay with its upper on %s: %s", upper, strerror(-r));
        return fail(out, r, "cannot %s: %s", step, strerror(-r));
}

static int mount_disk(const struct setup_args *a, const struct options *o, struct outcome *out, bool discards) {
        const char *step = "";
        char upper[PATH_MAX + 64];
        unsigned dropped;
        int r;

        out->discard = !o->discard ? "off" : discards ? "on" : "unsupported";
        if (o->discard && !discards)
                log_info("%s (%s) does not support discard, deleted files keep their space on the host",
                         out->disk.name, out->where);
        r = mount_scratch_ext4(out->node, strcmp(out->discard, "on") == 0, &out->dropped);
        if (r < 0)
                return fail(out, r, "cannot mount %s (%s) on %s: %s", out->disk.name, out->where, SCRATCH_DIR,
                            strerror(-r));
        r = mount_overlay_root(a->newroot, &dropped, &step);
        if (r < 0) {
                umount_scratch();
                (void) snprintf(upper, sizeof(upper), "%s (%s)", out->disk.name, out->where);
                return overlay_fail(out, r, step, upper);
        }
        out->dropped |= dropped;
        return 0;
}

static int try_scratch(const struct setup_args *a, const struct options *o, struct outcome *out) {
        bool discards = false;
        int r;

        if (o->invalid)
                return fail(out, -EINVAL, "%s", o->problems[o->first_invalid]);
        if (!o->have_lun && !o->have_serial)
                return fail(out, -ENOENT, "no disk selected: neither rd.scratch.lun= nor rd.scratch.serial= is set");
        r = find_disk(a, o, out);
        if (r < 0)
                return r;
        r = format_disk(a, o, out, &discards);
        if (r < 0)
                return r;
        return mount_disk(a, o, out, discards);
}

static int try_tmpfs(const struct setup_args *a, const struct options *o, struct outcome *out) {
        const char *step = "";
        int r;

        r = mount_scratch_tmpfs(&o->tmpfs_size);
        if (r < 0)
                return fail(out, r, "cannot mount a tmpfs on %s: %s", SCRATCH_DIR, strerror(-r));
        r = mount_overlay_root(a->newroot, &out->dropped, &step);
        if (r < 0) {
                umount_scratch();
                return overlay_fail(out, r, step, "tmpfs");
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

/* The one place that decides: the scratch disk, else what
 * rd.scratch.fallback says. Returns 1 when the boot is to stop. */
static int decide(const struct setup_args *a, const struct options *o, struct outcome *out) {
        struct outcome t = {};
        size_t k;

        if (prepare_root(a->newroot, out) < 0) {
                /* A tmpfs overlay would hide the same. */
                if (o->fallback == FALLBACK_FAIL) {
                        log_error("%s; rd.scratch.fallback=fail, stopping the boot", out->reason);
                        return 1;
                }
                log_warning("%s, leaving the root as it is", out->reason);
                return 0;
        }
        if (try_scratch(a, o, out) == 0) {
                out->backing = BACKING_SCRATCH;
                return 0;
        }
        if (o->fallback == FALLBACK_FAIL) {
                log_error("%s; rd.scratch.fallback=fail, stopping the boot", out->reason);
                return 1;
        }
        if (o->fallback == FALLBACK_NONE) {
                log_warning("%s; rd.scratch.fallback=none, leaving the root as it is", out->reason);
                return 0;
        }
        log_warning("%s, falling back to tmpfs", out->reason);
        if (try_tmpfs(a, o, &t) == 0) {
                out->backing = BACKING_TMPFS;
                out->dropped = t.dropped;
                return 0;
        }
        k = strlen(out->reason);
        /* Cut when too long: the state file keeps what fits. */
        (void) xsnprintf(out->reason + k, sizeof(out->reason) - k, "; the tmpfs overlay failed too: %s", t.reason);
        log_error("the tmpfs overlay failed too: %s, leaving the root as it is", t.reason);
        return 0;
}

static void write_state(const struct options *o, const struct outcome *out, uint64_t t0) {
        char devno[32] = "", tmpfs_size[32] = "";
        bool scratch = out->backing == BACKING_SCRATCH;
        struct state s = {
                .backing = out->backing,
                .device = out->have_disk ? out->node : "",
                .devno = devno,
                .hctl = out->have_disk ? out->disk.hctl : "",
                .serial = out->have_disk ? out->serial : "",
                .format = scratch ? verdict_to_string(out->verdict) : "",
                .tmpfs_size = tmpfs_size,
                .reason = scratch ? "" : out->reason,
                .source = source_to_string(options_disk_source(o)),
                .volatile_ = out->backing != BACKING_NONE && !(out->dropped & MOUNT_DROPPED_VOLATILE),
                .discard = scratch ? out->discard : "",
                .format_ms = scratch ? out->format_ms : 0,
        };
        int r;

        size_spec_format(&o->tmpfs_size, tmpfs_size, sizeof(tmpfs_size));
        if (out->have_disk)
                (void) snprintf(devno, sizeof(devno), "%u:%u", major(out->disk.devno), minor(out->disk.devno));
        s.setup_ms = now_ms() - t0;
        r = state_write(STATE_FILE, &s);
        if (r < 0)
                log_error_errno(r, "cannot write %s: %m", STATE_FILE);

        if (scratch)
                log_info("root overlay on %s (%s), ext4 without journal%s%s, setup took %" PRIu64 " ms",
                         out->disk.name, out->where, strcmp(out->discard, "on") == 0 ? ", discard" : "",
                         s.volatile_ ? ", volatile" : "", s.setup_ms);
        else if (out->backing == BACKING_TMPFS)
                log_info("root overlay on tmpfs (size=%s), setup took %" PRIu64 " ms", tmpfs_size, s.setup_ms);
}

int run_setup(const struct setup_args *a) {
        const struct gather_args g = { .cmdline = a->cmdline, .sysfs = a->sysfs, .config = a->config };
        uint64_t t0 = now_ms();
        struct options o;
        struct outcome out = { .backing = BACKING_NONE };
        int r, ret;

        r = gather_options(&g, &o);
        if (r < 0) {
                log_error_errno(r, "cannot read /proc/cmdline: %m, leaving the root as it is");
                return 0;
        }

        /* The first bad value is told once, as the reason for the fallback. */
        for (unsigned i = 0; i < o.n_problems; i++)
                if (!o.invalid || i != o.first_invalid || o.disabled || !o.active)
                        log_warning("%s", o.problems[i]);
        if (o.disabled) {
                log_info("disabled by rd.scratch=0, leaving the root as it is");
                return 0;
        }
        if (!o.active)
                return 0;

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

        ret = decide(a, &o, &out);
        if (out.backing != BACKING_NONE)
                log_dropped(out.dropped);
        else if (out.root_made_ro) {
                r = root_make_rw(a->newroot);
                if (r < 0)
                        log_warning_errno(r, "cannot make the filesystem at %s writable again: %m", a->newroot);
        }
        write_state(&o, &out, t0);
        return ret;
}
