#!/usr/bin/env bats
# The dracut module's scripts, with dracut's own functions stubbed.
# shellcheck disable=SC1091 # the scripts sourced are the build's

setup() {
    MOD=${SR_BUILD:?}/modules.d/90scratchroot
    LOG=$BATS_TEST_TMPDIR/calls
    : >"$LOG"
    mkdir -p "$BATS_TEST_TMPDIR/bin"
    PATH=$BATS_TEST_TMPDIR/bin:$PATH
    # The hook loads modules: never the host's.
    cat >"$BATS_TEST_TMPDIR/bin/modprobe" <<EOS
#!/bin/sh
echo "modprobe \$*" >>"$LOG"
EOS
    chmod +x "$BATS_TEST_TMPDIR/bin/modprobe"
}

# The variables are dracut's, for the module-setup.sh sourced after.
# shellcheck disable=SC2034
stub_dracut_install() {
    inst() { echo "inst $*" >>"$LOG"; }
    inst_multiple() { echo "inst_multiple $*" >>"$LOG"; }
    inst_hook() { echo "inst_hook $*" >>"$LOG"; }
    instmods() { echo "instmods hostonly=${hostonly-unset} $*" >>"$LOG"; }
    inst_simple() { echo "inst_simple $*" >>"$LOG"; }
    inst_script() { echo "inst_script $*" >>"$LOG"; }
    dfatal() { echo "dfatal $*" >>"$LOG"; }
    dwarn() { echo "dwarn $*" >>"$LOG"; }
    dracut_module_included() { [ "$1" = systemd ] && [ -n "${with_systemd:-}" ]; }
    SYSTEMCTL=systemctl_stub
    systemctl_stub() { echo "systemctl $*" >>"$LOG"; }
    moddir=$MOD
    initdir=/initdir
    systemdsystemunitdir=/usr/lib/systemd/system
    systemdutildir=/usr/lib/systemd
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

# refute_log REGEX: no line of the log matches (a bare "! grep" in the middle
# of a test would not fail it).
refute_log() {
    if grep -q -- "$1" "$LOG"; then
        echo "unexpected in the log: $(grep -- "$1" "$LOG")"
        return 1
    fi
}

stub_dracut_lib() {
    getarg() { return 1; }
    die() { echo "die $*" >>"$LOG"; }
}

@test "check() asks to be added explicitly" {
    # shellcheck disable=SC1091
    . "$MOD/module-setup.sh"
    run check
    [ "$status" -eq 255 ]
}

@test "depends() needs only base" {
    . "$MOD/module-setup.sh"
    run depends
    [ "$status" -eq 0 ]
    [ "$output" = base ]
}

@test "installkernel() installs the controller, disk (SCSI, virtio-blk, NVMe), overlay and hypervisor channel modules regardless of hostonly" {
    stub_dracut_install
    hostonly=yes
    . "$MOD/module-setup.sh"
    installkernel
    [ "$(cat "$LOG")" = 'instmods hostonly= overlay sd_mod virtio_scsi hv_storvsc vmw_pvscsi qemu_fw_cfg virtio_console virtio_blk nvme' ]
}

@test "installkernel() adds dm_mod (the striped target) exactly when the helper loads libdevmapper" {
    local helper=${SR_BUILD:?}/src/scratchroot
    stub_dracut_install
    . "$MOD/module-setup.sh"
    SCRATCHROOT_HELPER=$helper installkernel
    if built_with LIBDEVMAPPER; then
        grep -qx 'instmods hostonly= dm_mod' "$LOG"
    else
        refute_log dm_mod
    fi
    : >"$LOG"
    fake_helper 0
    SCRATCHROOT_HELPER=$BATS_TEST_TMPDIR/bin/scratchroot installkernel
    refute_log dm_mod
}

@test "installkernel() adds dm_crypt and the ciphers exactly when the helper loads libcryptsetup" {
    local helper=${SR_BUILD:?}/src/scratchroot
    stub_dracut_install
    . "$MOD/module-setup.sh"
    SCRATCHROOT_HELPER=$helper installkernel
    if built_with LIBCRYPTSETUP; then
        grep -qx 'instmods hostonly= dm_crypt xts aesni_intel' "$LOG"
    else
        refute_log dm_crypt
    fi
    : >"$LOG"
    # A helper without the library (a script): no device-mapper at all.
    fake_helper 0
    SCRATCHROOT_HELPER=$BATS_TEST_TMPDIR/bin/scratchroot installkernel
    [ "$(grep -c '^instmods' "$LOG")" -eq 1 ]
    refute_log dm_crypt
}

@test "install() installs the helper at /usr/sbin, mke2fs by absolute path, and the pre-pivot hook" {
    stub_dracut_install
    . "$MOD/module-setup.sh"
    SCRATCHROOT_HELPER=/build/scratchroot install
    grep -qx 'inst /build/scratchroot /usr/sbin/scratchroot' "$LOG"
    grep -Eqx 'inst /.*/mke2fs' "$LOG"
    grep -qx "inst_hook pre-pivot 10 $MOD/scratchroot-pre-pivot.sh" "$LOG"
    grep -qx "inst_hook pre-udev 90 $MOD/scratchroot-preload.sh" "$LOG"
    grep -qx "inst_hook cmdline 90 $MOD/scratchroot-skipfsck.sh" "$LOG"
    grep -qx "inst_hook pre-trigger 90 $MOD/scratchroot-prepare.sh" "$LOG"
    grep -qx "inst_simple $MOD/scratchroot-asked.sh /lib/scratchroot-asked.sh" "$LOG"
    grep -qx 'inst_multiple -o modprobe' "$LOG"
    refute_log '^inst_script'
}

@test "install() puts in the libraries the helper loads on demand, which ldd does not show, and what they need" {
    local helper=${SR_BUILD:?}/src/scratchroot lib dep
    stub_dracut_install
    . "$MOD/module-setup.sh"
    SCRATCHROOT_HELPER=$helper install
    for lib in $("$helper" --list-libraries); do
        [[ $lib == /* ]]
        grep -qx "inst $lib" "$LOG"
        # dracut-install resolves only an executable's needs: each one of
        # the library's is installed by name (libcryptsetup's libargon2).
        for dep in $(LC_ALL=C ldd "$lib" | awk '$2 == "=>" && $3 ~ /^\// {print $3}'); do
            grep -qx "inst $dep" "$LOG"
        done
    done
    if built_with LIBCRYPTSETUP; then
        grep -Eqx 'inst /.*/libcryptsetup\.so\.[0-9]+' "$LOG"
        grep -Eqx 'inst /.*/libargon2\.so\.[0-9]+' "$LOG"
    fi
    if built_with LIBNTFS_3G; then
        grep -Eqx 'inst /.*/libntfs-3g\.so\.[0-9]+' "$LOG"
    fi
    refute_log '^dwarn'
}

@test "install() warns when the helper cannot load a library it lists, and goes on" {
    stub_dracut_install
    fake_helper 1
    . "$MOD/module-setup.sh"
    SCRATCHROOT_HELPER=$BATS_TEST_TMPDIR/bin/scratchroot install
    grep -q '^dwarn scratchroot: a library it loads on demand is missing' "$LOG"
    grep -qx "inst $BATS_TEST_TMPDIR/bin/scratchroot /usr/sbin/scratchroot" "$LOG"
}

@test "install() without SCRATCHROOT_CONFIG takes the build host's /etc/scratchroot.conf when there is one" {
    stub_dracut_install
    . "$MOD/module-setup.sh"
    unset SCRATCHROOT_CONFIG
    install
    grep -qx 'inst_multiple -o /etc/scratchroot.conf' "$LOG"
    refute_log 'inst_simple .* /etc/scratchroot.conf$'
}

@test "install() with SCRATCHROOT_CONFIG=FILE installs FILE as /etc/scratchroot.conf" {
    stub_dracut_install
    . "$MOD/module-setup.sh"
    echo 'rd.scratch.lun=1' >"$BATS_TEST_TMPDIR/my.conf"
    SCRATCHROOT_CONFIG=$BATS_TEST_TMPDIR/my.conf install
    grep -qx "inst_simple $BATS_TEST_TMPDIR/my.conf /etc/scratchroot.conf" "$LOG"
    refute_log 'inst_multiple .*/etc/scratchroot.conf'
}

@test "install() with SCRATCHROOT_CONFIG empty installs no config" {
    stub_dracut_install
    . "$MOD/module-setup.sh"
    SCRATCHROOT_CONFIG='' install
    refute_log 'scratchroot.conf'
    grep -Eqx 'inst /.*/scratchroot /usr/sbin/scratchroot' "$LOG"
}

@test "install() with SCRATCHROOT_CONFIG naming a missing file stops the build" {
    stub_dracut_install
    . "$MOD/module-setup.sh"
    SCRATCHROOT_CONFIG=$BATS_TEST_TMPDIR/no-such.conf run install
    [ "$status" -ne 0 ]
    grep -q "^dfatal scratchroot: SCRATCHROOT_CONFIG=$BATS_TEST_TMPDIR/no-such.conf" "$LOG"
    refute_log '^inst_hook'
}

@test "install() in a systemd initrd: a unit wanted by initrd-root-fs.target, no shell hook" {
    stub_dracut_install
    with_systemd=1
    . "$MOD/module-setup.sh"
    install
    grep -qx "inst_simple $MOD/scratchroot.service /usr/lib/systemd/system/scratchroot.service" "$LOG"
    grep -qx 'systemctl -q --root /initdir add-wants initrd-root-fs.target scratchroot.service' "$LOG"
    grep -qx "inst_simple $MOD/scratchroot-preload.service /usr/lib/systemd/system/scratchroot-preload.service" "$LOG"
    grep -qx 'systemctl -q --root /initdir add-wants sysinit.target scratchroot-preload.service' "$LOG"
    grep -qx "inst_simple $MOD/scratchroot-prepare.service /usr/lib/systemd/system/scratchroot-prepare.service" "$LOG"
    grep -qx 'systemctl -q --root /initdir add-wants sysinit.target scratchroot-prepare.service' "$LOG"
    grep -qx "inst_script $MOD/scratchroot-fsck-generator /usr/lib/systemd/system-generators/scratchroot-fsck-generator" "$LOG"
    grep -qx "inst_simple $MOD/scratchroot-asked.sh /lib/scratchroot-asked.sh" "$LOG"
    refute_log '^inst_hook'
}

@test "the prepare unit: after udev's trigger, in the foreground, not ordered before setup's unit" {
    unit=$MOD/scratchroot-prepare.service
    grep -qx 'DefaultDependencies=no' "$unit"
    grep -qx 'Type=oneshot' "$unit"
    grep -qx 'After=systemd-udev-trigger.service systemd-modules-load.service' "$unit"
    grep -qx 'ExecStart=/usr/sbin/scratchroot prepare --foreground' "$unit"
    grep -qx 'Environment=DM_DISABLE_UDEV=1' "$unit"
    # setup's unit tells the helper the root is mounted: ordering it after
    # this one would keep a prepare waiting for that until its limit.
    run grep -q '^Before=.*scratchroot.service' "$unit"
    [ "$status" -ne 0 ]
}

@test "prepare hook: starts the helper's prepare, never fails the boot" {
    # shellcheck disable=SC2317 # called by the hook
    scratchroot() { echo "scratchroot $* DM_DISABLE_UDEV=${DM_DISABLE_UDEV:-}" >>"$LOG"; return 1; }
    local_copy scratchroot-prepare.sh
    . "$BATS_TEST_TMPDIR/scratchroot-prepare.sh"
    [ "$(cat "$LOG")" = "scratchroot prepare DM_DISABLE_UDEV=1" ]
}

# device DIR [ID]: a device the option channels' drivers are loaded for,
# under the test's /sys/bus (local_copy's): DIR made, and for a virtio device
# its id in DIR/device.
device() {
    mkdir -p "$BATS_TEST_TMPDIR/sys/bus/$1"
    [ -z "${2:-}" ] || echo "$2" >"$BATS_TEST_TMPDIR/sys/bus/$1/device"
}

@test "prepare hook: the option channels' drivers only for devices the machine has" {
    # shellcheck disable=SC2317 # called by the hook
    scratchroot() { echo "scratchroot $*" >>"$LOG"; }
    local_copy scratchroot-prepare.sh
    device virtio/devices/virtio0 0x0008
    . "$BATS_TEST_TMPDIR/scratchroot-prepare.sh"
    [ "$(cat "$LOG")" = "scratchroot prepare" ]
    : >"$LOG"
    device acpi/devices/QEMU0002:00
    device virtio/devices/virtio1 0x0003
    . "$BATS_TEST_TMPDIR/scratchroot-prepare.sh"
    [ "$(cat "$LOG")" = "modprobe -q -a qemu_fw_cfg virtio_console
scratchroot prepare" ]
    : >"$LOG"
    mkdir -p "$BATS_TEST_TMPDIR/sys/module/virtio_console"
    rm -r "$BATS_TEST_TMPDIR/sys/bus/acpi"
    device platform/devices/9020000.fw-cfg
    . "$BATS_TEST_TMPDIR/scratchroot-prepare.sh"
    [ "$(cat "$LOG")" = "modprobe -q -a qemu_fw_cfg
scratchroot prepare" ]
    : >"$LOG"
    mkdir -p "$BATS_TEST_TMPDIR/sys/module/qemu_fw_cfg"
    . "$BATS_TEST_TMPDIR/scratchroot-prepare.sh"
    [ "$(cat "$LOG")" = "scratchroot prepare" ]
}

@test "the preload unit: early, not waited for, only when asked, never failing" {
    unit=$MOD/scratchroot-preload.service
    grep -qx 'DefaultDependencies=no' "$unit"
    grep -qx 'Type=simple' "$unit"
    grep -qx 'ExecStart=-/sbin/modprobe -q -b overlay' "$unit"
    grep -qx 'ConditionKernelCommandLine=!rd.scratch=0' "$unit"
    grep -qx 'ConditionKernelCommandLine=|rd.scratch.lun' "$unit"
    grep -qx 'ConditionKernelCommandLine=|rd.scratch.fallback' "$unit"
    grep -qx 'ConditionPathExists=|/etc/scratchroot.conf' "$unit"
    grep -Eqx 'Before=scratchroot.service .*' "$unit"
    command -v systemd-analyze >/dev/null || { echo "systemd-analyze not found (package systemd)"; return 1; }
    run systemd-analyze verify --man=no "$unit"
    echo "$output"
    [[ $output != *"Unknown key"* && $output != *"Unknown section"* ]]
}

@test "the unit runs after sysroot.mount and before initrd-root-fs.target" {
    unit=$MOD/scratchroot.service
    grep -qx 'After=sysroot.mount systemd-repart.service' "$unit"
    grep -Eqx 'Before=initrd-root-fs.target .*' "$unit"
    grep -qx 'DefaultDependencies=no' "$unit"
    grep -qx 'ExecStart=/usr/sbin/scratchroot setup --newroot /sysroot' "$unit"
}

@test "the unit loads the fw_cfg and virtio-serial drivers first, and a failure there does not stop it" {
    unit=$MOD/scratchroot.service
    [ "$(grep '^ExecStartPre=' "$unit")" = "ExecStartPre=-/bin/sh -c '. /lib/scratchroot-asked.sh && scratchroot_channels'" ]
}

@test "install() defaults to the installed helper" {
    stub_dracut_install
    . "$MOD/module-setup.sh"
    unset SCRATCHROOT_HELPER
    install
    grep -Eqx 'inst /.*/sbin/scratchroot /usr/sbin/scratchroot' "$LOG"
}

@test "the configured module has no placeholders left" {
    run grep -n '@[A-Z0-9_]*@' "$MOD/module-setup.sh"
    [ "$status" -eq 1 ]
}

@test "hook: runs the helper on \$NEWROOT" {
    stub_dracut_lib
    fake_helper 0
    NEWROOT=/sysroot-test
    local_copy scratchroot-pre-pivot.sh
    . "$BATS_TEST_TMPDIR/scratchroot-pre-pivot.sh"
    grep -qx 'scratchroot setup --newroot /sysroot-test' "$LOG"
    refute_log '^die'
}

@test "hook: loads the fw_cfg and virtio-serial drivers before the helper, for devices the machine has" {
    stub_dracut_lib
    fake_helper 0
    NEWROOT=/sysroot
    local_copy scratchroot-pre-pivot.sh
    . "$BATS_TEST_TMPDIR/scratchroot-pre-pivot.sh"
    [ "$(cat "$LOG")" = "scratchroot setup --newroot /sysroot" ]
    : >"$LOG"
    device acpi/devices/QEMU0002:00
    device virtio/devices/virtio0 0x0003
    . "$BATS_TEST_TMPDIR/scratchroot-pre-pivot.sh"
    [ "$(cat "$LOG")" = "modprobe -q -a qemu_fw_cfg virtio_console
scratchroot setup --newroot /sysroot" ]
}

@test "hook: a failing modprobe does not keep the helper from running" {
    stub_dracut_lib
    fake_helper 0
    printf '#!/bin/sh\necho "modprobe \$*" >>"%s"\necho "modprobe: FATAL: no such module" >&2\nexit 1\n' "$LOG" \
        >"$BATS_TEST_TMPDIR/bin/modprobe"
    NEWROOT=/sysroot
    local_copy scratchroot-pre-pivot.sh
    run . "$BATS_TEST_TMPDIR/scratchroot-pre-pivot.sh"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    grep -qx 'scratchroot setup --newroot /sysroot' "$LOG"
}

@test "hook: a failing helper (fallback=fail) stops the boot with die" {
    stub_dracut_lib
    fake_helper 1
    NEWROOT=/sysroot
    local_copy scratchroot-pre-pivot.sh
    . "$BATS_TEST_TMPDIR/scratchroot-pre-pivot.sh"
    grep -q '^die scratchroot: .*rd.scratch.fallback=fail' "$LOG"
}

@test "hook: without the helper it returns quietly" {
    stub_dracut_lib
    local saved=$PATH
    local_copy scratchroot-pre-pivot.sh
    PATH=$BATS_TEST_TMPDIR/bin
    run . "$BATS_TEST_TMPDIR/scratchroot-pre-pivot.sh"
    PATH=$saved
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ ! -s "$LOG" ]
}

@test "hook: sourcing it twice is harmless and never exits the caller" {
    stub_dracut_lib
    fake_helper 0
    # shellcheck disable=SC2034 # read by the hook
    NEWROOT=/sysroot
    local_copy scratchroot-pre-pivot.sh
    . "$BATS_TEST_TMPDIR/scratchroot-pre-pivot.sh"
    . "$BATS_TEST_TMPDIR/scratchroot-pre-pivot.sh"
    [ "$(grep -c '^scratchroot setup' "$LOG")" -eq 2 ]
}

# The pre-udev hook that starts loading overlay.ko early, and the
# scratchroot_asked it sources, which read /proc/cmdline, the config file
# and the firmware themselves: run on copies whose paths are the test's own.
preload() {
    local f
    for f in scratchroot-asked.sh scratchroot-preload.sh; do
        sed -e "s|/proc/cmdline|$BATS_TEST_TMPDIR/cmdline|" \
            -e "s|/sys/module/|$BATS_TEST_TMPDIR/module/|" \
            -e "s|/sys/firmware/|$BATS_TEST_TMPDIR/firmware/|" \
            -e "s|/sys/bus/|$BATS_TEST_TMPDIR/bus/|g" \
            -e "s|/etc/scratchroot.conf|$BATS_TEST_TMPDIR/scratchroot.conf|" \
            -e "s|/lib/scratchroot-asked.sh|$BATS_TEST_TMPDIR/scratchroot-asked.sh|" \
            "$MOD/$f" >"$BATS_TEST_TMPDIR/$f"
        if grep -n '/sys/\|/proc/cmdline\|/lib/scratchroot' "$BATS_TEST_TMPDIR/$f"; then
            echo "a host path is left in the copy of $f"
            return 1
        fi
    done
    echo "$1" >"$BATS_TEST_TMPDIR/cmdline"
    # shellcheck source=/dev/null
    . "$BATS_TEST_TMPDIR/scratchroot-preload.sh"
    wait
}

@test "preload hook: with rd.scratch options, overlay is loaded in the background" {
    for c in "root=/dev/sda rd.scratch.lun=1" "rd.scratch" "rd.scratch=1 quiet" "ro rd.scratch.serial=x"; do
        : >"$LOG"
        preload "$c"
        [ "$(cat "$LOG")" = "modprobe -q -b overlay" ] || { echo "cmdline '$c': $(cat "$LOG")"; return 1; }
    done
}

@test "preload hook: nothing without rd.scratch options, with rd.scratch=0, or when overlay is there" {
    for c in "root=/dev/sda ro quiet" "rd.scratch=0 rd.scratch.lun=1" "rd.scratchy=1 scratch.lun=1"; do
        preload "$c"
        refute_log modprobe || { echo "cmdline '$c'"; return 1; }
    done
    mkdir -p "$BATS_TEST_TMPDIR/module/overlay"
    preload "rd.scratch.lun=1"
    refute_log modprobe
}

@test "preload hook: the initrd's config file asks for it too" {
    : >"$BATS_TEST_TMPDIR/scratchroot.conf"
    preload "root=/dev/sda ro"
    [ "$(cat "$LOG")" = "modprobe -q -b overlay" ]
}

@test "preload hook: options in QEMU's fw_cfg or in SMBIOS OEM strings ask for it too" {
    local fw=$BATS_TEST_TMPDIR/firmware
    mkdir -p "$fw/qemu_fw_cfg/by_name/opt/org.scratchroot/options"
    echo "rd.scratch.lun=1" >"$fw/qemu_fw_cfg/by_name/opt/org.scratchroot/options/raw"
    preload "root=/dev/sda ro"
    [ "$(cat "$LOG")" = "modprobe -q -b overlay" ]
    rm -r "$fw/qemu_fw_cfg"
    : >"$LOG"
    # type 11: a 5-byte header (type, length, handle, count), then the strings
    mkdir -p "$fw/dmi/entries/11-0"
    printf '\013\005\000\001\001vendor=x\000org.scratchroot.options=rd.scratch.lun=1\000\000' \
        >"$fw/dmi/entries/11-0/raw"
    preload "root=/dev/sda ro"
    [ "$(cat "$LOG")" = "modprobe -q -b overlay" ]
    : >"$LOG"
    # and rd.scratch=0 on the command line still wins
    preload "rd.scratch=0"
    refute_log modprobe
}

# local_copy FILE: the module's FILE as $BATS_TEST_TMPDIR/FILE, its host
# paths the test's own (scratchroot-asked.sh with it).
local_copy() {
    local f
    for f in scratchroot-asked.sh "$1"; do
        sed -e "s|/proc/cmdline|$BATS_TEST_TMPDIR/cmdline|" \
            -e "s|/sys/|$BATS_TEST_TMPDIR/sys/|g" \
            -e "s|/etc/scratchroot.conf|$BATS_TEST_TMPDIR/scratchroot.conf|" \
            -e "s|/etc/cmdline.d|$BATS_TEST_TMPDIR/cmdline.d|g" \
            -e "s|/lib/scratchroot-asked.sh|$BATS_TEST_TMPDIR/scratchroot-asked.sh|" \
            "$MOD/$f" >"$BATS_TEST_TMPDIR/$f"
    done
}

@test "fsck generator: asked for, drop-ins keep systemd-fsck from checking the root" {
    local_copy scratchroot-fsck-generator
    echo "ro rd.scratch.lun=1" >"$BATS_TEST_TMPDIR/cmdline"
    run sh "$BATS_TEST_TMPDIR/scratchroot-fsck-generator" "$BATS_TEST_TMPDIR/gen"
    [ "$status" -eq 0 ]
    for unit in systemd-fsck@.service systemd-fsck-root.service; do
        grep -qx 'ConditionPathExists=/run/scratchroot/check-root' "$BATS_TEST_TMPDIR/gen/$unit.d/50-scratchroot.conf"
    done
    command -v systemd-analyze >/dev/null || { echo "systemd-analyze not found (package systemd)"; return 1; }
    cp "$BATS_TEST_TMPDIR/gen/systemd-fsck-root.service.d/50-scratchroot.conf" "$BATS_TEST_TMPDIR/dropin.service"
    echo '[Service]
ExecStart=/bin/true' >>"$BATS_TEST_TMPDIR/dropin.service"
    run systemd-analyze verify --man=no "$BATS_TEST_TMPDIR/dropin.service"
    [[ $output != *"Unknown key"* && $output != *"Unknown section"* ]]
}

@test "fsck generator: not asked for, or rd.scratch=0, it writes nothing" {
    local_copy scratchroot-fsck-generator
    for c in "root=/dev/sda ro" "rd.scratch.lun=1 rd.scratch=0"; do
        echo "$c" >"$BATS_TEST_TMPDIR/cmdline"
        run sh "$BATS_TEST_TMPDIR/scratchroot-fsck-generator" "$BATS_TEST_TMPDIR/gen"
        [ "$status" -eq 0 ] || return 1
        [ ! -e "$BATS_TEST_TMPDIR/gen" ] || { echo "cmdline '$c': $(find "$BATS_TEST_TMPDIR/gen")"; return 1; }
    done
}

@test "skipfsck hook: asked for, rd.skipfsck goes into dracut's command line; not asked, fw_cfg's driver is loaded to look" {
    local_copy scratchroot-skipfsck.sh
    echo "ro rd.scratch" >"$BATS_TEST_TMPDIR/cmdline"
    # shellcheck source=/dev/null
    . "$BATS_TEST_TMPDIR/scratchroot-skipfsck.sh"
    [ "$(cat "$BATS_TEST_TMPDIR/cmdline.d/90-scratchroot-skipfsck.conf")" = rd.skipfsck ]
    refute_log modprobe
    rm -r "$BATS_TEST_TMPDIR/cmdline.d"
    echo "ro quiet" >"$BATS_TEST_TMPDIR/cmdline"
    # shellcheck source=/dev/null
    . "$BATS_TEST_TMPDIR/scratchroot-skipfsck.sh"
    [ ! -e "$BATS_TEST_TMPDIR/cmdline.d" ]
    # no fw_cfg device, no driver
    refute_log modprobe
    device acpi/devices/QEMU0002:00
    # shellcheck source=/dev/null
    . "$BATS_TEST_TMPDIR/scratchroot-skipfsck.sh"
    [ ! -e "$BATS_TEST_TMPDIR/cmdline.d" ]
    [ "$(cat "$LOG")" = "modprobe -q -a qemu_fw_cfg" ]
}

@test "preload hook: a failing modprobe is quiet and the hook returns 0" {
    printf '#!/bin/sh\necho "modprobe: FATAL: no such module" >&2\nexit 1\n' >"$BATS_TEST_TMPDIR/bin/modprobe"
    run preload "rd.scratch.lun=1"
    [ "$status" -eq 0 ]
    [ -z "$output" ]
}
