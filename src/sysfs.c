/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sysfs.h"

#include <ctype.h>
#include <dirent.h>
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

#include "macro.h"
#include "util.h"

/* How often a wait looks again at sysfs for a disk being hot-added: the
 * kernel announces it within a few milliseconds of the host adding it. */
#define SYSFS_POLL_MS 10u

/* "H:C:T:L" exactly, as the kernel names SCSI devices. Entries such as
 * "host0" and "target0:0:0" live in the same directory. */
static bool parse_sysfs_hctl(const char *name, struct hctl *ret) {
        struct hctl h;

        if (parse_hctl(name, &h) < 0 || h.lun_only)
                return false;
        *ret = h;
        return true;
}

static bool hctl_matches(const struct hctl *want, const struct hctl *have) {
        if (want->lun != have->lun)
                return false;
        if (want->lun_only)
                return true;
        return want->host == have->host && want->channel == have->channel && want->target == have->target;
}

/* Appends ", " (unless buf is empty) and the formatted text to buf: the
 * list of candidates an ambiguous search names. */
static void list_append(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void list_append(char *buf, size_t n, const char *fmt, ...) {
        size_t used;
        va_list ap;

        if (!buf || n == 0)
                return;
        used = strlen(buf);
        if (used > 0)
                (void) xsnprintf(buf + used, n - used, ", ");
        used = strlen(buf);
        va_start(ap, fmt);
        (void) vsnprintf(buf + used, n - used, fmt, ap);
        va_end(ap);
}

/* Opens sysfs/sub, whose path is left in path; -ENOENT when it is not
 * there. The list of candidates starts empty. */
static int open_listing(const char *sysfs, const char *sub, char *path, size_t n, DIR **ret, char *ambiguous,
                        size_t amb_n) {
        if (xsnprintf(path, n, "%s/%s", sysfs, sub) < 0)
                return -ENAMETOOLONG;
        *ret = opendir(path);
        if (!*ret)
                return errno == ENOENT ? -ENOENT : -errno;
        if (ambiguous && amb_n)
                ambiguous[0] = '\0';
        return 0;
}

/* Searches the entries of sysfs/sub for the one disk that match() takes,
 * with what it fills in: -ENOENT when none is, -ENOTUNIQ when more are,
 * each then named in ambiguous. ret is set only on success. */
static int find_one(const char *sysfs, const char *sub,
                    bool (*match)(const char *sysfs, const char *name, const void *want, struct disk *ret),
                    const void *want, struct disk *ret, char *ambiguous, size_t n) {
        _cleanup_closedir_ DIR *d = NULL;
        char path[PATH_MAX];
        struct dirent *de;
        struct disk found = {};
        unsigned matches = 0;
        int r;

        r = open_listing(sysfs, sub, path, sizeof(path), &d, ambiguous, n);
        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                struct disk disk = {};
                bool both;

                if (!match(sysfs, de->d_name, want, &disk))
                        continue;
                matches++;
                /* "sdb (0:0:0:1)", or what the disk has of the two. */
                both = disk.name[0] && disk.hctl[0];
                list_append(ambiguous, n, "%s%s%s%s", disk.name, both ? " (" : "", disk.hctl, both ? ")" : "");
                found = disk;
        }
        if (matches == 0)
                return -ENOENT;
        if (matches > 1)
                return -ENOTUNIQ;
        *ret = found;
        return 0;
}

static int block_of(const char *devdir, struct disk *ret) {
        _cleanup_closedir_ DIR *d = NULL;
        char path[PATH_MAX];
        struct dirent *de;
        int r, found = 0;

        r = xsnprintf(path, sizeof(path), "%s/block", devdir);
        if (r < 0)
                return r;
        r = -ENODEV;            /* block/ without an entry */
        d = opendir(path);
        if (!d)
                return errno == ENOENT ? -ENODEV : -errno;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (++found > 1) {
                        r = -EMLINK;
                        break;
                }
                if (strlen(de->d_name) >= sizeof(ret->name)) {
                        r = -ENAMETOOLONG;
                        break;
                }
                strcpy(ret->name, de->d_name);
                r = xsnprintf(ret->blockdir, sizeof(ret->blockdir), "%s/%s", path, de->d_name);
                if (r < 0)
                        break;
        }
        if (r < 0)
                return r;

        r = xsnprintf(path, sizeof(path), "%s/dev", ret->blockdir);
        if (r < 0)
                return r;
        r = read_devno(path, &ret->devno);
        /* The directory shows up before its attributes are complete. */
        return r == -ENOENT ? -ENODEV : r;
}

