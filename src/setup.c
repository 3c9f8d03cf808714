/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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
#include "mounts.h"
#include "options.h"
#include "safety.h"
#include "sources.h"
#include "state.h"
#include "sysfs.h"
#include "util.h"

struct outcome {
        enum backing backing;
        bool have_disk;
        struct disk disk;
        char node[PATH_MAX];
        enum verdict verdict;
        bool volatile_;
        const char *discard;    /* on|off|unsupported */
        uint64_t format_ms;
        char serial[OPTIONS_MAX_SERIAL * 4];
        char reason[512];
};

static int read_cmdline(char **ret) {
        size_t cap = 65536, len = 0;
        char *buf;
        int fd;

        fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        buf = malloc(cap);
        if (!buf) {
                (void) close(fd);
                return -ENOMEM;
        }
        for (;;) {
                ssize_t k = read(fd, buf + len, cap - 1 - len);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        k = -errno;
                        free(buf);
                        (void) close(fd);
                        return (int) k;
                }
                if (k == 0 || len + (size_t) k >= cap - 1) {
                        len += (size_t) k;
                        break;
                }
                len += (size_t) k;
        }
        (void) close(fd);
        buf[len] = '\0';
        *ret = buf;
        return 0;
}

/* How long a disk sysfs shows may answer ENXIO to open() while the kernel
 * finishes adding it. */
#define OPEN_GRACE_MS 1000u

static int fail(struct outcome *out, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct outcome *out, int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}

static int try_scratch(const struct setup_args *a, const struct options *o, struct outcome *out) {
        char want[160], lun[64] = "", amb[256], why[256], size[32];
        struct selector sel = {};
        const char *where;
        struct disk_facts facts;
        struct disk *d = &out->disk;
        bool busy = false;
        uint64_t t;
        int r, fd, e = 0, status = 0;

        if (o->invalid)
                return fail(out, -EINVAL, "%s", o->problems[o->first_invalid]);
        if (!o->have_lun && !o->have_serial)
                return fail(out, -ENOENT, "no disk selected: neither rd.scratch.lun= nor rd.scratch.serial= is set");

        sel.have_lun = o->have_lun;
        sel.lun = o->lun;
        sel.serial = o->have_serial ? o->serial : NULL;
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
        where = d->hctl[0] ? d->hctl : "no SCSI address";
        if (sysfs_disk_serial(d, out->serial, sizeof(out->serial)) < 0)
                out->serial[0] = '\0';

        r = device_node(d->name, S_IFBLK, d->devno, out->node, sizeof(out->node));
        if (r < 0)
                return fail(out, r, "cannot make a node for %s (%s, %u:%u): %s", d->name, where,
                            major(d->devno), minor(d->devno), strerror(-r));

        /* O_EXCL fails with EBUSY while a filesystem, swap, device-mapper or
         * md holds the disk: the kernel's own word that it is in use. A disk
         * being hot-plugged shows its block device in sysfs a moment before
         * the kernel lets it be opened: ENXIO until then, so it is tried
         * again for a while. */
        t = now_ms();
        for (;;) {
                fd = open(out->node, O_RDONLY | O_EXCL | O_CLOEXEC | O_NOCTTY);
                if (fd >= 0) {
                        /* Only an ENXIO is ever tried again. */
                        if (e == ENXIO)
                                log_info("%s (%s) opened after %" PRIu64 " ms of ENXIO (still being added)",
                                         out->node, where, now_ms() - t);
                        break;
                }
                e = errno;
                if (e != ENXIO || now_ms() - t >= OPEN_GRACE_MS)
                        break;
                sleep_ms(10);
        }
        if (fd < 0) {
                if (e != EBUSY)
                        return fail(out, -e, "cannot open %s (%s): %s", out->node, where, strerror(e));
                busy = true;
        }
        r = safety_gather(a->sysfs, d, fd, busy, a->newroot, &facts);
        if (fd >= 0)
                (void) close(fd);
        if (r < 0)
                return fail(out, r, "cannot inspect %s (%s): %s", d->name, where, strerror(-r));

        format_bytes(facts.attrs.size_bytes, size, sizeof(size));
        out->verdict = safety_decide(&facts, o->force, why, sizeof(why));
        if (out->verdict == VERDICT_REFUSE)
                return fail(out, -EPERM, "refusing %s (%s, %s): %s", d->name, where, size, why);
        log_info("formatting %s (%s, %u:%u, %s): %s", d->name, where, major(d->devno), minor(d->devno), size,
                 why);

        /* A disk kept from an earlier boot is discarded so a thin host image
         * gives back what the last boot wrote; a blank one has nothing to
         * give, and discarding all of it would only cost time. */
        t = now_ms();
        r = format_scratch(a->mke2fs, out->node, facts.attrs.discards && out->verdict != VERDICT_FORMAT_BLANK,
                           FORMAT_TIMEOUT_MS, &status);
        out->format_ms = now_ms() - t;
        if (r == -ETIMEDOUT)
                return fail(out, r, "%s did not finish on %s (%s) within %u s", a->mke2fs, d->name, where,
                            FORMAT_TIMEOUT_MS / 1000);
        if (r == -EIO)
                return fail(out, r, "%s failed on %s (%s) with status %d", a->mke2fs, d->name, where, status);
        if (r < 0)
                return fail(out, r, "cannot run %s: %s", a->mke2fs, strerror(-r));

        if (!o->discard)
                out->discard = "off";
        else if (facts.attrs.discards)
                out->discard = "on";
        else {
                out->discard = "unsupported";
                log_info("%s (%s) does not support discard, deleted files keep their space on the host", d->name,
                         where);
        }
        r = mount_scratch_ext4(out->node, strcmp(out->discard, "on") == 0);
        if (r < 0)
                return fail(out, r, "cannot mount %s (%s) on %s: %s", d->name, where, SCRATCH_DIR, strerror(-r));

        r = mount_overlay_root(a->newroot, &out->volatile_);
        if (r < 0) {
                umount_scratch();
                return fail(out, r, "cannot mount the overlay with its upper on %s (%s): %s", d->name, where,
                            strerror(-r));
        }
        return 0;
}

