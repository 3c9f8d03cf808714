# shellcheck shell=bash
# Library for booting scratchroot in QEMU, for the VM tests (test/vm/) and
# the benchmarks (bench/). Source it from bash:
#
#   . vm/lib.sh
#   vm_kernel                       # KVER, KROOT, VMLINUZ
#   vm_rootimg run/root.img
#   vm_dracut_initrd run/initrd.img
#   #  or vm_dracut_systemd_initrd, vm_initramfs_tools_initrd (and *_plain)
#   vm_disk run/scratch.img 64G
#   INITRD=run/initrd.img vm_run run/console.log "rd.scratch.lun=1" \
#       run/root.img:0 run/scratch.img:1
#
# Everything that is slow to make (the guest kernel, the root image, the
# initrds) is cached under $SR_CACHE and built once, under a lock, even when
# several tests start at the same time.

SR_VMDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SR_SRCDIR=$(cd "$SR_VMDIR/.." && pwd)
SR_BUILD=${SR_BUILD:-${MESON_BUILD_ROOT:-$SR_SRCDIR/build}}
SR_CACHE=${SR_CACHE:-$SR_BUILD/vm-cache}
SR_HELPER=${SR_HELPER:-$SR_BUILD/src/scratchroot}
SR_VM_TIMEOUT=${SR_VM_TIMEOUT:-180}
# The Debian meta package whose dependency is the guest kernel.
SR_KERNEL_META=${SR_KERNEL_META:-linux-image-cloud-amd64}
export SR_VMDIR SR_SRCDIR SR_BUILD SR_CACHE SR_HELPER SR_VM_TIMEOUT

vm_log() {
    printf 'vm: %s\n' "$*" >&2
}

vm_die() {
    vm_log "error: $*"
    return 1
}

# _vm_lock NAME: take an exclusive lock on $SR_CACHE/NAME.lock, held by the
# descriptor left in _vm_lockfd (release it with: exec {fd}>&-).
_vm_lock() {
    mkdir -p "$SR_CACHE"
    exec {_vm_lockfd}>"$SR_CACHE/$1.lock"
    flock "$_vm_lockfd"
}

_vm_sha() {
    sha256sum | cut -c1-16
}

# ---------------------------------------------------------------------------
# Guest kernel
# ---------------------------------------------------------------------------

_vm_kernel_pkg() {
    local pkg
    if [[ -n ${SR_KERNEL_PKG:-} ]]; then
        echo "$SR_KERNEL_PKG"
        return 0
    fi
    pkg=$(apt-cache depends "$SR_KERNEL_META" 2>/dev/null |
        awk '/Depends: linux-image-/ && !n++ {print $2}')
    if [[ -z $pkg ]]; then
        vm_log "apt knows no $SR_KERNEL_META: running apt-get update"
        apt-get update -q >&2 || return 1
        pkg=$(apt-cache depends "$SR_KERNEL_META" 2>/dev/null |
            awk '/Depends: linux-image-/ && !n++ {print $2}')
    fi
    [[ -n $pkg ]] || vm_die "cannot resolve the kernel package of $SR_KERNEL_META" || return 1
    echo "$pkg"
}

