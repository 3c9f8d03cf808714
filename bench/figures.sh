# shellcheck shell=bash
# The runtime figures of bench/run: boots with guest workloads
# (vm/guest/{memwin,runtime,ovlopts,thin}, run by the test root's init
# through sr.work=) on the scratchroot initrd, and their table rows. Sourced
# by bench/run after its helpers (say, die, sample, bad, wait_quiet, median,
# calc, fmt, row) are defined. See bench/README.md.

FIG_BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Sizes: full run, and --smoke (a check that everything runs and parses).
fig_sizes() {
    if [[ $1 == smoke ]]; then
        MEMWIN_MIB=256 RT_MIB=32 RT_FILES=200 RT_REPS=1 OVL_DIRS=4 OVL_FILES=4 OVL_KIB=64
        THIN_MIB=64 THIN_PAUSE=2 THIN_FILES=500 FIG_TIMEOUT=900
    else
        MEMWIN_MIB=2048 RT_MIB=256 RT_FILES=2000 RT_REPS=3 OVL_DIRS=16 OVL_FILES=16 OVL_KIB=512
        THIN_MIB=512 THIN_PAUSE=4 THIN_FILES=20000 FIG_TIMEOUT=2400
    fi
    # Overrides from the environment (a loaded machine takes long for the
    # full sizes): BENCH_MEMWIN_MIB, BENCH_RT_MIB, BENCH_RT_FILES,
    # BENCH_RT_REPS, BENCH_OVL_DIRS, BENCH_OVL_FILES, BENCH_OVL_KIB,
    # BENCH_THIN_MIB, BENCH_THIN_FILES.
    local v n
    for v in MEMWIN_MIB RT_MIB RT_FILES RT_REPS OVL_DIRS OVL_FILES OVL_KIB THIN_MIB THIN_FILES; do
        n=BENCH_$v
        [[ -n ${!n:-} ]] || continue
        [[ ${!n} =~ ^[1-9][0-9]{0,5}$ ]] || die "$n takes a number, 1..999999"
        printf -v "$v" '%s' "${!n}"
    done
    MEMWIN_MEM=512
    GOAL_SHMEM_KIB=1024
    GOAL_SEQ_RATIO=0.95
    GOAL_FSYNC_RATIO=3
    GOAL_THIN_KIB=$((16 * 1024))
    GOAL_DELETE_RATIO=1.1
    # rd.scratch.encrypt=1's writes against the plain scratch's.
    GOAL_CRYPT_RATIO=0.5
}

# alloc_kib IMAGE: the blocks IMAGE holds on the host, KiB.
alloc_kib() {
    echo $(($(stat -c '%b * %B' "$1") / 1024))
}

# thin_poll LOG IMAGE OUT STOPFILE: while the VM runs, record the image's
# allocation each time the guest prints a new "SR-THIN phase=" line (the
# guest pauses after each), as "PHASE KIB" lines in OUT.
thin_poll() {
    local log=$1 img=$2 out=$3 stop=$4 seen=0 n phase
    while [[ ! -e $stop ]]; do
        n=$(tr -d '\r' 2>/dev/null <"$log" | grep -c '^SR-THIN phase=' || true)
        if ((n > seen)); then
            sleep 1
            phase=$(tr -d '\r' <"$log" | sed -n 's/^SR-THIN phase=\([a-z]*\).*/\1/p' | sed -n "${n}p")
            printf '%s %s\n' "$phase" "$(alloc_kib "$img")" >>"$out"
            seen=$n
        fi
        sleep 0.5
    done
}

