/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Options from the hypervisor and the image: blob_to_text, SMBIOS OEM
 * strings, and the readers of fw_cfg, SMBIOS, the virtio port and the config
 * file against fake sysfs trees built at run time. The virtio port is read
 * from a pty, in a child with its own mount namespace and a tmpfs on /run
 * and /dev, since the reader makes device nodes there. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "devnode.h"
#include "fixture.h"
#include "sources.h"
#include "util.h"

/* ---- blob_to_text -------------------------------------------------------- */

static int b2t(const void *blob, size_t len, char *text, size_t n, size_t *bad) {
        return blob_to_text((const unsigned char *) blob, len, text, n, bad);
}

static void test_blob_ok(void) {
        char text[64];
        size_t bad = 777;
        int r;

        memset(text, 'Z', sizeof(text));
        r = b2t("rd.scratch.lun=1", 16, text, sizeof(text), &bad);
        check_err(r, 0, "printable: 0");
        check_str(text, "rd.scratch.lun=1", "printable: copied and terminated");
        check_int(bad, 777, "printable: ret_bad untouched");

        r = b2t(" !~", 3, text, sizeof(text), &bad);
        check(r == 0 && strcmp(text, " !~") == 0, "0x20, 0x21 and 0x7e are taken");

        r = b2t("a\tb\r\nc\n", 7, text, sizeof(text), &bad);
        check_err(r, 0, "tab, CR and LF: 0");
        check_str(text, "a\tb\r\nc\n", "tab, CR and LF: kept as they are");

        r = b2t("lun=2\0\0\0", 8, text, sizeof(text), &bad);
        check_err(r, 0, "trailing NULs: 0");
        check_str(text, "lun=2", "trailing NULs: stripped");

        r = b2t("\0\0\0", 3, text, sizeof(text), &bad);
        check(r == 0 && text[0] == '\0', "only NULs: empty text");

        memset(text, 'Z', sizeof(text));
        r = b2t("", 0, text, sizeof(text), &bad);
        check(r == 0 && text[0] == '\0', "empty blob: empty text");

        r = b2t("x", 1, text, sizeof(text), NULL);
        check(r == 0 && strcmp(text, "x") == 0, "ret_bad may be NULL");
}

static void test_blob_bad(void) {
        struct {
                const char *what;
                const char *blob;
                size_t len, bad;
        } cases[] = {
                { "embedded NUL", "lun=1\0lun=2", 11, 5 },
                { "embedded NUL first", "\0x", 2, 0 },
                { "NUL between text and trailing NULs", "ab\0c\0\0", 6, 2 },
                { "0x7f", "abc\x7f", 4, 3 },
                { "0x80", "\x80" "abc", 4, 0 },
                { "0xff", "ab\xff", 3, 2 },
                { "0x01", "a\x01", 2, 1 },
                { "0x1b (ESC)", "a b\x1b[0m", 7, 3 },
                { "0x0b (VT)", "a\x0b", 2, 1 },
                { "0x0c (FF)", "a\x0c", 2, 1 },
                { "0x08 (BS)", "aa\x08", 3, 2 },
                { "0x1f", "\x1f", 1, 0 },
                { "bad byte before trailing NULs", "abc\x01\0\0", 6, 3 },
        };

        for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char text[64] = "untouched";
                size_t bad = 999;
                int r;

                r = b2t(cases[i].blob, cases[i].len, text, sizeof(text), &bad);
                check_err(r, -EBADMSG, "%s: -EBADMSG", cases[i].what);
                check_u64(bad, cases[i].bad, "%s: offset %zu", cases[i].what, cases[i].bad);
        }

        /* Every byte value, alone between two letters. */
        {
                unsigned wrong = 0;

                for (unsigned c = 1; c < 256; c++) {
                        unsigned char blob[3] = { 'a', (unsigned char) c, 'b' };
                        char text[8];
                        size_t bad = 99;
                        bool want_ok = (c >= 0x20 && c <= 0x7e) || c == '\t' || c == '\n' || c == '\r';
                        int r = blob_to_text(blob, 3, text, sizeof(text), &bad);

                        if (want_ok ? r != 0 : (r != -EBADMSG || bad != 1)) {
                                if (wrong++ < 5)
                                        tap_diag("byte 0x%02x: got %s, offset %zu", c, errname(r), bad);
                        }
                }
                check_int(wrong, 0, "bytes 0x01-0xff: only 0x20-0x7e, tab, CR and LF are taken");
        }
}

static void test_blob_size(void) {
        char blob[64], text[16];
        size_t bad = 0;
        int r;

        memset(blob, 'a', sizeof(blob));
        memset(text, 'Z', sizeof(text));
        r = b2t(blob, sizeof(text) - 1, text, sizeof(text), &bad);
        check_err(r, 0, "n-1 bytes into n: fits");
        check_int(strlen(text), sizeof(text) - 1, "n-1 bytes into n: all of them");

        memset(text, 'Z', sizeof(text));
        r = b2t(blob, sizeof(text), text, sizeof(text), &bad);
        check_err(r, -E2BIG, "n bytes into n: -E2BIG");
        check(text[0] == 'Z', "n bytes into n: the buffer is not written");

        /* Trailing NULs are not counted. */
        memcpy(blob + 15, "\0\0\0\0\0", 5);
        r = b2t(blob, 20, text, sizeof(text), &bad);
        check(r == 0 && strlen(text) == 15, "15 bytes and 5 trailing NULs into 16: fits");

        r = b2t("", 0, text, 0, &bad);
        check_err(r, -E2BIG, "empty blob into a buffer of 0: -E2BIG");
        r = b2t("", 0, text, 1, &bad);
        check(r == 0 && text[0] == '\0', "empty blob into a buffer of 1: empty text");
}

