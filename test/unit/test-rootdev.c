/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* root=: parsing, and the lookup by name, LABEL, UUID and PARTUUID against a
 * fake sysfs tree whose devices are image files made by mke2fs. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "rootdev.h"
#include "tap.h"
#include "util.h"

static const char *err_name(int r) {
        switch (r) {
        case 0: return "0";
        case -EINVAL: return "-EINVAL";
        case -EOPNOTSUPP: return "-EOPNOTSUPP";
        case -ENOENT: return "-ENOENT";
        case -ENOTUNIQ: return "-ENOTUNIQ";
        case -ENODEV: return "-ENODEV";
        default: return "other";
        }
}

/* ---- parsing ----------------------------------------------------------- */

static void check_parse(const char *s, int want_r, enum root_kind want_kind, const char *want_value) {
        struct root_spec spec = { .kind = ROOT_PATH, .value = "untouched" };
        int r = root_spec_parse(s, &spec);

        if (!check(r == want_r, "root=%s parses to %s", s, err_name(want_r))) {
                tap_diag("got %d (%s)", r, err_name(r));
                return;
        }
        if (want_r < 0) {
                check_str(spec.value, "untouched", "root=%s: a failed parse leaves the result alone", s);
                return;
        }
        check_int(spec.kind, want_kind, "root=%s: kind", s);
        check_str(spec.value, want_value, "root=%s: value", s);
}