# fig_boot NAME MEM DISK CMDLINE: one boot of the scratchroot initrd with the
# test root on LUN 0 and, DISK being "fresh", a new sparse 64 GiB scratch
# disk on LUN 1, "reuse:OTHER" the disk boot OTHER left (kept), or "none" no
# disk. Its files go to $RUN/fig-NAME/. Returns 1 (after bad) when the boot
# cannot be used.
fig_boot() {
    local name=$1 mem=$2 disk=$3 cmdline=$4 dir log img poller="" load
    dir=$RUN/fig-$name
    log=$dir/console.log
    img=$dir/scratch.img
    mkdir -p "$dir"
    vm_rootimg "$dir/root.img" || die "cannot copy the root image"
    local -a disks=("$dir/root.img:0")
    case $disk in
        fresh) vm_disk "$img" "$DISK_SIZE" || die "cannot make the scratch disk" ;;
        reuse:*) mv "$RUN/fig-${disk#reuse:}/scratch.img" "$img" || die "no scratch disk from ${disk#reuse:}" ;;
        none) img="" ;;
    esac
    [[ -z $img ]] || disks+=("$img:$SCRATCH_LUN")
    wait_quiet
    load=$(cut -d' ' -f1 /proc/loadavg)
    say "figure boot $name (${mem} MiB, disk: $disk; load $load): $cmdline"
    if [[ -n $img ]]; then
        printf 'boot %s\n' "$(alloc_kib "$img")" >"$dir/alloc"
        rm -f "$dir/.stop"
        thin_poll "$log" "$img" "$dir/alloc" "$dir/.stop" &
        poller=$!
    fi
    SR_VM_TIMEOUT=$FIG_TIMEOUT VM_MEM=$mem INITRD=$RUN/initrd-scratchroot.img vm_run "$log" \
        "$(path_cmdline) $cmdline" "${disks[@]}" || die "cannot start QEMU"
    touch "$dir/.stop"
    [[ -z $poller ]] || wait "$poller" 2>/dev/null || true
    rm -f "$dir/.stop"
    if [[ -n $img ]]; then
        sync "$img"
        printf 'end %s\n' "$(alloc_kib "$img")" >>"$dir/alloc"
    fi
    say "  $name: ${VM_SECONDS} s wall, load $(cut -d' ' -f1 /proc/loadavg)${img:+, allocation (KiB): $(tr '\n' ' ' <"$dir/alloc")}"
    if [[ $VM_STATUS != 0 ]]; then
        bad "$dir" "QEMU exited with status $VM_STATUS"
        return 1
    fi
    if ! vm_has "$log" SR-DONE || vm_has "$log" "SR-DONE watchdog"; then
        bad "$dir" "the guest init did not finish on its own"
        return 1
    fi
    rm -f "$dir/root.img"
    return 0
}

# fig_alloc NAME PHASE: KiB recorded for PHASE of boot NAME.
fig_alloc() {
    [[ -f $RUN/fig-$1/alloc ]] || return 0
    awk -v p="$2" '$1 == p {v = $2} END {if (v != "") print v}' "$RUN/fig-$1/alloc"
}

# fig_kv LOG TAG FILTER KEY: the values of KEY=... in the TAG lines that
# contain FILTER (a fixed string, may be empty), one a line.
fig_kv() {
    { [[ -f $1 ]] && vm_lines "$1" "$2" | grep -F -- "$3" | tr ' ' '\n' | sed -n "s/^$4=//p"; } || true
}

