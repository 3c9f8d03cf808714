# shellcheck shell=bash
# Boot path "standalone": the initrd of helpers/scratchroot-mkinitramfs,
# whose /init is scratchroot itself (no udev, no shell in between), built for
# the cached Debian cloud kernel. The path interface is dracut.sh's.

# The builder with this build's paths filled in, else the source copy.
_sr_standalone_tool() {
    local t=$SR_BUILD/scratchroot-mkinitramfs
    [[ -f $t ]] || t=$SR_SRCDIR/helpers/scratchroot-mkinitramfs
    [[ -f $t ]] || { vm_die "no scratchroot-mkinitramfs in $SR_BUILD or $SR_SRCDIR/helpers"; return 1; }
    echo "$t"
}

# _sr_standalone_initrd OUT: build (once per set of inputs) and link to OUT.
_sr_standalone_initrd() {
    local out=$1 tool helper bb mke2fs key img lockfd tmp blog config
    vm_kernel || return 1
    tool=$(_sr_standalone_tool) || return 1
    helper=$SR_HELPER
    [[ -x $helper ]] || { vm_die "helper binary $helper not found or not executable (build it, or set SR_HELPER)"; return 1; }
    helper=$(readlink -f "$helper")
    bb=$(_vm_busybox) || return 1
    mke2fs=$(PATH=/usr/sbin:/sbin:$PATH command -v mke2fs) || { vm_die "mke2fs not found"; return 1; }
    # SR_INITRD_CONFIG, or no config at all (never the build host's).
    config=$(vm_initrd_config) || return 1
    key=$({
        declare -f _sr_standalone_initrd
        echo "$KVER"
        sha256sum <"$tool"
        sha256sum <"$helper"
        sha256sum <"$bb"
        sha256sum <"$mke2fs"
        sha256sum <"$KROOT/lib/modules/$KVER/modules.dep"
        echo "config:$config"
    } | _vm_sha)
    img=$SR_CACHE/initrd/standalone-$key.img
    if [[ ! -f $img ]]; then
        _vm_lock "initrd-$key" || return 1
        # shellcheck disable=SC2154 # set by _vm_lock (lib.sh)
        lockfd=$_vm_lockfd
        if [[ ! -f $img ]]; then
            mkdir -p "$SR_CACHE/initrd"
            tmp=$(mktemp "$SR_CACHE/initrd/.build.XXXXXX")
            blog=${img%.img}.log
            vm_log "building standalone initrd ${img##*/}"
            # Uncompressed: under TCG the kernel's gunzip costs more than
            # reading the larger archive.
            if ! bash "$tool" -k "$KVER" -m "$KROOT/lib/modules" --helper "$helper" --busybox "$bb" \
                --config "$config" -c none -o "$tmp" >"$blog" 2>&1; then
                tail -n 20 "$blog" >&2
                rm -f "$tmp"
                exec {lockfd}>&-
                vm_die "scratchroot-mkinitramfs failed (log: $blog)"
                return 1
            fi
            sed 's/^/vm: mkinitramfs: /' "$blog" >&2
            mv "$tmp" "$img"
        fi
        exec {lockfd}>&-
    fi
    if [[ -n $out ]]; then
        rm -f "$out"
        ln "$img" "$out" 2>/dev/null || cp "$img" "$out"
    fi
}

path_initrd() {
    _sr_standalone_initrd "$1"
}

# The same initrd: without an rd.scratch option the helper does nothing, so
# booted with none it only mounts the root and switches into it, which is
# the baseline this path has.
path_initrd_plain() {
    _sr_standalone_initrd "$1"
}

path_cmdline() {
    # Without rd.shell a failed boot powers the VM off.
    echo ""
}
