/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The clouds' ephemeral disks and the selection of several disks
 * (cloud.c, select.c), against the sysfs trees in test/fixtures/sysfs-*:
 * each a machine as its platform documents it (DMI strings, NVMe models and
 * serials blank-padded as the kernel shows them, Azure's storvsc devices
 * with their VMBus device ids; the sources are named in cloud.c). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "cloud.h"
#include "options.h"
#include "select.h"
#include "sysfs.h"
#include "tap.h"
#include "util.h"

static char fixtures[PATH_MAX - 64];

static void tree(const char *name, char *buf, size_t n) {
        (void) snprintf(buf, n, "%s/sysfs-%s", fixtures, name);
}

static const char *name_of(unsigned opt) {
        return option_name(opt);
}

/* Selects under the fixture with the command line's options; the names
 * comma-separated, which were Azure resource disks as "name*". */
static int run_select(const char *fixture, const char *cmdline, char *names, size_t n, char *why, size_t wn,
                      enum cloud *platform) {
        char sys[PATH_MAX];
        struct options o;
        struct disk_set *set = calloc(1, sizeof(*set));
        int r;

        if (!set)
                abort();
        tree(fixture, sys, sizeof(sys));
        options_init(&o);
        options_parse_cmdline(&o, cmdline);
        why[0] = '\0';
        r = select_disks(sys, &o, name_of, set, why, wn);
        names[0] = '\0';
        for (unsigned i = 0; r == 0 && i < set->n; i++) {
                size_t k = strlen(names);

                (void) snprintf(names + k, n - k, "%s%s%s", i ? "," : "", set->disks[i].name,
                                set->disks[i].azure_resource ? "*" : "");
        }
        if (platform)
                *platform = set->platform;
        free(set);
        return r;
}

static void expect(const char *fixture, const char *cmdline, int want_r, const char *want) {
        char names[512], why[512];
        int r;

        r = run_select(fixture, cmdline, names, sizeof(names), why, sizeof(why), NULL);
        check_int(r, want_r, "%s, %s: %d", fixture, cmdline, want_r);
        if (want_r == 0)
                check_str(names, want, "%s, %s: %s", fixture, cmdline, want);
        else
                check_has(why, want, "%s, %s: the reason says '%s'", fixture, cmdline, want);
        if (r != want_r)
                tap_diag("reason: %s", why);
}

static void test_detect(void) {
        static const struct {
                const char *fixture;
                enum cloud want;
        } cases[] = {
                { "aws", CLOUD_AWS },
                /* Xen (i3): no "Amazon EC2" in DMI, product_uuid and
                 * product_serial "ec2..." */
                { "aws-xen", CLOUD_AWS },
                { "azure-nvme", CLOUD_AZURE },
                { "azure-gen1", CLOUD_AZURE },
                { "azure-gen2", CLOUD_AZURE },
                { "gcp", CLOUD_GCP },
                { "unknown", CLOUD_NONE },
                /* Hyper-V outside Azure: Microsoft's strings, not Azure's tag. */
                { "hyperv", CLOUD_NONE },
        };
        char sys[PATH_MAX], seen[256];

        for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                tree(cases[i].fixture, sys, sizeof(sys));
                check_str(cloud_to_string(cloud_detect(sys, seen, sizeof(seen))), cloud_to_string(cases[i].want),
                          "detect %s: %s", cases[i].fixture, cloud_to_string(cases[i].want));
        }
        tree("unknown", sys, sizeof(sys));
        (void) cloud_detect(sys, seen, sizeof(seen));
        check_has(seen, "sys_vendor 'QEMU'", "detect unknown: what was seen is told");
        check_str(cloud_to_string(cloud_detect("/nonexistent", seen, sizeof(seen))), "none",
                  "detect without DMI: none");
}

