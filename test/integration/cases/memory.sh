# shellcheck shell=bash disable=SC2034 # lib.sh reads what the cases set (IMG, DEVNO, VG...)
# Loop cases: runs under valgrind, or the sanitizer the helper was built with.

CASES+=(
    "c_valgrind_scratch|memory: scratch run is clean under valgrind (or the sanitizer)"
    "c_valgrind_refused|memory: refusal run is clean under valgrind (or the sanitizer)"
)

# A helper built with AddressSanitizer cannot run under valgrind: there the
# sanitizer (and its leak checker) watches the same run instead.
sanitized() {
    grep -q __asan_init "$SR_HELPER"
}

check_valgrind() {
    expect_rc 0
    if sanitized; then
        echo "# the helper is built with a sanitizer: it checked this run, not valgrind"
        if grep -qE 'Sanitizer|runtime error' "$R/stderr"; then
            fail "sanitizer: $(grep -E 'Sanitizer|runtime error' "$R/stderr" | head -n 3 | tr '\n' ' ')"
        fi
        return
    fi
    grep -q 'ERROR SUMMARY: 0 errors' "$R/valgrind.log" 2>/dev/null ||
        fail "valgrind: $(grep -E 'ERROR SUMMARY|definitely|indirectly' "$R/valgrind.log" 2>/dev/null | tr '\n' ' ')"
}

c_valgrind_scratch() {
    one_disk scratch 256M || return
    sanitized || VG=1
    in_ns ns_run r "rd.scratch.lun=1"
    use r || return
    check_valgrind
    expect_state backing=scratch format=blank
}

c_valgrind_refused() {
    one_disk foreign 64M make_ext4_data || return
    sanitized || VG=1
    in_ns ns_run r "rd.scratch.lun=1"
    use r || return
    check_valgrind
    expect_state backing=tmpfs
    expect_unchanged "$IMG" "$SHA0"
}
