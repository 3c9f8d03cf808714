# shellcheck shell=bash disable=SC2034 # lib.sh reads what the cases set (IMG, DEVNO, VG...)
# Loop cases: rd.scratch.force: formats a foreign filesystem, never a disk in use.

CASES+=(
    "c_force_ext4|force: foreign ext4 is formatted"
    "c_force_ro_loop|force: read-only loop device still refused"
    "c_force_root_loop|force: the root's own device still refused"
    "c_force_mounted|force: mounted disk still refused"
    "c_force_busy|force: busy disk still refused"
    "c_force_holder|force: held disk still refused"
    "c_force_partition|force: blank disk with a partition entry is formatted"
)

c_force_ext4() {
    local uuid0
    one_disk forced 64M make_ext4_data || return
    uuid0=$(fs_field "$IMG" "Filesystem UUID")
    in_ns ns_run r "rd.scratch.lun=1 rd.scratch.force=1"
    use r || return
    expect_scratch_run format=forced hctl=0:0:0:1 "devno=$DEVNO"
    expect_log kmsg "formatted anyway as rd.scratch.force asks"
    expect_scratch_fs "$IMG"
    [[ $(fs_field "$IMG" "Filesystem UUID") != "$uuid0" ]] || fail "the foreign filesystem is still there"
}

c_force_ro_loop() {
    one_disk ro 64M "" -r || return
    in_ns ns_run r "rd.scratch.lun=1 rd.scratch.force=1"
    expect_refused "it is read-only"
}

c_force_root_loop() { c_refuse_root_loop "1 rd.scratch.force=1"; }
c_force_mounted() { c_refuse_mounted "1 rd.scratch.force=1"; }
c_force_busy() { c_refuse_busy "1 rd.scratch.force=1"; }

c_force_holder() {
    one_disk held 64M || return
    ln -s ../../dm-0 "$BLK/holders/dm-0"
    in_ns ns_run r "rd.scratch.lun=1 rd.scratch.force=1"
    expect_refused "in use by dm-0"
}

# sysfs lists a partition that holds nothing: force formats the disk.
c_force_partition() {
    local decoy
    one_disk fparts 64M || return
    decoy=$(attach "$(mkimg decoy 8M)") || return
    fake_partition 1 "$decoy"
    in_ns ns_run r "rd.scratch.lun=1 rd.scratch.force=1"
    use r || return
    expect_scratch_run format=forced hctl=0:0:0:1
    expect_scratch_fs "$IMG"
}