/* The matcher of sysfs_find_disk: a SCSI device named by an address that
 * want matches. The block device is found for the one match only. */
static bool match_hctl(const char *sysfs, const char *name, const void *want, struct disk *ret) {
        struct hctl have;

        (void) sysfs;
        if (!parse_sysfs_hctl(name, &have) || !hctl_matches(want, &have))
                return false;
        (void) xsnprintf(ret->hctl, sizeof(ret->hctl), "%s", name);
        return true;
}

int sysfs_find_disk(const char *sysfs, const struct hctl *want, struct disk *ret,
                    char *ambiguous, size_t n) {
        struct disk disk = {};
        char devdir[PATH_MAX];
        int r;

        r = find_one(sysfs, "bus/scsi/devices", match_hctl, want, &disk, ambiguous, n);
        if (r < 0)
                return r;
        r = xsnprintf(devdir, sizeof(devdir), "%s/bus/scsi/devices/%s", sysfs, disk.hctl);
        if (r < 0)
                return r;
        r = block_of(devdir, &disk);
        if (r < 0)
                return r;
        sysfs_disk_identify(&disk, devdir);
        *ret = disk;
        return 0;
}

/* Trims the blanks and NULs that SCSI pads serial numbers with. */
static void trim(char *s) {
        size_t len = strlen(s), start = 0;

        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\n'))
                s[--len] = '\0';
        while (s[start] == ' ')
                start++;
        memmove(s, s + start, len - start + 1);
}

/* A text attribute at path, trimmed: -ENOENT when absent or blank,
 * -EBADMSG when it holds an unprintable byte. */
static int read_text_attr(const char *path, char *buf, size_t n) {
        if (read_line(path, buf, n) < 0)
                return -ENOENT;
        for (char *c = buf; *c; c++)
                if (!isprint((unsigned char) *c))
                        return -EBADMSG;
        trim(buf);
        return buf[0] ? 0 : -ENOENT;
}

/* The kernel names NVMe namespaces nvme<ctrl>n<ns> (nvme<subsys>c<ctrl>n<ns>
 * for a path hidden behind native multipath). */
static bool is_nvme_name(const char *name) {
        return strncmp(name, "nvme", 4) == 0 && name[4] >= '0' && name[4] <= '9';
}

int sysfs_disk_serial(const struct disk *d, char *buf, size_t n) {
        _cleanup_close_ int fd = -1;
        char path[PATH_MAX];
        unsigned char vpd[512];
        ssize_t k;
        size_t len;

        if (n == 0)
                return -EINVAL;
        /* VPD page 0x80: a 4-byte header whose last two bytes are the length. */
        if (xsnprintf(path, sizeof(path), "%s/device/vpd_pg80", d->blockdir) < 0)
                return -ENAMETOOLONG;
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                k = read(fd, vpd, sizeof(vpd));
                if (k < 4 || vpd[1] != 0x80)
                        return -EBADMSG;
                len = ((size_t) vpd[2] << 8) | vpd[3];
                if (len > (size_t) k - 4)
                        return -EBADMSG;
                for (size_t i = 0; i < len; i++)
                        if (vpd[4 + i] != '\0' && !isprint(vpd[4 + i]))
                                return -EBADMSG;
                if (len >= n)
                        return -E2BIG;
                memcpy(buf, vpd + 4, len);
                buf[len] = '\0';
                /* embedded NULs end the serial */
                trim(buf);
                return buf[0] ? 0 : -ENOENT;
        }
        /* NVMe: the serial is the controller's (identify controller SN, blank
         * padded), in the directory the namespace's device link points to:
         * the controller, or the subsystem under native multipath. */
        if (is_nvme_name(d->name)) {
                if (xsnprintf(path, sizeof(path), "%s/device/serial", d->blockdir) < 0)
                        return -ENAMETOOLONG;
                return read_text_attr(path, buf, n);
        }
        if (xsnprintf(path, sizeof(path), "%s/serial", d->blockdir) < 0)
                return -ENAMETOOLONG;
        return read_text_attr(path, buf, n);
}

