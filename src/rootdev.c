/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "rootdev.h"

#include <blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devnode.h"
#include "macro.h"
#include "util.h"

static const struct {
        const char *prefix;
        enum root_kind kind;
        bool udev_link;         /* the name is escaped the way udev escapes it */
} root_forms[] = {
        { "LABEL=", ROOT_LABEL, false },
        { "UUID=", ROOT_UUID, false },
        { "PARTUUID=", ROOT_PARTUUID, false },
        { "/dev/disk/by-label/", ROOT_LABEL, true },
        { "/dev/disk/by-uuid/", ROOT_UUID, true },
        { "/dev/disk/by-partuuid/", ROOT_PARTUUID, true },
};

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* udev writes "/" and blanks in a label as \x2f, \x20. */
static int unescape_udev(const char *s, char *out, size_t n) {
        size_t o = 0;

        for (; *s; s++) {
                char c = *s;

                if (c == '/')
                        return -EINVAL;
                if (c == '\\') {
                        int hi, lo;

                        if (s[1] != 'x' || (hi = hexval(s[2])) < 0 || (lo = hexval(s[3])) < 0)
                                return -EINVAL;
                        c = (char) (hi << 4 | lo);
                        if (c == '\0')
                                return -EINVAL;
                        s += 3;
                }
                if (o + 1 >= n)
                        return -EINVAL;
                out[o++] = c;
        }
        out[o] = '\0';
        return 0;
}

static bool uuid_chars_ok(const char *s) {
        for (; *s; s++)
                if (hexval(*s) < 0 && *s != '-')
                        return false;
        return true;
}

/* A kernel block device name under /dev: "sda1", or "cciss/c0d0", which
 * sysfs spells "cciss!c0d0". */
static int parse_dev_path(const char *s, struct root_spec *ret) {
        size_t slen = strlen(s), len;
        const char *name;

        if (slen < strlen("/dev/") || strncmp(s, "/dev/", strlen("/dev/")) != 0)
                return -EINVAL;
        name = s + strlen("/dev/");
        len = slen - strlen("/dev/");
        if (strncmp(s, "/dev/disk/", strlen("/dev/disk/")) == 0 ||
            strncmp(s, "/dev/mapper/", strlen("/dev/mapper/")) == 0)
                return -EOPNOTSUPP;
        if (len == 0 || len > ROOTDEV_MAX_VALUE || name[0] == '/' || name[len - 1] == '/' ||
            strstr(name, "//") || strcmp(name, "..") == 0 || strncmp(name, "../", 3) == 0 ||
            strstr(name, "/../") || strchr(name, '!'))
                return -EINVAL;
        if (len >= 3 && strcmp(name + len - 3, "/..") == 0)
                return -EINVAL;

        ret->kind = ROOT_PATH;
        return devnode_sysname(name, ret->value, sizeof(ret->value));
}

int root_spec_parse(const char *s, struct root_spec *ret) {
        struct root_spec spec = {};

        if (!s[0])
                return -EINVAL;

        for (size_t i = 0; i < ELEMENTSOF(root_forms); i++) {
                const char *v;

                if (strncmp(s, root_forms[i].prefix, strlen(root_forms[i].prefix)) != 0)
                        continue;
                v = s + strlen(root_forms[i].prefix);
                if (!v[0] || strlen(v) > ROOTDEV_MAX_VALUE)
                        return -EINVAL;
                spec.kind = root_forms[i].kind;
                if (root_forms[i].udev_link) {
                        if (unescape_udev(v, spec.value, sizeof(spec.value)) < 0)
                                return -EINVAL;
                } else
                        strcpy(spec.value, v);
                if (spec.kind == ROOT_PARTUUID && strstr(spec.value, "/PARTNROFF="))
                        return -EOPNOTSUPP;
                if (spec.kind != ROOT_LABEL && !uuid_chars_ok(spec.value))
                        return -EINVAL;
                *ret = spec;
                return 0;
        }

        if (strncmp(s, "/dev/", strlen("/dev/")) == 0) {
                int r = parse_dev_path(s, &spec);

                if (r < 0)
                        return r;
                *ret = spec;
                return 0;
        }
        return -EINVAL;
}

