/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The clouds' ephemeral disks, by the identity each platform publishes in
 * its own udev rules and agents (facts cited where they are used). */
#include "cloud.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "macro.h"
#include "util.h"

/* SMBIOS chassis asset tag of every Azure VM ("MSFT AZURE VM" in decimal
 * ASCII): cloud-init's sources/azure/identity.py (ChassisAssetTag.AZURE_CLOUD),
 * which DataSourceAzure and ds-identify go by. Hyper-V outside Azure shows
 * the same sys_vendor and product_name ("Microsoft Corporation", "Virtual
 * Machine"), so those tell nothing. */
#define AZURE_ASSET_TAG "7783-7084-3265-9085-8269-3286-77"

/* sys_vendor (and bios_vendor, board_vendor) of EC2's Nitro instances, the
 * only ones with NVMe instance store: cloud-init's DataSourceEc2
 * (identify_aws) and ds-identify. */
#define AWS_VENDOR "Amazon EC2"

/* cloud-init's DataSourceGCE (platform_reports_gce): product_name "Google
 * Compute Engine"; the guest agent also takes sys_vendor "Google". */
#define GCP_PRODUCT "Google Compute Engine"
#define GCP_VENDOR "Google"

enum dmi_field {
        DMI_SYS_VENDOR,
        DMI_PRODUCT_NAME,
        DMI_CHASSIS_ASSET_TAG,
        DMI_BOARD_VENDOR,
        DMI_BIOS_VENDOR,
        DMI_PRODUCT_UUID,
        DMI_PRODUCT_SERIAL,
        _DMI_MAX,
};

static const char *const dmi_names[_DMI_MAX] = {
        [DMI_SYS_VENDOR] = "sys_vendor",
        [DMI_PRODUCT_NAME] = "product_name",
        [DMI_CHASSIS_ASSET_TAG] = "chassis_asset_tag",
        [DMI_BOARD_VENDOR] = "board_vendor",
        [DMI_BIOS_VENDOR] = "bios_vendor",
        [DMI_PRODUCT_UUID] = "product_uuid",
        [DMI_PRODUCT_SERIAL] = "product_serial",
};

/* EC2's Xen instances (i3 among them, with NVMe instance store) do not say
 * "Amazon EC2" in DMI: their product_uuid and product_serial both start
 * with "ec2" in either case and are the same string ignoring case.
 * cloud-init's ds-identify (ec2_identify_platform) and DataSourceEc2 take
 * AWS on exactly that, after AWS's "identify EC2 instances" guide. */
static bool ec2_xen_uuid(const char *uuid, const char *serial) {
        return strncasecmp(uuid, "ec2", 3) == 0 && strncasecmp(serial, "ec2", 3) == 0 && strcasecmp(uuid, serial) == 0;
}

/* Trims the blanks firmware pads DMI strings with. */
static void trim(char *s) {
        size_t len = strlen(s), start = 0;

        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\n' || s[len - 1] == '\t'))
                s[--len] = '\0';
        while (s[start] == ' ' || s[start] == '\t')
                start++;
        memmove(s, s + start, len - start + 1);
}

enum cloud cloud_detect(const char *sysfs, char *seen, size_t n) {
        char v[_DMI_MAX][128];
        enum cloud c = CLOUD_NONE;

        for (unsigned i = 0; i < _DMI_MAX; i++) {
                char path[PATH_MAX];

                v[i][0] = '\0';
                if (xsnprintf(path, sizeof(path), "%s/class/dmi/id/%s", sysfs, dmi_names[i]) == 0 &&
                    read_line(path, v[i], sizeof(v[i])) == 0)
                        trim(v[i]);
                else
                        v[i][0] = '\0';
        }

        if (strcmp(v[DMI_CHASSIS_ASSET_TAG], AZURE_ASSET_TAG) == 0)
                c = CLOUD_AZURE;
        else if (strcmp(v[DMI_SYS_VENDOR], AWS_VENDOR) == 0 || strcmp(v[DMI_BIOS_VENDOR], AWS_VENDOR) == 0 ||
                 strcmp(v[DMI_BOARD_VENDOR], AWS_VENDOR) == 0 ||
                 ec2_xen_uuid(v[DMI_PRODUCT_UUID], v[DMI_PRODUCT_SERIAL]))
                c = CLOUD_AWS;
        else if (strcmp(v[DMI_PRODUCT_NAME], GCP_PRODUCT) == 0 || strcmp(v[DMI_SYS_VENDOR], GCP_VENDOR) == 0)
                c = CLOUD_GCP;

        if (seen && n)
                (void) snprintf(seen, n, "sys_vendor '%.40s', product_name '%.40s', chassis_asset_tag '%.40s'",
                                v[DMI_SYS_VENDOR], v[DMI_PRODUCT_NAME], v[DMI_CHASSIS_ASSET_TAG]);
        return c;
}

/* The VMBus device id of the storvsc controller a SCSI disk hangs off: the
 * device_id attribute of the first ancestor of its SCSI device that has one
 * (udev's ATTRS{device_id} walks up the same way). -ENOENT when no
 * ancestor has one (not on VMBus). */