static const char *const bus_names[] = {
        [BUS_SCSI] = "scsi",
        [BUS_VIRTIO] = "virtio",
        [BUS_NVME] = "nvme",
        [BUS_OTHER] = "other",
};

const char *disk_bus_to_string(enum disk_bus b) {
        return TABLE_STRING(bus_names, b);
}

/* The bus from what sysfs shows: a SCSI address, a virtio device
 * ("virtio<N>", which virtio-blk disks hang off), an NVMe namespace. */
static enum disk_bus bus_of(const struct disk *d, const char *devdir) {
        char link[PATH_MAX];
        struct hctl h;

        if (d->hctl[0])
                return BUS_SCSI;
        if (is_nvme_name(d->name))
                return BUS_NVME;
        if (realpath(devdir, link)) {
                const char *base = strrchr(link, '/');
                unsigned k;
                char tail;

                base = base ? base + 1 : link;
                if (parse_sysfs_hctl(base, &h))
                        return BUS_SCSI;
                if (sscanf(base, "virtio%u%c", &k, &tail) == 1)
                        return BUS_VIRTIO;
        }
        return BUS_OTHER;
}

void sysfs_disk_identify(struct disk *d, const char *devdir) {
        char dev[PATH_MAX], path[PATH_MAX];

        d->model[0] = d->vendor[0] = d->serial[0] = '\0';
        if (devdir)
                (void) xsnprintf(dev, sizeof(dev), "%s", devdir);
        else if (xsnprintf(dev, sizeof(dev), "%s/device", d->blockdir) < 0)
                dev[0] = '\0';
        d->bus = bus_of(d, dev);

        /* SCSI: INQUIRY's vendor (8 bytes) and product (16 bytes), blank
         * padded. NVMe: the controller's model number (40 bytes, blank
         * padded); NVMe has no vendor string. virtio-blk: neither. */
        if (d->bus == BUS_SCSI && xsnprintf(path, sizeof(path), "%s/vendor", dev) == 0 &&
            read_text_attr(path, d->vendor, sizeof(d->vendor)) < 0)
                d->vendor[0] = '\0';
        if ((d->bus == BUS_SCSI || d->bus == BUS_NVME) && xsnprintf(path, sizeof(path), "%s/model", dev) == 0 &&
            read_text_attr(path, d->model, sizeof(d->model)) < 0)
                d->model[0] = '\0';
        if (sysfs_disk_serial(d, d->serial, sizeof(d->serial)) < 0)
                d->serial[0] = '\0';
}

/* A whole disk under class/block: its address when it is a SCSI disk. */
static int disk_from_class(const char *sysfs, const char *name, struct disk *ret) {
        struct disk d = {};
        char path[PATH_MAX], link[PATH_MAX];
        struct hctl h;
        int r;

        if (strlen(name) >= sizeof(d.name))
                return -ENAMETOOLONG;
        strcpy(d.name, name);
        if (xsnprintf(d.blockdir, sizeof(d.blockdir), "%s/class/block/%s", sysfs, name) < 0 ||
            xsnprintf(path, sizeof(path), "%s/partition", d.blockdir) < 0)
                return -ENAMETOOLONG;
        if (access(path, F_OK) == 0)
                return -EISDIR; /* a partition */
        (void) xsnprintf(path, sizeof(path), "%s/dev", d.blockdir);
        r = read_devno(path, &d.devno);
        if (r < 0)
                return r;
        (void) xsnprintf(path, sizeof(path), "%s/device", d.blockdir);
        if (realpath(path, link)) {
                const char *base;

                base = strrchr(link, '/');
                base = base ? base + 1 : link;
                if (parse_sysfs_hctl(base, &h) && strlen(base) < sizeof(d.hctl))
                        strcpy(d.hctl, base);
        }
        sysfs_disk_identify(&d, NULL);
        *ret = d;
        return 0;
}

