/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "azure.h"

#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dlopen.h"
#include "macro.h"
#include "util.h"

#if HAVE_LIBNTFS_3G
#include <ntfs-3g/device.h>
#include <ntfs-3g/dir.h>
#include <ntfs-3g/inode.h>
#include <ntfs-3g/logging.h>
#include <ntfs-3g/unistr.h>
#include <ntfs-3g/volume.h>
#endif

/* GPT's type of the Microsoft reserved partition, which Azure puts first on
 * a resource disk larger than 2 TiB (cloud-init, LP #1686514). */
#define GPT_TYPE_MSR "e3c9e316-0b5c-4db8-817d-f92df00215ae"

struct candidate {
        int partno;
        uint64_t offset, size;  /* bytes */
};


/* The disk must hold a partition table and nothing else libblkid knows of,
 * with one partition, or two of which the first is a Microsoft reserved
 * one: the candidate is the last (cloud-init's rule, made stricter on the
 * first of two, which cloud-init does not look at). */
static int find_candidate(int fd, struct candidate *ret, char *why, size_t n) {
        _cleanup_blkid_probe_ blkid_probe pr = NULL;
        const char *v = NULL, *type = NULL;
        char pttype[16] = "";
        blkid_partlist ls;
        blkid_partition last;
        blkid_loff_t size;
        uint64_t disk_bytes;
        int r, parts;

        pr = blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return -EIO;
        /* -1 when libblkid cannot tell: cast, it would pass every bounds
         * check below. */
        size = blkid_probe_get_size(pr);
        if (size <= 0)
                return -EIO;
        disk_bytes = (uint64_t) size;
        (void) blkid_probe_enable_superblocks(pr, 1);
        (void) blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
        (void) blkid_probe_enable_partitions(pr, 1);
        (void) blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
        r = blkid_do_safeprobe(pr);
        if (r == -2) {
                (void) snprintf(why, n, "the disk carries several conflicting signatures");
                return 0;
        }
        if (r < 0)
                return -EIO;
        if (r == 0) {
                /* Copied: the partition list below reuses the probe's
                 * buffers. */
                if (blkid_probe_lookup_value(pr, "PTTYPE", &v, NULL) == 0)
                        (void) snprintf(pttype, sizeof(pttype), "%s", v);
                (void) blkid_probe_lookup_value(pr, "TYPE", &type, NULL);
        }
        if (!pttype[0]) {
                (void) snprintf(why, n, "the disk has no partition table");
                return 0;
        }
        if (strcmp(pttype, "dos") != 0 && strcmp(pttype, "gpt") != 0) {
                (void) snprintf(why, n, "the disk has a %s partition table, not dos or gpt", pttype);
                return 0;
        }
        if (type) {
                (void) snprintf(why, n, "the disk carries a %s signature besides its partition table", type);
                return 0;
        }

        ls = blkid_probe_get_partitions(pr);
        if (!ls)
                return -EIO;
        parts = blkid_partlist_numof_partitions(ls);
        if (parts <= 0) {
                (void) snprintf(why, n, "its %s partition table has no partition", pttype);
                return 0;
        }
        if (parts > 2) {
                (void) snprintf(why, n, "its %s partition table has %d partitions (Azure delivers one or two)",
                                pttype, parts);
                return 0;
        }
        if (parts == 2) {
                blkid_partition first = blkid_partlist_get_partition(ls, 0);
                const char *t = first ? blkid_partition_get_type_string(first) : NULL;

                if (!t || strcasecmp(t, GPT_TYPE_MSR) != 0) {
                        (void) snprintf(why, n, "of its two partitions the first is not a Microsoft reserved one");
                        return 0;
                }
        }
        last = blkid_partlist_get_partition(ls, parts - 1);
        if (!last)
                return -EIO;
        ret->partno = blkid_partition_get_partno(last);
        if (blkid_partition_is_extended(last)) {
                (void) snprintf(why, n, "its partition %d is an extended partition", ret->partno);
                return 0;
        }
        ret->offset = (uint64_t) blkid_partition_get_start(last) * 512;
        ret->size = (uint64_t) blkid_partition_get_size(last) * 512;
        if (ret->size == 0 || ret->offset > disk_bytes || ret->size > disk_bytes - ret->offset) {
                (void) snprintf(why, n, "its partition %d lies outside the disk", ret->partno);
                return 0;
        }
        return 1;
}