void root_spec_format(const struct root_spec *spec, char *buf, size_t n) {
        switch (spec->kind) {
        case ROOT_PATH: {
                char name[ROOTDEV_MAX_VALUE + 1];

                (void) devnode_name(spec->value, name, sizeof(name));
                (void) snprintf(buf, n, "/dev/%s", name);
                return;
        }
        case ROOT_LABEL:
                (void) snprintf(buf, n, "LABEL=%s", spec->value);
                return;
        case ROOT_UUID:
                (void) snprintf(buf, n, "UUID=%s", spec->value);
                return;
        case ROOT_PARTUUID:
                (void) snprintf(buf, n, "PARTUUID=%s", spec->value);
                return;
        }
        (void) snprintf(buf, n, "?");
}

/* Opens devno for reading and says which node it went through: devdir's
 * when that is the device (a regular file there is an image standing in for
 * one, as in test trees), else a node of our own in nodedir. devtmpfs makes
 * its nodes from a kernel thread, so a device can show in sysfs before its
 * node shows in /dev. */
static int node_open(const struct rootdev_dirs *dirs, const char *name, dev_t devno, char *path, size_t n,
                     int *ret_fd) {
        const struct node_dirs nd = { .devdir = dirs->devdir, .nodedir = dirs->nodedir, .regular_ok = true };
        int fd, r;

        r = device_node_in(&nd, name, S_IFBLK, devno, path, n);
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

struct fs_id {
        char type[64];
        char label[ROOTDEV_MAX_VALUE + 1];
        char uuid[ROOTDEV_MAX_VALUE + 1];
};

static void copy_value(blkid_probe pr, const char *key, char *dst, size_t n) {
        const char *v = NULL;

        dst[0] = '\0';
        if (blkid_probe_lookup_value(pr, key, &v, NULL) == 0 && v)
                (void) snprintf(dst, n, "%s", v);
}

/* What filesystem the device holds. Nothing found, or two signatures that
 * contradict each other, leave the fields empty: neither names a root. */
static int new_probe(int fd, blkid_probe *ret) {
        _cleanup_blkid_probe_ blkid_probe pr = NULL;

        pr = blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return -EIO;
        *ret = TAKE_PTR(pr);
        return 0;
}

static int probe_fs(int fd, struct fs_id *ret) {
        _cleanup_blkid_probe_ blkid_probe pr = NULL;
        int r;

        *ret = (struct fs_id) {};
        r = new_probe(fd, &pr);
        if (r < 0)
                return r;
        (void) blkid_probe_enable_superblocks(pr, 1);
        (void) blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID | BLKID_SUBLKS_TYPE);
        (void) blkid_probe_enable_partitions(pr, 0);
        r = blkid_do_safeprobe(pr);
        if (r == 0) {
                copy_value(pr, "TYPE", ret->type, sizeof(ret->type));
                copy_value(pr, "LABEL", ret->label, sizeof(ret->label));
                copy_value(pr, "UUID", ret->uuid, sizeof(ret->uuid));
        }
        return r == -1 ? -EIO : 0;
}

struct candidate {
        char name[NAME_MAX + 1];
        dev_t devno;
        char node[PATH_MAX];
        char fstype[64];
};

#define SETTLED_MAX 256

/* Devices probed during a wait that hold nothing to match: probing is
 * slow, and their contents do not change while the boot waits. */
struct settled {
        unsigned n;
        dev_t devno[SETTLED_MAX];
};

static bool settled_has(const struct settled *st, dev_t devno) {
        for (unsigned i = 0; st && i < st->n; i++)
                if (st->devno[i] == devno)
                        return true;
        return false;
}

static void settled_add(struct settled *st, dev_t devno) {
        if (st && st->n < SETTLED_MAX)
                st->devno[st->n++] = devno;
}

struct scan {
        const struct rootdev_dirs *dirs;
        const struct root_spec *spec;
        struct settled *settled;
        unsigned matches;
        struct candidate first;
        char *ambiguous;
        size_t n;
};

