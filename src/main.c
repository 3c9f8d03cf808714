/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "azure.h"
#include "config.h"
#include "crypt.h"
#include "init.h"
#include "instance.h"
#include "log.h"
#include "macro.h"
#include "mounts.h"
#include "options.h"
#include "setup.h"
#include "status.h"
#include "stripe.h"

static void help(void) {
        printf("Usage: %s [--help] [--version] COMMAND [OPTIONS]\n"
               "\n"
               "Put the root filesystem's overlay on a scratch disk found by SCSI LUN.\n"
               "\n"
               "Commands:\n"
               "  prepare [--foreground]\n"
               "                     before the root is mounted: find, prove, format and mount\n"
               "                     the scratch disk in the background, for setup to use\n"
               "  setup              set up the overlay over the root mounted at --newroot\n"
               "  status [--json] [NAME]\n"
               "                     tell what setup did at this boot, or for instance NAME\n"
               "  run [DISK OPTIONS] [--lower DIR] [--name NAME] -- COMMAND [ARG...]\n"
               "                     run COMMAND in a new mount namespace on an overlay of DIR\n"
               "                     (default /) whose upper layer is on the disk\n"
               "  mount [DISK OPTIONS] [--name NAME] LOWER TARGET\n"
               "                     mount that overlay of LOWER on TARGET\n"
               "  umount TARGET      undo mount and free its disk\n"
               "  init               be the initrd's init (only as process 1)\n"
               "\n"
               "Options of setup:\n"
               "      --newroot DIR  where the real root is mounted (default /sysroot)\n"
               "      --cmdline STR  take options from STR instead of /proc/cmdline\n"
               "      --sysfs DIR    where sysfs is mounted (default /sys)\n"
               "      --mke2fs PATH  the mke2fs to run (default %s)\n"
               "      --config PATH  the image's defaults (default /etc/scratchroot.conf)\n"
               "prepare takes the same but --newroot, and:\n"
               "      --foreground   do the work before returning (a service manager's unit)\n"
               "\n"
               "Disk options of run and mount (as rd.scratch.* at boot):\n"
               "      --lun N|H:C:T:L      the disk's SCSI address\n"
               "      --serial SERIAL      the disk's serial number\n"
               "      --model GLOB         the disk whose model matches\n"
               "      --vendor GLOB        the disk whose vendor matches\n"
               "      --cloud auto|azure|aws|gcp\n"
               "                           the platform's ephemeral disk\n"
               "      --timeout SECONDS    how long to wait for the disk (default 0.5)\n"
               "      --fallback tmpfs|none|fail\n"
               "                           without a usable disk (default tmpfs)\n"
               "      --tmpfs-size SIZE    bound of the fallback tmpfs (default 25%%)\n"
               "      --discard            mount the scratch ext4 with discard\n"
               "      --force              format a disk that holds data\n"
               "      --name NAME          the instance's name (default from --serial or --lun)\n"
               "      --sysfs DIR, --mke2fs PATH  as for setup\n"
               "\n"
               "See scratchroot(8).\n",
               program_invocation_short_name, MKE2FS_PATH);
}

static int usage_error(const char *what) {
        fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", program_invocation_short_name, what,
                program_invocation_short_name);
        return 2;
}

/* Not in --help: the files of the libraries loaded when an option needs
 * them, one a line, for the initrd builders to put in (they are not among
 * what ldd shows). One that cannot be loaded is told on stderr and makes
 * the status 1; one the build lacks is not listed. */
static int list_libraries(void) {
        struct dlib *const libs[] = { crypt_library(), stripe_library(), azure_ntfs_library() };
        int ret = 0;

        for (size_t i = 0; i < ELEMENTSOF(libs); i++) {
                const char *why = dlib_unsupported(libs[i]);
                char path[PATH_MAX];
                int r;

                /* A build without it has nothing to list. */
                if (!libs[i]->soname)
                        continue;
                if (why) {
                        fprintf(stderr, "%s: %s\n", program_invocation_short_name, why);
                        ret = 1;
                        continue;
                }
                r = dlib_path(libs[i], path, sizeof(path));
                if (r < 0) {
                        fprintf(stderr, "%s: cannot tell which file %s was loaded from: %s\n",
                                program_invocation_short_name, libs[i]->soname, strerror(-r));
                        ret = 1;
                        continue;
                }
                puts(path);
        }
        return ret;
}