static void test_identity(void) {
        char sys[PATH_MAX], amb[256];
        struct disk d;

        /* NVMe under native multipath: model and serial of the subsystem,
         * the blank padding trimmed. */
        tree("aws", sys, sizeof(sys));
        check_int(sysfs_find_serial(sys, "AWS22417A8B0C1D2E3F4", &d, amb, sizeof(amb)), 0, "aws: serial of nvme1n1");
        check_str(d.name, "nvme1n1", "aws: the instance store by serial");
        check_str(d.model, "Amazon EC2 NVMe Instance Storage", "aws: the model, trimmed");
        check_str(d.vendor, "", "aws: NVMe has no vendor string");
        check_str(disk_bus_to_string(d.bus), "nvme", "aws: bus nvme");
        check_str(d.hctl, "", "aws: no SCSI address");
        /* NVMe on PCI without multipath: the controller's. */
        check_int(sysfs_find_serial(sys, "AWS6C0D1E2F3A4B5C6D7", &d, amb, sizeof(amb)), 0, "aws: serial of nvme2n1");
        check_str(d.name, "nvme2n1", "aws: the controller's serial");
        check_str(d.serial, "AWS6C0D1E2F3A4B5C6D7", "aws: the serial, trimmed");
        /* The hidden path devices of multipath are not disks. */
        check_int(sysfs_find_serial(sys, "vol0a1b2c3d4e5f60718", &d, amb, sizeof(amb)), 0,
                  "aws: the EBS root, once (not its hidden path)");
        check_str(d.name, "nvme0n1", "aws: the EBS root by serial");

        /* SCSI: INQUIRY vendor and model, trimmed. */
        tree("azure-gen2", sys, sizeof(sys));
        {
                const struct hctl h = { .host = 0, .lun = 1 };

                check_int(sysfs_find_disk(sys, &h, &d, amb, sizeof(amb)), 0, "gen2: the disk at 0:0:0:1");
                check_str(d.vendor, "Msft", "gen2: vendor Msft");
                check_str(d.model, "Virtual Disk", "gen2: model 'Virtual Disk'");
                check_str(disk_bus_to_string(d.bus), "scsi", "gen2: bus scsi");
        }
        tree("unknown", sys, sizeof(sys));
        check_int(sysfs_find_serial(sys, "root", &d, amb, sizeof(amb)), 0, "unknown: the virtio disk by serial");
        check_str(disk_bus_to_string(d.bus), "virtio", "unknown: bus virtio");
        check_str(d.model, "", "unknown: virtio-blk has no model");
}

/* The root's namespace is among what backs the root, whatever the bus:
 * the safety proof refuses a disk in that set. */
static void test_nvme_backs_root(void) {
        char sys[PATH_MAX];
        dev_t set[16];
        unsigned n = 0;
        bool found = false;

        tree("aws", sys, sizeof(sys));
        check_int(sysfs_backing_devs(sys, makedev(259, 1), set, &n, 16), 0, "aws: what backs nvme0n1p1");
        for (unsigned i = 0; i < n; i++)
                found = found || set[i] == makedev(259, 0);
        check(found, "aws: the root's partition nvme0n1p1 is backed by the namespace nvme0n1");
        check(n == 2, "aws: the partition and its namespace, nothing else (%u)", n);
}

static void test_cloud_select(void) {
        /* Every ephemeral disk, in name order; never the root's. */
        expect("aws", "rd.scratch.cloud=auto", 0, "nvme1n1,nvme2n1");
        expect("aws-xen", "rd.scratch.cloud=auto", 0, "nvme1n1,nvme2n1");
        expect("aws", "rd.scratch.cloud=aws", 0, "nvme1n1,nvme2n1");
        expect("azure-nvme", "rd.scratch.cloud=auto", 0, "nvme1n1,nvme2n1");
        expect("azure-gen1", "rd.scratch.cloud=auto", 0, "sdb*");
        expect("azure-gen2", "rd.scratch.cloud=azure", 0, "sdb*");
        expect("gcp", "rd.scratch.cloud=auto", 0, "nvme1n1,nvme1n2,sda");
        /* The wrong platform has none of its disks here. */
        expect("aws", "rd.scratch.cloud=gcp", -ENOENT, "gcp has none here");
        expect("gcp", "rd.scratch.cloud=azure", -ENOENT, "azure has none here");
        /* Azure's SCSI disk on a VMBus controller that is not the resource
         * disk's, whatever its address. */
        expect("hyperv", "rd.scratch.cloud=auto", -ENOENT, "not a platform with ephemeral disks");
        expect("unknown", "rd.scratch.cloud=auto", -ENOENT, "sys_vendor 'QEMU'");
        expect("unknown", "rd.scratch.cloud=aws", -ENOENT, "aws has none here");
        /* Off. */
        expect("aws", "rd.scratch.cloud=0", -ENOENT, "no disk selected");
}