/* The matcher of sysfs_find_serial: a disk of class/block whose serial
 * number is want. */
static bool match_serial(const char *sysfs, const char *name, const void *want, struct disk *ret) {
        char s[OPTIONS_MAX_SERIAL * 4];

        if (name[0] == '.')
                return false;
        if (disk_from_class(sysfs, name, ret) < 0)
                return false;
        return sysfs_disk_serial(ret, s, sizeof(s)) == 0 && strcmp(s, want) == 0;
}

int sysfs_find_serial(const char *sysfs, const char *serial, struct disk *ret, char *ambiguous, size_t n) {
        return find_one(sysfs, "class/block", match_serial, serial, ret, ambiguous, n);
}

static int select_entry(const struct dirent *de) {
        return de->d_name[0] != '.';
}

int sysfs_for_each_disk(const char *sysfs, int (*fn)(const struct disk *d, void *userdata), void *userdata) {
        struct dirent **list = NULL;
        char path[PATH_MAX];
        int n, r = 0;

        if (xsnprintf(path, sizeof(path), "%s/class/block", sysfs) < 0)
                return -ENAMETOOLONG;
        n = scandir(path, &list, select_entry, versionsort);
        if (n < 0)
                return errno == ENOENT ? 0 : -errno;
        for (int i = 0; i < n; i++) {
                struct disk d;

                /* nvme<S>c<C>n<N>: one path of a multipath namespace, hidden
                 * behind nvme<S>n<N>. */
                if (r >= 0 && disk_from_class(sysfs, list[i]->d_name, &d) == 0 && d.bus != BUS_OTHER &&
                    !(d.bus == BUS_NVME && strchr(d.name + 4, 'c')))
                        r = fn(&d, userdata);
                free(list[i]);
        }
        free(list);
        return r < 0 ? r : 0;
}

static int find_selected(const char *sysfs, const struct selector *sel, struct disk *ret, char *ambiguous,
                         size_t n) {
        char s[OPTIONS_MAX_SERIAL * 4];
        int r;

        if (!sel->have_lun)
                return sysfs_find_serial(sysfs, sel->serial, ret, ambiguous, n);
        r = sysfs_find_disk(sysfs, &sel->lun, ret, ambiguous, n);
        if (r < 0 || !sel->serial)
                return r;
        r = sysfs_disk_serial(ret, s, sizeof(s));
        if (r == 0 && strcmp(s, sel->serial) == 0)
                return 0;
        if (ambiguous && n)
                (void) snprintf(ambiguous, n, "%s", r == 0 ? s : "none");
        return -EBADSLT;
}

/* Whether the device at dir (an entry of BUS/devices) is a SCSI controller:
 * a PCI SCSI, RAID or SAS function (class 0x0100xx, 0x0104xx, 0x0107xx;
 * virtio's SCSI function is 0x010000), or a virtio SCSI device (0x0008). */
static bool is_scsi_controller(const char *bus, const char *dir) {
        char path[PATH_MAX], v[32];

        if (strcmp(bus, "pci") == 0)
                return xsnprintf(path, sizeof(path), "%s/class", dir) == 0 && read_line(path, v, sizeof(v)) == 0 &&
                       strlen(v) == 8 && (strncmp(v, "0x0100", 6) == 0 || strncmp(v, "0x0104", 6) == 0 ||
                                          strncmp(v, "0x0107", 6) == 0);
        return xsnprintf(path, sizeof(path), "%s/device", dir) == 0 && read_line(path, v, sizeof(v)) == 0 &&
               strcmp(v, "0x0008") == 0;
}