/* ---- smbios_oem_options -------------------------------------------------- */

struct smb {
        unsigned char b[8192];
        size_t len;
        unsigned strings;
};

/* The formatted area: type, length, handle, count (set by smb_end), and
 * filler up to flen. */
static void smb_begin(struct smb *s, unsigned char type, unsigned char flen) {
        memset(s, 0, sizeof(*s));
        s->b[0] = type;
        s->b[1] = flen;
        s->b[2] = 0x2b;
        s->b[3] = 0x00;
        for (unsigned i = 5; i < flen; i++)
                s->b[i] = (unsigned char) (0xa0 + i);
        s->len = flen < 5 ? 5 : flen;
}

static void smb_raw(struct smb *s, const void *data, size_t len) {
        if (s->len + len > sizeof(s->b))
                bail("smbios structure too large");
        memcpy(s->b + s->len, data, len);
        s->len += len;
}

/* A string with its NUL. */
static void smb_str(struct smb *s, const char *str) {
        smb_raw(s, str, strlen(str) + 1);
        s->strings++;
}

/* The closing NUL of the string set; two NULs when there is no string. */
static void smb_end(struct smb *s) {
        s->b[4] = (unsigned char) s->strings;
        smb_raw(s, "", 1);
        if (!s->strings)
                smb_raw(s, "", 1);
}

static int smb_parse(const struct smb *s, char *text, size_t n) {
        return smbios_oem_options(s->b, s->len, text, n, NULL);
}

static void test_smbios_good(void) {
        struct smb s;
        char text[256];
        int r;

        smb_begin(&s, 11, 5);
        smb_str(&s, "org.scratchroot.options=rd.scratch.lun=1");
        smb_end(&s);
        r = smb_parse(&s, text, sizeof(text));
        check_err(r, 0, "one matching string: 0");
        check_str(text, "rd.scratch.lun=1", "one matching string: its value");

        smb_begin(&s, 11, 5);
        smb_str(&s, "vendor=ACME");
        smb_str(&s, "org.scratchroot.options=rd.scratch.lun=1");
        smb_str(&s, "org.scratchroot.optionsX=rd.scratch.lun=8");
        smb_str(&s, "xorg.scratchroot.options=rd.scratch.lun=8");
        smb_str(&s, "org.scratchroot.options");
        smb_str(&s, "org.scratchroot.options=rd.scratch.timeout=2 rd.scratch.fallback=none");
        smb_str(&s, "ORG.SCRATCHROOT.OPTIONS=rd.scratch.lun=8");
        smb_str(&s, "org.scratchroot.options=rd.scratch.force");
        smb_end(&s);
        r = smb_parse(&s, text, sizeof(text));
        check_err(r, 0, "three matching strings among others: 0");
        check_str(text, "rd.scratch.lun=1 rd.scratch.timeout=2 rd.scratch.fallback=none rd.scratch.force",
                  "three matching strings: joined with a blank, in order, others ignored");

        smb_begin(&s, 11, 5);
        smb_str(&s, "vendor=ACME");
        smb_str(&s, "org.scratchroot.option=rd.scratch.lun=1");
        smb_end(&s);
        strcpy(text, "junk");
        check_err(smb_parse(&s, text, sizeof(text)), -ENOENT, "no matching string: -ENOENT");

        smb_begin(&s, 11, 5);
        smb_end(&s);
        check_err(smb_parse(&s, text, sizeof(text)), -ENOENT, "no strings at all (two NULs): -ENOENT");

        /* Another OEM string may hold anything. */
        smb_begin(&s, 11, 5);
        smb_raw(&s, "binary=\x01\xff\x7f\x1b", 12);
        s.strings++;
        smb_str(&s, "org.scratchroot.options=rd.scratch.lun=4");
        smb_end(&s);
        r = smb_parse(&s, text, sizeof(text));
        check(r == 0 && strcmp(text, "rd.scratch.lun=4") == 0,
              "non-printable bytes in another string: ignored (%s, '%s')", errname(r), r == 0 ? text : "");

        smb_begin(&s, 11, 5);
        smb_str(&s, "org.scratchroot.options=");
        smb_end(&s);
        strcpy(text, "junk");
        r = smb_parse(&s, text, sizeof(text));
        check_err(r, 0, "key with an empty value: 0");
        check_str(text, "", "key with an empty value: empty text");

        smb_begin(&s, 11, 5);
        smb_str(&s, "org.scratchroot.options=a=1");
        smb_str(&s, "org.scratchroot.options=");
        smb_str(&s, "org.scratchroot.options=b=2");
        smb_end(&s);
        r = smb_parse(&s, text, sizeof(text));
        check(r == 0 && strstr(text, "a=1") == text && strstr(text, "b=2") && !strstr(text, "a=1b=2"),
              "an empty value between two: both others kept apart ('%s')", text);

        /* Tabs are blanks to the option parser. */
        smb_begin(&s, 11, 5);
        smb_str(&s, "org.scratchroot.options=rd.scratch.lun=1\trd.scratch.force");
        smb_end(&s);
        r = smb_parse(&s, text, sizeof(text));
        check(r == 0 && strcmp(text, "rd.scratch.lun=1\trd.scratch.force") == 0, "a tab in the value: kept");

        /* A longer formatted area: strings start after it. */
        smb_begin(&s, 11, 9);
        s.b[5] = 'o';
        s.b[6] = 'r';
        smb_str(&s, "org.scratchroot.options=rd.scratch.lun=6");
        smb_end(&s);
        r = smb_parse(&s, text, sizeof(text));
        check(r == 0 && strcmp(text, "rd.scratch.lun=6") == 0, "formatted area of 9 bytes: strings after it");

        /* Bytes after the closing NUL belong to nothing. */
        smb_begin(&s, 11, 5);
        smb_str(&s, "org.scratchroot.options=rd.scratch.lun=1");
        smb_end(&s);
        smb_raw(&s, "org.scratchroot.options=rd.scratch.lun=2", 41);
        r = smb_parse(&s, text, sizeof(text));
        check(r == 0 && strcmp(text, "rd.scratch.lun=1") == 0, "after the closing NUL: not read ('%s')", text);
}

