/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kmodlist.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bootopts.h"
#include "log.h"
#include "util.h"

#define KMOD_NAME_MAX 64
#define KMOD_MAX_FAILED 128

void kmod_name(const char *path, char *buf, size_t n) {
        const char *base = strrchr(path, '/');
        const char *dot;
        size_t len;

        base = base ? base + 1 : path;
        dot = strstr(base, ".ko");
        len = dot ? (size_t) (dot - base) : strlen(base);
        if (n == 0)
                return;
        if (len >= n)
                len = n - 1;
        for (size_t i = 0; i < len; i++)
                buf[i] = base[i] == '-' ? '_' : base[i];
        buf[len] = '\0';
}

static bool name_eq(const char *a, size_t alen, const char *b) {
        if (strlen(b) != alen)
                return false;
        for (size_t i = 0; i < alen; i++) {
                char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];

                if (x != y)
                        return false;
        }
        return true;
}

struct params {
        const char *name;
        char *buf;
        size_t n, used;
        bool too_long;
};

static int take_param(const char *word, size_t len, bool overlong, void *userdata) {
        struct params *p = userdata;
        const char *dot = memchr(word, '.', len), *eq = memchr(word, '=', len), *param;
        int k;

        /* A dot inside the value ("foo=a.b") names no module. */
        if (!dot || (eq && eq < dot) || dot == word || dot[1] == '\0' || dot[1] == '=')
                return 0;
        if (!name_eq(word, (size_t) (dot - word), p->name))
                return 0;
        if (overlong) {
                p->too_long = true;
                return 0;
        }
        param = dot + 1;
        /* The kernel splits the string at blanks outside double quotes. */
        if (eq && strpbrk(eq + 1, " \t\n"))
                k = snprintf(p->buf + p->used, p->n - p->used, "%s%.*s\"%s\"", p->used ? " " : "",
                             (int) (eq - param + 1), param, eq + 1);
        else
                k = snprintf(p->buf + p->used, p->n - p->used, "%s%s", p->used ? " " : "", param);
        if (k < 0 || (size_t) k >= p->n - p->used) {
                p->too_long = true;
                p->buf[p->used] = '\0';
                return 0;
        }
        p->used += (size_t) k;
        return 0;
}

int kmod_params(const char *cmdline, const char *name, char *buf, size_t n) {
        struct params p = { .name = name, .buf = buf, .n = n };

        if (n == 0)
                return -ENOBUFS;
        buf[0] = '\0';
        (void) cmdline_for_each_word(cmdline, take_param, &p);
        return p.too_long ? -ENOBUFS : 0;
}

static int load_one(const char *path, const char *params) {
        int fd, r = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (syscall(SYS_finit_module, fd, params, 0) < 0 && errno != EEXIST)
                r = -errno;
        (void) close(fd);
        return r;
}

struct failed {
        unsigned n;
        char names[KMOD_MAX_FAILED][KMOD_NAME_MAX];
};

static void failed_add(struct failed *f, const char *name) {
        if (f->n < KMOD_MAX_FAILED)
                (void) snprintf(f->names[f->n++], sizeof(f->names[0]), "%s", name);
}

static const char *failed_find(const struct failed *f, const char *name) {
        for (unsigned i = 0; i < f->n; i++)
                if (strcmp(f->names[i], name) == 0)
                        return f->names[i];
        return NULL;
}

int kmod_load_list(const char *path, const char *release, const char *cmdline) {
        char prefix[PATH_MAX], params[1024];
        struct failed *failed;
        unsigned loaded = 0;
        uint64_t t0 = now_ms();
        bool other_kernel = false;
        char *line = NULL;
        size_t cap = 0;
        FILE *f;
        int r;

        r = xsnprintf(prefix, sizeof(prefix), "/lib/modules/%s/", release);
        if (r < 0)
                return r;
        f = fopen(path, "re");
        if (!f)
                return -errno;
        failed = calloc(1, sizeof(*failed));
        if (!failed) {
                (void) fclose(f);
                return -ENOMEM;
        }

        while (getline(&line, &cap, f) > 0) {
                char *save = NULL, *ko, *need;
                char name[KMOD_NAME_MAX], needname[KMOD_NAME_MAX];
                const char *missing = NULL;

                line[strcspn(line, "\n")] = '\0';
                ko = strtok_r(line, " \t", &save);
                if (!ko || ko[0] == '#')
                        continue;
                kmod_name(ko, name, sizeof(name));
                if (strncmp(ko, prefix, strlen(prefix)) != 0) {
                        if (!other_kernel)
                                log_warning("%s lists modules for another kernel than %s (%s), not loading them",
                                            path, release, ko);
                        other_kernel = true;
                        continue;
                }
                while ((need = strtok_r(NULL, " \t", &save)) && !missing) {
                        kmod_name(need, needname, sizeof(needname));
                        missing = failed_find(failed, needname);
                }
                if (missing) {
                        log_info("not loading %s: it needs %s, which did not load", name, missing);
                        failed_add(failed, name);
                        continue;
                }

                if (kmod_params(cmdline, name, params, sizeof(params)) < 0)
                        log_warning("the options for %s on the kernel command line are too long, ignoring some",
                                    name);
                r = load_one(ko, params);
                if (r == -ENODEV)
                        log_info("not loading %s: no device for it", name);
                else if (r < 0)
                        log_warning_errno(r, "cannot load %s: %m, going on without it", name);
                else {
                        loaded++;
                        continue;
                }
                failed_add(failed, name);
        }

        log_info("loaded %u kernel modules in %" PRIu64 " ms", loaded, now_ms() - t0);
        free(line);
        free(failed);
        (void) fclose(f);
        return 0;
}
