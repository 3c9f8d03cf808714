#!/bin/bash
# Builds a fuzz target with libFuzzer, ASan and UBSan, and runs it for a
# while on its seed corpus. Fails on any crash or broken property.
#   test/fuzz/run.sh TARGET SECONDS [LIBFUZZER-OPTION...]
# TARGET: options, smbios, blob or hctl. The binary, the corpus it grows
# and any crash input go to $SR_BUILD/fuzz/.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 TARGET SECONDS [LIBFUZZER-OPTION...]" >&2
    exit 2
fi
target=$1
seconds=$2
shift 2

here=$(cd "$(dirname "$0")" && pwd)
source_root=${SR_SOURCE:-$(cd "$here/../.." && pwd)}
build=${SR_BUILD:-$source_root/build}
out=$build/fuzz
cc=${FUZZ_CC:-clang}

case $target in
    options|smbios|blob|hctl) ;;
    *) echo "$0: unknown target '$target'" >&2; exit 2 ;;
esac
if ! command -v "$cc" >/dev/null; then
    # A failure, not a skip: test/deps installs clang.
    echo "$0: $cc not found: the fuzz targets need clang with libFuzzer" >&2
    exit 1
fi
if [ ! -f "$build/config.h" ]; then
    echo "$0: no config.h in $build: set SR_BUILD to a configured build directory" >&2
    exit 2
fi

mkdir -p "$out/corpus-$target"
bin=$out/fuzz-$target
# Built under a temporary name and renamed: runs for other targets, or the
# same one from another build, may be going on at the same time.
# Every source file but main(): the linker keeps what the target uses.
sources=()
for f in "$source_root"/src/*.c; do
    [ "$(basename "$f")" = main.c ] || sources+=("$f")
done
# src/crypt.c calls libcryptsetup when the build found it.
libs=(-lblkid)
if grep -q '^#define HAVE_LIBCRYPTSETUP 1' "$build/config.h"; then
    libs+=(-lcryptsetup)
fi
# src/stripe.c and src/azure.c likewise.
if grep -q '^#define HAVE_LIBDEVMAPPER 1' "$build/config.h"; then
    libs+=(-ldevmapper)
fi
if grep -q '^#define HAVE_LIBNTFS_3G 1' "$build/config.h"; then
    libs+=(-lntfs-3g)
fi
tmp=$(mktemp "$out/.fuzz-$target.XXXXXX")
trap 'rm -f "$tmp"' EXIT
"$cc" -std=c11 -D_GNU_SOURCE -g -O1 \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -Wall -Wextra -Wno-unused-command-line-argument \
    -I "$source_root/src" -I "$build" -I /usr/include/blkid \
    "$here/fuzz-$target.c" "${sources[@]}" \
    "${libs[@]}" -o "$tmp"
mv -f "$tmp" "$bin"
trap - EXIT

# The seed corpus is only read: libFuzzer writes new inputs to the first
# directory it is given.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# libFuzzer's own error exit code is 77, which meson reads as a skip.
exec "$bin" -max_total_time="$seconds" -timeout=10 -error_exitcode=1 -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="$out/crash-$target-" "$@" \
    "$out/corpus-$target" "$here/corpus/$target"
