/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sources.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cmdline.h"
#include "devnode.h"
#include "log.h"
#include "macro.h"
#include "util.h"

/* How long to wait before reading again a port whose host end is closed. */
#define VPORT_RETRY_MS 10u

int blob_to_text(const unsigned char *blob, size_t len, char *text, size_t n, size_t *ret_bad) {
        size_t end = len;

        while (end > 0 && blob[end - 1] == '\0')
                end--;
        for (size_t i = 0; i < end; i++) {
                unsigned char c = blob[i];

                if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c > 0x7e) {
                        if (ret_bad)
                                *ret_bad = i;
                        return -EBADMSG;
                }
        }
        if (end >= n)
                return -E2BIG;
        memcpy(text, blob, end);
        text[end] = '\0';
        return 0;
}

static int append(char *text, size_t n, const char *s, size_t len) {
        size_t used = strlen(text);

        if (used + (used ? 1 : 0) + len >= n)
                return -E2BIG;
        if (used)
                text[used++] = ' ';
        memcpy(text + used, s, len);
        text[used + len] = '\0';
        return 0;
}

static int smbios_bad(size_t at, size_t *ret_bad) {
        if (ret_bad)
                *ret_bad = at;
        return -EBADMSG;
}

int smbios_oem_options(const unsigned char *raw, size_t len, char *text, size_t n, size_t *ret_bad) {
        size_t flen, p;
        bool found = false;

        /* type, length of the formatted area, handle, then the count */
        if (len < 5 || raw[0] != 11)
                return smbios_bad(0, ret_bad);
        flen = raw[1];
        if (flen < 5 || flen > len)
                return smbios_bad(1, ret_bad);
        if (n == 0)
                return -E2BIG;
        text[0] = '\0';

        /* The string set ends with an empty string: a structure without it
         * was cut short. */
        p = flen;
        for (;;) {
                const unsigned char *s = raw + p;
                const unsigned char *nul;
                size_t slen, klen = strlen(SMBIOS_KEY);
                int r;

                if (p >= len || !(nul = memchr(s, '\0', len - p)))
                        return smbios_bad(p, ret_bad);
                slen = (size_t) (nul - s);
                if (slen == 0) {
                        /* No strings at all is written as two NULs. */
                        if (p == flen && (p + 1 >= len || raw[p + 1] != '\0'))
                                return smbios_bad(p + 1, ret_bad);
                        break;
                }
                if (slen >= klen && memcmp(s, SMBIOS_KEY, klen) == 0) {
                        char value[SOURCE_MAX_BYTES];
                        size_t bad;

                        r = blob_to_text(s + klen, slen - klen, value, sizeof(value), &bad);
                        if (r == -EBADMSG)
                                return smbios_bad(p + klen + bad, ret_bad);
                        if (r < 0)
                                return r;
                        r = append(text, n, value, strlen(value));
                        if (r < 0)
                                return r;
                        found = true;
                }
                p += slen + 1;
        }
        return found ? 0 : -ENOENT;
}

/* A file of the source's bound, as text: more than that is refused, not
 * cut. */
static int read_text(const char *path, char *text, size_t n, size_t *ret_bad) {
        _cleanup_free_ char *buf = NULL;
        size_t len;
        int r;

        r = read_full_file(path, SOURCE_MAX_BYTES, &buf, &len);
        if (r < 0)
                return r;
        return blob_to_text((const unsigned char *) buf, len, text, n, ret_bad);
}

int read_fwcfg(const char *sysfs, char *text, size_t n, size_t *ret_bad) {
        char path[PATH_MAX];

        if (xsnprintf(path, sizeof(path), "%s/firmware/qemu_fw_cfg/by_name/%s/raw", sysfs, FWCFG_NAME) < 0)
                return -ENAMETOOLONG;
        return read_text(path, text, n, ret_bad);
}

/* The options of one type 11 entry, appended to text. */
static int smbios_entry(const char *dir, const char *entry, char *text, size_t n, size_t *ret_bad) {
        _cleanup_free_ char *buf = NULL;
        char path[PATH_MAX], one[SOURCE_MAX_BYTES];
        size_t len;
        int r;

        r = xsnprintf(path, sizeof(path), "%s/%s/raw", dir, entry);
        if (r < 0)
                return r;
        r = read_full_file(path, SOURCE_MAX_BYTES, &buf, &len);
        if (r < 0)
                return r;
        r = smbios_oem_options((const unsigned char *) buf, len, one, sizeof(one), ret_bad);
        if (r < 0)
                return r;
        return append(text, n, one, strlen(one));
}

int read_smbios(const char *sysfs, char *text, size_t n, size_t *ret_bad) {
        _cleanup_closedir_ DIR *d = NULL;
        char dir[PATH_MAX];
        struct dirent *de;
        bool found = false;
        int r;

        if (xsnprintf(dir, sizeof(dir), "%s/firmware/dmi/entries", sysfs) < 0)
                return -ENAMETOOLONG;
        d = opendir(dir);
        if (!d)
                return -errno;
        if (n == 0)
                return -E2BIG;
        text[0] = '\0';
        /* Entries are named "<type>-<instance>". readdir() order is not
         * instance order, but only one type 11 entry is usual; with several,
         * each option's last value among them wins in no defined order. */
        while ((de = readdir(d))) {
                if (strncmp(de->d_name, "11-", 3) != 0)
                        continue;
                r = smbios_entry(dir, de->d_name, text, n, ret_bad);
                if (r == -ENOENT || r == -ENAMETOOLONG)
                        continue;
                if (r < 0)
                        return r;
                found = true;
        }
        return found ? 0 : -ENOENT;
}

