#!/bin/bash
# The Debian package: built with dpkg-buildpackage from a copy of the
# tracked files, its contents and control data checked, installed into and
# removed from a throwaway root with dpkg --root, and checked by lintian.
# Needs root (the installed files belong to root), dpkg-dev, debhelper,
# lintian and the build dependencies in debian/control (see test/deps).
# TAP on stdout.
set -uo pipefail

src=${SR_SOURCE:-$(cd "$(dirname "$0")/../.." && pwd)}
t_start=$SECONDS
n=0
failed=0

ok() {
    n=$((n + 1))
    echo "ok $n - $*"
}

not_ok() {
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - $*"
}

# check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# Runs a command with its output thrown away.
# shellcheck disable=SC2317 # called through check
quiet() {
    "$@" >/dev/null 2>&1
}

# Prints a file as TAP comments.
show() {
    sed 's/^/# /' "$1"
}

finish() {
    echo "# total $((SECONDS - t_start)) s"
    echo "1..$n"
    [ "$failed" -eq 0 ] || { echo "# $failed of $n failed"; exit 1; }
    exit 0
}

# Stops at a failure the later checks depend on.
fatal() {
    not_ok "$*"
    finish
}

[ "$(id -u)" -eq 0 ] || fatal "running as root (dpkg --root installs files owned by root)"
for tool in git dpkg-buildpackage dpkg-deb dpkg lintian meson python3 unshare; do
    command -v "$tool" >/dev/null || fatal "$tool is installed (run test/deps)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scratchroot-package.XXXXXX") || fatal "mktemp -d"
trap 'rm -rf "$tmp"' EXIT
echo "# working in $tmp"

# The tracked files only: build directories and other untracked files of
# the working tree stay out, as in a fresh clone.
mkdir "$tmp/src"
if ! git -C "$src" ls-files -z | (cd "$src" && tar --null -T - -cf -) | tar -xf - -C "$tmp/src"; then
    fatal "copying the tracked files of $src"
fi
[ -f "$tmp/src/debian/control" ] || fatal "debian/control is tracked"
ok "copied $(git -C "$src" ls-files | wc -l) tracked files"

t=$SECONDS
if (cd "$tmp/src" && dpkg-buildpackage -b -us -uc) >"$tmp/build.log" 2>&1; then
    ok "dpkg-buildpackage -b -us -uc ($((SECONDS - t)) s)"
else
    show "$tmp/build.log"
    fatal "dpkg-buildpackage -b -us -uc ($((SECONDS - t)) s, log above)"
fi
if grep -qE '^[^ ]*: warning:|warning: ' "$tmp/build.log"; then
    echo "# warnings in the build log:"
    grep -E 'warning: ' "$tmp/build.log" | sed 's/^/#   /'
fi