static void test_smbios_bad(void) {
        struct smb s;
        char text[256];
        int r;

        /* The last string without its NUL. */
        smb_begin(&s, 11, 5);
        smb_raw(&s, "org.scratchroot.options=rd.scratch.lun=1", 40);
        check_err(smb_parse(&s, text, sizeof(text)), -EBADMSG, "unterminated string: -EBADMSG");

        smb_begin(&s, 11, 5);
        smb_str(&s, "org.scratchroot.options=rd.scratch.lun=1");
        smb_raw(&s, "vendor", 6);
        check_err(smb_parse(&s, text, sizeof(text)), -EBADMSG, "a second string cut short: -EBADMSG");

        /* Every string terminated, but the set does not end with the empty
         * string: the structure was cut after a string. */
        smb_begin(&s, 11, 5);
        smb_str(&s, "org.scratchroot.options=rd.scratch.lun=1");
        r = smb_parse(&s, text, sizeof(text));
        check_err(r, -EBADMSG, "string set without its closing NUL: -EBADMSG");

        /* The formatted area alone. */
        smb_begin(&s, 11, 5);
        r = smb_parse(&s, text, sizeof(text));
        check_err(r, -EBADMSG, "formatted area only, no string set: -EBADMSG");

        smb_begin(&s, 1, 5);
        smb_str(&s, "org.scratchroot.options=rd.scratch.lun=1");
        smb_end(&s);
        check_err(smb_parse(&s, text, sizeof(text)), -EBADMSG, "type 1: -EBADMSG");
        s.b[0] = 0x8b;
        check_err(smb_parse(&s, text, sizeof(text)), -EBADMSG, "type 0x8b: -EBADMSG");

        for (unsigned flen = 0; flen < 5; flen++) {
                smb_begin(&s, 11, 5);
                smb_str(&s, "org.scratchroot.options=rd.scratch.lun=1");
                smb_end(&s);
                s.b[1] = (unsigned char) flen;
                check_err(smb_parse(&s, text, sizeof(text)), -EBADMSG, "length byte %u: -EBADMSG", flen);
        }

        smb_begin(&s, 11, 5);
        smb_str(&s, "org.scratchroot.options=rd.scratch.lun=1");
        smb_end(&s);
        s.b[1] = (unsigned char) (s.len + 1);
        check_err(smb_parse(&s, text, sizeof(text)), -EBADMSG, "length byte one past the structure: -EBADMSG");
        s.b[1] = 0xff;
        check_err(smb_parse(&s, text, sizeof(text)), -EBADMSG, "length byte 255, structure shorter: -EBADMSG");

        {
                static const unsigned char tiny[][4] = { { 11 }, { 11, 5 }, { 11, 5, 0 }, { 11, 5, 0, 0 } };

                for (unsigned i = 0; i < 4; i++)
                        check_err(smbios_oem_options(tiny[i], i + 1, text, sizeof(text), NULL), -EBADMSG,
                                  "%u bytes: -EBADMSG", i + 1);
                check_err(smbios_oem_options(tiny[0], 0, text, sizeof(text), NULL), -EBADMSG, "0 bytes: -EBADMSG");
        }

        {
                static const char *const values[] = { "\x01", "\x7f", "\x80", "\xff", "\x1b[2J", "\x0b" };

                for (unsigned i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
                        char str[128];

                        xfmt(str, sizeof(str), "org.scratchroot.options=rd.scratch.lun=1%s", values[i]);
                        smb_begin(&s, 11, 5);
                        smb_str(&s, str);
                        smb_end(&s);
                        check_err(smb_parse(&s, text, sizeof(text)), -EBADMSG,
                                  "value with byte 0x%02x: -EBADMSG", (unsigned char) values[i][0]);
                }
        }

        /* The text buffer bounds the joined values. */
        smb_begin(&s, 11, 5);
        smb_str(&s, "org.scratchroot.options=1234567");
        smb_end(&s);
        r = smb_parse(&s, text, 8);
        check(r == 0 && strcmp(text, "1234567") == 0, "7 bytes into 8: fits");
        r = smb_parse(&s, text, 7);
        check_err(r, -E2BIG, "7 bytes into 7: -E2BIG");
        smb_begin(&s, 11, 5);
        smb_str(&s, "org.scratchroot.options=123");
        smb_str(&s, "org.scratchroot.options=567");
        smb_end(&s);
        r = smb_parse(&s, text, 8);
        check(r == 0 && strcmp(text, "123 567") == 0, "two values of 3 and a blank into 8: fits");
        r = smb_parse(&s, text, 7);
        check_err(r, -E2BIG, "two values of 3 and a blank into 7: -E2BIG");
        check_err(smb_parse(&s, text, 0), -E2BIG, "into a buffer of 0: -E2BIG");
}

