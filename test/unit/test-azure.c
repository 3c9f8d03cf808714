/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Azure resource disk rule on image files that test/fixtures/ntfs-image.sh
 * makes with sfdisk, mkntfs and ntfscp: the disk as Azure delivers it is
 * reformattable; one more file, three partitions, another filesystem,
 * another label, a first partition that is not Microsoft's reserved one, an
 * extended partition or no partition table are not, and nothing is written
 * while looking. Then the verdict table, and the partition table's erasure
 * before mke2fs: the next probe finds our ext4 and no table, GPT's backup
 * header included. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <blkid.h>

#include "azure.h"
#include "config.h"
#include "fixture.h"
#include "format.h"
#include "macro.h"
#include "options.h"
#include "safety.h"
#include "select.h"
#include "tap.h"

#define IMAGE_MIB 80u

static const char *make_image(const char *kind) {
        static char img[PATH_MAX];
        char cmd[2 * PATH_MAX];
        const char *fixtures = getenv("SR_FIXTURES");
        int st;

        if (!fixtures)
                bail("SR_FIXTURES is not set");
        xfmt(img, sizeof(img), "%s/%s.img", base, kind);
        xfmt(cmd, sizeof(cmd), "sh '%s/ntfs-image.sh' '%s' '%s' %u", fixtures, kind, img, IMAGE_MIB);
        st = system(cmd);
        if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                bail("cannot make the %s image (%s)", kind, cmd);
        return img;
}

static unsigned char *slurp(const char *path, size_t *ret_len) {
        unsigned char *buf;
        struct stat st;
        size_t done = 0;
        int fd;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                bail("cannot read %s", path);
        buf = malloc((size_t) st.st_size);
        if (!buf)
                bail("out of memory");
        while (done < (size_t) st.st_size) {
                ssize_t k = read(fd, buf + done, (size_t) st.st_size - done);

                if (k <= 0)
                        bail("cannot read %s", path);
                done += (size_t) k;
        }
        (void) close(fd);
        *ret_len = done;
        return buf;
}

static const struct {
        const char *kind;
        int want;
        const char *why;        /* in the reason given */
        bool listed;            /* decided by the NTFS's file list */
} cases[] = {
        { "warning", 1, "holding only Azure's warning", true },
        { "empty", 1, "holding only Azure's warning", true },
        { "sysvol", 1, "holding only Azure's warning", true },
        { "lowercase", 1, "holding only Azure's warning", true },
        { "gptmsr", 1, "on partition 2", true },
        { "extra", 0, "holds 'notes.txt'", true },
        { "label", 0, "labelled 'Data', not 'Temporary Storage'", false },
        { "three", 0, "has 3 partitions", false },
        { "notntfs", 0, "is not NTFS (vfat)", false },
        { "gptdata", 0, "the first is not a Microsoft reserved one", false },
        { "bare", 0, "no partition table", false },
        { "extended", 0, "its partition 1 is an extended partition", false },
};

static void test_images(void) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *img = make_image(cases[i].kind);
                unsigned char *before, *after;
                size_t n_before, n_after;
                char why[256] = "";
                int r, want = cases[i].want;
                const char *want_why = cases[i].why;

                /* Whatever hangs on the listing is refused without the
                 * library that lists: never formatted on a guess. */
                if (!HAVE_LIBNTFS_3G && cases[i].listed) {
                        want = 0;
                        want_why = "built without libntfs-3g";
                }
                before = slurp(img, &n_before);
                r = azure_resource_disk_reformattable(img, why, sizeof(why));
                after = slurp(img, &n_after);
                check_int(r, want, "%s: %s", cases[i].kind, want ? "reformattable" : "refused");
                check_has(why, want_why, "%s: the reason says so", cases[i].kind);
                check(n_before == n_after && memcmp(before, after, n_before) == 0,
                      "%s: the image is unchanged by the check", cases[i].kind);
                free(before);
                free(after);
                (void) unlink(img);
        }
        check_err(azure_resource_disk_reformattable("/nonexistent/disk", (char[64]) {}, 64), -ENOENT,
                  "a node that does not exist: -ENOENT");
}

static struct disk_facts platform_facts(enum platform_check p, enum content c) {
        struct disk_facts f = {};