_vm_kernel_fetch() {
    local kdir=$1 pkg tmp kver debs
    pkg=$(_vm_kernel_pkg) || return 1
    vm_log "fetching guest kernel $pkg"
    rm -rf "$kdir"
    tmp=$(mktemp -d "$SR_CACHE/kernel.tmp.XXXXXX")
    if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2); then
        rm -rf "$tmp"
        vm_die "apt-get download $pkg failed"
        return 1
    fi
    debs=("$tmp"/*.deb)
    [[ -f ${debs[0]} ]] || { rm -rf "$tmp"; vm_die "no .deb downloaded"; return 1; }
    dpkg -x "${debs[0]}" "$tmp/root" || { rm -rf "$tmp"; return 1; }
    rm -f "${debs[@]}"
    kver=$(ls "$tmp/root/lib/modules")
    if [[ -z $kver || $kver == *[[:space:]]* || ! -f $tmp/root/boot/vmlinuz-$kver ]]; then
        rm -rf "$tmp"
        vm_die "unexpected layout in $pkg (modules: '$kver')"
        return 1
    fi
    depmod -b "$tmp/root" "$kver" || { rm -rf "$tmp"; vm_die "depmod failed"; return 1; }
    chmod -R a+rX "$tmp/root"
    chmod 0755 "$tmp"
    printf 'KVER=%s\nKPKG=%s\n' "$kver" "$pkg" >"$tmp/kernel.env"
    mv "$tmp" "$kdir"
}

# vm_kernel: make sure the guest kernel is unpacked in the cache; sets and
# exports KVER (its version), KROOT (the unpacked package: KROOT/boot,
# KROOT/lib/modules/KVER) and VMLINUZ.
vm_kernel() {
    local kdir=$SR_CACHE/kernel lockfd
    if [[ ! -f $kdir/kernel.env ]]; then
        _vm_lock kernel || return 1
        lockfd=$_vm_lockfd
        if [[ ! -f $kdir/kernel.env ]]; then
            _vm_kernel_fetch "$kdir" || { exec {lockfd}>&-; return 1; }
        fi
        exec {lockfd}>&-
    fi
    KVER=$(sed -n 's/^KVER=//p' "$kdir/kernel.env")
    KROOT=$kdir/root
    VMLINUZ=$KROOT/boot/vmlinuz-$KVER
    [[ -n $KVER && -f $VMLINUZ && -d $KROOT/lib/modules/$KVER ]] ||
        vm_die "the cached kernel in $kdir is incomplete: remove it" || return 1
    export KVER KROOT VMLINUZ
}

# ---------------------------------------------------------------------------
# Root image
# ---------------------------------------------------------------------------

_vm_busybox() {
    local bb
    bb=$(command -v busybox || true)
    [[ -n $bb ]] || { vm_die "busybox not found (install busybox-static)"; return 1; }
    bb=$(readlink -f "$bb")
    if [[ $(LC_ALL=C ldd "$bb" 2>&1) != *'not a dynamic executable'* ]]; then
        vm_die "$bb is not static (install busybox-static)"
        return 1
    fi
    echo "$bb"
}

_vm_rootimg_build() {
    local out=$1 bb=$2 tree applet d
    tree=$(mktemp -d "$SR_CACHE/rootimg.tree.XXXXXX")
    mkdir -p "$tree"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,mnt,root}
    chmod 1777 "$tree/tmp"
    install -m 0755 "$bb" "$tree/bin/busybox"
    while read -r applet; do
        case $applet in
            linuxrc | sbin/init | bin/busybox | '') continue ;;
        esac
        d=$(dirname "$applet")
        mkdir -p "$tree/$d"
        [[ -e $tree/$applet || -L $tree/$applet ]] || ln -s /bin/busybox "$tree/$applet"
    done < <("$bb" --list-full)
    install -m 0755 "$SR_VMDIR/guest-init" "$tree/sbin/init"
    mkdir -p "$tree/usr/lib/srtest"
    for d in "$SR_VMDIR"/guest/*; do
        [[ -f $d ]] || continue
        case $d in
            *.c)
                # Workload tools (busybox has no fsync): static, no libraries in the image.
                if ! gcc -static -O2 -Wall -Wextra -Werror -std=c11 -o "$tree/usr/lib/srtest/$(basename "$d" .c)" "$d" >&2; then
                    rm -rf "$tree"
                    vm_die "cannot compile $d"
                    return 1
                fi
                ;;
            *) install -m 0755 "$d" "$tree/usr/lib/srtest/" ;;
        esac
    done
    mknod -m 0600 "$tree/dev/console" c 5 1
    mknod -m 0666 "$tree/dev/null" c 1 3
    cat >"$tree/etc/os-release" <<'EOF'
NAME="scratchroot test root"
ID=srtest
VERSION_ID=1
PRETTY_NAME="scratchroot test root"
EOF
    echo srtest >"$tree/etc/hostname"
    if ! mkfs.ext4 -q -F -E root_owner=0:0 -d "$tree" -L srroot "$out" 64M >&2; then
        rm -rf "$tree"
        vm_die "mkfs.ext4 of the root image failed"
        return 1
    fi
    rm -rf "$tree"
}

# vm_rootimg_cached: build (once) the root image in the cache; sets
# VM_ROOTIMG_CACHED to its path. Do not boot it: copy it (vm_rootimg).
vm_rootimg_cached() {
    local bb key img lockfd tmp
    bb=$(_vm_busybox) || return 1
    key=$({
        declare -f _vm_rootimg_build
        sha256sum <"$bb"
        sha256sum <"$SR_VMDIR/guest-init"
        find "$SR_VMDIR/guest" -type f -print0 2>/dev/null | LC_ALL=C sort -z |
            xargs -0 -r sha256sum
    } | _vm_sha)
    img=$SR_CACHE/rootimg/root-$key.img
    if [[ ! -f $img ]]; then
        _vm_lock rootimg || return 1
        lockfd=$_vm_lockfd
        if [[ ! -f $img ]]; then
            vm_log "building root image $img"
            mkdir -p "$SR_CACHE/rootimg"
            tmp=$(mktemp "$SR_CACHE/rootimg/.root.XXXXXX")
            if ! _vm_rootimg_build "$tmp" "$bb"; then
                rm -f "$tmp"
                exec {lockfd}>&-
                return 1
            fi
            mv "$tmp" "$img"
        fi
        exec {lockfd}>&-
    fi
    VM_ROOTIMG_CACHED=$img
    touch "$img"
    find "$SR_CACHE/rootimg" -maxdepth 1 -name 'root-*.img' -mtime +0 -delete 2>/dev/null || true
}

# vm_rootimg OUT: a fresh copy of the test root image (ext4, label srroot,
# busybox and /sbin/init = guest-init).
vm_rootimg() {
    local out=${1:?usage: vm_rootimg OUT}
    vm_rootimg_cached || return 1
    cp --sparse=always "$VM_ROOTIMG_CACHED" "$out"
}

# ---------------------------------------------------------------------------
# The image's config file in the initrds
# ---------------------------------------------------------------------------

# vm_initrd_config: the file the initrd builders put in as
# /etc/scratchroot.conf: a copy of $SR_INITRD_CONFIG in the cache named after
# its content (so that it is part of the initrds' cache keys), printed; or
# nothing when SR_INITRD_CONFIG is unset or empty. The build host's own
# /etc/scratchroot.conf never goes into a test initrd.
vm_initrd_config() {
    local src=${SR_INITRD_CONFIG:-} key dst
    [[ -n $src ]] || return 0
    [[ -f $src ]] || { vm_die "SR_INITRD_CONFIG=$src is not a file"; return 1; }
    key=$(_vm_sha <"$src")
    dst=$SR_CACHE/config/scratchroot-$key.conf
    if [[ ! -f $dst ]]; then
        mkdir -p "$SR_CACHE/config" || return 1
        if ! { cp "$src" "$dst.$$" && chmod 0644 "$dst.$$" && mv -f "$dst.$$" "$dst"; }; then
            rm -f "$dst.$$"
            vm_die "cannot copy $src into $SR_CACHE/config"
            return 1
        fi
    fi
    touch "$dst"
    echo "$dst"
}

# _vm_initrd_config_check DESC WANT GOT_EXISTS GOT_FILE: the initrd holds
# WANT's content as /etc/scratchroot.conf (GOT_FILE, when GOT_EXISTS is 1),
# or none when WANT is empty.
_vm_initrd_config_check() {
    local desc=$1 want=$2 exists=$3 got=$4
    if [[ -z $want ]]; then
        [[ $exists == 0 ]] || { vm_die "$desc has an etc/scratchroot.conf it was not given"; return 1; }
    elif [[ $exists != 1 ]] || ! cmp -s "$want" "$got"; then
        vm_die "$desc does not hold $want as etc/scratchroot.conf"
        return 1
    fi
}

# ---------------------------------------------------------------------------
# dracut initrds
# ---------------------------------------------------------------------------

# _vm_initrd_publish IMG OUT [PATTERN]: hand out a cached initrd: set
# VM_INITRD_CACHED, link it to OUT (when given), and keep what is in use
# while forgetting the PATTERN initrds nobody asked for in a day.
_vm_initrd_publish() {
    local img=$1 out=$2 pattern=${3-}
    # shellcheck disable=SC2034 # a result for callers
    VM_INITRD_CACHED=$img
    touch "$img"
    if [[ -n $pattern ]]; then
        find "$SR_CACHE/initrd" -maxdepth 1 -name "$pattern" -mtime +0 \
            -exec sh -c 'rm -f "$1" "${1%.img}.log"' sh {} \; 2>/dev/null || true
    fi
    if [[ -n $out ]]; then
        rm -f "$out"
        ln "$img" "$out" 2>/dev/null || cp "$img" "$out"
    fi
}

# The project's dracut module: the configured copy from the build, else the
# source one (whose @PLACEHOLDERS@ are then given through the environment).
vm_dracut_module_dir() {
    local d=${SR_DRACUT_MODULE:-}
    if [[ -z $d ]]; then
        if [[ -f $SR_BUILD/modules.d/90scratchroot/module-setup.sh ]]; then
            d=$SR_BUILD/modules.d/90scratchroot
        else
            d=$SR_SRCDIR/modules.d/90scratchroot
        fi
    fi
    [[ -f $d/module-setup.sh ]] || { vm_die "no dracut module at $d"; return 1; }
    readlink -f "$d"
}

# _vm_dracut_base MODDIR|"": a private dracut base dir mirroring the
# system's, with the system's own scratchroot module (if any) left out and
# MODDIR linked in as 90scratchroot. Prints its path.
_vm_dracut_base() {
    local moddir=$1 sys=/usr/lib/dracut key base tmp e name
    [[ -f $sys/dracut-init.sh ]] || { vm_die "$sys not found (install dracut-core)"; return 1; }
    key=$({
        declare -f _vm_dracut_base
        echo "$moddir"
        ls "$sys" "$sys/modules.d"
    } | _vm_sha)
    base=$SR_CACHE/dracut-base/$key
    if [[ ! -d $base ]]; then
        mkdir -p "$SR_CACHE/dracut-base"
        tmp=$(mktemp -d "$SR_CACHE/dracut-base/.tmp.XXXXXX")
        for e in "$sys"/*; do
            name=${e##*/}
            [[ $name == modules.d ]] && continue
            ln -s "$e" "$tmp/$name"
        done
        mkdir "$tmp/modules.d"
        for e in "$sys"/modules.d/*; do
            name=${e##*/}
            [[ $name == [0-9][0-9]scratchroot ]] && continue
            ln -s "$e" "$tmp/modules.d/$name"
        done
        [[ -z $moddir ]] || ln -s "$moddir" "$tmp/modules.d/90scratchroot"
        # An empty configuration: the host's /etc/dracut.conf* stay out.
        mkdir "$tmp/vm-conf.d"
        : >"$tmp/vm.conf"
        chmod a+rx "$tmp"
        mv -T "$tmp" "$base" 2>/dev/null || rm -rf "$tmp"
    fi
    echo "$base"
}