/* ---- read_fwcfg, read_smbios, read_config --------------------------------- */

#define FWCFG_RAW "firmware/qemu_fw_cfg/by_name/opt/org.scratchroot/options/raw"

static void test_fwcfg(void) {
        char sys[PATH_MAX], text[SOURCE_MAX_BYTES + 1];
        static char big[SOURCE_MAX_BYTES + 64];
        size_t bad;
        int r;

        new_dir("fwcfg-none", sys);
        check_err(read_fwcfg(sys, text, sizeof(text), &bad), -ENOENT, "fw_cfg: empty sysfs: -ENOENT");
        mkdirs(strcat(sys, "/firmware/qemu_fw_cfg/by_name/opt/other/raw"));
        new_dir("fwcfg-none", sys);
        check_err(read_fwcfg(sys, text, sizeof(text), &bad), -ENOENT, "fw_cfg: other entries only: -ENOENT");

        new_dir("fwcfg", sys);
        put(sys, FWCFG_RAW, "rd.scratch.lun=0:0:0:2 rd.scratch.timeout=3\n");
        r = read_fwcfg(sys, text, sizeof(text), &bad);
        check_err(r, 0, "fw_cfg: 0");
        check_str(text, "rd.scratch.lun=0:0:0:2 rd.scratch.timeout=3\n", "fw_cfg: the text");

        put_bytes(sys, FWCFG_RAW, "rd.scratch.lun=2\0\0\0\0", 20);
        r = read_fwcfg(sys, text, sizeof(text), &bad);
        check(r == 0 && strcmp(text, "rd.scratch.lun=2") == 0, "fw_cfg: trailing NULs stripped");

        put_bytes(sys, FWCFG_RAW, "", 0);
        r = read_fwcfg(sys, text, sizeof(text), &bad);
        check(r == 0 && text[0] == '\0', "fw_cfg: empty file, empty text");

        memset(big, 'a', sizeof(big));
        put_bytes(sys, FWCFG_RAW, big, SOURCE_MAX_BYTES);
        r = read_fwcfg(sys, text, sizeof(text), &bad);
        check_err(r, 0, "fw_cfg: 4096 bytes: 0");
        check_int(r == 0 ? strlen(text) : 0, SOURCE_MAX_BYTES, "fw_cfg: 4096 bytes: all read");

        put_bytes(sys, FWCFG_RAW, big, SOURCE_MAX_BYTES + 1);
        check_err(read_fwcfg(sys, text, sizeof(text), &bad), -E2BIG, "fw_cfg: 4097 bytes: -E2BIG");
        put_bytes(sys, FWCFG_RAW, big, sizeof(big));
        check_err(read_fwcfg(sys, text, sizeof(text), &bad), -E2BIG, "fw_cfg: 4160 bytes: -E2BIG");
        memset(big + SOURCE_MAX_BYTES - 10, 0, 11);
        put_bytes(sys, FWCFG_RAW, big, SOURCE_MAX_BYTES + 1);
        check_err(read_fwcfg(sys, text, sizeof(text), &bad), -E2BIG,
                  "fw_cfg: 4097 bytes ending in NULs: -E2BIG, refused rather than cut");

        put_bytes(sys, FWCFG_RAW, "rd.scratch.lun=1\0rd.scratch.lun=2", 33);
        bad = 0;
        check_err(read_fwcfg(sys, text, sizeof(text), &bad), -EBADMSG, "fw_cfg: embedded NUL: -EBADMSG");
        check_int(bad, 16, "fw_cfg: embedded NUL: offset 16");
        put(sys, FWCFG_RAW, "rd.scratch.lun=\xc3\xa9");
        bad = 0;
        check_err(read_fwcfg(sys, text, sizeof(text), &bad), -EBADMSG, "fw_cfg: UTF-8: -EBADMSG");
        check_int(bad, 15, "fw_cfg: UTF-8: offset 15");
}

/* A raw SMBIOS entry file under dmi/entries. */
static void smbios_entry(const char *sys, const char *entry, const struct smb *s) {
        char rel[PATH_MAX];

        xfmt(rel, sizeof(rel), "firmware/dmi/entries/%s/raw", entry);
        put_bytes(sys, rel, s->b, s->len);
}

static void smbios_one(const char *sys, const char *entry, const char *value) {
        struct smb s;

        smb_begin(&s, 11, 5);
        smb_str(&s, "vendor=ACME");
        if (value) {
                char str[SOURCE_MAX_BYTES + 64];

                xfmt(str, sizeof(str), "org.scratchroot.options=%s", value);
                smb_str(&s, str);
        }
        smb_end(&s);
        smbios_entry(sys, entry, &s);
}

