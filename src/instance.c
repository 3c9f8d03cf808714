/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "instance.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#include "log.h"
#include "macro.h"
#include "mounts.h"
#include "util.h"

bool instance_name_valid(const char *name) {
        size_t len = strlen(name);

        if (len == 0 || len > INSTANCE_NAME_MAX || name[0] == '.' || name[0] == '-' || name[0] == '_')
                return false;
        return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

/* The serial when it makes a name, else the address ("lun-2",
 * "lun-0-0-0-2": a ':' would split the overlay's lowerdir). */
int instance_default_name(const struct options *o, char *buf, size_t n) {
        char lun[64];

        if (o->have_serial && instance_name_valid(o->serial))
                return xsnprintf(buf, n, "%s", o->serial);
        if (!o->have_lun)
                return -ENOENT;
        hctl_format(&o->lun, lun, sizeof(lun));
        for (char *p = lun; *p; p++)
                if (*p == ':')
                        *p = '-';
        return xsnprintf(buf, n, "lun-%s", lun);
}

/* A mount point: on another filesystem than its parent, or the same one
 * bound there (a bind of the parent's own filesystem is not told apart). */
static bool is_mount_point(const char *path) {
        char parent[PATH_MAX];
        struct stat a, b;

        if (xsnprintf(parent, sizeof(parent), "%s/..", path) < 0 || stat(path, &a) < 0 || stat(parent, &b) < 0)
                return false;
        return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}

/* The instance's directory, made when missing, and its lock: held by
 * scratchroot run for as long as the instance runs. */
static int instance_lock(const char *name, char *base, size_t n, int *ret_fd) {
        char path[PATH_MAX];
        _cleanup_close_ int fd = -1;
        int r;

        r = instance_dir(name, base, n);
        if (r < 0)
                return log_error_errno(r, "instance name %s is too long", name);
        r = mkdir_p(base, 0755);
        if (r < 0)
                return log_error_errno(r, "cannot create %s: %m", base);
        r = scratch_path(base, "lock", path, sizeof(path));
        if (r < 0)
                return log_error_errno(r, "cannot make the path of %s/lock: %m", base);
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return log_error_errno(errno, "cannot open %s: %m", path);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno == EWOULDBLOCK)
                        return log_error_errno(EBUSY, "instance %s is running", name);
                return log_error_errno(errno, "cannot lock %s: %m", path);
        }
        r = scratch_path(base, "target", path, sizeof(path));
        if (r == 0 && access(path, F_OK) == 0)
                return log_error_errno(EBUSY, "instance %s is mounted (scratchroot umount its target first)", name);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* The caller's /proc, /sys, /dev and /run, as a chroot-style instance
 * expects them, with what is mounted below them. */
static int bind_api_dirs(const char *root) {
        static const char *const dirs[] = { "/proc", "/sys", "/dev", "/run" };
        char path[PATH_MAX];
        struct stat st;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                if (stat(dirs[i], &st) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                r = xsnprintf(path, sizeof(path), "%s%s", root, dirs[i]);
                if (r < 0)
                        return r;
                r = mkdir_p(path, 0755);
                if (r < 0)
                        return log_error_errno(r, "cannot create %s: %m", path);
                if (mount(dirs[i], path, "none", MS_BIND | MS_REC, NULL) < 0)
                        return log_error_errno(errno, "cannot bind %s to %s: %m", dirs[i], path);
        }
        return 0;
}

/* pivot_root(".", ".") stacks the old root under the new one, and the
 * detach takes it away: nothing of the caller's tree stays reachable. The
 * initramfs cannot be pivoted away from (EINVAL): the new root is moved
 * over it instead, as switch_root does. */
static int enter_root(const char *root) {
        if (chdir(root) < 0)
                return log_error_errno(errno, "cannot enter %s: %m", root);
        if (syscall(SYS_pivot_root, ".", ".") == 0) {
                if (umount2(".", MNT_DETACH) < 0)
                        return log_error_errno(errno, "cannot detach the old root: %m");
        } else if (errno != EINVAL || mount(".", "/", "none", MS_MOVE, NULL) < 0 || chroot(".") < 0)
                return log_error_errno(errno, "cannot make %s the root: %m", root);
        if (chdir("/") < 0)
                return log_error_errno(errno, "cannot enter the new root: %m");
        return 0;
}

static volatile sig_atomic_t child_pid;

static void forward_signal(int sig) {
        if (child_pid > 0)
                (void) kill(child_pid, sig);
}

static int run_command(char **argv) {
        struct sigaction sa = { .sa_handler = forward_signal };
        int status;
        pid_t pid, parent = getpid();

        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "cannot fork: %m");
        if (pid == 0) {
                /* Should scratchroot be killed, its namespace must not live
                 * on in COMMAND: it is what holds the disk. */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(127);
                execvp(argv[0], argv);
                fprintf(stderr, "%s: cannot run %s: %s\n", program_invocation_short_name, argv[0], strerror(errno));
                _exit(errno == ENOENT ? 127 : 126);
        }
        child_pid = pid;
        (void) sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGHUP, &sa, NULL);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return log_error_errno(errno, "cannot wait for %s: %m", argv[0]);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
}

