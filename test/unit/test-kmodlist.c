/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The module list's names and the parameters the command line gives them. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kmodlist.h"
#include "tap.h"
#include "util.h"

static void check_name(const char *path, const char *want) {
        char buf[64];

        kmod_name(path, buf, sizeof(buf));
        check_str(buf, want, "name of %s", path);
}

static void test_names(void) {
        check_name("/lib/modules/6.1.0/kernel/drivers/scsi/virtio_scsi.ko", "virtio_scsi");
        check_name("/lib/modules/6.1.0/kernel/drivers/scsi/sd_mod.ko.xz", "sd_mod");
        check_name("kernel/fs/overlayfs/overlay.ko.zst", "overlay");
        check_name("/x/hv-storvsc.ko", "hv_storvsc");
        check_name("virtio_blk.ko", "virtio_blk");
        check_name("noext", "noext");
        check_name("", "");

        {
                char small[4];

                kmod_name("/a/virtio_scsi.ko", small, sizeof(small));
                check_str(small, "vir", "a name is cut to the buffer");
        }
}

static void check_params(const char *cmdline, const char *name, int want_r, const char *want) {
        char buf[128];
        int r = kmod_params(cmdline, name, buf, sizeof(buf));

        check_int(r, want_r, "params of %s from '%s': return", name, cmdline);
        check_str(buf, want, "params of %s from '%s'", name, cmdline);
}

static void test_params(void) {
        check_params("", "sd_mod", 0, "");
        check_params("root=/dev/sda ro", "sd_mod", 0, "");
        check_params("scsi_mod.scan=sync", "scsi_mod", 0, "scan=sync");
        check_params("scsi-mod.scan=sync", "scsi_mod", 0, "scan=sync");
        check_params("scsi_mod.scan=sync", "scsi-mod", 0, "scan=sync");
        check_params("scsi_mod.scan=sync scsi_mod.max_luns=8", "scsi_mod", 0, "scan=sync max_luns=8");
        check_params("virtio_scsi.foo=1 scsi_mod.scan=sync", "virtio_scsi", 0, "foo=1");
        check_params("virtio_scsi.foo=1", "virtio", 0, "");
        check_params("virtio.foo=1", "virtio_scsi", 0, "");
        check_params("mod.flag", "mod", 0, "flag");
        check_params("mod.p=\"a b\"", "mod", 0, "p=\"a b\"");
        check_params("init=/a.b mod=x.y", "mod", 0, "");
        check_params("foo=mod.x", "mod", 0, "");
        check_params(".x=1 mod. mod.=1", "mod", 0, "");
        check_params("mod.a=1 -- mod.b=2", "mod", 0, "a=1");

        {
                char cmdline[400], buf[32];

                memset(cmdline, 0, sizeof(cmdline));
                strcpy(cmdline, "mod.a=1 mod.long=");
                memset(cmdline + strlen(cmdline), 'x', 100);
                check_int(kmod_params(cmdline, "mod", buf, sizeof(buf)), -ENOBUFS, "too long: -ENOBUFS");
                check_str(buf, "a=1", "too long: what fits is kept, nothing cut");
        }
}

/* ---- device aliases against a fake sysfs ------------------------------- */

static char tree[PATH_MAX];

static int add_device(const char *bus, const char *dev, const char *modalias) {
        char dir[PATH_MAX * 2], path[PATH_MAX * 3];
        int r;

        (void) snprintf(dir, sizeof(dir), "%s/bus/%s/devices/%s", tree, bus, dev);
        r = mkdir_p(dir, 0755);
        if (r < 0 || !modalias)
                return r;
        (void) snprintf(path, sizeof(path), "%s/modalias", dir);
        return write_file_atomic(path, modalias, 0644);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        return flag == FTW_DP ? rmdir(path) : unlink(path);
}

#define PRESENT(...)                                                                               \
        ({                                                                                         \
                char *const a_[] = { __VA_ARGS__ };                                                \
                kmod_device_present(tree, a_, sizeof(a_) / sizeof(a_[0]));                         \
        })

