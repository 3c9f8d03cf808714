/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* The TAP counters, one pair for the whole test program. */
unsigned tap_count;
unsigned tap_failures;

char base[PATH_MAX];
bool in_child;

static const char *setup_what = "test setup";

bool fixture_start(const char *name, const char *setup) {
        const char *tmp = getenv("TMPDIR");

        setup_what = setup;
        if (xsnprintf(base, sizeof(base), "%s/%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", name) < 0)
                errno = ENAMETOOLONG;
        else if (mkdtemp(base))
                return true;
        check(false, "mkdtemp %s: %s", base, strerror(errno));
        base[0] = '\0';
        return false;
}

int fixture_done(void) {
        rm_rf(base);
        return tap_done();
}

void bail(const char *fmt, ...) {
        char msg[PATH_MAX + 256];
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (in_child)
                _exit(2);
        check(false, "%s: %s", setup_what, msg);
        rm_rf(base);
        exit(tap_done());
}

pid_t fork_child(void) {
        pid_t pid;

        (void) fflush(stdout);
        pid = fork();
        if (pid < 0)
                bail("fork: %s", strerror(errno));
        if (pid == 0)
                in_child = true;
        return pid;
}

void xfmt(char *buf, size_t n, const char *fmt, ...) {
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vsnprintf(buf, n, fmt, ap);
        va_end(ap);
        if (k < 0 || (size_t) k >= n)
                bail("path too long: %s...", buf);
}

void rm_rf(const char *path) {
        char cmd[PATH_MAX + 32];

        if (!path[0])
                return;
        if (xsnprintf(cmd, sizeof(cmd), "rm -rf '%s'", path) == 0)
                (void) system(cmd);
}

void mkdirs(const char *path) {
        char p[PATH_MAX];

        xfmt(p, sizeof(p), "%s", path);
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        bail("mkdir %s: %s", p, strerror(errno));
                *s = '/';
        }
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                bail("mkdir %s: %s", p, strerror(errno));
}

void mkparent(const char *path) {
        char p[PATH_MAX];
        char *slash;

        xfmt(p, sizeof(p), "%s", path);
        slash = strrchr(p, '/');
        if (slash && slash != p) {
                *slash = '\0';
                mkdirs(p);
        }
}

void mkd(const char *dir, const char *rel) {
        char p[PATH_MAX];

        xfmt(p, sizeof(p), "%s/%s", dir, rel);
        mkdirs(p);
}

void put_bytes(const char *dir, const char *rel, const void *data, size_t len) {
        char p[PATH_MAX], tmp[PATH_MAX + 8];
        int fd;

        xfmt(p, sizeof(p), "%s/%s", dir, rel);
        xfmt(tmp, sizeof(tmp), "%s.new", p);
        mkparent(p);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                bail("open %s: %s", tmp, strerror(errno));
        if (len && write(fd, data, len) != (ssize_t) len)
                bail("write %s: %s", tmp, strerror(errno));
        (void) close(fd);
        if (rename(tmp, p) < 0)
                bail("rename %s: %s", p, strerror(errno));
}

void put(const char *dir, const char *rel, const char *s) {
        put_bytes(dir, rel, s, strlen(s));
}

void lnk(const char *dir, const char *link, const char *target) {
        char p[PATH_MAX], t[PATH_MAX] = "";
        size_t up = 0;

        for (const char *s = link; *s; s++)
                if (*s == '/')
                        up++;
        if (3 * up + strlen(target) >= sizeof(t))
                bail("link target too long: %s", target);
        while (up--)
                strcat(t, "../");
        strcat(t, target);
        xfmt(p, sizeof(p), "%s/%s", dir, link);
        mkparent(p);
        if (symlink(t, p) < 0)
                bail("symlink %s -> %s: %s", p, t, strerror(errno));
}

const char *new_dir(const char *name, char *buf) {
        xfmt(buf, PATH_MAX, "%s/%s", base, name);
        mkdirs(buf);
        return buf;
}

const char *errname(int r) {
        static char buf[32];

        switch (r) {
        case 0: return "0";
        case -ENOENT: return "-ENOENT";
        case -ENODEV: return "-ENODEV";
        case -ENOTUNIQ: return "-ENOTUNIQ";
        case -EBADMSG: return "-EBADMSG";
        case -EBADSLT: return "-EBADSLT";
        case -E2BIG: return "-E2BIG";
        case -ETIMEDOUT: return "-ETIMEDOUT";
        case -EINVAL: return "-EINVAL";
        case -EIO: return "-EIO";
        case -ERANGE: return "-ERANGE";
        default:
                (void) snprintf(buf, sizeof(buf), "%d", r);
                return buf;
        }
}
