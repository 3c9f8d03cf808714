#!/usr/bin/env bats
# scratchroot-mkinitramfs as configured in the build, on a made-up kernel
# whose module tree holds one module (an ELF object with a .modinfo section,
# which is all depmod and modprobe need to resolve it).

setup_file() {
    KV=9.9.9-scratchroot-test
    export KV
    KROOT=$BATS_FILE_TMPDIR/kroot
    export KROOT
    local tree=$KROOT/lib/modules/$KV
    mkdir -p "$tree/kernel/fs/overlay"
    printf '%s\n' 'static const char modinfo[] __attribute__((section(".modinfo"), used)) =' \
        '        "license=GPL\0name=overlay\0alias=fs-overlay\0";' |
        "${CC:-cc}" -c -x c - -o "$tree/kernel/fs/overlay/overlay.ko"
    : >"$tree/modules.order"
    : >"$tree/modules.builtin"
    depmod -b "$KROOT" "$KV" 2>/dev/null
    grep -qx 'kernel/fs/overlay/overlay.ko:' "$tree/modules.dep"
}

setup() {
    TOOL=${SR_BUILD:?}/scratchroot-mkinitramfs
    HELPER=${SR_HELPER:-$SR_BUILD/src/scratchroot}
    [ -x "$HELPER" ] || { echo "no helper at $HELPER: build it"; return 1; }
    command -v busybox >/dev/null || { echo "busybox not found (package busybox-static)"; return 1; }
}

# build DIR OUT: the initrd for $KV with -m DIR, uncompressed, no config.
build() {
    run bash "$TOOL" -k "$KV" -m "$1" --helper "$HELPER" --config '' -c none -o "$2"
}

# unpack IMG DIR: the archive after the leading one that carries /dev's
# nodes (cpio stops at the first trailer).
unpack() {
    local off
    off=$(grep -abo 'TRAILER!!!' "$1" | head -n1 | cut -d: -f1)
    [ -n "$off" ]
    mkdir -p "$2"
    tail -c +$(((off + 11 + 3) / 4 * 4 + 1)) "$1" | (cd "$2" && cpio -idm --quiet)
    [ -f "$2/etc/scratchroot/modules" ]
}

@test "-m DIR takes the modules from DIR/KVER/" {
    build "$KROOT/lib/modules" "$BATS_TEST_TMPDIR/a.img"
    echo "$output"
    [ "$status" -eq 0 ]
    unpack "$BATS_TEST_TMPDIR/a.img" "$BATS_TEST_TMPDIR/a"
    grep -qx "/lib/modules/$KV/kernel/fs/overlay/overlay.ko" "$BATS_TEST_TMPDIR/a/etc/scratchroot/modules"
    cmp "$KROOT/lib/modules/$KV/kernel/fs/overlay/overlay.ko" \
        "$BATS_TEST_TMPDIR/a/lib/modules/$KV/kernel/fs/overlay/overlay.ko"
    [[ $output == *"$KV has no module virtio_scsi, left out"* ]]
    [[ $output != *"no module overlay"* ]]
}

@test "-m DIR/KVER (dracut's --kmoddir) is taken as the tree itself, with the same result" {
    build "$KROOT/lib/modules" "$BATS_TEST_TMPDIR/a.img"
    [ "$status" -eq 0 ]
    build "$KROOT/lib/modules/$KV" "$BATS_TEST_TMPDIR/b.img"
    echo "$output"
    [ "$status" -eq 0 ]
    unpack "$BATS_TEST_TMPDIR/a.img" "$BATS_TEST_TMPDIR/a"
    unpack "$BATS_TEST_TMPDIR/b.img" "$BATS_TEST_TMPDIR/b"
    grep -qx "/lib/modules/$KV/kernel/fs/overlay/overlay.ko" "$BATS_TEST_TMPDIR/b/etc/scratchroot/modules"
    diff -r "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
}

@test "-m DIR/KVER with a trailing slash, or through a symbolic link, is the tree too" {
    ln -s "$KROOT/lib/modules/$KV" "$BATS_TEST_TMPDIR/kmods"
    for m in "$KROOT/lib/modules/$KV/" "$BATS_TEST_TMPDIR/kmods"; do
        build "$m" "$BATS_TEST_TMPDIR/c.img"
        [ "$status" -eq 0 ] || { echo "-m $m: $output"; return 1; }
        rm -rf "$BATS_TEST_TMPDIR/c"
        unpack "$BATS_TEST_TMPDIR/c.img" "$BATS_TEST_TMPDIR/c"
        grep -qx "/lib/modules/$KV/kernel/fs/overlay/overlay.ko" "$BATS_TEST_TMPDIR/c/etc/scratchroot/modules"
    done
}

@test "-m DIR with neither KVER/ nor a modules.dep fails and names both" {
    mkdir -p "$BATS_TEST_TMPDIR/empty"
    build "$BATS_TEST_TMPDIR/empty" "$BATS_TEST_TMPDIR/d.img"
    [ "$status" -eq 1 ]
    [[ $output == *"no modules for $KV in $BATS_TEST_TMPDIR/empty: it has neither $KV/ nor a modules.dep"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/d.img" ]
}

@test "-m DIR whose KVER/ lacks a modules.dep asks for depmod" {
    mkdir -p "$BATS_TEST_TMPDIR/nodep/$KV/kernel"
    build "$BATS_TEST_TMPDIR/nodep" "$BATS_TEST_TMPDIR/e.img"
    [ "$status" -eq 1 ]
    [[ $output == *"$BATS_TEST_TMPDIR/nodep/$KV has no modules.dep: run depmod"* ]]
    [ ! -e "$BATS_TEST_TMPDIR/e.img" ]
}

@test "--help describes both meanings of -m" {
    run bash "$TOOL" --help
    [ "$status" -eq 0 ]
    [[ $output == *"DIR/KVER/, or DIR itself"*"when it has a modules.dep"* ]]
}
