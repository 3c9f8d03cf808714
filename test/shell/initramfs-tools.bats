#!/usr/bin/env bats
# The initramfs-tools hook and boot script, as configured in the build, with
# initramfs-tools' own functions stubbed.
# Each test runs in a subshell of its own: what one sets is meant for it alone.
# shellcheck disable=SC2030,SC2031

setup() {
    IT=${SR_BUILD:?}/hooks/initramfs-tools
    HOOK=$IT/hook-scratchroot
    LOG=$BATS_TEST_TMPDIR/calls
    : >"$LOG"
    mkdir -p "$BATS_TEST_TMPDIR/bin" "$BATS_TEST_TMPDIR/module" "$BATS_TEST_TMPDIR/bus"
    # The boot scripts as configured, reading the test's own /proc/cmdline,
    # /sys/module and config file, and writing init's parameters, rather
    # than the host's.
    for s in local-bottom init-premount; do
        sed -e "s|/proc/cmdline|$BATS_TEST_TMPDIR/cmdline|" \
            -e "s|/sys/module/|$BATS_TEST_TMPDIR/module/|" \
            -e "s|/sys/bus/|$BATS_TEST_TMPDIR/bus/|g" \
            -e "s|/etc/scratchroot.conf|$BATS_TEST_TMPDIR/scratchroot.conf|" \
            -e "s|/conf/param.conf|$BATS_TEST_TMPDIR/param.conf|" \
            "$IT/$s-scratchroot" >"$BATS_TEST_TMPDIR/$s-scratchroot"
        if grep -n '/conf/param\.conf\|/proc/cmdline\|/sys/module/\|/sys/bus/' "$BATS_TEST_TMPDIR/$s-scratchroot"; then
            echo "a host path is left in the copy of $s"
            return 1
        fi
    done
    SCRIPT=$BATS_TEST_TMPDIR/local-bottom-scratchroot
    PREMOUNT=$BATS_TEST_TMPDIR/init-premount-scratchroot
    : >"$BATS_TEST_TMPDIR/cmdline"
    PATH=$BATS_TEST_TMPDIR/bin:$PATH
    export LOG
    # The boot script loads modules: never the host's.
    cat >"$BATS_TEST_TMPDIR/bin/modprobe" <<'EOS'
#!/bin/sh
echo "modprobe $*" >>"$LOG"
EOS
    chmod +x "$BATS_TEST_TMPDIR/bin/modprobe"
}

# The mke2fs path the configured hook installs e2fsprogs' binary at.
mke2fs_target() {
    # shellcheck disable=SC2016 # a literal $ in the pattern
    sed -n 's/^if ! copy_exec "\$mke2fs" "\(.*\)"; then$/\1/p' "$HOOK"
}

# stub_hook_functions [real|lenient]: a hook-functions that records
# copy_exec, copy_file and manual_add_modules in $LOG (copy_exec and
# copy_file fail, as the real ones do, when the source is missing; with
# "lenient" they never fail). With "real", the real hook-functions is loaded
# first and only manual_add_modules is stubbed.
stub_hook_functions() {
    local f=$BATS_TEST_TMPDIR/hook-functions
    : >"$f"
    if [ "${1:-}" = real ]; then
        echo '. /usr/share/initramfs-tools/hook-functions' >>"$f"
    elif [ "${1:-}" = lenient ]; then
        cat >>"$f" <<'EOS'
copy_exec() { echo "copy_exec $*" >>"$LOG"; }
copy_file() { echo "copy_file $*" >>"$LOG"; }
EOS
    else
        cat >>"$f" <<'EOS'
copy_exec() { echo "copy_exec $*" >>"$LOG"; [ -e "$1" ]; }
copy_file() { echo "copy_file $*" >>"$LOG"; [ -e "$2" ]; }
EOS
    fi
    # shellcheck disable=SC2016 # expanded when the stub runs
    echo 'manual_add_modules() { echo "manual_add_modules $*" >>"$LOG"; }' >>"$f"
}