static void test_no_wait(void) {
        char names[256], why[256];
        uint64_t t = now_ms();
        int r;

        r = run_select("unknown", "rd.scratch.cloud=auto rd.scratch.timeout=5", names, sizeof(names), why,
                       sizeof(why), NULL);
        check_int(r, -ENOENT, "unknown, auto, timeout 5 s: nothing");
        check(now_ms() - t < 1000, "unknown, auto: no wait (%llu ms)", (unsigned long long) (now_ms() - t));
        t = now_ms();
        r = run_select("gcp", "rd.scratch.cloud=aws rd.scratch.timeout=5", names, sizeof(names), why, sizeof(why),
                       NULL);
        check_int(r, -ENOENT, "gcp, aws, timeout 5 s: nothing");
        check(now_ms() - t < 1000, "a platform without the disks: no wait (%llu ms)",
              (unsigned long long) (now_ms() - t));
        t = now_ms();
        r = run_select("unknown", "rd.scratch.model=nothing* rd.scratch.timeout=5", names, sizeof(names), why,
                       sizeof(why), NULL);
        check_int(r, -ENOENT, "a model glob matching nothing: nothing");
        check(now_ms() - t < 1000, "a model glob: no wait (%llu ms)", (unsigned long long) (now_ms() - t));
}

static void test_globs(void) {
        expect("aws", "rd.scratch.model=\"Amazon EC2 NVMe Instance Storage\"", 0, "nvme1n1,nvme2n1");
        expect("aws", "rd.scratch.model=Amazon*", 0, "nvme0n1,nvme1n1,nvme2n1");
        /* A glob is not the platform's rule: nvme_card* takes the
         * persistent disk too, rd.scratch.cloud does not. */
        expect("gcp", "rd.scratch.model=nvme_card*", 0, "nvme0n1,nvme1n1,nvme1n2");
        expect("gcp", "rd.scratch.model=nvme_card", 0, "nvme1n1,nvme1n2");
        expect("gcp", "rd.scratch.vendor=Google", 0, "sda,sdb");
        expect("gcp", "rd.scratch.vendor=Google rd.scratch.model=Ephemeral*", 0, "sda");
        expect("azure-gen1", "rd.scratch.vendor=Msft rd.scratch.model=\"Virtual Disk\"", 0, "sda,sdb,sdc");
        /* Every option given must match: the model glob and the cloud. */
        expect("azure-gen1", "rd.scratch.vendor=Msft rd.scratch.cloud=azure", 0, "sdb*");
        expect("aws", "rd.scratch.model=*Block* rd.scratch.cloud=aws", -ENOENT, "no disk matches");
        /* A disk without the string matches no glob, not even "*". */
        expect("aws", "rd.scratch.vendor=*", -ENOENT, "no disk matches rd.scratch.vendor='*'");
        expect("unknown", "rd.scratch.model=*", 0, "nvme0n1");
        expect("unknown", "rd.scratch.model=[Qq]EMU?NVMe*", 0, "nvme0n1");
        expect("unknown", "rd.scratch.model=qemu*", -ENOENT, "no disk matches rd.scratch.model='qemu*'");
}