int sysfs_scsi_controllers_unbound(const char *sysfs, char *first, size_t n) {
        static const char *const buses[] = { "pci", "virtio" };
        int count = 0;

        if (first && n)
                first[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(buses); i++) {
                _cleanup_closedir_ DIR *d = NULL;
                char dir[PATH_MAX];
                struct dirent *de;

                if (xsnprintf(dir, sizeof(dir), "%s/bus/%s/devices", sysfs, buses[i]) < 0)
                        return -ENAMETOOLONG;
                d = opendir(dir);
                if (!d)
                        continue;
                while ((de = readdir(d))) {
                        char dev[PATH_MAX], drv[PATH_MAX + 8];

                        if (de->d_name[0] == '.' || xsnprintf(dev, sizeof(dev), "%s/%s", dir, de->d_name) < 0 ||
                            !is_scsi_controller(buses[i], dev))
                                continue;
                        if (xsnprintf(drv, sizeof(drv), "%s/driver", dev) < 0 || access(drv, F_OK) == 0)
                                continue;
                        if (count++ == 0 && first && n)
                                (void) snprintf(first, n, "%s %s", buses[i], de->d_name);
                }
        }
        return count;
}

/* Writes "CHANNEL TARGET LUN" to the host's scan file: 0 when the host
 * took it. EINVAL: the address is beyond what the host has, so it holds no
 * such LUN; that is an answer too. */
static int scan_one_address(const char *scanfile, unsigned channel, unsigned target, uint64_t lun) {
        _cleanup_close_ int fd = -1;
        char what[96];
        int k;

        k = snprintf(what, sizeof(what), "%u %u %" PRIu64 "\n", channel, target, lun);
        fd = open(scanfile, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (write(fd, what, (size_t) k) < 0 && errno != EINVAL)
                return -errno;
        return 0;
}

/* The next entry of a host's device directory d that names one of the
 * host's targets; false at the end (or without d). */
static bool next_target(DIR *d, unsigned host, unsigned *ret_channel, unsigned *ret_target) {
        struct dirent *de;

        while (d && (de = readdir(d))) {
                unsigned h, c, t;

                if (sscanf(de->d_name, "target%u:%u:%u", &h, &c, &t) == 3 && h == host) {
                        *ret_channel = c;
                        *ret_target = t;
                        return true;
                }
        }
        return false;
}

/* Whether sysfs shows a target under the host: its first scan's finds are
 * there. A host scanned asynchronously adds what its scan found to sysfs
 * only at the end, holding its scan lock throughout, so a request written
 * to its scan file that has returned while a target shows came after all of
 * them. */
static bool host_shows_targets(const char *devdir, unsigned host) {
        _cleanup_closedir_ DIR *d = opendir(devdir);
        unsigned c, t;

        return next_target(d, host, &c, &t);
}

/* One host: its targets as sysfs shows them (the host's own scan found
 * them); a bare LUN is asked of each, or of target 0 when none shows yet,
 * which still waits for the host's scan. Every id of a host would be 256
 * probes on virtio-scsi, seconds under emulation. 1 when the host has
 * answered and shows what its first scan found, 0 when it shows nothing
 * (its scan may not have added its finds yet: no answer), -errno. */
static int scan_host(const char *dir, const char *host_name, unsigned host, const struct hctl *want) {
        _cleanup_closedir_ DIR *d = NULL;
        char scanfile[PATH_MAX], devdir[PATH_MAX];
        unsigned c, t;
        bool any = false;
        int r;

        if (xsnprintf(scanfile, sizeof(scanfile), "%s/%s/scan", dir, host_name) < 0 ||
            xsnprintf(devdir, sizeof(devdir), "%s/%s/device", dir, host_name) < 0)
                return -ENAMETOOLONG;
        if (!want->lun_only)
                r = scan_one_address(scanfile, want->channel, want->target, want->lun);
        else {
                d = opendir(devdir);
                while (next_target(d, host, &c, &t))
                        if (scan_one_address(scanfile, c, t, want->lun) == 0)
                                any = true;
                r = any ? 0 : scan_one_address(scanfile, 0, 0, want->lun);
        }
        if (r < 0)
                return r;
        return host_shows_targets(devdir, host) ? 1 : 0;
}

int sysfs_scsi_scan(const char *sysfs, const struct hctl *want) {
        _cleanup_closedir_ DIR *d = NULL;
        char dir[PATH_MAX];
        struct dirent *de;
        int asked = 0;
        bool silent = false;

        if (xsnprintf(dir, sizeof(dir), "%s/class/scsi_host", sysfs) < 0)
                return -ENAMETOOLONG;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                unsigned host;
                int r;

                if (sscanf(de->d_name, "host%u", &host) != 1 || (!want->lun_only && host != want->host))
                        continue;
                r = scan_host(dir, de->d_name, host, want);
                if (r > 0)
                        asked++;
                else if (r == 0)
                        silent = true;
        }
        return silent ? -EAGAIN : asked;
}

