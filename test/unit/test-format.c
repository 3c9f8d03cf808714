/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* format_scratch() with stand-ins for mke2fs: the arguments and environment
 * it is given, success, a failing status, a program that cannot be run, a
 * program killed by a signal, and one that outlives the time limit (killed,
 * -ETIMEDOUT, and the wait ends at the limit, not later); the wait itself,
 * on a pidfd (woken once) and polling (the fallback for kernels without
 * pidfd_open). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"
#include "format.h"
#include "safety.h"
#include "tap.h"

static uint64_t mono_ms(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* base/bin/name, a shell script running body, made executable. */
static const char *script(const char *name, const char *body) {
        static char path[PATH_MAX];
        char text[2048], rel[PATH_MAX];

        xfmt(text, sizeof(text), "#!/bin/sh\n%s\n", body);
        xfmt(rel, sizeof(rel), "bin/%s", name);
        put(base, rel, text);
        xfmt(path, sizeof(path), "%s/%s", base, rel);
        if (chmod(path, 0755) < 0)
                bail("chmod %s: %s", path, strerror(errno));
        return path;
}

static char *slurp(const char *path) {
        static char buf[4096];
        FILE *f = fopen(path, "re");
        size_t k;

        buf[0] = '\0';
        if (!f)
                return buf;
        k = fread(buf, 1, sizeof(buf) - 1, f);
        buf[k] = '\0';
        (void) fclose(f);
        return buf;
}

static void test_arguments(void) {
        char out[PATH_MAX], body[PATH_MAX + 128];
        const char *prog;
        int status = -1, r;

        xfmt(out, sizeof(out), "%s/args", base);
        xfmt(body, sizeof(body), "printf '%%s\\n' \"$@\" \"PATH=$PATH\" \"LC_ALL=$LC_ALL\" >'%s'\n"
                                 "read -r line && echo stdin-not-empty >>'%s'\nexit 0", out, out);
        prog = script("record", body);

        r = format_scratch(prog, "/dev/sdz", false, 10000, &status);
        check_err(r, 0, "exit 0: formatted");
        check_str(slurp(out),
                  "-q\n-t\next4\n-m\n0\n-L\n" SCRATCH_LABEL "\n-O\n^has_journal,^resize_inode,sparse_super2\n"
                  "-G\n512\n-E\nlazy_itable_init=1,num_backup_sb=0,nodiscard\n/dev/sdz\n"
                  "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLC_ALL=C\n",
                  "mke2fs gets the documented options, the node last, a fixed PATH and LC_ALL=C, stdin at EOF");

        r = format_scratch(prog, "/dev/sdz", true, 10000, &status);
        check_err(r, 0, "discard: formatted");
        check_has(slurp(out), "\nlazy_itable_init=1,num_backup_sb=0,discard\n/dev/sdz\n",
                  "discard asked: -E ...,discard");

        r = format_scratch_striped(prog, "/dev/mapper/x", false, 3, 512u << 10, 10000, &status);
        check_err(r, 0, "striped over 3: formatted");
        check_has(slurp(out), "\n-G\n512\n-b\n4096\n-E\n"
                              "lazy_itable_init=1,num_backup_sb=0,nodiscard,stride=128,stripe_width=384\n"
                              "/dev/mapper/x\n",
                  "striped over 3 in 512 KiB chunks: 4 KiB blocks, stride=128, stripe_width=384");
        r = format_scratch_striped(prog, "/dev/mapper/x", true, 2, 64u << 10, 10000, &status);
        check_err(r, 0, "striped over 2: formatted");
        check_has(slurp(out), "\n-E\nlazy_itable_init=1,num_backup_sb=0,discard,stride=16,stripe_width=32\n",
                  "striped over 2 in 64 KiB chunks, discard: stride=16, stripe_width=32");
        r = format_scratch_striped(prog, "/dev/sdz", false, 1, 512u << 10, 10000, &status);
        check_err(r, 0, "one member: formatted");
        check(strstr(slurp(out), "stride") == NULL && strstr(slurp(out), "\n-b\n") == NULL,
              "one member: neither stride nor -b, as format_scratch");
}

static void test_failures(void) {
        char missing[PATH_MAX];
        int status = -1, r;

        r = format_scratch(script("fails", "exit 3"), "/dev/sdz", false, 10000, &status);
        check_err(r, -EIO, "exit 3: -EIO");
        check_int(status, 3, "exit 3: the status is told");

        status = -1;
        r = format_scratch(script("killed", "kill -KILL $$"), "/dev/sdz", false, 10000, &status);
        check_err(r, -EIO, "killed by SIGKILL: -EIO");
        check_int(status, 128 + SIGKILL, "killed by SIGKILL: status 128+9");

        xfmt(missing, sizeof(missing), "%s/bin/no-such-mke2fs", base);
        r = format_scratch(missing, "/dev/sdz", false, 10000, &status);
        check_err(r, -ENOENT, "a program that is not there: -ENOENT, not a failed format");

        r = format_scratch(script("noexec", "exit 0"), "/dev/sdz", false, 10000, &status);
        check_err(r, 0, "executable script: runs");
        {
                char p[PATH_MAX];

                xfmt(p, sizeof(p), "%s/bin/noexec", base);
                if (chmod(p, 0644) < 0)
                        bail("chmod %s: %s", p, strerror(errno));
                r = format_scratch(p, "/dev/sdz", false, 10000, &status);
                check_err(r, -EACCES, "a file without exec permission: -EACCES");
        }
}

static void test_time(void) {
        char pidfile[PATH_MAX], body[PATH_MAX + 64];
        uint64_t t;
        int status = -1, r;
        long pid = 0;
        FILE *f;

        /* Ends long before its limit: the wait ends with it. */
        t = mono_ms();
        r = format_scratch(script("quick", "sleep 0.3; exit 0"), "/dev/sdz", false, 60000, &status);
        t = mono_ms() - t;
        check_err(r, 0, "a 0.3 s format under a 60 s limit: formatted");
        check(t >= 300 && t < 5000, "...and the wait ended with it (%llu ms)", (unsigned long long) t);

        /* Outlives its limit: killed, and the wait ends at the limit. */
        xfmt(pidfile, sizeof(pidfile), "%s/slow.pid", base);
        xfmt(body, sizeof(body), "echo $$ >'%s'\nexec sleep 30", pidfile);
        t = mono_ms();
        r = format_scratch(script("slow", body), "/dev/sdz", false, 400, &status);
        t = mono_ms() - t;
        check_err(r, -ETIMEDOUT, "a program that runs past the limit: -ETIMEDOUT");
        check(t >= 400 && t < 10000, "...told at the limit of 400 ms (%llu ms)", (unsigned long long) t);
        f = fopen(pidfile, "re");
        if (f) {
                if (fscanf(f, "%ld", &pid) != 1)
                        pid = 0;
                (void) fclose(f);
        }
        check(pid > 0 && kill((pid_t) pid, 0) < 0 && errno == ESRCH, "...and it is gone, reaped (pid %ld)", pid);
}

/* Whether this kernel has pidfd_open(). */
static bool have_pidfd(void) {
        int fd = (int) syscall(SYS_pidfd_open, getpid(), 0);

        if (fd < 0)
                return false;
        (void) close(fd);
        return true;
}

/* format_scratch() sleeps on a pidfd while mke2fs runs: this process
 * blocks a few times (the spawn, the wait), where polling every few
 * milliseconds blocks once per poll, dozens of times in 0.3 s. */
static void test_sleeps_once(void) {
        struct rusage before, after;
        long blocked;
        int status = -1, r;

        if (!have_pidfd()) {
                tap_skip("format_scratch waits on a pidfd", "no pidfd_open: %s", strerror(errno));
                return;
        }
        (void) getrusage(RUSAGE_SELF, &before);
        r = format_scratch(script("sleeper", "sleep 0.3; exit 0"), "/dev/sdz", false, 60000, &status);
        (void) getrusage(RUSAGE_SELF, &after);
        blocked = after.ru_nvcsw - before.ru_nvcsw;
        check_err(r, 0, "a 0.3 s format: formatted");
        check(blocked < 10, "format_scratch waits on a pidfd: blocked %ld times in 0.3 s, not once per poll",
              blocked);
}

/* A child that sleeps for secs seconds. */
static pid_t sleeper(const char *secs) {
        pid_t pid = fork_child();

        if (pid == 0) {
                execl("/bin/sleep", "sleep", secs, (char *) NULL);
                _exit(127);
        }
        return pid;
}

/* The wait for mke2fs sleeps on a pidfd: it wakes once, when the child
 * exits. Polling every few milliseconds wakes dozens of times in 0.3 s. */
static void test_wait(void) {
        unsigned wakeups = 0;
        int status = -1, r;

        r = format_wait_child(sleeper("0.3"), 10000, true, &status, &wakeups);
        check_err(r, 0, "pidfd wait for a 0.3 s child: it exited");
        check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "pidfd wait: its status is exit 0");
        if (!have_pidfd())
                tap_skip("pidfd wait: woken once, by the child's exit", "no pidfd_open: %s", strerror(errno));
        else
                check(wakeups >= 1 && wakeups <= 2, "pidfd wait: woken once, by the child's exit (%u wakeups)",
                      wakeups);

        status = -1;
        r = format_wait_child(sleeper("0.3"), 10000, false, &status, &wakeups);
        check_err(r, 0, "polling wait (kernels without pidfd_open): it exited");
        check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "polling wait: its status is exit 0");
        check(wakeups >= 10, "polling wait: it polled (%u wakeups), which the pidfd count above tells apart",
              wakeups);

        r = format_wait_child(sleeper("30"), 200, false, &status, &wakeups);
        check_err(r, -ETIMEDOUT, "polling wait past its limit: -ETIMEDOUT");
}

int main(void) {
        if (!fixture_start("test-format", "making stand-ins for mke2fs"))
                return tap_done();
        test_arguments();
        test_failures();
        test_time();
        test_wait();
        test_sleeps_once();

        return fixture_done();
}