# run_hook: run the configured hook with sh, its hook-functions
# replaced by the stub (nothing else in it changed).
run_hook() {
    sed "s|^\. /usr/share/initramfs-tools/hook-functions\$|. $BATS_TEST_TMPDIR/hook-functions|" \
        "$HOOK" >"$BATS_TEST_TMPDIR/hook"
    grep -qxF ". $BATS_TEST_TMPDIR/hook-functions" "$BATS_TEST_TMPDIR/hook"
    run sh "$BATS_TEST_TMPDIR/hook"
}

# A DESTDIR laid out the way mkinitramfs makes it (usr-merged).
make_destdir() {
    DESTDIR=$BATS_TEST_TMPDIR/destdir
    local d
    for d in bin lib lib64 sbin; do
        mkdir -p "$DESTDIR/usr/$d"
        ln -s "usr/$d" "$DESTDIR/$d"
    done
    export DESTDIR
}

# built_with NAME: the build's config.h says HAVE_NAME 1.
built_with() {
    grep -qx "#define HAVE_$1 1" "${SR_BUILD:?}/config.h"
}

fake_helper() {
    cat >"$BATS_TEST_TMPDIR/bin/scratchroot" <<EOS
#!/bin/sh
echo "scratchroot \$*" >>"$LOG"
exit $1
EOS
    chmod +x "$BATS_TEST_TMPDIR/bin/scratchroot"
}

refute_log() {
    if grep -q -- "$1" "$LOG"; then
        echo "unexpected in the log: $(grep -- "$1" "$LOG")"
        return 1
    fi
}

@test "the configured hook and script have no placeholders left" {
    run grep -n '@[A-Z0-9_]*@' "$HOOK" "$SCRIPT"
    [ "$status" -eq 1 ]
}

@test "hook: prereqs prints none and touches nothing" {
    DESTDIR=$BATS_TEST_TMPDIR/none
    export DESTDIR
    run sh "$HOOK" prereqs
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ ! -e "$DESTDIR" ]
}

