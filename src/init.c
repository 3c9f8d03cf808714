/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bootopts.h"
#include "config.h"
#include "kmodlist.h"
#include "log.h"
#include "macro.h"
#include "rootdev.h"
#include "setup.h"
#include "switchroot.h"
#include "util.h"

/* Nodes made for the root when /dev has none yet: in the initramfs, so they
 * go away with it. */
#define INIT_NODE_DIR "/.rootdev"
#define RESCUE_SHELL "/bin/sh"

static const char *const default_inits[] = { "/sbin/init", "/etc/init", "/bin/init", "/bin/sh" };

static int mount_api(void) {
        static const struct {
                const char *what, *where, *type;
                unsigned long flags;
                const char *data;
        } api[] = {
                { "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
                { "sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
                { "devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
                /* Not nodev: the setup may make a node of the scratch disk in
                 * /run/scratchroot. */
                { "tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_STRICTATIME, "mode=0755" },
        };

        struct stat root;

        if (stat("/", &root) < 0)
                return log_error_errno(errno, "cannot stat /: %m");
        for (size_t i = 0; i < ELEMENTSOF(api); i++) {
                struct stat st;

                if (mkdir(api[i].where, 0755) < 0 && errno != EEXIST)
                        return log_error_errno(errno, "cannot create %s: %m", api[i].where);
                /* An init that ran before this one (rdinit=) may have
                 * mounted it: kept, since mounting sysfs or devtmpfs again
                 * on the same place fails with EBUSY, and proc or tmpfs
                 * would stack a second mount on the first. */
                if (stat(api[i].where, &st) == 0 && st.st_dev != root.st_dev) {
                        log_info("%s is already mounted, keeping it", api[i].where);
                        continue;
                }
                if (mount(api[i].what, api[i].where, api[i].type, api[i].flags, api[i].data) < 0)
                        return log_error_errno(errno, "cannot mount %s on %s: %m", api[i].type, api[i].where);
        }
        return 0;
}

/* The kernel opens /dev/console as init's stdio when the initramfs has that
 * node; without it there is none, and nothing would be seen. */
static void open_console(void) {
        int fd;

        if (fcntl(STDIN_FILENO, F_GETFD) >= 0 && fcntl(STDOUT_FILENO, F_GETFD) >= 0 &&
            fcntl(STDERR_FILENO, F_GETFD) >= 0)
                return;
        fd = open("/dev/console", O_RDWR | O_NOCTTY);
        if (fd < 0)
                return;
        for (int i = 0; i < 3; i++)
                if (fd != i)
                        (void) dup2(fd, i);
        if (fd > 2)
                (void) close(fd);
}

__attribute__((noreturn)) static void power_off(void) {
        sync();
        (void) reboot(RB_POWER_OFF);
        (void) reboot(RB_HALT_SYSTEM);
        for (;;)
                pause();
}

/* The console's own terminal (/dev/console cannot be a controlling one), so
 * that the shell has job control and ^C. */
static int open_console_tty(void) {
        char active[256], path[300], *last;
        int fd;

        if (read_line("/sys/class/tty/console/active", active, sizeof(active)) == 0 && active[0]) {
                last = strrchr(active, ' ');
                last = last ? last + 1 : active;
                if (xsnprintf(path, sizeof(path), "/dev/%s", last) == 0) {
                        fd = open(path, O_RDWR | O_NOCTTY);
                        if (fd >= 0)
                                return fd;
                }
        }
        return open("/dev/console", O_RDWR | O_NOCTTY);
}

/* Runs the shell on the console and waits for it; -errno when it could not
 * be run at all. */
static int rescue_shell(void) {
        char *const argv[] = { (char *) "sh", NULL };
        char *const envp[] = {
                (char *) "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                (char *) "HOME=/",
                (char *) "TERM=linux",
                (char *) "PS1=(scratchroot) \\w # ",
                NULL,
        };
        int pfd[2], err = 0, r;
        ssize_t k;
        pid_t pid;

        /* The child reports a failed exec through the pipe: an exit status
         * could also be the last command's. */
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                (void) close(pfd[0]);
                (void) close(pfd[1]);
                return r;
        }
        if (pid == 0) {
                int fd;

                (void) close(pfd[0]);
                (void) setsid();
                fd = open_console_tty();
                if (fd >= 0) {
                        (void) ioctl(fd, TIOCSCTTY, 1);
                        for (int i = 0; i < 3; i++)
                                (void) dup2(fd, i);
                        if (fd > 2)
                                (void) close(fd);
                }
                (void) execve(RESCUE_SHELL, argv, envp);
                err = errno;
                (void) !write(pfd[1], &err, sizeof(err));
                _exit(127);
        }
        (void) close(pfd[1]);
        do
                k = read(pfd[0], &err, sizeof(err));
        while (k < 0 && errno == EINTR);
        (void) close(pfd[0]);

        /* As process 1 this also reaps what the shell leaves behind. */
        for (;;) {
                pid_t w = wait(NULL);

                if (w == pid || (w < 0 && errno == ECHILD))
                        break;
        }
        return k == (ssize_t) sizeof(err) ? -err : 0;
}

/* A fatal error was logged. can_retry: nothing is left mounted, and the boot
 * may be tried again once the shell exits. */
static void emergency(const struct boot_options *o, bool can_retry) {
        int r;

        if (!o->shell) {
                log_error("cannot boot, powering off (rd.shell on the kernel command line gives a shell instead)");
                power_off();
        }
        log_error("cannot boot, starting a rescue shell (%s); exiting it %s", RESCUE_SHELL,
                  can_retry ? "tries the boot again" : "powers off");
        r = rescue_shell();
        if (r < 0) {
                log_error_errno(r, "cannot run %s: %m, powering off", RESCUE_SHELL);
                power_off();
        }
        if (!can_retry)
                power_off();
        log_info("trying the boot again");
}

static int open_in_root(int rootfd, const char *path) {
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };

        return (int) syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* The first executable file among the candidates, with symlinks resolved
 * inside newroot as they will be once it is the root. */
static int find_init(const char *newroot, const char *wanted, const char **ret) {
        const char *const *list = wanted[0] ? &wanted : default_inits;
        size_t n = wanted[0] ? 1 : ELEMENTSOF(default_inits);
        _cleanup_close_ int rootfd = -1;

        rootfd = open(newroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return -errno;
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int fd = open_in_root(rootfd, list[i]);
                struct stat st;

                /* ENOSYS: a kernel before 5.6, exec will tell. */
                if ((fd < 0 && errno == ENOSYS) ||
                    (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))) {
                        *ret = list[i];
                        return 0;
                }
        }
        return -ENOENT;
}

/* On success ret_type (of size BOOTOPTS_MAX_VALUE + 1) is the type it was
 * mounted as. */
static int mount_root(const struct boot_options *o, const struct rootdev *d, char *ret_type) {
        unsigned long flags = o->rw ? 0 : MS_RDONLY;
        const char *data = o->rootflags[0] ? o->rootflags : NULL;
        char types[BOOTOPTS_MAX_VALUE + 1], *save = NULL;
        int r = -EINVAL;

        (void) snprintf(types, sizeof(types), "%s", o->rootfstype[0] ? o->rootfstype : d->fstype);
        if (mkdir(INIT_NEWROOT, 0755) < 0 && errno != EEXIST)
                return -errno;
        /* rootfstype= may list several types, as the kernel's does. */
        for (char *t = strtok_r(types, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (mount(d->node, INIT_NEWROOT, t, flags, data) == 0) {
                        strcpy(ret_type, t);
                        return 0;
                }
                r = -errno;
                if ((r == -EACCES || r == -EROFS) && !(flags & MS_RDONLY) &&
                    mount(d->node, INIT_NEWROOT, t, flags | MS_RDONLY, data) == 0) {
                        log_warning("%s is read-only, mounted it read-only in spite of rw", d->name);
                        strcpy(ret_type, t);
                        return 0;
                }
        }
        return r;
}

static void umount_root(void) {
        if (umount2(INIT_NEWROOT, 0) < 0)
                (void) umount2(INIT_NEWROOT, MNT_DETACH);
}

/* Everything up to the switch; on failure it has logged why and left
 * nothing mounted at INIT_NEWROOT. */
static int prepare_root(const struct boot_options *o, const char *cmdline, const char **ret_init) {
        const struct rootdev_dirs dirs = { .sysfs = "/sys", .devdir = "/dev", .nodedir = INIT_NODE_DIR };
        struct setup_args a = { .newroot = INIT_NEWROOT, .sysfs = "/sys", .cmdline = cmdline, .mke2fs = MKE2FS_PATH };
        char what[ROOTDEV_MAX_VALUE + 32], amb[256], type[BOOTOPTS_MAX_VALUE + 1];
        struct root_spec spec;
        struct rootdev dev;
        int r;

        if (!o->have_root)
                return log_error_errno(EINVAL, "no root= on the kernel command line, nothing to boot");
        r = root_spec_parse(o->root, &spec);
        if (r == -EOPNOTSUPP)
                return log_error_errno(r, "root=%s: not a form this initrd can look up (it has no udev), "
                                          "give LABEL=, UUID=, PARTUUID= or /dev/NAME", o->root);
        if (r < 0)
                return log_error_errno(r, "root='%s': malformed value, give LABEL=, UUID=, PARTUUID= or /dev/NAME",
                                       o->root);
        root_spec_format(&spec, what, sizeof(what));

        r = rootdev_find(&dirs, &spec, &dev, amb, sizeof(amb));
        if (r == -ENOENT) {
                log_info("waiting up to %u.%03u s for root=%s", o->root_wait_ms / 1000, o->root_wait_ms % 1000,
                         what);
                r = rootdev_wait(&dirs, &spec, o->root_wait_ms, &dev, amb, sizeof(amb));
        }
        if (r == -ENOENT)
                return log_error_errno(r, "root=%s not found after %u.%03u s (rootdelay= sets the wait)", what,
                                       o->root_wait_ms / 1000, o->root_wait_ms % 1000);
        if (r == -ENOTUNIQ)
                return log_error_errno(r, "root=%s is ambiguous, it matches %s", what, amb);
        if (r < 0)
                return log_error_errno(r, "cannot look up root=%s: %m", what);

        if (!o->rootfstype[0] && !dev.fstype[0])
                return log_error_errno(EMEDIUMTYPE, "root=%s is %s, which holds no filesystem known to libblkid "
                                                    "(rootfstype= names one)", what, dev.name);
        r = mount_root(o, &dev, type);
        if (r < 0)
                return log_error_errno(r, "cannot mount root=%s (%s, %u:%u) on %s as %s: %m", what, dev.node,
                                       major(dev.devno), minor(dev.devno), INIT_NEWROOT,
                                       o->rootfstype[0] ? o->rootfstype : dev.fstype);
        log_info("mounted root=%s (%s, %u:%u, %s) on %s", what, dev.node, major(dev.devno), minor(dev.devno), type,
                 INIT_NEWROOT);

        r = find_init(INIT_NEWROOT, o->init, ret_init);
        if (r < 0) {
                umount_root();
                if (o->init[0])
                        return log_error_errno(r, "init=%s is not an executable file in root=%s", o->init, what);
                return log_error_errno(r, "root=%s has none of /sbin/init, /etc/init, /bin/init, /bin/sh", what);
        }

        /* It has logged why already. */
        if (run_setup(&a) != 0) {
                umount_root();
                return -ECANCELED;
        }
        return 0;
}

/* In a child of the lowest priority, as util-linux's switch_root does, so
 * that the root's init starts at once; that init inherits the child. */
static void free_initramfs(int oldroot) {
        struct sched_param sp = {};
        pid_t pid;
        int r;

        pid = fork();
        if (pid > 0) {
                (void) close(oldroot);
                return;
        }
        if (pid == 0)
                (void) sched_setscheduler(0, SCHED_IDLE, &sp);
        r = switch_root_free_old(oldroot);
        if (r == -EXDEV)
                log_warning("the old root is not an initramfs, its files are left as they are");
        else if (r < 0)
                log_warning_errno(r, "cannot free the initramfs: %m");
        if (pid == 0)
                _exit(r < 0 ? 1 : 0);
}

__attribute__((noreturn)) static void exec_init(const char *init, bool fallbacks, char **args) {
        size_t nargs = 0, first = 0;
        char **argv;

        while (args[nargs])
                nargs++;
        argv = calloc(nargs + 2, sizeof(char *));
        if (!argv) {
                log_error("out of memory, powering off");
                power_off();
        }
        memcpy(argv + 1, args, nargs * sizeof(char *));

        for (size_t i = 0; i < ELEMENTSOF(default_inits); i++)
                if (strcmp(default_inits[i], init) == 0)
                        first = i;
        argv[0] = (char *) init;
        (void) execv(init, argv);
        log_error_errno(errno, "cannot run %s: %m", init);
        for (size_t i = first + 1; fallbacks && i < ELEMENTSOF(default_inits); i++) {
                argv[0] = (char *) default_inits[i];
                log_info("switching to %s", default_inits[i]);
                (void) execv(default_inits[i], argv);
                log_error_errno(errno, "cannot run %s: %m", default_inits[i]);
        }
        log_error("no init could run, powering off");
        power_off();
}

void run_init(char **args) {
        struct boot_options o;
        struct utsname u;
        const char *init = NULL;
        char *cmdline = NULL;
        pid_t prep = 0;
        int oldroot, r;

        boot_options_init(&o);
        open_console();
        if (mount_api() < 0) {
                log_error("cannot set up the initramfs, powering off");
                power_off();
        }
        open_console();
        log_open(1);
        log_info("starting as init (version %s)", PROJECT_VERSION);

        r = cmdline_read("/proc/cmdline", &cmdline);
        if (r < 0) {
                log_error_errno(r, "cannot read /proc/cmdline: %m, powering off");
                power_off();
        }
        boot_options_parse(&o, cmdline);
        for (unsigned i = 0; i < o.n_problems; i++)
                log_warning("%s", o.problems[i]);

        if (uname(&u) < 0)
                log_error_errno(errno, "cannot tell the kernel's release: %m, loading no modules");
        else {
                r = kmod_load_list(KMODLIST_PATH, "/sys", u.release, cmdline);
                if (r == -ENOENT)
                        log_info("no %s, loading no modules", KMODLIST_PATH);
                else if (r < 0)
                        log_warning_errno(r, "cannot read %s: %m, loading no modules", KMODLIST_PATH);
        }

        /* The scratch disk is found, proven and formatted while the root
         * is looked for and mounted; setup then waits for it. */
        (void) run_prepare(&(const struct setup_args) { .sysfs = "/sys", .cmdline = cmdline, .mke2fs = MKE2FS_PATH },
                           true, &prep);
        while (prepare_root(&o, cmdline, &init) < 0)
                emergency(&o, true);
        if (prep > 0)
                (void) waitpid(prep, NULL, 0);

        log_info("switching to %s", init);
        r = switch_root(INIT_NEWROOT, &oldroot);
        if (r < 0) {
                log_error_errno(r, "cannot switch to the root at %s: %m", INIT_NEWROOT);
                emergency(&o, false);
                power_off();
        }
        free_initramfs(oldroot);

        free(cmdline);
        exec_init(init, !o.init[0], args);
}
