/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stripe member header: its CRC32C against the published check value,
 * the encoding's fixed layout, decode's refusals (magic, version, checksum,
 * counts, index, chunk), reading it from a file; the common member length
 * and device-mapper's table line; stripe_open()'s refusals that touch no
 * member. The mapping itself needs device-mapper in the kernel: the loop
 * case test/integration/cases/stripe.sh and the VM scenarios make it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fixture.h"
#include "stripe.h"

#define MiB (UINT64_C(1) << 20)

static struct stripe_member sample(void) {
        struct stripe_member m = {
                .index = 1,
                .count = 3,
                .chunk_bytes = 512u << 10,
                .data_offset = STRIPE_DATA_OFFSET,
                .data_bytes = 100 * MiB,
        };

        for (unsigned i = 0; i < sizeof(m.set_id); i++)
                m.set_id[i] = (uint8_t) (0xa0 + i);
        return m;
}

static uint32_t le32_at(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void test_crc(void) {
        /* The check value of CRC-32C (RFC 3720, B.4; "123456789"). */
        check(stripe_crc32c(0, "123456789", 9) == 0xe3069283u, "crc32c(\"123456789\") is 0xe3069283");
        check(stripe_crc32c(stripe_crc32c(0, "1234", 4), "56789", 5) == 0xe3069283u,
              "crc32c continues over a split buffer");
        check(stripe_crc32c(0, "", 0) == 0, "crc32c of nothing is 0");
}

static void test_layout(void) {
        struct stripe_member m = sample();
        uint8_t buf[STRIPE_HEADER_BYTES], copy[STRIPE_HEADER_BYTES];

        stripe_header_encode(&m, buf);
        check(memcmp(buf, "scratchroot stripe member\0\0\0\0\0\0\0", 32) == 0,
              "the magic, NUL-padded to 32 bytes, opens the header");
        check(le32_at(buf + 32) == 1, "version 1 at byte 32");
        check(le32_at(buf + 36) == STRIPE_HEADER_BYTES, "the header's size at byte 36");
        check(buf[40] == 0xa0 && buf[55] == 0xaf, "the set id at bytes 40..55");
        check(le32_at(buf + 56) == 1 && le32_at(buf + 60) == 3, "index 1 and count 3 at bytes 56, 60");
        check(le32_at(buf + 64) == (512u << 10), "the chunk at byte 64");
        check(le32_at(buf + 72) == STRIPE_DATA_OFFSET && le32_at(buf + 76) == 0, "the data offset at byte 72");
        check(le32_at(buf + 80) == 100 * MiB && le32_at(buf + 84) == 0, "the member's data length at byte 80");
        memcpy(copy, buf, sizeof(copy));
        memset(copy + STRIPE_HEADER_BYTES - 4, 0, 4);
        check(le32_at(buf + STRIPE_HEADER_BYTES - 4) == stripe_crc32c(0, copy, sizeof(copy)),
              "the last 4 bytes are the crc32c of the header with them zero");
}

static void roundtrip(void) {
        struct stripe_member m = sample(), got;
        uint8_t buf[STRIPE_HEADER_BYTES];

        stripe_header_encode(&m, buf);
        memset(&got, 0x55, sizeof(got));
        check_err(stripe_header_decode(buf, &got), 0, "an encoded header decodes");
        check(memcmp(got.set_id, m.set_id, sizeof(m.set_id)) == 0, "set id kept");
        check(got.index == 1 && got.count == 3, "index and count kept");
        check(got.chunk_bytes == m.chunk_bytes, "chunk kept");
        check(got.data_offset == STRIPE_DATA_OFFSET && got.data_bytes == 100 * MiB, "offset and length kept");
}

/* Encodes m, lets edit change the bytes, and checks what decode says. */
static void decode_as(const struct stripe_member *m, void (*edit)(uint8_t *), int want, const char *what) {
        uint8_t buf[STRIPE_HEADER_BYTES];
        struct stripe_member got = {}, untouched;

        stripe_header_encode(m, buf);
        if (edit)
                edit(buf);
        memset(&got, 0x55, sizeof(got));
        untouched = got;
        check_err(stripe_header_decode(buf, &got), want, "%s", what);
        if (want < 0)
                check(memcmp(&got, &untouched, sizeof(got)) == 0, "%s: nothing returned", what);
}

static void e_magic(uint8_t *b) { b[0] = 'S'; }
static void e_magic_tail(uint8_t *b) { b[31] = 'x'; }
static void e_version(uint8_t *b) { b[32] = 2; }
static void e_size(uint8_t *b) { b[37] = 4; }
static void e_set_id(uint8_t *b) { b[47] ^= 1; }
static void e_count(uint8_t *b) { b[60] = 4; }
static void e_crc(uint8_t *b) { b[STRIPE_HEADER_BYTES - 1] ^= 0x80; }
static void e_reserved(uint8_t *b) { b[200] = 1; }
static void e_zero(uint8_t *b) { memset(b, 0, STRIPE_HEADER_BYTES); }

static void test_decode(void) {
        struct stripe_member m = sample();

        roundtrip();
        decode_as(&m, NULL, 0, "unchanged: 0");
        decode_as(&m, e_magic, -ENOMSG, "another first byte: not a header (-ENOMSG)");
        decode_as(&m, e_magic_tail, -ENOMSG, "a byte after the magic's NUL padding changed: -ENOMSG");
        decode_as(&m, e_zero, -ENOMSG, "all zeros: -ENOMSG");
        decode_as(&m, e_version, -EPROTONOSUPPORT, "version 2: -EPROTONOSUPPORT");
        decode_as(&m, e_size, -EPROTONOSUPPORT, "another header size: -EPROTONOSUPPORT");
        decode_as(&m, e_set_id, -EBADMSG, "one bit of the set id flipped: -EBADMSG");
        decode_as(&m, e_count, -EBADMSG, "the count changed without the checksum: -EBADMSG");
        decode_as(&m, e_crc, -EBADMSG, "the checksum changed: -EBADMSG");
        decode_as(&m, e_reserved, -EBADMSG, "a reserved byte set: -EBADMSG");

        /* Values no header of ours holds, with a valid checksum. */
        m = sample();
        m.count = 1;
        m.index = 0;
        decode_as(&m, NULL, -EINVAL, "count 1: -EINVAL");
        m = sample();
        m.count = STRIPE_MAX_MEMBERS + 1;
        decode_as(&m, NULL, -EINVAL, "count 33: -EINVAL");
        m = sample();
        m.count = STRIPE_MAX_MEMBERS;
        m.index = STRIPE_MAX_MEMBERS - 1;
        decode_as(&m, NULL, 0, "count 32, index 31: 0");
        m = sample();
        m.index = 3;
        decode_as(&m, NULL, -EINVAL, "index 3 of 3: -EINVAL");
        m = sample();
        m.chunk_bytes = 96u << 10;
        decode_as(&m, NULL, -EINVAL, "chunk 96 KiB, not a power of two: -EINVAL");
        m = sample();
        m.chunk_bytes = 2048;
        decode_as(&m, NULL, -EINVAL, "chunk 2 KiB, under a page: -EINVAL");
        m = sample();
        m.data_offset = 0;
        decode_as(&m, NULL, -EINVAL, "data offset 0, over the header: -EINVAL");
        m = sample();
        m.data_bytes = 100 * MiB + 4096;
        decode_as(&m, NULL, -EINVAL, "a length that is not whole chunks: -EINVAL");
}

static void test_member_bytes(void) {
        uint64_t two[] = { 65 * MiB, 65 * MiB };
        uint64_t uneven[] = { 200 * MiB, 65 * MiB + 300 * 1024, 130 * MiB };
        uint64_t tiny[] = { 200 * MiB, MiB };

        check_u64(stripe_member_bytes(two, 2, 512u << 10), 64 * MiB, "two of 65 MiB: 64 MiB each");
        check_u64(stripe_member_bytes(uneven, 3, 512u << 10), 64 * MiB,
                  "the smallest, 64.3 MiB of data, rounded down to 512 KiB chunks: 64 MiB");
        check_u64(stripe_member_bytes(uneven, 3, 64u << 10), 64 * MiB + 256 * 1024,
                  "the same in 64 KiB chunks: 64.25 MiB");
        check_u64(stripe_member_bytes(tiny, 2, 512u << 10), 0, "a member of 1 MiB has no data area: 0");
        check_u64(stripe_member_bytes(two, 0, 512u << 10), 0, "no member: 0");
}

static void test_table(void) {
        const char *devs[] = { "259:0", "259:1", "8:16" };
        const char *many[STRIPE_MAX_MEMBERS + 1];
        char buf[256], small[16];

        check_err(stripe_table(devs, 2, 512u << 10, STRIPE_DATA_OFFSET, buf, sizeof(buf)), 0, "table for 2");
        check_str(buf, "2 1024 259:0 2048 259:1 2048", "2 members, 512 KiB chunks, data 1 MiB in");
        check_err(stripe_table(devs, 3, 64u << 10, STRIPE_DATA_OFFSET, buf, sizeof(buf)), 0, "table for 3");
        check_str(buf, "3 128 259:0 2048 259:1 2048 8:16 2048", "3 members, 64 KiB chunks");
        check_err(stripe_table(devs, 1, 512u << 10, STRIPE_DATA_OFFSET, buf, sizeof(buf)), -EINVAL,
                  "one member is no stripe: -EINVAL");
        for (unsigned i = 0; i < STRIPE_MAX_MEMBERS + 1; i++)
                many[i] = "7:0";
        check_err(stripe_table(many, STRIPE_MAX_MEMBERS + 1, 512u << 10, STRIPE_DATA_OFFSET, buf, sizeof(buf)),
                  -EINVAL, "33 members: -EINVAL");
        check_err(stripe_table(devs, 2, 48u << 10, STRIPE_DATA_OFFSET, buf, sizeof(buf)), -EINVAL,
                  "a chunk that is not a power of two: -EINVAL");
        check_err(stripe_table(devs, 2, 512u << 10, 1000, buf, sizeof(buf)), -EINVAL,
                  "an offset that is not whole sectors: -EINVAL");
        check_err(stripe_table(devs, 2, 512u << 10, STRIPE_DATA_OFFSET, small, sizeof(small)), -ENAMETOOLONG,
                  "a buffer too small: -ENAMETOOLONG");
}

static const char *path_of(const char *name) {
        static char p[2][PATH_MAX];
        static unsigned k;
        char *s = p[k++ % 2];

        xfmt(s, PATH_MAX, "%s/%s", base, name);
        return s;
}

/* A file of size bytes holding buf (len bytes) at offset 0. */
static void image(const char *name, uint64_t size, const void *buf, size_t len) {
        int fd = open(path_of(name), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        if (fd < 0 || ftruncate(fd, (off_t) size) < 0 || (len && pwrite(fd, buf, len, 0) != (ssize_t) len))
                bail("cannot make %s: %s", name, strerror(errno));
        (void) close(fd);
}

static int read_header(const char *name, struct stripe_member *m) {
        int fd = open(path_of(name), O_RDONLY | O_CLOEXEC), r;

        if (fd < 0)
                return -errno;
        r = m ? stripe_member_read(fd, m) : stripe_member_header(fd);
        (void) close(fd);
        return r;
}

static void test_read(void) {
        struct stripe_member m = sample(), got = {};
        uint8_t block[STRIPE_BLOCK_BYTES] = {};
        int fd;

        stripe_header_encode(&m, block);
        image("member", 8 * MiB, block, sizeof(block));
        check_int(read_header("member", NULL), 1, "a file starting with a header: 1");
        check_int(read_header("member", &got), 1, "read with its contents: 1");
        check(got.index == 1 && got.count == 3, "index 1 of 3 read back");

        image("zeros", 8 * MiB, NULL, 0);
        check_int(read_header("zeros", NULL), 0, "zeros: 0");

        block[100] ^= 1;
        image("corrupt", 8 * MiB, block, sizeof(block));
        check_int(read_header("corrupt", NULL), 0, "a header failing its checksum: 0, not ours");

        image("short", 100, "scratchroot stripe member", 25);
        check_int(read_header("short", NULL), 0, "a 100-byte file with the magic: 0");

        fd = open(path_of("member"), O_WRONLY | O_CLOEXEC);
        if (check(fd >= 0, "member opened write-only")) {
                check(stripe_member_header(fd) < 0, "an fd that cannot be read: -errno");
                (void) close(fd);
        }
}

static char *sha_of(const char *name, char *buf, size_t n) {
        char cmd[PATH_MAX + 64];
        FILE *p;

        xfmt(cmd, sizeof(cmd), "sha256sum '%s'", path_of(name));
        buf[0] = '\0';
        p = popen(cmd, "re");
        if (p) {
                if (!fgets(buf, (int) n, p))
                        buf[0] = '\0';
                (void) pclose(p);
        }
        return buf;
}

static void test_open_refusals(void) {
        char mapped[PATH_MAX], sha0[128], sha1[128], after[128];
        const char *nodes[2];
        int member = 99, r;

        check((dlib_unsupported(stripe_library()) == NULL) == HAVE_LIBDEVMAPPER,
              "stripe_library() says whether libdevmapper is built in and loaded");

        image("a", 8 * MiB, NULL, 0);
        image("b", 8 * MiB, "data", 4);
        (void) sha_of("a", sha0, sizeof(sha0));
        (void) sha_of("b", sha1, sizeof(sha1));
        nodes[0] = path_of("a");
        nodes[1] = path_of("b");

        r = stripe_open(nodes, 1, "t", mapped, sizeof(mapped), &member);
        check_err(r, !dlib_unsupported(stripe_library()) ? -EINVAL : -EOPNOTSUPP, "one member: refused");
        check_int(member, -1, "one member: no member blamed");

        member = 99;
        r = stripe_open(nodes, 2, "t", mapped, sizeof(mapped), &member);
        if (!dlib_unsupported(stripe_library())) {
                check_err(r, -ENOTBLK, "regular files: -ENOTBLK");
                check_int(member, 0, "regular files: the first member named");
        } else {
                check_err(r, -EOPNOTSUPP, "without libdevmapper: -EOPNOTSUPP");
                check_int(member, -1, "without libdevmapper: no member blamed");
        }
        check_str(sha_of("a", after, sizeof(after)), sha0, "refused: the first file unchanged");
        check_str(sha_of("b", after, sizeof(after)), sha1, "refused: the second file unchanged");

        if (!dlib_unsupported(stripe_library())) {
                nodes[0] = "/dev/null";
                member = 99;
                check_err(stripe_open(nodes, 2, "t", mapped, sizeof(mapped), &member), -ENOTBLK,
                          "a character device: -ENOTBLK");
                check_int(member, 0, "a character device: member 0 named");
                nodes[0] = path_of("missing");
                member = 99;
                check_err(stripe_open(nodes, 2, "t", mapped, sizeof(mapped), &member), -ENOENT,
                          "a missing node: -ENOENT");
                check_int(member, 0, "a missing node: member 0 named");
        }
}

int main(void) {
        if (!fixture_start("test-stripe", "test setup"))
                return tap_done();
        test_crc();
        test_layout();
        test_decode();
        test_member_bytes();
        test_table();
        test_read();
        test_open_refusals();
        return fixture_done();
}
