# shellcheck shell=bash
# Fake sysfs trees over loop devices, for the tests that run the helper with
# --sysfs: it finds disks there by SCSI address and device number, and reads
# a few attributes; the nodes it opens are the loop devices' own. Sourced.

# fakesys_devdir HCTL: the device directory of a virtio-scsi disk at HCTL,
# relative to the sysfs root.
fakesys_devdir() {
    local h=${1%%:*}
    echo "devices/pci0000:00/0000:00:03.0/virtio1/host$h/target${1%:*}/$1"
}

# fakesys_block DIR LOOP: a sysfs block directory DIR describing LOOP: its
# number, size, ro, removable and queue/discard_max_bytes; no holders, no
# slaves.
fakesys_block() {
    local dir=$1 n=${2#/dev/} a
    mkdir -p "$dir/holders" "$dir/slaves" "$dir/queue" || return 1
    for a in dev size ro removable queue/discard_max_bytes; do
        cat "/sys/class/block/$n/$a" >"$dir/$a" || return 1
    done
}

# fakesys_root S LOOP: the sysfs root S, with LOOP as a virtual block device
# (the one the test's root filesystem is on).
fakesys_root() {
    local s=$1 n=${2#/dev/}
    mkdir -p "$s/bus/scsi/devices" "$s/dev/block" || return 1
    fakesys_block "$s/devices/virtual/block/$n" "$2" || return 1
    ln -s "../../devices/virtual/block/$n" "$s/dev/block/$(cat "/sys/class/block/$n/dev")"
}

# fakesys_scsi S HCTL NAME LOOP: a SCSI disk at HCTL under S whose block
# device is called NAME and has LOOP's number and attributes.
fakesys_scsi() {
    local s=$1 hctl=$2 name=$3 loop=$4 devdir devno
    devdir=$(fakesys_devdir "$hctl")
    devno=$(cat "/sys/class/block/${loop#/dev/}/dev") || return 1
    mkdir -p "$s/bus/scsi/devices" "$s/dev/block" || return 1
    fakesys_block "$s/$devdir/block/$name" "$loop" || return 1
    ln -s "../../../$devdir" "$s/bus/scsi/devices/$hctl" || return 1
    [[ -e $s/dev/block/$devno ]] || ln -s "../../$devdir/block/$name" "$s/dev/block/$devno"
}
