/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "safety.h"

#include <blkid.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "azure.h"
#include "crypt.h"
#include "macro.h"
#include "mounts.h"
#include "rootdev.h"
#include "stripe.h"
#include "util.h"

#define SAMPLE_BYTES (1024 * 1024)

const char *verdict_to_string(enum verdict v) {
        switch (v) {
        case VERDICT_REFUSE: return "refused";
        case VERDICT_FORMAT_BLANK: return "blank";
        case VERDICT_FORMAT_OURS: return "reused";
        case VERDICT_FORMAT_FORCED: return "forced";
        case VERDICT_FORMAT_PLATFORM: return "platform";
        }
        return "?";
}

enum verdict safety_decide(const struct disk_facts *f, bool force, char *why, size_t n) {
        /* Who the disk is, where it is and how it is used come first: force
         * never overrides them. */
        const struct {
                bool refuse;
                const char *why, *what;
        } rules[] = {
                { f->attrs.is_partition, "it is a partition, not a whole disk", "" },
                { f->root_unknown, "cannot tell which disks back the root filesystem", "" },
                { f->backs_root, "it holds the root filesystem", "" },
                { f->attrs.read_only, "it is read-only", "" },
                { f->attrs.holder[0], "it is in use by ", f->attrs.holder },
                { f->mounted, "it or one of its partitions is mounted", "" },
                { f->busy, "it is in use (exclusive open: device busy)", "" },
        };
        char size[32], found[192];

        for (size_t i = 0; i < ELEMENTSOF(rules); i++)
                if (rules[i].refuse) {
                        (void) snprintf(why, n, "%s%s", rules[i].why, rules[i].what);
                        return VERDICT_REFUSE;
                }
        if (f->attrs.size_bytes < SCRATCH_MIN_BYTES) {
                format_bytes(f->attrs.size_bytes, size, sizeof(size));
                (void) snprintf(why, n, "it is too small (%s, %" PRIu64 " bytes; the minimum is 64 MiB)", size,
                                f->attrs.size_bytes);
                return VERDICT_REFUSE;
        }

        /* Blank or ours: the one test rd.scratch.force overrides. Partitions
         * the kernel knows of mean a partition table, whatever libblkid says. */
        if (f->attrs.n_parts > 0)
                (void) snprintf(found, sizeof(found), "a partition table with %u partition%s", f->attrs.n_parts,
                                f->attrs.n_parts == 1 ? "" : "s");
        else if (f->content == CONTENT_FOREIGN || f->content == CONTENT_DATA)
                (void) snprintf(found, sizeof(found), "%s", f->content_desc);
        else if (f->content == CONTENT_BLANK) {
                (void) snprintf(why, n, "it is blank");
                return VERDICT_FORMAT_BLANK;
        } else if (f->content == CONTENT_OURS) {
                (void) snprintf(why, n, "it carries the %s stamp of an earlier boot (%s)", SCRATCH_LABEL,
                                f->content_desc[0] ? f->content_desc : "?");
                return VERDICT_FORMAT_OURS;
        } else {
                /* What cannot be read cannot be proven scratch, forced or not. */
                (void) snprintf(why, n, "its contents could not be checked (%s)", f->content_desc);
                return VERDICT_REFUSE;
        }

        /* Azure's resource disk comes formatted NTFS: it is reformatted
         * only when it is exactly what Azure's own agents reformat. */
        if (f->platform == PLATFORM_REFORMATTABLE && f->content == CONTENT_FOREIGN) {
                (void) snprintf(why, n, "it is Azure's resource disk as delivered (%s)", f->platform_desc);
                return VERDICT_FORMAT_PLATFORM;
        }
        if (force) {
                (void) snprintf(why, n, "it holds %s, formatted anyway as rd.scratch.force asks", found);
                return VERDICT_FORMAT_FORCED;
        }
        if (f->platform == PLATFORM_NOT_AS_DELIVERED) {
                (void) snprintf(why, n, "it holds %s, and is not Azure's resource disk as delivered: %s", found,
                                f->platform_desc);
                return VERDICT_REFUSE;
        }
        (void) snprintf(why, n, "it holds %s", found);
        return VERDICT_REFUSE;
}