int instance_run(const struct instance_args *args, const struct options *o, char **argv) {
        struct instance_args a = *args;
        _cleanup_close_ int lock = -1;
        char base[PATH_MAX], root[PATH_MAX];
        enum backing backing;
        int r;

        r = instance_lock(a.name, base, sizeof(base), &lock);
        if (r < 0)
                return 1;
        if (unshare(CLONE_NEWNS) < 0)
                return log_error_errno(errno, "cannot make a mount namespace: %m"), 1;
        /* Nothing of the instance may reach the caller's namespace. */
        if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
                return log_error_errno(errno, "cannot make the mounts of the new namespace private: %m"), 1;
        r = scratch_path(base, "root", root, sizeof(root));
        if (r == 0)
                r = mkdir_p(root, 0755);
        if (r < 0)
                return log_error_errno(r, "cannot create %s/root: %m", base), 1;
        a.target = root;
        if (setup_instance(&a, o, &backing) != 0)
                return 1;
        if (backing == BACKING_NONE) {
                /* fallback=none: COMMAND runs on the lower directory as it is. */
                if (chroot(a.lower) < 0 || chdir("/") < 0)
                        return log_error_errno(errno, "cannot enter %s: %m", a.lower), 1;
        } else if (bind_api_dirs(root) < 0 || enter_root(root) < 0)
                return 1;
        return run_command(argv);
}

static int target_file(const char *base, char *buf, size_t n) {
        return scratch_path(base, "target", buf, n);
}

int instance_mount(const struct instance_args *args, const struct options *o) {
        struct instance_args a = *args;
        _cleanup_close_ int lock = -1;
        char base[PATH_MAX], target[PATH_MAX], lower[PATH_MAX], file[PATH_MAX], line[PATH_MAX + 2];
        enum backing backing;
        struct stat st;
        int r;

        if (!realpath(a.target, target) || stat(target, &st) < 0)
                return log_error_errno(errno, "cannot resolve %s: %m", a.target), 1;
        if (!S_ISDIR(st.st_mode))
                return log_error_errno(ENOTDIR, "%s: %m", a.target), 1;
        if (!realpath(a.lower, lower))
                return log_error_errno(errno, "cannot resolve %s: %m", a.lower), 1;
        if (strcmp(target, lower) == 0)
                return log_error("the target %s is the lower directory", target), 1;
        r = instance_lock(a.name, base, sizeof(base), &lock);
        if (r < 0)
                return 1;
        a.target = target;
        a.lower = lower;
        if (setup_instance(&a, o, &backing) != 0 || backing == BACKING_NONE) {
                /* The node of a refused disk may have had a tmpfs made for it. */
                (void) umount_overlay_at(base, target);
                return log_error("nothing mounted on %s", target), 1;
        }
        r = target_file(base, file, sizeof(file));
        if (r == 0)
                r = xsnprintf(line, sizeof(line), "%s\n", target);
        if (r == 0)
                r = write_file_atomic(file, line, 0644);
        if (r < 0) {
                log_error_errno(r, "cannot record the target in %s: %m, unmounting", file);
                (void) umount_overlay_at(base, target);
                return 1;
        }
        return 0;
}

/* The instance mounted at target: its directory into base. */
static int find_instance(const char *target, char *base, size_t n) {
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        d = opendir(INSTANCES_DIR);
        if (!d)
                return errno == ENOENT ? -ENOENT : -errno;
        while ((de = readdir(d))) {
                char file[PATH_MAX], line[PATH_MAX];

                if (!instance_name_valid(de->d_name) || instance_dir(de->d_name, base, n) < 0 ||
                    target_file(base, file, sizeof(file)) < 0 || read_line(file, line, sizeof(line)) < 0)
                        continue;
                if (strcmp(line, target) == 0)
                        return 0;
        }
        return -ENOENT;
}

int instance_umount(const char *path) {
        char target[PATH_MAX], base[PATH_MAX], file[PATH_MAX];
        int r;

        if (!realpath(path, target))
                return log_error_errno(errno, "cannot resolve %s: %m", path), 1;
        r = find_instance(target, base, sizeof(base));
        if (r == -ENOENT)
                return log_error("no instance is mounted on %s", target), 1;
        if (r < 0)
                return log_error_errno(r, "cannot read %s: %m", INSTANCES_DIR), 1;
        r = umount_overlay_at(base, target);
        if (r == -EBUSY)
                return log_error_errno(r, "cannot unmount %s: %m (a process uses it)", target), 1;
        if (r < 0)
                return log_error_errno(r, "cannot unmount the overlay on %s: %m", target), 1;
        if (target_file(base, file, sizeof(file)) == 0)
                (void) unlink(file);
        return 0;
}

int instance_status(const char *name, char *state, size_t n_state, char *scratch, size_t n_scratch) {
        char base[PATH_MAX];
        int r;

        r = instance_dir(name, base, sizeof(base));
        if (r == 0)
                r = scratch_path(base, "state", state, n_state);
        if (r == 0)
                r = scratch_path(base, "scratch", scratch, n_scratch);
        if (r < 0)
                return r;
        /* A running instance's scratch is mounted in its own namespace only:
         * what is seen here would be /run's. */
        if (!is_mount_point(scratch))
                scratch[0] = '\0';
        return 0;
}