fig_median() {
    sort -g | awk '{a[NR] = $1} END {
        if (NR == 0) exit
        if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# fig_logs full|smoke: which boot's log holds which figure.
fig_logs() {
    if [[ $1 == smoke ]]; then
        LOG_MEMWIN_SCRATCH=$RUN/fig-scratch/console.log
        LOG_RUNTIME=$LOG_MEMWIN_SCRATCH
        LOG_RUNTIME_CRYPT=$RUN/fig-scratch-crypt/console.log
        FIG_THIN1=scratch
        FIG_TRIM="thin-discard0"
    else
        LOG_MEMWIN_SCRATCH=$RUN/fig-memwin-scratch/console.log
        LOG_RUNTIME=$RUN/fig-runtime/console.log
        LOG_RUNTIME_CRYPT=$RUN/fig-runtime-crypt/console.log
        FIG_THIN1="thin-discard1"
        FIG_TRIM="thin-trim"
    fi
    LOG_MEMWIN_TMPFS=$RUN/fig-memwin-tmpfs/console.log
}

# The figure boots. Full run: one boot per figure; --smoke: the scratch
# workloads share one boot.
fig_run() {
    # The guest's watchdog ends it a minute before the host's time limit.
    local base="sr.watchdog=$((FIG_TIMEOUT - 60)) rd.scratch.lun=$SCRATCH_LUN"
    local mw="sr.memwin.mib=$MEMWIN_MIB"
    local rt="sr.rt.mib=$RT_MIB sr.rt.files=$RT_FILES sr.rt.reps=$RT_REPS"
    local ovl="sr.ovl.dirs=$OVL_DIRS sr.ovl.files=$OVL_FILES sr.ovl.kib=$OVL_KIB"
    local thin="sr.thin.mib=$THIN_MIB sr.thin.pause=$THIN_PAUSE sr.thin.files=$THIN_FILES"
    # The periodic trim (scratchroot-trim.timer's fstrim) on the default
    # discard=0; --smoke does it in the discard=0 boot, a full run in a boot
    # of its own so that the reused disk below still holds its leftovers.
    local trim=""
    fig_logs "$1"
    if [[ $1 == smoke ]]; then
        trim=" sr.thin.trim=1"
        fig_boot scratch "$MEMWIN_MEM" fresh \
            "$base $mw $rt $ovl $thin rd.scratch.discard=1 sr.work=memwin,runtime,ovlopts,thin" || true
        fig_boot scratch-crypt "$MEMWIN_MEM" fresh "$base $rt rd.scratch.encrypt=1 sr.work=runtime" || true
    else
        fig_boot memwin-scratch "$MEMWIN_MEM" fresh "$base $mw sr.work=memwin" || true
        fig_boot runtime 1024 fresh "$base $rt $ovl sr.work=runtime,ovlopts" || true
        fig_boot runtime-crypt 1024 fresh "$base $rt rd.scratch.encrypt=1 sr.work=runtime" || true
        fig_boot thin-discard1 1024 fresh "$base $thin rd.scratch.discard=1 sr.work=thin" || true
        fig_boot thin-trim 1024 fresh "$base $thin rd.scratch.discard=0 sr.thin.trim=1 sr.work=thin" || true
    fi
    fig_boot memwin-tmpfs "$MEMWIN_MEM" none "$base $mw sr.work=memwin" || true
    fig_boot thin-discard0 1024 fresh "$base $thin rd.scratch.discard=0$trim sr.work=thin" || true
    # The disk of the discard=0 boot once more: the deleted data is still
    # allocated on the host; the helper finds its own filesystem of the last
    # boot and formats it again, discarding what it held.
    if [[ -f $RUN/fig-thin-discard0/scratch.img ]]; then
        fig_boot reuse 1024 "reuse:thin-discard0" "$base $thin sr.thin.keep=1 sr.work=thin" || true
    else
        say "error: no disk left by the boot thin-discard0 to boot again"
        BAD=$((BAD + 1))
    fi
    if ((!${keep:-0})); then
        rm -f "$RUN"/fig-*/scratch.img "$RUN"/fig-*/root.img
    fi
}

# memwin_tsv LOG VARIANT: "variant written_mib avail_mib shmem_mib" lines.
memwin_tsv() {
    vm_lines "$1" SR-MEMWIN | awk -v v="$2" '{
        for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        printf "%s\t%.1f\t%.1f\t%.2f\n", v, f["written"] / 1048576, f["avail_kib"] / 1024, f["shmem_kib"] / 1024 }'
}

# Figures taken from the logs, by name (memwin_fig, fig_rows).
declare -A FIG=()

