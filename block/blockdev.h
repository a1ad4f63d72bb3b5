/* SPDX-License-Identifier: MIT */
/*
 * What the QMP handlers of qapi/block.json share: blockdev.c (queries,
 * snapshots) and blockdev-nodes.c (blockdev-add, blockdev-del,
 * query-named-block-nodes).  Private to block/.
 */
#ifndef QAPIKIT_BLOCKDEV_H
#define QAPIKIT_BLOCKDEV_H

#include "device-internal.h"
#include "qapi-types-block.h"

/*
 * The registry the running command was registered with (the command
 * list's opaque pointer, <qapikit/block-device.h>), or NULL.
 */
BlockDeviceRegistry *block_command_registry(void);

/*
 * BlockDeviceInfo of the image TOP of DEV's chain, named NODE_NAME (or
 * NULL); FLAT: without the backing chain's image information.
 */
BlockDeviceInfo *block_device_info(const BlockDeviceRegistry *reg,
                                   const BlockDevice *dev, BlockNode *top,
                                   const char *node_name, bool flat);

#endif /* QAPIKIT_BLOCKDEV_H */