@test "hook: adds dm_crypt and the ciphers exactly when the helper loads libcryptsetup" {
    local helper=${SR_BUILD:?}/src/scratchroot target
    stub_hook_functions lenient
    make_destdir
    target=$(mke2fs_target)
    SCRATCHROOT_HELPER=$helper SCRATCHROOT_MKE2FS=$target run_hook
    [ "$status" -eq 0 ]
    if built_with LIBCRYPTSETUP; then
        [ "$(sed -n 's/^manual_add_modules //p' "$LOG" | tail -n 3 | tr '\n' ' ')" = 'dm_crypt xts aesni_intel ' ]
        # udev does not load it at coldplug; loading dm_crypt does
        [ "$(cat "$DESTDIR/etc/modprobe.d/scratchroot.conf")" = "blacklist aesni_intel
softdep dm_crypt pre: aesni_intel" ]
    else
        refute_log 'manual_add_modules dm_crypt'
        [ ! -e "$DESTDIR/etc/modprobe.d/scratchroot.conf" ]
    fi
}

@test "hook: adds dm_mod (the striped target) exactly when the helper loads libdevmapper" {
    local helper=${SR_BUILD:?}/src/scratchroot target
    stub_hook_functions lenient
    make_destdir
    target=$(mke2fs_target)
    SCRATCHROOT_HELPER=$helper SCRATCHROOT_MKE2FS=$target run_hook
    [ "$status" -eq 0 ]
    if built_with LIBDEVMAPPER; then
        grep -qx 'manual_add_modules dm_mod' "$LOG"
    else
        refute_log 'manual_add_modules dm_mod'
    fi
}

@test "hook: copies the helper to /usr/sbin, e2fsprogs' mke2fs to its absolute path, and the modules" {
    stub_hook_functions
    make_destdir
    fake_helper 0
    target=$(mke2fs_target)
    [[ $target == /*/mke2fs ]]
    SCRATCHROOT_HELPER=$BATS_TEST_TMPDIR/bin/scratchroot SCRATCHROOT_MKE2FS=$target run_hook
    [ "$status" -eq 0 ]
    grep -qx "copy_exec $BATS_TEST_TMPDIR/bin/scratchroot /usr/sbin/scratchroot" "$LOG"
    grep -qx "copy_exec $target $target" "$LOG"
    [ "$(sed -n 's/^manual_add_modules //p' "$LOG" | tr '\n' ' ')" = \
        'overlay sd_mod virtio_scsi hv_storvsc vmw_pvscsi qemu_fw_cfg virtio_console virtio_blk nvme ' ]
    if [ -e /etc/mke2fs.conf ]; then
        grep -qx 'copy_file config /etc/mke2fs.conf /etc/mke2fs.conf' "$LOG"
    fi
}

@test "hook: copies the libraries the helper loads on demand, which ldd does not show" {
    local helper=${SR_BUILD:?}/src/scratchroot lib n=0
    stub_hook_functions lenient
    make_destdir
    SCRATCHROOT_HELPER=$helper SCRATCHROOT_MKE2FS=$(mke2fs_target) run_hook
    [ "$status" -eq 0 ]
    for lib in $("$helper" --list-libraries); do
        grep -qx "copy_exec $lib" "$LOG"
        n=$((n + 1))
    done
    if built_with LIBCRYPTSETUP; then
        grep -Eqx 'copy_exec /.*/libcryptsetup\.so\.[0-9]+' "$LOG"
    fi
    [ "$(grep -c '^copy_exec /[^ ]*\.so\.[^ ]*$' "$LOG")" -eq "$n" ]
}

@test "hook: without SCRATCHROOT_CONFIG it copies this host's /etc/scratchroot.conf, if any" {
    stub_hook_functions
    make_destdir
    fake_helper 0
    unset SCRATCHROOT_CONFIG
    SCRATCHROOT_HELPER=$BATS_TEST_TMPDIR/bin/scratchroot SCRATCHROOT_MKE2FS=$(mke2fs_target) run_hook
    [ "$status" -eq 0 ]
    if [ -e /etc/scratchroot.conf ]; then
        grep -qx 'copy_file config /etc/scratchroot.conf /etc/scratchroot.conf' "$LOG"
    else
        refute_log 'scratchroot.conf'
    fi
}

@test "hook: SCRATCHROOT_CONFIG=FILE goes in as /etc/scratchroot.conf" {
    stub_hook_functions
    make_destdir
    fake_helper 0
    echo 'rd.scratch.lun=1' >"$BATS_TEST_TMPDIR/my.conf"
    SCRATCHROOT_CONFIG=$BATS_TEST_TMPDIR/my.conf SCRATCHROOT_HELPER=$BATS_TEST_TMPDIR/bin/scratchroot \
        SCRATCHROOT_MKE2FS=$(mke2fs_target) run_hook
    [ "$status" -eq 0 ]
    grep -qx "copy_file config $BATS_TEST_TMPDIR/my.conf /etc/scratchroot.conf" "$LOG"
    refute_log 'copy_file config /etc/scratchroot.conf'
}

@test "hook: an empty SCRATCHROOT_CONFIG puts no config in" {
    stub_hook_functions
    make_destdir
    fake_helper 0
    SCRATCHROOT_CONFIG='' SCRATCHROOT_HELPER=$BATS_TEST_TMPDIR/bin/scratchroot \
        SCRATCHROOT_MKE2FS=$(mke2fs_target) run_hook
    [ "$status" -eq 0 ]
    refute_log 'scratchroot.conf'
    grep -q '^manual_add_modules qemu_fw_cfg$' "$LOG"
}

@test "hook: SCRATCHROOT_CONFIG naming a missing file stops the build with an error" {
    stub_hook_functions
    make_destdir
    fake_helper 0
    SCRATCHROOT_CONFIG=$BATS_TEST_TMPDIR/no-such.conf SCRATCHROOT_HELPER=$BATS_TEST_TMPDIR/bin/scratchroot \
        SCRATCHROOT_MKE2FS=$(mke2fs_target) run_hook
    [ "$status" -ne 0 ]
    [[ $output == *"E: scratchroot: cannot copy $BATS_TEST_TMPDIR/no-such.conf"* ]]
    refute_log manual_add_modules
}

@test "hook: defaults to the installed helper and the configured mke2fs" {
    stub_hook_functions lenient
    make_destdir
    unset SCRATCHROOT_HELPER SCRATCHROOT_MKE2FS
    run_hook
    [ "$status" -eq 0 ]
    grep -Eqx 'copy_exec /.*/sbin/scratchroot /usr/sbin/scratchroot' "$LOG"
    target=$(mke2fs_target)
    grep -qx "copy_exec $target $target" "$LOG"
}

@test "hook: a missing helper stops the build with an error" {
    stub_hook_functions
    make_destdir
    SCRATCHROOT_HELPER=$BATS_TEST_TMPDIR/no-such-helper run_hook
    [ "$status" -ne 0 ]
    [[ $output == *"E: scratchroot: cannot copy $BATS_TEST_TMPDIR/no-such-helper"* ]]
    refute_log manual_add_modules
}

@test "hook: a missing mke2fs stops the build with an error" {
    stub_hook_functions
    make_destdir
    fake_helper 0
    SCRATCHROOT_HELPER=$BATS_TEST_TMPDIR/bin/scratchroot \
        SCRATCHROOT_MKE2FS=$BATS_TEST_TMPDIR/no-such-mke2fs run_hook
    [ "$status" -ne 0 ]
    [[ $output == *"E: scratchroot: cannot copy $BATS_TEST_TMPDIR/no-such-mke2fs"* ]]
}

@test "hook: makes room for e2fsprogs' mke2fs where busybox's hook linked its applet" {
    stub_hook_functions
    make_destdir
    fake_helper 0
    target=$(mke2fs_target)
    echo busybox >"$DESTDIR/applet"
    ln "$DESTDIR/applet" "$DESTDIR/usr/${target#/usr/}"
    SCRATCHROOT_HELPER=$BATS_TEST_TMPDIR/bin/scratchroot run_hook
    [ "$status" -eq 0 ]
    # The stubbed copy_exec copies nothing: the applet's link must be gone.
    [ ! -e "$DESTDIR/usr/${target#/usr/}" ]
    [ -e "$DESTDIR/applet" ]
    grep -q "^copy_exec .* $target\$" "$LOG"
}

@test "hook: without DESTDIR it stops before removing anything" {
    stub_hook_functions lenient
    fake_helper 0
    unset DESTDIR
    SCRATCHROOT_HELPER=$BATS_TEST_TMPDIR/bin/scratchroot run_hook
    [ "$status" -ne 0 ]
    [[ $output == *DESTDIR* ]]
    refute_log mke2fs
}

@test "hook: with the real hook-functions, the initramfs gets e2fsprogs' mke2fs, not busybox's applet" {
    [ -r /usr/share/initramfs-tools/hook-functions ] || skip "initramfs-tools-core is not installed"
    target=$(mke2fs_target)
    [ -x "$target" ] || skip "no $target on this host"
    stub_hook_functions real
    make_destdir
    fake_helper 0
    # What busybox's hook (zz-busybox, run before the local hooks) leaves.
    cp /bin/sh "$DESTDIR/usr/bin/busybox"
    ln "$DESTDIR/usr/bin/busybox" "$DESTDIR/usr/${target#/usr/}"
    verbose=n SCRATCHROOT_HELPER=$BATS_TEST_TMPDIR/bin/scratchroot run_hook
    [ "$status" -eq 0 ]
    cmp "$target" "$DESTDIR/usr/${target#/usr/}"
    cmp "$BATS_TEST_TMPDIR/bin/scratchroot" "$DESTDIR/usr/sbin/scratchroot"
    [ "$(stat -c %h "$DESTDIR/usr/bin/busybox")" -eq 1 ]
}

@test "boot script: prereqs prints none and runs nothing" {
    fake_helper 0
    run sh "$SCRIPT" prereqs
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ ! -s "$LOG" ]
}

@test "boot script: runs the helper on \$rootmnt and loads no driver (init-premount did)" {
    fake_helper 0
    rootmnt=/root-test run sh "$SCRIPT"
    [ "$status" -eq 0 ]
    [ "$(cat "$LOG")" = "scratchroot setup --newroot /root-test" ]
}

@test "init-premount script: prereqs prints none and runs nothing" {
    echo "rd.scratch.lun=1" >"$BATS_TEST_TMPDIR/cmdline"
    run sh "$PREMOUNT" prereqs
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ ! -s "$LOG" ]
}

# premount CMDLINE: the init-premount script on that command line.
premount() {
    echo "$1" >"$BATS_TEST_TMPDIR/cmdline"
    run sh "$PREMOUNT"
}

# logged: waits up to 5 s for what the script started in the background to
# write to $LOG (it has exited by then, so it cannot be waited for).
logged() {
    local _
    for _ in $(seq 100); do
        [ ! -s "$LOG" ] || return 0
        sleep 0.05
    done
    return 1
}

@test "init-premount script: with rd.scratch options, overlay is loaded in the background" {
    for c in "root=/dev/sda rd.scratch.lun=1" "rd.scratch" "rd.scratch=1 quiet" "ro rd.scratch.serial=x"; do
        : >"$LOG"
        premount "$c"
        [ "$status" -eq 0 ] || return 1
        logged
        [ "$(cat "$LOG")" = "modprobe -q -b overlay" ] || { echo "cmdline '$c': $(cat "$LOG")"; return 1; }
    done
}

@test "init-premount script: nothing without rd.scratch options, with rd.scratch=0, or when overlay is there" {
    for c in "root=/dev/sda ro quiet" "rd.scratch=0 rd.scratch.lun=1" "rd.scratchy=1 scratch.lun=1"; do
        premount "$c"
        [ "$status" -eq 0 ] || return 1
        # Nothing is started in the background here: a modprobe would have
        # been logged within the time the cases above take.
        sleep 0.2
        [ ! -s "$LOG" ] || { echo "cmdline '$c': $(cat "$LOG")"; return 1; }
    done
    mkdir "$BATS_TEST_TMPDIR/module/overlay"
    premount "rd.scratch.lun=1"
    sleep 0.2
    [ ! -s "$LOG" ]
}

@test "init-premount script: the initramfs's config file asks for it too" {
    : >"$BATS_TEST_TMPDIR/scratchroot.conf"
    premount "root=/dev/sda ro"
    logged
    [ "$(cat "$LOG")" = "modprobe -q -b overlay" ]
}

@test "init-premount script: asked for, it tells init to skip the root's fsck, after what param.conf held" {
    echo "ROOT=/dev/sda" >"$BATS_TEST_TMPDIR/param.conf"
    premount "ro rd.scratch.lun=1"
    [ "$status" -eq 0 ]
    [ "$(cat "$BATS_TEST_TMPDIR/param.conf")" = "ROOT=/dev/sda
fastboot=y" ]
    # with overlay loaded already too
    rm "$BATS_TEST_TMPDIR/param.conf"
    mkdir "$BATS_TEST_TMPDIR/module/overlay"
    : >"$BATS_TEST_TMPDIR/scratchroot.conf"
    premount "ro"
    [ "$status" -eq 0 ]
    [ "$(cat "$BATS_TEST_TMPDIR/param.conf")" = "fastboot=y" ]
}

@test "init-premount script: not asked for, or with rd.scratch=0, init's parameters are left alone" {
    for c in "root=/dev/sda ro quiet" "rd.scratch.lun=1 rd.scratch=0" "rd.scratch=off rd.scratch.lun=1"; do
        premount "$c"
        [ "$status" -eq 0 ] || return 1
        [ ! -e "$BATS_TEST_TMPDIR/param.conf" ] || { echo "cmdline '$c': $(cat "$BATS_TEST_TMPDIR/param.conf")"; return 1; }
    done
}

@test "init-premount script: a failing modprobe is quiet and the script exits 0" {
    printf '#!/bin/sh\necho "modprobe: FATAL: no such module" >&2\nexit 1\n' >"$BATS_TEST_TMPDIR/bin/modprobe"
    premount "rd.scratch.lun=1"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}

# device DIR [ID]: a device the option channels' drivers look for, under
# the test's /sys/bus: DIR made, and for a virtio device its id in DIR/device.
device() {
    mkdir -p "$BATS_TEST_TMPDIR/bus/$1"
    [ -z "${2:-}" ] || echo "$2" >"$BATS_TEST_TMPDIR/bus/$1/device"
}

# premount_drivers CMDLINE: the init-premount script with a fake helper; what
# it ran before the helper, one line (the overlay's background modprobe left
# out).
premount_drivers() {
    fake_helper 0
    premount "$1"
    [ "$status" -eq 0 ]
    sed -n '/^scratchroot prepare$/q;p' "$LOG" | tr '\n' ';'
}

@test "init-premount script: no option channel's device, no driver loaded, and the prepare runs" {
    device virtio/devices/virtio0 0x0008
    device virtio/devices/virtio1 0x0002
    [ "$(premount_drivers "root=/dev/sda")" = "" ]
    grep -qx "scratchroot prepare" "$LOG"
}

@test "init-premount script: fw_cfg's driver only with its device (ACPI or device tree)" {
    device acpi/devices/QEMU0002:00
    [ "$(premount_drivers "root=/dev/sda")" = "modprobe -q -a qemu_fw_cfg;" ]
    rm -r "$BATS_TEST_TMPDIR/bus/acpi"
    : >"$LOG"
    device platform/devices/9020000.fw-cfg
    [ "$(premount_drivers "root=/dev/sda")" = "modprobe -q -a qemu_fw_cfg;" ]
    : >"$LOG"
    mkdir "$BATS_TEST_TMPDIR/module/qemu_fw_cfg"
    [ "$(premount_drivers "root=/dev/sda")" = "" ]
}

@test "init-premount script: virtio_console only for a virtio console (device 3)" {
    device virtio/devices/virtio0 0x0008
    device virtio/devices/virtio1 0x0003
    device acpi/devices/QEMU0002:00
    [ "$(premount_drivers "root=/dev/sda")" = "modprobe -q -a qemu_fw_cfg virtio_console;" ]
    : >"$LOG"
    mkdir "$BATS_TEST_TMPDIR/module/qemu_fw_cfg"
    [ "$(premount_drivers "root=/dev/sda")" = "modprobe -q -a virtio_console;" ]
    : >"$LOG"
    mkdir "$BATS_TEST_TMPDIR/module/virtio_console"
    [ "$(premount_drivers "root=/dev/sda")" = "" ]
}

@test "init-premount script: a driver that does not load does not keep the prepare from running" {
    device acpi/devices/QEMU0002:00
    fake_helper 0
    # shellcheck disable=SC2016 # the fake's own $2
    printf '#!/bin/sh\necho "modprobe $*" >>"$LOG"\necho "modprobe: FATAL: Module $2 not found." >&2\nexit 1\n' \
        >"$BATS_TEST_TMPDIR/bin/modprobe"
    premount "root=/dev/sda"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ "$(cat "$LOG")" = "modprobe -q -a qemu_fw_cfg
scratchroot prepare" ]
}

@test "boot script: without \$rootmnt it uses /root" {
    fake_helper 0
    unset rootmnt
    run sh "$SCRIPT"
    [ "$status" -eq 0 ]
    grep -qx "scratchroot setup --newroot /root" "$LOG"
}

@test "boot script: a failing helper (fallback=fail) stops the boot with panic" {
    fake_helper 1
    # shellcheck disable=SC2317 # called by the script, through the environment
    panic() { echo "panic $*" >>"$LOG"; }
    export -f panic
    rootmnt=/root run bash "$SCRIPT"
    grep -qx 'scratchroot setup --newroot /root' "$LOG"
    grep -q '^panic scratchroot: .*rd.scratch.fallback=fail' "$LOG"
}

@test "boot script: without panic defined it loads initramfs-tools' functions for it" {
    [ ! -e /scripts/functions ] || skip "this host has a /scripts/functions"
    fake_helper 1
    rootmnt=/root run sh "$SCRIPT"
    [ "$status" -ne 0 ]
    [[ $output == */scripts/functions* ]]
}

@test "boot script: a successful helper never panics" {
    fake_helper 0
    panic() { echo "panic $*" >>"$LOG"; }
    export -f panic
    rootmnt=/root run bash "$SCRIPT"
    [ "$status" -eq 0 ]
    refute_log '^panic'
}

@test "boot script: without the helper it exits quietly" {
    mkdir -p "$BATS_TEST_TMPDIR/empty"
    PATH=$BATS_TEST_TMPDIR/empty run /bin/sh "$SCRIPT"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ ! -s "$LOG" ]
}