# memwin_fig LOG P: sets FIG[P.written] (MiB), P.status, P.shmem (growth,
# KiB), P.avail_end (MiB), P.bound (MiB), P.oom (yes/no).
memwin_fig() {
    local log=$1 p=$2 end s0 smax oomc con
    end=$(vm_lines "$log" SR-MEMWIN-END | tail -n 1)
    s0=$(vm_lines "$log" SR-MEMWIN | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^shmem_kib=/) {sub(/.*=/, "", $i); print $i; exit}}')
    smax=$(vm_lines "$log" SR-MEMWIN | tr ' ' '\n' | sed -n 's/^shmem_kib=//p' | sort -g | tail -n 1)
    FIG[$p.written]="$(calc %.1f div "$(tr ' ' '\n' <<<"$end" | sed -n 's/^written=//p')" 1048576)"
    FIG[$p.status]="$(tr ' ' '\n' <<<"$end" | sed -n 's/^status=//p')"
    FIG[$p.bound]="$(calc %.1f div "$(tr ' ' '\n' <<<"$end" | sed -n 's/^backing_kib=//p')" 1024)"
    FIG[$p.shmem]="$(calc %d sub "$smax" "$s0")"
    FIG[$p.avail_end]="$(vm_lines "$log" SR-MEMWIN | tail -n 1 | tr ' ' '\n' |
        sed -n 's/^avail_kib=//p' | awk '{printf "%.0f", $1 / 1024}')"
    oomc=$(tr ' ' '\n' <<<"$end" | sed -n 's/^oom=//p')
    # The console too: a kill of the init itself panics before any line.
    con=$(tr -d '\r' <"$log" | grep -c -E 'Out of memory|oom-kill|invoked oom-killer' || true)
    if [[ -z $end ]]; then
        FIG[$p.oom]="$( ((con > 0)) && echo yes || echo "?")"
    elif ((oomc + con > 0)); then
        FIG[$p.oom]=yes
    else
        FIG[$p.oom]=no
    fi
}