static void test_smbios_read(void) {
        char sys[PATH_MAX], text[SOURCE_MAX_BYTES + 1], value[SOURCE_MAX_BYTES + 8];
        struct smb s;
        size_t bad;
        int r;

        new_dir("smbios-none", sys);
        check_err(read_smbios(sys, text, sizeof(text), &bad), -ENOENT, "smbios: no dmi/entries: -ENOENT");

        /* A system table of type 1 holding the key: never read as OEM strings. */
        new_dir("smbios", sys);
        smb_begin(&s, 1, 0x1b);
        smb_str(&s, "QEMU");
        smb_str(&s, "org.scratchroot.options=rd.scratch.lun=9");
        smb_end(&s);
        smbios_entry(sys, "1-0", &s);
        smbios_entry(sys, "111-0", &s);
        mkdirs(strcat(strcpy(value, sys), "/firmware/dmi/entries/0-0"));
        check_err(read_smbios(sys, text, sizeof(text), &bad), -ENOENT,
                  "smbios: only types 0, 1 and 111: -ENOENT, they are not read");

        smbios_one(sys, "11-0", NULL);
        check_err(read_smbios(sys, text, sizeof(text), &bad), -ENOENT, "smbios: 11-0 without the key: -ENOENT");

        smbios_one(sys, "11-1", "rd.scratch.lun=3 rd.scratch.force");
        r = read_smbios(sys, text, sizeof(text), &bad);
        check_err(r, 0, "smbios: 11-1 with the key, 1-0 beside it: 0");
        check_str(text, "rd.scratch.lun=3 rd.scratch.force", "smbios: the value of 11-1 only");

        smbios_one(sys, "11-0", "rd.scratch.timeout=4");
        r = read_smbios(sys, text, sizeof(text), &bad);
        check_err(r, 0, "smbios: both 11-0 and 11-1 with the key: 0");
        check(strcmp(text, "rd.scratch.timeout=4 rd.scratch.lun=3 rd.scratch.force") == 0 ||
                      strcmp(text, "rd.scratch.lun=3 rd.scratch.force rd.scratch.timeout=4") == 0,
              "smbios: both values, joined with a blank ('%s')", text);

        /* A malformed type 11 entry refuses the source. */
        new_dir("smbios-bad", sys);
        smbios_one(sys, "11-0", "rd.scratch.lun=\x01");
        bad = 99;
        check_err(read_smbios(sys, text, sizeof(text), &bad), -EBADMSG, "smbios: control byte in value: -EBADMSG");
        /* 5 bytes of formatted area, "vendor=ACME" and its NUL, the key,
         * "rd.scratch.lun=". */
        check(bad == 56, "smbios: the control byte's offset in the structure is 56 (%zu)", bad);
        smb_begin(&s, 11, 5);
        smb_raw(&s, "org.scratchroot.options=rd.scratch.lun=1", 40);
        smbios_entry(sys, "11-0", &s);
        check_err(read_smbios(sys, text, sizeof(text), &bad), -EBADMSG, "smbios: unterminated string: -EBADMSG");
        check(bad == 5, "smbios: the unterminated string starts at offset 5 (%zu)", bad);
        smb_begin(&s, 11, 5);
        smb_str(&s, "org.scratchroot.options=rd.scratch.lun=1");
        smb_end(&s);
        s.b[1] = 3;
        smbios_entry(sys, "11-0", &s);
        check_err(read_smbios(sys, text, sizeof(text), &bad), -EBADMSG, "smbios: length byte 3: -EBADMSG");
        check(bad == 1, "smbios: the length byte is at offset 1 (%zu)", bad);

        /* Size: the raw structure counts, 4096 bytes at most. */
        new_dir("smbios-size", sys);
        {
                size_t overhead = 5 + strlen(SMBIOS_KEY) + 2;
                size_t vlen = SOURCE_MAX_BYTES - overhead;

                memset(value, 'x', vlen);
                value[vlen] = '\0';
                smb_begin(&s, 11, 5);
                {
                        char str[SOURCE_MAX_BYTES + 64];

                        xfmt(str, sizeof(str), "%s%s", SMBIOS_KEY, value);
                        smb_str(&s, str);
                }
                smb_end(&s);
                if (s.len != SOURCE_MAX_BYTES)
                        bail("smbios entry of %zu bytes, wanted %d", s.len, SOURCE_MAX_BYTES);
                smbios_entry(sys, "11-0", &s);
                r = read_smbios(sys, text, sizeof(text), &bad);
                check_err(r, 0, "smbios: raw entry of 4096 bytes: 0");
                check_int(r == 0 ? strlen(text) : 0, vlen, "smbios: raw entry of 4096 bytes: the whole value");

                value[vlen] = 'x';
                value[vlen + 1] = '\0';
                smb_begin(&s, 11, 5);
                {
                        char str[SOURCE_MAX_BYTES + 64];

                        xfmt(str, sizeof(str), "%s%s", SMBIOS_KEY, value);
                        smb_str(&s, str);
                }
                smb_end(&s);
                smbios_entry(sys, "11-0", &s);
                check_err(read_smbios(sys, text, sizeof(text), &bad), -E2BIG, "smbios: raw entry of 4097 bytes: -E2BIG");
        }
}