static void test_lists(void) {
        expect("gcp", "rd.scratch.lun=0:0:2:0,0:0:1:0 rd.scratch.timeout=0", 0, "sda,sdb");
        expect("azure-gen2", "rd.scratch.lun=0:0:0:1,1:0:0:1 rd.scratch.timeout=0", 0, "sdb,sdc");
        /* A listed disk that fails another option: refused, named. */
        expect("azure-gen2", "rd.scratch.lun=0:0:0:1,1:0:0:1 rd.scratch.cloud=azure rd.scratch.timeout=0", -EBADSLT,
               "sdc (1:0:0:1) (model 'Virtual Disk') is not an ephemeral disk of azure");
        expect("azure-gen2", "rd.scratch.lun=0:0:0:1 rd.scratch.model=Other rd.scratch.timeout=0", -EBADSLT,
               "sdb (0:0:0:1) has model 'Virtual Disk', which rd.scratch.model='Other' does not match");
        expect("aws", "rd.scratch.serial=AWS22417A8B0C1D2E3F4,AWS6C0D1E2F3A4B5C6D7 rd.scratch.timeout=0", 0,
               "nvme1n1,nvme2n1");
        expect("aws", "rd.scratch.serial=vol0a1b2c3d4e5f60718 rd.scratch.cloud=aws rd.scratch.timeout=0", -EBADSLT,
               "nvme0n1 (model 'Amazon Elastic Block Store') is not an ephemeral disk of aws");
        /* Each listed disk must be there. */
        expect("aws", "rd.scratch.serial=AWS22417A8B0C1D2E3F4,MISSING rd.scratch.timeout=0", -ENOENT,
               "no disk at rd.scratch.serial=MISSING (of AWS22417A8B0C1D2E3F4,MISSING) after 0 ms");
        expect("gcp", "rd.scratch.lun=0:0:2:0,0:0:9:0 rd.scratch.timeout=0", -ENOENT,
               "no disk at rd.scratch.lun=0:0:9:0 (of 0:0:2:0,0:0:9:0) after 0 ms");
        /* GCP gives every NVMe local SSD the serial nvme_card. */
        expect("gcp", "rd.scratch.serial=nvme_card rd.scratch.timeout=0", -ENOTUNIQ,
               "rd.scratch.serial=nvme_card is ambiguous, it matches nvme1n1, nvme1n2");
        /* Addresses and serials together: each disk at an address carries
         * one of the serials, and each serial is on one of them. */
        expect("azure-gen2", "rd.scratch.lun=0:0:0:1,1:0:0:1 rd.scratch.serial=X,Y rd.scratch.timeout=0", -EBADSLT,
               "carries serial none, not one of rd.scratch.serial=X,Y");
        /* A bare LUN on several hosts is ambiguous in a list too. */
        expect("azure-gen2", "rd.scratch.lun=1,0:0:0:0 rd.scratch.timeout=0", -ENOTUNIQ, "give H:C:T:L");
        /* One address alone: the message as ever. */
        expect("gcp", "rd.scratch.lun=0:0:7:0 rd.scratch.timeout=0", -ENOENT, "no disk at rd.scratch.lun=0:0:7:0 after 0 ms");
        expect("aws", "rd.scratch", -ENOENT, "none of rd.scratch.lun=, rd.scratch.serial=, rd.scratch.model=");
}

/* A copy of the aws tree in which nvme2 reports nvme1's serial: the same
 * namespace under two controllers (nvme_core.multipath=N). With wwids the
 * namespaces tell themselves apart. */