int sysfs_wait_selected(const char *sysfs, const struct selector *sel, unsigned timeout_ms, bool settle,
                        struct disk *ret, char *ambiguous, size_t n) {
        uint64_t deadline = now_ms() + timeout_ms;
        unsigned scans = 0;

        for (;;) {
                int r = find_selected(sysfs, sel, ret, ambiguous, n);

                if (r != -ENOENT && r != -ENODEV)
                        return r;
                /* The kernel's own word that the LUN is not there: every
                 * SCSI controller has its driver, and every host, asked to
                 * scan for it, has done so and shows what its own first
                 * scan found (sysfs_scsi_scan()), twice. Without any SCSI
                 * host the timeout decides, as it does while a controller
                 * has no driver or a host shows nothing yet. */
                if (settle && sel->have_lun && r == -ENOENT && scans < 3 &&
                    sysfs_scsi_controllers_unbound(sysfs, NULL, 0) == 0) {
                        int k;

                        if (scans == 2)
                                return -ENXIO;
                        k = sysfs_scsi_scan(sysfs, &sel->lun);
                        if (k > 0) {
                                scans++;
                                continue;
                        }
                        /* No host at all: nothing the kernel can say. A
                         * host that shows nothing yet: asked again later. */
                        scans = k == -EAGAIN ? 0 : 3;
                }
                if (now_ms() >= deadline)
                        return r;
                sleep_ms(SYSFS_POLL_MS);
        }
}

/* The first entry of dir (a holders/ directory) into buf: "" when it is
 * empty or absent. */
static int first_entry(const char *dir, char *buf, size_t n) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        buf[0] = '\0';
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.') {
                        (void) xsnprintf(buf, n, "%s", de->d_name);
                        break;
                }
        return 0;
}

/* dir/name/attr as a path. */
static int attr_path(char *path, size_t n, const char *dir, const char *name, const char *attr) {
        return name ? xsnprintf(path, n, "%s/%s/%s", dir, name, attr) : xsnprintf(path, n, "%s/%s", dir, attr);
}

/* The attribute of the disk (name NULL) or of its partition name, as a number. */
static int read_attr(const char *dir, const char *name, const char *attr, uint64_t *ret) {
        char path[PATH_MAX];
        int r;

        r = attr_path(path, sizeof(path), dir, name, attr);
        if (r < 0)
                return r;
        return read_u64(path, ret);
}

static bool has_attr(const char *dir, const char *name, const char *attr) {
        char path[PATH_MAX];

        return attr_path(path, sizeof(path), dir, name, attr) == 0 && access(path, F_OK) == 0;
}

/* The partitions of the disk, and the first holder of the disk or, failing
 * that, of one of its partitions. */
static int scan_parts(const char *blockdir, struct disk_attrs *a) {
        _cleanup_closedir_ DIR *d = NULL;
        char path[PATH_MAX];
        struct dirent *de;
        int r;

        d = opendir(blockdir);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                dev_t pdev;

                if (de->d_name[0] == '.' || !has_attr(blockdir, de->d_name, "partition"))
                        continue;
                if (attr_path(path, sizeof(path), blockdir, de->d_name, "dev") < 0 || read_devno(path, &pdev) < 0)
                        continue;
                if (a->n_parts < SYSFS_MAX_PARTS)
                        a->parts[a->n_parts] = pdev;
                a->n_parts++;
                if (a->holder[0])
                        continue;
                r = attr_path(path, sizeof(path), blockdir, de->d_name, "holders");
                if (r == 0)
                        (void) first_entry(path, a->holder, sizeof(a->holder));
        }
        return 0;
}

