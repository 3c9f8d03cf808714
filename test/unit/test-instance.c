/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The instance commands' parsing: the disk options as flags of run and
 * mount, instance names and the name an instance gets without --name. */
#include <errno.h>
#include <string.h>

#include "instance.h"
#include "options.h"
#include "tap.h"

static void test_flag_names(void) {
        check(option_flag(OPT_ENABLE) == NULL, "flags: rd.scratch itself has no flag");
        check_str(option_flag(OPT_LUN), "--lun", "flags: lun");
        check_str(option_flag(OPT_TMPFS_SIZE), "--tmpfs-size", "flags: tmpfs size");
        check(option_flag(_OPT_MAX) == NULL, "flags: none past the last option");
        /* The disk options of the boot, each a flag. */
        static const unsigned disk[] = { OPT_LUN, OPT_SERIAL, OPT_TIMEOUT, OPT_FALLBACK, OPT_TMPFS_SIZE, OPT_FORCE,
                                         OPT_DISCARD };
        for (size_t i = 0; i < sizeof(disk) / sizeof(disk[0]); i++)
                check(option_flag(disk[i]) && strncmp(option_flag(disk[i]), "--", 2) == 0, "flags: %s has one",
                      option_name(disk[i]));
}

static void test_set_flags(void) {
        struct options o;

        options_init(&o);
        check_int(options_set_flag(&o, OPT_LUN, "0:0:0:3"), 0, "set: --lun 0:0:0:3");
        check(o.have_lun && o.lun.lun == 3 && !o.lun.lun_only, "set: the full address");
        check_int(options_set_flag(&o, OPT_LUN, "2"), 0, "set: --lun 2, the last wins");
        check(o.have_lun && o.lun.lun == 2 && o.lun.lun_only, "set: a bare LUN");
        check_int(options_set_flag(&o, OPT_TIMEOUT, "1.5"), 0, "set: --timeout 1.5");
        check_int(o.timeout_ms, 1500, "set: 1500 ms");
        check_int(options_set_flag(&o, OPT_FALLBACK, "fail"), 0, "set: --fallback fail");
        check_int(o.fallback, FALLBACK_FAIL, "set: fail");
        check_int(options_set_flag(&o, OPT_FORCE, NULL), 0, "set: a bare --force");
        check(o.force, "set: force");
        check_int(options_set_flag(&o, OPT_DISCARD, NULL), 0, "set: a bare --discard");
        check(o.discard, "set: discard");
        check_int(options_set_flag(&o, OPT_SERIAL, "sr-web1"), 0, "set: --serial");
        check_str(o.serial, "sr-web1", "set: the serial");
        check(o.active && !o.invalid && o.n_problems == 0, "set: active, valid, no problems");
        check_int(options_disk_source(&o), SOURCE_CMDLINE, "set: the disk comes from the command line");
}

static void test_bad_flags(void) {
        struct options o;

        options_init(&o);
        check_int(options_set_flag(&o, OPT_LUN, "abc"), -EINVAL, "bad: --lun abc");
        check(o.invalid, "bad: the options are invalid");
        check_str(o.problems[o.first_invalid], "--lun='abc': malformed value", "bad: named by its flag");
        options_init(&o);
        check_int(options_set_flag(&o, OPT_TIMEOUT, "601"), -EINVAL, "bad: --timeout 601");
        check_str(o.problems[o.first_invalid], "--timeout='601': value out of range", "bad: out of range");
        options_init(&o);
        check_int(options_set_flag(&o, OPT_SERIAL, "a b"), -EINVAL, "bad: a blank in --serial");
        options_init(&o);
        check_int(options_set_flag(&o, OPT_ENABLE, "1"), -EINVAL, "bad: rd.scratch is no flag");
        check(!o.active, "bad: nothing set by it");
        options_init(&o);
        check_int(options_set_flag(&o, OPT_TMPFS_SIZE, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                                       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                                                       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
                  -EINVAL, "bad: a value longer than 256 bytes");
        check_has(o.problems[o.first_invalid], "--tmpfs-size: value longer than 256 bytes", "bad: said so");
}

static void test_names(void) {
        char name[INSTANCE_NAME_MAX + 1];
        struct options o;

        check(instance_name_valid("web1"), "name: web1");
        check(instance_name_valid("a.b_c-d"), "name: dots, underscores, dashes");
        check(!instance_name_valid(""), "name: empty");
        check(!instance_name_valid(".hidden"), "name: a leading dot");
        check(!instance_name_valid("-x"), "name: a leading dash");
        check(!instance_name_valid("a/b"), "name: a slash");
        check(!instance_name_valid("a:b"), "name: a colon (it would split the overlay's lowerdir)");
        check(!instance_name_valid("a,b"), "name: a comma (it would split the overlay's options)");
        check(instance_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), "name: 64 characters");
        check(!instance_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), "name: 65 characters");

        options_init(&o);
        check_int(instance_default_name(&o, name, sizeof(name)), -ENOENT, "default: neither serial nor LUN");
        (void) options_set_flag(&o, OPT_LUN, "0:1:2:3");
        check_int(instance_default_name(&o, name, sizeof(name)), 0, "default: from the address");
        check_str(name, "lun-0-1-2-3", "default: no colons");
        (void) options_set_flag(&o, OPT_LUN, "7");
        (void) instance_default_name(&o, name, sizeof(name));
        check_str(name, "lun-7", "default: a bare LUN");
        (void) options_set_flag(&o, OPT_SERIAL, "sr-web1");
        (void) instance_default_name(&o, name, sizeof(name));
        check_str(name, "sr-web1", "default: the serial first");
        (void) options_set_flag(&o, OPT_SERIAL, "disk:1");
        (void) instance_default_name(&o, name, sizeof(name));
        check_str(name, "lun-7", "default: a serial that is no name gives way to the LUN");
}

int main(void) {
        test_flag_names();
        test_set_flags();
        test_bad_flags();
        test_names();
        return tap_done();
}