static void scan_add(struct scan *s, const struct candidate *c) {
        if (s->matches++ == 0)
                s->first = *c;
        if (s->ambiguous && s->n) {
                size_t used = strlen(s->ambiguous);

                (void) snprintf(s->ambiguous + used, s->n - used, "%s%s", used ? ", " : "", c->name);
        }
}

/* The partition numbered partno of the disk at diskdir (a directory of
 * sysfs's class/block). */
static int partition_of(const char *diskdir, int partno, struct candidate *ret) {
        _cleanup_closedir_ DIR *d = NULL;
        char path[PATH_MAX];
        struct dirent *de;
        int r = -ENOENT;

        d = opendir(diskdir);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                uint64_t no;

                if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(ret->name))
                        continue;
                if (xsnprintf(path, sizeof(path), "%s/%s/partition", diskdir, de->d_name) < 0 ||
                    read_u64(path, &no) < 0 || no != (uint64_t) partno)
                        continue;
                if (xsnprintf(path, sizeof(path), "%s/%s/dev", diskdir, de->d_name) < 0)
                        continue;
                r = read_devno(path, &ret->devno);
                if (r == 0)
                        strcpy(ret->name, de->d_name);
                break;
        }
        return r;
}

/* Matches PARTUUID= against the partition table of one whole disk. Returns
 * how many entries have the UUID, whether the kernel shows their partitions
 * yet or not. */
static int scan_partitions(struct scan *s, const char *diskdir, int fd) {
        _cleanup_blkid_probe_ blkid_probe pr = NULL;
        blkid_partlist ls;
        int n, r, found = 0;

        r = new_probe(fd, &pr);
        if (r < 0)
                return r;
        (void) blkid_probe_enable_superblocks(pr, 0);
        (void) blkid_probe_enable_partitions(pr, 1);
        ls = blkid_probe_get_partitions(pr);
        n = ls ? blkid_partlist_numof_partitions(ls) : 0;
        for (int i = 0; i < n; i++) {
                blkid_partition par = blkid_partlist_get_partition(ls, i);
                const char *uuid = par ? blkid_partition_get_uuid(par) : NULL;
                struct candidate c = {};

                if (!uuid || strcasecmp(uuid, s->spec->value) != 0)
                        continue;
                found++;
                /* In the table but not (yet) known to the kernel: not a
                 * device to mount. */
                if (partition_of(diskdir, blkid_partition_get_partno(par), &c) < 0)
                        continue;
                scan_add(s, &c);
        }
        return found;
}

static void scan_one(struct scan *s, const char *classdir, const char *name) {
        char dir[PATH_MAX], path[PATH_MAX];
        _cleanup_close_ int fd = -1;
        struct candidate c = {};
        struct fs_id id;
        uint64_t size;
        int r;

        if (strlen(name) >= sizeof(c.name) || xsnprintf(dir, sizeof(dir), "%s/%s", classdir, name) < 0)
                return;
        strcpy(c.name, name);
        /* No dev yet: sysfs fills the directory in after creating it. An
         * empty device (a drive without a medium) holds nothing. */
        if (xsnprintf(path, sizeof(path), "%s/dev", dir) < 0 || read_devno(path, &c.devno) < 0 ||
            settled_has(s->settled, c.devno))
                return;
        if (xsnprintf(path, sizeof(path), "%s/size", dir) < 0 || read_u64(path, &size) < 0 || size == 0)
                return;
        if (s->spec->kind == ROOT_PARTUUID) {
                if (xsnprintf(path, sizeof(path), "%s/partition", dir) < 0 || access(path, F_OK) == 0)
                        return;
        }

        if (node_open(s->dirs, name, c.devno, c.node, sizeof(c.node), &fd) < 0)
                return;
        if (s->spec->kind == ROOT_PARTUUID) {
                r = scan_partitions(s, dir, fd);
                if (r == 0)
                        settled_add(s->settled, c.devno);
        } else if (probe_fs(fd, &id) == 0) {
                const char *have = s->spec->kind == ROOT_LABEL ? id.label : id.uuid;
                bool match = s->spec->kind == ROOT_LABEL ? strcmp(have, s->spec->value) == 0
                                                         : strcasecmp(have, s->spec->value) == 0;

                if (have[0] && match) {
                        strcpy(c.fstype, id.type);
                        scan_add(s, &c);
                } else
                        settled_add(s->settled, c.devno);
        }
}