/* memcmp() against a zero page rather than a byte loop: libc's memcmp()
 * compares whole vector registers at a time, and a byte loop is slow where
 * it counts, under an emulated CPU at boot. */
static bool all_zero(const unsigned char *p, size_t n) {
        static const unsigned char zero[4096];

        for (size_t off = 0; off < n; off += sizeof(zero)) {
                size_t len = n - off < sizeof(zero) ? n - off : sizeof(zero);

                if (memcmp(p + off, zero, len) != 0)
                        return false;
        }
        return true;
}

static int sample_is_zero(int fd, uint64_t off, size_t len, unsigned char *buf, bool *ret) {
        int r = pread_full(fd, buf, len, off);

        if (r < 0)
                return r;
        *ret = all_zero(buf, len);
        return 0;
}

/* Reads the first and last MiB: which of them holds data (-1: neither),
 * or the error that stopped the reading. */
static int sample_ends(int fd, uint64_t size, int *ret_nonzero) {
        _cleanup_free_ unsigned char *buf = NULL;
        uint64_t offs[2] = { 0, size > SAMPLE_BYTES ? size - SAMPLE_BYTES : 0 };
        size_t len = size < SAMPLE_BYTES ? (size_t) size : SAMPLE_BYTES;
        int r;

        buf = malloc(SAMPLE_BYTES);
        if (!buf)
                return -ENOMEM;
        *ret_nonzero = -1;
        for (int i = 0; i < 2; i++) {
                bool zero = false;

                r = sample_is_zero(fd, offs[i], len, buf, &zero);
                if (r < 0)
                        return r;
                if (!zero) {
                        *ret_nonzero = i;
                        return 0;
                }
        }
        return 0;
}

/* What libblkid found, or the samples when it found no signature. */
static enum content describe(const char *type, const char *version, const char *label, const char *pttype,
                             const struct stripe_member *member, int sample_err, int nonzero, char *desc,
                             size_t n) {
        bool ours_label = type && !pttype && label && strcmp(label, SCRATCH_LABEL) == 0;

        if (ours_label && strcmp(type, "ext4") == 0) {
                (void) snprintf(desc, n, "an ext4 filesystem labelled '%s'", SCRATCH_LABEL);
                return CONTENT_OURS;
        }
        /* rd.scratch.encrypt's header. LUKS1 has no label, so only LUKS2
         * can be ours. */
        if (ours_label && strcmp(type, "crypto_LUKS") == 0 && version && strcmp(version, "2") == 0) {
                (void) snprintf(desc, n, "a LUKS2 header labelled '%s'", SCRATCH_LABEL);
                return CONTENT_OURS;
        }
        if (pttype) {
                (void) snprintf(desc, n, "a %s partition table", pttype);
                return CONTENT_FOREIGN;
        }
        if (type) {
                if (label)
                        (void) snprintf(desc, n, "a signature of type %s labelled '%.64s'", type, label);
                else
                        (void) snprintf(desc, n, "a signature of type %s", type);
                return CONTENT_FOREIGN;
        }
        /* No signature libblkid knows. A disk that held raw data (a tar
         * stream, a database on the bare device) carries none either, so
         * blank must also mean zeros where data would start or end, and what
         * cannot be read is not blank. */
        if (sample_err < 0) {
                (void) snprintf(desc, n, "read error: %s", strerror(-sample_err));
                return CONTENT_UNKNOWN;
        }
        /* Several disks striped: each starts with our member header, and
         * holds no signature of its own (stripe.c says why). */
        if (member) {
                (void) snprintf(desc, n, "a %s stripe member (%" PRIu32 " of %" PRIu32 ")", SCRATCH_LABEL,
                                member->index + 1, member->count);
                return CONTENT_OURS;
        }
        if (nonzero >= 0) {
                (void) snprintf(desc, n, "data without a known signature in its %s MiB",
                                nonzero == 0 ? "first" : "last");
                return CONTENT_DATA;
        }
        (void) snprintf(desc, n, "nothing");
        return CONTENT_BLANK;
}

