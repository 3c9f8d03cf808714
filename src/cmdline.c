/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cmdline.h"

#include <string.h>

#include "util.h"

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int for_each_word(const char *text, unsigned flags, word_fn f, void *userdata) {
        char word[WORD_MAX + 1];
        const char *p = text;

        for (;;) {
                size_t len = 0;
                bool quoted = false, overlong = false;
                int r;

                while (is_blank(*p) || ((flags & WORDS_COMMENTS) && *p == '#'))
                        p += *p == '#' ? strcspn(p, "\n") : 1;
                if (!*p)
                        return 0;
                for (; *p && (quoted || !is_blank(*p)); p++) {
                        if (*p == '"')
                                quoted = !quoted;
                        else if (len < WORD_MAX)
                                word[len++] = *p;
                        else
                                overlong = true;
                }
                word[len] = '\0';
                if ((flags & WORDS_KERNEL) && strcmp(word, "--") == 0)
                        return 0;
                r = f(word, len, overlong, userdata);
                if (r != 0)
                        return r;
        }
}

int cmdline_read(const char *path, char **ret) {
        return read_full_file(path, CMDLINE_MAX_BYTES, ret, NULL);
}