static void test_config(void) {
        char dir[PATH_MAX], path[PATH_MAX], text[SOURCE_MAX_BYTES + 1];
        static char big[SOURCE_MAX_BYTES + 1];
        size_t bad;
        int r;

        new_dir("config", dir);
        xfmt(path, sizeof(path), "%s/scratchroot.conf", dir);
        check_err(read_config(path, text, sizeof(text), &bad), -ENOENT, "config: absent: -ENOENT");

        put(dir, "scratchroot.conf", "# scratch disk\nrd.scratch.lun=1\n\trd.scratch.timeout=2 # why\r\n");
        r = read_config(path, text, sizeof(text), &bad);
        check_err(r, 0, "config: 0");
        check_str(text, "# scratch disk\nrd.scratch.lun=1\n\trd.scratch.timeout=2 # why\r\n",
                  "config: the text as it is, comments left to the parser");

        memset(big, ' ', sizeof(big));
        memcpy(big, "rd.scratch.lun=1", 16);
        big[SOURCE_MAX_BYTES - 1] = '\n';
        put_bytes(dir, "scratchroot.conf", big, SOURCE_MAX_BYTES);
        r = read_config(path, text, sizeof(text), &bad);
        check(r == 0 && strlen(text) == SOURCE_MAX_BYTES, "config: 4096 bytes: 0, all read (%s)", errname(r));
        put_bytes(dir, "scratchroot.conf", big, SOURCE_MAX_BYTES + 1);
        check_err(read_config(path, text, sizeof(text), &bad), -E2BIG, "config: 4097 bytes: -E2BIG");
        put_bytes(dir, "scratchroot.conf", big, SOURCE_MAX_BYTES);
        check_err(read_config(path, text, SOURCE_MAX_BYTES, &bad), -E2BIG,
                  "config: 4096 bytes into a buffer of 4096: -E2BIG");

        put_bytes(dir, "scratchroot.conf", "rd.scratch.lun=1\n\0rd.scratch.lun=2\n", 35);
        bad = 0;
        check_err(read_config(path, text, sizeof(text), &bad), -EBADMSG, "config: embedded NUL: -EBADMSG");
        check_int(bad, 17, "config: embedded NUL: offset 17");
        put(dir, "scratchroot.conf", "rd.scratch.lun=1\x1b");
        bad = 0;
        check_err(read_config(path, text, sizeof(text), &bad), -EBADMSG, "config: ESC: -EBADMSG");
        check_int(bad, 16, "config: ESC: offset 16");

        check(read_config(dir, text, sizeof(text), &bad) < 0, "config: a directory: an error");
}

/* ---- read_vport ----------------------------------------------------------- */

/* What the child reports per case. */
struct vres {
        int r;
        size_t bad;
        uint64_t ms;
        size_t text_len;
        char text[96];
        char note[160];
};

enum {
        V_LINE,
        V_LINE_NODE,
        V_PIECES,
        V_AFTER_NEWLINE,
        V_TIMEOUT,
        V_CONTROL,
        V_LONGEST,
        V_TOO_LONG,
        V_WRONG_NODE,
        V_MKNOD,
        V_MKNOD_NODE,
        V_OTHER_NAME,
        V_NO_PORTS,
        V_SETUP,
        _V_MAX,
};

static struct vres vres[_V_MAX];
static int vport_master = -1;

/* Writes the chunks to the pty's master, each after its delay, from a
 * process of its own so that the reader can block. */
static pid_t writer(const char *const *chunks, const unsigned *delays, unsigned n) {
        pid_t pid = fork();

        if (pid != 0)
                return pid;
        for (unsigned i = 0; i < n; i++) {
                size_t len = strlen(chunks[i]), done = 0;

                sleep_ms(delays[i]);
                while (done < len) {
                        ssize_t k = write(vport_master, chunks[i] + done, len - done);

                        if (k < 0) {
                                if (errno == EINTR)
                                        continue;
                                _exit(1);
                        }
                        done += (size_t) k;
                }
        }
        _exit(0);
}

static void vport_case(unsigned id, const char *sys, unsigned timeout_ms, const char *const *chunks,
                       const unsigned *delays, unsigned n, int slave) {
        char text[SOURCE_MAX_BYTES + 1] = "";
        struct vres *v = &vres[id];
        pid_t pid = -1;
        uint64_t t0;

        (void) tcflush(slave, TCIFLUSH);
        if (n)
                pid = writer(chunks, delays, n);
        v->bad = (size_t) -1;
        t0 = now_ms();
        v->r = read_vport(sys, timeout_ms, text, sizeof(text), &v->bad);
        v->ms = now_ms() - t0;
        v->text_len = strlen(text);
        (void) snprintf(v->text, sizeof(v->text), "%.*s", (int) sizeof(v->text) - 1, text);
        if (pid > 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
        }
        (void) tcflush(slave, TCIFLUSH);
}

