/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "options.h"

#define SYSFS_MAX_PARTS 64
#define SYSFS_MAX_BACKING 32

enum disk_bus {
        BUS_SCSI,
        BUS_VIRTIO,             /* virtio-blk */
        BUS_NVME,
        BUS_OTHER,
};

struct disk {
        char hctl[64];          /* H:C:T:L as sysfs names it */
        char name[64];          /* kernel name, e.g. sdb */
        dev_t devno;
        char blockdir[PATH_MAX];
        /* What the disk says it is, trimmed of blanks; "" when the bus has
         * none (virtio-blk has no model, NVMe no vendor string). */
        char model[64], vendor[64], serial[128];
        enum disk_bus bus;
        bool azure_resource;    /* selected as Azure's SCSI resource disk by rd.scratch.cloud */
};

struct disk_attrs {
        bool is_partition;
        bool read_only;
        bool removable;
        bool discards;          /* queue/discard_max_bytes > 0: the disk takes discards */
        uint64_t size_bytes;
        char holder[64];        /* first entry of holders/, "" when none */
        unsigned n_parts;
        dev_t parts[SYSFS_MAX_PARTS];
};

/* Finds the block device at a SCSI address under sysfs/bus/scsi/devices.
 * Returns 0, or -ENOENT (no device at the address), -ENODEV (a device but no
 * block device bound to it yet), -ENOTUNIQ (more than one device matches a
 * bare LUN: their addresses are listed in ambiguous), -EMLINK (the device
 * has more than one block device). */
int sysfs_find_disk(const char *sysfs, const struct hctl *want, struct disk *ret,
                    char *ambiguous, size_t n);

int sysfs_disk_attrs(const struct disk *d, struct disk_attrs *ret);

/* Fills in d's bus, vendor, model and serial from sysfs; every disk the
 * finders return has them. devdir is the device directory when the caller
 * knows it (a SCSI device found by address), NULL for blockdir/device. */
void sysfs_disk_identify(struct disk *d, const char *devdir);

const char *disk_bus_to_string(enum disk_bus b);

/* The disk's serial number: the SCSI unit serial number (VPD page 0x80), a
 * virtio-blk disk's serial or an NVMe controller's. -ENOENT when it has none. */
int sysfs_disk_serial(const struct disk *d, char *buf, size_t n);

/* Finds the whole disk whose serial is serial, among every block device.
 * Returns 0, -ENOENT, or -ENOTUNIQ with the matching names in ambiguous. */
int sysfs_find_serial(const char *sysfs, const char *serial, struct disk *ret, char *ambiguous, size_t n);

/* Calls fn on every whole disk of class/block on a bus that has disks (SCSI,
 * virtio-blk, NVMe), identified, in the order of their names (nvme2n1
 * before nvme10n1). Partitions, loop, device-mapper, md and the like are
 * not disks to select. Stops at the first negative return of fn and
 * returns it. */
int sysfs_for_each_disk(const char *sysfs, int (*fn)(const struct disk *d, void *userdata), void *userdata);

/* What selects the scratch disk: an address, a serial number, or both (then
 * the disk at the address must carry the serial). */
struct selector {
        bool have_lun;
        struct hctl lun;
        const char *serial;     /* NULL: any */
};

/* Finds the selected disk, retrying until the timeout while it is absent.
 * Errors as sysfs_find_disk(), and -EBADSLT when the disk at the address
 * carries another serial (its serial is left in ambiguous). With settle, an
 * address absent once every SCSI controller has its driver is scanned for
 * by every host (sysfs_scsi_scan(), twice) and then -ENXIO: the kernel
 * says it is not there, no hot-plug is waited for. */
int sysfs_wait_selected(const char *sysfs, const struct selector *sel, unsigned timeout_ms, bool settle,
                        struct disk *ret, char *ambiguous, size_t n);

/* How many SCSI controllers (PCI SCSI, RAID and SAS functions, virtio SCSI
 * devices) have no driver bound, the first named in first ("virtio
 * virtio1"): their hosts, and the disks on them, are still to come. */
int sysfs_scsi_controllers_unbound(const char *sysfs, char *first, size_t n);

/* Asks the SCSI hosts want may be on (every host for a bare LUN) to scan
 * for it now (class/scsi_host/hostN/scan): the kernel probes the address
 * under the host's scan lock and adds what answers before the write
 * returns. A bare LUN is probed on each target the host's own scan found.
 * Returns how many hosts were asked, or -EAGAIN when one of them shows no
 * target yet: its own first scan may still be about to add what it found
 * (it does so at its end, under the same lock), so its answer proves
 * nothing. */
int sysfs_scsi_scan(const char *sysfs, const struct hctl *want);

/* Adds dev and every block device beneath it (the whole disk of a partition,
 * the slaves of device-mapper or md, recursively) to set. Fails when dev is
 * a block device sysfs does not know, or the set is full, so the caller can
 * refuse to guess. */
int sysfs_backing_devs(const char *sysfs, dev_t dev, dev_t *set, unsigned *n, unsigned max);

