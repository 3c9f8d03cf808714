/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kmodlist.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
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
#include "macro.h"
#include "util.h"

#define KMOD_NAME_MAX 64
#define KMOD_BUS_MAX 32

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
        int r;

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
                r = xsnprintf(p->buf + p->used, p->n - p->used, "%s%.*s\"%s\"", p->used ? " " : "",
                              (int) (eq - param + 1), param, eq + 1);
        else
                r = xsnprintf(p->buf + p->used, p->n - p->used, "%s%s", p->used ? " " : "", param);
        if (r < 0) {
                p->too_long = true;
                p->buf[p->used] = '\0';
                return 0;
        }
        p->used += strlen(p->buf + p->used);
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
        _cleanup_close_ int fd = -1;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (syscall(SYS_finit_module, fd, params, 0) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static size_t bus_len(const char *alias) {
        size_t len = strcspn(alias, "*:");

        return alias[len] && len < KMOD_BUS_MAX ? len : 0;
}

static bool same_bus(const char *a, const char *b) {
        size_t len = bus_len(a);

        return len > 0 && bus_len(b) == len && strncmp(a, b, len) == 0;
}

/* Whether a device on the bus of aliases[0] has a modalias that one of the
 * aliases on that bus matches. */
static bool bus_has_device(const char *sysfs, char *const *aliases, size_t n) {
        _cleanup_closedir_ DIR *d = NULL;
        char dir[PATH_MAX], path[PATH_MAX], modalias[4096];
        struct dirent *de;

        /* The CPUs' modalias (their features, which aesni_intel's alias
         * asks for) is the cpu subsystem's own file, not each CPU's. */
        if (bus_len(aliases[0]) == 3 && strncmp(aliases[0], "cpu", 3) == 0) {
                if (xsnprintf(path, sizeof(path), "%s/devices/system/cpu/modalias", sysfs) < 0 ||
                    read_line(path, modalias, sizeof(modalias)) < 0)
                        return false;
                for (size_t j = 0; j < n; j++)
                        if (same_bus(aliases[j], aliases[0]) && fnmatch(aliases[j], modalias, 0) == 0)
                                return true;
                return false;
        }
        if (xsnprintf(dir, sizeof(dir), "%s/bus/%.*s/devices", sysfs, (int) bus_len(aliases[0]), aliases[0]) < 0)
                return false;
        d = opendir(dir);
        if (!d)
                return false;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || xsnprintf(path, sizeof(path), "%s/%s/modalias", dir, de->d_name) < 0 ||
                    read_line(path, modalias, sizeof(modalias)) < 0)
                        continue;
                for (size_t j = 0; j < n; j++)
                        if (same_bus(aliases[j], aliases[0]) && fnmatch(aliases[j], modalias, 0) == 0)
                                return true;
        }
        return false;
}

bool kmod_device_present(const char *sysfs, char *const *aliases, size_t n) {
        for (size_t i = 0; i < n; i++) {
                bool seen = false;

                if (bus_len(aliases[i]) == 0)
                        continue;
                /* Each bus is looked at once, for all the aliases on it. */
                for (size_t j = 0; j < i && !seen; j++)
                        seen = same_bus(aliases[j], aliases[i]);
                if (!seen && bus_has_device(sysfs, aliases + i, n - i))
                        return true;
        }
        return false;
}

struct strv {
        char **v;
        size_t n;
};

static int strv_push(struct strv *s, const char *str) {
        char **v = realloc(s->v, (s->n + 2) * sizeof(char *));

        if (!v)
                return -ENOMEM;
        s->v = v;
        v[s->n] = strdup(str);
        if (!v[s->n])
                return -ENOMEM;
        v[++s->n] = NULL;
        return 0;
}

static void strv_free(struct strv *s) {
        for (size_t i = 0; i < s->n; i++)
                free(s->v[i]);
        free(s->v);
        *s = (struct strv) {};
}

struct entry {
        struct strv files;      /* the module, then what it needs */
        struct strv aliases;
        bool done;
};

struct list {
        struct entry *e;
        size_t n;
};

static void list_free(struct list *l) {
        for (size_t i = 0; i < l->n; i++) {
                strv_free(&l->e[i].files);
                strv_free(&l->e[i].aliases);
        }
        free(l->e);
}