/* The candidate must be NTFS labelled as Azure labels it (azure-vm-utils). */
static int check_signature(int fd, const struct candidate *c, char *why, size_t n) {
        _cleanup_blkid_probe_ blkid_probe pr = NULL;
        const char *type = NULL, *label = NULL;
        int r;

        pr = blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, (blkid_loff_t) c->offset, (blkid_loff_t) c->size) < 0)
                return -EIO;
        (void) blkid_probe_enable_superblocks(pr, 1);
        (void) blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL);
        r = blkid_do_safeprobe(pr);
        if (r < 0 && r != -2)
                return -EIO;
        if (r == 0) {
                (void) blkid_probe_lookup_value(pr, "TYPE", &type, NULL);
                (void) blkid_probe_lookup_value(pr, "LABEL", &label, NULL);
        }
        if (r == -2 || !type || strcmp(type, "ntfs") != 0) {
                (void) snprintf(why, n, "its partition %d is not NTFS (%s)", c->partno,
                                r == -2 ? "conflicting signatures" : type ? type : "no signature");
                return 0;
        }
        if (!label || strcmp(label, AZURE_RESOURCE_LABEL) != 0) {
                (void) snprintf(why, n, "its NTFS partition %d is labelled '%.64s', not '%s'", c->partno,
                                label ? label : "", AZURE_RESOURCE_LABEL);
                return 0;
        }
        return 1;
}

#if HAVE_LIBNTFS_3G

static __typeof__(ntfs_ucstombs) *sym_ntfs_ucstombs;
static __typeof__(ntfs_log_set_handler) *sym_ntfs_log_set_handler;
static __typeof__(ntfs_log_handler_null) *sym_ntfs_log_handler_null;
static __typeof__(ntfs_device_alloc) *sym_ntfs_device_alloc;
static __typeof__(ntfs_device_mount) *sym_ntfs_device_mount;
static __typeof__(ntfs_device_free) *sym_ntfs_device_free;
static __typeof__(ntfs_inode_open) *sym_ntfs_inode_open;
static __typeof__(ntfs_readdir) *sym_ntfs_readdir;
static __typeof__(ntfs_inode_close) *sym_ntfs_inode_close;
static __typeof__(ntfs_umount) *sym_ntfs_umount;

static const struct dlsym_arg ntfs_syms[] = {
        DLSYM_ARG(ntfs_ucstombs),
        DLSYM_ARG(ntfs_log_set_handler),
        DLSYM_ARG(ntfs_log_handler_null),
        DLSYM_ARG(ntfs_device_alloc),
        DLSYM_ARG(ntfs_device_mount),
        DLSYM_ARG(ntfs_device_free),
        DLSYM_ARG(ntfs_inode_open),
        DLSYM_ARG(ntfs_readdir),
        DLSYM_ARG(ntfs_inode_close),
        DLSYM_ARG(ntfs_umount),
};
static struct dlib ntfs_lib = {
        .soname = LIBNTFS_3G_SONAME,
        .syms = ntfs_syms,
        .n_syms = ELEMENTSOF(ntfs_syms),
};

struct dlib *azure_ntfs_library(void) {
        (void) dlib_load(&ntfs_lib);
        return &ntfs_lib;
}

/* What may be in the root of the delivered NTFS: Azure's warning and the
 * directory Windows makes on any volume it has seen. Compared without case,
 * as cloud-init and azure-vm-utils do. */
static const char *const allowed_names[] = {
        "DATALOSS_WARNING_README.txt",
        "System Volume Information",
};

/* libntfs-3g reads the partition through these, as a window onto the disk
 * open on fd: no partition node, no kernel driver, and no write reaches the
 * disk whatever the library would try. */
struct window {
        int fd;
        uint64_t offset, size;
        s64 pos;
};

static int win_open(struct ntfs_device *dev, int flags) {
        if ((flags & O_ACCMODE) != O_RDONLY) {
                errno = EROFS;
                return -1;
        }
        NDevSetOpen(dev);
        return 0;
}

static int win_close(struct ntfs_device *dev) {
        NDevClearOpen(dev);
        return 0;
}

static s64 win_seek(struct ntfs_device *dev, s64 offset, int whence) {
        struct window *w = dev->d_private;
        s64 base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? w->pos : whence == SEEK_END ? (s64) w->size : -1;

        if (base < 0 || base + offset < 0) {
                errno = EINVAL;
                return -1;
        }
        w->pos = base + offset;
        return w->pos;
}

static s64 win_pread(struct ntfs_device *dev, void *buf, s64 count, s64 offset) {
        struct window *w = dev->d_private;
        ssize_t k;

        if (offset < 0 || count < 0) {
                errno = EINVAL;
                return -1;
        }
        if ((uint64_t) offset >= w->size)
                return 0;
        if ((uint64_t) count > w->size - (uint64_t) offset)
                count = (s64) (w->size - (uint64_t) offset);
        do
                k = pread(w->fd, buf, (size_t) count, (off_t) (w->offset + (uint64_t) offset));
        while (k < 0 && errno == EINTR);
        return k;
}

