#!/usr/bin/env bats
# The dracut module's scripts, with dracut's own functions stubbed.

setup() {
    SRC=${SR_SOURCE:-$BATS_TEST_DIRNAME/../..}
    MOD=${SR_BUILD:?}/modules.d/90scratchroot
    LOG=$BATS_TEST_TMPDIR/calls
    : >"$LOG"
    mkdir -p "$BATS_TEST_TMPDIR/bin"
    PATH=$BATS_TEST_TMPDIR/bin:$PATH
}

stub_dracut_install() {
    inst() { echo "inst $*" >>"$LOG"; }
    inst_multiple() { echo "inst_multiple $*" >>"$LOG"; }
    inst_hook() { echo "inst_hook $*" >>"$LOG"; }
    instmods() { echo "instmods hostonly=${hostonly-unset} $*" >>"$LOG"; }
    inst_simple() { echo "inst_simple $*" >>"$LOG"; }
    dracut_module_included() { [ "$1" = systemd ] && [ -n "${with_systemd:-}" ]; }
    SYSTEMCTL=systemctl_stub
    systemctl_stub() { echo "systemctl $*" >>"$LOG"; }
    moddir=$MOD
    initdir=/initdir
    systemdsystemunitdir=/usr/lib/systemd/system
}

fake_helper() {
    cat >"$BATS_TEST_TMPDIR/bin/scratchroot" <<EOS
#!/bin/sh
echo "scratchroot \$*" >>"$LOG"
exit $1
EOS
    chmod +x "$BATS_TEST_TMPDIR/bin/scratchroot"
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

@test "installkernel() installs the controller, disk and overlay modules regardless of hostonly" {
    stub_dracut_install
    hostonly=yes
    . "$MOD/module-setup.sh"
    installkernel
    grep -qx 'instmods hostonly= overlay sd_mod virtio_scsi hv_storvsc vmw_pvscsi' "$LOG"
}

@test "install() installs the helper at /usr/sbin, mke2fs by absolute path, and the pre-pivot hook" {
    stub_dracut_install
    . "$MOD/module-setup.sh"
    SCRATCHROOT_HELPER=/build/scratchroot install
    grep -qx 'inst /build/scratchroot /usr/sbin/scratchroot' "$LOG"
    grep -Eqx 'inst /.*/mke2fs' "$LOG"
    grep -qx "inst_hook pre-pivot 10 $MOD/scratchroot-pre-pivot.sh" "$LOG"
}

@test "install() in a systemd initrd: a unit wanted by initrd-root-fs.target, no shell hook" {
    stub_dracut_install
    with_systemd=1
    . "$MOD/module-setup.sh"
    install
    grep -qx "inst_simple $MOD/scratchroot.service /usr/lib/systemd/system/scratchroot.service" "$LOG"
    grep -qx 'systemctl -q --root /initdir add-wants initrd-root-fs.target scratchroot.service' "$LOG"
    ! grep -q '^inst_hook' "$LOG"
}

@test "the unit runs after sysroot.mount and before initrd-root-fs.target" {
    unit=$MOD/scratchroot.service
    grep -qx 'After=sysroot.mount systemd-repart.service' "$unit"
    grep -Eqx 'Before=initrd-root-fs.target .*' "$unit"
    grep -qx 'DefaultDependencies=no' "$unit"
    grep -qx 'ExecStart=/usr/sbin/scratchroot setup --newroot /sysroot' "$unit"
}

@test "install() defaults to the installed helper" {
    stub_dracut_install
    . "$MOD/module-setup.sh"
    unset SCRATCHROOT_HELPER
    install
    grep -Eqx 'inst /.*/sbin/scratchroot /usr/sbin/scratchroot' "$LOG"
}

@test "the configured module has no placeholders left" {
    ! grep -n '@[A-Z0-9_]*@' "$MOD/module-setup.sh"
}

@test "hook: runs the helper on \$NEWROOT" {
    stub_dracut_lib
    fake_helper 0
    NEWROOT=/sysroot-test
    . "$MOD/scratchroot-pre-pivot.sh"
    grep -qx 'scratchroot setup --newroot /sysroot-test' "$LOG"
    ! grep -q '^die' "$LOG"
}

@test "hook: a failing helper (fallback=fail) stops the boot with die" {
    stub_dracut_lib
    fake_helper 1
    NEWROOT=/sysroot
    . "$MOD/scratchroot-pre-pivot.sh"
    grep -q '^die scratchroot: .*rd.scratch.fallback=fail' "$LOG"
}

@test "hook: without the helper it returns quietly" {
    stub_dracut_lib
    local saved=$PATH
    PATH=$BATS_TEST_TMPDIR/bin
    run . "$MOD/scratchroot-pre-pivot.sh"
    PATH=$saved
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    [ ! -s "$LOG" ]
}

@test "hook: sourcing it twice is harmless and never exits the caller" {
    stub_dracut_lib
    fake_helper 0
    NEWROOT=/sysroot
    . "$MOD/scratchroot-pre-pivot.sh"
    . "$MOD/scratchroot-pre-pivot.sh"
    [ "$(grep -c '^scratchroot setup' "$LOG")" -eq 2 ]
}