        f.attrs.size_bytes = UINT64_C(16) << 30;
        f.attrs.n_parts = 1;
        f.content = c;
        (void) snprintf(f.content_desc, sizeof(f.content_desc), "a dos partition table");
        f.platform = p;
        (void) snprintf(f.platform_desc, sizeof(f.platform_desc), "the reason");
        return f;
}

static void test_verdicts(void) {
        struct disk_facts f;
        char why[512];

        f = platform_facts(PLATFORM_REFORMATTABLE, CONTENT_FOREIGN);
        check_int(safety_decide(&f, false, why, sizeof(why)), VERDICT_FORMAT_PLATFORM, "as delivered: platform");
        check_has(why, "Azure's resource disk as delivered (the reason)", "as delivered: the reason says so");
        check_str(verdict_to_string(VERDICT_FORMAT_PLATFORM), "platform", "its name in the state file");

        f = platform_facts(PLATFORM_NOT_AS_DELIVERED, CONTENT_FOREIGN);
        check_int(safety_decide(&f, false, why, sizeof(why)), VERDICT_REFUSE, "not as delivered: refused");
        check_has(why, "a partition table with 1 partition, and is not Azure's resource disk as delivered: the reason",
                  "not as delivered: both reasons");
        check_int(safety_decide(&f, true, why, sizeof(why)), VERDICT_FORMAT_FORCED,
                  "not as delivered, rd.scratch.force: forced, as any foreign disk");

        f = platform_facts(PLATFORM_NOT_ASKED, CONTENT_FOREIGN);
        check_int(safety_decide(&f, false, why, sizeof(why)), VERDICT_REFUSE, "not asked: refused");
        check(!strstr(why, "Azure"), "not asked: Azure is not mentioned (%s)", why);

        f = platform_facts(PLATFORM_REFORMATTABLE, CONTENT_FOREIGN);
        f.mounted = true;
        check_int(safety_decide(&f, false, why, sizeof(why)), VERDICT_REFUSE, "as delivered but mounted: refused");
        f = platform_facts(PLATFORM_REFORMATTABLE, CONTENT_FOREIGN);
        f.backs_root = true;
        check_int(safety_decide(&f, true, why, sizeof(why)), VERDICT_REFUSE, "as delivered but the root: refused");
        f = platform_facts(PLATFORM_REFORMATTABLE, CONTENT_UNKNOWN);
        f.attrs.n_parts = 0;
        check_int(safety_decide(&f, false, why, sizeof(why)), VERDICT_REFUSE,
                  "as delivered but the disk unreadable: refused");
        f = platform_facts(PLATFORM_REFORMATTABLE, CONTENT_FOREIGN);
        f.attrs.size_bytes = SCRATCH_MIN_BYTES - 1;
        check_int(safety_decide(&f, false, why, sizeof(why)), VERDICT_REFUSE, "as delivered but too small: refused");
}

static int probe_table(const char *img, char *type, size_t n) {
        _cleanup_blkid_probe_ blkid_probe pr = NULL;
        const char *v = NULL;
        int r;

        pr = blkid_new_probe_from_filename(img);
        if (!pr)
                bail("cannot probe %s", img);
        (void) blkid_probe_enable_partitions(pr, 1);
        (void) blkid_probe_set_partitions_flags(pr, BLKID_PARTS_FORCE_GPT);
        (void) blkid_probe_enable_superblocks(pr, 0);
        r = blkid_do_fullprobe(pr);
        type[0] = '\0';
        if (r == 0 && blkid_probe_lookup_value(pr, "PTTYPE", &v, NULL) == 0)
                (void) snprintf(type, n, "%s", v);
        return r;
}

