/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One raw SMBIOS structure, as read from dmi/entries/11-N/raw.
 *
 * Whatever the bytes, the result is one of the documented codes; a text
 * that is returned is bounded, printable, and parses as options. The same
 * structure into a smaller buffer gives the same text or -E2BIG. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "options.h"
#include "sources.h"

static bool text_ok(const char *t) {
        for (const unsigned char *c = (const unsigned char *) t; *c; c++)
                if (!((*c >= 0x20 && *c <= 0x7e) || *c == '\t' || *c == '\n' || *c == '\r'))
                        return false;
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static char text[SOURCE_MAX_BYTES * 4], small[SOURCE_MAX_BYTES * 4];
        static struct options o;
        size_t n, len;
        int r, r2;

        if (size > 64 * 1024)
                return 0;

        memset(text, 'Z', sizeof(text));
        r = smbios_oem_options(data, size, text, sizeof(text), NULL);
        FUZZ_ASSERT(r == 0 || r == -ENOENT || r == -EBADMSG || r == -E2BIG, "result %d", r);
        if (size < 5 || data[0] != 11 || data[1] < 5 || data[1] > size)
                FUZZ_ASSERT(r == -EBADMSG, "malformed header taken: %d", r);
        if (r != 0)
                return 0;

        len = strnlen(text, sizeof(text));
        FUZZ_ASSERT(len < sizeof(text), "text not terminated");
        FUZZ_ASSERT(len <= size, "text of %zu bytes from %zu", len, size);
        FUZZ_ASSERT(text_ok(text), "non-printable byte in the text");
        FUZZ_ASSERT(memmem(data, size, SMBIOS_KEY, strlen(SMBIOS_KEY)) != NULL, "text without the key in the input");

        /* Each value is in the input, after the key. */
        {
                char *copy = strdup(text), *save = NULL;

                if (!copy)
                        abort();
                for (char *tok = strtok_r(copy, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save))
                        FUZZ_ASSERT(memmem(data, size, tok, strlen(tok)) != NULL, "'%s' not in the input", tok);
                free(copy);
        }

        /* A smaller buffer: the same text when it fits, else -E2BIG. */
        n = size ? data[size - 1] % (len + 2) : 0;
        r2 = smbios_oem_options(data, size, small, n, NULL);
        if (len < n)
                FUZZ_ASSERT(r2 == 0 && strcmp(small, text) == 0, "into %zu bytes: %d", n, r2);
        else
                FUZZ_ASSERT(r2 == -E2BIG, "%zu bytes into %zu: %d", len, n, r2);

        options_init(&o);
        options_parse_source(&o, text, SOURCE_SMBIOS);
        FUZZ_ASSERT(o.n_problems <= OPTIONS_MAX_PROBLEMS, "problems");
        return 0;
}
