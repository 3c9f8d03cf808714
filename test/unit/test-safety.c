/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The safety proof: safety_decide()'s table, safety_probe_content() on real
 * images made with mkfs.ext4, mkfs.ext2, mkfs.ext3, mkfs.vfat, mkswap and
 * sfdisk (Debian: e2fsprogs, dosfstools, util-linux, fdisk; a missing tool
 * fails the test), mountinfo_find_dev() and mountinfo_mounts_at() on fake
 * mountinfo files (test/fixtures/escaped-mounts), and safety_root_devices()
 * for a root whose st_dev is anonymous (as btrfs's), in a private mount
 * namespace. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <unistd.h>

#include "fixture.h"
#include "safety.h"
#include "stripe.h"
#include "util.h"

#define MiB (UINT64_C(1) << 20)
#define IMAGE_SIZE (128 * MiB)

/* ---- safety_decide ------------------------------------------------------ */

static struct disk_facts blank_disk(void) {
        struct disk_facts f = {};

        f.attrs.size_bytes = 8192 * MiB;
        f.content = CONTENT_BLANK;
        (void) snprintf(f.content_desc, sizeof(f.content_desc), "nothing");
        return f;
}

static const char *verdict_name(enum verdict v) {
        switch (v) {
        case VERDICT_REFUSE: return "REFUSE";
        case VERDICT_FORMAT_BLANK: return "FORMAT_BLANK";
        case VERDICT_FORMAT_OURS: return "FORMAT_OURS";
        case VERDICT_FORMAT_FORCED: return "FORMAT_FORCED";
        case VERDICT_FORMAT_PLATFORM: return "FORMAT_PLATFORM";
        }
        return "?";
}

static void check_verdict(const struct disk_facts *f, bool force, enum verdict want, const char *why_has,
                          const char *what) {
        char why[512];
        enum verdict v;

        memset(why, 0, sizeof(why));
        v = safety_decide(f, force, why, sizeof(why));
        if (!check(v == want, "%s%s: %s", what, force ? " (forced)" : "", verdict_name(want))) {
                tap_diag("got %s: %s", verdict_name(v), why);
                return;
        }
        if (why_has)
                check_has(why, why_has, "%s%s: why says '%s'", what, force ? " (forced)" : "", why_has);
}

struct refusal {
        const char *what;
        void (*apply)(struct disk_facts *f);
        const char *why;
};

static void r_partition(struct disk_facts *f) { f->attrs.is_partition = true; }
static void r_root_unknown(struct disk_facts *f) { f->root_unknown = true; }
static void r_backs_root(struct disk_facts *f) { f->backs_root = true; }
static void r_read_only(struct disk_facts *f) { f->attrs.read_only = true; }
static void r_holder(struct disk_facts *f) { (void) snprintf(f->attrs.holder, sizeof(f->attrs.holder), "dm-3"); }
static void r_mounted(struct disk_facts *f) { f->mounted = true; }
static void r_busy(struct disk_facts *f) { f->busy = true; }
static void r_small(struct disk_facts *f) { f->attrs.size_bytes = SCRATCH_MIN_BYTES - 1; }
static void r_tiny(struct disk_facts *f) { f->attrs.size_bytes = 0; }
static void r_parts(struct disk_facts *f) {
        f->attrs.n_parts = 2;
        f->attrs.parts[0] = makedev(8, 17);
        f->attrs.parts[1] = makedev(8, 18);
}
static void r_one_part(struct disk_facts *f) {
        f->attrs.n_parts = 1;
        f->attrs.parts[0] = makedev(8, 17);
}
static void r_unknown(struct disk_facts *f) {
        f->content = CONTENT_UNKNOWN;
        (void) snprintf(f->content_desc, sizeof(f->content_desc), "read error: Input/output error");
}

static void decide_contents(void) {
        struct disk_facts f;

        f = blank_disk();
        check_verdict(&f, false, VERDICT_FORMAT_BLANK, "blank", "blank disk");
        check_verdict(&f, true, VERDICT_FORMAT_BLANK, "blank", "blank disk");

        f = blank_disk();
        f.attrs.size_bytes = SCRATCH_MIN_BYTES;
        check_verdict(&f, false, VERDICT_FORMAT_BLANK, NULL, "blank disk of exactly 64 MiB");
        f.attrs.size_bytes = SCRATCH_MIN_BYTES - 1;
        check_verdict(&f, false, VERDICT_REFUSE, "64 MiB", "blank disk of 64 MiB - 1 byte");

        /* Partitions the kernel knows of are a partition table: refused,
         * unless rd.scratch.force overrides the blank-or-ours test. */
        f = blank_disk();
        r_parts(&f);
        check_verdict(&f, false, VERDICT_REFUSE, "2 partitions", "2 partitions");
        check_verdict(&f, true, VERDICT_FORMAT_FORCED, "2 partitions", "2 partitions, forced");
        f = blank_disk();
        r_one_part(&f);
        check_verdict(&f, false, VERDICT_REFUSE, "1 partition", "1 partition");
        check_verdict(&f, true, VERDICT_FORMAT_FORCED, "rd.scratch.force", "1 partition, forced");
        f = blank_disk();
        r_one_part(&f);
        f.attrs.read_only = true;
        check_verdict(&f, true, VERDICT_REFUSE, "read-only", "1 partition and read-only, forced: read-only wins");

        f = blank_disk();
        f.attrs.removable = true;
        check_verdict(&f, false, VERDICT_FORMAT_BLANK, NULL, "removable blank disk (removable is no reason)");

        f = blank_disk();
        f.content = CONTENT_OURS;
        (void) snprintf(f.content_desc, sizeof(f.content_desc), "an ext4 filesystem labelled 'scratchroot'");
        check_verdict(&f, false, VERDICT_FORMAT_OURS, "scratchroot", "our own stamp");
        check_verdict(&f, true, VERDICT_FORMAT_OURS, "scratchroot", "our own stamp");

        f = blank_disk();
        f.content = CONTENT_FOREIGN;
        (void) snprintf(f.content_desc, sizeof(f.content_desc), "a ext4 signature labelled 'data'");
        check_verdict(&f, false, VERDICT_REFUSE, "a ext4 signature labelled 'data'", "foreign ext4");
        check_verdict(&f, true, VERDICT_FORMAT_FORCED, "a ext4 signature labelled 'data'", "foreign ext4");
        check_verdict(&f, true, VERDICT_FORMAT_FORCED, "rd.scratch.force", "foreign ext4");

        f = blank_disk();
        f.content = CONTENT_DATA;
        (void) snprintf(f.content_desc, sizeof(f.content_desc), "data without a known signature in its first MiB");
        check_verdict(&f, false, VERDICT_REFUSE, "data without a known signature", "raw data");
        check_verdict(&f, true, VERDICT_FORMAT_FORCED, "data without a known signature", "raw data");
}

static void decide_refusals(void) {
        const struct refusal refusals[] = {
                { "a partition", r_partition, "partition" },
                { "root unknown", r_root_unknown, "root" },
                { "backs the root", r_backs_root, "root" },
                { "read-only", r_read_only, "read-only" },
                { "held by dm-3", r_holder, "dm-3" },
                { "mounted", r_mounted, "mounted" },
                { "busy", r_busy, "busy" },
                { "64 MiB - 1 byte", r_small, "too small" },
                { "0 bytes", r_tiny, "too small" },
                { "unknown content", r_unknown, "could not be checked" },
        };
        struct disk_facts f;

        /* Each refusal alone, then forced: force yields on nothing of these,
         * whether the content is blank, foreign or data. */
        for (unsigned i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
                const struct refusal *r = &refusals[i];
                const enum content contents[] = { CONTENT_BLANK, CONTENT_FOREIGN, CONTENT_DATA, CONTENT_OURS };
                const char *cnames[] = { "blank", "foreign", "data", "ours" };
                char what[128];

                f = blank_disk();
                r->apply(&f);
                (void) snprintf(what, sizeof(what), "%s alone", r->what);
                check_verdict(&f, false, VERDICT_REFUSE, r->why, what);

                for (unsigned c = 0; c < sizeof(contents) / sizeof(contents[0]); c++) {
                        if (r->apply == r_unknown && c > 0)
                                break;
                        f = blank_disk();
                        if (r->apply != r_unknown) {
                                f.content = contents[c];
                                (void) snprintf(f.content_desc, sizeof(f.content_desc), "%s",
                                                contents[c] == CONTENT_DATA ? "data without a known signature in its first MiB"
                                                : contents[c] == CONTENT_FOREIGN ? "a vfat signature"
                                                : contents[c] == CONTENT_OURS ? "an ext4 filesystem labelled 'scratchroot'"
                                                : "nothing");
                        }
                        r->apply(&f);
                        (void) snprintf(what, sizeof(what), "%s, %s content", r->what,
                                        r->apply == r_unknown ? "unknown" : cnames[c]);
                        check_verdict(&f, true, VERDICT_REFUSE, r->why, what);
                }
        }
}

static void decide_order_and_names(void) {
        struct disk_facts f;

        /* The first reason is the one given. */
        f = blank_disk();
        f.attrs.read_only = true;
        f.mounted = true;
        f.content = CONTENT_FOREIGN;
        check_verdict(&f, false, VERDICT_REFUSE, "read-only", "read-only and mounted and foreign");

        /* A short why buffer is cut, not overrun. */
        {
                char small[12];

                memset(small, 'x', sizeof(small));
                f = blank_disk();
                f.attrs.holder[0] = 'm';
                f.attrs.holder[1] = 'd';
                f.attrs.holder[2] = '0';
                (void) safety_decide(&f, false, small, 8);
                check(memchr(small, '\0', 8) != NULL && small[8] == 'x' && small[11] == 'x',
                      "why buffer of 8: NUL-terminated within 8 bytes, nothing written past");
        }

        check_str(verdict_to_string(VERDICT_REFUSE), "refused", "verdict_to_string(REFUSE)");
        check_str(verdict_to_string(VERDICT_FORMAT_BLANK), "blank", "verdict_to_string(FORMAT_BLANK)");
        check_str(verdict_to_string(VERDICT_FORMAT_OURS), "reused", "verdict_to_string(FORMAT_OURS)");
        check_str(verdict_to_string(VERDICT_FORMAT_FORCED), "forced", "verdict_to_string(FORMAT_FORCED)");
}

static void test_decide(void) {
        decide_contents();
        decide_refusals();
        decide_order_and_names();
}

/* ---- safety_probe_content ------------------------------------------------ */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...) {
        char cmd[PATH_MAX * 2];
        va_list ap;
        int r;

        va_start(ap, fmt);
        (void) vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        r = system(cmd);
        if (r != 0)
                tap_diag("'%s' exited with %d", cmd, r);
        return r;
}