static int try_tmpfs(const struct setup_args *a, const struct options *o, struct outcome *out) {
        int r;

        r = mount_scratch_tmpfs(&o->tmpfs_size);
        if (r < 0)
                return log_error_errno(r, "cannot mount a tmpfs on %s: %m", SCRATCH_DIR);
        r = mount_overlay_root(a->newroot, &out->volatile_);
        if (r < 0) {
                umount_scratch();
                return r;
        }
        return 0;
}

static void take_source(struct options *o, enum source src, int r, const char *text, size_t bad) {
        struct options w;

        if (r == -ENOENT)
                return;
        options_init(&w);
        if (r == 0)
                options_parse_source(&w, text, src);
        else {
                /* The host meant to say something: what it said is unclear,
                 * so no disk is touched. */
                char what[96];

                if (r == -EBADMSG)
                        (void) snprintf(what, sizeof(what),
                                        "refused: malformed, or a byte that is not printable ASCII (offset %zu)", bad);
                else
                        (void) snprintf(what, sizeof(what), "unreadable: %s", strerror(-r));
                options_source_problem(&w, src, what);
        }
        options_merge(o, &w);
}

/* Options from every source, each taken from the strongest that sets it:
 * the command line, the hypervisor (fw_cfg, SMBIOS, the virtio port), the
 * image's config file, the defaults. */