/* Not in --help: the option names, one a line, for the tests that check
 * the shell side against them. */
static int list_options(void) {
        for (unsigned i = 0; option_name(i); i++)
                puts(option_name(i));
        return 0;
}

/* The options of setup, status, run and mount: each command's table names
 * those it takes, one loop takes them all. */
enum {
        ARG_HELP = 'h',
        ARG_JSON = 'j',
        ARG_NEWROOT = 0x100,
        ARG_CMDLINE,
        ARG_CONFIG,
        ARG_SYSFS,
        ARG_MKE2FS,
        ARG_NAME,
        ARG_LOWER,
        ARG_NOT_LOWER, /* --lower given to mount */
        ARG_FOREGROUND,
        ARG_FLAG,      /* + OPT_*: an rd.scratch.* option as a flag of run and mount */
};

/* The options of run and mount: --lower is taken by run only. */
#define INSTANCE_LONGOPTS(lower)                                                        \
        { "help", no_argument, NULL, ARG_HELP },                                        \
        { "name", required_argument, NULL, ARG_NAME },                                  \
        { "lower", required_argument, NULL, lower },                                    \
        { "sysfs", required_argument, NULL, ARG_SYSFS },                                \
        { "mke2fs", required_argument, NULL, ARG_MKE2FS },                              \
        { "lun", required_argument, NULL, ARG_FLAG + OPT_LUN },                         \
        { "serial", required_argument, NULL, ARG_FLAG + OPT_SERIAL },                   \
        { "model", required_argument, NULL, ARG_FLAG + OPT_MODEL },                     \
        { "vendor", required_argument, NULL, ARG_FLAG + OPT_VENDOR },                   \
        { "cloud", required_argument, NULL, ARG_FLAG + OPT_CLOUD },                     \
        { "timeout", required_argument, NULL, ARG_FLAG + OPT_TIMEOUT },                 \
        { "fallback", required_argument, NULL, ARG_FLAG + OPT_FALLBACK },               \
        { "tmpfs-size", required_argument, NULL, ARG_FLAG + OPT_TMPFS_SIZE },           \
        { "discard", no_argument, NULL, ARG_FLAG + OPT_DISCARD },                       \
        { "force", no_argument, NULL, ARG_FLAG + OPT_FORCE }

struct args {
        const char *newroot, *cmdline, *config; /* setup */
        const char *name, *lower;               /* run and mount */
        const char *sysfs, *mke2fs;             /* setup, run and mount */
        bool json;                              /* status */
        bool foreground;                        /* prepare */
        struct options o;                       /* run and mount */
};

static void args_init(struct args *a) {
        *a = (struct args) {
                .newroot = "/sysroot",
                .lower = "/",
                .sysfs = "/sys",
                .mke2fs = MKE2FS_PATH,
        };
        options_init(&a->o);
        a->o.active = true;
}

/* The options that take any string, and where they keep it. */
static const struct {
        int arg;
        size_t offset;
} string_args[] = {
        { ARG_NEWROOT, offsetof(struct args, newroot) },
        { ARG_CMDLINE, offsetof(struct args, cmdline) },
        { ARG_CONFIG, offsetof(struct args, config) },
        { ARG_SYSFS, offsetof(struct args, sysfs) },
        { ARG_LOWER, offsetof(struct args, lower) },
};

static bool take_string(struct args *a, int c) {
        for (size_t i = 0; i < ELEMENTSOF(string_args); i++)
                if (string_args[i].arg == c) {
                        *(const char **) ((char *) a + string_args[i].offset) = optarg;
                        return true;
                }
        return false;
}

/* What a command takes: its options, and how many arguments after them. */
struct command {
        const char *shortopts;
        const struct option *longopts;
        int min_args, max_args;
        const char *args_error; /* told when the count is not within them */
};

/* argv[0] is the command. Returns -1 when the command goes on with a and
 * its arguments from argv[optind], else the exit code. */