# fig_rows: the rows of the runtime figures.
fig_rows() {
    local v r seq_root seq_ext4 f_root f_ovl f_vol f_ext4 pf
    # --- the memory win
    memwin_fig "$LOG_MEMWIN_SCRATCH" mws
    memwin_fig "$LOG_MEMWIN_TMPFS" mwt
    {
        printf 'variant\twritten_mib\tavail_mib\tshmem_mib\n'
        memwin_tsv "$LOG_MEMWIN_SCRATCH" scratch
        memwin_tsv "$LOG_MEMWIN_TMPFS" tmpfs
    } >"$RUN/memwin.tsv"
    if command -v gnuplot >/dev/null; then
        "$FIG_BENCH/plot-memwin" "$RUN/memwin.tsv" "$RUN/memory-win.png" "$MEMWIN_MEM" >&2 ||
            say "error: the plot of the memory win failed"
    fi
    row "**memory win**, a ${MEMWIN_MEM} MiB VM writes ${MEMWIN_MIB} MiB into / (columns: scratch disk; tmpfs fallback, no disk)" \
        "scratch" "tmpfs" "" "" ""
    pf=FAIL
    if [[ ${FIG[mws.status]-} == ok && ${FIG[mwt.status]-} == enospc ]] &&
        awk -v w="${FIG[mwt.written]-}" -v b="${FIG[mwt.bound]-}" 'BEGIN {exit !(w <= b && w >= b - 16)}'; then
        pf=PASS
    fi
    row "  MiB written before an error (tmpfs bound: $(fmt %.0f "${FIG[mwt.bound]-}") MiB; end: ${FIG[mws.status]:-?} / ${FIG[mwt.status]:-?})" \
        "$(fmt %.0f "${FIG[mws.written]-}")" "$(fmt %.0f "${FIG[mwt.written]-}")" \
        "$(fmt %.3g "$(calc %.6g div "${FIG[mws.written]-}" "${FIG[mwt.written]-}")")" \
        "all / ENOSPC at the bound" "$pf"
    pf=$(awk -v s="${FIG[mws.shmem]-}" -v g="$GOAL_SHMEM_KIB" 'BEGIN {print (s != "" && s <= g) ? "PASS" : "FAIL"}')
    row "  guest Shmem growth (KiB)" "$(fmt %d "${FIG[mws.shmem]-}")" "$(fmt %d "${FIG[mwt.shmem]-}")" \
        "-" "<= 1 MiB (scratch)" "$pf"
    pf=FAIL
    [[ ${FIG[mws.oom]-} == no && ${FIG[mwt.oom]-} == no ]] && pf=PASS
    row "  OOM killer ran" "${FIG[mws.oom]:-?}" "${FIG[mwt.oom]:-?}" "-" "no, both" "$pf"
    row "  guest MemAvailable after the last step (MiB)" "$(fmt %d "${FIG[mws.avail_end]-}")" \
        "$(fmt %d "${FIG[mwt.avail_end]-}")" "$(fmt %.3g "$(calc %.6g div "${FIG[mws.avail_end]-}" "${FIG[mwt.avail_end]-}")")" "-" "info"

    # --- runtime
    seq_root=$(fig_kv "$LOG_RUNTIME" SR-RT "seq target=root" total_ms | fig_median)
    seq_ext4=$(fig_kv "$LOG_RUNTIME" SR-RT "seq target=ext4" total_ms | fig_median)
    f_root=$(fig_kv "$LOG_RUNTIME" SR-RT "fsync target=root " total_ms | fig_median)
    f_ovl=$(fig_kv "$LOG_RUNTIME" SR-RT "fsync target=ovl " total_ms | fig_median)
    f_vol=$(fig_kv "$LOG_RUNTIME" SR-RT "fsync target=ovlvol " total_ms | fig_median)
    f_ext4=$(fig_kv "$LOG_RUNTIME" SR-RT "fsync target=ext4 " total_ms | fig_median)
    row "**runtime** (medians of $RT_REPS; 1st column: / on scratchroot's overlay, volatile; 2nd: as the row says)" \
        "/" "other" "" "" ""
    local mbs_root mbs_ext4 r
    mbs_root=$(calc %.1f div "$((RT_MIB * 1000))" "$seq_root")
    mbs_ext4=$(calc %.1f div "$((RT_MIB * 1000))" "$seq_ext4")
    r=$(calc %.3f div "$mbs_root" "$mbs_ext4")
    row "  sequential write of $RT_MIB MiB + sync (MiB/s; 2nd: the scratch ext4 itself)" \
        "$(fmt %.1f "$mbs_root")" "$(fmt %.1f "$mbs_ext4")" "$(fmt %.3f "$r")" \
        ">= $GOAL_SEQ_RATIO" "$(awk -v r="$r" -v g="$GOAL_SEQ_RATIO" 'BEGIN {print (r == "" ? "n/a" : (r >= g ? "PASS" : "FAIL"))}')"
    local fr_root fr_ovl fr_vol fr_ext4
    fr_root=$(calc %.0f div "$((RT_FILES * 1000))" "$f_root")
    fr_ovl=$(calc %.0f div "$((RT_FILES * 1000))" "$f_ovl")
    fr_vol=$(calc %.0f div "$((RT_FILES * 1000))" "$f_vol")
    fr_ext4=$(calc %.0f div "$((RT_FILES * 1000))" "$f_ext4")
    r=$(calc %.2f div "$fr_root" "$fr_ovl")
    row "  $RT_FILES files of 4 KiB written, fsync'd, renamed (files/s; 2nd: an overlay on the same fs without volatile)" \
        "$(fmt %d "$fr_root")" "$(fmt %d "$fr_ovl")" "$(fmt %.2f "$r")" \
        ">= $GOAL_FSYNC_RATIO" "$(awk -v r="$r" -v g="$GOAL_FSYNC_RATIO" 'BEGIN {print (r == "" ? "n/a" : (r >= g ? "PASS" : "FAIL"))}')"
    row "  the same (2nd: an overlay on the same fs with volatile)" \
        "$(fmt %d "$fr_root")" "$(fmt %d "$fr_vol")" "$(fmt %.2f "$(calc %.6g div "$fr_root" "$fr_vol")")" "-" "info"
    row "  the same (2nd: the scratch ext4 itself, no overlay)" \
        "$(fmt %d "$fr_root")" "$(fmt %d "$fr_ext4")" "$(fmt %.2f "$(calc %.6g div "$fr_root" "$fr_ext4")")" "-" "info"

    fig_crypt_rows "$mbs_root" "$mbs_ext4" "$fr_root" "$fr_ext4"

    # --- overlay options
    local ovl_files=$((OVL_DIRS * OVL_FILES)) name what key off on
    row "**overlay options** (own overlays, volatile, over a tmpfs lower tree of $ovl_files x $OVL_KIB KiB, upper on the scratch fs; ms; 1st: the option, 2nd: all of them off)" \
        "option" "all off" "" "" ""
    for name in default metacopy redirect index xino; do
        case $name in
            default) what="kernel defaults (no option but volatile): chown -R + chmod -R + sync" key=chown_ms ;;
            metacopy) what="metacopy=on,redirect_dir=on: chown -R + chmod -R + sync" key=chown_ms ;;
            redirect) what="redirect_dir=on: mv of a lower dir of 500 files + sync" key=mv_ms ;;
            index) what="index=on: chown -R + chmod -R + sync" key=chown_ms ;;
            xino) what="xino=auto: ls -lR of the overlay" key=walk_ms ;;
        esac
        on=$(fig_kv "$LOG_RUNTIME" SR-OVL "name=$name " "$key" | head -n 1)
        # Two rounds of all-off (first and last): their median.
        off=$(fig_kv "$LOG_RUNTIME" SR-OVL "name=off" "$key" | fig_median)
        [[ $on =~ ^[0-9]+$ ]] || on=""
        row "  $what" "$(fmt %d "$on")" "$(fmt %d "$off")" \
            "$(fmt %.3g "$(calc %.6g divpos "$on" "$off")")" "-" "info"
        sample ovl "$name" "$key" "$on"
    done
    # metacopy=on needs redirect_dir=on: its rename too.
    on=$(fig_kv "$LOG_RUNTIME" SR-OVL "name=metacopy " mv_ms | head -n 1)
    off=$(fig_kv "$LOG_RUNTIME" SR-OVL "name=off" mv_ms | fig_median)
    [[ $on =~ ^[0-9]+$ ]] || on=""
    row "  metacopy=on,redirect_dir=on: mv of a lower dir of 500 files + sync" "$(fmt %d "$on")" "$(fmt %d "$off")" \
        "$(fmt %.3g "$(calc %.6g divpos "$on" "$off")")" "-" "info"

    # --- thin disk
    local s w d e d1 dis1 dis0
    dis1=$(vm_state "$RUN/fig-$FIG_THIN1/console.log" discard)
    dis0=$(vm_state "$RUN/fig-thin-discard0/console.log" discard)
    row "**thin disk**, $THIN_MIB MiB written into / and deleted (columns: rd.scratch.discard=1, state discard=${dis1:-?}; rd.scratch.discard=0, state discard=${dis0:-?})" \
        "discard=1" "discard=0" "" "" ""
    for v in 1 0; do
        if [[ $v == 1 ]]; then r=$FIG_THIN1; else r="thin-discard0"; fi
        s=$(fig_alloc "$r" start)
        w=$(fig_alloc "$r" written)
        d=$(fig_alloc "$r" deleted)
        e=$(fig_alloc "$r" end)
        FIG[t$v.written]="$(calc %.1f div "$(calc %d sub "$w" "$s")" 1024)"
        FIG[t$v.deleted]="$(calc %.1f div "$(calc %d sub "$d" "$s")" 1024)"
        FIG[t$v.end]="$(calc %.1f div "$(calc %d sub "$e" "$s")" 1024)"
    done
    row "  host allocation grown by the write, while the guest runs (MiB)" \
        "$(fmt %.1f "${FIG[t1.written]-}")" "$(fmt %.1f "${FIG[t0.written]-}")" "-" "-" "info"
    d1=$(calc %.1f div "$((GOAL_THIN_KIB))" 1024)
    row "  ... after the delete, sync and 5 s, while the guest runs (MiB)" \
        "$(fmt %.1f "${FIG[t1.deleted]-}")" "$(fmt %.1f "${FIG[t0.deleted]-}")" "-" "<= $d1 MiB (discard=1)" \
        "$(awk -v x="${FIG[t1.deleted]-}" -v g="$d1" 'BEGIN {print (x == "" ? "n/a" : (x <= g ? "PASS" : "FAIL"))}')"
    row "  ... after the VM exited (MiB)" \
        "$(fmt %.1f "${FIG[t1.end]-}")" "$(fmt %.1f "${FIG[t0.end]-}")" "-" "<= $d1 MiB (discard=1)" \
        "$(awk -v x="${FIG[t1.end]-}" -v g="$d1" 'BEGIN {print (x == "" ? "n/a" : (x <= g ? "PASS" : "FAIL"))}')"
    # The reused disk: what it holds after this boot's write, less what was
    # written, against the 1st boot's leftovers.
    local prev now
    prev=$(fig_alloc thin-discard0 end)
    now=$(fig_alloc reuse written)
    w=$(calc %.1f div "$(calc %d sub "$now" "$((THIN_MIB * 1024))")" 1024)
    row "  reused disk, 2nd boot: allocation after writing $THIN_MIB MiB, less $THIN_MIB MiB (MiB; 2nd: what the discard=0 boot left allocated, the 1st boot of this disk)" \
        "$(fmt %.1f "$w")" "$(fmt %.1f "$(calc %.4f div "$prev" 1024)")" "-" "<= $d1 MiB" \
        "$(awk -v x="$w" -v g="$d1" 'BEGIN {print (x == "" ? "n/a" : (x <= g ? "PASS" : "FAIL"))}')"
    row "  reused disk: allocation at the 2nd boot's start, after the helper's format (MiB)" \
        "$(fmt %.1f "$(calc %.4f div "$(fig_alloc reuse start)" 1024)")" "-" "-" "-" "info"
    fig_trim_rows
}