int sysfs_disk_attrs(const struct disk *disk, struct disk_attrs *ret) {
        struct disk_attrs a = {};
        char path[PATH_MAX];
        uint64_t v;
        int r;

        a.is_partition = has_attr(disk->blockdir, NULL, "partition");

        r = read_attr(disk->blockdir, NULL, "ro", &v);
        if (r < 0)
                return r;
        a.read_only = v != 0;
        a.removable = read_attr(disk->blockdir, NULL, "removable", &v) == 0 && v != 0;
        /* 0 in discard_max_bytes: the kernel refuses every discard (ext4
         * then drops the mount option itself). */
        a.discards = read_attr(disk->blockdir, NULL, "queue/discard_max_bytes", &v) == 0 && v > 0;

        r = read_attr(disk->blockdir, NULL, "size", &v);
        if (r < 0)
                return r;
        /* sysfs counts 512-byte sectors whatever the logical block size. */
        if (v > UINT64_MAX / 512)
                return -ERANGE;
        a.size_bytes = v * 512;

        r = attr_path(path, sizeof(path), disk->blockdir, NULL, "holders");
        if (r < 0)
                return r;
        r = first_entry(path, a.holder, sizeof(a.holder));
        if (r < 0)
                return r;
        r = scan_parts(disk->blockdir, &a);
        if (r < 0)
                return r;

        *ret = a;
        return 0;
}

static int set_add(dev_t dev, dev_t *set, unsigned *n, unsigned max) {
        for (unsigned i = 0; i < *n; i++)
                if (set[i] == dev)
                        return 0;
        if (*n >= max)
                return -E2BIG;
        set[(*n)++] = dev;
        return 0;
}

static int backing_of_dir(const char *dir, dev_t *set, unsigned *n, unsigned max, unsigned depth);

/* The device whose sysfs directory is dir is one the disk is built on, and
 * so are those it is built on. */
static int add_backing(const char *dir, dev_t *set, unsigned *n, unsigned max, unsigned depth) {
        char path[PATH_MAX];
        dev_t dev;
        int r;

        if (xsnprintf(path, sizeof(path), "%s/dev", dir) < 0)
                return -ENAMETOOLONG;
        r = read_devno(path, &dev);
        if (r < 0)
                return r;
        r = set_add(dev, set, n, max);
        if (r < 0)
                return r;
        return backing_of_dir(dir, set, n, max, depth);
}

static int backing_of_dir(const char *dir, dev_t *set, unsigned *n, unsigned max, unsigned depth) {
        _cleanup_closedir_ DIR *d = NULL;
        char path[PATH_MAX];
        struct dirent *de;
        int r;

        if (depth > 8)
                return -ELOOP;

        /* A partition's directory sits inside its disk's, and that disk may
         * itself be built on others (a partitioned md array). */
        if (xsnprintf(path, sizeof(path), "%s/partition", dir) < 0)
                return -ENAMETOOLONG;
        if (access(path, F_OK) == 0) {
                (void) xsnprintf(path, sizeof(path), "%s/..", dir);
                r = add_backing(path, set, n, max, depth + 1);
                if (r < 0)
                        return r;
        }

        if (xsnprintf(path, sizeof(path), "%s/slaves", dir) < 0)
                return -ENAMETOOLONG;
        d = opendir(path);
        if (!d)
                return 0;
        while ((de = readdir(d))) {
                char sub[PATH_MAX];

                if (de->d_name[0] == '.')
                        continue;
                if (xsnprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) < 0)
                        return -ENAMETOOLONG;
                r = add_backing(sub, set, n, max, depth + 1);
                if (r < 0)
                        return r;
        }
        return 0;
}

int sysfs_backing_devs(const char *sysfs, dev_t dev, dev_t *set, unsigned *n, unsigned max) {
        char dir[PATH_MAX];
        struct stat st;
        int r;

        r = set_add(dev, set, n, max);
        if (r < 0)
                return r;
        r = xsnprintf(dir, sizeof(dir), "%s/dev/block/%u:%u", sysfs, major(dev), minor(dev));
        if (r < 0)
                return r;
        if (stat(dir, &st) < 0)
                return -errno;
        return backing_of_dir(dir, set, n, max, 0);
}