/* A LUKS2 header labelled as ours is the one rd.scratch.encrypt writes only
 * when it has no key slot: with one, it is someone's volume that a key can
 * still open, whatever its label. */
static enum content luks_keyless(int fd, char *desc, size_t n) {
        const char *why;
        unsigned slots = 0;
        int r;

        r = crypt_count_keyslots(fd, &slots);
        why = r == -EOPNOTSUPP ? dlib_unsupported(crypt_library()) : NULL;
        if (why) {
                (void) snprintf(desc, n, "a LUKS2 header labelled '%s', whose key slots cannot be counted: %s",
                                SCRATCH_LABEL, why);
                return CONTENT_UNKNOWN;
        }
        if (r < 0) {
                (void) snprintf(desc, n, "a LUKS2 header labelled '%s' that libcryptsetup cannot load: %s",
                                SCRATCH_LABEL, strerror(-r));
                return CONTENT_UNKNOWN;
        }
        if (slots > 0) {
                (void) snprintf(desc, n, "a LUKS2 header labelled '%s' with %u key slot%s in use", SCRATCH_LABEL,
                                slots, slots == 1 ? "" : "s");
                return CONTENT_FOREIGN;
        }
        return CONTENT_OURS;
}

int safety_probe_content(int fd, uint64_t size, enum content *ret, char *desc, size_t n) {
        _cleanup_blkid_probe_ blkid_probe pr = NULL;
        const char *type = NULL, *version = NULL, *label = NULL, *pttype = NULL;
        struct stripe_member member;
        bool have_member = false;
        int sample_err, nonzero = -1, r;

        /* The first and last MiB are read before libblkid looks: two large
         * reads, after which its many small ones near either end come from
         * the page cache. What they hold counts only when libblkid finds
         * no signature. */
        sample_err = sample_ends(fd, size, &nonzero);
        if (sample_err == -ENOMEM)
                return sample_err;

        pr = blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, 0, 0) < 0) {
                (void) snprintf(desc, n, "libblkid cannot probe it");
                return -EIO;
        }
        (void) blkid_probe_enable_superblocks(pr, 1);
        (void) blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL | BLKID_SUBLKS_VERSION |
                                                 BLKID_SUBLKS_USAGE | BLKID_SUBLKS_BADCSUM);
        (void) blkid_probe_enable_partitions(pr, 1);
        (void) blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);

        r = blkid_do_safeprobe(pr);
        if (r == -2) {
                *ret = CONTENT_FOREIGN;
                (void) snprintf(desc, n, "several conflicting signatures");
                return 0;
        }
        if (r < 0) {
                *ret = CONTENT_UNKNOWN;
                (void) snprintf(desc, n, "libblkid probe failed");
                return 0;
        }
        if (r == 0) {
                (void) blkid_probe_lookup_value(pr, "TYPE", &type, NULL);
                (void) blkid_probe_lookup_value(pr, "LABEL", &label, NULL);
                (void) blkid_probe_lookup_value(pr, "VERSION", &version, NULL);
                (void) blkid_probe_lookup_value(pr, "PTTYPE", &pttype, NULL);
        }
        if (!type && !pttype && nonzero == 0) {
                r = stripe_member_read(fd, &member);
                if (r < 0)
                        sample_err = r;
                have_member = r > 0;
        }
        *ret = describe(type, version, label, pttype, have_member ? &member : NULL, sample_err, nonzero, desc, n);
        if (*ret == CONTENT_OURS && type && strcmp(type, "crypto_LUKS") == 0)
                *ret = luks_keyless(fd, desc, n);
        return 0;
}