# fig_crypt_rows SEQ_ROOT SEQ_EXT4 FILES_ROOT FILES_EXT4: the runtime
# workload on an encrypted scratch (its own boot) against the plain one's
# figures (the runtime rows above, same sizes, same run).
fig_crypt_rows() {
    local log=$LOG_RUNTIME_CRYPT enc seq_root seq_ext4 f_root f_ext4 mbs_root mbs_ext4 fr_root fr_ext4 r pf
    enc=$(vm_state "$log" encrypt)
    seq_root=$(fig_kv "$log" SR-RT "seq target=root" total_ms | fig_median)
    seq_ext4=$(fig_kv "$log" SR-RT "seq target=ext4" total_ms | fig_median)
    f_root=$(fig_kv "$log" SR-RT "fsync target=root " total_ms | fig_median)
    f_ext4=$(fig_kv "$log" SR-RT "fsync target=ext4 " total_ms | fig_median)
    # Figures of a boot that did not encrypt are no figures of encryption.
    if [[ $enc != aes-xts-plain64 ]]; then
        seq_root="" seq_ext4="" f_root="" f_ext4=""
    fi
    mbs_root=$(calc %.1f div "$((RT_MIB * 1000))" "$seq_root")
    mbs_ext4=$(calc %.1f div "$((RT_MIB * 1000))" "$seq_ext4")
    fr_root=$(calc %.0f div "$((RT_FILES * 1000))" "$f_root")
    fr_ext4=$(calc %.0f div "$((RT_FILES * 1000))" "$f_ext4")
    row "**encrypted scratch** (rd.scratch.encrypt=1, state encrypt=${enc:-?}; medians of $RT_REPS; 1st column: encrypted, 2nd: the plain scratch of the runtime rows)" \
        "encrypted" "plain" "" "" ""
    r=$(calc %.3f div "$mbs_root" "$1")
    pf=$(awk -v r="$r" -v g="$GOAL_CRYPT_RATIO" 'BEGIN {print (r == "" ? "n/a" : (r >= g ? "PASS" : "FAIL"))}')
    row "  sequential write of $RT_MIB MiB + sync into / (MiB/s)" \
        "$(fmt %.1f "$mbs_root")" "$(fmt %.1f "$1")" "$(fmt %.3f "$r")" ">= $GOAL_CRYPT_RATIO" "$pf"
    r=$(calc %.3f div "$fr_root" "$3")
    pf=$(awk -v r="$r" -v g="$GOAL_CRYPT_RATIO" 'BEGIN {print (r == "" ? "n/a" : (r >= g ? "PASS" : "FAIL"))}')
    row "  $RT_FILES files of 4 KiB written, fsync'd, renamed into / (files/s)" \
        "$(fmt %d "$fr_root")" "$(fmt %d "$3")" "$(fmt %.3f "$r")" ">= $GOAL_CRYPT_RATIO" "$pf"
    row "  sequential write of $RT_MIB MiB + sync into the scratch ext4 itself (MiB/s)" \
        "$(fmt %.1f "$mbs_ext4")" "$(fmt %.1f "$2")" "$(fmt %.3f "$(calc %.6g div "$mbs_ext4" "$2")")" "-" "info"
    row "  the same files into the scratch ext4 itself, each fsync a flush through dm-crypt (files/s)" \
        "$(fmt %d "$fr_ext4")" "$(fmt %d "$4")" "$(fmt %.3f "$(calc %.6g div "$fr_ext4" "$4")")" "-" "info"
}