static int vmbus_device_id(const char *sysfs, const struct disk *d, char *buf, size_t n) {
        char path[PATH_MAX], dev[PATH_MAX], root[PATH_MAX];
        size_t rootlen;

        if (!realpath(sysfs, root))
                return -errno;
        rootlen = strlen(root);
        if (xsnprintf(path, sizeof(path), "%s/device", d->blockdir) < 0)
                return -ENAMETOOLONG;
        if (!realpath(path, dev)) {
                if (!d->hctl[0] || xsnprintf(path, sizeof(path), "%s/bus/scsi/devices/%s", sysfs, d->hctl) < 0 ||
                    !realpath(path, dev))
                        return -ENOENT;
        }
        for (unsigned depth = 0; depth < 32; depth++) {
                char *slash;

                if (strlen(dev) <= rootlen || strncmp(dev, root, rootlen) != 0)
                        break;
                if (xsnprintf(path, sizeof(path), "%s/device_id", dev) == 0 && read_line(path, buf, n) == 0) {
                        trim(buf);
                        return 0;
                }
                slash = strrchr(dev, '/');
                if (!slash)
                        break;
                *slash = '\0';
        }
        return -ENOENT;
}

/* Whether the kernel has no VMBus under sysfs: no Hyper-V host, hence no
 * storvsc controller to find an id on. */
static bool vmbus_absent(const char *sysfs) {
        char path[PATH_MAX];

        if (xsnprintf(path, sizeof(path), "%s/bus/vmbus", sysfs) < 0)
                return false;
        return access(path, F_OK) < 0 && errno == ENOENT;
}

static bool azure_scsi_resource(const char *sysfs, const struct disk *d) {
        struct hctl h;
        char id[128];

        /* Azure's SCSI disks: vendor Msft, model "Virtual Disk" (udev's
         * ID_MODEL "Virtual_Disk"): WALinuxAgent config/66-azure-storage.rules,
         * azure-vm-utils udev/80-azure-disk.rules. */
        if (d->bus != BUS_SCSI || strcmp(d->vendor, "Msft") != 0 || strcmp(d->model, "Virtual Disk") != 0)
                return false;
        if (parse_hctl(d->hctl, &h) < 0 || h.lun_only)
                return false;
        if (vmbus_device_id(sysfs, d, id, sizeof(id)) == 0) {
                /* Gen1: the resource disk has its own storvsc device, whose
                 * id has 0001 as its second group ("?00000000-0001-*"; 0000
                 * is the OS disk): both rules files above. */
                if (fnmatch("?00000000-0001-*", id, 0) == 0)
                        return true;
                /* Gen2: LUN 1 of the first controller, device id
                 * {f8b3781a-...} (LUN 0 is the OS disk): azure-vm-utils
                 * udev/80-azure-disk.rules. */
                return strcmp(id, "{f8b3781a-1e82-4818-a1c3-63d806ec15bb}") == 0 && h.lun == 1;
        }
        /* A machine without VMBus at all (a VMM presenting Azure's disks,
         * such as QEMU): where Gen2 puts it, 0:0:0:1. On Hyper-V or Azure a
         * disk whose controller's id was not found is not taken by its
         * place. */
        if (!vmbus_absent(sysfs))
                return false;
        return h.host == 0 && h.channel == 0 && h.target == 0 && h.lun == 1;
}

bool cloud_disk_is_ephemeral(enum cloud platform, const char *sysfs, const struct disk *d,
                             bool *ret_azure_resource) {
        bool resource = false, yes = false;

        switch (platform) {
        case CLOUD_AWS:
                /* amazon-ec2-utils 70-ec2-nvme-devices.rules: instance store
                 * is "Amazon EC2 NVMe Instance Storage"; EBS volumes are
                 * "Amazon Elastic Block Store", never taken. */
                yes = d->bus == BUS_NVME && strcmp(d->model, "Amazon EC2 NVMe Instance Storage") == 0;
                break;
        case CLOUD_AZURE:
                /* azure-vm-utils udev/80-azure-disk.rules: the local NVMe
                 * disks of v6 and later sizes. "MSFT NVMe Accelerator v1.0"
                 * is the remote OS and data disks, never taken. */
                yes = d->bus == BUS_NVME && (strcmp(d->model, "Microsoft NVMe Direct Disk") == 0 ||
                                             strcmp(d->model, "Microsoft NVMe Direct Disk v2") == 0);
                if (!yes)
                        yes = resource = azure_scsi_resource(sysfs, d);
                break;
        case CLOUD_GCP:
                /* guest-configs 65-gce-disk-naming.rules: NVMe local SSDs
                 * are model "nvme_card" (nvme_card<N> with several
                 * controllers); persistent disks are "nvme_card-pd", never
                 * taken. SCSI local SSDs: vendor Google, model EphemeralDisk
                 * (persistent disks: PersistentDisk). */
                if (d->bus == BUS_NVME)
                        yes = strcmp(d->model, "nvme_card") == 0 || fnmatch("nvme_card[0-9]*", d->model, 0) == 0;
                else if (d->bus == BUS_SCSI)
                        yes = strcmp(d->vendor, "Google") == 0 && strcmp(d->model, "EphemeralDisk") == 0;
                if (yes && d->bus == BUS_NVME)
                        for (const char *c = d->model + strlen("nvme_card"); *c; c++)
                                if (*c < '0' || *c > '9')
                                        yes = false;
                break;
        default:
                break;
        }
        if (ret_azure_resource)
                *ret_azure_resource = yes && resource;
        return yes;
}

const char *cloud_disk_kinds(enum cloud platform) {
        switch (platform) {
        case CLOUD_AWS: return "NVMe instance store, model 'Amazon EC2 NVMe Instance Storage'";
        case CLOUD_AZURE:
                return "NVMe temp disks, model 'Microsoft NVMe Direct Disk' or '... v2', or the SCSI resource disk";
        case CLOUD_GCP: return "local SSDs, NVMe model 'nvme_card' or SCSI model 'EphemeralDisk'";
        default: return "none";
        }
}
