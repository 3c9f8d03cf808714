#!/bin/sh
# Sourced by dracut's init at pre-pivot: return, never exit.
#
# The seed's way of backing the root overlay with a scratch disk, for
# comparison:
#   - the disk is the one at /sys/bus/scsi/devices/0:0:0:<seed.lun>/block
#     (host, channel and target fixed at 0), looked for every 10 ms for up
#     to 15 s of wall-clock time, then its /dev node likewise;
#   - formatted at every boot, without looking at what is on it, with
#     mkfs.ext4 -q -m 0 -O ^has_journal -E lazy_itable_init=1;
#   - mounted with noatime and no other option;
#   - the overlay gets upper/ and work/ on it and the volatile option, tried
#     again without volatile when the mount fails;
#   - on any failure, the overlay goes on an unbounded tmpfs.
# It writes /run/seed/state (key=value lines, setup_ms=, found_ms= (until
# the disk was found) and format_ms= (the time of mkfs.ext4) among them) and one
# "seedscratch:" line to the kernel log.

# shellcheck source=/dev/null
command -v getarg >/dev/null || . /lib/dracut-lib.sh

seed_now_ms() {
    seed_ns=$(date +%s%N 2>/dev/null)
    case $seed_ns in
        '' | *[!0-9]*)
            # No usable date: /proc/uptime, in hundredths of a second.
            read -r seed_up _ </proc/uptime
            seed_cs=${seed_up%.*}${seed_up#*.}
            while [ "${seed_cs#0}" != "$seed_cs" ] && [ "${#seed_cs}" -gt 1 ]; do
                seed_cs=${seed_cs#0}
            done
            echo $((seed_cs * 10))
            ;;
        *) echo $((seed_ns / 1000000)) ;;
    esac
}

seed_log() {
    echo "seedscratch: $*" >/dev/kmsg 2>/dev/null || echo "seedscratch: $*" >&2
}

# seed_find_disk: sets seed_dev to the block device at 0:0:0:$seed_lun.
# The seed's 15 s are wall-clock time: under an emulated CPU each round of
# this loop (a sleep and a date, two programs started) takes far longer
# than its 10 ms sleep, so the rounds are not counted.
seed_find_disk() {
    seed_deadline=$(($(seed_now_ms) + 15000))
    while :; do
        for seed_b in /sys/bus/scsi/devices/0:0:0:"$seed_lun"/block/*; do
            if [ -e "$seed_b" ]; then
                seed_dev=${seed_b##*/}
                break 2
            fi
        done
        [ "$(seed_now_ms)" -lt "$seed_deadline" ] || break
        sleep 0.01
    done
    if [ -z "$seed_dev" ]; then
        seed_reason="no disk at 0:0:0:$seed_lun"
        return 1
    fi
    seed_deadline=$(($(seed_now_ms) + 15000))
    while [ ! -b "/dev/$seed_dev" ]; do
        if [ "$(seed_now_ms)" -ge "$seed_deadline" ]; then
            seed_reason="no /dev/$seed_dev"
            return 1
        fi
        sleep 0.01
    done
    return 0
}

# seed_overlay: the overlay over $NEWROOT, upper and work under $seed_scratch.
seed_overlay() {
    mkdir -p "$seed_scratch/upper" "$seed_scratch/work" || return 1
    seed_opts="lowerdir=$seed_lower,upperdir=$seed_scratch/upper,workdir=$seed_scratch/work"
    if mount -t overlay -o "$seed_opts,volatile" overlay "$NEWROOT"; then
        seed_volatile=1
        return 0
    fi
    mount -t overlay -o "$seed_opts" overlay "$NEWROOT"
}

seed_main() {
    seed_t0=$(seed_now_ms)
    seed_scratch=/run/seed/scratch
    seed_lower=/run/seed/lower
    seed_backing=none
    seed_dev=""
    seed_volatile=0
    seed_reason=""
    seed_format_ms=""
    seed_found_ms=""
    mkdir -p "$seed_scratch" "$seed_lower"

    case $seed_lun in
        '' | *[!0-9]*) seed_reason="bad seed.lun=$seed_lun" ;;
    esac
    if ! mount --bind "$NEWROOT" "$seed_lower"; then
        seed_reason="cannot bind $NEWROOT to $seed_lower"
    elif [ -z "$seed_reason" ] && seed_find_disk; then
        seed_f0=$(seed_now_ms)
        seed_found_ms=$((seed_f0 - seed_t0))
        /usr/lib/seedscratch/mkfs.ext4 -q -m 0 -O '^has_journal' \
            -E lazy_itable_init=1 "/dev/$seed_dev"
        seed_rc=$?
        seed_format_ms=$(($(seed_now_ms) - seed_f0))
        if [ "$seed_rc" -ne 0 ]; then
            seed_reason="mkfs.ext4 /dev/$seed_dev failed"
        elif ! mount -t ext4 -o noatime "/dev/$seed_dev" "$seed_scratch"; then
            seed_reason="mount /dev/$seed_dev failed"
        elif seed_overlay; then
            seed_backing=scratch
        else
            seed_reason="overlay on /dev/$seed_dev failed"
            umount -l "$seed_scratch"
        fi
    fi
    # The fallback needs the lower bind; without it the root stays as it is.
    if [ "$seed_backing" != scratch ] && [ "${seed_reason#cannot bind}" = "$seed_reason" ]; then
        if mount -t tmpfs tmpfs "$seed_scratch" && seed_overlay; then
            seed_backing=tmpfs
        fi
    fi

    seed_ms=$(($(seed_now_ms) - seed_t0))
    {
        echo "backing=$seed_backing"
        echo "lun=$seed_lun"
        echo "device=${seed_dev:+/dev/$seed_dev}"
        echo "volatile=$seed_volatile"
        echo "reason=$seed_reason"
        echo "found_ms=$seed_found_ms"
        echo "format_ms=$seed_format_ms"
        echo "setup_ms=$seed_ms"
    } >/run/seed/state
    seed_log "root overlay on $seed_backing${seed_dev:+ (/dev/$seed_dev)}${seed_reason:+, $seed_reason}, setup took $seed_ms ms"
}

seed_lun=$(getarg seed.lun=) && [ -n "$seed_lun" ] && seed_main
:
