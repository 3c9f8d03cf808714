/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SCSI disk lookup, disk attributes, backing devices, and disks by serial
 * number (the SCSI unit serial number in VPD page 0x80, virtio-blk's serial
 * attribute, the search over class/block, the selection by address and
 * serial together), against fake sysfs trees built at run time with the
 * kernel's layout: bus/scsi/devices/H:C:T:L, dev/block/M:m and
 * class/block/NAME are relative symlinks into devices/. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "sysfs.h"
#include "util.h"

/* ---- tree building ------------------------------------------------------ */

#define SCSI_HOSTS "devices/pci0000:00/0000:00:04.0/virtio1"

enum block_kind {
        BLOCK_NONE,             /* no block/ directory at all */
        BLOCK_EMPTY,            /* block/ without an entry */
        BLOCK_NO_DEV,           /* block/<name> without its dev attribute */
        BLOCK_OK,
        BLOCK_TWO,              /* two entries in block/ */
};

/* The SCSI device H:C:T:L below the controller's directory hosts (relative
 * to sys; the hostH directories go in it) with, depending on kind,
 * block/<name> numbered maj:min. The bus/scsi/devices link is made last, as
 * the kernel announces a device once it is complete. Returns the block dir
 * relative to sys. */
static void scsi_device_at(const char *sys, const char *hosts, const char *hctl, const char *name, unsigned maj,
                           unsigned min, enum block_kind kind, char *blockdir_rel, size_t n) {
        unsigned h, c, t;
        char dev[PATH_MAX], p[PATH_MAX], v[PATH_MAX];

        if (sscanf(hctl, "%u:%u:%u:", &h, &c, &t) != 3)
                bail("bad address %s", hctl);
        xfmt(dev, sizeof(dev), "%s/host%u/target%u:%u:%u/%s", hosts, h, h, c, t, hctl);
        mkd(sys, dev);
        xfmt(p, sizeof(p), "%s/vendor", dev);
        put(sys, p, "QEMU    \n");

        if (blockdir_rel && n)
                blockdir_rel[0] = '\0';
        if (kind != BLOCK_NONE) {
                xfmt(p, sizeof(p), "%s/block", dev);
                mkd(sys, p);
        }
        if (kind == BLOCK_NO_DEV || kind == BLOCK_OK || kind == BLOCK_TWO) {
                xfmt(p, sizeof(p), "%s/block/%s/holders", dev, name);
                mkd(sys, p);
                xfmt(p, sizeof(p), "%s/block/%s/queue", dev, name);
                mkd(sys, p);
                xfmt(p, sizeof(p), "%s/block/%s/size", dev, name);
                put(sys, p, "2097152\n");
                xfmt(p, sizeof(p), "%s/block/%s/ro", dev, name);
                put(sys, p, "0\n");
                xfmt(p, sizeof(p), "%s/block/%s/removable", dev, name);
                put(sys, p, "0\n");
                if (blockdir_rel && n)
                        xfmt(blockdir_rel, n, "%s/block/%s", dev, name);
        }
        if (kind == BLOCK_OK || kind == BLOCK_TWO) {
                xfmt(p, sizeof(p), "%s/block/%s/dev", dev, name);
                xfmt(v, sizeof(v), "%u:%u\n", maj, min);
                put(sys, p, v);
                xfmt(p, sizeof(p), "dev/block/%u:%u", maj, min);
                xfmt(v, sizeof(v), "%s/block/%s", dev, name);
                lnk(sys, p, v);
        }
        if (kind == BLOCK_TWO) {
                xfmt(p, sizeof(p), "%s/block/%sx/dev", dev, name);
                xfmt(v, sizeof(v), "%u:%u\n", maj, min + 1);
                put(sys, p, v);
        }

        /* The neighbours that share the directory with the devices. */
        {
                char full[PATH_MAX + 8];
                struct stat st;

                xfmt(p, sizeof(p), "bus/scsi/devices/host%u", h);
                xfmt(v, sizeof(v), "%s/host%u", hosts, h);
                xfmt(full, sizeof(full), "%s/%s", sys, p);
                if (lstat(full, &st) < 0)
                        lnk(sys, p, v);
                xfmt(p, sizeof(p), "bus/scsi/devices/target%u:%u:%u", h, c, t);
                xfmt(v, sizeof(v), "%s/host%u/target%u:%u:%u", hosts, h, h, c, t);
                xfmt(full, sizeof(full), "%s/%s", sys, p);
                if (lstat(full, &st) < 0)
                        lnk(sys, p, v);
        }

        xfmt(p, sizeof(p), "bus/scsi/devices/%s", hctl);
        lnk(sys, p, dev);
}

/* The same on the virtio-scsi controller SCSI_HOSTS. */
static void scsi_device(const char *sys, const char *hctl, const char *name, unsigned maj, unsigned min,
                        enum block_kind kind, char *blockdir_rel, size_t n) {
        scsi_device_at(sys, SCSI_HOSTS, hctl, name, maj, min, kind, blockdir_rel, n);
}

static struct hctl lun_only(uint64_t lun) {
        return (struct hctl) { .lun = lun, .lun_only = true };
}

static struct hctl full(unsigned h, unsigned c, unsigned t, uint64_t l) {
        return (struct hctl) { .host = h, .channel = c, .target = t, .lun = l };
}