static const char *img(const char *name) {
        static char p[4][PATH_MAX];
        static unsigned k;
        char *s = p[k++ % 4];

        xfmt(s, PATH_MAX, "%s/%s", base, name);
        return s;
}

/* A sparse file of size bytes, zeros throughout. */
static bool make_sparse(const char *name, uint64_t size) {
        int fd = open(img(name), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        bool ok;

        if (fd < 0)
                return false;
        ok = ftruncate(fd, (off_t) size) == 0;
        (void) close(fd);
        return ok;
}

/* Bytes no signature starts with, reproducibly: xorshift from a fixed seed. */
static bool write_pattern(const char *name, uint64_t off, size_t len) {
        unsigned char buf[8192];
        uint32_t x = 2463534242u;
        int fd;
        bool ok = true;

        if (len > sizeof(buf))
                return false;
        for (size_t i = 0; i < len; i++) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                buf[i] = (unsigned char) (x | 1); /* never zero */
        }
        fd = open(img(name), O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        if (pwrite(fd, buf, len, (off_t) off) != (ssize_t) len)
                ok = false;
        (void) close(fd);
        return ok;
}

static const char *content_name(enum content c) {
        switch (c) {
        case CONTENT_BLANK: return "BLANK";
        case CONTENT_OURS: return "OURS";
        case CONTENT_FOREIGN: return "FOREIGN";
        case CONTENT_DATA: return "DATA";
        case CONTENT_UNKNOWN: return "UNKNOWN";
        }
        return "?";
}

/* Probes the image with size (0: the file's own) and checks the verdict and
 * that desc contains each of the NULL-terminated needles. */
static void probe(const char *name, uint64_t size, enum content want, const char *what, ...) {
        char desc[160];
        enum content c = (enum content) 99;
        struct stat st;
        va_list ap;
        int fd, r;

        fd = open(img(name), O_RDONLY | O_CLOEXEC);
        if (!check(fd >= 0 && fstat(fd, &st) == 0, "%s: image opens", what)) {
                if (fd >= 0)
                        (void) close(fd);
                return;
        }
        memset(desc, 0, sizeof(desc));
        r = safety_probe_content(fd, size ? size : (uint64_t) st.st_size, &c, desc, sizeof(desc));
        (void) close(fd);
        check_int(r, 0, "%s: probed", what);
        if (!check(c == want, "%s: %s", what, content_name(want)))
                tap_diag("got %s: %s", content_name(c), desc);

        va_start(ap, what);
        for (const char *needle; (needle = va_arg(ap, const char *));)
                check_has(desc, needle, "%s: desc mentions '%s'", what, needle);
        va_end(ap);
}

static void test_tools(void) {
        const char *tools[] = { "mkfs.ext4", "mkfs.ext3", "mkfs.ext2", "mkfs.vfat", "mkswap", "sfdisk", "dd",
                                "cryptsetup" };

        for (unsigned i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
                check(sh("command -v %s >/dev/null 2>&1", tools[i]) == 0, "tool %s is installed", tools[i]);
}

static void probe_other_signatures(const char *mke2fs_quiet) {
        check(make_sparse("swap", IMAGE_SIZE) && sh("mkswap '%s' >/dev/null 2>&1", img("swap")) == 0, "swap made");
        probe("swap", 0, CONTENT_FOREIGN, "swap", "swap", NULL);

        check(make_sparse("swapours", IMAGE_SIZE) && sh("mkswap -L scratchroot '%s' >/dev/null 2>&1",
                                                        img("swapours")) == 0,
              "swap labelled scratchroot made");
        probe("swapours", 0, CONTENT_FOREIGN, "swap labelled scratchroot", "swap", NULL);

        check(make_sparse("vfat", IMAGE_SIZE) && sh("mkfs.vfat -n DATA '%s' >/dev/null 2>&1", img("vfat")) == 0,
              "vfat made");
        probe("vfat", 0, CONTENT_FOREIGN, "vfat", "vfat", NULL);

        check(make_sparse("gpt", IMAGE_SIZE) && sh("printf 'label: gpt\\n,32M\\n' | sfdisk -q '%s' >/dev/null 2>&1",
                                                   img("gpt")) == 0,
              "GPT made");
        probe("gpt", 0, CONTENT_FOREIGN, "GPT with a partition", "gpt", NULL);

        check(make_sparse("gpt0", IMAGE_SIZE) && sh("printf 'label: gpt\\n' | sfdisk -q '%s' >/dev/null 2>&1",
                                                    img("gpt0")) == 0,
              "empty GPT made");
        probe("gpt0", 0, CONTENT_FOREIGN, "GPT without partitions", "gpt", NULL);

        check(make_sparse("dos", IMAGE_SIZE) &&
                      sh("printf 'label: dos\\n,32M,83\\n' | sfdisk -q '%s' >/dev/null 2>&1", img("dos")) == 0,
              "MBR made");
        probe("dos", 0, CONTENT_FOREIGN, "MBR (dos) with a partition", "dos", NULL);

        /* Our stamp with a partition table over it is not ours. */
        check(make_sparse("ourspt", IMAGE_SIZE) &&
                      sh("mkfs.ext4 -q -F -L scratchroot '%s' %s", img("ourspt"), mke2fs_quiet) == 0 &&
                      sh("printf 'label: dos\\n,32M,83\\n' | sfdisk -q --wipe never '%s' >/dev/null 2>&1",
                         img("ourspt")) == 0,
              "ext4 labelled scratchroot plus an MBR made");
        probe("ourspt", 0, CONTENT_FOREIGN, "ext4 labelled scratchroot plus an MBR", "dos", NULL);

        /* Our stamp plus a FAT boot sector: two filesystems, ambivalent. */
        check(make_sparse("ambi", IMAGE_SIZE) &&
                      sh("mkfs.ext4 -q -F -L scratchroot '%s' %s", img("ambi"), mke2fs_quiet) == 0 &&
                      sh("dd if='%s' of='%s' bs=512 count=1 conv=notrunc status=none", img("vfat"), img("ambi")) == 0,
              "ext4 labelled scratchroot plus a FAT boot sector made");
        probe("ambi", 0, CONTENT_FOREIGN, "ext4 labelled scratchroot plus a FAT boot sector", "conflicting", NULL);
}

/* rd.scratch.encrypt's stamp: a LUKS2 header labelled scratchroot with no
 * key slot, and nothing near it. cryptsetup writes a header into a file
 * without device-mapper; a key slot it cannot leave out, so the images carry
 * one made as fast as it allows, erased where the case needs none. */
static void probe_luks(void) {
        const char *fmt = "printf pw | cryptsetup luksFormat -q --batch-mode --pbkdf pbkdf2 --pbkdf-force-iterations 1000 "
                          "--key-file - %s '%s' >/dev/null 2>&1";
        const struct {
                const char *name, *args;
                enum content want;
                const char *what, *needle;
        } cases[] = {
                { "luks2slot", "--type luks2 --label scratchroot", CONTENT_FOREIGN,
                  "LUKS2 labelled scratchroot with a key slot", "1 key slot in use" },
                { "luks2data", "--type luks2 --label data", CONTENT_FOREIGN, "LUKS2 labelled data", "crypto_LUKS" },
                { "luks2none", "--type luks2", CONTENT_FOREIGN, "LUKS2 without label", "crypto_LUKS" },
                { "luks2caps", "--type luks2 --label Scratchroot", CONTENT_FOREIGN, "LUKS2 labelled Scratchroot",
                  "Scratchroot" },
                { "luks2longer", "--type luks2 --label scratchroot2", CONTENT_FOREIGN, "LUKS2 labelled scratchroot2",
                  "scratchroot2" },
                { "luks2subsys", "--type luks2 --subsystem scratchroot", CONTENT_FOREIGN,
                  "LUKS2 with subsystem scratchroot, no label", "crypto_LUKS" },
                { "luks1", "--type luks1", CONTENT_FOREIGN, "LUKS1 (no label to carry)", "crypto_LUKS" },
        };

        for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                check(make_sparse(cases[i].name, IMAGE_SIZE) && sh(fmt, cases[i].args, img(cases[i].name)) == 0,
                      "%s made", cases[i].what);
                probe(cases[i].name, 0, cases[i].want, cases[i].what, cases[i].needle, NULL);
        }

        /* Ours: the same header with its key slot erased, so that nothing
         * opens what the disk held. */
        check(make_sparse("luks2ours", IMAGE_SIZE) &&
                      sh(fmt, "--type luks2 --label scratchroot", img("luks2ours")) == 0 &&
                      sh("cryptsetup luksErase -q '%s' >/dev/null 2>&1", img("luks2ours")) == 0,
              "LUKS2 labelled scratchroot without a key slot made");
        probe("luks2ours", 0, CONTENT_OURS, "LUKS2 labelled scratchroot without a key slot", "LUKS2", NULL);

        /* Our header with a partition table written over its first sector
         * is not ours. */
        check(make_sparse("luksdos", IMAGE_SIZE) && sh(fmt, "--type luks2 --label scratchroot", img("luksdos")) == 0 &&
                      sh("printf 'label: dos\\n,32M,83\\n' | sfdisk -q --wipe never '%s' >/dev/null 2>&1",
                         img("luksdos")) == 0,
              "LUKS2 labelled scratchroot plus an MBR made");
        probe("luksdos", 0, CONTENT_FOREIGN, "LUKS2 labelled scratchroot plus an MBR", "dos", NULL);
}

static void test_probe_filesystems(void) {
        /* mke2fs on a regular file, never asking. */
        const char *mke2fs_quiet = ">/dev/null 2>&1 </dev/null";

        check(make_sparse("blank", IMAGE_SIZE), "blank image made");
        probe("blank", 0, CONTENT_BLANK, "blank sparse file", "nothing", NULL);

        check(make_sparse("ours", IMAGE_SIZE) && sh("mkfs.ext4 -q -F -L scratchroot '%s' %s", img("ours"),
                                                    mke2fs_quiet) == 0,
              "ext4 labelled scratchroot made");
        probe("ours", 0, CONTENT_OURS, "ext4 labelled scratchroot", "scratchroot", NULL);

        check(make_sparse("data", IMAGE_SIZE) && sh("mkfs.ext4 -q -F -L data '%s' %s", img("data"), mke2fs_quiet) == 0,
              "ext4 labelled data made");
        probe("data", 0, CONTENT_FOREIGN, "ext4 labelled data", "ext4", "'data'", NULL);

        check(make_sparse("nolabel", IMAGE_SIZE) && sh("mkfs.ext4 -q -F '%s' %s", img("nolabel"), mke2fs_quiet) == 0,
              "ext4 without label made");
        probe("nolabel", 0, CONTENT_FOREIGN, "ext4 without label", "ext4", NULL);

        check(make_sparse("caps", IMAGE_SIZE) && sh("mkfs.ext4 -q -F -L Scratchroot '%s' %s", img("caps"),
                                                    mke2fs_quiet) == 0,
              "ext4 labelled Scratchroot made");
        probe("caps", 0, CONTENT_FOREIGN, "ext4 labelled Scratchroot (other case)", "Scratchroot", NULL);

        check(make_sparse("longer", IMAGE_SIZE) && sh("mkfs.ext4 -q -F -L scratchroot2 '%s' %s", img("longer"),
                                                      mke2fs_quiet) == 0,
              "ext4 labelled scratchroot2 made");
        probe("longer", 0, CONTENT_FOREIGN, "ext4 labelled scratchroot2", "scratchroot2", NULL);

        check(make_sparse("ext2", IMAGE_SIZE) && sh("mkfs.ext2 -q -F -L scratchroot '%s' %s", img("ext2"),
                                                    mke2fs_quiet) == 0,
              "ext2 labelled scratchroot made");
        probe("ext2", 0, CONTENT_FOREIGN, "ext2 labelled scratchroot (only ext4 counts)", "ext2", NULL);

        check(make_sparse("ext3", IMAGE_SIZE) && sh("mkfs.ext3 -q -F -L scratchroot '%s' %s", img("ext3"),
                                                    mke2fs_quiet) == 0,
              "ext3 labelled scratchroot made");
        probe("ext3", 0, CONTENT_FOREIGN, "ext3 labelled scratchroot (only ext4 counts)", "ext3", NULL);

        probe_other_signatures(mke2fs_quiet);
}

static void test_probe_data(void) {
        /* Only the first and the last MiB are sampled. */
        check(make_sparse("first", IMAGE_SIZE) && write_pattern("first", 4096, 4096), "data at 4 KiB made");
        probe("first", 0, CONTENT_DATA, "data at 4 KiB, no signature", "first", NULL);

        check(make_sparse("firstend", IMAGE_SIZE) && write_pattern("firstend", MiB - 16, 16),
              "data in the last 16 bytes of the first MiB made");
        probe("firstend", 0, CONTENT_DATA, "data in the last 16 bytes of the first MiB", "first", NULL);

        check(make_sparse("last", IMAGE_SIZE) && write_pattern("last", IMAGE_SIZE - MiB / 2, 4096),
              "data 512 KiB before the end made");
        probe("last", 0, CONTENT_DATA, "data 512 KiB before the end, no signature", "last", NULL);

        check(make_sparse("laststart", IMAGE_SIZE) && write_pattern("laststart", IMAGE_SIZE - MiB, 16),
              "data in the first 16 bytes of the last MiB made");
        probe("laststart", 0, CONTENT_DATA, "data in the first 16 bytes of the last MiB", "last", NULL);

        check(make_sparse("lastbyte", IMAGE_SIZE) && write_pattern("lastbyte", IMAGE_SIZE - 1, 1),
              "data in the very last byte made");
        probe("lastbyte", 0, CONTENT_DATA, "data in the very last byte", "last", NULL);

        check(make_sparse("both", IMAGE_SIZE) && write_pattern("both", 8192, 512) &&
                      write_pattern("both", IMAGE_SIZE - 4096, 512),
              "data at both ends made");
        probe("both", 0, CONTENT_DATA, "data at both ends", "first", NULL);

        /* Outside the sampled areas nothing is seen: by design. */
        check(make_sparse("middle", IMAGE_SIZE) && write_pattern("middle", 4 * MiB, 4096), "data at 4 MiB made");
        probe("middle", 0, CONTENT_BLANK, "data at 4 MiB only (not sampled)", NULL);

        check(make_sparse("after", IMAGE_SIZE) && write_pattern("after", MiB, 16) &&
                      write_pattern("after", IMAGE_SIZE - MiB - 16, 16),
              "data just outside both sampled MiBs made");
        probe("after", 0, CONTENT_BLANK, "data just after the first and just before the last MiB (not sampled)",
              NULL);

        /* Devices smaller than 2 MiB: the last MiB overlaps the first. */
        check(make_sparse("small", MiB / 2), "512 KiB image made");
        probe("small", 0, CONTENT_BLANK, "512 KiB of zeros", "nothing", NULL);
        check(write_pattern("small", 300 * 1024, 64), "512 KiB image with data at 300 KiB made");
        probe("small", 0, CONTENT_DATA, "512 KiB with data at 300 KiB", NULL);

        check(make_sparse("mid", MiB + MiB / 2) && write_pattern("mid", MiB + MiB / 4, 64),
              "1.5 MiB image with data at 1.25 MiB made");
        probe("mid", 0, CONTENT_DATA, "1.5 MiB with data at 1.25 MiB (inside its last MiB)", "last", NULL);

        /* What cannot be read is not blank. */
        probe("blank", IMAGE_SIZE + MiB, CONTENT_UNKNOWN, "size beyond the end of the image", "read error", NULL);

        {
                char desc[160] = "";
                enum content c = CONTENT_BLANK;
                int fd = open(img("blank"), O_WRONLY | O_CLOEXEC), r;

                if (check(fd >= 0, "blank image opened write-only")) {
                        r = safety_probe_content(fd, IMAGE_SIZE, &c, desc, sizeof(desc));
                        (void) close(fd);
                        check(r < 0 || c == CONTENT_UNKNOWN,
                              "unreadable fd: an error or UNKNOWN, never BLANK (r=%d, %s: %s)", r, content_name(c),
                              desc);
                        check(desc[0] != '\0', "unreadable fd: desc says why");
                }
        }
}

/* A member header (index of count) at offset 0; flip: one byte of it
 * changed after the checksum, version: the version field set to this. */
static bool write_member(const char *name, uint32_t index, uint32_t count, bool flip, uint32_t version) {
        struct stripe_member m = {
                .index = index,
                .count = count,
                .chunk_bytes = STRIPE_CHUNK_BYTES,
                .data_offset = STRIPE_DATA_OFFSET,
                .data_bytes = (IMAGE_SIZE - STRIPE_DATA_OFFSET) / STRIPE_CHUNK_BYTES * STRIPE_CHUNK_BYTES,
        };
        uint8_t buf[STRIPE_HEADER_BYTES];
        int fd;
        bool ok;

        memset(m.set_id, 0x5a, sizeof(m.set_id));
        stripe_header_encode(&m, buf);
        if (flip)
                buf[57] ^= 0x01;
        if (version)
                buf[32] = (uint8_t) version;
        fd = open(img(name), O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ok = pwrite(fd, buf, sizeof(buf), 0) == (ssize_t) sizeof(buf);
        (void) close(fd);
        return ok;
}

/* Several disks striped: members 2..n hold chunks of the filesystem and no
 * signature; the member header is what makes them ours. */
static void test_probe_stripe(void) {
        struct disk_facts f;

        check(make_sparse("member2", IMAGE_SIZE) && write_member("member2", 1, 3, false, 0) &&
                      write_pattern("member2", 2 * MiB, 4096) && write_pattern("member2", IMAGE_SIZE - 4096, 4096),
              "a member header (2 of 3) over data made");
        probe("member2", 0, CONTENT_OURS, "member header, 2 of 3, data after it", "scratchroot stripe member (2 of 3)",
              NULL);

        /* The first member as the stripe leaves it: our ext4 starts at the
         * data offset, where libblkid does not look on the whole disk. */
        check(make_sparse("member1", IMAGE_SIZE) &&
                      sh("mkfs.ext4 -q -F -L scratchroot -E offset=%llu '%s' %llu >/dev/null 2>&1 </dev/null",
                         (unsigned long long) STRIPE_DATA_OFFSET, img("member1"),
                         (unsigned long long) ((IMAGE_SIZE - STRIPE_DATA_OFFSET) / 1024)) == 0 &&
                      write_member("member1", 0, 2, false, 0),
              "ext4 at 1 MiB and a member header (1 of 2) made");
        probe("member1", 0, CONTENT_OURS, "member header, 1 of 2, our ext4 at 1 MiB", "stripe member (1 of 2)", NULL);

        check(make_sparse("memberflip", IMAGE_SIZE) && write_member("memberflip", 1, 2, true, 0),
              "a member header with a byte changed made");
        probe("memberflip", 0, CONTENT_DATA, "member header failing its checksum: data", "first", NULL);

        check(make_sparse("memberv2", IMAGE_SIZE) && write_member("memberv2", 1, 2, false, 2),
              "a member header of version 2 made");
        probe("memberv2", 0, CONTENT_DATA, "member header of another version: data", "first", NULL);

        /* A header never outranks a signature libblkid finds. */
        check(make_sparse("memberswap", IMAGE_SIZE) && sh("mkswap '%s' >/dev/null 2>&1", img("memberswap")) == 0 &&
                      write_member("memberswap", 0, 2, false, 0),
              "swap with a member header over its first sector made");
        probe("memberswap", 0, CONTENT_FOREIGN, "member header plus a swap signature", "swap", NULL);

        check(make_sparse("memberdos", IMAGE_SIZE) && write_member("memberdos", 0, 2, false, 0) &&
                      sh("printf 'label: dos\\n,32M,83\\n' | sfdisk -q --wipe never '%s' >/dev/null 2>&1",
                         img("memberdos")) == 0,
              "a member header with an MBR written over it made");
        probe("memberdos", 0, CONTENT_FOREIGN, "member header plus an MBR", "dos", NULL);

        f = blank_disk();
        f.content = CONTENT_OURS;
        (void) snprintf(f.content_desc, sizeof(f.content_desc), "a scratchroot stripe member (2 of 3)");
        check_verdict(&f, false, VERDICT_FORMAT_OURS, "stripe member (2 of 3)", "a stripe member");
        r_one_part(&f);
        check_verdict(&f, false, VERDICT_REFUSE, "1 partition", "a stripe member with a partition the kernel knows");
}

/* ---- mountinfo_find_dev -------------------------------------------------- */

static bool write_text(const char *name, const char *text) {
        FILE *f = fopen(img(name), "we");
        bool ok;

        if (!f)
                return false;
        ok = fputs(text, f) >= 0;
        return fclose(f) == 0 && ok;
}

static void test_mountinfo(void) {
        const char *text =
                "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
                "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
                "24 22 259:3 / /boot/efi rw,relatime shared:30 - vfat /dev/nvme0n1p3 rw\n"
                "this line is not a mount\n"
                "25 22 8:100 / /mnt/with\\040blank rw - ext4 /dev/sdg4 rw\n"
                "26 22 0:45 /@home /home rw - btrfs /dev/sdh2 rw\n";
        dev_t d[4];
        bool found;
        int r;

        check(write_text("mountinfo", text), "fake mountinfo written");

        d[0] = makedev(8, 1);
        found = false;
        r = mountinfo_find_dev(img("mountinfo"), d, 1, &found);
        check(r == 0 && found, "8:1 is mounted");

        d[0] = makedev(8, 16);
        d[1] = makedev(8, 17);
        found = true;
        r = mountinfo_find_dev(img("mountinfo"), d, 2, &found);
        check(r == 0 && !found, "8:16 and 8:17 are not mounted (result reset to false)");

        d[0] = makedev(8, 16);
        d[1] = makedev(8, 17);
        d[2] = makedev(259, 3);
        found = false;
        r = mountinfo_find_dev(img("mountinfo"), d, 3, &found);
        check(r == 0 && found, "8:16, 8:17, 259:3: the third is mounted");

        d[0] = makedev(8, 10);
        found = true;
        r = mountinfo_find_dev(img("mountinfo"), d, 1, &found);
        check(r == 0 && !found, "8:10 is not 8:100 nor 8:1");

        d[0] = makedev(8, 100);
        found = false;
        r = mountinfo_find_dev(img("mountinfo"), d, 1, &found);
        check(r == 0 && found, "8:100 (mount point with an escaped blank) is mounted");

        d[0] = makedev(1, 8);
        found = true;
        r = mountinfo_find_dev(img("mountinfo"), d, 1, &found);
        check(r == 0 && !found, "1:8 (major and minor swapped) is not mounted");

        d[0] = makedev(22, 0);
        found = true;
        r = mountinfo_find_dev(img("mountinfo"), d, 1, &found);
        check(r == 0 && !found, "22:0 (a mount id, not a devno) is not mounted");

        found = true;
        r = mountinfo_find_dev(img("mountinfo"), d, 0, &found);
        check(r == 0 && !found, "no devices: none mounted");

        check(write_text("empty-mountinfo", ""), "empty mountinfo written");
        d[0] = makedev(8, 1);
        found = true;
        r = mountinfo_find_dev(img("empty-mountinfo"), d, 1, &found);
        check(r == 0 && !found, "empty mountinfo: nothing mounted");

        r = mountinfo_find_dev(img("no-such-mountinfo"), d, 1, &found);
        check_int(r, -ENOENT, "missing mountinfo: -ENOENT");
}

/* ---- mountinfo_mounts_at and safety_root_devices ------------------------ */

/* The sources fn was called with, joined by ',' into a static buffer. */
static char sources[1024];

static int record(const char *source, void *userdata) {
        size_t used = strlen(sources);

        (void) userdata;
        (void) snprintf(sources + used, sizeof(sources) - used, "%s%s", used ? "," : "", source);
        return 0;
}

static int refuse(const char *source, void *userdata) {
        (void) source;
        (void) userdata;
        return -EIO;
}

static void mounts_at(const char *mountinfo, const char *path, int want, const char *want_sources) {
        int r;

        sources[0] = '\0';
        r = mountinfo_mounts_at(mountinfo, path, record, NULL);
        check_int(r, want, "mounts at '%s': %d", path, want);
        if (want_sources)
                check_str(sources, want_sources, "mounts at '%s': sources '%s'", path, want_sources);
}

static void test_unescape(void) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "/mnt/new\\040root", "/mnt/new root" },
                { "\\011\\012\\134", "\t\n\\" },
                { "a\\134040b", "a\\040b" },
                { "\\04", "\\04" },
                { "\\400\\08\\", "\\400\\08\\" },
                { "plain", "plain" },
                { "", "" },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char buf[64];

                (void) snprintf(buf, sizeof(buf), "%s", cases[i].in);
                mountinfo_unescape(buf);
                check_str(buf, cases[i].out, "unescape case %zu", i);
        }
}