static void test_same_disk_twice(void) {
        char tmp[] = "/tmp/test-cloud.XXXXXX", cmd[PATH_MAX * 2 + 64], path[PATH_MAX], why[512], names[512];
        const char *dev = "devices/pci0000:00/0000:00:1f.0/nvme/nvme2";
        struct options o;
        struct disk_set *set = calloc(1, sizeof(*set));
        FILE *f;
        int r;

        if (!set || !mkdtemp(tmp))
                abort();
        (void) snprintf(cmd, sizeof(cmd), "cp -a '%s/sysfs-aws/.' '%s/'", fixtures, tmp);
        check_int(system(cmd), 0, "copy of the aws tree");
        (void) snprintf(path, sizeof(path), "%s/%s/serial", tmp, dev);
        f = fopen(path, "we");
        if (!f)
                abort();
        fputs("AWS22417A8B0C1D2E3F4\n", f);
        fclose(f);

        options_init(&o);
        options_parse_cmdline(&o, "rd.scratch.cloud=aws");
        r = select_disks(tmp, &o, name_of, set, why, sizeof(why));
        check_int(r, -ENOTUNIQ, "aws, nvme1n1 and nvme2n1 with one serial: refused");
        check_has(why, "rd.scratch.cloud=aws selects nvme1n1 and nvme2n1, which are one disk seen through two paths "
                       "(both serial AWS22417A8B0C1D2E3F4)", "the reason names both disks and the option: %s", why);
        options_init(&o);
        options_parse_cmdline(&o, "rd.scratch.serial=AWS22417A8B0C1D2E3F4 rd.scratch.timeout=0");
        r = select_disks(tmp, &o, name_of, set, why, sizeof(why));
        check_int(r, -ENOTUNIQ, "the serial matches two disks: ambiguous, as before");

        /* Distinct wwids (EUI-64s): two namespaces, whatever the serials. */
        (void) snprintf(path, sizeof(path), "%s/%s/nvme2n1/wwid", tmp, dev);
        f = fopen(path, "we");
        if (!f)
                abort();
        fputs("eui.0000000000000002\n", f);
        fclose(f);
        (void) snprintf(path, sizeof(path), "%s/devices/virtual/nvme-subsystem/nvme-subsys1/nvme1n1/wwid", tmp);
        f = fopen(path, "we");
        if (!f)
                abort();
        fputs("eui.0000000000000001\n", f);
        fclose(f);
        options_init(&o);
        options_parse_cmdline(&o, "rd.scratch.cloud=aws");
        r = select_disks(tmp, &o, name_of, set, why, sizeof(why));
        check_int(r, 0, "aws, one serial but two wwids: two disks");
        names[0] = '\0';
        disk_set_names(set, names, sizeof(names));
        check_str(names, "nvme1n1,nvme2n1", "aws, two wwids: both taken");

        /* One wwid on both: one disk. */
        f = fopen(path, "we");
        if (!f)
                abort();
        fputs("eui.0000000000000002\n", f);
        fclose(f);
        r = select_disks(tmp, &o, name_of, set, why, sizeof(why));
        check_int(r, -ENOTUNIQ, "aws, one wwid on two namespaces: refused");
        check_has(why, "(both wwid eui.0000000000000002)", "the reason names the wwid: %s", why);

        (void) snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
        (void) system(cmd);
        free(set);
}

/* Azure's resource disk by its place: only on a machine without VMBus. A
 * copy of the gen2 tree whose first controller has lost its device id. */
static void test_azure_place(void) {
        char tmp[] = "/tmp/test-cloud.XXXXXX", cmd[PATH_MAX * 2 + 64], names[512], why[512];
        int r;

        if (!mkdtemp(tmp))
                abort();
        (void) snprintf(cmd, sizeof(cmd),
                        "cp -a '%s/sysfs-azure-gen2/.' '%s/' && rm '%s/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0004:00/"
                        "VMBUS:00/f8b3781a-1e82-4818-a1c3-63d806ec15bb/device_id'",
                        fixtures, tmp, tmp);
        check_int(system(cmd), 0, "copy of the azure-gen2 tree without the first controller's id");
        /* tree() prefixes sysfs-: select under the copy directly. */
        {
                struct options o;
                struct disk_set *set = calloc(1, sizeof(*set));

                if (!set)
                        abort();
                options_init(&o);
                options_parse_cmdline(&o, "rd.scratch.cloud=azure");
                r = select_disks(tmp, &o, name_of, set, why, sizeof(why));
                check_int(r, -ENOENT, "VMBus present, no id above 0:0:0:1: not taken by its place (%s)", why);

                (void) snprintf(cmd, sizeof(cmd), "rm -r '%s/bus/vmbus'", tmp);
                check_int(system(cmd), 0, "the copy without /sys/bus/vmbus");
                why[0] = '\0';
                r = select_disks(tmp, &o, name_of, set, why, sizeof(why));
                check_int(r, 0, "no VMBus: 0:0:0:1 taken by its place (%s)", why);
                names[0] = '\0';
                disk_set_names(set, names, sizeof(names));
                check_str(names, "sdb", "no VMBus: the disk at 0:0:0:1");
                free(set);
        }
        (void) snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
        (void) system(cmd);
}

int main(void) {
        const char *f = getenv("SR_FIXTURES");

        if (!f) {
                check(false, "SR_FIXTURES is set");
                return tap_done();
        }
        if (strlen(f) >= sizeof(fixtures)) {
                check(false, "SR_FIXTURES is short enough");
                return tap_done();
        }
        memcpy(fixtures, f, strlen(f) + 1);
        test_detect();
        test_identity();
        test_nvme_backs_root();
        test_cloud_select();
        test_no_wait();
        test_globs();
        test_lists();
        test_same_disk_twice();
        test_azure_place();
        return tap_done();
}
