/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "options.h"
#include "sysfs.h"

/* The platform the machine says it is in its DMI strings under
 * sysfs/class/dmi/id: CLOUD_AZURE, CLOUD_AWS, CLOUD_GCP, or CLOUD_NONE when
 * it is none of them. What was read is left in seen ("sys_vendor 'QEMU',
 * product_name '...'") for the message that tells why nothing was taken. */
enum cloud cloud_detect(const char *sysfs, char *seen, size_t n);

/* Whether d is one of the platform's ephemeral disks by the platform's own
 * published identity; *ret_azure_resource tells whether it is Azure's SCSI
 * resource disk (delivered formatted NTFS), as opposed to a raw NVMe one. */
bool cloud_disk_is_ephemeral(enum cloud platform, const char *sysfs, const struct disk *d,
                             bool *ret_azure_resource);

/* What the platform's ephemeral disks are, for messages. */
const char *cloud_disk_kinds(enum cloud platform);