# _vm_dracut_make IMG BASE MODULES CHECK [NAME=VALUE...] -- [DRACUT-ARG...]:
# build IMG once, under a lock: dracut with the base dir BASE and its empty
# configuration, the cached kernel, MODULES and the guest's drivers, in the
# environment NAME=VALUE...; then the words of CHECK, a command, with the
# built file and dracut's log must succeed.
_vm_dracut_make() {
    local img=$1 base=$2 mods=$3 lockfd tmp dlog
    local -a check envs=()
    read -r -a check <<<"$4"
    shift 4
    while (($#)) && [[ $1 != -- ]]; do
        envs+=("$1")
        shift
    done
    shift
    [[ ! -f $img ]] || return 0
    _vm_lock "initrd-${img##*/}" || return 1
    lockfd=$_vm_lockfd
    if [[ ! -f $img ]]; then
        mkdir -p "$SR_CACHE/initrd" "$SR_CACHE/tmp"
        tmp=$(mktemp "$SR_CACHE/initrd/.build.XXXXXX")
        dlog=${img%.img}.log
        vm_log "building dracut initrd ${img##*/} (modules: $mods)"
        if ! env dracutbasedir="$base" "${envs[@]}" \
            dracut --conf "$base/vm.conf" --confdir "$base/vm-conf.d" \
            --tmpdir "$SR_CACHE/tmp" \
            --kver "$KVER" --kmoddir "$KROOT/lib/modules/$KVER" \
            --no-hostonly -m "$mods" \
            --add-drivers "virtio_scsi sd_mod overlay ext4" \
            --no-compress --force "$@" "$tmp" >"$dlog" 2>&1; then
            tail -n 40 "$dlog" >&2
            rm -f "$tmp"
            exec {lockfd}>&-
            vm_die "dracut failed (log: $dlog)"
            return 1
        fi
        # dracut carries on past some install errors: show them.
        grep -iE 'error|fail|cannot|not found|missing' "$dlog" |
            sed 's/^/vm: dracut: /' >&2 || true
        if ! "${check[@]}" "$tmp" "$dlog"; then
            rm -f "$tmp"
            exec {lockfd}>&-
            return 1
        fi
        chmod 0644 "$tmp"
        mv "$tmp" "$img"
    fi
    exec {lockfd}>&-
}

# _vm_dracut_check_sr CONFIG|- IMG LOG: the initrd IMG holds the helper
# and CONFIG as /etc/scratchroot.conf (no such file for -).
_vm_dracut_check_sr() {
    local config=${1#-} img=$2 log=$3 cfgtmp has=0 r=0
    lsinitrd "$img" 2>/dev/null | grep ' usr/sbin/scratchroot$' >/dev/null ||
        { vm_die "the initrd has no usr/sbin/scratchroot (log: $log)"; return 1; }
    cfgtmp=$(mktemp "$SR_CACHE/tmp/conf.XXXXXX")
    if lsinitrd "$img" 2>/dev/null | grep ' etc/scratchroot.conf$' >/dev/null; then
        has=1
        lsinitrd -f etc/scratchroot.conf "$img" >"$cfgtmp" 2>/dev/null || true
    fi
    log=${log##*/}
    _vm_initrd_config_check "the initrd ${log%.log}.img" "$config" "$has" "$cfgtmp" || r=1
    rm -f "$cfgtmp"
    return $r
}

# _vm_dracut_check_module NAME IMG LOG: the initrd IMG includes the dracut
# module NAME.
_vm_dracut_check_module() {
    lsinitrd -f usr/lib/dracut/modules.txt "$2" 2>/dev/null | grep -x "$1" >/dev/null ||
        { vm_die "the initrd does not include the module $1 (log: $3)"; return 1; }
}

# _vm_dracut_build OUT WITH_MODULE(0|1) [extra dracut args...]
_vm_dracut_build() {
    local out=$1 with=$2
    shift 2
    local -a extra=("$@") envs=()
    local mods="base rootfs-block kernel-modules udev-rules"
    local moddir="" helper="" base key img config="" verify=true
    vm_kernel || return 1
    if [[ $with == 1 ]]; then
        mods+=" scratchroot"
        config=$(vm_initrd_config) || return 1
        envs+=("SCRATCHROOT_CONFIG=$config")
        moddir=$(vm_dracut_module_dir) || return 1
        helper=$SR_HELPER
        [[ -x $helper ]] || { vm_die "helper binary $helper not found or not executable (build it, or set SR_HELPER)"; return 1; }
        helper=$(readlink -f "$helper")
        envs+=("SCRATCHROOT_HELPER=$helper")
        if [[ -n ${SCRATCHROOT_MKE2FS:-} ]]; then
            envs+=("SCRATCHROOT_MKE2FS=$SCRATCHROOT_MKE2FS")
        elif grep -qs "@MKE2FS@" "$moddir"/*; then
            # An unconfigured (source) module: give it the host's mke2fs.
            envs+=("SCRATCHROOT_MKE2FS=$(PATH=/usr/sbin:/sbin:$PATH command -v mke2fs)")
        fi
    fi
    base=$(_vm_dracut_base "$moddir") || return 1
    key=$({
        declare -f _vm_dracut_build _vm_dracut_base _vm_dracut_make _vm_dracut_check_sr
        echo "$KVER $mods"
        dracut --version 2>/dev/null
        printf 'arg:%s\n' "${extra[@]}"
        printf 'env:%s\n' "${envs[@]}"
        if [[ -n $moddir ]]; then
            (cd "$moddir" && find . \( -type f -o -type l \) -print0 | sort -z |
                xargs -0r sha256sum)
            sha256sum <"$helper"
        fi
    } | _vm_sha)
    if [[ $with == 1 ]]; then
        img=$SR_CACHE/initrd/dracut-sr-$key.img
    else
        img=$SR_CACHE/initrd/dracut-plain-$key.img
    fi
    if [[ $with == 1 ]]; then
        verify="_vm_dracut_check_sr ${config:--}"
    fi
    _vm_dracut_make "$img" "$base" "$mods" "$verify" "${envs[@]}" -- "${extra[@]}" || return 1
    _vm_initrd_publish "$img" "$out" 'dracut-*.img'
}

# vm_dracut_initrd OUT [extra dracut args]: an initrd with the project's
# dracut module and helper (SR_DRACUT_MODULE, SR_HELPER).
vm_dracut_initrd() {
    _vm_dracut_build "${1?usage: vm_dracut_initrd OUT [args]}" 1 "${@:2}"
}

# vm_dracut_initrd_plain OUT [extra dracut args]: the same without the
# project's module (the baseline).
vm_dracut_initrd_plain() {
    _vm_dracut_build "${1?usage: vm_dracut_initrd_plain OUT [args]}" 0 "${@:2}"
}

# _vm_dracut_base_module MODDIR: a private dracut base dir like the plain
# one (_vm_dracut_base ""), with MODDIR linked in under its own name
# (NNname). Prints its path.
_vm_dracut_base_module() {
    local moddir=$1 plain key base tmp e name
    plain=$(_vm_dracut_base "") || return 1
    key=$({
        declare -f _vm_dracut_base_module
        echo "$plain $moddir"
    } | _vm_sha)
    base=$SR_CACHE/dracut-base/mod-$key
    if [[ ! -d $base ]]; then
        tmp=$(mktemp -d "$SR_CACHE/dracut-base/.tmp.XXXXXX")
        for e in "$plain"/*; do
            name=${e##*/}
            [[ $name == modules.d ]] && continue
            ln -s "$(readlink -f "$e")" "$tmp/$name"
        done
        mkdir "$tmp/modules.d"
        for e in "$plain"/modules.d/*; do
            ln -s "$(readlink -f "$e")" "$tmp/modules.d/${e##*/}"
        done
        ln -s "$moddir" "$tmp/modules.d/${moddir##*/}"
        chmod a+rx "$tmp"
        mv -T "$tmp" "$base" 2>/dev/null || rm -rf "$tmp"
    fi
    echo "$base"
}

# vm_dracut_initrd_module OUT MODDIR [extra dracut args]: the plain initrd
# (no scratchroot) plus the dracut module in directory MODDIR, whose name
# is the directory's without its two-digit prefix (90foo: module foo).
# Sets VM_INITRD_CACHED like the others.
vm_dracut_initrd_module() {
    local out=${1?usage: vm_dracut_initrd_module OUT MODDIR [args]}
    local moddir=${2:?usage: vm_dracut_initrd_module OUT MODDIR [args]}
    shift 2
    local -a extra=("$@")
    local mods="base rootfs-block kernel-modules udev-rules"
    local dir name base key img
    vm_kernel || return 1
    [[ -f $moddir/module-setup.sh ]] || { vm_die "no dracut module at $moddir"; return 1; }
    moddir=$(readlink -f "$moddir")
    dir=${moddir##*/}
    [[ $dir =~ ^[0-9][0-9][a-z0-9_-]+$ && $dir != [0-9][0-9]scratchroot ]] ||
        { vm_die "a module directory is named NNname (not scratchroot): $dir"; return 1; }
    name=${dir:2}
    mods+=" $name"
    base=$(_vm_dracut_base_module "$moddir") || return 1
    key=$({
        declare -f vm_dracut_initrd_module _vm_dracut_base_module _vm_dracut_base _vm_dracut_make \
            _vm_dracut_check_module
        echo "$KVER $mods"
        dracut --version 2>/dev/null
        printf 'arg:%s\n' "${extra[@]}"
        (cd "$moddir" && find . \( -type f -o -type l \) -print0 | sort -z |
            xargs -0r sha256sum)
    } | _vm_sha)
    img=$SR_CACHE/initrd/dracut-mod-$name-$key.img
    _vm_dracut_make "$img" "$base" "$mods" "_vm_dracut_check_module $name" -- "${extra[@]}" || return 1
    _vm_initrd_publish "$img" "$out"
}

# _vm_systemd_poweroff_unit: (once) write an emergency.service for test
# initrds that have no emergency shell of their own: it says so on the
# console and powers the VM off, so a failed boot ends at once instead of
# sitting in emergency.target. Prints the file's path, named after its
# content (the initrd cache keys see the path only).
_vm_systemd_poweroff_unit() {
    local text key dir
    text='[Unit]
Description=Emergency: power off the test VM
DefaultDependencies=no
Conflicts=shutdown.target
Before=shutdown.target
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
StandardOutput=tty
StandardError=tty
ExecStart=-/bin/sh -c "echo vm-emergency: the initrd reached emergency.target, powering off"
'
    key=$(printf '%s' "$text" | _vm_sha)
    dir=$SR_CACHE/units/$key
    if [[ ! -f $dir/emergency.service ]]; then
        mkdir -p "$dir" || return 1
        printf '%s' "$text" >"$dir/.emergency.service.$$" &&
            mv "$dir/.emergency.service.$$" "$dir/emergency.service" || return 1
    fi
    echo "$dir/emergency.service"
}

# _vm_dracut_systemd_args: the dracut arguments that turn the shell initrd
# of _vm_dracut_build into a systemd one. With SR_DRACUT_SYSTEMD_HOOKS=1
# dracut's hook services (module dracut-systemd, with its emergency shell
# that honours rd.emergency=poweroff) come in too; without them, systemd
# alone mounts the root and the test emergency.service powers off.
# Sets the array _vm_sd_args.
_vm_dracut_systemd_args() {
    local unit
    if [[ ${SR_DRACUT_SYSTEMD_HOOKS:-0} == 1 ]]; then
        _vm_sd_args=(--add "systemd systemd-initrd dracut-systemd")
    else
        unit=$(_vm_systemd_poweroff_unit) || return 1
        _vm_sd_args=(--add "systemd systemd-initrd" --omit "dracut-systemd"
            --include "$unit" /etc/systemd/system/emergency.service)
    fi
}

# vm_dracut_systemd_initrd OUT [extra dracut args]: like vm_dracut_initrd,
# with systemd as the initrd's init (dracut modules systemd and
# systemd-initrd); the scratchroot module then installs its unit.
vm_dracut_systemd_initrd() {
    local -a _vm_sd_args
    _vm_dracut_systemd_args || return 1
    _vm_dracut_build "${1?usage: vm_dracut_systemd_initrd OUT [args]}" 1 "${_vm_sd_args[@]}" "${@:2}"
}

# vm_dracut_systemd_initrd_plain OUT [extra dracut args]: the same without
# the project's module.
vm_dracut_systemd_initrd_plain() {
    local -a _vm_sd_args
    _vm_dracut_systemd_args || return 1
    _vm_dracut_build "${1?usage: vm_dracut_systemd_initrd_plain OUT [args]}" 0 "${_vm_sd_args[@]}" "${@:2}"
}

# ---------------------------------------------------------------------------
# initramfs-tools initrds
# ---------------------------------------------------------------------------
#
# mkinitramfs runs with a private configuration directory (-d) holding the
# project's hook and boot script, in a private mount namespace where the
# cached kernel's modules are bound on /lib/modules, a directory with its
# config on /boot, and a copy of /usr/share/initramfs-tools without an
# installed scratchroot package's hook and scripts on that directory: the
# host's own /etc/initramfs-tools, /lib/modules and /boot are neither read
# nor changed (an empty /lib/modules is created on a host that has none, as
# a mount point), and its scratchroot package, if any, stays out.

# The project's initramfs-tools hook and boot script as configured in the
# build (hook-scratchroot, local-bottom-scratchroot). Prints the directory.
vm_itools_dir() {
    local d=${SR_ITOOLS_DIR:-$SR_BUILD/hooks/initramfs-tools}
    [[ -f $d/hook-scratchroot && -f $d/local-bottom-scratchroot && -f $d/init-premount-scratchroot ]] ||
        { vm_die "no configured initramfs-tools hook and boot scripts in $d (build the project)"; return 1; }
    readlink -f "$d"
}

# _vm_itools_conf CONFDIR WITH_MODULE(0|1) [ITDIR]: the configuration
# directory for mkinitramfs -d: Debian's defaults (all storage modules,
# busybox), no resume device, and with the module the project's hook in
# hooks/ and boot script in scripts/local-bottom/.
_vm_itools_conf() {
    local dir=$1 with=$2 itdir=${3:-}
    mkdir -p "$dir/conf.d" "$dir/hooks" "$dir/scripts" || return 1
    cat >"$dir/initramfs.conf" <<'EOF' || return 1
MODULES=most
BUSYBOX=y
KEYMAP=n
COMPRESS=zstd
DEVICE=
NFSROOT=auto
RUNSIZE=10%
FSTYPE=auto
EOF
    echo RESUME=none >"$dir/conf.d/resume" || return 1
    : >"$dir/modules"
    if [[ $with == 1 ]]; then
        install -m 0755 "$itdir/hook-scratchroot" "$dir/hooks/scratchroot" || return 1
        install -D -m 0755 "$itdir/local-bottom-scratchroot" \
            "$dir/scripts/local-bottom/scratchroot" || return 1
        install -D -m 0755 "$itdir/init-premount-scratchroot" \
            "$dir/scripts/init-premount/scratchroot" || return 1
    fi
}

# _vm_itools_share DIR: a copy of /usr/share/initramfs-tools
# (SR_ITOOLS_SHARE) in DIR without the files of an installed scratchroot
# package (hooks/scratchroot, scripts/*/scratchroot): mkinitramfs runs every
# hook and copies every boot script there, whatever -d says, so that the
# plain initrd stays plain and the other carries the build's scripts only.
_vm_itools_share() {
    local src=${SR_ITOOLS_SHARE:-/usr/share/initramfs-tools}
    [[ -f $src/hook-functions ]] || { vm_die "no initramfs-tools in $src"; return 1; }
    cp -a "$src/." "$1/" && find "$1" -name '*scratchroot*' -exec rm -rf {} + || return 1
}

# _vm_itools_mke2fs_path HELPER: the mke2fs path the helper runs by default.
_vm_itools_mke2fs_path() {
    "$1" --help 2>/dev/null |
        sed -n 's|.*--mke2fs PATH.*(default \(/[^)]*\)).*|\1|p' | head -n 1
}

# _vm_itools_check IMG WITH_MODULE WORKDIR HELPER MKE2FS_SRC: the built
# initramfs holds what it must: with the module, usr/sbin/scratchroot (the
# helper) and, at the path the helper runs mke2fs from, e2fsprogs' mke2fs
# (not busybox's applet); without it, no scratchroot at all.
_vm_itools_check() {
    local img=$1 with=$2 work=$3 helper=$4 src=$5 list mpath bb
    list=$(lsinitramfs "$img" 2>/dev/null) || { vm_die "lsinitramfs $img failed"; return 1; }
    if [[ $with != 1 ]]; then
        ! grep -q 'scratchroot' <<<"$list" ||
            { vm_die "the plain initramfs has scratchroot files"; return 1; }
        return 0
    fi
    grep -qx 'usr/sbin/scratchroot' <<<"$list" ||
        { vm_die "the initramfs has no usr/sbin/scratchroot"; return 1; }
    mpath=$(_vm_itools_mke2fs_path "$helper")
    [[ $mpath == /* ]] || { vm_die "cannot tell the helper's mke2fs path from $helper --help"; return 1; }
    grep -qx "usr${mpath#/usr}" <<<"$list" ||
        { vm_die "the initramfs has no ${mpath#/} (the helper's mke2fs)"; return 1; }
    rm -rf "$work/unpacked"
    unmkinitramfs "$img" "$work/unpacked" || { vm_die "unmkinitramfs $img failed"; return 1; }
    [[ -f $work/unpacked/$mpath ]] || { vm_die "no file at $mpath in the unpacked initramfs"; return 1; }
    bb=$(_vm_busybox 2>/dev/null || true)
    if [[ -n $bb ]] && cmp -s "$work/unpacked/$mpath" "$bb"; then
        vm_die "$mpath in the initramfs is busybox's mke2fs applet, not e2fsprogs'"
        return 1
    fi
    cmp -s "$work/unpacked/$mpath" "$src" ||
        { vm_die "$mpath in the initramfs is not $src"; return 1; }
    cmp -s "$work/unpacked/usr/sbin/scratchroot" "$helper" ||
        { vm_die "usr/sbin/scratchroot in the initramfs is not $helper"; return 1; }
}

# _vm_itools_build OUT WITH_MODULE(0|1)
_vm_itools_build() {
    local out=$1 with=$2
    local -a envs=()
    local itdir="" helper="" mke2fs="" key img lockfd tmp work log config=""
    vm_kernel || return 1
    command -v mkinitramfs >/dev/null ||
        { vm_die "mkinitramfs not found (install initramfs-tools-core)"; return 1; }
    if [[ $with == 1 ]]; then
        itdir=$(vm_itools_dir) || return 1
        helper=$SR_HELPER
        [[ -x $helper ]] || { vm_die "helper binary $helper not found or not executable (build it, or set SR_HELPER)"; return 1; }
        helper=$(readlink -f "$helper")
        envs+=("SCRATCHROOT_HELPER=$helper")
        mke2fs=${SCRATCHROOT_MKE2FS:-$(_vm_itools_mke2fs_path "$helper")}
        [[ -n ${SCRATCHROOT_MKE2FS:-} ]] && envs+=("SCRATCHROOT_MKE2FS=$SCRATCHROOT_MKE2FS")
        config=$(vm_initrd_config) || return 1
        envs+=("SCRATCHROOT_CONFIG=$config")
    fi
    key=$({
        declare -f _vm_itools_build _vm_itools_conf _vm_itools_check _vm_itools_share
        (cd "${SR_ITOOLS_SHARE:-/usr/share/initramfs-tools}" && find . -name '*scratchroot*' -prune -o -type f -print | LC_ALL=C sort)
        echo "$KVER"
        dpkg-query -W initramfs-tools-core klibc-utils busybox-static udev 2>/dev/null
        printf 'env:%s\n' "${envs[@]}"
        if [[ $with == 1 ]]; then
            sha256sum <"$itdir/hook-scratchroot"
            sha256sum <"$itdir/local-bottom-scratchroot"
            sha256sum <"$itdir/init-premount-scratchroot"
            sha256sum <"$helper"
            sha256sum <"$mke2fs"
        fi
    } | _vm_sha)
    if [[ $with == 1 ]]; then
        img=$SR_CACHE/initrd/itools-sr-$key.img
    else
        img=$SR_CACHE/initrd/itools-plain-$key.img
    fi
    if [[ ! -f $img ]]; then
        _vm_lock "initrd-$key" || return 1
        lockfd=$_vm_lockfd
        if [[ ! -f $img ]]; then
            mkdir -p "$SR_CACHE/initrd" "$SR_CACHE/tmp"
            tmp=$(mktemp "$SR_CACHE/initrd/.build.XXXXXX")
            work=$(mktemp -d "$SR_CACHE/tmp/itools.XXXXXX")
            log=${img%.img}.log
            vm_log "building initramfs-tools initrd ${img##*/}"
            mkdir -p "$work/boot" "$work/share"
            if ! _vm_itools_conf "$work/conf" "$with" "$itdir" ||
                ! _vm_itools_share "$work/share" ||
                ! cp "$KROOT/boot/config-$KVER" "$work/boot/" ||
                ! { [[ -d /lib/modules ]] || mkdir -p /lib/modules; }; then
                rm -rf "$tmp" "$work"
                exec {lockfd}>&-
                vm_die "cannot prepare the mkinitramfs configuration in $work"
                return 1
            fi
            # shellcheck disable=SC2016 # expanded by the inner shell
            if ! env "${envs[@]}" TMPDIR="$work" unshare -m -- /bin/sh -c '
                    set -e
                    mount --bind -o ro "$1/lib/modules" /lib/modules
                    mount --bind -o ro "$2" /boot
                    mount --bind -o ro "$6" /usr/share/initramfs-tools
                    exec mkinitramfs -d "$3" -o "$4" "$5"' \
                sh "$KROOT" "$work/boot" "$work/conf" "$tmp" "$KVER" "$work/share" >"$log" 2>&1; then
                tail -n 40 "$log" >&2
                rm -rf "$tmp" "$work"
                exec {lockfd}>&-
                vm_die "mkinitramfs failed (log: $log)"
                return 1
            fi
            grep -E '^(E|W):' "$log" | sed 's/^/vm: mkinitramfs: /' >&2 || true
            if ! _vm_itools_check "$tmp" "$with" "$work" "$helper" "$mke2fs"; then
                rm -rf "$tmp" "$work"
                exec {lockfd}>&-
                return 1
            fi
            if [[ $with == 1 ]] && ! _vm_initrd_config_check "the initramfs ${img##*/}" "$config" \
                "$([[ -f $work/unpacked/etc/scratchroot.conf ]] && echo 1 || echo 0)" \
                "$work/unpacked/etc/scratchroot.conf"; then
                rm -rf "$tmp" "$work"
                exec {lockfd}>&-
                return 1
            fi
            rm -rf "$work"
            chmod 0644 "$tmp"
            mv "$tmp" "$img"
        fi
        exec {lockfd}>&-
    fi
    _vm_initrd_publish "$img" "$out" 'itools-*.img'
}

# vm_initramfs_tools_initrd OUT: an initramfs-tools initrd for the cached
# kernel with the project's hook and boot script and the helper (SR_HELPER).
vm_initramfs_tools_initrd() {
    _vm_itools_build "${1?usage: vm_initramfs_tools_initrd OUT}" 1
}

# vm_initramfs_tools_initrd_plain OUT: the same without them.
vm_initramfs_tools_initrd_plain() {
    _vm_itools_build "${1?usage: vm_initramfs_tools_initrd_plain OUT}" 0
}

# ---------------------------------------------------------------------------
# Disks and the VM
# ---------------------------------------------------------------------------

# vm_disk OUT SIZE: a sparse raw image (SIZE as truncate takes it: 64G, 128M).
vm_disk() {
    local out=${1:?usage: vm_disk OUT SIZE} size=${2:?usage: vm_disk OUT SIZE}
    rm -f "$out"
    truncate -s "$size" "$out"
}

# vm_run LOG CMDLINE_EXTRA DISKSPEC...: boot the cached kernel with $INITRD
# and the disks; the serial console (and QEMU's own messages) go to LOG.
# A DISKSPEC is FILE:LUN[:OPT]... with OPT one of
#   ro          a read-only drive
#   serial=S    the disk's serial number (SCSI unit serial, or virtio-blk's)
#   target=N    SCSI id (default 0)
#   bus=N       on virtio-scsi controller N (default 0): the controllers
#               scsi0..scsiN are made, in that order on the PCI bus
#   ctrl=TYPE   the kind of SCSI controller bus N is: virtio-scsi (the
#               default) or pvscsi (VMware PVSCSI, which has LUN 0 only: put
#               its disks on targets instead); the disks of one bus must not
#               disagree
#   vendor=V    the SCSI disk's INQUIRY vendor (at most 8 characters;
#               QEMU's default is QEMU)
#   product=P   its INQUIRY product, which Linux shows as the model (at
#               most 16 characters; blanks allowed, e.g. product=Virtual Disk)
#   blk         a virtio-blk disk instead of a SCSI one; its LUN is "-"
#               (a number is accepted and means nothing)
#   nvme        an NVMe disk instead, on an NVMe controller of its own (the
#               namespace nvmeXn1 in the guest, model "QEMU NVMe Ctrl");
#               its LUN is "-"; serial= is the controller's serial (at most
#               20 characters; default srnvme<N>, N the disk's place in the
#               list)
# Guest memory: VM_MEM (QEMU -m, default 1024). SMBIOS strings: the array
# VM_SMBIOS, entries TYPE:KEY=VALUE for QEMU's -smbios type=TYPE (0 to 3),
# e.g. (1:manufacturer=Microsoft Corporation "1:product=Virtual Machine"
# 3:asset=...); a comma in VALUE is doubled for QEMU. Extra QEMU arguments:
# the array VM_EXTRA_ARGS, then SR_QEMU_ARGS (split on
# blanks). With VM_VPORT_TEXT set, the VM gets a virtio-serial port named
# VM_VPORT_NAME (default org.scratchroot.options) whose host side holds
# VM_VPORT_TEXT, as given (a line needs its newline), ready for the guest to
# read. Sets VM_SECONDS (wall time) and VM_STATUS (QEMU's exit status, 124
# when it was killed at the time limit).
vm_run() {
    local log=${1:?usage: vm_run LOG CMDLINE DISKSPEC...} cmdline=${2-}
    shift 2
    local -a args parts qextra ctrls=() dargs=()
    local spec file lun opt target serial ro bus blk nvme ctrl vendor product n=0 maxbus=0 b start
    local sm type kv
    local -A busctrl=() smbios=()
    local vport="" vfd=""
    vm_kernel || return 1
    [[ -n ${INITRD:-} && -f $INITRD ]] || { vm_die "INITRD is not set to an initrd file"; return 1; }
    [[ $log != *,* ]] || { vm_die "no commas in the log path, please"; return 1; }
    args=(
        -machine q35 -cpu max -smp 1 -m "${VM_MEM:-1024}"
        -nodefaults -no-user-config -display none -no-reboot
        -chardev "file,id=ser0,path=$log,append=on" -serial chardev:ser0
        -kernel "$VMLINUZ" -initrd "$INITRD"
        -append "console=ttyS0 panic=-1 root=LABEL=srroot ro rootwait $cmdline"
    )
    for spec in "$@"; do
        IFS=: read -r -a parts <<<"$spec"
        file=${parts[0]:-}
        lun=${parts[1]:-}
        target=0 serial="" ro="" bus=0 blk=0 nvme=0 ctrl="" vendor="" product=""
        [[ -f $file ]] || { vm_die "disk image $file not found"; return 1; }
        [[ $file != *,* ]] || { vm_die "no commas in disk paths, please: $file"; return 1; }
        for opt in "${parts[@]:2}"; do
            case $opt in
                ro) ro=",readonly=on" ;;
                serial=*) serial=",serial=${opt#serial=}" ;;
                target=*) target=${opt#target=} ;;
                bus=*) bus=${opt#bus=} ;;
                blk) blk=1 ;;
                nvme) nvme=1 ;;
                ctrl=*) ctrl=${opt#ctrl=} ;;
                vendor=?*) vendor=${opt#vendor=} ;;
                product=?*) product=${opt#product=} ;;
                *) vm_die "unknown option $opt in disk spec $spec"; return 1 ;;
            esac
        done
        [[ ${serial#,serial=} != *,* ]] || { vm_die "no commas in serial numbers, please: $spec"; return 1; }
        [[ $vendor$product != *,* ]] || { vm_die "no commas in vendor or product, please: $spec"; return 1; }
        ((${#vendor} <= 8 && ${#product} <= 16)) ||
            { vm_die "a SCSI vendor has at most 8 characters, a product 16: $spec"; return 1; }
        [[ $blk == 0 || $nvme == 0 ]] || { vm_die "a disk is blk or nvme, not both: $spec"; return 1; }
        [[ ($blk == 0 && $nvme == 0) || -z $vendor$product ]] ||
            { vm_die "vendor= and product= are for SCSI disks: $spec"; return 1; }
        if [[ $nvme == 1 ]]; then
            [[ $lun == - || $lun =~ ^[0-9]+$ ]] || { vm_die "bad LUN in disk spec $spec (- for nvme)"; return 1; }
            [[ $target == 0 && $bus == 0 && -z $ctrl ]] ||
                { vm_die "target=, bus= and ctrl= are for SCSI disks, not nvme: $spec"; return 1; }
            # QEMU's NVMe controller cannot do without a serial, and keeps 20
            # characters of it (the identify data's SN field).
            serial=${serial:-,serial=srnvme$n}
            ((${#serial} - 8 <= 20)) || { vm_die "an NVMe serial has at most 20 characters: $spec"; return 1; }
            dargs+=(
                -drive "if=none,id=d$n,file=$file,format=raw,discard=unmap$ro"
                -device "nvme,id=nvme$n,drive=d$n$serial"
            )
        elif [[ $blk == 1 ]]; then
            [[ $lun == - || $lun =~ ^[0-9]+$ ]] || { vm_die "bad LUN in disk spec $spec (- for blk)"; return 1; }
            [[ $target == 0 && $bus == 0 && -z $ctrl ]] ||
                { vm_die "target=, bus= and ctrl= are for SCSI disks, not blk: $spec"; return 1; }
            dargs+=(
                -drive "if=none,id=d$n,file=$file,format=raw,discard=unmap$ro"
                -device "virtio-blk-pci,drive=d$n$serial"
            )
        else
            [[ $lun =~ ^[0-9]+$ ]] || { vm_die "bad LUN in disk spec $spec"; return 1; }
            [[ $bus =~ ^[0-9]$ ]] || { vm_die "bad bus in disk spec $spec (0-9)"; return 1; }
            ((bus <= maxbus)) || maxbus=$bus
            case ${ctrl:-virtio-scsi} in
                virtio-scsi | pvscsi) ;;
                *) vm_die "unknown controller ctrl=$ctrl in disk spec $spec (virtio-scsi, pvscsi)"; return 1 ;;
            esac
            if [[ -n $ctrl ]]; then
                [[ -z ${busctrl[$bus]:-} || ${busctrl[$bus]} == "$ctrl" ]] ||
                    { vm_die "bus $bus is both ${busctrl[$bus]} and $ctrl: $spec"; return 1; }
                busctrl[$bus]=$ctrl
            fi
            dargs+=(
                -drive "if=none,id=d$n,file=$file,format=raw,discard=unmap$ro"
                -device "scsi-hd,drive=d$n,bus=scsi$bus.0,channel=0,scsi-id=$target,lun=$lun$serial${vendor:+,vendor=$vendor}${product:+,product=$product}"
            )
        fi
        n=$((n + 1))
    done
    # The controllers come first, so that a disk finds its bus.
    for ((b = 0; b <= maxbus; b++)); do
        case ${busctrl[$b]:-virtio-scsi} in
            pvscsi) ctrls+=(-device "pvscsi,id=scsi$b") ;;
            *) ctrls+=(-device "virtio-scsi-pci,id=scsi$b") ;;
        esac
    done
    args+=("${ctrls[@]}" "${dargs[@]}")
    for sm in ${VM_SMBIOS[@]+"${VM_SMBIOS[@]}"}; do
        type=${sm%%:*}
        kv=${sm#*:}
        [[ $type =~ ^[0-3]$ && $sm == *:* && $kv =~ ^[a-z_]+=. ]] ||
            { vm_die "VM_SMBIOS entries are TYPE:KEY=VALUE with TYPE 0 to 3: '$sm'"; return 1; }
        smbios[$type]+=",${kv//,/,,}"
    done
    for type in "${!smbios[@]}"; do
        args+=(-smbios "type=$type${smbios[$type]}")
    done
    if [[ -n ${VM_VPORT_TEXT+set} ]]; then
        # A pipe chardev on a pair of FIFOs that QEMU opens read-write: the
        # text waits in the FIFO until the guest opens its port (QEMU 7.2's
        # file chardev has no input-path). The FIFO stays open here until
        # QEMU is done, or the kernel would drop what it holds.
        vport=$(mktemp -u "$(dirname "$log")/.vport.XXXXXX")
        [[ $vport != *,* ]] || { vm_die "no commas in the log's directory, please"; return 1; }
        mkfifo -m 0600 "$vport.in" "$vport.out" || { vm_die "mkfifo $vport.in failed"; return 1; }
        exec {vfd}<>"$vport.in"
        printf '%s' "$VM_VPORT_TEXT" >&"$vfd"
        args+=(
            -device "virtio-serial-pci,id=vser0"
            -chardev "pipe,id=vport0,path=$vport"
            -device "virtserialport,bus=vser0.0,chardev=vport0,name=${VM_VPORT_NAME:-org.scratchroot.options}"
        )
    fi
    args+=(${VM_EXTRA_ARGS[@]+"${VM_EXTRA_ARGS[@]}"})
    read -r -a qextra <<<"${SR_QEMU_ARGS:-}"
    args+=("${qextra[@]}")
    : >"$log"
    start=$(date +%s.%N)
    VM_STATUS=0
    timeout --kill-after=10 "$SR_VM_TIMEOUT" qemu-system-x86_64 "${args[@]}" \
        </dev/null >>"$log" 2>&1 || VM_STATUS=$?
    # shellcheck disable=SC2034 # a result for callers
    VM_SECONDS=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}')
    if [[ -n $vfd ]]; then
        exec {vfd}>&-
        rm -f "$vport.in" "$vport.out"
    fi
    if [[ $VM_STATUS == 124 || $VM_STATUS == 137 ]]; then
        echo "vm: killed after the ${SR_VM_TIMEOUT}s time limit" >>"$log"
        vm_log "the VM did not finish within ${SR_VM_TIMEOUT}s"
    elif [[ $VM_STATUS != 0 ]]; then
        vm_log "qemu exited with status $VM_STATUS"
    fi
    return 0
}

# vm_lines LOG TAG: the payloads of the guest's "TAG payload" lines.
vm_lines() {
    tr -d '\r' <"$1" | sed -n "s/^$2\\( \\|\$\\)//p"
}

# vm_has LOG TAG: the guest printed a TAG line.
vm_has() {
    tr -d '\r' <"$1" | grep -E "^$2( |\$)" >/dev/null
}

# vm_state LOG KEY: a value from the guest's copy of /run/scratchroot/state.
vm_state() {
    vm_lines "$1" SR-STATE | sed -n "s/^$2=//p" | tail -n 1
}

# ---------------------------------------------------------------------------
# Faults: disks hot-plugged through QMP, initrds with files replaced
# ---------------------------------------------------------------------------

# vm_qmp_open BASE: a QMP monitor on a pipe chardev (two FIFOs, BASE.in and
# BASE.out) for the next vm_run: sets VM_QMP_ARGS, to put in VM_EXTRA_ARGS.
# The FIFOs are opened read-write on both sides, so nobody blocks on open
# and what is written waits in them; vm_hotplug_when talks to it.
vm_qmp_open() {
    local base=${1:?usage: vm_qmp_open BASE}
    [[ $base != *,* ]] || { vm_die "no commas in the QMP path, please: $base"; return 1; }
    rm -f "$base.in" "$base.out"
    mkfifo -m 0600 "$base.in" "$base.out" || { vm_die "mkfifo $base.in failed"; return 1; }
    # shellcheck disable=SC2034 # a result for callers
    VM_QMP_ARGS=(-chardev "pipe,id=qmp0,path=$base" -mon "chardev=qmp0,mode=control")
}

# vm_qmp_hotplug_cmds NODE FILE LUN [BUS]: the QMP commands (one JSON object
# a line) that add the raw image FILE as a scsi-hd on LUN of virtio-scsi
# controller BUS (default 0), target 0.
vm_qmp_hotplug_cmds() {
    local node=$1 file=$2 lun=$3 bus=${4:-0}
    [[ $file != *[\"\\]* ]] || { vm_die "no quotes or backslashes in $file, please"; return 1; }
    printf '{"execute":"blockdev-add","arguments":{"driver":"raw","node-name":"%s","discard":"unmap","file":{"driver":"file","filename":"%s"}}}\n' \
        "$node" "$file"
    printf '{"execute":"device_add","arguments":{"driver":"scsi-hd","id":"dev-%s","drive":"%s","bus":"scsi%s.0","channel":0,"scsi-id":0,"lun":%s}}\n' \
        "$node" "$node" "$bus" "$lun"
}

# vm_hotplug_when LOG REGEX NTH DELAY BASE REPORT CMD...: in the background,
# wait until NTH lines of the console log LOG (not the kernel's echo of its
# command line) match the extended REGEX, sleep DELAY seconds, then send
# the QMP commands CMD (JSON objects) to the monitor of vm_qmp_open BASE.
# REPORT gets what happened: "matched T", "sent T" (T in seconds since the
# driver started, just before the boot), QMP's replies, and "done" or
# "gave up ...". Sets VM_HOTPLUG_PID; the caller ends it (kill, wait) after
# vm_run, should it still be waiting.
vm_hotplug_when() {
    local log=$1 regex=$2 nth=$3 delay=$4 base=$5 report=$6
    shift 6
    (
        local in out t0 now line n=0 want=$#
        exec {in}<>"$base.in" {out}<>"$base.out"
        t0=$(date +%s.%N)
        _el() { awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}'; }
        : >"$report"
        while (($({ [[ -f $log ]] && tr -d '\r' <"$log"; } | grep -v 'Command line' | grep -cE -- "$regex") < nth)); do
            now=$(_el)
            if ((${now%.*} > SR_VM_TIMEOUT)); then
                echo "gave up: not $nth console lines matched '$regex' in ${SR_VM_TIMEOUT} s" >>"$report"
                exit 1
            fi
            sleep 0.2
        done
        echo "matched $(_el)" >>"$report"
        sleep "$delay"
        printf '%s\n' '{"execute":"qmp_capabilities"}' "$@" >&"$in"
        echo "sent $(_el)" >>"$report"
        want=$((want + 1))
        while ((n < want)) && IFS= read -r -t 20 -u "$out" line; do
            line=${line%$'\r'}
            echo "qmp: $line" >>"$report"
            [[ $line == '{"return"'* || $line == '{"error"'* ]] && n=$((n + 1))
        done
        if ((n < want)); then
            echo "gave up: $n of $want QMP replies in 20 s" >>"$report"
            exit 1
        fi
        echo "done $(_el)" >>"$report"
    ) &
    # shellcheck disable=SC2034 # a result for callers
    VM_HOTPLUG_PID=$!
}

# vm_initrd_append BASE TREE OUT: OUT is the (uncompressed, or compressed
# as a whole by the kernel's rules) initrd BASE followed by a newc archive of
# the files and symlinks under TREE (no directories: they exist in BASE).
# The kernel unpacks the archives in order, so TREE's files replace BASE's.
vm_initrd_append() {
    local base=$1 tree=$2 out=$3 tmp
    [[ -f $base && -d $tree ]] || { vm_die "usage: vm_initrd_append BASE TREE OUT"; return 1; }
    tmp=$(mktemp "$(dirname "$out")/.initrd.XXXXXX") || return 1
    if ! cp "$base" "$tmp" || ! (cd "$tree" && find . -mindepth 1 ! -type d | LC_ALL=C sort |
        cpio -o -H newc -R 0:0 --reproducible --quiet) >>"$tmp"; then
        rm -f "$tmp"
        vm_die "cannot append $tree to a copy of $base"
        return 1
    fi
    rm -f "$out"
    mv "$tmp" "$out"
}