static s64 win_read(struct ntfs_device *dev, void *buf, s64 count) {
        struct window *w = dev->d_private;
        s64 k = win_pread(dev, buf, count, w->pos);

        if (k > 0)
                w->pos += k;
        return k;
}

static s64 win_write(struct ntfs_device *dev, const void *buf, s64 count) {
        (void) dev, (void) buf, (void) count;
        errno = EROFS;
        return -1;
}

static s64 win_pwrite(struct ntfs_device *dev, const void *buf, s64 count, s64 offset) {
        (void) dev, (void) buf, (void) count, (void) offset;
        errno = EROFS;
        return -1;
}

static int win_sync(struct ntfs_device *dev) {
        (void) dev;
        return 0;
}

static int win_stat(struct ntfs_device *dev, struct stat *st) {
        struct window *w = dev->d_private;

        if (fstat(w->fd, st) < 0)
                return -1;
        st->st_size = (off_t) w->size;
        return 0;
}

static int win_ioctl(struct ntfs_device *dev, unsigned long request, void *argp) {
        struct window *w = dev->d_private;

        if (request == BLKGETSIZE64) {
                *(uint64_t *) argp = w->size;
                return 0;
        }
        if (request == BLKSSZGET) {
                *(int *) argp = 512;
                return 0;
        }
        errno = ENOTTY;
        return -1;
}

static struct ntfs_device_operations window_ops = {
        .open = win_open,
        .close = win_close,
        .seek = win_seek,
        .read = win_read,
        .write = win_write,
        .pread = win_pread,
        .pwrite = win_pwrite,
        .sync = win_sync,
        .stat = win_stat,
        .ioctl = win_ioctl,
};

struct listing {
        unsigned others;
        char first[128];        /* the first name that is not allowed */
        bool bad_name;
};

static int count_entry(void *data, const ntfschar *name, const int name_len, const int name_type, const s64 pos,
                       const MFT_REF mref, const unsigned dt_type) {
        struct listing *l = data;
        char *s = NULL;
        bool allowed = false;

        (void) pos, (void) dt_type;
        /* Every short 8.3 name repeats a long one. The metadata files
         * ($MFT, $Bitmap, ...) have records below the first user one and
         * names starting with '$', and "." and ".." are the root's own
         * record: no directory listing shows them. Records 12-15 are
         * reserved but may hold a file: what else is there is counted. */
        if (name_type == FILE_NAME_DOS)
                return 0;
        if (MREF(mref) < FILE_first_user && name_len > 0 &&
            (le16_to_cpu(name[0]) == '$' ||
             (le16_to_cpu(name[0]) == '.' &&
              (name_len == 1 || (name_len == 2 && le16_to_cpu(name[1]) == '.')))))
                return 0;
        if (sym_ntfs_ucstombs(name, name_len, &s, 0) < 0) {
                l->bad_name = true;
                l->others++;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(allowed_names); i++)
                if (strcasecmp(s, allowed_names[i]) == 0)
                        allowed = true;
        if (!allowed && l->others++ == 0)
                (void) snprintf(l->first, sizeof(l->first), "%s", s);
        free(s);
        return 0;
}

static void log_nothing(void) {
        static bool done;

        if (!done) {
                sym_ntfs_log_set_handler(sym_ntfs_log_handler_null);
                done = true;
        }
}

static int check_files(int fd, const struct candidate *c, char *why, size_t n) {
        struct window w = { .fd = fd, .offset = c->offset, .size = c->size };
        struct listing l = {};
        struct ntfs_device *dev;
        ntfs_volume *vol;
        ntfs_inode *root;
        s64 pos = 0;
        int r = 1, err;

        if (dlib_load(&ntfs_lib) < 0) {
                (void) snprintf(why, n, "its NTFS partition %d cannot be listed: %s", c->partno, ntfs_lib.error);
                return 0;
        }
        log_nothing();
        dev = sym_ntfs_device_alloc("resource-disk", 0, &window_ops, &w);
        if (!dev)
                return -errno;
        vol = sym_ntfs_device_mount(dev, NTFS_MNT_RDONLY | NTFS_MNT_IGNORE_HIBERFILE);
        if (!vol) {
                err = errno;
                (void) sym_ntfs_device_free(dev);
                (void) snprintf(why, n, "libntfs-3g cannot open its NTFS partition %d: %s", c->partno,
                                strerror(err));
                return 0;
        }
        root = sym_ntfs_inode_open(vol, FILE_root);
        if (!root) {
                (void) snprintf(why, n, "libntfs-3g cannot open the root directory of its NTFS partition %d: %s",
                                c->partno, strerror(errno));
                r = 0;
        } else {
                if (sym_ntfs_readdir(root, &pos, &l, count_entry) != 0) {
                        (void) snprintf(why, n, "libntfs-3g cannot list its NTFS partition %d: %s", c->partno,
                                        strerror(errno));
                        r = 0;
                }
                (void) sym_ntfs_inode_close(root);
        }
        /* sym_ntfs_umount() frees the device too. */
        (void) sym_ntfs_umount(vol, false);
        if (r == 0)
                return 0;
        if (l.others > 0) {
                if (l.first[0])
                        (void) snprintf(why, n, "its NTFS partition %d holds '%.64s'%s besides Azure's warning",
                                        c->partno, l.first, l.others > 1 ? " and more" : "");
                else
                        (void) snprintf(why, n, "its NTFS partition %d holds a file whose name is not valid UTF-16",
                                        c->partno);
                return 0;
        }
        return 1;
}

