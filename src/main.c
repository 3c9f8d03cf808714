/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "init.h"
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
               "  status [--json]    tell what setup did at this boot\n"
               "  init               be the initrd's init (only as process 1)\n"
               "\n"
               "Options of setup:\n"
               "      --newroot DIR  where the real root is mounted (default /sysroot)\n"
               "      --cmdline STR  take options from STR instead of /proc/cmdline\n"
               "      --sysfs DIR    where sysfs is mounted (default /sys)\n"
               "      --mke2fs PATH  the mke2fs to run (default %s)\n"
               "      --config PATH  the image's defaults (default /etc/scratchroot.conf)\n"
               "\n"
               "See scratchroot(8).\n",
               program_invocation_short_name, MKE2FS_PATH);
}

static int usage_error(const char *what) {
        fprintf(stderr, "%s: %s\nTry '%s --help' for more information.\n", program_invocation_short_name, what,
                program_invocation_short_name);
        return 2;
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
        if (optind < argc)
                return usage_error("status takes no arguments");

        r = print_status(stdout, STATE_FILE, SCRATCH_DIR, json);
        if (r < 0) {
                fprintf(stderr, "%s: cannot read %s: %s\n", program_invocation_short_name, STATE_FILE,
                        strerror(-r));
                return 1;
        }
        return 0;
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
                        if (optarg[0] != '/')
                                return usage_error("--mke2fs takes an absolute path");
                        a.mke2fs = optarg;
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
        if (strcmp(argv[optind], "init") == 0)
                return usage_error("init runs only as process 1, in an initramfs");
        return usage_error("unknown command");
}
