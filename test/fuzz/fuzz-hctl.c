/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The value parsers: parse_hctl, parse_size, parse_timeout_ms, parse_serial
 * (and parse_bool, parse_fallback), each on the input as a string.
 *
 * Each is compared with a plain reading of the syntax the options take:
 *   lun        L or H:C:T:L, decimal digits only; H, C, T < 2^32, L < 2^64
 *   size       N[kKmMgGtT] of at least 4096 bytes, or P% with P in 1..100
 *   timeout    S[.F] seconds, F of 1 to 3 digits, at most 600 s
 *   serial     1 to 64 bytes of printable ASCII, no blank, no quotes or '\'
 * and what they accept must format and read back to the same value. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "options.h"

/* digits only, at least one, value <= max; false on anything else */
static bool ref_u64(const char *s, size_t len, uint64_t max, uint64_t *ret) {
        unsigned __int128 v = 0;

        if (len == 0)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned) (s[i] - '0');
                if (v > max)
                        return false;
        }
        *ret = (uint64_t) v;
        return true;
}

static bool ref_hctl(const char *s, struct hctl *ret) {
        const char *f[5];
        size_t flen[5];
        unsigned n = 0;
        const char *p = s;
        uint64_t v[4];

        for (;;) {
                const char *colon = strchr(p, ':');

                if (n == 5)
                        return false;
                f[n] = p;
                flen[n] = colon ? (size_t) (colon - p) : strlen(p);
                n++;
                if (!colon)
                        break;
                p = colon + 1;
        }
        if (n == 1) {
                if (!ref_u64(f[0], flen[0], UINT64_MAX, &v[0]))
                        return false;
                *ret = (struct hctl) { .lun = v[0], .lun_only = true };
                return true;
        }
        if (n != 4)
                return false;
        for (unsigned i = 0; i < 4; i++)
                if (!ref_u64(f[i], flen[i], i < 3 ? UINT32_MAX : UINT64_MAX, &v[i]))
                        return false;
        *ret = (struct hctl) { .host = (unsigned) v[0], .channel = (unsigned) v[1], .target = (unsigned) v[2],
                               .lun = v[3] };
        return true;
}

static bool ref_size(const char *s, struct size_spec *ret) {
        size_t len = strlen(s);
        unsigned shift = 0;
        uint64_t v;

        if (len == 0)
                return false;
        if (s[len - 1] == '%') {
                if (!ref_u64(s, len - 1, 100, &v) || v == 0)
                        return false;
                *ret = (struct size_spec) { .percent = (unsigned) v };
                return true;
        }
        switch (s[len - 1]) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        case 't': case 'T': shift = 40; break;
        }
        if (shift)
                len--;
        if (!ref_u64(s, len, UINT64_MAX >> shift, &v))
                return false;
        v <<= shift;
        if (v < 4096)
                return false;
        *ret = (struct size_spec) { .bytes = v };
        return true;
}

static bool ref_timeout(const char *s, unsigned *ret) {
        const char *dot = strchr(s, '.');
        uint64_t sec, frac = 0;

        if (!ref_u64(s, dot ? (size_t) (dot - s) : strlen(s), UINT64_MAX, &sec))
                return false;
        if (dot) {
                size_t flen = strlen(dot + 1);

                if (flen < 1 || flen > 3 || !ref_u64(dot + 1, flen, 999, &frac))
                        return false;
                for (size_t i = flen; i < 3; i++)
                        frac *= 10;
        }
        if (sec > 600 || sec * 1000 + frac > 600000)
                return false;
        *ret = (unsigned) (sec * 1000 + frac);
        return true;
}

static bool ref_serial(const char *s) {
        size_t len = strlen(s);

        if (len < 1 || len > 64)
                return false;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char) s[i];

                if (c < 0x21 || c > 0x7e || c == '"' || c == '\'' || c == '\\')
                        return false;
        }
        return true;
}

static bool hctl_eq(const struct hctl *a, const struct hctl *b) {
        return a->lun == b->lun && a->lun_only == b->lun_only &&
               (a->lun_only || (a->host == b->host && a->channel == b->channel && a->target == b->target));
}

