/* SPDX-License-Identifier: MIT */
/*
 * The QMP commands of qapi/block.json: query-block and the three
 * snapshot commands, which share block_snapshot_group().
 */
#include <string.h>

#include <qapikit/dispatch.h>
#include <qapikit/error.h>

#include "blockdev.h"
#include "qapi-commands-block.h"
#include "qapi-events-block.h"

BlockDeviceRegistry *block_command_registry(void)
{
    const QmpCommandContext *ctx = qmp_command_context();

    return ctx ? ctx->opaque : NULL;
}

static ImageInfo *image_info(const BlockDeviceRegistry *reg, BlockNode *node)
{
    ImageInfo *info = g_new0(ImageInfo, 1);
    BlockNode *backing = block_node_backing(node);
    int64_t actual = block_node_actual_size(node);
    const char *name;

    info->filename = g_strdup(block_node_filename(node));
    info->format = g_strdup(block_format_name(block_node_format(node)));
    info->virtual_size = (int64_t)block_node_length(node);
    if (actual >= 0) {
        info->has_actual_size = true;
        info->actual_size = actual;
    }
    if (block_node_format(node) == BLOCK_FORMAT_QCOW2) {
        info->has_cluster_size = true;
        info->cluster_size = (int64_t)block_node_cluster_size(node);
        info->has_dirty_flag = true;
        info->dirty_flag = block_node_is_dirty(node);
    }
    if ((name = block_node_backing_name(node))) {
        info->backing_filename = g_strdup(name);
    }
    if ((name = block_node_full_backing_name(node))) {
        info->full_backing_filename = g_strdup(name);
    }
    if ((name = block_node_backing_format(node))) {
        info->backing_filename_format = g_strdup(name);
    }
    if (backing) {
        info->backing_image = image_info(reg, backing);
    }
    return info;
}

BlockDeviceInfo *block_device_info(const BlockDeviceRegistry *reg,
                                   const BlockDevice *dev, BlockNode *top,
                                   const char *node_name, bool flat)
{
    BlockDeviceInfo *inserted = g_new0(BlockDeviceInfo, 1);
    const char *backing = block_node_backing_name(top);

    inserted->file = g_strdup(block_node_filename(top));
    inserted->node_name = g_strdup(node_name);
    /* A node that found corruption switches itself to read-only (§8). */
    inserted->ro =
        (dev->read_only && top == dev->top) || block_node_is_read_only(top);
    inserted->drv = g_strdup(block_format_name(block_node_format(top)));
    inserted->backing_file = g_strdup(backing);
    inserted->backing_file_depth = block_node_backing_depth(top);
    inserted->encrypted = false;
    inserted->detect_zeroes = BLOCKDEV_DETECT_ZEROES_OPTIONS_OFF;
    inserted->cache = g_new0(BlockdevCacheInfo, 1);
    inserted->cache->writeback = true;
    inserted->cache->direct = false;
    inserted->cache->no_flush = false;
    inserted->image = image_info(reg, top);
    if (flat) {
        qapi_free_ImageInfo(inserted->image->backing_image);
        inserted->image->backing_image = NULL;
    }
    return inserted;
}

static BlockInfo *block_info(const BlockDeviceRegistry *reg,
                             const BlockDevice *dev)
{
    BlockInfo *info = g_new0(BlockInfo, 1);

    info->device = g_strdup(dev->id);
    info->type = g_strdup("unknown");
    info->removable = false;
    info->locked = false;
    info->has_io_status = true;
    switch (block_device_io_state(dev)) {
    case BLOCK_DEVICE_IO_OK:
        info->io_status = BLOCK_DEVICE_IO_STATUS_OK;
        break;
    case BLOCK_DEVICE_IO_NOSPACE:
        info->io_status = BLOCK_DEVICE_IO_STATUS_NOSPACE;
        break;
    default:
        info->io_status = BLOCK_DEVICE_IO_STATUS_FAILED;
        break;
    }

    info->inserted =
        block_device_info(reg, dev, dev->top, dev->node_name, false);
    return info;
}

BlockInfoList *qmp_query_block(GError **errp)
{
    BlockDeviceRegistry *reg = block_command_registry();
    BlockInfoList *head = NULL;
    BlockInfoList **tail = &head;

    (void)errp;
    for (size_t i = 0; reg && i < block_registry_count(reg); i++) {
        BlockDevice *dev = block_registry_nth(reg, i);
        BlockInfoList *elt;

        /* QEMU lists its backends here, not the nodes of blockdev-add. */
        if (block_device_is_node(dev)) {
            continue;
        }
        elt = g_new0(BlockInfoList, 1);
        elt->value = block_info(reg, dev);
        *tail = elt;
        tail = &elt->next;
    }
    return head;
}