static void vport_child(const char *sys, int out) {
        static char longest[SOURCE_MAX_BYTES + 2], too_long[SOURCE_MAX_BYTES + 3];
        char ptsdir[] = "/run/sr-pts", link[PATH_MAX], *pts;
        struct termios tio;
        struct stat st;
        int slave;

#define SETUP_FAIL(...)                                                                            \
        do {                                                                                       \
                vres[V_SETUP].r = -1;                                                              \
                (void) snprintf(vres[V_SETUP].note, sizeof(vres[V_SETUP].note), __VA_ARGS__);     \
                goto done;                                                                         \
        } while (0)

        vport_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (vport_master < 0 || grantpt(vport_master) < 0 || unlockpt(vport_master) < 0)
                SETUP_FAIL("posix_openpt: %s", strerror(errno));
        pts = ptsname(vport_master);
        if (!pts || strncmp(pts, "/dev/pts/", 9) != 0)
                SETUP_FAIL("ptsname: %s", pts ? pts : strerror(errno));

        /* Its own session, the pty its controlling terminal: /dev/tty (5:0)
         * then opens the pty too. */
        if (setsid() < 0)
                SETUP_FAIL("setsid: %s", strerror(errno));
        slave = open(pts, O_RDWR | O_CLOEXEC);
        if (slave < 0 || fstat(slave, &st) < 0)
                SETUP_FAIL("open %s: %s", pts, strerror(errno));
        if (tcgetattr(slave, &tio) < 0)
                SETUP_FAIL("tcgetattr: %s", strerror(errno));
        cfmakeraw(&tio);
        if (tcsetattr(slave, TCSANOW, &tio) < 0)
                SETUP_FAIL("tcsetattr: %s", strerror(errno));

        if (unshare(CLONE_NEWNS) < 0)
                SETUP_FAIL("unshare(CLONE_NEWNS): %s", strerror(errno));
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                SETUP_FAIL("making / private: %s", strerror(errno));
        if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID, "mode=0755") < 0)
                SETUP_FAIL("tmpfs on /run: %s", strerror(errno));
        if (mkdir(ptsdir, 0755) < 0 || mount("/dev/pts", ptsdir, NULL, MS_BIND, NULL) < 0)
                SETUP_FAIL("binding /dev/pts to %s: %s", ptsdir, strerror(errno));
        if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID, "mode=0755") < 0)
                SETUP_FAIL("tmpfs on /dev: %s", strerror(errno));

        /* The port's node as udev would make it: /dev/vport9p1. */
        xfmt(link, sizeof(link), "%s/%s", ptsdir, pts + 9);
        if (symlink(link, "/dev/vport9p1") < 0)
                SETUP_FAIL("symlink /dev/vport9p1: %s", strerror(errno));
        {
                char devno[32];

                xfmt(devno, sizeof(devno), "%u:%u\n", major(st.st_rdev), minor(st.st_rdev));
                put(sys, "class/virtio-ports/vport9p1/dev", devno);
                put(sys, "class/virtio-ports/vport9p1/name", "org.scratchroot.options\n");
                put(sys, "class/virtio-ports/vport9p0/dev", "242:0\n");
                put(sys, "class/virtio-ports/vport9p0/name", "org.qemu.guest_agent.0\n");
        }

        {
                const char *c[] = { "rd.scratch.lun=2 rd.scratch.timeout=1\n" };
                const unsigned d[] = { 50 };

                struct stat nst;

                vport_case(V_LINE, sys, 3000, c, d, 1, slave);
                (void) snprintf(vres[V_LINE_NODE].note, sizeof(vres[V_LINE_NODE].note), "%s",
                                lstat(RUN_NODE_DIR "/vport9p1", &nst) < 0 && errno == ENOENT ? "none"
                                                                                                : "made");
        }
        {
                const char *c[] = { "rd.scratch", ".lun=0:0:0:", "7\n" };
                const unsigned d[] = { 20, 80, 80 };

                vport_case(V_PIECES, sys, 3000, c, d, 3, slave);
        }
        {
                const char *c[] = { "rd.scratch.lun=1\nrd.scratch.lun=2\n" };
                const unsigned d[] = { 0 };

                vport_case(V_AFTER_NEWLINE, sys, 3000, c, d, 1, slave);
        }
        vport_case(V_TIMEOUT, sys, 300, NULL, NULL, 0, slave);
        {
                const char *c[] = { "rd.scr\x01tch.lun=1\n" };
                const unsigned d[] = { 0 };

                vport_case(V_CONTROL, sys, 3000, c, d, 1, slave);
        }
        {
                const char *c[] = { longest };
                const unsigned d[] = { 0 };

                memset(longest, 'a', SOURCE_MAX_BYTES - 1);
                longest[SOURCE_MAX_BYTES - 1] = '\n';
                vport_case(V_LONGEST, sys, 3000, c, d, 1, slave);
        }
        {
                const char *c[] = { too_long };
                const unsigned d[] = { 0 };

                memset(too_long, 'a', SOURCE_MAX_BYTES + 1);
                too_long[SOURCE_MAX_BYTES + 1] = '\n';
                vport_case(V_TOO_LONG, sys, 3000, c, d, 1, slave);
        }

        /* /dev/vport9p1 is another device: not used, a node is made. */
        (void) unlink("/dev/vport9p1");
        xfmt(link, sizeof(link), "%s/ptmx", ptsdir);
        if (symlink(link, "/dev/vport9p1") < 0)
                SETUP_FAIL("symlink /dev/vport9p1: %s", strerror(errno));
        put(sys, "class/virtio-ports/vport9p1/dev", "5:0\n");
        {
                const char *c[] = { "rd.scratch.lun=5\n" };
                const unsigned d[] = { 50 };

                vport_case(V_WRONG_NODE, sys, 3000, c, d, 1, slave);
        }
        (void) unlink("/dev/vport9p1");
        {
                const char *c[] = { "rd.scratch.lun=6\n" };
                const unsigned d[] = { 50 };
                struct stat nst;

                vport_case(V_MKNOD, sys, 3000, c, d, 1, slave);
                if (lstat(RUN_NODE_DIR "/vport9p1", &nst) < 0)
                        (void) snprintf(vres[V_MKNOD_NODE].note, sizeof(vres[V_MKNOD_NODE].note), "lstat: %s",
                                        strerror(errno));
                else
                        (void) snprintf(vres[V_MKNOD_NODE].note, sizeof(vres[V_MKNOD_NODE].note),
                                        "%s %u:%u %04o", S_ISCHR(nst.st_mode) ? "chr" : "other",
                                        major(nst.st_rdev), minor(nst.st_rdev), (unsigned) (nst.st_mode & 07777));
        }

        put(sys, "class/virtio-ports/vport9p1/name", "org.scratchroot.options.old\n");
        vport_case(V_OTHER_NAME, sys, 2000, NULL, NULL, 0, slave);
        {
                char empty[PATH_MAX];

                xfmt(empty, sizeof(empty), "%s-empty", sys);
                mkdirs(empty);
                vport_case(V_NO_PORTS, empty, 2000, NULL, NULL, 0, slave);
        }
