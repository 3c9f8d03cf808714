/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A blob from fw_cfg, the virtio port or the config file made text, then
 * parsed as options.
 *
 * blob_to_text is checked against the rule it documents: printable ASCII,
 * tab, CR and LF; NULs only at the end, where they are dropped; the first
 * bad byte's offset on -EBADMSG; -E2BIG when the text does not fit. The
 * buffer size comes from the input's first byte. */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "options.h"
#include "sources.h"

static bool allowed(uint8_t c) {
        return (c >= 0x20 && c <= 0x7e) || c == '\t' || c == '\n' || c == '\r';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static char text[SOURCE_MAX_BYTES + 1];
        static struct options o;
        const uint8_t *blob;
        size_t len, end, n, bad = (size_t) -1, first_bad;
        char *buf;
        int r;

        if (size == 0 || size > 64 * 1024)
                return 0;
        /* First byte: the buffer size, small ones often. */
        n = data[0] < 0xf0 ? (size_t) data[0] % 64 : sizeof(text);
        blob = data + 1;
        len = size - 1;

        end = len;
        while (end > 0 && blob[end - 1] == 0)
                end--;
        first_bad = end;
        for (size_t i = 0; i < end; i++)
                if (!allowed(blob[i])) {
                        first_bad = i;
                        break;
                }

        buf = malloc(n ? n : 1);
        if (!buf)
                abort();
        memset(buf, 'Z', n ? n : 1);
        r = blob_to_text(blob, len, buf, n, &bad);
        if (first_bad < end) {
                FUZZ_ASSERT(r == -EBADMSG, "bad byte 0x%02x at %zu, got %d", blob[first_bad], first_bad, r);
                FUZZ_ASSERT(bad == first_bad, "offset %zu, expected %zu", bad, first_bad);
        } else if (end >= n) {
                FUZZ_ASSERT(r == -E2BIG, "%zu bytes into %zu, got %d", end, n, r);
                FUZZ_ASSERT(bad == (size_t) -1, "offset set without a bad byte");
        } else {
                FUZZ_ASSERT(r == 0, "good blob of %zu bytes into %zu, got %d", end, n, r);
                FUZZ_ASSERT(memcmp(buf, blob, end) == 0 && buf[end] == '\0', "text differs from the blob");
                FUZZ_ASSERT(bad == (size_t) -1, "offset set on success");
        }
        free(buf);

        /* The text as each source would give it to the option parser. */
        r = blob_to_text(blob, len, text, sizeof(text), NULL);
        if (r == 0) {
                static const enum source srcs[] = { SOURCE_FWCFG, SOURCE_VPORT, SOURCE_CONFIG };

                for (unsigned i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
                        options_init(&o);
                        options_parse_source(&o, text, srcs[i]);
                        FUZZ_ASSERT(o.n_problems <= OPTIONS_MAX_PROBLEMS, "problems");
                        FUZZ_ASSERT(o.invalid == ((o.bad & o.set) != 0), "invalid");
                        FUZZ_ASSERT(o.timeout_ms <= OPTIONS_MAX_TIMEOUT_MS, "timeout");
                }
        }
        return 0;
}