int mountinfo_find_dev(const char *mountinfo, const dev_t *devs, unsigned n, bool *ret) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;

        f = fopen(mountinfo, "re");
        if (!f)
                return -errno;
        *ret = false;
        while (getline(&line, &cap, f) > 0) {
                unsigned id, parent, maj, min;

                if (sscanf(line, "%u %u %u:%u", &id, &parent, &maj, &min) != 4)
                        continue;
                for (unsigned i = 0; i < n; i++)
                        if (devs[i] == makedev(maj, min))
                                *ret = true;
        }
        return 0;
}

/* path with repeated and trailing slashes dropped; "/" stays "/". */
static int normalise_path(const char *path, char *buf, size_t n) {
        size_t o = 0;

        for (const char *c = path; *c; c++) {
                if (*c == '/' && (c[1] == '/' || (c[1] == '\0' && o > 0)))
                        continue;
                if (o + 1 >= n)
                        return -ENAMETOOLONG;
                buf[o++] = *c;
        }
        if (n == 0)
                return -ENAMETOOLONG;
        buf[o] = '\0';
        return 0;
}

/* The mount point and source of a mountinfo line, unescaped, in place:
 * "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE ...". */
static bool mountinfo_fields(char *line, char **ret_mnt, char **ret_src) {
        char *save = NULL, *w, *mnt = NULL;
        unsigned i = 0;
        bool dash = false;

        line[strcspn(line, "\n")] = '\0';
        for (w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save), i++) {
                if (i == 4)
                        mnt = w;
                else if (i > 5 && !dash && strcmp(w, "-") == 0) {
                        dash = true;
                        i = 0;
                } else if (dash && i == 2)
                        break;
        }
        if (!mnt || !w)
                return false;
        mountinfo_unescape(mnt);
        mountinfo_unescape(w);
        *ret_mnt = mnt;
        *ret_src = w;
        return true;
}

int mountinfo_mounts_at(const char *mountinfo, const char *path, mount_fn fn, void *userdata) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        char want[PATH_MAX];
        size_t cap = 0;
        int r, found = 0;

        r = normalise_path(path, want, sizeof(want));
        if (r < 0)
                return r;
        f = fopen(mountinfo, "re");
        if (!f)
                return -errno;
        while (getline(&line, &cap, f) > 0) {
                char *mnt, *src;

                if (!mountinfo_fields(line, &mnt, &src) || strcmp(mnt, want) != 0)
                        continue;
                found++;
                r = fn(src, userdata);
                if (r < 0)
                        return r;
        }
        return found;
}

struct root_walk {
        const char *sysfs;
        dev_t *set;
        unsigned *n, max;
};

/* A source that is not a path (tmpfs, overlay, a server's export) is on no
 * local disk; a path must be a block device sysfs knows. */
static int add_source(const char *source, void *userdata) {
        struct root_walk *w = userdata;
        struct stat st;

        if (source[0] != '/')
                return 0;
        if (stat(source, &st) < 0)
                return -errno;
        if (!S_ISBLK(st.st_mode))
                return -ENOTBLK;
        return sysfs_backing_devs(w->sysfs, st.st_rdev, w->set, w->n, w->max);
}