static int gather_options(const struct setup_args *a, struct options *o) {
        char text[SOURCE_MAX_BYTES + 1], *cmdline = NULL;
        size_t bad = 0;
        int r;

        options_init(o);
        if (a->cmdline)
                options_parse_cmdline(o, a->cmdline);
        else {
                r = read_cmdline(&cmdline);
                if (r < 0)
                        return r;
                options_parse_cmdline(o, cmdline);
                free(cmdline);
        }
        /* rd.scratch=0 on the command line ends it before the host is asked. */
        if (o->disabled)
                return 0;

        r = read_fwcfg(a->sysfs, text, sizeof(text), &bad);
        take_source(o, SOURCE_FWCFG, r, text, bad);
        r = read_smbios(a->sysfs, text, sizeof(text), &bad);
        take_source(o, SOURCE_SMBIOS, r, text, bad);
        if (!o->disabled) {
                r = read_vport(a->sysfs, o->timeout_ms, text, sizeof(text), &bad);
                if (r == -ETIMEDOUT)
                        log_warning("no line on the virtio port %s within %u ms", VPORT_NAME, o->timeout_ms);
                else
                        take_source(o, SOURCE_VPORT, r, text, bad);
        }
        r = read_config(a->config ? a->config : CONFIG_FILE, text, sizeof(text), &bad);
        take_source(o, SOURCE_CONFIG, r, text, bad);
        return 0;
}

int run_setup(const struct setup_args *a) {
        uint64_t t0 = now_ms();
        struct options o;
        struct outcome out = { .backing = BACKING_NONE };
        char devno[32] = "", tmpfs_size[32] = "";
        const char *format = "";
        int r, ret = 0;

        r = gather_options(a, &o);
        if (r < 0) {
                log_error_errno(r, "cannot read /proc/cmdline: %m");
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
                log_error_errno(r, "cannot create %s: %m", RUN_DIR);
                return o.fallback == FALLBACK_FAIL ? 1 : 0;
        }

        size_spec_format(&o.tmpfs_size, tmpfs_size, sizeof(tmpfs_size));
        r = try_scratch(a, &o, &out);
        if (r == 0) {
                out.backing = BACKING_SCRATCH;
                format = verdict_to_string(out.verdict);
        } else if (o.fallback == FALLBACK_TMPFS) {
                log_warning("%s, falling back to tmpfs", out.reason);
                r = try_tmpfs(a, &o, &out);
                if (r == 0)
                        out.backing = BACKING_TMPFS;
                else {
                        size_t k = strlen(out.reason);

                        (void) snprintf(out.reason + k, sizeof(out.reason) - k, "; the tmpfs overlay failed too: %s",
                                        strerror(-r));
                        log_error("the tmpfs overlay failed too (%s), leaving the root as it is", strerror(-r));
                }
        } else if (o.fallback == FALLBACK_NONE)
                log_warning("%s; rd.scratch.fallback=none, leaving the root as it is", out.reason);
        else {
                log_error("%s; rd.scratch.fallback=fail, stopping the boot", out.reason);
                ret = 1;
        }

        if (out.have_disk)
                (void) snprintf(devno, sizeof(devno), "%u:%u", major(out.disk.devno), minor(out.disk.devno));
        {
                struct state s = {
                        .backing = out.backing,
                        .device = out.have_disk ? out.node : "",
                        .devno = devno,
                        .hctl = out.have_disk ? out.disk.hctl : "",
                        .serial = out.have_disk ? out.serial : "",
                        .format = format,
                        .tmpfs_size = tmpfs_size,
                        .reason = out.backing == BACKING_SCRATCH ? "" : out.reason,
                        .source = source_to_string(options_disk_source(&o)),
                        .volatile_ = out.volatile_,
                        .discard = out.backing == BACKING_SCRATCH ? out.discard : "",
                        .format_ms = out.backing == BACKING_SCRATCH ? out.format_ms : 0,
                        .setup_ms = now_ms() - t0,
                };

                r = state_write(STATE_FILE, &s);
                if (r < 0)
                        log_error_errno(r, "cannot write %s: %m", STATE_FILE);

                if (out.backing == BACKING_SCRATCH)
                        log_info("root overlay on %s (%s), ext4 without journal%s%s, setup took %" PRIu64 " ms",
                                 out.disk.name, out.disk.hctl[0] ? out.disk.hctl : "no SCSI address",
                                 strcmp(out.discard, "on") == 0 ? ", discard" : "", out.volatile_ ? ", volatile" : "",
                                 s.setup_ms);
                else if (out.backing == BACKING_TMPFS)
                        log_info("root overlay on tmpfs (size=%s), setup took %" PRIu64 " ms", tmpfs_size,
                                 s.setup_ms);
        }
        return ret;
}
