/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Disks by serial number: the SCSI unit serial number (VPD page 0x80) and
 * virtio-blk's serial attribute, the search over class/block, and the
 * selection by address and serial together, against fake sysfs trees with
 * the kernel's layout. */
#include <errno.h>
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

/* ---- tree building -------------------------------------------------------- */

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
static void partition(const char *sys, const char *blkrel, const char *name, unsigned maj, unsigned min) {
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

static struct disk disk_at(const char *sys, const char *blkrel) {
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
                d = disk_at(sys, rel);
                strcpy(buf, "untouched");
                r = sysfs_disk_serial(&d, buf, sizeof(buf));
                check_err(r, c->r, "vpd %s: %s", c->what, errname(c->r));
                if (c->serial)
                        check_str(buf, c->serial, "vpd %s: '%s'", c->what, c->serial);
        }

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
                        d = disk_at(sys, p);
                        check_err(sysfs_disk_serial(&d, buf, sizeof(buf)), -EBADMSG, "vpd file of %u bytes: -EBADMSG",
                                  len);
                }
        }

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
                d = disk_at(sys, "long/block/sdx");
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
                d = disk_at(sys, "size/block/sdx");
                check_err(sysfs_disk_serial(&d, small, 10), -E2BIG, "10 byte serial into 10: -E2BIG");
                check(sysfs_disk_serial(&d, small, 11) == 0 && strcmp(small, "0123456789") == 0,
                      "10 byte serial into 11: fits");
                check_err(sysfs_disk_serial(&d, small, 0), -EINVAL, "buffer of 0: -EINVAL");
        }
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
                d = disk_at(sys, rel);
                strcpy(buf, "untouched");
                r = sysfs_disk_serial(&d, buf, sizeof(buf));
                check_err(r, cases[i].r, "virtio serial %s: %s", cases[i].what, errname(cases[i].r));
                if (cases[i].serial)
                        check_str(buf, cases[i].serial, "virtio serial %s: '%s'", cases[i].what, cases[i].serial);
        }

        mkd(sys, "none/block/vdx");
        d = disk_at(sys, "none/block/vdx");
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
        partition(sys, p, "sdb1", 8, 17);
        xfmt(p, sizeof(p), "%s/block/sdb/sdb1", dev);
        device_link(sys, p, dev);

        virtio_disk(sys, 5, "vda", 0, "VDSER\n");
        partition(sys, "devices/pci0000:00/0000:00:05.0/virtio5/block/vda", "vda1", 252, 1);
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

static struct hctl lun_only(uint64_t lun) {
        return (struct hctl) { .lun = lun, .lun_only = true };
}

static void test_wait_selected(void) {
        char sys[PATH_MAX], amb[256], dev[PATH_MAX];
        struct selector sel;
        struct disk d;
        uint64_t t0, el;
        pid_t pid;
        int r, status;

        new_dir("select", sys);
        build_disks(sys);
        scsi_disk(sys, 3, "sdd", 8, 48, dev, sizeof(dev));
        vpd(sys, dev, 0x83, 4, "XXXX", 4);

        sel = (struct selector) { .have_lun = true, .lun = lun_only(1), .serial = "SCSISER1" };
        memset(&d, 0, sizeof(d));
        t0 = now_ms();
        r = sysfs_wait_selected(sys, &sel, 2000, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        check_err(r, 0, "lun 1 and serial SCSISER1: found");
        check(strcmp(d.name, "sdb") == 0 && strcmp(d.hctl, "0:0:0:1") == 0, "lun 1 and serial: sdb at 0:0:0:1");
        check(el < 500, "lun 1 and serial: at once (%llu ms)", (unsigned long long) el);

        sel = (struct selector) { .have_lun = true, .lun = { 0, 0, 0, 1, false }, .serial = "OTHER" };
        strcpy(amb, "untouched");
        t0 = now_ms();
        r = sysfs_wait_selected(sys, &sel, 2000, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        check_err(r, -EBADSLT, "0:0:0:1 with serial OTHER: -EBADSLT");
        check_str(amb, "SCSISER1", "serial mismatch: the disk's serial in the buffer");
        check(el < 500, "serial mismatch: not waited for (%llu ms)", (unsigned long long) el);

        sel = (struct selector) { .have_lun = true, .lun = lun_only(0), .serial = "SCSISER1" };
        strcpy(amb, "untouched");
        r = sysfs_wait_selected(sys, &sel, 200, &d, amb, sizeof(amb));
        check_err(r, -EBADSLT, "lun 0 (no serial) with a serial: -EBADSLT");
        check_str(amb, "none", "lun 0 without serial: 'none' in the buffer");

        sel = (struct selector) { .have_lun = true, .lun = lun_only(3), .serial = "XXXX" };
        strcpy(amb, "untouched");
        r = sysfs_wait_selected(sys, &sel, 200, &d, amb, sizeof(amb));
        check_err(r, -EBADSLT, "lun 3 with a malformed VPD page: -EBADSLT");
        check_str(amb, "none", "lun 3 with a malformed VPD page: 'none' in the buffer");

        sel = (struct selector) { .have_lun = true, .lun = lun_only(0), .serial = NULL };
        memset(&d, 0, sizeof(d));
        r = sysfs_wait_selected(sys, &sel, 200, &d, amb, sizeof(amb));
        check(r == 0 && strcmp(d.name, "sda") == 0, "lun 0 without a serial wanted: sda");

        sel = (struct selector) { .serial = "VDSER" };
        memset(&d, 0, sizeof(d));
        r = sysfs_wait_selected(sys, &sel, 200, &d, amb, sizeof(amb));
        check(r == 0 && strcmp(d.name, "vda") == 0 && d.hctl[0] == '\0', "serial VDSER alone: vda");

        sel = (struct selector) { .serial = "NOPE" };
        t0 = now_ms();
        r = sysfs_wait_selected(sys, &sel, 200, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        check_err(r, -ENOENT, "serial NOPE alone: -ENOENT");
        check(el >= 200 && el < 700, "serial NOPE: waited %llu ms, in [200, 700)", (unsigned long long) el);

        sel = (struct selector) { .have_lun = true, .lun = lun_only(9), .serial = "SCSISER1" };
        t0 = now_ms();
        r = sysfs_wait_selected(sys, &sel, 200, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        check_err(r, -ENOENT, "lun 9 absent, serial present elsewhere: -ENOENT");
        check(el >= 200 && el < 700, "lun 9: waited %llu ms, in [200, 700)", (unsigned long long) el);

        sel = (struct selector) { .serial = "SCSISER1" };
        r = sysfs_wait_selected(sys, &sel, 0, &d, amb, sizeof(amb));
        check(r == 0 && strcmp(d.name, "sdb") == 0 && strcmp(d.hctl, "0:0:0:1") == 0,
              "serial SCSISER1 alone: sdb, with its address");

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
        r = sysfs_wait_selected(sys, &sel, 3000, &d, amb, sizeof(amb));
        el = now_ms() - t0;
        (void) waitpid(pid, &status, 0);
        check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "hot-add: the disk was added");
        check(r == 0 && strcmp(d.name, "vdz") == 0, "hot-add: serial LATE found (%s)", errname(r));
        check(el >= 100 && el < 2000, "hot-add: after %llu ms, in [100, 2000)", (unsigned long long) el);
}

int main(void) {
        if (!fixture_start("test-serial", "building the fake sysfs"))
                return tap_done();

        test_vpd();
        test_virtio_serial();
        test_find_serial();
        test_wait_selected();

        return fixture_done();
}