static void test_present(void) {
        int r;

        strcpy(tree, "/tmp/test-kmodlist.XXXXXX");
        if (!check(mkdtemp(tree) != NULL, "present: temporary directory"))
                return;
        r = add_device("pci", "0000:00:00.0", "pci:v00008086d000029C0sv00001AF4sd00001100bc06sc00i00");
        if (r == 0)
                r = add_device("pci", "0000:00:02.0", "pci:v00001AF4d00001004sv00001AF4sd00000008bc01sc00i00\n");
        if (r == 0)
                r = add_device("pci", "0000:00:1f.0", NULL);
        if (r == 0)
                r = add_device("virtio", "virtio0", "virtio:d00000008v00001AF4");
        if (r == 0)
                r = add_device("acpi", "VMBUS:00", "acpi:VMBUS:");
        if (r == 0)
                r = add_device("scsi", "host0", NULL);
        if (!check(r == 0, "present: fake sysfs made"))
                goto out;

        check(PRESENT("pci:v00001AF4d*sv*sd*bc*sc*i*"), "a virtio PCI function matches virtio_pci");
        check(!PRESENT("pci:v000015ADd000007C0sv*sd*bc*sc*i*"), "no VMware PVSCSI function");
        check(PRESENT("virtio:d00000008v*"), "the virtio SCSI device matches virtio_scsi");
        check(!PRESENT("virtio:d00000002v*"), "no virtio block device");
        check(!PRESENT("scsi:t-0x14*", "scsi:t-0x0e*", "scsi:t-0x07*", "scsi:t-0x00*"),
              "a SCSI host without disks: nothing for sd_mod");
        check(!PRESENT("vmbus:4acc9b2f6900f34ab76b6fd0be528cda"), "no vmbus at all: nothing for hv_storvsc");
        check(PRESENT("acpi*:VMBus:*", "acpi*:VMBUS:*"), "an ACPI VMBUS device matches hv_vmbus");
        check(PRESENT("virtio:d00000002v*", "pci:v000015ADd*", "pci:v00001AF4d00001004*"),
              "any one alias of several buses is enough");
        check(!PRESENT("fs-overlay", "block-major-8-*", "devname:fuse"), "aliases that name no bus match nothing");
        check(!PRESENT(":x", "*:x"), "an alias with an empty bus matches nothing");

        /* The CPU features are in /sys/devices/system/cpu/modalias. */
        check(!PRESENT("cpu:type:x86,ven*fam*mod*:feature:*0099*"), "no CPU modalias: nothing for aesni_intel");
        {
                char cdir[PATH_MAX * 2], cpath[PATH_MAX * 3];

                (void) snprintf(cdir, sizeof(cdir), "%s/devices/system/cpu", tree);
                (void) snprintf(cpath, sizeof(cpath), "%s/modalias", cdir);
                r = mkdir_p(cdir, 0755);
                if (r == 0)
                        r = write_file_atomic(cpath, "cpu:type:x86,ven0000fam0006mod003F:feature:,0000,0001,0099,00E5\n",
                                              0644);
                if (check(r == 0, "present: a CPU modalias"))
                        check(PRESENT("cpu:type:x86,ven*fam*mod*:feature:*0099*"),
                              "a CPU with AES (feature 0x99) matches aesni_intel");
                check(!PRESENT("cpu:type:x86,ven*fam*mod*:feature:*0098*"), "a feature the CPU lacks matches nothing");
        }

        r = add_device("scsi", "0:0:0:1", "scsi:t-0x00");
        if (check(r == 0, "present: a disk appears"))
                check(PRESENT("scsi:t-0x14*", "scsi:t-0x0e*", "scsi:t-0x07*", "scsi:t-0x00*"),
                      "the disk matches sd_mod once it is there");
out:
        (void) nftw(tree, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void) {
        test_names();
        test_params();
        test_present();
        return tap_done();
}