/*
 * Run ENTRIES as one group on the command's registry and, on success,
 * tell every client which device moved onto which file.
 */
static bool run_group(const BlockSnapshotEntry *entries, size_t n,
                      GError **errp)
{
    BlockDeviceRegistry *reg = block_command_registry();
    g_autoptr(BlockDeviceRegistry) empty = NULL;
    g_autofree const BlockDevice **resolved =
        g_new0(const BlockDevice *, n ? n : 1);
    BlockSnapshotGroupDeviceList *devices = NULL;
    BlockSnapshotGroupDeviceList **tail = &devices;

    if (!reg) {
        reg = empty = block_registry_new();
    }
    if (!block_snapshot_group(reg, entries, n, resolved, errp)) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        BlockSnapshotGroupDevice *value;

        if (entries[i].action != BLOCK_SNAPSHOT_ACTION_SNAPSHOT) {
            continue;
        }
        value = g_new0(BlockSnapshotGroupDevice, 1);
        /* The group succeeded, so every snapshot's device was found. */
        if (resolved[i] && block_device_is_node(resolved[i])) {
            value->node_name = g_strdup(resolved[i]->id);
        } else {
            value->device = g_strdup(resolved[i] ? resolved[i]->id : "");
        }
        value->snapshot_file = g_strdup(entries[i].snapshot_file);
        value->format = g_strdup("qcow2");
        QAPI_LIST_APPEND(tail, value);
    }
    if (devices) {
        qapi_event_send_block_snapshot_group(devices);
    }
    qapi_free_BlockSnapshotGroupDeviceList(devices);
    return true;
}

bool qmp_blockdev_group_snapshot_sync(SnapshotDevList *devlist, GError **errp)
{
    g_autoptr(GArray) entries =
        g_array_new(false, true, sizeof(BlockSnapshotEntry));

    for (SnapshotDevList *l = devlist; l; l = l->next) {
        BlockSnapshotEntry entry = {
            .action = BLOCK_SNAPSHOT_ACTION_SNAPSHOT,
            .device = l->value->device,
            .snapshot_file = l->value->snapshot_file,
            .format = l->value->format,
            .mode = BLOCK_SNAPSHOT_MODE_ABSOLUTE_PATHS,
        };

        g_array_append_val(entries, entry);
    }
    return run_group((BlockSnapshotEntry *)entries->data, entries->len, errp);
}

static BlockSnapshotEntry entry_of(const BlockdevSnapshotSync *args)
{
    BlockSnapshotEntry entry = {
        .action = BLOCK_SNAPSHOT_ACTION_SNAPSHOT,
        .device = args->device,
        .node_name = args->node_name,
        .snapshot_file = args->snapshot_file,
        .snapshot_node_name = args->snapshot_node_name,
        .format = args->format,
        .mode = args->has_mode && args->mode == NEW_IMAGE_MODE_EXISTING
            ? BLOCK_SNAPSHOT_MODE_EXISTING
            : BLOCK_SNAPSHOT_MODE_ABSOLUTE_PATHS,
    };

    return entry;
}

bool qmp_blockdev_snapshot_sync(BlockdevSnapshotSync *arg, GError **errp)
{
    BlockSnapshotEntry entry = entry_of(arg);

    return run_group(&entry, 1, errp);
}

bool qmp_transaction(TransactionActionList *actions,
                     TransactionProperties *properties, GError **errp)
{
    g_autoptr(GArray) entries =
        g_array_new(false, true, sizeof(BlockSnapshotEntry));

    /* Snapshots complete at once: 'grouped' and 'individual' agree. */
    (void)properties;
    for (TransactionActionList *l = actions; l; l = l->next) {
        TransactionAction *action = l->value;
        BlockSnapshotEntry entry = {
            .action = BLOCK_SNAPSHOT_ACTION_ABORT,
        };

        switch (action->type) {
        case TRANSACTION_ACTION_KIND_BLOCKDEV_SNAPSHOT_SYNC:
            entry = entry_of(action->u.blockdev_snapshot_sync.data);
            break;
        case TRANSACTION_ACTION_KIND_ABORT:
            break;
        default:
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "unknown transaction action type %d",
                        (int)action->type);
            return false;
        }
        g_array_append_val(entries, entry);
    }
    return run_group((BlockSnapshotEntry *)entries->data, entries->len, errp);
}