static int vport_node(const char *sysfs, const char *name, char *path, size_t n) {
        char attr[PATH_MAX];
        dev_t devno;
        int r;

        if (xsnprintf(attr, sizeof(attr), "%s/class/virtio-ports/%s/dev", sysfs, name) < 0)
                return -ENAMETOOLONG;
        r = read_devno(attr, &devno);
        if (r < 0)
                return r;
        return device_node(name, S_IFCHR, devno, path, n);
}

/* The virtio port named VPORT_NAME, as sysfs names it ("vport1p1"). */
static int vport_find(const char *sysfs, char *port, size_t n) {
        _cleanup_closedir_ DIR *d = NULL;
        char dir[PATH_MAX];
        struct dirent *de;

        if (xsnprintf(dir, sizeof(dir), "%s/class/virtio-ports", sysfs) < 0)
                return -ENAMETOOLONG;
        d = opendir(dir);
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char path[PATH_MAX], name[128];

                if (de->d_name[0] == '.')
                        continue;
                if (xsnprintf(path, sizeof(path), "%s/%s/name", dir, de->d_name) < 0)
                        continue;
                if (read_line(path, name, sizeof(name)) == 0 && strcmp(name, VPORT_NAME) == 0)
                        return xsnprintf(port, n, "%s", de->d_name);
        }
        return -ENOENT;
}

/* One line, as long as the host takes to send it within the timeout; its
 * length without the newline in ret_len. */
static int vport_read_line(int fd, unsigned timeout_ms, unsigned char *buf, size_t *ret_len) {
        uint64_t deadline = now_ms() + timeout_ms;
        size_t len = 0;

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = now_ms();
                unsigned char *nl;
                ssize_t k;

                if (now >= deadline)
                        return -ETIMEDOUT;
                k = poll(&p, 1, (int) (deadline - now));
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k <= 0)
                        continue;
                k = read(fd, buf + len, SOURCE_MAX_BYTES - len);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0) {
                        /* The host has not opened its end yet. */
                        sleep_ms(VPORT_RETRY_MS);
                        continue;
                }
                len += (size_t) k;
                nl = memchr(buf, '\n', len);
                if (nl) {
                        *ret_len = (size_t) (nl - buf);
                        return 0;
                }
                if (len >= SOURCE_MAX_BYTES)
                        return -E2BIG;
        }
}

int read_vport(const char *sysfs, unsigned timeout_ms, char *text, size_t n, size_t *ret_bad) {
        unsigned char buf[SOURCE_MAX_BYTES];
        char port[NAME_MAX + 1], node[PATH_MAX];
        _cleanup_close_ int fd = -1;
        size_t len = 0;
        int r;

        r = vport_find(sysfs, port, sizeof(port));
        if (r < 0)
                return r;
        r = vport_node(sysfs, port, node, sizeof(node));
        if (r < 0)
                return r;
        fd = open(node, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        r = vport_read_line(fd, timeout_ms, buf, &len);
        if (r < 0)
                return r;
        return blob_to_text(buf, len, text, n, ret_bad);
}

int read_config(const char *path, char *text, size_t n, size_t *ret_bad) {
        return read_text(path, text, n, ret_bad);
}

static void take_source(struct options *o, enum source src, int r, const char *text, size_t bad) {
        struct options w;

        if (r == -ENOENT)
                return;
        options_init(&w);
        if (r == 0)
                options_parse_source(&w, text, src);
        else {
                /* The host meant to say something: what it said is unclear,
                 * so no disk is touched. */
                char what[96];

                if (r == -EBADMSG)
                        (void) snprintf(what, sizeof(what),
                                        "refused: malformed, or a byte that is not printable ASCII (offset %zu)", bad);
                else
                        (void) snprintf(what, sizeof(what), "unreadable: %s", strerror(-r));
                options_source_problem(&w, src, what);
        }
        options_merge(o, &w);
}

int gather_options(const struct gather_args *a, struct options *o) {
        char text[SOURCE_MAX_BYTES + 1];
        size_t bad = 0;
        int r;

        options_init(o);
        if (a->cmdline)
                options_parse_cmdline(o, a->cmdline);
        else {
                _cleanup_free_ char *cmdline = NULL;

                r = cmdline_read("/proc/cmdline", &cmdline);
                if (r < 0)
                        return r;
                options_parse_cmdline(o, cmdline);
        }
        /* rd.scratch=0 on the command line ends it before the host is asked. */
        if (o->disabled)
                return 0;

        r = read_fwcfg(a->sysfs, text, sizeof(text), &bad);
        take_source(o, SOURCE_FWCFG, r, text, bad);
        r = read_smbios(a->sysfs, text, sizeof(text), &bad);
        take_source(o, SOURCE_SMBIOS, r, text, bad);
        if (!o->disabled) {
                r = a->vport_copy ? read_text(a->vport_copy, text, sizeof(text), &bad) : -ENOENT;
                if (r == -ENOENT) {
                        r = read_vport(a->sysfs, o->timeout_ms, text, sizeof(text), &bad);
                        if (r == 0 && a->vport_copy) {
                                int k = write_file_atomic(a->vport_copy, text, 0600);

                                if (k < 0)
                                        log_warning_errno(k, "cannot keep the virtio port's line in %s: %m",
                                                          a->vport_copy);
                        }
                }
                if (r == -ETIMEDOUT)
                        log_warning("no line on the virtio port %s within %u ms, going on without it", VPORT_NAME,
                                    o->timeout_ms);
                else
                        take_source(o, SOURCE_VPORT, r, text, bad);
        }
        r = read_config(a->config ? a->config : CONFIG_FILE, text, sizeof(text), &bad);
        take_source(o, SOURCE_CONFIG, r, text, bad);
        return 0;
}