static void reformat(const char *kind) {
        const char *img = make_image(kind);
        char type[32], desc[160], why[256];
        enum content c = CONTENT_UNKNOWN;
        int fd, status = 0, r;

        probe_table(img, type, sizeof(type));
        check_str(type, strcmp(kind, "gptmsr") == 0 ? "gpt" : "dos", "%s: a partition table before", kind);

        r = azure_wipe_partition_table(img, NULL);
        check(r >= 1, "%s: the table's signatures are erased (%s)", kind, errname(r));
        probe_table(img, type, sizeof(type));
        check_str(type, "", "%s: no partition table after the erasure, backup GPT header included", kind);
        /* A format that stops here (mke2fs fails, the power goes) leaves a
         * disk the next boot takes as blank, not as data without a
         * signature: the table's entries went with its magic. */
        fd = open(img, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                bail("cannot open %s", img);
        r = safety_probe_content(fd, (uint64_t) IMAGE_MIB << 20, &c, desc, sizeof(desc));
        check_err(r, 0, "%s: the probe after the erasure works", kind);
        check_int(c, CONTENT_BLANK, "%s: after the erasure alone the disk is blank (%s)", kind, desc);
        (void) close(fd);

        r = format_scratch(MKE2FS_PATH, img, false, FORMAT_TIMEOUT_MS, &status);
        check_err(r, 0, "%s: mke2fs formats it (status %d)", kind, status);
        fd = open(img, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                bail("cannot open %s", img);
        r = safety_probe_content(fd, (uint64_t) IMAGE_MIB << 20, &c, desc, sizeof(desc));
        check_err(r, 0, "%s: the next probe works", kind);
        check_int(c, CONTENT_OURS, "%s: the next probe finds our ext4 (%s)", kind, desc);
        (void) close(fd);
        r = azure_resource_disk_reformattable(img, why, sizeof(why));
        check_int(r, 0, "%s: and it is no longer Azure's disk as delivered", kind);
        check_has(why, "no partition table", "%s: as it has no partition table", kind);
        (void) unlink(img);
}

/* A disk whose size libblkid does not give (an empty image here) is not
 * judged: no size, no bounds to check the partition against. */
static void test_no_size(void) {
        char img[PATH_MAX], why[256] = "";
        int fd, r;

        xfmt(img, sizeof(img), "%s/empty.img", base);
        fd = open(img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                bail("cannot create %s", img);
        r = azure_resource_fd_reformattable(fd, why, sizeof(why));
        check_err(r, -EIO, "a disk of unknown size is not judged (%s)", why);
        (void) close(fd);
        (void) unlink(img);
}

static void test_reformat(void) {
        reformat("warning");
        reformat("gptmsr");
}

/* The disks rd.scratch.cloud=azure takes under a fixture, "name*" for the
 * resource disk. */
static void select_names(const char *fixture, char *buf, size_t n) {
        struct disk_set *set = calloc(1, sizeof(*set));
        char sys[PATH_MAX], why[512];
        struct options o;
        int r;

        if (!set)
                bail("out of memory");
        xfmt(sys, sizeof(sys), "%s/%s", getenv("SR_FIXTURES"), fixture);
        options_init(&o);
        options_parse_cmdline(&o, "rd.scratch.cloud=azure");
        r = select_disks(sys, &o, option_name, set, why, sizeof(why));
        buf[0] = '\0';
        if (r < 0)
                (void) snprintf(buf, n, "error: %.400s", why);
        for (unsigned i = 0; r == 0 && i < set->n; i++) {
                size_t k = strlen(buf);

                (void) snprintf(buf + k, n - k, "%s%s%s", i ? "," : "", set->disks[i].name,
                                set->disks[i].azure_resource ? "*" : "");
        }
        free(set);
}

/* A size with local NVMe disks and a SCSI resource disk (Lsv3): the NVMe
 * disks are taken, the resource disk left alone, as Azure's own setup does;
 * without NVMe disks the resource disk is taken. */
static void test_selection(void) {
        char names[512];

        select_names("sysfs-azure-lsv3", names, sizeof(names));
        check_str(names, "nvme1n1,nvme2n1", "NVMe temp disks and a resource disk: the NVMe disks only");
        select_names("sysfs-azure-gen2", names, sizeof(names));
        check_str(names, "sdb*", "the resource disk alone: taken");
        select_names("sysfs-azure-nvme", names, sizeof(names));
        check_str(names, "nvme1n1,nvme2n1", "the NVMe temp disks alone: taken");
}

int main(void) {
        if (!fixture_start("test-azure", "making disk images"))
                return tap_done();
        tap_diag("libntfs-3g: %s", dlib_unsupported(azure_ntfs_library()) ? dlib_unsupported(azure_ntfs_library()) : "loaded");
        test_images();
        test_verdicts();
        test_selection();
        test_reformat();
        test_no_size();
        return fixture_done();
}
