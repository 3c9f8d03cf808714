#!/bin/bash
# Renders every man page the build made (build/man/*.N) with man -l at 80
# columns, with all of groff's warnings on (-ww): each must render to text,
# with no warning on stderr; and every man/*.scd must have given a page. TAP.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=${SR_SOURCE:-$(cd "$here/../.." && pwd)}
build=${SR_BUILD:-$src/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
ok() {
    n=$((n + 1))
    echo "ok $n - $*"
}
notok() {
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - $*"
}

# render PAGE OUT ERR: man -l at 80 columns, every groff warning (-ww).
render() {
    LC_ALL=C.UTF-8 MANWIDTH=80 MAN_KEEP_FORMATTING='' man -P cat --warnings=w -l "$1" >"$2" 2>"$3"
}

command -v man >/dev/null || { notok "man is installed (man-db)"; echo "1..$n"; exit 1; }

# The check itself: a page with an undefined macro must be caught.
printf '.TH BROKEN 8\n.SH NAME\nbroken \\- a page\n.XX undefined\n' >"$tmp/broken.8"
render "$tmp/broken.8" "$tmp/out" "$tmp/err"
if [[ -s $tmp/err ]]; then
    ok "a page with an undefined macro gives a warning ($(head -n 1 "$tmp/err"))"
else
    notok "a page with an undefined macro gives a warning (none seen: the check is blind)"
fi

shopt -s nullglob
pages=("$build"/man/*.[1-9])
if ((${#pages[@]} == 0)); then
    notok "the build made man pages (none in $build/man)"
fi
for scd in "$src"/man/*.scd; do
    page=${scd##*/}
    page=${page%.scd}
    if [[ -f $build/man/$page ]]; then
        ok "$page was built from ${scd#"$src"/}"
    else
        notok "$page was built from ${scd#"$src"/} (not in $build/man)"
    fi
done

for page in "${pages[@]}"; do
    name=${page##*/}
    if ! render "$page" "$tmp/out" "$tmp/err"; then
        notok "$name: man -l exits 0"
        sed 's/^/#   /' "$tmp/err"
        continue
    fi
    lines=$(wc -l <"$tmp/out")
    # Literal blocks (examples) are not wrapped: their width is told, not judged.
    width=$(wc -L <"$tmp/out")
    echo "# $name: $lines lines, widest $width columns"
    if ((lines > 10)) && grep -q '^NAME' "$tmp/out"; then
        ok "$name: renders to text with a NAME section"
    else
        notok "$name: renders to text with a NAME section ($lines lines)"
    fi
    if [[ -s $tmp/err ]]; then
        notok "$name: no troff warnings"
        sed 's/^/#   /' "$tmp/err"
    else
        ok "$name: no troff warnings"
    fi
done

echo "1..$n"
echo "# man: $((n - failed)) passed, $failed failed"
((failed == 0))