#else

static int check_files(int fd, const struct candidate *c, char *why, size_t n) {
        (void) fd;
        (void) snprintf(why, n, "its NTFS partition %d cannot be listed: built without libntfs-3g", c->partno);
        return 0;
}

struct dlib *azure_ntfs_library(void) {
        static struct dlib none = { .error = "built without libntfs-3g" };

        return &none;
}

#endif

int azure_resource_fd_reformattable(int fd, char *why, size_t n) {
        struct candidate c = {};
        int r;

        r = find_candidate(fd, &c, why, n);
        if (r <= 0)
                return r;
        r = check_signature(fd, &c, why, n);
        if (r <= 0)
                return r;
        r = check_files(fd, &c, why, n);
        if (r <= 0)
                return r;
        (void) snprintf(why, n, "NTFS '%s' on partition %d holding only Azure's warning", AZURE_RESOURCE_LABEL,
                        c.partno);
        return 1;
}

int azure_resource_disk_reformattable(const char *node, char *why, size_t n) {
        _cleanup_close_ int fd = -1;

        fd = open(node, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return azure_resource_fd_reformattable(fd, why, n);
}

/* Zeroes the first and the last MiB of the disk (all of a disk of 2 MiB or
 * less). libblkid's wipe erases a table's magic only: the MBR's entries
 * (bytes 446-509) and GPT's entry arrays stay, and a disk left so by a
 * format that did not finish would read as data without a signature,
 * refused at every later boot and by Azure's own agents. Zeroed ends are
 * what the safety probe takes as blank. */
static int zero_ends(int fd, uint64_t size) {
        const uint64_t mib = UINT64_C(1) << 20;
        _cleanup_free_ void *zero = NULL;
        int r;

        zero = calloc(1, (size_t) mib);
        if (!zero)
                return -ENOMEM;
        r = pwrite_full(fd, zero, (size_t) (size < mib ? size : mib), 0);
        if (r < 0)
                return r;
        if (size > mib) {
                uint64_t start = size > 2 * mib ? size - mib : mib;

                r = pwrite_full(fd, zero, (size_t) (size - start), start);
                if (r < 0)
                        return r;
        }
        return 0;
}

int azure_wipe_partition_table(const char *node, bool *ret_busy) {
        _cleanup_blkid_probe_ blkid_probe pr = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        blkid_loff_t size;
        int wiped = 0, r;

        if (ret_busy)
                *ret_busy = false;
        fd = open(node, O_RDWR | O_EXCL | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        pr = blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return -EIO;
        size = blkid_probe_get_size(pr);
        if (size < 0)
                return -EIO;
        (void) blkid_probe_enable_superblocks(pr, 0);
        (void) blkid_probe_enable_partitions(pr, 1);
        (void) blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC | BLKID_PARTS_FORCE_GPT);
        /* Each wipe steps the probe back, so the next finds what the erased
         * signature hid: the backup GPT header, the protective MBR. */
        while (blkid_do_probe(pr) == 0) {
                if (blkid_do_wipe(pr, 0) < 0)
                        return errno > 0 ? -errno : -EIO;
                if (++wiped > 16)
                        return -ELOOP;
        }
        r = zero_ends(fd, (uint64_t) size);
        if (r < 0)
                return r;
        if (fdatasync(fd) < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* A disk that cannot have partitions (a loop device without
         * partition scanning) has none for the kernel to drop. A partition
         * still in use (EBUSY) stays known to the kernel until the next
         * boot; mke2fs writes the whole disk through its own node and does
         * not need it gone, so that is the caller's warning, not a failure. */
        if (S_ISBLK(st.st_mode) && ioctl(fd, BLKRRPART, 0) < 0 && errno != EINVAL) {
                if (errno != EBUSY || !ret_busy)
                        return -errno;
                *ret_busy = true;
        }
        return wiped;
}