static bool ends_with(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- sysfs_find_disk ---------------------------------------------------- */

static void test_find_single(void) {
        char sys[PATH_MAX], amb[256], p[PATH_MAX + 8];
        struct disk d;
        struct hctl w;
        int r;

        new_dir("single", sys);
        scsi_device(sys, "0:0:0:0", "sda", 8, 0, BLOCK_OK, NULL, 0);
        scsi_device(sys, "0:0:0:1", "sdb", 8, 16, BLOCK_OK, NULL, 0);

        memset(&d, 0, sizeof(d));
        w = lun_only(1);
        r = sysfs_find_disk(sys, &w, &d, amb, sizeof(amb));
        check_err(r, 0, "bare lun 1, only on host 0: found");
        check_str(d.hctl, "0:0:0:1", "bare lun 1: hctl 0:0:0:1");
        check_str(d.name, "sdb", "bare lun 1: name sdb");
        check(d.devno == makedev(8, 16), "bare lun 1: devno 8:16 (got %u:%u)", major(d.devno), minor(d.devno));
        check(ends_with(d.blockdir, "/0:0:0:1/block/sdb"), "bare lun 1: blockdir ends in 0:0:0:1/block/sdb (%s)",
              d.blockdir);
        xfmt(p, sizeof(p), "%s/dev", d.blockdir);
        check(access(p, R_OK) == 0, "bare lun 1: blockdir/dev exists");
        check(strncmp(d.blockdir, sys, strlen(sys)) == 0, "bare lun 1: blockdir is under the given sysfs");

        memset(&d, 0, sizeof(d));
        w = lun_only(0);
        r = sysfs_find_disk(sys, &w, &d, amb, sizeof(amb));
        check(r == 0 && strcmp(d.name, "sda") == 0 && strcmp(d.hctl, "0:0:0:0") == 0 && d.devno == makedev(8, 0),
              "bare lun 0: sda at 0:0:0:0, 8:0");

        memset(&d, 0, sizeof(d));
        w = full(0, 0, 0, 1);
        r = sysfs_find_disk(sys, &w, &d, amb, sizeof(amb));
        check(r == 0 && strcmp(d.name, "sdb") == 0 && d.devno == makedev(8, 16), "0:0:0:1: sdb, 8:16");

        w = lun_only(1);
        r = sysfs_find_disk(sys, &w, &d, NULL, 0);
        check_err(r, 0, "bare lun 1 without an ambiguous buffer: found");
}

static void test_find_two_hosts(void) {
        char sys[PATH_MAX], amb[256], small[12];
        struct disk d;
        struct hctl w;
        int r;

        new_dir("twohosts", sys);
        scsi_device(sys, "0:0:0:1", "sdb", 8, 16, BLOCK_OK, NULL, 0);
        scsi_device(sys, "2:0:3:1", "sdc", 8, 32, BLOCK_OK, NULL, 0);
        scsi_device(sys, "2:0:3:0", "sdd", 8, 48, BLOCK_OK, NULL, 0);

        memset(&d, 0, sizeof(d));
        memset(amb, 'x', sizeof(amb));
        w = lun_only(1);
        r = sysfs_find_disk(sys, &w, &d, amb, sizeof(amb));
        check_err(r, -ENOTUNIQ, "bare lun 1 on hosts 0 and 2: -ENOTUNIQ");
        check(memchr(amb, '\0', sizeof(amb)) != NULL, "ambiguous: NUL-terminated");
        check_has(amb, "0:0:0:1", "ambiguous lists 0:0:0:1");
        check_has(amb, "2:0:3:1", "ambiguous lists 2:0:3:1");
        check(!strstr(amb, "2:0:3:0"), "ambiguous does not list 2:0:3:0 (%s)", amb);
        check(!strstr(amb, "host") && !strstr(amb, "target"), "ambiguous lists no host or target entry (%s)", amb);

        memset(small, 'x', sizeof(small));
        r = sysfs_find_disk(sys, &w, &d, small, sizeof(small));
        check_err(r, -ENOTUNIQ, "bare lun 1, short ambiguous buffer: -ENOTUNIQ");
        check(memchr(small, '\0', sizeof(small)) != NULL, "short ambiguous buffer: NUL-terminated, not overrun");

        r = sysfs_find_disk(sys, &w, &d, NULL, 0);
        check_err(r, -ENOTUNIQ, "bare lun 1, no ambiguous buffer: -ENOTUNIQ");

        memset(&d, 0, sizeof(d));
        w = full(2, 0, 3, 1);
        r = sysfs_find_disk(sys, &w, &d, amb, sizeof(amb));
        check_err(r, 0, "2:0:3:1: found");
        check(strcmp(d.name, "sdc") == 0 && strcmp(d.hctl, "2:0:3:1") == 0 && d.devno == makedev(8, 32),
              "2:0:3:1: sdc, 8:32 (got %s %s %u:%u)", d.name, d.hctl, major(d.devno), minor(d.devno));

        memset(&d, 0, sizeof(d));
        w = full(0, 0, 0, 1);
        r = sysfs_find_disk(sys, &w, &d, amb, sizeof(amb));
        check(r == 0 && strcmp(d.name, "sdb") == 0 && strcmp(d.hctl, "0:0:0:1") == 0 && d.devno == makedev(8, 16),
              "0:0:0:1: sdb, 8:16");

        memset(&d, 0, sizeof(d));
        w = lun_only(0);
        r = sysfs_find_disk(sys, &w, &d, amb, sizeof(amb));
        check(r == 0 && strcmp(d.name, "sdd") == 0 && strcmp(d.hctl, "2:0:3:0") == 0,
              "bare lun 0: unique on host 2, sdd");

        w = lun_only(7);
        check_err(sysfs_find_disk(sys, &w, &d, amb, sizeof(amb)), -ENOENT, "bare lun 7: -ENOENT");
        w = full(0, 0, 0, 7);
        check_err(sysfs_find_disk(sys, &w, &d, amb, sizeof(amb)), -ENOENT, "0:0:0:7: -ENOENT");
        w = full(1, 0, 3, 1);
        check_err(sysfs_find_disk(sys, &w, &d, amb, sizeof(amb)), -ENOENT, "1:0:3:1 (other host): -ENOENT");
        w = full(2, 1, 3, 1);
        check_err(sysfs_find_disk(sys, &w, &d, amb, sizeof(amb)), -ENOENT, "2:1:3:1 (other channel): -ENOENT");
        w = full(2, 0, 2, 1);
        check_err(sysfs_find_disk(sys, &w, &d, amb, sizeof(amb)), -ENOENT, "2:0:2:1 (other target): -ENOENT");
        w = lun_only(UINT64_C(1) << 32 | 1);
        check_err(sysfs_find_disk(sys, &w, &d, amb, sizeof(amb)), -ENOENT,
                  "bare lun 4294967297 does not match lun 1: -ENOENT");
}

/* Where Hyper-V's storvsc (a VMBus device, no PCI) and VMware's PVSCSI (a
 * PCI function behind a root port) put their hosts. */
#define STORVSC_HOSTS "devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00/f8b3781b-1e82-4818-a1c3-63d806ec15bb"
#define STORVSC_OS_HOSTS "devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/VMBUS:00/f8b3781a-1e82-4818-a1c3-63d806ec15bb"
#define PVSCSI_HOSTS "devices/pci0000:00/0000:00:15.0/0000:0b:00.0"

/* find_expect(sys, want, hctl, name, devno, suffix, desc): sysfs_find_disk
 * finds the disk hctl, name, devno, whose block dir is hctl/block/name and
 * resolves to a path that ends in suffix. */
static void find_expect(const char *sys, struct hctl want, const char *hctl, const char *name, dev_t devno,
                        const char *suffix, const char *desc) {
        char amb[256], tail[PATH_MAX], *real;
        struct disk d;
        int r;

        memset(&d, 0, sizeof(d));
        r = sysfs_find_disk(sys, &want, &d, amb, sizeof(amb));
        check_err(r, 0, "%s: found", desc);
        check_str(d.hctl, hctl, "%s: hctl %s", desc, hctl);
        check_str(d.name, name, "%s: name %s", desc, name);
        check(d.devno == devno, "%s: devno %u:%u (got %u:%u)", desc, major(devno), minor(devno), major(d.devno),
              minor(d.devno));
        xfmt(tail, sizeof(tail), "/%s/block/%s", hctl, name);
        check(ends_with(d.blockdir, tail), "%s: blockdir ends in %s (%s)", desc, tail, d.blockdir);
        check(strncmp(d.blockdir, sys, strlen(sys)) == 0, "%s: blockdir is under the given sysfs", desc);
        real = realpath(d.blockdir, NULL);
        check(real && ends_with(real, suffix), "%s: blockdir resolves to .../%s (%s)", desc, suffix,
              real ? real : strerror(errno));
        free(real);
}

static void test_find_storvsc(void) {
        char sys[PATH_MAX], rel[PATH_MAX], link[PATH_MAX + 32], target[PATH_MAX];
        struct hctl w;
        ssize_t len;

        /* A Hyper-V guest: the OS disk on host 0 (a storvsc device of its
         * own), the scratch disk on LUN 1 of host 2. */
        new_dir("storvsc", sys);
        scsi_device_at(sys, STORVSC_OS_HOSTS, "0:0:0:0", "sda", 8, 0, BLOCK_OK, NULL, 0);
        scsi_device_at(sys, STORVSC_HOSTS, "2:0:0:1", "sdb", 8, 16, BLOCK_OK, rel, sizeof(rel));
        check_str(rel, STORVSC_HOSTS "/host2/target2:0:0/2:0:0:1/block/sdb", "storvsc: the disk's path");
        xfmt(link, sizeof(link), "%s/bus/scsi/devices/2:0:0:1", sys);
        len = readlink(link, target, sizeof(target) - 1);
        if (len < 0)
                bail("readlink %s", link);
        target[len] = '\0';
        check_str(target, "../../../" STORVSC_HOSTS "/host2/target2:0:0/2:0:0:1",
                  "storvsc: bus/scsi/devices/2:0:0:1 is a relative link into the VMBus device");

        find_expect(sys, lun_only(1), "2:0:0:1", "sdb", makedev(8, 16),
                    STORVSC_HOSTS "/host2/target2:0:0/2:0:0:1/block/sdb", "storvsc, bare lun 1");
        find_expect(sys, full(2, 0, 0, 1), "2:0:0:1", "sdb", makedev(8, 16),
                    STORVSC_HOSTS "/host2/target2:0:0/2:0:0:1/block/sdb", "storvsc, 2:0:0:1");
        find_expect(sys, lun_only(0), "0:0:0:0", "sda", makedev(8, 0),
                    STORVSC_OS_HOSTS "/host0/target0:0:0/0:0:0:0/block/sda", "storvsc, bare lun 0");

        w = full(0, 0, 0, 1);
        check_err(sysfs_find_disk(sys, &w, &(struct disk) { 0 }, NULL, 0), -ENOENT,
                  "storvsc, 0:0:0:1 (no such disk): -ENOENT");
}

static void test_find_pvscsi(void) {
        char sys[PATH_MAX], rel[PATH_MAX];
        struct hctl w;

        /* The scratch disk on PVSCSI host 32, target 1, LUN 0, beside the
         * root disk on virtio-scsi host 0. */
        new_dir("pvscsi", sys);
        scsi_device(sys, "0:0:0:0", "sda", 8, 0, BLOCK_OK, NULL, 0);
        scsi_device_at(sys, PVSCSI_HOSTS, "32:0:1:0", "sdc", 8, 32, BLOCK_OK, rel, sizeof(rel));
        check_str(rel, PVSCSI_HOSTS "/host32/target32:0:1/32:0:1:0/block/sdc", "pvscsi: the disk's path");

        find_expect(sys, full(32, 0, 1, 0), "32:0:1:0", "sdc", makedev(8, 32),
                    PVSCSI_HOSTS "/host32/target32:0:1/32:0:1:0/block/sdc", "pvscsi, 32:0:1:0");
        find_expect(sys, full(0, 0, 0, 0), "0:0:0:0", "sda", makedev(8, 0),
                    SCSI_HOSTS "/host0/target0:0:0/0:0:0:0/block/sda", "pvscsi, 0:0:0:0");

        /* LUN 0 is on both hosts. */
        w = lun_only(0);
        check_err(sysfs_find_disk(sys, &w, &(struct disk) { 0 }, NULL, 0), -ENOTUNIQ,
                  "pvscsi, bare lun 0 on hosts 0 and 32: -ENOTUNIQ");
        w = full(32, 0, 0, 0);
        check_err(sysfs_find_disk(sys, &w, &(struct disk) { 0 }, NULL, 0), -ENOENT,
                  "pvscsi, 32:0:0:0 (target 0 is empty): -ENOENT");

        /* A bare LUN found on the PVSCSI controller alone. */
        scsi_device_at(sys, PVSCSI_HOSTS, "32:0:2:3", "sdd", 8, 48, BLOCK_OK, NULL, 0);
        find_expect(sys, lun_only(3), "32:0:2:3", "sdd", makedev(8, 48),
                    PVSCSI_HOSTS "/host32/target32:0:2/32:0:2:3/block/sdd", "pvscsi, bare lun 3");

        /* The PVSCSI disk alone (the root elsewhere): bare LUN 0 finds it. */
        new_dir("pvscsi-alone", sys);
        scsi_device_at(sys, PVSCSI_HOSTS, "32:0:1:0", "sdc", 8, 32, BLOCK_OK, NULL, 0);
        find_expect(sys, lun_only(0), "32:0:1:0", "sdc", makedev(8, 32),
                    PVSCSI_HOSTS "/host32/target32:0:1/32:0:1:0/block/sdc", "pvscsi alone, bare lun 0");
}

/* The same bare LUN on a storvsc host and a PVSCSI host. */
static void test_find_storvsc_pvscsi(void) {
        char sys[PATH_MAX], amb[256];
        struct disk d;
        struct hctl w;
        int r;

        new_dir("storvsc-pvscsi", sys);
        scsi_device_at(sys, STORVSC_HOSTS, "2:0:0:1", "sdb", 8, 16, BLOCK_OK, NULL, 0);
        scsi_device_at(sys, PVSCSI_HOSTS, "32:0:1:1", "sdc", 8, 32, BLOCK_OK, NULL, 0);

        memset(&d, 0, sizeof(d));
        memset(amb, 'x', sizeof(amb));
        w = lun_only(1);
        r = sysfs_find_disk(sys, &w, &d, amb, sizeof(amb));
        check_err(r, -ENOTUNIQ, "storvsc and pvscsi, bare lun 1 on both: -ENOTUNIQ");
        check(memchr(amb, '\0', sizeof(amb)) != NULL, "storvsc and pvscsi: ambiguous NUL-terminated");
        check_has(amb, "2:0:0:1", "storvsc and pvscsi: ambiguous lists 2:0:0:1");
        check_has(amb, "32:0:1:1", "storvsc and pvscsi: ambiguous lists 32:0:1:1");

        find_expect(sys, full(2, 0, 0, 1), "2:0:0:1", "sdb", makedev(8, 16),
                    STORVSC_HOSTS "/host2/target2:0:0/2:0:0:1/block/sdb", "storvsc and pvscsi, 2:0:0:1");
        find_expect(sys, full(32, 0, 1, 1), "32:0:1:1", "sdc", makedev(8, 32),
                    PVSCSI_HOSTS "/host32/target32:0:1/32:0:1:1/block/sdc", "storvsc and pvscsi, 32:0:1:1");
}

static void test_find_not_ready(void) {
        char sys[PATH_MAX], amb[256];
        struct disk d;
        struct hctl w;
        int r;

        new_dir("notready", sys);
        scsi_device(sys, "0:0:0:1", "sdb", 8, 16, BLOCK_NONE, NULL, 0);
        scsi_device(sys, "0:0:0:2", "sdc", 8, 32, BLOCK_NO_DEV, NULL, 0);
        scsi_device(sys, "0:0:0:3", "sdd", 8, 48, BLOCK_EMPTY, NULL, 0);
        scsi_device(sys, "0:0:0:4", "sde", 8, 64, BLOCK_TWO, NULL, 0);

        w = lun_only(1);
        check_err(sysfs_find_disk(sys, &w, &d, amb, sizeof(amb)), -ENODEV, "device without block/: -ENODEV");
        w = full(0, 0, 0, 1);
        check_err(sysfs_find_disk(sys, &w, &d, amb, sizeof(amb)), -ENODEV, "0:0:0:1 without block/: -ENODEV");
        w = lun_only(2);
        check_err(sysfs_find_disk(sys, &w, &d, amb, sizeof(amb)), -ENODEV, "block/sdc without dev: -ENODEV");
        w = lun_only(3);
        check_err(sysfs_find_disk(sys, &w, &d, amb, sizeof(amb)), -ENODEV, "empty block/: -ENODEV");
        w = lun_only(4);
        r = sysfs_find_disk(sys, &w, &d, amb, sizeof(amb));
        check_err(r, -EMLINK, "two entries in block/: -EMLINK");
}

static void test_find_ignores_neighbours(void) {
        char sys[PATH_MAX], amb[256];
        struct disk d;
        struct hctl w;

        /* Only the entries that are not devices. */
        new_dir("neighbours", sys);
        mkd(sys, SCSI_HOSTS "/host0/target0:0:0");
        mkd(sys, SCSI_HOSTS "/host1");
        lnk(sys, "bus/scsi/devices/host0", SCSI_HOSTS "/host0");
        lnk(sys, "bus/scsi/devices/host1", SCSI_HOSTS "/host1");
        lnk(sys, "bus/scsi/devices/target0:0:0", SCSI_HOSTS "/host0/target0:0:0");
        mkd(sys, "bus/scsi/devices/0");
        mkd(sys, "bus/scsi/devices/1");
        mkd(sys, "bus/scsi/devices/0:0:0");
        mkd(sys, "bus/scsi/devices/0:0:0:0:0");
        mkd(sys, "bus/scsi/devices/0:0:0:x");

        w = lun_only(0);
        check_err(sysfs_find_disk(sys, &w, &d, amb, sizeof(amb)), -ENOENT,
                  "host0, target0:0:0, 0, 0:0:0 and 0:0:0:0:0 are not devices: bare lun 0 -ENOENT");
        w = lun_only(1);
        check_err(sysfs_find_disk(sys, &w, &d, amb, sizeof(amb)), -ENOENT, "neighbours only: bare lun 1 -ENOENT");

        scsi_device(sys, "1:0:0:0", "sda", 8, 0, BLOCK_OK, NULL, 0);
        memset(&d, 0, sizeof(d));
        w = lun_only(0);
        check(sysfs_find_disk(sys, &w, &d, amb, sizeof(amb)) == 0 && strcmp(d.name, "sda") == 0,
              "neighbours plus 1:0:0:0: bare lun 0 is sda, unique");

        new_dir("empty", sys);
        check_err(sysfs_find_disk(sys, &w, &d, amb, sizeof(amb)), -ENOENT, "sysfs without bus/scsi: -ENOENT");
        mkd(sys, "bus/scsi/devices");
        check_err(sysfs_find_disk(sys, &w, &d, amb, sizeof(amb)), -ENOENT, "empty bus/scsi/devices: -ENOENT");
}

/* ---- sysfs_wait_selected by address ----------------------------------- */

static int wait_lun(const char *sys, const struct hctl *want, unsigned timeout_ms, struct disk *ret,
                    char *ambiguous, size_t n) {
        struct selector sel = { .have_lun = true, .lun = *want };

        return sysfs_wait_selected(sys, &sel, timeout_ms, false, ret, ambiguous, n);
}

static void wait_present_and_absent(const char *sys) {
        char amb[256];
        struct disk d;
        struct hctl w;
        uint64_t t0, el;
        int r;

        w = lun_only(7);
        t0 = now_ms();
        r = wait_lun(sys, &w, 300, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        check_err(r, -ENOENT, "wait 300 ms for an absent lun: -ENOENT");
        check(el >= 300 && el < 800, "wait 300 ms for an absent lun: waited %llu ms, in [300, 800)",
              (unsigned long long) el);

        w = lun_only(2);
        t0 = now_ms();
        r = wait_lun(sys, &w, 200, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        check_err(r, -ENODEV, "wait 200 ms for a device without block/: -ENODEV");
        check(el >= 200 && el < 700, "wait 200 ms for a device without block/: waited %llu ms, in [200, 700)",
              (unsigned long long) el);

        w = lun_only(7);
        t0 = now_ms();
        r = wait_lun(sys, &w, 0, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        check(r == -ENOENT && el < 100, "timeout 0, absent: -ENOENT at once (%llu ms)", (unsigned long long) el);

        w = full(0, 0, 0, 1);
        memset(&d, 0, sizeof(d));
        t0 = now_ms();
        r = wait_lun(sys, &w, 2000, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        check(r == 0 && strcmp(d.name, "sdb") == 0 && el < 500, "present disk: found at once (%llu ms)",
              (unsigned long long) el);

        w = lun_only(1);
        t0 = now_ms();
        r = wait_lun(sys, &w, 2000, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        check_err(r, -ENOTUNIQ, "ambiguous lun: -ENOTUNIQ");
        check(el < 500, "ambiguous lun: not waited for (%llu ms)", (unsigned long long) el);
        check(strstr(amb, "0:0:0:1") && strstr(amb, "3:0:0:1"), "ambiguous lun: both listed (%s)", amb);
}

static void wait_hotadd(void) {
        char sys[PATH_MAX], amb[256];
        struct disk d;
        struct hctl w;
        uint64_t t0, el;
        pid_t pid;
        int r, status;

        /* Hot-add: the disk shows up 100 ms after the wait started. */
        new_dir("hotadd", sys);
        t0 = now_ms();
        pid = fork_child();
        if (pid == 0) {
                sleep_ms(100);
                scsi_device(sys, "0:0:0:5", "sdf", 8, 80, BLOCK_OK, NULL, 0);
                _exit(0);
        }
        memset(&d, 0, sizeof(d));
        w = lun_only(5);
        r = wait_lun(sys, &w, 2000, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        (void) waitpid(pid, &status, 0);
        check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hot-add: the disk was added");
        check_err(r, 0, "hot-add 100 ms into a 2000 ms wait: found");
        check(strcmp(d.name, "sdf") == 0 && d.devno == makedev(8, 80) && strcmp(d.hctl, "0:0:0:5") == 0,
              "hot-add: sdf at 0:0:0:5, 8:80");
        check(el >= 100 && el < 1500, "hot-add: found after %llu ms, in [100, 1500)", (unsigned long long) el);
}

static void wait_late_block(void) {
        char sys[PATH_MAX], amb[256];
        struct disk d;
        struct hctl w;
        uint64_t t0, el;
        pid_t pid;
        int r, status;

        /* The device is there, its block device comes 100 ms later, and its
         * dev attribute 100 ms after that. */
        new_dir("hotadd2", sys);
        scsi_device(sys, "0:0:0:6", "sdg", 8, 96, BLOCK_NONE, NULL, 0);
        t0 = now_ms();
        pid = fork_child();
        if (pid == 0) {
                char p[PATH_MAX];

                sleep_ms(100);
                xfmt(p, sizeof(p), SCSI_HOSTS "/host0/target0:0:0/0:0:0:6/block/sdg");
                mkd(sys, p);
                sleep_ms(100);
                strcat(p, "/dev");
                put(sys, p, "8:96\n");
                _exit(0);
        }
        memset(&d, 0, sizeof(d));
        w = full(0, 0, 0, 6);
        r = wait_lun(sys, &w, 2000, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        (void) waitpid(pid, &status, 0);
        check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "late block device: the block device was added");
        check_err(r, 0, "late block device and dev attribute: found");
        check(strcmp(d.name, "sdg") == 0 && d.devno == makedev(8, 96), "late block device: sdg, 8:96");
        check(el >= 200 && el < 1500, "late block device: found after %llu ms, in [200, 1500)",
              (unsigned long long) el);
}

static void test_wait(void) {
        char sys[PATH_MAX];

        new_dir("wait", sys);
        scsi_device(sys, "0:0:0:1", "sdb", 8, 16, BLOCK_OK, NULL, 0);
        scsi_device(sys, "3:0:0:1", "sdc", 8, 32, BLOCK_OK, NULL, 0);
        scsi_device(sys, "0:0:0:2", "sdd", 8, 48, BLOCK_NONE, NULL, 0);

        wait_present_and_absent(sys);
        wait_hotadd();
        wait_late_block();
}

/* ---- sysfs_disk_attrs --------------------------------------------------- */

static struct disk disk_at(const char *sys, const char *rel, const char *name) {
        struct disk d = {};

        xfmt(d.blockdir, sizeof(d.blockdir), "%s/%s", sys, rel);
        xfmt(d.name, sizeof(d.name), "%s", name);
        return d;
}

static bool has_dev(const dev_t *set, unsigned n, dev_t dev) {
        for (unsigned i = 0; i < n; i++)
                if (set[i] == dev)
                        return true;
        return false;
}

static void show_set(const char *what, const dev_t *set, unsigned n) {
        char buf[1024] = "";

        for (unsigned i = 0; i < n && strlen(buf) < sizeof(buf) - 32; i++)
                xfmt(buf + strlen(buf), sizeof(buf) - strlen(buf), " %u:%u", major(set[i]),
                                minor(set[i]));
        tap_diag("%s:%s", what, buf);
}

static void partition(const char *sys, const char *diskrel, const char *name, unsigned no, unsigned maj,
                      unsigned min) {
        char p[PATH_MAX], v[32];

        xfmt(p, sizeof(p), "%s/%s/partition", diskrel, name);
        xfmt(v, sizeof(v), "%u\n", no);
        put(sys, p, v);
        xfmt(p, sizeof(p), "%s/%s/dev", diskrel, name);
        xfmt(v, sizeof(v), "%u:%u\n", maj, min);
        put(sys, p, v);
        xfmt(p, sizeof(p), "%s/%s/size", diskrel, name);
        put(sys, p, "204800\n");
        xfmt(p, sizeof(p), "%s/%s/ro", diskrel, name);
        put(sys, p, "0\n");
        xfmt(p, sizeof(p), "%s/%s/holders", diskrel, name);
        mkd(sys, p);
}

static void attrs_plain(const char *sys) {
        char rel[PATH_MAX], p[PATH_MAX + 32];
        struct disk_attrs a;
        struct disk d;
        int r;

        /* A plain disk. */
        scsi_device(sys, "0:0:0:1", "sdb", 8, 16, BLOCK_OK, rel, sizeof(rel));
        d = disk_at(sys, rel, "sdb");
        memset(&a, 0xff, sizeof(a));
        r = sysfs_disk_attrs(&d, &a);
        check_err(r, 0, "plain disk: attributes read");
        check(!a.is_partition, "plain disk: not a partition");
        check(!a.read_only, "plain disk: not read-only");
        check(!a.removable, "plain disk: not removable");
        check(!a.discards, "plain disk without queue/discard_max_bytes: no discards");
        check_u64(a.size_bytes, UINT64_C(2097152) * 512, "plain disk: size 2097152 sectors = 1 GiB");
        check_str(a.holder, "", "plain disk: no holder");
        check_int(a.n_parts, 0, "plain disk: no partitions");

        /* Read-only, removable, held. */
        scsi_device(sys, "0:0:0:2", "sdc", 8, 32, BLOCK_OK, rel, sizeof(rel));
        xfmt(p, sizeof(p), "%s/ro", rel);
        put(sys, p, "1\n");
        xfmt(p, sizeof(p), "%s/removable", rel);
        put(sys, p, "1\n");
        xfmt(p, sizeof(p), "%s/size", rel);
        put(sys, p, "131071\n");
        xfmt(p, sizeof(p), "%s/holders/dm-0", rel);
        lnk(sys, p, "devices/virtual/block/dm-0");
        xfmt(p, sizeof(p), "%s/queue/discard_max_bytes", rel);
        put(sys, p, "1073741824\n");
        d = disk_at(sys, rel, "sdc");
        r = sysfs_disk_attrs(&d, &a);
        check_err(r, 0, "held disk: attributes read");
        check(a.read_only, "ro=1: read-only");
        check(a.removable, "removable=1: removable");
        check_u64(a.size_bytes, UINT64_C(131071) * 512, "size=131071: 67108352 bytes");
        check_str(a.holder, "dm-0", "holders/dm-0: holder dm-0");
        check(a.discards, "discard_max_bytes=1073741824: takes discards");
        put(sys, p, "0\n");
        r = sysfs_disk_attrs(&d, &a);
        check(r == 0 && !a.discards, "discard_max_bytes=0: no discards");
        put(sys, p, "lots\n");
        r = sysfs_disk_attrs(&d, &a);
        check(r == 0 && !a.discards, "discard_max_bytes malformed: no discards, not an error");
}

static void attrs_partitions(const char *sys) {
        char rel[PATH_MAX], p[PATH_MAX + 32];
        struct disk_attrs a;
        struct disk d;
        int r;

        /* Partitions. */
        scsi_device(sys, "0:0:0:3", "sdd", 8, 48, BLOCK_OK, rel, sizeof(rel));
        partition(sys, rel, "sdd1", 1, 8, 49);
        partition(sys, rel, "sdd2", 2, 8, 50);
        partition(sys, rel, "sdd5", 5, 8, 53);
        xfmt(p, sizeof(p), "%s/power", rel);
        mkd(sys, p);
        xfmt(p, sizeof(p), "%s/trace/dev", rel); /* a subdir with dev but no partition */
        put(sys, p, "8:60\n");
        d = disk_at(sys, rel, "sdd");
        memset(&a, 0, sizeof(a));
        r = sysfs_disk_attrs(&d, &a);
        check_err(r, 0, "partitioned disk: attributes read");
        check_int(a.n_parts, 3, "partitioned disk: 3 partitions");
        check(has_dev(a.parts, 3, makedev(8, 49)) && has_dev(a.parts, 3, makedev(8, 50)) &&
              has_dev(a.parts, 3, makedev(8, 53)),
              "partitioned disk: devnos 8:49, 8:50, 8:53 recorded");
        check(!has_dev(a.parts, a.n_parts < SYSFS_MAX_PARTS ? a.n_parts : SYSFS_MAX_PARTS, makedev(8, 60)),
              "partitioned disk: a subdir without partition is not counted");
        check_str(a.holder, "", "partitioned disk: no holder");
        check(!a.is_partition, "partitioned disk: is not a partition itself");

        /* A partition held by md: the disk is in use. */
        xfmt(p, sizeof(p), "%s/sdd2/holders/md127", rel);
        lnk(sys, p, "devices/virtual/block/md127");
        r = sysfs_disk_attrs(&d, &a);
        check(r == 0 && strcmp(a.holder, "md127") == 0, "a partition's holder md127 counts for the disk (%s)",
              a.holder);

        /* The partition itself. */
        xfmt(p, sizeof(p), "%s/sdd1", rel);
        d = disk_at(sys, p, "sdd1");
        r = sysfs_disk_attrs(&d, &a);
        check_err(r, 0, "partition: attributes read");
        check(a.is_partition, "partition: is_partition");
        check_u64(a.size_bytes, UINT64_C(204800) * 512, "partition: its own size");
        check_int(a.n_parts, 0, "partition: no partitions of its own");
}

static void attrs_many_partitions(const char *sys) {
        char rel[PATH_MAX];
        struct disk_attrs a;
        struct disk d;
        int r;

        /* Many partitions: counted, parts[] not overrun. */
        scsi_device(sys, "0:0:0:4", "sde", 8, 64, BLOCK_OK, rel, sizeof(rel));
        for (unsigned i = 1; i <= SYSFS_MAX_PARTS + 6; i++) {
                char name[32];

                xfmt(name, sizeof(name), "sde%u", i);
                partition(sys, rel, name, i, 259, i);
        }
        d = disk_at(sys, rel, "sde");
        memset(&a, 0, sizeof(a));
        r = sysfs_disk_attrs(&d, &a);
        check_err(r, 0, "70 partitions: attributes read");
        check_int(a.n_parts, SYSFS_MAX_PARTS + 6, "70 partitions: all counted");
        {
                bool ok = true;

                for (unsigned i = 0; i < SYSFS_MAX_PARTS; i++)
                        if (major(a.parts[i]) != 259 || minor(a.parts[i]) < 1 ||
                            minor(a.parts[i]) > SYSFS_MAX_PARTS + 6)
                                ok = false;
                check(ok, "70 partitions: the %d recorded are partitions", SYSFS_MAX_PARTS);
        }
}

static void attrs_malformed(const char *sys) {
        char rel[PATH_MAX], p[PATH_MAX + 32];
        struct disk_attrs a;
        struct disk d;
        int r;

        /* Missing and malformed attributes. */
        scsi_device(sys, "0:0:0:5", "sdf", 8, 80, BLOCK_OK, rel, sizeof(rel));
        d = disk_at(sys, rel, "sdf");
        xfmt(p, sizeof(p), "%s/%s/removable", sys, rel);
        (void) unlink(p);
        r = sysfs_disk_attrs(&d, &a);
        check(r == 0 && !a.removable, "no removable attribute: fine, not removable");
        xfmt(p, sizeof(p), "%s/%s/holders", sys, rel);
        (void) rmdir(p);
        r = sysfs_disk_attrs(&d, &a);
        check(r == 0 && a.holder[0] == '\0', "no holders/ directory: fine, no holder");
        xfmt(p, sizeof(p), "%s/size", rel);
        put(sys, p, "abc\n");
        check(sysfs_disk_attrs(&d, &a) < 0, "size=abc: error");
        put(sys, p, "\n");
        check(sysfs_disk_attrs(&d, &a) < 0, "size empty: error");
        put(sys, p, "-1\n");
        check(sysfs_disk_attrs(&d, &a) < 0, "size=-1: error");
        put(sys, p, "36028797018963968\n");
        check_err(sysfs_disk_attrs(&d, &a), -ERANGE, "size=2^55 sectors (bytes overflow u64): -ERANGE");
        put(sys, p, "18014398509481983\n");
        r = sysfs_disk_attrs(&d, &a);
        check(r == 0 && a.size_bytes == UINT64_C(18014398509481983) * 512, "size=2^54-1 sectors: exact bytes");
        xfmt(p, sizeof(p), "%s/%s/size", sys, rel);
        (void) unlink(p);
        check(sysfs_disk_attrs(&d, &a) < 0, "no size attribute: error");
        xfmt(p, sizeof(p), "%s/size", rel);
        put(sys, p, "2097152\n");
        xfmt(p, sizeof(p), "%s/%s/ro", sys, rel);
        (void) unlink(p);
        check(sysfs_disk_attrs(&d, &a) < 0, "no ro attribute: error");

        d = disk_at(sys, "devices/nowhere/block/sdz", "sdz");
        check(sysfs_disk_attrs(&d, &a) < 0, "missing block dir: error");
}

static void test_attrs(void) {
        char sys[PATH_MAX];

        new_dir("attrs", sys);

        attrs_plain(sys);
        attrs_partitions(sys);
        attrs_many_partitions(sys);
        attrs_malformed(sys);
}

/* ---- sysfs_backing_devs ------------------------------------------------- */

static void virtual_dev(const char *sys, const char *name, unsigned maj, unsigned min) {
        char p[PATH_MAX], v[PATH_MAX];

        xfmt(p, sizeof(p), "devices/virtual/block/%s/dev", name);
        xfmt(v, sizeof(v), "%u:%u\n", maj, min);
        put(sys, p, v);
        xfmt(p, sizeof(p), "devices/virtual/block/%s/slaves", name);
        mkd(sys, p);
        xfmt(p, sizeof(p), "devices/virtual/block/%s/holders", name);
        mkd(sys, p);
        xfmt(p, sizeof(p), "dev/block/%u:%u", maj, min);
        xfmt(v, sizeof(v), "devices/virtual/block/%s", name);
        lnk(sys, p, v);
}

/* name's slaves/<slave> pointing at target (relative to sys) */
static void slave(const char *sys, const char *name, const char *slave_name, const char *target) {
        char p[PATH_MAX];

        xfmt(p, sizeof(p), "devices/virtual/block/%s/slaves/%s", name, slave_name);
        lnk(sys, p, target);
}

static void part_link(const char *sys, const char *diskrel, const char *name, unsigned maj, unsigned min) {
        char p[PATH_MAX], v[PATH_MAX];

        xfmt(p, sizeof(p), "dev/block/%u:%u", maj, min);
        xfmt(v, sizeof(v), "%s/%s", diskrel, name);
        lnk(sys, p, v);
}

struct expect_set {
        const char *what;
        dev_t dev;
        int r;
        unsigned n;
        dev_t want[8];
};

static void check_backing(const char *sys, const struct expect_set *e) {
        dev_t set[SYSFS_MAX_BACKING];
        unsigned n = 0;
        bool all = true;
        int r;

        memset(set, 0, sizeof(set));
        r = sysfs_backing_devs(sys, e->dev, set, &n, SYSFS_MAX_BACKING);
        check_err(r, e->r, "%s: returns %s", e->what, errname(e->r));
        if (e->r < 0)
                return;
        for (unsigned i = 0; i < e->n; i++)
                if (!has_dev(set, n, e->want[i]))
                        all = false;
        if (!check(all && n == e->n, "%s: exactly the %u expected devices", e->what, e->n)) {
                show_set("got", set, n);
                show_set("expected", e->want, e->n);
        }
}

static void backing_cases(const char *sys) {
        {
                const struct expect_set cases[] = {
                        { "whole disk sda (8:0)", makedev(8, 0), 0, 1, { makedev(8, 0) } },
                        { "partition sda1 (8:1): its disk", makedev(8, 1), 0, 2, { makedev(8, 1), makedev(8, 0) } },
                        { "partition sda2 (8:2): its disk", makedev(8, 2), 0, 2, { makedev(8, 2), makedev(8, 0) } },
                        { "dm-0 on sdb1: sdb1 and sdb", makedev(253, 0), 0, 3,
                          { makedev(253, 0), makedev(8, 17), makedev(8, 16) } },
                        { "dm-1 on dm-0 on sdb1: recursively", makedev(253, 1), 0, 4,
                          { makedev(253, 1), makedev(253, 0), makedev(8, 17), makedev(8, 16) } },
                        { "md0 on sdc and sdd", makedev(9, 0), 0, 3,
                          { makedev(9, 0), makedev(8, 32), makedev(8, 48) } },
                        { "md1p1, partition of md1 on sde1 and sdf1: md1 and its slaves", makedev(259, 0), 0, 6,
                          { makedev(259, 0), makedev(9, 1), makedev(8, 65), makedev(8, 64), makedev(8, 81),
                            makedev(8, 80) } },
                        { "8:99 unknown to sysfs", makedev(8, 99), -ENOENT, 0, { 0 } },
                };

                for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                        check_backing(sys, &cases[i]);
        }
}

static void backing_one_set(const char *sys) {
        {
                dev_t set[SYSFS_MAX_BACKING];
                unsigned n = 0;
                int r;

                r = sysfs_backing_devs(sys, makedev(8, 1), set, &n, SYSFS_MAX_BACKING);
                r |= sysfs_backing_devs(sys, makedev(8, 0), set, &n, SYSFS_MAX_BACKING);
                r |= sysfs_backing_devs(sys, makedev(253, 0), set, &n, SYSFS_MAX_BACKING);
                check(r == 0 && n == 5, "three calls into one set: 8:1 8:0 253:0 8:17 8:16, no duplicates (n=%u)", n);

                n = 0;
                r = sysfs_backing_devs(sys, makedev(253, 8), set, &n, SYSFS_MAX_BACKING);
                check(n == 2 && has_dev(set, n, makedev(253, 8)) && has_dev(set, n, makedev(253, 9)),
                      "slaves that loop: ends, with dm-8 and dm-9 once each (r=%s, n=%u)", errname(r), n);

                /* A set too small for the devices beneath: the caller must
                 * not take a partial answer for the whole one. */
                n = 0;
                memset(set, 0, sizeof(set));
                r = sysfs_backing_devs(sys, makedev(253, 1), set, &n, 2);
                if (!check(r < 0 || n > 2, "dm-1 into a set of 2 (4 devices beneath): an error, not a silent cut"))
                        tap_diag("got r=%s, n=%u", errname(r), n);
                check(n <= 2, "dm-1 into a set of 2: the set is not overrun (n=%u)", n);
        }
}

static void test_backing(void) {
        char sys[PATH_MAX], sda[PATH_MAX], sdb[PATH_MAX], sdc[PATH_MAX], sdd[PATH_MAX], sde[PATH_MAX],
                sdf[PATH_MAX], v[PATH_MAX];

        new_dir("backing", sys);
        /* sda with sda1 and sda2 */
        scsi_device(sys, "0:0:0:0", "sda", 8, 0, BLOCK_OK, sda, sizeof(sda));
        partition(sys, sda, "sda1", 1, 8, 1);
        partition(sys, sda, "sda2", 2, 8, 2);
        part_link(sys, sda, "sda1", 8, 1);
        part_link(sys, sda, "sda2", 8, 2);

        /* dm-0 on sdb1; dm-1 on dm-0 */
        scsi_device(sys, "0:0:0:1", "sdb", 8, 16, BLOCK_OK, sdb, sizeof(sdb));
        partition(sys, sdb, "sdb1", 1, 8, 17);
        part_link(sys, sdb, "sdb1", 8, 17);
        virtual_dev(sys, "dm-0", 253, 0);
        xfmt(v, sizeof(v), "%s/sdb1", sdb);
        slave(sys, "dm-0", "sdb1", v);
        virtual_dev(sys, "dm-1", 253, 1);
        slave(sys, "dm-1", "dm-0", "devices/virtual/block/dm-0");

        /* md0 on the whole disks sdc and sdd */
        scsi_device(sys, "0:0:0:2", "sdc", 8, 32, BLOCK_OK, sdc, sizeof(sdc));
        scsi_device(sys, "0:0:0:3", "sdd", 8, 48, BLOCK_OK, sdd, sizeof(sdd));
        virtual_dev(sys, "md0", 9, 0);
        slave(sys, "md0", "sdc", sdc);
        slave(sys, "md0", "sdd", sdd);

        /* md1 on sde1 and sdf1, partitioned: md1p1 */
        scsi_device(sys, "0:0:0:4", "sde", 8, 64, BLOCK_OK, sde, sizeof(sde));
        partition(sys, sde, "sde1", 1, 8, 65);
        scsi_device(sys, "0:0:0:5", "sdf", 8, 80, BLOCK_OK, sdf, sizeof(sdf));
        partition(sys, sdf, "sdf1", 1, 8, 81);
        virtual_dev(sys, "md1", 9, 1);
        xfmt(v, sizeof(v), "%s/sde1", sde);
        slave(sys, "md1", "sde1", v);
        xfmt(v, sizeof(v), "%s/sdf1", sdf);
        slave(sys, "md1", "sdf1", v);
        partition(sys, "devices/virtual/block/md1", "md1p1", 1, 259, 0);
        part_link(sys, "devices/virtual/block/md1", "md1p1", 259, 0);

        /* dm-8 and dm-9 each other's slave: a loop that must end */
        virtual_dev(sys, "dm-8", 253, 8);
        virtual_dev(sys, "dm-9", 253, 9);
        slave(sys, "dm-8", "dm-9", "devices/virtual/block/dm-9");
        slave(sys, "dm-9", "dm-8", "devices/virtual/block/dm-8");

        backing_cases(sys);
        backing_one_set(sys);
}

/* ---- serial numbers: tree building ----------------------------------------- */

/* within a block dir: device -> the device dir, both relative to sys */
static void device_link(const char *sys, const char *blockrel, const char *devrel) {
        char p[PATH_MAX];

        xfmt(p, sizeof(p), "%s/device", blockrel);
        lnk(sys, p, devrel);
}

/* A VPD page 0x80 of the given length field and serial bytes. */
static void vpd(const char *sys, const char *devrel, unsigned char page, unsigned lenfield, const void *serial,
                size_t n) {
        unsigned char b[1024];
        char p[PATH_MAX];

        if (n + 4 > sizeof(b))
                bail("vpd page too long");
        b[0] = 0x00;
        b[1] = page;
        b[2] = (unsigned char) (lenfield >> 8);
        b[3] = (unsigned char) lenfield;
        memcpy(b + 4, serial, n);
        xfmt(p, sizeof(p), "%s/vpd_pg80", devrel);
        put_bytes(sys, p, b, n + 4);
}

static void vpd_str(const char *sys, const char *devrel, const char *serial) {
        vpd(sys, devrel, 0x80, (unsigned) strlen(serial), serial, strlen(serial));
}

#define SCSI_HOST "devices/pci0000:00/0000:00:04.0/virtio1/host0"

/* A SCSI disk at 0:0:0:lun named name: its device dir, block dir, the
 * class/block and bus/scsi/devices links. Returns the device dir relative
 * to sys in devrel. */
static void scsi_disk(const char *sys, unsigned lun, const char *name, unsigned maj, unsigned min, char *devrel,
                      size_t n) {
        char dev[PATH_MAX], blk[PATH_MAX], p[PATH_MAX], v[64];

        xfmt(dev, sizeof(dev), SCSI_HOST "/target0:0:0/0:0:0:%u", lun);
        xfmt(blk, sizeof(blk), "%s/block/%s", dev, name);
        xfmt(p, sizeof(p), "%s/dev", blk);
        xfmt(v, sizeof(v), "%u:%u\n", maj, min);
        put(sys, p, v);
        xfmt(p, sizeof(p), "%s/size", blk);
        put(sys, p, "2097152\n");
        device_link(sys, blk, dev);
        xfmt(p, sizeof(p), "class/block/%s", name);
        lnk(sys, p, blk);
        xfmt(p, sizeof(p), "bus/scsi/devices/0:0:0:%u", lun);
        lnk(sys, p, dev);
        xfmt(devrel, n, "%s", dev);
}

/* A virtio-blk disk: no SCSI address; serial NULL for none. */
static void virtio_disk(const char *sys, unsigned slot, const char *name, unsigned min, const char *serial) {
        char dev[PATH_MAX], blk[PATH_MAX], p[PATH_MAX], v[64];

        xfmt(dev, sizeof(dev), "devices/pci0000:00/0000:00:%02x.0/virtio%u", slot, slot);
        xfmt(blk, sizeof(blk), "%s/block/%s", dev, name);
        xfmt(p, sizeof(p), "%s/dev", blk);
        xfmt(v, sizeof(v), "252:%u\n", min);
        put(sys, p, v);
        if (serial) {
                xfmt(p, sizeof(p), "%s/serial", blk);
                put(sys, p, serial);
        }
        device_link(sys, blk, dev);
        xfmt(p, sizeof(p), "class/block/%s", name);
        lnk(sys, p, blk);
}

/* A partition inside the disk's block dir (relative to sys). */
static void class_partition(const char *sys, const char *blkrel, const char *name, unsigned maj, unsigned min) {
        char dir[PATH_MAX], p[PATH_MAX], v[64];

        xfmt(dir, sizeof(dir), "%s/%s", blkrel, name);
        xfmt(p, sizeof(p), "%s/dev", dir);
        xfmt(v, sizeof(v), "%u:%u\n", maj, min);
        put(sys, p, v);
        xfmt(p, sizeof(p), "%s/partition", dir);
        put(sys, p, "1\n");
        xfmt(p, sizeof(p), "class/block/%s", name);
        lnk(sys, p, dir);
}

static struct disk class_disk_at(const char *sys, const char *blkrel) {
        struct disk d = {};

        xfmt(d.blockdir, sizeof(d.blockdir), "%s/%s", sys, blkrel);
        xfmt(d.name, sizeof(d.name), "%s", strrchr(blkrel, '/') ? strrchr(blkrel, '/') + 1 : blkrel);
        return d;
}

/* ---- sysfs_disk_serial: VPD page 0x80 -------------------------------------- */

struct vpd_case {
        const char *what;
        unsigned char page;
        unsigned lenfield;
        const char *bytes;
        size_t n;
        int r;
        const char *serial;
};

static void vpd_short_files(const char *sys) {
        char buf[128];

        /* Short files: no complete header. */
        {
                static const unsigned char hdr[] = { 0x00, 0x80, 0x00, 0x04 };

                for (unsigned len = 0; len < 4; len++) {
                        char p[PATH_MAX];
                        struct disk d;

                        xfmt(p, sizeof(p), "short%u/vpd_pg80", len);
                        put_bytes(sys, p, hdr, len);
                        xfmt(p, sizeof(p), "short%u/block/sdx", len);
                        {
                                char dev[32], full[PATH_MAX + 8];

                                xfmt(dev, sizeof(dev), "short%u", len);
                                xfmt(full, sizeof(full), "%s/%s", sys, p);
                                mkdirs(full);
                                device_link(sys, p, dev);
                        }
                        d = class_disk_at(sys, p);
                        check_err(sysfs_disk_serial(&d, buf, sizeof(buf)), -EBADMSG, "vpd file of %u bytes: -EBADMSG",
                                  len);
                }
        }
}

static void vpd_bounds(const char *sys) {
        /* The length field is big-endian, two bytes: 0x0100 serial bytes. */
        {
                char serial[256], want[257];
                struct disk d;

                memset(serial, 'A', sizeof(serial));
                memcpy(want, serial, sizeof(serial));
                want[256] = '\0';
                vpd(sys, "long", 0x80, 0x100, serial, sizeof(serial));
                mkd(sys, "long/block/sdx");
                device_link(sys, "long/block/sdx", "long");
                d = class_disk_at(sys, "long/block/sdx");
                {
                        char big[300];
                        int r = sysfs_disk_serial(&d, big, sizeof(big));

                        check_err(r, 0, "vpd length 0x0100: 0");
                        check_str(r == 0 ? big : "", want, "vpd length 0x0100: 256 bytes of serial");
                        check_err(sysfs_disk_serial(&d, big, 256), -E2BIG, "vpd 256 bytes into 256: -E2BIG");
                        check_err(sysfs_disk_serial(&d, big, 257), 0, "vpd 256 bytes into 257: 0");
                }
        }

        /* The buffer bounds the serial. */
        {
                struct disk d;
                char small[16];

                vpd_str(sys, "size", "0123456789");
                mkd(sys, "size/block/sdx");
                device_link(sys, "size/block/sdx", "size");
                d = class_disk_at(sys, "size/block/sdx");
                check_err(sysfs_disk_serial(&d, small, 10), -E2BIG, "10 byte serial into 10: -E2BIG");
                check(sysfs_disk_serial(&d, small, 11) == 0 && strcmp(small, "0123456789") == 0,
                      "10 byte serial into 11: fits");
                check_err(sysfs_disk_serial(&d, small, 0), -EINVAL, "buffer of 0: -EINVAL");
        }
}

static void test_vpd(void) {
        static const struct vpd_case cases[] = {
                { "plain", 0x80, 8, "QM000011", 8, 0, "QM000011" },
                { "blank padded", 0x80, 12, "SCSISER1    ", 12, 0, "SCSISER1" },
                { "leading blanks", 0x80, 10, "   SER2   ", 10, 0, "SER2" },
                { "NUL padded", 0x80, 10, "SER3\0\0\0\0\0\0", 10, 0, "SER3" },
                { "blanks then NULs", 0x80, 12, "SER4   \0\0\0\0\0", 12, 0, "SER4" },
                { "leading blanks, blanks and NULs after", 0x80, 14, "  SER5  \0\0\0\0\0\0", 14, 0, "SER5" },
                { "embedded NUL ends the serial", 0x80, 5, "AB\0CD", 5, 0, "AB" },
                { "file longer than the length field", 0x80, 4, "SER6garbage", 11, 0, "SER6" },
                { "length 0", 0x80, 0, "", 0, -ENOENT, NULL },
                { "blanks only", 0x80, 4, "    ", 4, -ENOENT, NULL },
                { "NULs only", 0x80, 4, "\0\0\0\0", 4, -ENOENT, NULL },
                { "length beyond the file", 0x80, 32, "SER7", 4, -EBADMSG, NULL },
                { "length one beyond the file", 0x80, 5, "SER7", 4, -EBADMSG, NULL },
                { "length 0x0104, 4 bytes", 0x80, 0x104, "SER8", 4, -EBADMSG, NULL },
                { "page 0x83", 0x83, 4, "SER9", 4, -EBADMSG, NULL },
                { "page 0x00", 0x00, 4, "SER9", 4, -EBADMSG, NULL },
                { "control byte", 0x80, 4, "SE\x01R", 4, -EBADMSG, NULL },
                { "byte 0xff", 0x80, 4, "SER\xff", 4, -EBADMSG, NULL },
                { "byte 0x7f", 0x80, 4, "\x7fSER", 4, -EBADMSG, NULL },
                { "tab", 0x80, 4, "SE\tR", 4, -EBADMSG, NULL },
                { "newline", 0x80, 5, "SER1\n", 5, -EBADMSG, NULL },
        };
        char sys[PATH_MAX], buf[128];

        new_dir("vpd", sys);
        for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct vpd_case *c = &cases[i];
                char rel[64];
                struct disk d;
                int r;

                xfmt(rel, sizeof(rel), "d%u/block/sdx", i);
                {
                        char devrel[64], p[PATH_MAX];

                        xfmt(devrel, sizeof(devrel), "d%u", i);
                        vpd(sys, devrel, c->page, c->lenfield, c->bytes, c->n);
                        xfmt(p, sizeof(p), "%s/%s", sys, rel);
                        mkdirs(p);
                        device_link(sys, rel, devrel);
                        /* A virtio-style serial beside it must not be read. */
                        xfmt(p, sizeof(p), "%s/serial", rel);
                        put(sys, p, "WRONG");
                }
                d = class_disk_at(sys, rel);
                strcpy(buf, "untouched");
                r = sysfs_disk_serial(&d, buf, sizeof(buf));
                check_err(r, c->r, "vpd %s: %s", c->what, errname(c->r));
                if (c->serial)
                        check_str(buf, c->serial, "vpd %s: '%s'", c->what, c->serial);
        }

        vpd_short_files(sys);
        vpd_bounds(sys);
}

/* ---- sysfs_disk_serial: virtio-blk ------------------------------------------ */

static void test_virtio_serial(void) {
        static const struct {
                const char *what, *content;
                int r;
                const char *serial;
        } cases[] = {
                { "with newline", "VDSER1\n", 0, "VDSER1" },
                { "without newline", "VDSER2", 0, "VDSER2" },
                { "20 characters", "ABCDEFGHIJ0123456789", 0, "ABCDEFGHIJ0123456789" },
                { "blank padded", "  VDSER3  \n", 0, "VDSER3" },
                { "empty", "", -ENOENT, NULL },
                { "newline only", "\n", -ENOENT, NULL },
                { "blanks only", "    \n", -ENOENT, NULL },
                { "control byte", "VD\x02SER\n", -EBADMSG, NULL },
                { "byte 0x80", "VD\x80\n", -EBADMSG, NULL },
                { "tab", "VD\tSER\n", -EBADMSG, NULL },
        };
        char sys[PATH_MAX], buf[128];
        struct disk d;

        new_dir("virtio-serial", sys);
        for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char rel[64];
                int r;

                xfmt(rel, sizeof(rel), "v%u/block/vdx/serial", i);
                put(sys, rel, cases[i].content);
                *strrchr(rel, '/') = '\0';
                d = class_disk_at(sys, rel);
                strcpy(buf, "untouched");
                r = sysfs_disk_serial(&d, buf, sizeof(buf));
                check_err(r, cases[i].r, "virtio serial %s: %s", cases[i].what, errname(cases[i].r));
                if (cases[i].serial)
                        check_str(buf, cases[i].serial, "virtio serial %s: '%s'", cases[i].what, cases[i].serial);
        }

        mkd(sys, "none/block/vdx");
        d = class_disk_at(sys, "none/block/vdx");
        check_err(sysfs_disk_serial(&d, buf, sizeof(buf)), -ENOENT, "neither vpd_pg80 nor serial: -ENOENT");
}

/* ---- sysfs_find_serial and sysfs_wait_selected ------------------------------- */

/* sda (0:0:0:0, no serial), sdb (0:0:0:1, SCSISER1) with sdb1, vda
 * (VDSER, no address) with vda1, loop0 without a device. */
static void build_disks(const char *sys) {
        char dev[PATH_MAX], p[PATH_MAX];

        scsi_disk(sys, 0, "sda", 8, 0, dev, sizeof(dev));
        scsi_disk(sys, 1, "sdb", 8, 16, dev, sizeof(dev));
        vpd_str(sys, dev, "SCSISER1    ");
        /* A partition that looks like its disk, serial and all: only the
         * partition attribute tells it apart. */
        xfmt(p, sizeof(p), "%s/block/sdb", dev);
        class_partition(sys, p, "sdb1", 8, 17);
        xfmt(p, sizeof(p), "%s/block/sdb/sdb1", dev);
        device_link(sys, p, dev);

        virtio_disk(sys, 5, "vda", 0, "VDSER\n");
        class_partition(sys, "devices/pci0000:00/0000:00:05.0/virtio5/block/vda", "vda1", 252, 1);
        put(sys, "devices/pci0000:00/0000:00:05.0/virtio5/block/vda/vda1/serial", "VDSER\n");

        put(sys, "devices/virtual/block/loop0/dev", "7:0\n");
        lnk(sys, "class/block/loop0", "devices/virtual/block/loop0");
}

static void test_find_serial(void) {
        char sys[PATH_MAX], amb[256], dev[PATH_MAX];
        struct disk d;
        int r;

        new_dir("find", sys);
        check_err(sysfs_find_serial(sys, "SCSISER1", &d, amb, sizeof(amb)), -ENOENT, "no class/block: -ENOENT");
        build_disks(sys);

        memset(&d, 0, sizeof(d));
        r = sysfs_find_serial(sys, "SCSISER1", &d, amb, sizeof(amb));
        check_err(r, 0, "SCSISER1: found (its partition skipped)");
        check_str(d.name, "sdb", "SCSISER1: sdb");
        check_str(d.hctl, "0:0:0:1", "SCSISER1: hctl from the device link");
        check(d.devno == makedev(8, 16), "SCSISER1: devno 8:16 (got %u:%u)", major(d.devno), minor(d.devno));
        check(strstr(d.blockdir, "/class/block/sdb") != NULL, "SCSISER1: block dir under class/block (%s)", d.blockdir);

        memset(&d, 0, sizeof(d));
        r = sysfs_find_serial(sys, "VDSER", &d, amb, sizeof(amb));
        check_err(r, 0, "VDSER: found (its partition skipped)");
        check_str(d.name, "vda", "VDSER: vda");
        check_str(d.hctl, "", "VDSER: virtio-blk has no SCSI address");
        check(d.devno == makedev(252, 0), "VDSER: devno 252:0");

        check_err(sysfs_find_serial(sys, "SCSISER", &d, amb, sizeof(amb)), -ENOENT, "a prefix of a serial: -ENOENT");
        check_err(sysfs_find_serial(sys, "SCSISER1 ", &d, amb, sizeof(amb)), -ENOENT, "serial with a blank: -ENOENT");
        check_err(sysfs_find_serial(sys, "scsiser1", &d, amb, sizeof(amb)), -ENOENT, "other case: -ENOENT");
        check_err(sysfs_find_serial(sys, "NOPE", &d, amb, sizeof(amb)), -ENOENT, "unknown serial: -ENOENT");

        /* The same serial on a SCSI disk and a virtio disk. */
        scsi_disk(sys, 2, "sdc", 8, 32, dev, sizeof(dev));
        vpd_str(sys, dev, "DUP");
        virtio_disk(sys, 6, "vdb", 16, "DUP");
        r = sysfs_find_serial(sys, "DUP", &d, amb, sizeof(amb));
        check_err(r, -ENOTUNIQ, "DUP on sdc and vdb: -ENOTUNIQ");
        check(strcmp(amb, "sdc (0:0:0:2), vdb") == 0 || strcmp(amb, "vdb, sdc (0:0:0:2)") == 0,
              "DUP: both named, sdc with its address ('%s')", amb);

        /* A bad serial on one disk does not hide the others. */
        virtio_disk(sys, 7, "vdc", 32, "BAD\x01");
        r = sysfs_find_serial(sys, "VDSER", &d, amb, sizeof(amb));
        check(r == 0 && strcmp(d.name, "vda") == 0, "another disk's unreadable serial: vda still found");
}

static void wait_selected_hotadd(const char *sys) {
        struct selector sel;
        struct disk d;
        uint64_t t0, el;
        pid_t pid;
        int r, status;
        char amb[256];

        /* A disk by serial, hot-added 100 ms into the wait. */
        t0 = now_ms();
        pid = fork_child();
        if (pid == 0) {
                sleep_ms(100);
                virtio_disk(sys, 9, "vdz", 48, "LATE");
                _exit(0);
        }
        sel = (struct selector) { .serial = "LATE" };
        memset(&d, 0, sizeof(d));
        r = sysfs_wait_selected(sys, &sel, 3000, false, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        (void) waitpid(pid, &status, 0);
        check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hot-add: the disk was added");
        check(r == 0 && strcmp(d.name, "vdz") == 0, "hot-add: serial LATE found (%s)", errname(r));
        check(el >= 100 && el < 2000, "hot-add: after %llu ms, in [100, 2000)", (unsigned long long) el);
}

static void test_wait_selected(void) {
        char sys[PATH_MAX], amb[256], dev[PATH_MAX];
        struct selector sel;
        struct disk d;
        uint64_t t0, el;
        int r;

        new_dir("select", sys);
        build_disks(sys);
        scsi_disk(sys, 3, "sdd", 8, 48, dev, sizeof(dev));
        vpd(sys, dev, 0x83, 4, "XXXX", 4);

        sel = (struct selector) { .have_lun = true, .lun = lun_only(1), .serial = "SCSISER1" };
        memset(&d, 0, sizeof(d));
        t0 = now_ms();
        r = sysfs_wait_selected(sys, &sel, 2000, false, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        check_err(r, 0, "lun 1 and serial SCSISER1: found");
        check(strcmp(d.name, "sdb") == 0 && strcmp(d.hctl, "0:0:0:1") == 0, "lun 1 and serial: sdb at 0:0:0:1");
        check(el < 500, "lun 1 and serial: at once (%llu ms)", (unsigned long long) el);

        sel = (struct selector) { .have_lun = true, .lun = { 0, 0, 0, 1, false }, .serial = "OTHER" };
        strcpy(amb, "untouched");
        t0 = now_ms();
        r = sysfs_wait_selected(sys, &sel, 2000, false, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        check_err(r, -EBADSLT, "0:0:0:1 with serial OTHER: -EBADSLT");
        check_str(amb, "SCSISER1", "serial mismatch: the disk's serial in the buffer");
        check(el < 500, "serial mismatch: not waited for (%llu ms)", (unsigned long long) el);

        sel = (struct selector) { .have_lun = true, .lun = lun_only(0), .serial = "SCSISER1" };
        strcpy(amb, "untouched");
        r = sysfs_wait_selected(sys, &sel, 200, false, &d, amb, sizeof(amb));
        check_err(r, -EBADSLT, "lun 0 (no serial) with a serial: -EBADSLT");
        check_str(amb, "none", "lun 0 without serial: 'none' in the buffer");

        sel = (struct selector) { .have_lun = true, .lun = lun_only(3), .serial = "XXXX" };
        strcpy(amb, "untouched");
        r = sysfs_wait_selected(sys, &sel, 200, false, &d, amb, sizeof(amb));
        check_err(r, -EBADSLT, "lun 3 with a malformed VPD page: -EBADSLT");
        check_str(amb, "none", "lun 3 with a malformed VPD page: 'none' in the buffer");

        sel = (struct selector) { .have_lun = true, .lun = lun_only(0), .serial = NULL };
        memset(&d, 0, sizeof(d));
        r = sysfs_wait_selected(sys, &sel, 200, false, &d, amb, sizeof(amb));
        check(r == 0 && strcmp(d.name, "sda") == 0, "lun 0 without a serial wanted: sda");

        sel = (struct selector) { .serial = "VDSER" };
        memset(&d, 0, sizeof(d));
        r = sysfs_wait_selected(sys, &sel, 200, false, &d, amb, sizeof(amb));
        check(r == 0 && strcmp(d.name, "vda") == 0 && d.hctl[0] == '\0', "serial VDSER alone: vda");

        sel = (struct selector) { .serial = "NOPE" };
        t0 = now_ms();
        r = sysfs_wait_selected(sys, &sel, 200, false, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        check_err(r, -ENOENT, "serial NOPE alone: -ENOENT");
        check(el >= 200 && el < 700, "serial NOPE: waited %llu ms, in [200, 700)", (unsigned long long) el);

        sel = (struct selector) { .have_lun = true, .lun = lun_only(9), .serial = "SCSISER1" };
        t0 = now_ms();
        r = sysfs_wait_selected(sys, &sel, 200, false, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        check_err(r, -ENOENT, "lun 9 absent, serial present elsewhere: -ENOENT");
        check(el >= 200 && el < 700, "lun 9: waited %llu ms, in [200, 700)", (unsigned long long) el);

        sel = (struct selector) { .serial = "SCSISER1" };
        r = sysfs_wait_selected(sys, &sel, 0, false, &d, amb, sizeof(amb));
        check(r == 0 && strcmp(d.name, "sdb") == 0 && strcmp(d.hctl, "0:0:0:1") == 0,
              "serial SCSISER1 alone: sdb, with its address");

        wait_selected_hotadd(sys);
}

/* ---- what a disk says it is; every disk, in name order -------------------- */

/* An NVMe namespace nvme<ctrl>n<ns> on a controller with model and serial
 * (as given: the kernel pads them with blanks). */
static void nvme_disk(const char *sys, unsigned ctrl, unsigned ns, unsigned min, const char *model,
                      const char *serial) {
        char dev[PATH_MAX], blk[PATH_MAX], p[PATH_MAX], v[64];

        xfmt(dev, sizeof(dev), "devices/pci0000:00/0000:00:%02x.0/nvme/nvme%u", 0x10 + ctrl, ctrl);
        xfmt(p, sizeof(p), "%s/model", dev);
        put(sys, p, model);
        xfmt(p, sizeof(p), "%s/serial", dev);
        put(sys, p, serial);
        xfmt(blk, sizeof(blk), "%s/nvme%un%u", dev, ctrl, ns);
        xfmt(p, sizeof(p), "%s/dev", blk);
        xfmt(v, sizeof(v), "259:%u\n", min);
        put(sys, p, v);
        device_link(sys, blk, dev);
        xfmt(p, sizeof(p), "class/block/nvme%un%u", ctrl, ns);
        lnk(sys, p, blk);
}

static int collect(const struct disk *d, void *userdata) {
        char *buf = userdata;
        size_t k = strlen(buf);

        (void) snprintf(buf + k, 512 - k, "%s%s:%s", k ? " " : "", d->name, disk_bus_to_string(d->bus));
        return 0;
}

static int stop_at_second(const struct disk *d, void *userdata) {
        unsigned *n = userdata;

        (void) d;
        return ++*n == 2 ? -ECANCELED : 0;
}

static void test_identity(void) {
        char sys[PATH_MAX], devrel[PATH_MAX], p[PATH_MAX], amb[256], list[512] = "";
        struct disk d;
        unsigned n = 0;

        new_dir("identity", sys);
        scsi_disk(sys, 1, "sdb", 8, 16, devrel, sizeof(devrel));
        xfmt(p, sizeof(p), "%s/vendor", devrel);
        put(sys, p, "Msft    \n");
        xfmt(p, sizeof(p), "%s/model", devrel);
        put(sys, p, "Virtual Disk    \n");
        vpd_str(sys, devrel, "  SCSISER  ");
        nvme_disk(sys, 10, 1, 2, "Amazon EC2 NVMe Instance Storage        \n", "AWS0000000000000000A\n");
        nvme_disk(sys, 2, 1, 1, "QEMU NVMe Ctrl                          \n", "nvme-ser-2          \n");
        virtio_disk(sys, 5, "vda", 0, "VDSER");
        xfmt(p, sizeof(p), "%s/block/sdb", devrel);
        class_partition(sys, p, "sdb1", 8, 17);
        {
                /* A hidden multipath path (no dev), a loop device. */
                xfmt(p, sizeof(p), "devices/pci0000:00/0000:00:12.0/nvme/nvme2/nvme2c2n1/nsid");
                put(sys, p, "1\n");
                lnk(sys, "class/block/nvme2c2n1", "devices/pci0000:00/0000:00:12.0/nvme/nvme2/nvme2c2n1");
                put(sys, "devices/virtual/block/loop0/dev", "7:0\n");
                lnk(sys, "class/block/loop0", "devices/virtual/block/loop0");
        }

        {
                const struct hctl h = { .lun = 1, .lun_only = true };

                check_int(sysfs_find_disk(sys, &h, &d, amb, sizeof(amb)), 0, "identity: sdb by LUN");
                check_str(d.vendor, "Msft", "identity: SCSI vendor trimmed");
                check_str(d.model, "Virtual Disk", "identity: SCSI model trimmed");
                check_str(d.serial, "SCSISER", "identity: SCSI serial from VPD 0x80, trimmed");
                check_str(disk_bus_to_string(d.bus), "scsi", "identity: SCSI bus");
        }
        check_int(sysfs_find_serial(sys, "AWS0000000000000000A", &d, amb, sizeof(amb)), 0, "identity: NVMe by serial");
        check_str(d.name, "nvme10n1", "identity: the namespace of that controller");
        check_str(d.model, "Amazon EC2 NVMe Instance Storage", "identity: NVMe model trimmed");
        check_str(d.vendor, "", "identity: NVMe has no vendor");
        check_str(disk_bus_to_string(d.bus), "nvme", "identity: NVMe bus");
        check_int(sysfs_find_serial(sys, "nvme-ser-2", &d, amb, sizeof(amb)), 0, "identity: NVMe serial trimmed");
        check_int(sysfs_find_serial(sys, "VDSER", &d, amb, sizeof(amb)), 0, "identity: virtio-blk by serial");
        check_str(disk_bus_to_string(d.bus), "virtio", "identity: virtio bus");
        check_str(d.model, "", "identity: virtio-blk has no model");

        check_int(sysfs_for_each_disk(sys, collect, list), 0, "every disk: 0");
        check_str(list, "nvme2n1:nvme nvme10n1:nvme sdb:scsi vda:virtio",
                  "every disk: whole disks of a disk bus in name order (no partition, hidden path or loop)");
        check_int(sysfs_for_each_disk(sys, stop_at_second, &n), -ECANCELED, "every disk: stops at fn's error");
        check_int(n, 2, "every disk: no call after the error");
        check_int(sysfs_for_each_disk("/nonexistent", collect, list), 0, "every disk: no class/block, none");
}

/* ---- the kernel's facts on an absent LUN ---------------------------------- */

static void read_back(const char *sys, const char *rel, char *buf, size_t n) {
        char path[PATH_MAX];
        FILE *f;

        xfmt(path, sizeof(path), "%s/%s", sys, rel);
        buf[0] = '\0';
        f = fopen(path, "re");
        if (!f)
                return;
        if (!fgets(buf, (int) n, f))
                buf[0] = '\0';
        fclose(f);
}

static void test_scsi_facts(void) {
        char sys[PATH_MAX], got[64], amb[256];
        struct selector sel;
        struct disk d;
        uint64_t t0, el;
        int r;

        new_dir("facts", sys);
        /* A virtio-scsi function on PCI and its virtio device, no driver
         * yet; host0 with no target shown yet. */
        put(sys, "bus/pci/devices/0000:00:03.0/class", "0x010000\n");
        put(sys, "bus/pci/devices/0000:00:04.0/class", "0x020000\n");
        put(sys, "bus/virtio/devices/virtio1/device", "0x0008\n");
        put(sys, "bus/virtio/devices/virtio2/device", "0x0003\n");
        check_int(sysfs_scsi_controllers_unbound(sys, got, sizeof(got)), 2,
                  "facts: the SCSI function and the virtio SCSI device lack drivers (not the NIC, not the console)");
        check_str(got, "pci 0000:00:03.0", "facts: the first unbound controller is named");
        mkd(sys, "bus/pci/drivers/virtio-pci");
        mkd(sys, "bus/virtio/drivers/virtio_scsi");
        lnk(sys, "bus/pci/devices/0000:00:03.0/driver", "bus/pci/drivers/virtio-pci");
        lnk(sys, "bus/virtio/devices/virtio1/driver", "bus/virtio/drivers/virtio_scsi");
        check_int(sysfs_scsi_controllers_unbound(sys, NULL, 0), 0, "facts: both bound");

        check_int(sysfs_scsi_scan(sys, &(struct hctl) { .lun = 1, .lun_only = true }), 0, "facts: no SCSI host: 0");
        put(sys, "class/scsi_host/host0/scan", "");
        mkd(sys, "class/scsi_host/host0/device");
        check_int(sysfs_scsi_scan(sys, &(struct hctl) { .lun = 1, .lun_only = true }), -EAGAIN,
                  "facts: a host that shows no target yet proves nothing");
        read_back(sys, "class/scsi_host/host0/scan", got, sizeof(got));
        check_str(got, "0 0 1\n", "facts: with no target shown, target 0 is asked");

        mkd(sys, "class/scsi_host/host0/device/target0:0:0");
        mkd(sys, "class/scsi_host/host0/device/target0:0:3");
        put(sys, "class/scsi_host/host0/scan", "");
        check_int(sysfs_scsi_scan(sys, &(struct hctl) { .lun = 1, .lun_only = true }), 1,
                  "facts: the host was asked and shows its targets");
        read_back(sys, "class/scsi_host/host0/scan", got, sizeof(got));
        check(strcmp(got, "0 0 1\n") == 0 || strcmp(got, "0 3 1\n") == 0,
              "facts: a bare LUN is asked of the targets shown (last written: '%s')", got);
        put(sys, "class/scsi_host/host1/scan", "");
        mkd(sys, "class/scsi_host/host1/device/target1:0:0");
        put(sys, "class/scsi_host/host0/scan", "");
        check_int(sysfs_scsi_scan(sys, &(struct hctl) { .host = 1, .channel = 0, .target = 2, .lun = 7 }), 1,
                  "facts: a full address asks its own host only");
        read_back(sys, "class/scsi_host/host1/scan", got, sizeof(got));
        check_str(got, "0 2 7\n", "facts: host1 asked for 0 2 7");
        read_back(sys, "class/scsi_host/host0/scan", got, sizeof(got));
        check_str(got, "", "facts: host0 not asked");

        /* The wait: settled, the LUN absent: at once with settle, the whole
         * timeout without (a given rd.scratch.timeout). */
        mkd(sys, "bus/scsi/devices");
        sel = (struct selector) { .have_lun = true, .lun = lun_only(1) };
        t0 = now_ms();
        r = sysfs_wait_selected(sys, &sel, 2000, true, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        check_err(r, -ENXIO, "facts: absent LUN, settled: the kernel's no");
        check(el < 1000, "facts: without waiting the timeout (%llu ms)", (unsigned long long) el);
        t0 = now_ms();
        r = sysfs_wait_selected(sys, &sel, 300, false, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        check_err(r, -ENOENT, "facts: the same without settle: not found");
        check(el >= 300, "facts: after the whole timeout (%llu ms)", (unsigned long long) el);
        /* A controller without its driver again: the timeout decides. */
        put(sys, "bus/virtio/devices/virtio3/device", "0x0008\n");
        t0 = now_ms();
        r = sysfs_wait_selected(sys, &sel, 300, true, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        check_err(r, -ENOENT, "facts: an unbound controller: not found after the timeout");
        check(el >= 300, "facts: it waited (%llu ms)", (unsigned long long) el);
}

int main(void) {
        if (!fixture_start("test-sysfs", "building the fake sysfs"))
                return tap_done();

        test_find_single();
        test_find_two_hosts();
        test_find_storvsc();
        test_find_pvscsi();
        test_find_storvsc_pvscsi();
        test_find_not_ready();
        test_find_ignores_neighbours();
        test_wait();
        test_attrs();
        test_backing();
        test_vpd();
        test_virtio_serial();
        test_find_serial();
        test_wait_selected();
        test_scsi_facts();
        test_identity();

        return fixture_done();
}