version=$(cd "$tmp/src" && dpkg-parsechangelog -S Version)
upstream=$(cd "$tmp/src" && meson introspect --projectinfo meson.build |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')
check "changelog version $version is meson's project version $upstream, Debian revision 1" \
    test "$version" = "$upstream-1"

mapfile -t debs < <(find "$tmp" -maxdepth 1 -name "scratchroot_${version}_*.deb")
[ "${#debs[@]}" -eq 1 ] || fatal "one scratchroot_${version}_*.deb in $tmp (found ${#debs[@]})"
deb=${debs[0]}
changes=$(find "$tmp" -maxdepth 1 -name "scratchroot_${version}_*.changes" | head -n1)
ok "built ${deb##*/} ($(stat -c %s "$deb") bytes)"

# Contents.
dpkg-deb -c "$deb" >"$tmp/contents" || fatal "dpkg-deb -c"
show "$tmp/contents"
# Path, mode and owner of each entry, without the leading ".".
awk '{ p = $6; sub(/^\./, "", p); print p, $1, $2 }' "$tmp/contents" >"$tmp/entries"

must=(
    /usr/sbin/scratchroot
    /usr/sbin/scratchroot-mkinitramfs
    /usr/lib/dracut/modules.d/90scratchroot/module-setup.sh
    /usr/lib/dracut/modules.d/90scratchroot/scratchroot-pre-pivot.sh
    /usr/lib/dracut/modules.d/90scratchroot/scratchroot.service
    /usr/share/initramfs-tools/hooks/scratchroot
    /usr/share/initramfs-tools/scripts/local-bottom/scratchroot
    /usr/share/initramfs-tools/scripts/init-premount/scratchroot
    /usr/lib/systemd/system/systemd-growfs@-.service.d/scratchroot.conf
    /usr/lib/systemd/system/systemd-growfs-root.service.d/scratchroot.conf
    /usr/lib/systemd/system/scratchroot-trim.service
    /usr/lib/systemd/system/scratchroot-trim.timer
    /usr/lib/systemd/system/timers.target.wants/scratchroot-trim.timer
    /usr/share/man/man8/scratchroot.8.gz
    /usr/share/man/man8/scratchroot-mkinitramfs.8.gz
    /usr/sbin/scratchroot-qemu
    /usr/share/man/man8/scratchroot-qemu.8.gz
    /usr/share/doc/scratchroot/README.md.gz
    /usr/share/doc/scratchroot/docs/security.md.gz
    /usr/share/doc/scratchroot/docs/performance.md.gz
    /usr/share/doc/scratchroot/docs/distros.md.gz
    /usr/share/doc/scratchroot/docs/memory-win.png
    /usr/share/doc/scratchroot/README.Debian.gz
    /usr/share/doc/scratchroot/copyright
)
executables=(
    /usr/sbin/scratchroot
    /usr/sbin/scratchroot-mkinitramfs
    /usr/sbin/scratchroot-qemu
    /usr/lib/dracut/modules.d/90scratchroot/module-setup.sh
    /usr/share/initramfs-tools/hooks/scratchroot
    /usr/share/initramfs-tools/scripts/local-bottom/scratchroot
    /usr/share/initramfs-tools/scripts/init-premount/scratchroot
)
missing=()
for p in "${must[@]}"; do
    grep -q "^$p " "$tmp/entries" || missing+=("$p")
done
check "the package carries ${#must[@]} must-have files${missing[*]:+; missing: ${missing[*]}}" \
    test "${#missing[@]}" -eq 0
wrong=()
for p in "${executables[@]}"; do
    grep -qx "$p -rwxr-xr-x root/root" "$tmp/entries" || wrong+=("$p")
done
check "${#executables[@]} executables are 0755 root/root in the package${wrong[*]:+; not: ${wrong[*]}}" \
    test "${#wrong[@]}" -eq 0

# Whatever meson installs is packaged, without a list kept here.
obj=$(find "$tmp/src" -maxdepth 1 -type d -name 'obj-*' | head -n1)
if [ -n "$obj" ] && meson introspect --installed "$obj" >"$tmp/installed.json"; then
    python3 -c 'import json, sys
for p in sorted(json.load(open(sys.argv[1])).values()):
    print(p + ".gz" if p.startswith("/usr/share/man/") and not p.endswith(".gz") else p)' \
        "$tmp/installed.json" >"$tmp/meson-files"
    unpackaged=()
    while read -r p; do
        grep -q "^$p " "$tmp/entries" || unpackaged+=("$p")
    done <"$tmp/meson-files"
    check "all $(wc -l <"$tmp/meson-files") files meson installs are packaged${unpackaged[*]:+; not: ${unpackaged[*]}}" \
        test "${#unpackaged[@]}" -eq 0
else
    not_ok "meson introspect --installed on the package build's directory"
fi

# Control data.
dpkg-deb -I "$deb" >"$tmp/info" || fatal "dpkg-deb -I"
show "$tmp/info"
field() {
    dpkg-deb -f "$deb" "$1"
}
check "Package is scratchroot" test "$(field Package)" = scratchroot
check "Version is $version" test "$(field Version)" = "$version"
depends=$(field Depends)
echo "# Depends: $depends"
check "Depends has e2fsprogs" grep -qE '(^|, )e2fsprogs( |,|$)' <<<"$depends"
check "Depends has libblkid1 (from shlibs)" grep -qE '(^|, )libblkid1( |,|$)' <<<"$depends"
# Loaded on demand (dlopen), so named in debian/control, not found by shlibs.
for lib in libcryptsetup12 libdevmapper1.02.1 libntfs-3g89; do
    check "Depends has $lib" grep -qE "(^|, )${lib//./\\.}( |,|\$)" <<<"$depends"
done
recommends=$(field Recommends)
echo "# Recommends: $recommends"
check "Recommends has initramfs-tools | dracut-core" \
    grep -qE 'initramfs-tools \| dracut-core' <<<"$recommends"
check "Recommends has cpio" grep -qE '(^|, )cpio(,|$)' <<<"$recommends"
check "Suggests has busybox-static" grep -qE '(^|, )busybox-static(,|$)' <<<"$(field Suggests)"
# No maintainer script and no trigger: installing rebuilds no initramfs.
dpkg-deb --ctrl-tarfile "$deb" | tar -tf - | sed 's|^\./||; /^$/d' | sort >"$tmp/control-members"
check "control archive holds only control and md5sums ($(tr '\n' ' ' <"$tmp/control-members"))" \
    test "$(tr '\n' ' ' <"$tmp/control-members")" = "control md5sums "

# A throwaway root with an empty dpkg database.
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
if dpkg --root="$root" --log="$tmp/dpkg.log" --force-script-chrootless --force-depends -i "$deb" \
    >"$tmp/install.log" 2>&1; then
    ok "dpkg --root -i"
else
    show "$tmp/install.log"
    fatal "dpkg --root -i (log above)"
fi
check "dpkg --root -s says install ok installed" \
    test "$(dpkg --root="$root" -s scratchroot 2>/dev/null | sed -n 's/^Status: //p')" = "install ok installed"
absent=()
for p in "${must[@]}"; do
    [ -f "$root$p" ] || absent+=("$p")
done
check "${#must[@]} must-have files installed${absent[*]:+; absent: ${absent[*]}}" test "${#absent[@]}" -eq 0
modes=$(stat -c '%a %U:%G' "$root/usr/sbin/scratchroot")
check "installed helper is 0755 root:root ($modes)" test "$modes" = "755 root:root"

if "$root/usr/sbin/scratchroot" --help >"$tmp/help" 2>&1; then
    ok "installed helper runs: --help exits 0"
else
    show "$tmp/help"
    not_ok "installed helper runs: --help exits 0"
fi
check "installed helper's --version says $upstream ($("$root/usr/sbin/scratchroot" --version 2>&1))" \
    test "$("$root/usr/sbin/scratchroot" --version 2>&1)" = "scratchroot $upstream"
check "installed scratchroot-mkinitramfs --help exits 0" quiet "$root/usr/sbin/scratchroot-mkinitramfs" --help
check "installed scratchroot-qemu --help exits 0" quiet "$root/usr/sbin/scratchroot-qemu" --help

# Opt-in only: dracut leaves the module out unless asked.
rc=0
bash -c '. "$1" && check' _ "$root/usr/lib/dracut/modules.d/90scratchroot/module-setup.sh" || rc=$?
check "installed dracut module's check() returns 255 (got $rc)" test "$rc" -eq 255

# The installed helper does nothing without an rd.scratch option, and does
# something with one. Each run gets its own mount namespace with a fresh
# /run, an empty sysfs and no config file, so nothing reaches the host.
mkdir -p "$tmp/newroot" "$tmp/sysfs"
run_setup() {
    # shellcheck disable=SC2016 # expanded by the inner bash
    unshare -m --propagation private bash -c '
        # The helper takes only a mount point for the root. Mounted before
        # the empty /run, where mount(8) would leave its utab directory.
        mount -t tmpfs -o ro tmpfs "$2" || exit 99
        mount -t tmpfs tmpfs /run || exit 99
        "$1" setup --newroot "$2" --cmdline "$3" --sysfs "$4" --config "$5" >"$6" 2>&1
        rc=$?
        find /run -mindepth 1 >"$7"
        exit $rc' _ "$root/usr/sbin/scratchroot" "$tmp/newroot" "$1" "$tmp/sysfs" "$tmp/no-config" \
        "$tmp/setup.out" "$tmp/setup.run"
}
rc=0
run_setup "BOOT_IMAGE=/vmlinuz root=LABEL=image ro quiet rd.scratchy=1" || rc=$?
check "setup without rd.scratch options: exit 0 (got $rc)" test "$rc" -eq 0
check "setup without rd.scratch options: prints nothing ($(wc -c <"$tmp/setup.out") bytes)" \
    test ! -s "$tmp/setup.out"
check "setup without rd.scratch options: writes nothing under /run ($(wc -l <"$tmp/setup.run") entries)" \
    test ! -s "$tmp/setup.run"
rc=0
run_setup "root=LABEL=image ro rd.scratch.lun=9:9:9:9 rd.scratch.timeout=0 rd.scratch.fallback=none" || rc=$?
show "$tmp/setup.out"
check "setup with rd.scratch.lun= and no such disk: exit 0 (got $rc)" test "$rc" -eq 0
check "setup with rd.scratch.lun= and no such disk: says 'no disk'" grep -q "no disk" "$tmp/setup.out"
check "setup with rd.scratch.lun= and no such disk: writes /run/scratchroot/state" \
    grep -qx /run/scratchroot/state "$tmp/setup.run"

# Removal.
if dpkg --root="$root" --log="$tmp/dpkg.log" --force-script-chrootless --force-depends -r scratchroot \
    >"$tmp/remove.log" 2>&1; then
    ok "dpkg --root -r scratchroot"
else
    show "$tmp/remove.log"
    not_ok "dpkg --root -r scratchroot (log above)"
fi
find "$root" -path "$root/var/lib/dpkg" -prune -o -path "$root/var/log" -prune -o -type f -print >"$tmp/left"
check "no file left outside dpkg's database after removal ($(wc -l <"$tmp/left") left)" test ! -s "$tmp/left"
[ -s "$tmp/left" ] && show "$tmp/left"
status=$(dpkg --root="$root" -s scratchroot 2>/dev/null | sed -n 's/^Status: //p')
check "dpkg --root no longer has scratchroot installed (status '${status:-none}')" \
    test "$status" != "install ok installed"

# lintian over the .changes: the .deb, its dbgsym and the .buildinfo.
t=$SECONDS
rc=0
lintian --fail-on error --display-info --tag-display-limit 0 "$changes" >"$tmp/lintian.log" 2>&1 || rc=$?
grep -v '^running with root privileges is not recommended!$' "$tmp/lintian.log" >"$tmp/lintian.tags"
show "$tmp/lintian.tags"
echo "# lintian: $(grep -c '^E: ' "$tmp/lintian.tags") errors, $(grep -c '^W: ' "$tmp/lintian.tags") warnings, $(grep -c '^I: ' "$tmp/lintian.tags") info ($((SECONDS - t)) s)"
check "lintian reports no error (exit $rc)" test "$rc" -eq 0

finish
