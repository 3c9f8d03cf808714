/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bootopts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"

#define WORD_MAX (BOOTOPTS_MAX_VALUE + 64)

void boot_options_init(struct boot_options *o) {
        memset(o, 0, sizeof(*o));
        o->root_wait_ms = BOOTOPTS_DEFAULT_ROOT_WAIT_MS;
}

int cmdline_for_each_word(const char *cmdline, cmdline_word_fn f, void *userdata) {
        char word[WORD_MAX + 1];
        const char *p = cmdline;

        for (;;) {
                size_t len = 0;
                bool quoted = false, overlong = false;
                int r;

                while (*p == ' ' || *p == '\t' || *p == '\n')
                        p++;
                if (!*p)
                        return 0;
                for (; *p && (quoted || (*p != ' ' && *p != '\t' && *p != '\n')); p++) {
                        if (*p == '"') {
                                quoted = !quoted;
                                continue;
                        }
                        if (len < WORD_MAX)
                                word[len++] = *p;
                        else
                                overlong = true;
                }
                word[len] = '\0';
                if (strcmp(word, "--") == 0)
                        return 0;
                r = f(word, len, overlong, userdata);
                if (r != 0)
                        return r;
        }
}

static void add_problem(struct boot_options *o, const char *fmt, const char *key, const char *value) {
        if (o->n_problems >= BOOTOPTS_MAX_PROBLEMS)
                return;
        (void) snprintf(o->problems[o->n_problems++], sizeof(o->problems[0]), fmt, key, value);
}

/* An unusable value resets the option: an earlier occurrence must not win
 * over the last one. */
static bool take_string(struct boot_options *o, const char *key, const char *value, bool overlong, char *dst) {
        if (overlong || strlen(value) > BOOTOPTS_MAX_VALUE) {
                add_problem(o, "%s: value longer than 512 bytes (starts '%.40s'), not used", key, value);
                dst[0] = '\0';
                return false;
        }
        strcpy(dst, value);
        return true;
}

static int take_word(const char *word, size_t len, bool overlong, void *userdata) {
        struct boot_options *o = userdata;
        const char *eq = strchr(word, '=');
        const char *value = eq ? eq + 1 : NULL;
        size_t klen = eq ? (size_t) (eq - word) : len;
        char key[32];
        unsigned ms;
        bool b;

        if (klen >= sizeof(key))
                return 0;
        memcpy(key, word, klen);
        key[klen] = '\0';

        if (!value) {
                if (strcmp(key, "ro") == 0)
                        o->rw = false;
                else if (strcmp(key, "rw") == 0)
                        o->rw = true;
                else if (strcmp(key, "rd.shell") == 0)
                        o->shell = true;
                return 0;
        }

        if (strcmp(key, "root") == 0)
                o->have_root = take_string(o, key, value, overlong, o->root);
        else if (strcmp(key, "rootfstype") == 0)
                (void) take_string(o, key, value, overlong, o->rootfstype);
        else if (strcmp(key, "rootflags") == 0)
                (void) take_string(o, key, value, overlong, o->rootflags);
        else if (strcmp(key, "init") == 0) {
                if (value[0] != '/' && value[0] != '\0') {
                        add_problem(o, "%s='%s': not an absolute path, not used", key, value);
                        o->init[0] = '\0';
                } else
                        (void) take_string(o, key, value, overlong, o->init);
        } else if (strcmp(key, "rootdelay") == 0) {
                if (parse_timeout_ms(value, &ms) < 0) {
                        add_problem(o, "%s='%s': malformed value, waiting the default 30 s", key, value);
                        ms = BOOTOPTS_DEFAULT_ROOT_WAIT_MS;
                }
                o->root_wait_ms = ms;
        } else if (strcmp(key, "rd.shell") == 0) {
                if (parse_bool(value, &b) < 0) {
                        add_problem(o, "%s='%s': malformed value, no shell", key, value);
                        b = false;
                }
                o->shell = b;
        }
        return 0;
}

void boot_options_parse(struct boot_options *o, const char *cmdline) {
        (void) cmdline_for_each_word(cmdline, take_word, o);
}

int cmdline_read(const char *path, char **ret) {
        size_t cap = 4096, len = 0;
        char *buf = NULL;
        int fd, r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t k;

                if (len + 1 >= cap || !buf) {
                        char *n;

                        if (buf)
                                cap *= 2;
                        n = realloc(buf, cap);
                        if (!n) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        buf = n;
                }
                k = read(fd, buf + len, cap - 1 - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto fail;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
        }
        (void) close(fd);
        buf[len] = '\0';
        *ret = buf;
        return 0;

fail:
        free(buf);
        (void) close(fd);
        return r;
}
