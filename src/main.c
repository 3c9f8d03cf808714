/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "init.h"
#include "instance.h"
#include "log.h"
#include "mounts.h"
#include "options.h"
#include "setup.h"
#include "status.h"

static void help(void) {
        printf("Usage: %s [--help] [--version] COMMAND [OPTIONS]\n"
               "\n"
               "Put the root filesystem's overlay on a scratch disk found by SCSI LUN.\n"
               "\n"
               "Commands:\n"
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
               "\n"
               "Disk options of run and mount (as rd.scratch.* at boot):\n"
               "      --lun N|H:C:T:L      the disk's SCSI address\n"
               "      --serial SERIAL      the disk's serial number\n"
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

/* --mke2fs, of setup, run and mount: the program is run by absolute path. */
static bool take_mke2fs(const char **ret) {
        if (optarg[0] != '/')
                return false;
        *ret = optarg;
        return true;
}

/* Not in --help: the option names, one a line, for the tests that check
 * the shell side against them. */
static int list_options(void) {
        for (unsigned i = 0; option_name(i); i++)
                puts(option_name(i));
        return 0;
}

static int cmd_status(int argc, char **argv) {
        static const struct option longopts[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, 'j' },
                {},
        };
        char state[PATH_MAX] = STATE_FILE, scratch[PATH_MAX] = SCRATCH_DIR;
        bool json = false;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+hj", longopts, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'j':
                        json = true;
                        break;
                default:
                        return usage_error("bad option to status");
                }
        if (optind + 1 < argc)
                return usage_error("status takes at most one instance name");
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

        r = print_status(stdout, state, scratch, json);
        if (r < 0) {
                fprintf(stderr, "%s: cannot read %s: %s\n", program_invocation_short_name, state, strerror(-r));
                return 1;
        }
        return 0;
}

/* run and mount: the disk options, --name, --lower (run), --sysfs, --mke2fs. */
static int cmd_instance(int argc, char **argv, bool run) {
        enum { OPT_NAME = 0x100, OPT_LOWER, OPT_SYSFS, OPT_MKE2FS, OPT_FLAG };
        static const struct option longopts[] = {
                { "help", no_argument, NULL, 'h' },
                { "name", required_argument, NULL, OPT_NAME },
                { "lower", required_argument, NULL, OPT_LOWER },
                { "sysfs", required_argument, NULL, OPT_SYSFS },
                { "mke2fs", required_argument, NULL, OPT_MKE2FS },
                { "lun", required_argument, NULL, OPT_FLAG + OPT_LUN },
                { "serial", required_argument, NULL, OPT_FLAG + OPT_SERIAL },
                { "timeout", required_argument, NULL, OPT_FLAG + OPT_TIMEOUT },
                { "fallback", required_argument, NULL, OPT_FLAG + OPT_FALLBACK },
                { "tmpfs-size", required_argument, NULL, OPT_FLAG + OPT_TMPFS_SIZE },
                { "discard", no_argument, NULL, OPT_FLAG + OPT_DISCARD },
                { "force", no_argument, NULL, OPT_FLAG + OPT_FORCE },
                {},
        };
        struct instance_args a = {
                .lower = "/",
                .sysfs = "/sys",
                .mke2fs = MKE2FS_PATH,
        };
        struct options o;
        char name[INSTANCE_NAME_MAX + 1];
        int c, r;

        options_init(&o);
        o.active = true;
        optind = 0;
        while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case OPT_NAME:
                        if (!instance_name_valid(optarg))
                                return usage_error("--name takes letters, digits, '.', '_' and '-', at most 64, "
                                                   "not starting with '.', '_' or '-'");
                        a.name = optarg;
                        break;
                case OPT_LOWER:
                        if (!run)
                                return usage_error("mount takes LOWER as an argument, not --lower");
                        a.lower = optarg;
                        break;
                case OPT_SYSFS:
                        a.sysfs = optarg;
                        break;
                case OPT_MKE2FS:
                        if (!take_mke2fs(&a.mke2fs))
                                return usage_error("--mke2fs takes an absolute path");
                        break;
                default:
                        if (c < OPT_FLAG || c >= OPT_FLAG + _OPT_MAX)
                                return usage_error(run ? "bad option to run" : "bad option to mount");
                        if (options_set_flag(&o, c - OPT_FLAG, optarg) < 0)
                                return usage_error(o.problems[o.first_invalid]);
                }
        if (run) {
                if (optind >= argc)
                        return usage_error("run needs a COMMAND (after --)");
        } else {
                if (argc - optind != 2)
                        return usage_error("mount takes LOWER and TARGET");
                a.lower = argv[optind];
                a.target = argv[optind + 1];
        }
        if (!a.name) {
                r = instance_default_name(&o, name, sizeof(name));
                if (r < 0)
                        return usage_error("give the instance a --name (it has neither --serial nor --lun)");
                a.name = name;
        }

        log_open(0);
        r = run ? instance_run(&a, &o, argv + optind) : instance_mount(&a, &o);
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
        enum { OPT_NEWROOT = 0x100, OPT_CMDLINE, OPT_SYSFS, OPT_MKE2FS, OPT_CONFIG };
        static const struct option longopts[] = {
                { "help", no_argument, NULL, 'h' },
                { "newroot", required_argument, NULL, OPT_NEWROOT },
                { "cmdline", required_argument, NULL, OPT_CMDLINE },
                { "sysfs", required_argument, NULL, OPT_SYSFS },
                { "mke2fs", required_argument, NULL, OPT_MKE2FS },
                { "config", required_argument, NULL, OPT_CONFIG },
                {},
        };
        struct setup_args a = {
                .newroot = "/sysroot",
                .sysfs = "/sys",
                .mke2fs = MKE2FS_PATH,
        };
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case OPT_NEWROOT:
                        a.newroot = optarg;
                        break;
                case OPT_CMDLINE:
                        a.cmdline = optarg;
                        break;
                case OPT_SYSFS:
                        a.sysfs = optarg;
                        break;
                case OPT_CONFIG:
                        a.config = optarg;
                        break;
                case OPT_MKE2FS:
                        if (!take_mke2fs(&a.mke2fs))
                                return usage_error("--mke2fs takes an absolute path");
                        break;
                default:
                        return usage_error("bad option to setup");
                }
        if (optind < argc)
                return usage_error("setup takes no arguments");
        if (a.newroot[0] != '/')
                return usage_error("--newroot takes an absolute path");

        log_open(1);
        r = run_setup(&a);
        log_close();
        return r;
}

int main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { "list-options", no_argument, NULL, 'L' },
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
                default:
                        return usage_error("bad option");
                }

        if (optind >= argc)
                return usage_error("no command given");
        if (strcmp(argv[optind], "setup") == 0)
                return cmd_setup(argc - optind, argv + optind);
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