static void test_mounts_at(void) {
        const char *dir = getenv("SR_FIXTURES");
        char mi[PATH_MAX];

        if (!check(dir && *dir, "SR_FIXTURES names the fixture directory"))
                return;
        (void) snprintf(mi, sizeof(mi), "%s/escaped-mounts/mountinfo", dir);
        mounts_at(mi, "/mnt/new root", 1, "/dev/disk/by-label/new root");
        mounts_at(mi, "/mnt/new root/", 1, NULL);
        mounts_at(mi, "//mnt//new root//", 1, NULL);
        mounts_at(mi, "/mnt/new\\040root", 0, NULL);
        mounts_at(mi, "/mnt/new", 0, NULL);
        mounts_at(mi, "/mnt/tab\tdir", 1, "/dev/sdc1");
        mounts_at(mi, "/mnt/nl\ndir", 1, "/dev/sdd1");
        mounts_at(mi, "/mnt/back\\slash", 1, "/dev/sde1");
        mounts_at(mi, "/sysroot/", 2, "/dev/sdf,overlay");
        mounts_at(mi, "/mnt/dash", 1, "-");
        mounts_at(mi, "/mnt/-", 1, "/dev/sdg1");
        mounts_at(mi, "/mnt/short", 0, NULL);
        mounts_at(mi, "/mnt/nodash", 0, NULL);
        mounts_at(mi, "/", 1, "/dev/sda1");
        mounts_at(mi, "///", 1, "/dev/sda1");
        mounts_at(mi, "/mnt", 0, NULL);
        check_int(mountinfo_mounts_at(mi, "/sysroot", refuse, NULL), -EIO, "fn's error is returned");
        (void) snprintf(mi, sizeof(mi), "%s/escaped-mounts/no-such-file", dir);
        check_int(mountinfo_mounts_at(mi, "/", record, NULL), -ENOENT, "missing mountinfo: -ENOENT");
}

