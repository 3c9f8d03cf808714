#!/bin/bash
# Runs shellcheck over every shell file the project has, bats files included.
set -euo pipefail
cd "${SR_SOURCE:-$(dirname "$0")/../..}"

mapfile -t files < <(git ls-files -co --exclude-standard |
    while read -r f; do
        [ -f "$f" ] || continue
        case "$f" in
            # bats files are read as bash with bats' own rules
            *.sh | *.bash | *.bats | .ci/run) echo "$f" ;;
            *) head -n1 "$f" | grep -Eq '^#!.*(/|env )(ba|da)?sh\b' && echo "$f" ;;
        esac
    done)

[ "${#files[@]}" -gt 0 ] || { echo "no shell files found" >&2; exit 1; }
echo "checking ${#files[@]} files"
shellcheck -x "${files[@]}"
echo "shellcheck: ${#files[@]} files clean"