/* A device found by its name or its partition entry still needs its node and
 * its filesystem type. */
static int finish(const struct rootdev_dirs *dirs, struct candidate *c) {
        _cleanup_close_ int fd = -1;
        struct fs_id id;
        int r;

        r = node_open(dirs, c->name, c->devno, c->node, sizeof(c->node), &fd);
        if (r < 0)
                return r;
        if (probe_fs(fd, &id) == 0)
                strcpy(c->fstype, id.type);
        return 0;
}

static int find(const struct rootdev_dirs *dirs, const struct root_spec *spec, struct settled *settled,
                struct rootdev *ret, char *ambiguous, size_t n) {
        struct scan s = { .dirs = dirs, .spec = spec, .settled = settled, .ambiguous = ambiguous, .n = n };
        char classdir[PATH_MAX], path[PATH_MAX];
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        if (ambiguous && n)
                ambiguous[0] = '\0';
        r = xsnprintf(classdir, sizeof(classdir), "%s/class/block", dirs->sysfs);
        if (r < 0)
                return r;

        if (spec->kind == ROOT_PATH) {
                if (strlen(spec->value) >= sizeof(s.first.name))
                        return -ENAMETOOLONG;
                r = xsnprintf(path, sizeof(path), "%s/%s/dev", classdir, spec->value);
                if (r < 0)
                        return r;
                r = read_devno(path, &s.first.devno);
                if (r < 0)
                        return r;
                strcpy(s.first.name, spec->value);
                s.matches = 1;
        } else {
                d = opendir(classdir);
                if (!d)
                        return errno == ENOENT ? -ENOENT : -errno;
                while ((de = readdir(d)))
                        if (de->d_name[0] != '.')
                                scan_one(&s, classdir, de->d_name);
        }

        if (s.matches == 0)
                return -ENOENT;
        if (s.matches > 1)
                return -ENOTUNIQ;
        if (spec->kind == ROOT_PATH || spec->kind == ROOT_PARTUUID) {
                r = finish(dirs, &s.first);
                if (r < 0)
                        return r;
        }

        strcpy(ret->name, s.first.name);
        ret->devno = s.first.devno;
        strcpy(ret->node, s.first.node);
        strcpy(ret->fstype, s.first.fstype);
        return 0;
}

int rootdev_find(const struct rootdev_dirs *dirs, const struct root_spec *spec, struct rootdev *ret,
                 char *ambiguous, size_t n) {
        return find(dirs, spec, NULL, ret, ambiguous, n);
}

int rootdev_wait(const struct rootdev_dirs *dirs, const struct root_spec *spec, unsigned timeout_ms,
                 struct rootdev *ret, char *ambiguous, size_t n) {
        uint64_t deadline = now_ms() + timeout_ms;
        struct settled settled = {};

        for (;;) {
                int r = find(dirs, spec, &settled, ret, ambiguous, n);

                if (r != -ENOENT || now_ms() >= deadline)
                        return r;
                sleep_ms(ROOTDEV_POLL_MS);
        }
}

int rootdev_fd_matches(int fd, const char *name, const struct root_spec *spec) {
        struct fs_id id;
        int r;

        switch (spec->kind) {
        case ROOT_PATH:
                return strcmp(name, spec->value) == 0;
        case ROOT_PARTUUID:
                return 0;
        case ROOT_LABEL:
        case ROOT_UUID:
                break;
        }
        r = probe_fs(fd, &id);
        if (r < 0)
                return r;
        if (spec->kind == ROOT_LABEL)
                return id.label[0] && strcmp(id.label, spec->value) == 0;
        return id.uuid[0] && strcasecmp(id.uuid, spec->value) == 0;
}