int safety_root_devices(const char *sysfs, const char *mountinfo, const char *newroot, dev_t *set, unsigned *n,
                        unsigned max) {
        struct root_walk w = { .sysfs = sysfs, .set = set, .n = n, .max = max };
        char path[PATH_MAX];
        struct stat st;
        int r;

        if (stat(newroot, &st) < 0 || !realpath(newroot, path))
                return -errno;
        if (major(st.st_dev) != 0) {
                r = sysfs_backing_devs(sysfs, st.st_dev, set, n, max);
                if (r < 0)
                        return r;
        }
        /* A filesystem that reports an anonymous st_dev (btrfs) names its
         * devices only in mountinfo, on the line of the mount newroot is in
         * (newroot or the nearest directory above it that is a mount point):
         * when there is none, or its source cannot be followed, nobody can
         * tell what backs the root. */
        for (;;) {
                char *slash;

                r = mountinfo_mounts_at(mountinfo, path, add_source, &w);
                if (r != 0 || strcmp(path, "/") == 0)
                        break;
                slash = strrchr(path, '/');
                slash[slash == path] = '\0';
        }
        if (major(st.st_dev) != 0)
                return 0;
        if (r == 0)
                return -ENOENT;
        return r < 0 ? r : 0;
}

void safety_root_mounted(const char *sysfs, const char *newroot, struct root_devs *ret) {
        *ret = (struct root_devs) {};
        if (safety_root_devices(sysfs, MOUNTINFO, newroot, ret->set, &ret->n, SYSFS_MAX_BACKING) < 0)
                ret->unknown = true;
}

void safety_root_named(const struct root_spec *spec, struct root_devs *ret) {
        *ret = (struct root_devs) { .spec = spec };
}

int safety_gather(const struct disk *d, int fd, bool busy, const struct root_devs *root,
                  struct disk_facts *ret) {
        struct disk_facts f = {};
        dev_t mine[SYSFS_MAX_PARTS + 1];
        unsigned n_mine = 0;
        int r;

        r = sysfs_disk_attrs(d, &f.attrs);
        if (r < 0)
                return r;

        f.root_unknown = root->unknown;
        for (unsigned i = 0; i < root->n; i++) {
                if (root->set[i] == d->devno)
                        f.backs_root = true;
                for (unsigned j = 0; j < f.attrs.n_parts && j < SYSFS_MAX_PARTS; j++)
                        if (root->set[i] == f.attrs.parts[j])
                                f.backs_root = true;
        }

        mine[n_mine++] = d->devno;
        for (unsigned j = 0; j < f.attrs.n_parts && j < SYSFS_MAX_PARTS; j++)
                mine[n_mine++] = f.attrs.parts[j];
        r = mountinfo_find_dev(MOUNTINFO, mine, n_mine, &f.mounted);
        if (r < 0)
                return r;

        f.busy = busy;
        if (fd >= 0) {
                r = safety_probe_content(fd, f.attrs.size_bytes, &f.content, f.content_desc,
                                         sizeof(f.content_desc));
                if (r < 0)
                        return r;
        } else {
                f.content = CONTENT_UNKNOWN;
                (void) snprintf(f.content_desc, sizeof(f.content_desc), "not opened");
        }

        /* Before the root is mounted, root= is matched against the disk
         * itself: by its name, and unless it is blank (no signature to be
         * named), by its own superblock. A disk with a partition table is
         * foreign, and such a disk is formatted only once the root is
         * mounted (setup), so a whole-disk superblock is all that can be
         * named here. */
        if (root->spec && fd >= 0 && (root->spec->kind == ROOT_PATH || f.content != CONTENT_BLANK)) {
                r = rootdev_fd_matches(fd, d->name, root->spec);
                if (r < 0)
                        f.root_unknown = true;
                else if (r > 0)
                        f.backs_root = true;
        }

        if (d->azure_resource && fd >= 0 && f.content == CONTENT_FOREIGN) {
                r = azure_resource_fd_reformattable(fd, f.platform_desc, sizeof(f.platform_desc));
                if (r < 0)
                        (void) snprintf(f.platform_desc, sizeof(f.platform_desc), "cannot be read: %s",
                                        strerror(-r));
                f.platform = r > 0 ? PLATFORM_REFORMATTABLE : PLATFORM_NOT_AS_DELIVERED;
        }

        *ret = f;
        return 0;
}
