/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "select.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloud.h"
#include "macro.h"
#include "util.h"

struct ctx {
        const char *sysfs;
        const struct options *o;
        const char *(*name)(unsigned opt);
        enum cloud platform;
        struct disk_set *set;
        char *why;
        size_t n;
};

static int say(struct ctx *c, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int say(struct ctx *c, int r, const char *fmt, ...) {
        va_list ap;

        if (c->why && c->n) {
                va_start(ap, fmt);
                (void) vsnprintf(c->why, c->n, fmt, ap);
                va_end(ap);
        }
        return r;
}

/* "sdb (0:0:0:1)", or the name alone without an address. */
static void disk_label(const struct disk *d, char *buf, size_t n) {
        if (d->hctl[0])
                (void) snprintf(buf, n, "%s (%s)", d->name, d->hctl);
        else
                (void) snprintf(buf, n, "%s", d->name);
}

/* A glob matches a string the disk has: a disk without one (a virtio-blk
 * disk's model, an NVMe disk's vendor) matches no glob. */
static bool glob_matches(const char *glob, const char *s) {
        return !glob[0] || (s[0] && fnmatch(glob, s, 0) == 0);
}

/* Whether d passes the globs and the cloud; why says which not, when given. */
static bool passes(struct ctx *c, struct disk *d, bool tell) {
        const struct options *o = c->o;
        char label[160];

        disk_label(d, label, sizeof(label));
        if (!glob_matches(o->model, d->model)) {
                if (tell)
                        (void) say(c, 0, "%s has model '%s', which %s='%s' does not match", label, d->model,
                                   c->name(OPT_MODEL), o->model);
                return false;
        }
        if (!glob_matches(o->vendor, d->vendor)) {
                if (tell)
                        (void) say(c, 0, "%s has vendor '%s', which %s='%s' does not match", label, d->vendor,
                                   c->name(OPT_VENDOR), o->vendor);
                return false;
        }
        d->azure_resource = false;
        if (o->cloud != CLOUD_NONE && !cloud_disk_is_ephemeral(c->platform, c->sysfs, d, &d->azure_resource)) {
                if (tell)
                        (void) say(c, 0, "%s (model '%s') is not an ephemeral disk of %s (%s)", label, d->model,
                                   cloud_to_string(c->platform), cloud_disk_kinds(c->platform));
                return false;
        }
        return true;
}

static int add(struct ctx *c, const struct disk *d, const char *what) {
        struct disk_set *s = c->set;
        char label[160];

        for (unsigned i = 0; i < s->n; i++)
                if (s->disks[i].devno == d->devno) {
                        disk_label(d, label, sizeof(label));
                        return say(c, -ENOTUNIQ, "%s selects %s twice", what, label);
                }
        if (s->n >= OPTIONS_MAX_DISKS)
                return say(c, -E2BIG, "%s selects more than %u disks", what, OPTIONS_MAX_DISKS);
        s->disks[s->n++] = *d;
        return 0;
}

/* The device identifier sysfs shows for d: a namespace's wwid (EUI-64,
 * NGUID, UUID, or the kernel's "nvme.<vid>-<serial>-<model>-<nsid>"), a SCSI
 * disk's device/wwid (VPD page 0x83). "" when there is none. */
static void disk_wwid(const struct disk *d, char *buf, size_t n) {
        char path[PATH_MAX];

        buf[0] = '\0';
        if ((xsnprintf(path, sizeof(path), "%s/wwid", d->blockdir) == 0 && read_line(path, buf, n) == 0) ||
            (xsnprintf(path, sizeof(path), "%s/device/wwid", d->blockdir) == 0 && read_line(path, buf, n) == 0))
                return;
        buf[0] = '\0';
}

/* The namespace number of an NVMe namespace, from its name (nvme<c>n<ns>);
 * 0 when the name has none. */
static unsigned long nvme_ns(const struct disk *d) {
        const char *n = strrchr(d->name, 'n');

        return n && n != d->name && n[1] >= '0' && n[1] <= '9' ? strtoul(n + 1, NULL, 10) : 0;
}

/* Whether a and b are one disk seen through two paths: a SAN LUN as two
 * SCSI disks without multipath, one NVMe namespace under two controllers
 * with nvme_core.multipath=N. Their major:minor differ; the identity the
 * disk reports does not. An NVMe serial is the controller's, shared by its
 * namespaces, so there serial, model and namespace number together name
 * the disk. */
static bool same_disk(const struct disk *a, const struct disk *b, char *id, size_t n) {
        char wb[256];

        disk_wwid(a, id, n);
        disk_wwid(b, wb, sizeof(wb));
        if (id[0] && wb[0]) {
                if (strcmp(id, wb) != 0)
                        return false;
                memmove(id + 5, id, strnlen(id, n - 6) + 1);
                memcpy(id, "wwid ", 5);
                id[n - 1] = '\0';
                return true;
        }
        (void) snprintf(id, n, "serial %s", a->serial);
        if (!a->serial[0] || strcmp(a->serial, b->serial) != 0)
                return false;
        if (a->bus == BUS_NVME || b->bus == BUS_NVME)
                return a->bus == b->bus && strcmp(a->model, b->model) == 0 && nvme_ns(a) == nvme_ns(b);
        return true;
}

/* Refuses a set in which two members are one disk: striped with itself,
 * every chunk written twice at two offsets, the filesystem on it would be
 * corrupt from the first write. */
static int refuse_same_disk(struct ctx *c, const char *what) {
        const struct disk_set *s = c->set;
        char la[160], lb[160], id[256];

        for (unsigned i = 0; i < s->n; i++)
                for (unsigned k = i + 1; k < s->n; k++)
                        if (same_disk(&s->disks[i], &s->disks[k], id, sizeof(id))) {
                                disk_label(&s->disks[i], la, sizeof(la));
                                disk_label(&s->disks[k], lb, sizeof(lb));
                                return say(c, -ENOTUNIQ,
                                           "%s selects %s and %s, which are one disk seen through two paths "
                                           "(both %s); nothing was touched",
                                           what, la, lb, id);
                        }
        return 0;
}

static unsigned remaining(uint64_t deadline) {
        uint64_t t = now_ms();

        return t >= deadline ? 0 : (unsigned) (deadline - t);
}

/* The value of a list option as given, for messages. */
static void lun_list(const struct options *o, char *buf, size_t n) {
        buf[0] = '\0';
        for (unsigned i = 0; i < o->n_luns; i++) {
                char one[64];
                size_t k = strlen(buf);

                hctl_format(&o->luns[i], one, sizeof(one));
                (void) snprintf(buf + k, n - k, "%s%s", i ? "," : "", one);
        }
}

static void serial_list(const struct options *o, char *buf, size_t n) {
        buf[0] = '\0';
        for (unsigned i = 0; i < o->n_serials; i++) {
                size_t k = strlen(buf);

                (void) snprintf(buf + k, n - k, "%s%s", i ? "," : "", o->serials[i]);
        }
}

/* One disk waited for by sel; want names it in messages. */
static int wait_one(struct ctx *c, const struct selector *sel, const char *want, unsigned timeout_ms,
                    const char *serial_want, struct disk *d) {
        char amb[256], lun[64] = "";
        int r;

        /* Without rd.scratch.timeout= no disk is waited for that the
         * kernel says is not there: one given asks for a hot-plug. */
        r = sysfs_wait_selected(c->sysfs, sel, timeout_ms, !(c->o->set & (1u << OPT_TIMEOUT)), d, amb, sizeof(amb));
        if (sel->have_lun)
                hctl_format(&sel->lun, lun, sizeof(lun));
        if (r == -ENOENT)
                return say(c, r, "no disk at %s after %u ms", want, c->o->timeout_ms);
        if (r == -ENXIO)
                return say(c, r, "no disk at %s: every SCSI host has scanned for it (%s= waits for one added "
                           "later)", want, c->name(OPT_TIMEOUT));
        if (r == -ENODEV)
                return say(c, r, "the SCSI device at %s has no block device after %u ms", want, c->o->timeout_ms);
        if (r == -ENOTUNIQ)
                return say(c, r, "%s is ambiguous, it matches %s; %s", want, amb,
                           sel->have_lun ? "give H:C:T:L" : "serial numbers must be unique");
        if (r == -EMLINK)
                return say(c, r, "the SCSI device at %s has more than one block device", want);
        if (r == -EBADSLT)
                return say(c, r, "the disk at %s=%s carries serial %s, not %s", c->name(OPT_LUN), lun, amb,
                           serial_want);
        if (r < 0)
                return say(c, r, "cannot look up %s in %s: %s", want, c->sysfs, strerror(-r));
        return 0;
}

/* rd.scratch.lun= and rd.scratch.serial=: each listed disk, waited for. */
static int select_listed(struct ctx *c) {
        const struct options *o = c->o;
        uint64_t deadline = now_ms() + o->timeout_ms;
        char list[OPTIONS_MAX_VALUE * 2], want[sizeof(list) + 128];
        struct disk d;
        int r;

        /* One address and at most one serial: the disk at the address must
         * carry the serial, as ever. */
        if (o->n_luns == 1 && o->n_serials <= 1) {
                const struct selector sel = {
                        .have_lun = true,
                        .lun = o->luns[0],
                        .serial = o->n_serials ? o->serials[0] : NULL,
                };
                char lun[64];

                hctl_format(&o->luns[0], lun, sizeof(lun));
                (void) snprintf(want, sizeof(want), "%s=%s%s%s%s%s", c->name(OPT_LUN), lun, sel.serial ? " " : "",
                                sel.serial ? c->name(OPT_SERIAL) : "", sel.serial ? "=" : "",
                                sel.serial ? sel.serial : "");
                r = wait_one(c, &sel, want, o->timeout_ms, sel.serial, &d);
                return r < 0 ? r : add(c, &d, want);
        }
        if (o->n_luns > 0) {
                lun_list(o, list, sizeof(list));
                for (unsigned i = 0; i < o->n_luns; i++) {
                        const struct selector sel = { .have_lun = true, .lun = o->luns[i] };
                        char lun[64];

                        hctl_format(&o->luns[i], lun, sizeof(lun));
                        (void) snprintf(want, sizeof(want), "%s=%s (of %s)", c->name(OPT_LUN), lun, list);
                        r = wait_one(c, &sel, want, remaining(deadline), NULL, &d);
                        if (r < 0)
                                return r;
                        r = add(c, &d, want);
                        if (r < 0)
                                return r;
                }
                if (o->n_serials == 0)
                        return 0;
                /* Every disk at a listed address carries a listed serial,
                 * and every listed serial is on one of them. */
                serial_list(o, list, sizeof(list));
                for (unsigned i = 0; i < c->set->n; i++) {
                        const struct disk *m = &c->set->disks[i];
                        bool found = false;

                        for (unsigned k = 0; k < o->n_serials && !found; k++)
                                found = strcmp(m->serial, o->serials[k]) == 0;
                        if (!found)
                                return say(c, -EBADSLT, "the disk at %s (%s) carries serial %s, not one of %s=%s",
                                           m->hctl, m->name, m->serial[0] ? m->serial : "none", c->name(OPT_SERIAL),
                                           list);
                }
                for (unsigned k = 0; k < o->n_serials; k++) {
                        bool found = false;

                        for (unsigned i = 0; i < c->set->n && !found; i++)
                                found = strcmp(c->set->disks[i].serial, o->serials[k]) == 0;
                        if (!found) {
                                lun_list(o, want, sizeof(want));
                                return say(c, -EBADSLT, "serial %s is on none of the disks at %s=%s", o->serials[k],
                                           c->name(OPT_LUN), want);
                        }
                }
                return 0;
        }
        serial_list(o, list, sizeof(list));
        for (unsigned i = 0; i < o->n_serials; i++) {
                const struct selector sel = { .serial = o->serials[i] };

                if (o->n_serials == 1)
                        (void) snprintf(want, sizeof(want), "%s=%s", c->name(OPT_SERIAL), o->serials[i]);
                else
                        (void) snprintf(want, sizeof(want), "%s=%s (of %s)", c->name(OPT_SERIAL), o->serials[i],
                                        list);
                r = wait_one(c, &sel, want, remaining(deadline), NULL, &d);
                if (r < 0)
                        return r;
                r = add(c, &d, want);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int take_matching(const struct disk *d, void *userdata) {
        struct ctx *c = userdata;
        struct disk m = *d;

        if (!passes(c, &m, false))
                return 0;
        return add(c, &m, "the options");
}

/* Azure's own setup takes the SCSI resource disk only where there is no
 * local NVMe disk (azure-vm-utils, azure-ephemeral-disk-setup: "No local
 * NVMe disks detected, using SCSI resource disk"), and stripes the NVMe
 * disks alone: on sizes with both (Lsv3) the resource disk, NTFS and
 * slower, is left as it is. */
static void drop_resource_beside_nvme(struct disk_set *s) {
        unsigned k = 0;

        for (unsigned i = 0; i < s->n; i++)
                if (!s->disks[i].azure_resource)
                        s->disks[k++] = s->disks[i];
        if (k > 0)
                s->n = k;
}

/* What the globs and the cloud ask for, as words for messages. */
static void filters_text(const struct ctx *c, char *buf, size_t n) {
        const struct options *o = c->o;

        buf[0] = '\0';
        if (o->model[0])
                (void) snprintf(buf + strlen(buf), n - strlen(buf), "%s='%s'", c->name(OPT_MODEL), o->model);
        if (o->vendor[0])
                (void) snprintf(buf + strlen(buf), n - strlen(buf), "%s%s='%s'", buf[0] ? " " : "",
                                c->name(OPT_VENDOR), o->vendor);
        if (o->cloud != CLOUD_NONE)
                (void) snprintf(buf + strlen(buf), n - strlen(buf), "%s%s=%s", buf[0] ? " " : "", c->name(OPT_CLOUD),
                                cloud_to_string(o->cloud));
}

int select_disks(const char *sysfs, const struct options *o, const char *(*name)(unsigned opt),
                 struct disk_set *ret, char *why, size_t n) {
        struct ctx c = { .sysfs = sysfs, .o = o, .name = name, .set = ret, .why = why, .n = n };
        char filters[OPTIONS_MAX_GLOB * 2 + 128];
        int r;

        *ret = (struct disk_set) {};
        if (!options_select_disks(o))
                return say(&c, -ENOENT, "no disk selected: none of %s=, %s=, %s=, %s=, %s= is set", name(OPT_LUN),
                           name(OPT_SERIAL), name(OPT_MODEL), name(OPT_VENDOR), name(OPT_CLOUD));

        if (o->cloud == CLOUD_AUTO) {
                char seen[256];

                c.platform = cloud_detect(sysfs, seen, sizeof(seen));
                if (c.platform == CLOUD_NONE)
                        return say(&c, -ENOENT, "%s=auto: not a platform with ephemeral disks (azure, aws, gcp): %s",
                                   name(OPT_CLOUD), seen);
        } else
                c.platform = o->cloud;
        ret->platform = c.platform;

        if (o->have_lun || o->have_serial) {
                r = select_listed(&c);
                if (r < 0)
                        return r;
                for (unsigned i = 0; i < ret->n; i++)
                        if (!passes(&c, &ret->disks[i], true))
                                return -EBADSLT;
                return refuse_same_disk(&c, o->have_lun ? name(OPT_LUN) : name(OPT_SERIAL));
        }

        /* Globs and the cloud: what is there now. Cold-plugged disks are
         * there before the initrd runs, and a platform without ephemeral
         * disks must cost no wait. */
        r = sysfs_for_each_disk(sysfs, take_matching, &c);
        if (r == -E2BIG) {
                filters_text(&c, filters, sizeof(filters));
                return say(&c, r, "%s matches more than %u disks", filters, OPTIONS_MAX_DISKS);
        }
        if (r < 0)
                return say(&c, r, "cannot list the disks in %s/class/block: %s", sysfs, strerror(-r));
        if (o->cloud != CLOUD_NONE && c.platform == CLOUD_AZURE)
                drop_resource_beside_nvme(ret);
        if (ret->n == 0) {
                filters_text(&c, filters, sizeof(filters));
                if (o->cloud != CLOUD_NONE)
                        return say(&c, -ENOENT, "no disk matches %s: %s has none here (%s)", filters,
                                   cloud_to_string(c.platform), cloud_disk_kinds(c.platform));
                return say(&c, -ENOENT, "no disk matches %s", filters);
        }
        filters_text(&c, filters, sizeof(filters));
        return refuse_same_disk(&c, filters);
}

void disk_set_names(const struct disk_set *s, char *buf, size_t n) {
        if (n == 0)
                return;
        buf[0] = '\0';
        for (unsigned i = 0; i < s->n; i++) {
                size_t k = strlen(buf);

                (void) snprintf(buf + k, n - k, "%s%s", i ? "," : "", s->disks[i].name);
        }
}