static void test_parse(void) {
        check_parse("LABEL=root", 0, ROOT_LABEL, "root");
        check_parse("LABEL=my disk", 0, ROOT_LABEL, "my disk");
        check_parse("LABEL=a=b/c", 0, ROOT_LABEL, "a=b/c");
        check_parse("UUID=0f3c6bd4-4b7e-4a57-9a4e-37a0bd1d3c11", 0, ROOT_UUID,
                    "0f3c6bd4-4b7e-4a57-9a4e-37a0bd1d3c11");
        check_parse("UUID=ABCD-1234", 0, ROOT_UUID, "ABCD-1234");
        check_parse("PARTUUID=1234abcd-01", 0, ROOT_PARTUUID, "1234abcd-01");
        check_parse("PARTUUID=6E8B3C1F-7D2A-4E5B-9C3D-0A1B2C3D4E5F", 0, ROOT_PARTUUID,
                    "6E8B3C1F-7D2A-4E5B-9C3D-0A1B2C3D4E5F");
        check_parse("/dev/sda", 0, ROOT_PATH, "sda");
        check_parse("/dev/vda1", 0, ROOT_PATH, "vda1");
        check_parse("/dev/nvme0n1p2", 0, ROOT_PATH, "nvme0n1p2");
        check_parse("/dev/cciss/c0d0p1", 0, ROOT_PATH, "cciss!c0d0p1");
        check_parse("/dev/disk/by-label/my\\x20disk", 0, ROOT_LABEL, "my disk");
        check_parse("/dev/disk/by-label/a\\x2fb", 0, ROOT_LABEL, "a/b");
        check_parse("/dev/disk/by-uuid/0f3c6bd4-4b7e-4a57-9a4e-37a0bd1d3c11", 0, ROOT_UUID,
                    "0f3c6bd4-4b7e-4a57-9a4e-37a0bd1d3c11");
        check_parse("/dev/disk/by-partuuid/1234abcd-02", 0, ROOT_PARTUUID, "1234abcd-02");

        /* Empty and malformed. */
        check_parse("", -EINVAL, 0, NULL);
        check_parse("LABEL=", -EINVAL, 0, NULL);
        check_parse("UUID=", -EINVAL, 0, NULL);
        check_parse("PARTUUID=", -EINVAL, 0, NULL);
        check_parse("/dev/", -EINVAL, 0, NULL);
        check_parse("/dev//sda", -EINVAL, 0, NULL);
        check_parse("/dev/sda/", -EINVAL, 0, NULL);
        check_parse("/dev/../sda", -EINVAL, 0, NULL);
        check_parse("/dev/a/../sda", -EINVAL, 0, NULL);
        check_parse("/dev/a/..", -EINVAL, 0, NULL);
        check_parse("/dev/..", -EINVAL, 0, NULL);
        check_parse("/dev/a!b", -EINVAL, 0, NULL);
        check_parse("UUID=not-a-uuid!", -EINVAL, 0, NULL);
        check_parse("UUID=0f3c 6bd4", -EINVAL, 0, NULL);
        check_parse("PARTUUID=xyz", -EINVAL, 0, NULL);
        check_parse("/dev/disk/by-label/", -EINVAL, 0, NULL);
        check_parse("/dev/disk/by-label/bad\\x", -EINVAL, 0, NULL);
        check_parse("/dev/disk/by-label/bad\\xzz", -EINVAL, 0, NULL);
        check_parse("/dev/disk/by-label/nul\\x00", -EINVAL, 0, NULL);
        check_parse("/dev/disk/by-label/a/b", -EINVAL, 0, NULL);

        /* Unknown forms. */
        check_parse("sda1", -EINVAL, 0, NULL);
        check_parse("label=root", -EINVAL, 0, NULL);
        check_parse("FOO=bar", -EINVAL, 0, NULL);
        check_parse("8:1", -EINVAL, 0, NULL);
        check_parse("0801", -EINVAL, 0, NULL);
        check_parse("dev/sda", -EINVAL, 0, NULL);
        check_parse(" LABEL=root", -EINVAL, 0, NULL);

        /* Forms that need what this initrd does not have. */
        check_parse("/dev/disk/by-id/scsi-0QEMU_QEMU_HARDDISK_drive0", -EOPNOTSUPP, 0, NULL);
        check_parse("/dev/disk/by-path/pci-0000:00:03.0-scsi-0:0:0:0", -EOPNOTSUPP, 0, NULL);
        check_parse("/dev/mapper/vg-root", -EOPNOTSUPP, 0, NULL);
        check_parse("PARTUUID=1234abcd-01/PARTNROFF=1", -EOPNOTSUPP, 0, NULL);

        {
                char s[ROOTDEV_MAX_VALUE + 32];

                memset(s, 0, sizeof(s));
                strcpy(s, "LABEL=");
                memset(s + 6, 'a', ROOTDEV_MAX_VALUE);
                check_parse(s, 0, ROOT_LABEL, s + 6);
                s[6 + ROOTDEV_MAX_VALUE] = 'a';
                check_parse(s, -EINVAL, 0, NULL);
        }
}

static void check_format(const char *s) {
        struct root_spec spec;
        char buf[512];

        if (!check(root_spec_parse(s, &spec) == 0, "format: %s parses", s))
                return;
        root_spec_format(&spec, buf, sizeof(buf));
        check_str(buf, s, "format: %s round-trips", s);
}

static void test_format(void) {
        struct root_spec spec;
        char buf[512];

        check_format("LABEL=root");
        check_format("UUID=0f3c6bd4-4b7e-4a57-9a4e-37a0bd1d3c11");
        check_format("PARTUUID=1234abcd-01");
        check_format("/dev/sda1");
        check_format("/dev/cciss/c0d0");

        check_int(root_spec_parse("/dev/disk/by-label/my\\x20disk", &spec), 0, "format: udev link parses");
        root_spec_format(&spec, buf, sizeof(buf));
        check_str(buf, "LABEL=my disk", "format: a by-label link is shown as LABEL=");
}

/* ---- lookup on a fake tree --------------------------------------------- */

#define UUID_ROOT "0f3c6bd4-4b7e-4a57-9a4e-37a0bd1d3c11"
#define UUID_DATA "5a1e2b3c-0000-4d4d-8e8e-123456789abc"
#define UUID_DUP "99999999-8888-4777-8666-555555555555"
#define DISK_ID 0x1234abcdu