/* path as mountinfo writes it: blank, tab, newline and backslash escaped. */
static void escape(const char *path, char *buf, size_t n) {
        size_t o = 0;

        for (const char *c = path; *c && o + 5 < n; c++)
                if (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\\')
                        o += (size_t) snprintf(buf + o, n - o, "\\%03o", (unsigned) *c);
                else
                        buf[o++] = *c;
        buf[o] = '\0';
}

/* A mountinfo holding a line for each of mnt and its source (NULL: no line). */
static const char *mountinfo_with(const char *name, const char *mnt, const char *source) {
        char m[PATH_MAX * 2], src[PATH_MAX * 2], text[PATH_MAX * 5];

        escape(mnt, m, sizeof(m));
        escape(source, src, sizeof(src));
        (void) snprintf(text, sizeof(text),
                        "40 1 0:12 / /elsewhere rw - ext4 /dev/sdz1 rw\n"
                        "41 1 0:99 / %s rw,relatime shared:9 - btrfs %s rw,space_cache\n", m, src);
        check(write_text(name, text), "%s written", name);
        return img(name);
}

static void root_devices(const char *sys, const char *mi, const char *newroot, int want, unsigned want_n,
                         const char *what) {
        dev_t set[SYSFS_MAX_BACKING];
        unsigned n = 0;
        int r;

        r = safety_root_devices(sys, mi, newroot, set, &n, SYSFS_MAX_BACKING);
        check_err(r, want, "%s: %s", what, errname(want));
        if (want != 0)
                return;
        check_int(n, want_n, "%s: %u device%s", what, want_n, want_n == 1 ? "" : "s");
        if (want_n)
                check(n > 0 && set[0] == makedev(8, 34), "%s: 8:34 backs it", what);
}

/* A root on a filesystem with an anonymous st_dev (a tmpfs standing in for
 * btrfs), mounted in a private mount namespace, at a path with a blank. */
static void test_root_devices(void) {
        char anon[PATH_MAX], node[PATH_MAX], sys[PATH_MAX], p[PATH_MAX + 16];
        const char *mi;

        if (geteuid() != 0) {
                tap_skip("root devices on an anonymous st_dev", "mounting a tmpfs needs root");
                return;
        }
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                bail("private mount namespace: %s", strerror(errno));
        xfmt(anon, sizeof(anon), "%s/new root", base);
        xfmt(node, sizeof(node), "%s/dev sdh2", base);
        xfmt(sys, sizeof(sys), "%s/sys", base);
        xfmt(p, sizeof(p), "%s/dev/block/8:34", sys);
        if (mkdir(anon, 0755) < 0 || mount("tmpfs", anon, "tmpfs", 0, "size=1m") < 0)
                bail("tmpfs on %s: %s", anon, strerror(errno));
        if (sh("mkdir -p '%s' && echo 8:34 >'%s/dev' && mkdir '%s/sub'", p, p, anon) != 0)
                bail("fake sysfs");
        if (mknod(node, S_IFBLK | 0600, makedev(8, 34)) < 0)
                bail("mknod %s: %s", node, strerror(errno));

        mi = mountinfo_with("mi-btrfs", anon, node);
        root_devices(sys, mi, anon, 0, 1, "newroot with a blank, its source a block device");
        xfmt(p, sizeof(p), "%s/", anon);
        root_devices(sys, mi, p, 0, 1, "newroot with a trailing slash");
        xfmt(p, sizeof(p), "%s//sub//", anon);
        root_devices(sys, mi, p, 0, 1, "newroot a directory inside the mount");

        mi = mountinfo_with("mi-elsewhere", "/not/newroot", node);
        root_devices(sys, mi, anon, -ENOENT, 0, "no line for newroot nor above it: unknown");
        mi = mountinfo_with("mi-tmpfs", anon, "tmpfs");
        root_devices(sys, mi, anon, 0, 0, "source tmpfs: on no disk");
        mi = mountinfo_with("mi-file", anon, img("mi-btrfs"));
        root_devices(sys, mi, anon, -ENOTBLK, 0, "source a regular file: unknown");
        mi = mountinfo_with("mi-gone", anon, "/dev/no-such-disk");
        root_devices(sys, mi, anon, -ENOENT, 0, "source a missing node: unknown");
        xfmt(p, sizeof(p), "%s/dev/block/8:34", sys);
        (void) sh("rm -rf '%s'", p);
        mi = mountinfo_with("mi-nosys", anon, node);
        root_devices(sys, mi, anon, -ENOENT, 0, "source a disk sysfs does not know: unknown");
        root_devices(sys, mi, "/no/such/newroot", -ENOENT, 0, "newroot missing");

        if (umount(anon) < 0)
                bail("umount %s: %s", anon, strerror(errno));
}

int main(void) {
        const char *path = getenv("PATH");
        char newpath[8192];

        /* The mkfs tools live in sbin, which a user's PATH may lack. */
        (void) snprintf(newpath, sizeof(newpath), "%s:/usr/sbin:/sbin", path && *path ? path : "/usr/bin:/bin");
        (void) setenv("PATH", newpath, 1);

        if (!fixture_start("test-safety", "test setup"))
                return tap_done();

        test_decide();
        test_tools();
        test_probe_filesystems();
        probe_luks();
        test_probe_data();
        test_probe_stripe();
        test_mountinfo();
        test_unescape();
        test_mounts_at();
        test_root_devices();

        (void) sh("rm -rf '%s'", base);
        return tap_done();
}
