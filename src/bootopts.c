/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bootopts.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "options.h"

_Static_assert(WORD_MAX > BOOTOPTS_MAX_VALUE + 32, "a word holds a key and any value taken");

void boot_options_init(struct boot_options *o) {
        memset(o, 0, sizeof(*o));
        o->root_wait_ms = BOOTOPTS_DEFAULT_ROOT_WAIT_MS;
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
