/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The longest /proc/cmdline taken: the kernel's own line is at most a few
 * KiB (COMMAND_LINE_SIZE), bootconfig adds at most 32 KiB. A longer file is
 * refused, not cut. */
#define CMDLINE_MAX_BYTES (64u * 1024u)
/* Words are cut here, with overlong set: longer than any value taken. */
#define WORD_MAX 1024

enum {
        WORDS_KERNEL = 1 << 0,          /* "--" ends them: the rest is for init */
        WORDS_COMMENTS = 1 << 1,        /* '#' at a word's start runs to the end of its line */
};

/* Splits text into words like the kernel splits its command line: blanks
 * (space, tab, CR, LF) separate, double quotes group and are dropped. Calls
 * f for each word with its length (words longer than WORD_MAX are cut, with
 * overlong set); stops early when f returns non-zero and returns that
 * value. */
typedef int (*word_fn)(const char *word, size_t len, bool overlong, void *userdata);
int for_each_word(const char *text, unsigned flags, word_fn f, void *userdata);

static inline int cmdline_for_each_word(const char *cmdline, word_fn f, void *userdata) {
        return for_each_word(cmdline, WORDS_KERNEL, f, userdata);
}

/* Reads /proc/cmdline (or another file of the kind) into a new string, at
 * most CMDLINE_MAX_BYTES (-E2BIG beyond). */
int cmdline_read(const char *path, char **ret);