static int parse_args(int argc, char **argv, const struct command *cmd, struct args *a) {
        char bad[64];
        int c;

        args_init(a);
        optind = 0;
        while ((c = getopt_long(argc, argv, cmd->shortopts, cmd->longopts, NULL)) >= 0)
                switch (c) {
                case ARG_HELP:
                        help();
                        return 0;
                case ARG_JSON:
                        a->json = true;
                        break;
                case ARG_FOREGROUND:
                        a->foreground = true;
                        break;
                case ARG_MKE2FS:
                        /* The program is run by absolute path. */
                        if (optarg[0] != '/')
                                return usage_error("--mke2fs takes an absolute path");
                        a->mke2fs = optarg;
                        break;
                case ARG_NAME:
                        if (!instance_name_valid(optarg))
                                return usage_error("--name takes letters, digits, '.', '_' and '-', at most 64, "
                                                   "not starting with '.', '_' or '-'");
                        a->name = optarg;
                        break;
                case ARG_NOT_LOWER:
                        return usage_error("mount takes LOWER as an argument, not --lower");
                default:
                        if (take_string(a, c))
                                break;
                        if (c >= ARG_FLAG && c < ARG_FLAG + _OPT_MAX) {
                                if (options_set_flag(&a->o, c - ARG_FLAG, optarg) < 0)
                                        return usage_error(a->o.problems[a->o.first_invalid]);
                                break;
                        }
                        (void) snprintf(bad, sizeof(bad), "bad option to %s", argv[0]);
                        return usage_error(bad);
                }
        if (argc - optind < cmd->min_args || argc - optind > cmd->max_args)
                return usage_error(cmd->args_error);
        return -1;
}

static int cmd_status(int argc, char **argv) {
        static const struct option longopts[] = {
                { "help", no_argument, NULL, ARG_HELP },
                { "json", no_argument, NULL, ARG_JSON },
                {},
        };
        static const struct command cmd = { "+hj", longopts, 0, 1, "status takes at most one instance name" };
        char state[PATH_MAX] = STATE_FILE, scratch[PATH_MAX] = SCRATCH_DIR;
        struct args a;
        int r;

        r = parse_args(argc, argv, &cmd, &a);
        if (r >= 0)
                return r;
        if (optind < argc) {
                if (!instance_name_valid(argv[optind]))
                        return usage_error("bad instance name");
                r = instance_status(argv[optind], state, sizeof(state), scratch, sizeof(scratch));
                if (r < 0)
                        return usage_error("instance name too long");
                if (access(state, F_OK) < 0) {
                        fprintf(stderr, "%s: no instance %s (no %s)\n", program_invocation_short_name, argv[optind],
                                state);
                        return 1;
                }
        }

        r = print_status(stdout, state, scratch, a.json);
        if (r < 0) {
                fprintf(stderr, "%s: cannot read %s: %s\n", program_invocation_short_name, state, strerror(-r));
                return 1;
        }
        return 0;
}

/* run and mount: the disk options, --name, --lower (run), --sysfs, --mke2fs. */
static int cmd_instance(int argc, char **argv, bool run) {
        static const struct option run_longopts[] = {
                INSTANCE_LONGOPTS(ARG_LOWER),
                {},
        };
        static const struct option mount_longopts[] = {
                INSTANCE_LONGOPTS(ARG_NOT_LOWER),
                {},
        };
        static const struct command run_cmd = { "+h", run_longopts, 1, INT_MAX, "run needs a COMMAND (after --)" };
        static const struct command mount_cmd = { "+h", mount_longopts, 2, 2, "mount takes LOWER and TARGET" };
        char name[INSTANCE_NAME_MAX + 1];
        struct instance_args ia;
        struct args a;
        int r;

        r = parse_args(argc, argv, run ? &run_cmd : &mount_cmd, &a);
        if (r >= 0)
                return r;
        ia = (struct instance_args) { .name = a.name, .lower = a.lower, .sysfs = a.sysfs, .mke2fs = a.mke2fs };
        if (!run) {
                ia.lower = argv[optind];
                ia.target = argv[optind + 1];
        }
        if (!ia.name) {
                r = instance_default_name(&a.o, name, sizeof(name));
                if (r < 0)
                        return usage_error("give the instance a --name (it has neither --serial nor --lun)");
                ia.name = name;
        }

        log_open(0);
        r = run ? instance_run(&ia, &a.o, argv + optind) : instance_mount(&ia, &a.o);
        log_close();
        return r;
}