static void check_hctl(const char *s) {
        struct hctl got = { 1, 2, 3, 4, false }, want = { 0 }, again = { 0 };
        char buf[80];
        int r = parse_hctl(s, &got);
        bool ok = ref_hctl(s, &want);

        FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ERANGE, "parse_hctl: %d", r);
        FUZZ_ASSERT((r == 0) == ok, "parse_hctl('%s'): %d, reference %s", s, r, ok ? "takes it" : "refuses it");
        if (!ok)
                return;
        FUZZ_ASSERT(hctl_eq(&got, &want), "parse_hctl('%s'): another value", s);
        hctl_format(&got, buf, sizeof(buf));
        FUZZ_ASSERT(parse_hctl(buf, &again) == 0 && hctl_eq(&got, &again), "hctl '%s' -> '%s' does not read back", s,
                    buf);
}

static void check_size(const char *s) {
        struct size_spec got = { 7, 7 }, want = { 0 }, again = { 0 };
        char buf[64];
        int r = parse_size(s, &got);
        bool ok = ref_size(s, &want);

        FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ERANGE, "parse_size: %d", r);
        FUZZ_ASSERT((r == 0) == ok, "parse_size('%s'): %d, reference %s", s, r, ok ? "takes it" : "refuses it");
        if (!ok)
                return;
        FUZZ_ASSERT(got.bytes == want.bytes && got.percent == want.percent, "parse_size('%s'): another value", s);
        size_spec_format(&got, buf, sizeof(buf));
        FUZZ_ASSERT(parse_size(buf, &again) == 0 && again.bytes == got.bytes && again.percent == got.percent,
                    "size '%s' -> '%s' does not read back", s, buf);
}

static void check_timeout(const char *s) {
        unsigned got = 7, want = 0;
        int r = parse_timeout_ms(s, &got);
        bool ok = ref_timeout(s, &want);

        FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ERANGE, "parse_timeout_ms: %d", r);
        FUZZ_ASSERT((r == 0) == ok, "parse_timeout_ms('%s'): %d, reference %s", s, r, ok ? "takes it" : "refuses it");
        if (ok)
                FUZZ_ASSERT(got == want, "parse_timeout_ms('%s'): %u, reference %u", s, got, want);
        else
                FUZZ_ASSERT(got == 7, "parse_timeout_ms('%s') failed but wrote %u", s, got);
}

static void check_serial(const char *s) {
        char buf[OPTIONS_MAX_SERIAL + 1];
        int r;

        memset(buf, 'Z', sizeof(buf));
        r = parse_serial(s, buf, sizeof(buf));
        FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ERANGE, "parse_serial: %d", r);
        FUZZ_ASSERT((r == 0) == ref_serial(s), "parse_serial('%s'): %d", s, r);
        if (r == 0)
                FUZZ_ASSERT(strcmp(buf, s) == 0, "parse_serial('%s'): copied '%s'", s, buf);

        /* A buffer shorter than the serial. */
        {
                size_t len = strlen(s), n = len ? len : 1;
                char *small = malloc(n);

                if (!small)
                        abort();
                r = parse_serial(s, small, n);
                FUZZ_ASSERT(r != 0, "parse_serial('%s') into %zu bytes: 0", s, n);
                free(small);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *s;

        if (size > 4096)
                return 0;
        s = fuzz_string(data, size);

        check_hctl(s);
        check_size(s);
        check_timeout(s);
        check_serial(s);
        {
                bool b = false;
                enum fallback f = FALLBACK_TMPFS;
                int r = parse_bool(s, &b);

                FUZZ_ASSERT(r == 0 || r == -EINVAL, "parse_bool: %d", r);
                r = parse_fallback(s, &f);
                FUZZ_ASSERT(r == 0 || r == -EINVAL, "parse_fallback: %d", r);
                if (r == 0)
                        FUZZ_ASSERT(strcmp(fallback_to_string(f), s) == 0, "fallback '%s' reads back as '%s'", s,
                                    fallback_to_string(f));
        }

        free(s);
        return 0;
}