static int list_read(const char *path, struct list *ret) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        struct list l = {};
        size_t cap = 0;
        int r = 0;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (r == 0 && getline(&line, &cap, f) > 0) {
                char *save = NULL, *w;

                line[strcspn(line, "\n")] = '\0';
                w = strtok_r(line, " \t", &save);
                if (!w || w[0] == '#')
                        continue;
                if (strcmp(w, "alias") == 0) {
                        w = strtok_r(NULL, " \t", &save);
                        if (w && l.n > 0)
                                r = strv_push(&l.e[l.n - 1].aliases, w);
                        continue;
                }
                {
                        struct entry *e = realloc(l.e, (l.n + 1) * sizeof(*e));

                        if (!e) {
                                r = -ENOMEM;
                                break;
                        }
                        l.e = e;
                        l.e[l.n++] = (struct entry) {};
                }
                for (; w && r == 0; w = strtok_r(NULL, " \t", &save))
                        r = strv_push(&l.e[l.n - 1].files, w);
        }
        if (r < 0) {
                list_free(&l);
                return r;
        }
        *ret = l;
        return 0;
}

struct loader {
        const char *prefix;     /* /lib/modules/RELEASE/ */
        const char *cmdline;
        struct strv ok, failed; /* module names */
        unsigned loaded;
        bool other_kernel;
};

static bool strv_has(const struct strv *s, const char *str) {
        for (size_t i = 0; i < s->n; i++)
                if (strcmp(s->v[i], str) == 0)
                        return true;
        return false;
}

/* 0 when the file is loaded (now or before), < 0 when it is not. */
static int load_file(struct loader *l, const char *file) {
        char name[KMOD_NAME_MAX], params[1024];
        int r;

        kmod_name(file, name, sizeof(name));
        if (strv_has(&l->ok, name))
                return 0;
        if (strv_has(&l->failed, name))
                return -EALREADY;

        if (strncmp(file, l->prefix, strlen(l->prefix)) != 0) {
                if (!l->other_kernel)
                        log_warning("the module list is for another kernel than the running one (%s), not loading %s",
                                    l->prefix, file);
                l->other_kernel = true;
                r = -EXDEV;
        } else {
                if (kmod_params(l->cmdline, name, params, sizeof(params)) < 0)
                        log_warning("the options for %s on the kernel command line are too long, ignoring some",
                                    name);
                r = load_one(file, params);
                if (r == -ENODEV)
                        log_info("not loading %s: no device for it", name);
                else if (r < 0)
                        log_warning_errno(r, "cannot load %s: %m, going on without it", name);
        }
        if (r == 0)
                l->loaded++;
        (void) strv_push(r == 0 ? &l->ok : &l->failed, name);
        return r;
}

static void load_entry(struct loader *l, const struct entry *e) {
        char name[KMOD_NAME_MAX], need[KMOD_NAME_MAX];

        kmod_name(e->files.v[0], name, sizeof(name));
        for (size_t i = 1; i < e->files.n; i++)
                if (load_file(l, e->files.v[i]) < 0) {
                        kmod_name(e->files.v[i], need, sizeof(need));
                        log_info("not loading %s: it needs %s, which did not load", name, need);
                        (void) strv_push(&l->failed, name);
                        return;
                }
        (void) load_file(l, e->files.v[0]);
}

int kmod_load_list(const char *path, const char *sysfs, const char *release, const char *cmdline) {
        char prefix[PATH_MAX], absent[512] = "";
        struct loader l = { .prefix = prefix, .cmdline = cmdline };
        struct list list;
        uint64_t t0 = now_ms();
        bool progress;
        int r;

        r = xsnprintf(prefix, sizeof(prefix), "/lib/modules/%s/", release);
        if (r < 0)
                return r;
        r = list_read(path, &list);
        if (r < 0)
                return r;

        do {
                progress = false;
                for (size_t i = 0; i < list.n; i++) {
                        struct entry *e = &list.e[i];

                        if (e->done || (e->aliases.n > 0 && !kmod_device_present(sysfs, e->aliases.v, e->aliases.n)))
                                continue;
                        load_entry(&l, e);
                        e->done = progress = true;
                }
        } while (progress);

        for (size_t i = 0; i < list.n; i++) {
                char name[KMOD_NAME_MAX];
                size_t used = strlen(absent);

                if (list.e[i].done)
                        continue;
                kmod_name(list.e[i].files.v[0], name, sizeof(name));
                (void) snprintf(absent + used, sizeof(absent) - used, "%s%s", used ? ", " : "", name);
        }
        if (absent[0])
                log_info("no device for %s, not loading %s", absent, strchr(absent, ',') ? "them" : "it");
        log_info("loaded %u kernel modules in %" PRIu64 " ms", l.loaded, now_ms() - t0);

        strv_free(&l.ok);
        strv_free(&l.failed);
        list_free(&list);
        return 0;
}
