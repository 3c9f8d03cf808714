/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rd.scratch.swap: the size a spec stands for, the header swap_header()
 * writes (read back by libblkid as swap with its label and by the kernel's
 * layout), and swap_file_enable() where swapon cannot work: the file is
 * gone again and the failed step is told. */
#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fixture.h"
#include "swap.h"
#include "tap.h"

#define PAGE UINT64_C(4096)
#define GiB (UINT64_C(1) << 30)

static void test_bytes(void) {
        struct size_spec s;

        s = (struct size_spec) { .bytes = GiB };
        check_int(swap_bytes(&s, 512u << 20, PAGE), GiB, "1G: 1 GiB whatever the RAM");
        s = (struct size_spec) { .bytes = GiB + 100 };
        check_int(swap_bytes(&s, 512u << 20, PAGE), GiB, "1 GiB + 100: rounded down to pages");
        s = (struct size_spec) { .percent = 50 };
        check_int(swap_bytes(&s, 512u << 20, PAGE), 256u << 20, "50%% of 512 MiB: 256 MiB");
        s = (struct size_spec) { .percent = 100 };
        check_int(swap_bytes(&s, 1000 * PAGE + 7, PAGE), 1000 * PAGE, "100%% of an odd RAM size: whole pages");
        s = (struct size_spec) {};
        check_int(swap_bytes(&s, 512u << 20, PAGE), 0, "0: none");
        s = (struct size_spec) { .bytes = PAGE + 1 };
        check_int(swap_bytes(&s, 512u << 20, PAGE), 0, "under two pages: none");
        s = (struct size_spec) { .bytes = 2 * PAGE };
        check_int(swap_bytes(&s, 512u << 20, PAGE), 2 * PAGE, "two pages: taken");
}

static void test_header(void) {
        static unsigned char page[PAGE];
        char img[PATH_MAX];
        const char *type = NULL, *label = NULL;
        uint32_t v;
        blkid_probe pr;
        int fd;

        check_int(swap_header(page, PAGE, PAGE, "scratchroot"), -EINVAL, "one page: -EINVAL");
        check_int(swap_header(page, PAGE, 64u << 20, "scratchroot"), 0, "64 MiB: header made");
        check(memcmp(page + PAGE - 10, "SWAPSPACE2", 10) == 0, "the magic ends the page");
        memcpy(&v, page + 1024, 4);
        check_int(v, 1, "version 1");
        memcpy(&v, page + 1028, 4);
        check_int(v, (64u << 20) / PAGE - 1, "last_page: the file's last page");
        memcpy(&v, page + 1032, 4);
        check_int(v, 0, "no bad pages");

        xfmt(img, sizeof(img), "%s/swap", base);
        fd = open(img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, 64 << 20) < 0 || pwrite(fd, page, PAGE, 0) != (ssize_t) PAGE)
                bail("cannot write %s", img);
        pr = blkid_new_probe();
        if (!pr || blkid_probe_set_device(pr, fd, 0, 0) < 0)
                bail("cannot probe %s", img);
        (void) blkid_probe_enable_superblocks(pr, 1);
        (void) blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL);
        check_int(blkid_do_safeprobe(pr), 0, "libblkid finds one signature");
        (void) blkid_probe_lookup_value(pr, "TYPE", &type, NULL);
        (void) blkid_probe_lookup_value(pr, "LABEL", &label, NULL);
        check_str(type ? type : "", "swap", "libblkid: TYPE=swap");
        check_str(label ? label : "", "scratchroot", "libblkid: LABEL=scratchroot");
        blkid_free_probe(pr);
        (void) close(fd);
}

/* swapon fails on tmpfs (no bmap) and for an unprivileged caller: either
 * way the file must not be left behind. Where it could succeed (root on a
 * filesystem with swap file support) the test says so and leaves it to
 * the loop-device cases. */
static void test_enable_fails(void) {
        char path[PATH_MAX];
        enum swap_step step = (enum swap_step) 99;
        struct statfs sf;
        int r;

        if (statfs("/dev/shm", &sf) < 0 || sf.f_type != 0x01021994) {
                tap_skip("swap_file_enable on tmpfs", "/dev/shm is not a tmpfs");
                return;
        }
        xfmt(path, sizeof(path), "/dev/shm/scratchroot-test-swap.%d", (int) getpid());
        r = swap_file_enable(path, 8u << 20, &step);
        check(r < 0, "swapon of a file on tmpfs fails");
        check(step == SWAP_STEP_SWAPON || step == SWAP_STEP_ALLOCATE, "at swapon (or fallocate)");
        check(access(path, F_OK) < 0 && errno == ENOENT, "the file is removed again");
        (void) unlink(path);

        r = swap_file_enable("/nonexistent-dir/swap", 8u << 20, &step);
        check_int(r, -ENOENT, "in a missing directory: -ENOENT");
        check_int(step, SWAP_STEP_CREATE, "at create");
}

int main(void) {
        if (!fixture_start("test-swap", "test setup"))
                return tap_done();
        test_bytes();
        test_header();
        test_enable_fails();
        return fixture_done();
}