done:
        {
                const char *p = (const char *) vres;
                size_t left = sizeof(vres);

                while (left) {
                        ssize_t k = write(out, p, left);

                        if (k <= 0)
                                _exit(3);
                        p += k;
                        left -= (size_t) k;
                }
        }
        _exit(0);
#undef SETUP_FAIL
}

static void test_vport(void) {
        char sys[PATH_MAX];
        size_t got = 0;
        int pfd[2], status;
        pid_t pid;

        new_dir("vport", sys);
        if (pipe(pfd) < 0)
                bail("pipe: %s", strerror(errno));
        pid = fork_child();
        if (pid == 0) {
                (void) close(pfd[0]);
                vport_child(sys, pfd[1]);
        }
        (void) close(pfd[1]);
        while (got < sizeof(vres)) {
                ssize_t k = read(pfd[0], (char *) vres + got, sizeof(vres) - got);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                got += (size_t) k;
        }
        (void) close(pfd[0]);
        (void) waitpid(pid, &status, 0);
        if (!check(got == sizeof(vres) && WIFEXITED(status) && WEXITSTATUS(status) == 0,
                   "vport: the child in its own mount namespace reported"))
                return;
        if (!check(vres[V_SETUP].r == 0, "vport: pty, mount namespace and tmpfs set up")) {
                tap_diag("%s", vres[V_SETUP].note);
                return;
        }

        check_err(vres[V_LINE].r, 0, "vport: a line 50 ms after the start: 0");
        check_str(vres[V_LINE].text, "rd.scratch.lun=2 rd.scratch.timeout=1", "vport: the line without its newline");
        check_str(vres[V_LINE_NODE].note, "none", "vport: /dev/vport9p1 of the port's number: used, no node made");
        check(vres[V_LINE].ms >= 40 && vres[V_LINE].ms < 1500, "vport: line read once sent (%llu ms)",
              (unsigned long long) vres[V_LINE].ms);

        check_err(vres[V_PIECES].r, 0, "vport: a line in three pieces: 0");
        check_str(vres[V_PIECES].text, "rd.scratch.lun=0:0:0:7", "vport: the pieces joined");
        check(vres[V_PIECES].ms >= 150, "vport: waited for the newline (%llu ms)",
              (unsigned long long) vres[V_PIECES].ms);

        check_err(vres[V_AFTER_NEWLINE].r, 0, "vport: two lines: 0");
        check_str(vres[V_AFTER_NEWLINE].text, "rd.scratch.lun=1", "vport: two lines: only the first one");

        check_err(vres[V_TIMEOUT].r, -ETIMEDOUT, "vport: nothing sent within 300 ms: -ETIMEDOUT");
        check(vres[V_TIMEOUT].ms >= 295 && vres[V_TIMEOUT].ms < 800, "vport: timed out after %llu ms, in [300, 800)",
              (unsigned long long) vres[V_TIMEOUT].ms);

        check_err(vres[V_CONTROL].r, -EBADMSG, "vport: control byte in the line: -EBADMSG");
        check_int(vres[V_CONTROL].bad, 6, "vport: control byte at offset 6");

        check_err(vres[V_LONGEST].r, 0, "vport: a line of 4095 bytes and its newline: 0");
        check_int(vres[V_LONGEST].text_len, SOURCE_MAX_BYTES - 1, "vport: 4095 bytes read");

        check_err(vres[V_TOO_LONG].r, -E2BIG, "vport: a line of 4097 bytes: -E2BIG");
        check(vres[V_TOO_LONG].ms < 1500, "vport: too long a line is refused without waiting for the timeout (%llu ms)",
              (unsigned long long) vres[V_TOO_LONG].ms);

        check_err(vres[V_WRONG_NODE].r, 0, "vport: /dev/vport9p1 of another device number: not used, still 0");
        check_str(vres[V_WRONG_NODE].text, "rd.scratch.lun=5", "vport: read through a node of its own");

        check_err(vres[V_MKNOD].r, 0, "vport: no /dev/vport9p1: 0 through a node under " RUN_NODE_DIR);
        check_str(vres[V_MKNOD].text, "rd.scratch.lun=6", "vport: no /dev node: the line");
        check_str(vres[V_MKNOD_NODE].note, "chr 5:0 0600", "vport: " RUN_NODE_DIR "/vport9p1 is char 5:0, 0600");

        check_err(vres[V_OTHER_NAME].r, -ENOENT, "vport: no port named " VPORT_NAME ": -ENOENT");
        check(vres[V_OTHER_NAME].ms < 200, "vport: no port: not waited for (%llu ms)",
              (unsigned long long) vres[V_OTHER_NAME].ms);
        check_err(vres[V_NO_PORTS].r, -ENOENT, "vport: no class/virtio-ports: -ENOENT");
        check(vres[V_NO_PORTS].ms < 200, "vport: no virtio-ports: not waited for (%llu ms)",
              (unsigned long long) vres[V_NO_PORTS].ms);
}

int main(void) {
        if (!fixture_start("test-sources", "test setup"))
                return tap_done();

        test_blob_ok();
        test_blob_bad();
        test_blob_size();
        test_smbios_good();
        test_smbios_bad();
        test_fwcfg();
        test_smbios_read();
        test_config();
        test_vport();

        return fixture_done();
}