static int cmd_umount(int argc, char **argv) {
        int r;

        if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
                help();
                return 0;
        }
        if (argc != 2)
                return usage_error("umount takes TARGET");
        log_open(0);
        r = instance_umount(argv[1]);
        log_close();
        return r;
}

static int cmd_setup(int argc, char **argv) {
        static const struct option longopts[] = {
                { "help", no_argument, NULL, ARG_HELP },
                { "newroot", required_argument, NULL, ARG_NEWROOT },
                { "cmdline", required_argument, NULL, ARG_CMDLINE },
                { "sysfs", required_argument, NULL, ARG_SYSFS },
                { "mke2fs", required_argument, NULL, ARG_MKE2FS },
                { "config", required_argument, NULL, ARG_CONFIG },
                {},
        };
        static const struct command cmd = { "+h", longopts, 0, 0, "setup takes no arguments" };
        struct args a;
        int r;

        r = parse_args(argc, argv, &cmd, &a);
        if (r >= 0)
                return r;
        if (a.newroot[0] != '/')
                return usage_error("--newroot takes an absolute path");

        log_open(1);
        r = run_setup(&(const struct setup_args) {
                .newroot = a.newroot,
                .sysfs = a.sysfs,
                .cmdline = a.cmdline,
                .mke2fs = a.mke2fs,
                .config = a.config,
        });
        log_close();
        return r;
}

static int cmd_prepare(int argc, char **argv) {
        static const struct option longopts[] = {
                { "help", no_argument, NULL, ARG_HELP },
                { "foreground", no_argument, NULL, ARG_FOREGROUND },
                { "cmdline", required_argument, NULL, ARG_CMDLINE },
                { "sysfs", required_argument, NULL, ARG_SYSFS },
                { "mke2fs", required_argument, NULL, ARG_MKE2FS },
                { "config", required_argument, NULL, ARG_CONFIG },
                {},
        };
        static const struct command cmd = { "+h", longopts, 0, 0, "prepare takes no arguments" };
        struct args a;
        int r;

        r = parse_args(argc, argv, &cmd, &a);
        if (r >= 0)
                return r;

        log_open(1);
        /* Never fails the boot: whatever it could not do, setup does. */
        (void) run_prepare(&(const struct setup_args) {
                .sysfs = a.sysfs,
                .cmdline = a.cmdline,
                .mke2fs = a.mke2fs,
                .config = a.config,
        }, !a.foreground, NULL);
        log_close();
        return 0;
}

int main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { "list-options", no_argument, NULL, 'L' },
                { "list-libraries", no_argument, NULL, 'D' },
                {},
        };
        int c;

        /* As /init the kernel may pass words of its command line: they are
         * for the real init. */
        if (getpid() == 1) {
                char **args = argv + 1;

                if (argc > 1 && strcmp(args[0], "init") == 0)
                        args++;
                run_init(args);
        }

        while ((c = getopt_long(argc, argv, "+hV", longopts, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("scratchroot %s\n", PROJECT_VERSION);
                        return 0;
                case 'L':
                        return list_options();
                case 'D':
                        return list_libraries();
                default:
                        return usage_error("bad option");
                }

        if (optind >= argc)
                return usage_error("no command given");
        if (strcmp(argv[optind], "setup") == 0)
                return cmd_setup(argc - optind, argv + optind);
        if (strcmp(argv[optind], "prepare") == 0)
                return cmd_prepare(argc - optind, argv + optind);
        if (strcmp(argv[optind], "status") == 0)
                return cmd_status(argc - optind, argv + optind);
        if (strcmp(argv[optind], "run") == 0)
                return cmd_instance(argc - optind, argv + optind, true);
        if (strcmp(argv[optind], "mount") == 0)
                return cmd_instance(argc - optind, argv + optind, false);
        if (strcmp(argv[optind], "umount") == 0)
                return cmd_umount(argc - optind, argv + optind);
        if (strcmp(argv[optind], "init") == 0)
                return usage_error("init runs only as process 1, in an initramfs");
        return usage_error("unknown command");
}