static char tree[PATH_MAX];
static char sysfs[PATH_MAX + 16];
static char devdir[PATH_MAX + 16];
static bool have_tree;

static int xwrite(const char *dir, const char *name, const char *content) {
        char path[PATH_MAX * 2];

        if (xsnprintf(path, sizeof(path), "%s/%s", dir, name) < 0)
                return -ENAMETOOLONG;
        return write_file_atomic(path, content, 0644);
}

static int run_mke2fs(const char *image, const char *label, const char *uuid) {
        char *const argv[] = {
                (char *) MKE2FS_PATH, (char *) "-q", (char *) "-F", (char *) "-t", (char *) "ext4",
                (char *) "-L", (char *) label, (char *) "-U", (char *) uuid, (char *) image, (char *) "2M", NULL,
        };
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int fd = open("/dev/null", O_RDWR);

                if (fd >= 0) {
                        (void) dup2(fd, 0);
                        (void) dup2(fd, 1);
                }
                (void) execv(MKE2FS_PATH, argv);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* A disk with a DOS partition table and one Linux partition at 1 MiB. */
static int write_mbr_disk(const char *image) {
        unsigned char mbr[512] = {};
        uint32_t start = 2048, sectors = 2048;
        int fd, r = 0;

        mbr[440] = DISK_ID & 0xff;
        mbr[441] = (DISK_ID >> 8) & 0xff;
        mbr[442] = (DISK_ID >> 16) & 0xff;
        mbr[443] = (DISK_ID >> 24) & 0xff;
        mbr[446 + 4] = 0x83;
        for (int i = 0; i < 4; i++) {
                mbr[446 + 8 + i] = (unsigned char) (start >> (8 * i));
                mbr[446 + 12 + i] = (unsigned char) (sectors >> (8 * i));
        }
        mbr[510] = 0x55;
        mbr[511] = 0xaa;
        fd = open(image, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        if (write(fd, mbr, sizeof(mbr)) != (ssize_t) sizeof(mbr) || ftruncate(fd, 4 << 20) < 0)
                r = -EIO;
        (void) close(fd);
        return r;
}

/* class/block/NAME with dev and size; parent: a disk's directory for a
 * partition, which class/block then links to, as sysfs does. */
static int add_block(const char *name, const char *parent, const char *devno, const char *size,
                     const char *partition) {
        char dir[PATH_MAX * 2], link[PATH_MAX * 2], target[PATH_MAX];
        int r;

        if (parent)
                (void) snprintf(dir, sizeof(dir), "%s/class/block/%s/%s", sysfs, parent, name);
        else
                (void) snprintf(dir, sizeof(dir), "%s/class/block/%s", sysfs, name);
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return r;
        if ((r = xwrite(dir, "dev", devno)) < 0 || (r = xwrite(dir, "size", size)) < 0)
                return r;
        if (partition && (r = xwrite(dir, "partition", partition)) < 0)
                return r;
        if (parent) {
                (void) snprintf(link, sizeof(link), "%s/class/block/%s", sysfs, name);
                (void) snprintf(target, sizeof(target), "%s/%s", parent, name);
                if (symlink(target, link) < 0)
                        return -errno;
        }
        return 0;
}

static int make_tree(void) {
        char path[PATH_MAX * 2];
        int r;

        strcpy(tree, "/tmp/test-rootdev.XXXXXX");
        if (!mkdtemp(tree))
                return -errno;
        have_tree = true;
        (void) snprintf(sysfs, sizeof(sysfs), "%s/sys", tree);
        (void) snprintf(devdir, sizeof(devdir), "%s/dev", tree);
        if ((r = mkdir_p(devdir, 0755)) < 0 || (r = mkdir_p(sysfs, 0755)) < 0)
                return r;

        /* sda: the root; sdb: data; sdc: a partitioned disk whose sdc1 holds
         * a filesystem; sdd: a drive without a medium; sde and sdf: clones;
         * cciss!c0d0: a name with a slash in /dev. */
        if ((r = add_block("sda", NULL, "8:0", "4096", NULL)) < 0 ||
            (r = add_block("sdb", NULL, "8:16", "4096", NULL)) < 0 ||
            (r = add_block("sdc", NULL, "8:32", "8192", NULL)) < 0 ||
            (r = add_block("sdc1", "sdc", "8:33", "2048", "1")) < 0 ||
            (r = add_block("sdd", NULL, "8:48", "0", NULL)) < 0 ||
            (r = add_block("sde", NULL, "8:64", "4096", NULL)) < 0 ||
            (r = add_block("sdf", NULL, "8:80", "4096", NULL)) < 0 ||
            (r = add_block("cciss!c0d0", NULL, "104:0", "4096", NULL)) < 0)
                return r;

        (void) snprintf(path, sizeof(path), "%s/sda", devdir);
        if ((r = run_mke2fs(path, "root", UUID_ROOT)) < 0)
                return r;
        (void) snprintf(path, sizeof(path), "%s/sdb", devdir);
        if ((r = run_mke2fs(path, "data", UUID_DATA)) < 0)
                return r;
        (void) snprintf(path, sizeof(path), "%s/sdc", devdir);
        if ((r = write_mbr_disk(path)) < 0)
                return r;
        (void) snprintf(path, sizeof(path), "%s/sdc1", devdir);
        if ((r = run_mke2fs(path, "part", "11111111-2222-4333-8444-555555555555")) < 0)
                return r;
        (void) snprintf(path, sizeof(path), "%s/sde", devdir);
        if ((r = run_mke2fs(path, "clone", UUID_DUP)) < 0)
                return r;
        (void) snprintf(path, sizeof(path), "%s/sdf", devdir);
        if ((r = run_mke2fs(path, "clone", UUID_DUP)) < 0)
                return r;
        (void) snprintf(path, sizeof(path), "%s/cciss", devdir);
        if ((r = mkdir_p(path, 0755)) < 0)
                return r;
        (void) snprintf(path, sizeof(path), "%s/cciss/c0d0", devdir);
        return run_mke2fs(path, "array", "22222222-3333-4444-8555-666666666666");
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        if (flag == FTW_DP)
                return rmdir(path) < 0 ? -1 : 0;
        return unlink(path) < 0 ? -1 : 0;
}

static void remove_tree(void) {
        if (have_tree)
                (void) nftw(tree, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void *add_late_device(void *arg) {
        (void) arg;
        sleep_ms(200);
        (void) add_block("sdg", NULL, "8:96", "4096", NULL);
        return NULL;
}

static void check_find(const char *root, int want_r, const char *want_name, const char *want_devno,
                       const char *want_fstype) {
        const struct rootdev_dirs dirs = { .sysfs = sysfs, .devdir = devdir };
        struct root_spec spec;
        struct rootdev dev = { .name = "untouched" };
        char amb[256] = "", node[PATH_MAX * 2], devno[32];
        int r;

        if (!check(root_spec_parse(root, &spec) == 0, "lookup root=%s: parses", root))
                return;
        r = rootdev_find(&dirs, &spec, &dev, amb, sizeof(amb));
        if (!check(r == want_r, "lookup root=%s: %s", root, err_name(want_r))) {
                tap_diag("got %d (%s), ambiguous: '%s'", r, err_name(r), amb);
                return;
        }
        if (r == -ENOTUNIQ) {
                check_has(amb, "sde", "lookup root=%s: the clash names sde", root);
                check_has(amb, "sdf", "lookup root=%s: the clash names sdf", root);
        }
        if (r < 0) {
                check_str(dev.name, "untouched", "lookup root=%s: nothing written on failure", root);
                return;
        }
        (void) snprintf(devno, sizeof(devno), "%u:%u", major(dev.devno), minor(dev.devno));
        check_str(dev.name, want_name, "lookup root=%s: device", root);
        check_str(devno, want_devno, "lookup root=%s: device number", root);
        check_str(dev.fstype, want_fstype, "lookup root=%s: filesystem type", root);
        (void) snprintf(node, sizeof(node), "%s/%s", devdir, want_name);
        for (char *c = node + strlen(devdir); *c; c++)
                if (*c == '!')
                        *c = '/';
        check_str(dev.node, node, "lookup root=%s: node", root);
}

static void test_lookup(void) {
        const struct rootdev_dirs dirs = { .sysfs = sysfs, .devdir = devdir };
        struct root_spec spec;
        struct rootdev dev;
        uint64_t t0;
        int r;

        r = make_tree();
        if (!check(r == 0, "lookup: fake sysfs and images made (%s)", MKE2FS_PATH)) {
                tap_diag("error %d: %s", r, strerror(-r));
                return;
        }

        check_find("LABEL=root", 0, "sda", "8:0", "ext4");
        check_find("LABEL=data", 0, "sdb", "8:16", "ext4");
        check_find("LABEL=part", 0, "sdc1", "8:33", "ext4");
        check_find("LABEL=Root", -ENOENT, NULL, NULL, NULL);
        check_find("LABEL=nothere", -ENOENT, NULL, NULL, NULL);
        check_find("UUID=" UUID_ROOT, 0, "sda", "8:0", "ext4");
        check_find("UUID=5A1E2B3C-0000-4D4D-8E8E-123456789ABC", 0, "sdb", "8:16", "ext4");
        check_find("UUID=00000000-0000-0000-0000-000000000000", -ENOENT, NULL, NULL, NULL);
        check_find("PARTUUID=1234abcd-01", 0, "sdc1", "8:33", "ext4");
        check_find("PARTUUID=1234ABCD-01", 0, "sdc1", "8:33", "ext4");
        check_find("PARTUUID=1234abcd-02", -ENOENT, NULL, NULL, NULL);
        check_find("/dev/sdb", 0, "sdb", "8:16", "ext4");
        check_find("/dev/sdc", 0, "sdc", "8:32", "");
        check_find("/dev/sdc1", 0, "sdc1", "8:33", "ext4");
        check_find("/dev/cciss/c0d0", 0, "cciss!c0d0", "104:0", "ext4");
        check_find("/dev/sdz", -ENOENT, NULL, NULL, NULL);
        check_find("/dev/disk/by-label/data", 0, "sdb", "8:16", "ext4");
        check_find("LABEL=clone", -ENOTUNIQ, NULL, NULL, NULL);
        check_find("UUID=" UUID_DUP, -ENOTUNIQ, NULL, NULL, NULL);

        /* Waiting gives up at the bound and says what it last saw. */
        if (check(root_spec_parse("LABEL=late", &spec) == 0, "wait: parses")) {
                t0 = now_ms();
                r = rootdev_wait(&dirs, &spec, 200, &dev, NULL, 0);
                check_int(r, -ENOENT, "wait: -ENOENT after the bound");
                check(now_ms() - t0 >= 200 && now_ms() - t0 < 5000, "wait: took the bound (%llu ms)",
                      (unsigned long long) (now_ms() - t0));
                t0 = now_ms();
                r = rootdev_wait(&dirs, &spec, 0, &dev, NULL, 0);
                check_int(r, -ENOENT, "wait: a bound of 0 looks once");
                check(now_ms() - t0 < 1000, "wait: a bound of 0 does not sleep");
        }
        if (check(root_spec_parse("LABEL=root", &spec) == 0, "wait: parses LABEL=root")) {
                t0 = now_ms();
                r = rootdev_wait(&dirs, &spec, 10000, &dev, NULL, 0);
                check_int(r, 0, "wait: a present device is found at once");
                check(now_ms() - t0 < 2000, "wait: without waiting");
        }

        /* A device that shows up while the boot waits is found. */
        {
                char path[PATH_MAX * 2];
                pthread_t t;

                (void) snprintf(path, sizeof(path), "%s/sdg", devdir);
                if (check(run_mke2fs(path, "late", "33333333-4444-4555-8666-777777777777") == 0,
                          "wait: an image for a late device") &&
                    check(root_spec_parse("LABEL=late", &spec) == 0, "wait: parses LABEL=late") &&
                    check(pthread_create(&t, NULL, add_late_device, NULL) == 0, "wait: the device comes later")) {
                        t0 = now_ms();
                        r = rootdev_wait(&dirs, &spec, 10000, &dev, NULL, 0);
                        (void) pthread_join(t, NULL);
                        check_int(r, 0, "wait: a late device is found");
                        check_str(r == 0 ? dev.name : "", "sdg", "wait: it is sdg");
                        check(now_ms() - t0 >= 200 && now_ms() - t0 < 5000, "wait: after it came (%llu ms)",
                              (unsigned long long) (now_ms() - t0));
                }
        }

        /* A node that is some other device is not read; without a place for
         * nodes of its own, the device cannot be looked at. */
        {
                char path[PATH_MAX * 2];

                (void) snprintf(path, sizeof(path), "%s/sdb", devdir);
                (void) unlink(path);
                if (check(symlink("/dev/null", path) == 0, "node: sdb's node is another device")) {
                        check_find("LABEL=data", -ENOENT, NULL, NULL, NULL);
                        check_find("/dev/sdb", -ENODEV, NULL, NULL, NULL);
                }
        }

        /* No class/block at all: nothing yet. */
        {
                const struct rootdev_dirs none = { .sysfs = "/nonexistent", .devdir = devdir };

                if (check(root_spec_parse("LABEL=root", &spec) == 0, "no sysfs: parses"))
                        check_int(rootdev_find(&none, &spec, &dev, NULL, 0), -ENOENT, "no sysfs: -ENOENT");
        }
}

/* The match a prepare makes on a disk itself, before the root is mounted. */
static void check_fd(const char *file, const char *name, const char *root, int want) {
        struct root_spec spec;
        char path[PATH_MAX * 2];
        int fd, r;

        if (!check(root_spec_parse(root, &spec) == 0, "fd match root=%s: parses", root))
                return;
        (void) snprintf(path, sizeof(path), "%s/%s", devdir, file);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (!check(fd >= 0, "fd match: %s opens", path))
                return;
        r = rootdev_fd_matches(fd, name, &spec);
        check_int(r, want, "fd match root=%s on %s: %d", root, name, want);
        close(fd);
}

static void test_fd_matches(void) {
        if (!have_tree) {
                check(false, "fd match: the tree of test_lookup is there");
                return;
        }
        check_fd("sda", "sda", "UUID=" UUID_ROOT, 1);
        check_fd("sda", "sda", "UUID=" UUID_DATA, 0);
        check_fd("sda", "sda", "LABEL=root", 1);
        check_fd("sda", "sda", "LABEL=Root", 0);
        check_fd("sde", "sde", "UUID=" UUID_ROOT, 0);
        check_fd("sda", "sda", "/dev/sda", 1);
        check_fd("sda", "sda", "/dev/sda1", 0);
        check_fd("sde", "sde", "/dev/disk/by-label/clone", 1);
        /* A partition entry is never on a whole disk. */
        check_fd("sdc", "sdc", "PARTUUID=00000000-01", 0);
        /* sdc1's filesystem is not sdc's own. */
        check_fd("sdc", "sdc", "LABEL=part", 0);
}

int main(void) {
        test_parse();
        test_format();
        test_lookup();
        test_fd_matches();
        remove_tree();
        return tap_done();
}
