/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "format.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "safety.h"
#include "util.h"

/* How often the wait looks at mke2fs when the kernel has no pidfd. */
#define FORMAT_POLL_MS 5u

/* Sleeps until the pidfd turns readable (the child exited) or the deadline. */
static void sleep_on(int pfd, uint64_t deadline, uint64_t now) {
        struct pollfd p = { .fd = pfd, .events = POLLIN };
        uint64_t left = deadline - now;

        if (pfd < 0)
                sleep_ms(FORMAT_POLL_MS);
        else
                (void) poll(&p, 1, left > INT_MAX ? INT_MAX : (int) left);
}

int format_wait_child(pid_t pid, unsigned timeout_ms, bool use_pidfd, int *ret_status, unsigned *ret_wakeups) {
        _cleanup_close_ int pfd = -1;
        uint64_t deadline = now_ms() + timeout_ms;
        unsigned wakeups = 0;
        int status, r;

        /* A pidfd turns readable when the child exits, so the wait ends with
         * it; kernels before 5.3 have none, and the wait polls. */
        if (use_pidfd)
                pfd = (int) syscall(SYS_pidfd_open, pid, 0);
        for (;; wakeups++) {
                pid_t w = waitpid(pid, &status, WNOHANG);
                uint64_t now;

                if (w == pid) {
                        r = 0;
                        break;
                }
                if (w < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
                now = now_ms();
                if (now >= deadline) {
                        (void) kill(pid, SIGKILL);
                        (void) waitpid(pid, &status, 0);
                        r = -ETIMEDOUT;
                        break;
                }
                sleep_on(pfd, deadline, now);
        }
        if (ret_wakeups)
                *ret_wakeups = wakeups;
        if (r < 0)
                return r;
        *ret_status = status;
        return 0;
}

int format_scratch(const char *mke2fs, const char *node, bool discard, unsigned timeout_ms, int *ret_status) {
        return format_scratch_striped(mke2fs, node, discard, 0, 0, timeout_ms, ret_status);
}

int format_scratch_striped(const char *mke2fs, const char *node, bool discard, unsigned members,
                           uint32_t chunk_bytes, unsigned timeout_ms, int *ret_status) {
        /* No journal: the data does not outlive the boot. No resize inode
         * and no backup superblocks: every block mke2fs writes is a block the
         * host must allocate in a thin image. Lazy inode tables, zeroed by
         * nobody since the mount says noinit_itable. Flex groups of 512
         * block groups put the bitmaps and inode tables of up to 64 GiB side
         * by side: fewer, longer writes, and fewer blocks for the host to
         * allocate. */
        char *argv[20] = {
                (char *) mke2fs,
                (char *) "-q",
                (char *) "-t", (char *) "ext4",
                (char *) "-m", (char *) "0",
                (char *) "-L", (char *) SCRATCH_LABEL,
                (char *) "-O", (char *) "^has_journal,^resize_inode,sparse_super2",
                (char *) "-G", (char *) "512",
        };
        char *const envp[] = {
                (char *) "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                (char *) "LC_ALL=C",
                NULL,
        };
        char ext[160];
        size_t k = 12;
        posix_spawn_file_actions_t fa;
        int status, r;
        pid_t pid;

        r = snprintf(ext, sizeof(ext), "lazy_itable_init=1,num_backup_sb=0,%s", discard ? "discard" : "nodiscard");
        /* Striped: the allocator lines larger extents up with whole chunks
         * and stripes. stride and stripe_width count filesystem blocks, so
         * the block size is fixed at 4 KiB rather than left to mke2fs.conf,
         * which gives a small filesystem 1 KiB blocks. */
        if (members > 1 && chunk_bytes >= 4096) {
                size_t o = (size_t) r;

                r = snprintf(ext + o, sizeof(ext) - o, ",stride=%" PRIu32 ",stripe_width=%" PRIu32,
                             chunk_bytes / 4096, chunk_bytes / 4096 * members);
                if (r >= 0)
                        r += (int) o;
                argv[k++] = (char *) "-b";
                argv[k++] = (char *) "4096";
        }
        if (r < 0 || (size_t) r >= sizeof(ext))
                return -EINVAL;
        argv[k++] = (char *) "-E";
        argv[k++] = ext;
        argv[k++] = (char *) node;
        argv[k] = NULL;

        /* posix_spawn() returns the error of a failed exec itself, so "cannot
         * run" is told apart from mke2fs failing; it does not copy the
         * helper's page tables as fork() would, which an emulated CPU makes
         * slow. Any question mke2fs might ask is answered by end of file. */
        r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return -r;
        r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (r == 0)
                r = posix_spawn(&pid, mke2fs, &fa, NULL, argv, envp);
        (void) posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return -r;

        r = format_wait_child(pid, timeout_ms, true, &status, NULL);
        if (r < 0)
                return r;

        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (ret_status)
                *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return -EIO;
}