# fig_trim_rows: the default discard=0 with the periodic trim against online
# discard: the space given back, and what each costs the deletes.
fig_trim_rows() {
    local tlog="$RUN/fig-$FIG_TRIM/console.log" s t tm f1 f0 ratio
    s=$(fig_alloc "$FIG_TRIM" start)
    t=$(fig_alloc "$FIG_TRIM" trimmed)
    tm=$(fig_kv "$tlog" SR-THIN "phase=trimmed" trim_ms | head -n 1)
    FIG[trim.left]="$(calc %.1f div "$(calc %d sub "$t" "$s")" 1024)"
    local d1
    d1=$(calc %.1f div "$((GOAL_THIN_KIB))" 1024)
    row "**periodic trim** (scratchroot-trim.timer's fstrim, default rd.scratch.discard=0): $THIN_MIB MiB written and deleted, then one fstrim: host allocation above the start (MiB; 2nd: the fstrim's ms)" \
        "$(fmt %.1f "${FIG[trim.left]-}")" "$(fmt %d "$tm")" "-" "<= $d1 MiB" \
        "$(awk -v x="${FIG[trim.left]-}" -v g="$d1" 'BEGIN {print (x == "" ? "n/a" : (x <= g ? "PASS" : "FAIL"))}')"
    local fn
    f1=$(fig_kv "$RUN/fig-$FIG_THIN1/console.log" SR-THIN-FILES "" delete_ms | head -n 1)
    f0=$(fig_kv "$RUN/fig-thin-discard0/console.log" SR-THIN-FILES "" delete_ms | head -n 1)
    fn=$(fig_kv "$tlog" SR-THIN-FILES "" delete_ms | head -n 1)
    [[ $f1 =~ ^[0-9]+$ ]] || f1=""
    [[ $f0 =~ ^[0-9]+$ ]] || f0=""
    [[ $fn =~ ^[0-9]+$ ]] || fn=""
    ratio=$(calc %.3g divpos "$fn" "$f0")
    row "  deleting $THIN_FILES files of 8 KiB, rm -rf + sync (ms; columns: discard=0 with the periodic trim; discard=0 without it)" \
        "$(fmt %d "$fn")" "$(fmt %d "$f0")" "$(fmt %.3g "$ratio")" "<= $GOAL_DELETE_RATIO" \
        "$(awk -v x="$ratio" -v g="$GOAL_DELETE_RATIO" 'BEGIN {print (x == "" ? "n/a" : (x <= g ? "PASS" : "FAIL"))}')"
    row "  the same deletes under online discard (ms; columns: rd.scratch.discard=1; discard=0)" \
        "$(fmt %d "$f1")" "$(fmt %d "$f0")" "$(fmt %.3g "$(calc %.3g divpos "$f1" "$f0")")" "-" "info"
    tm=$(fig_kv "$tlog" SR-THIN-FILES "" trim_ms | head -n 1)
    [[ $tm =~ ^[0-9]+$ ]] || tm=""
    row "  the fstrim after those deletes (ms), paid by the timer, not by the deletes" \
        "$(fmt %d "$tm")" "-" "-" "-" "info"
}
