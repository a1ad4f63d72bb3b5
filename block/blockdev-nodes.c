/* SPDX-License-Identifier: MIT */
/*
 * The QMP commands of qapi/block.json for nodes added at run time:
 * blockdev-add, blockdev-del and query-named-block-nodes.
 */
#include <string.h>

#include <qapikit/error.h>

#include "blockdev.h"
#include "qapi-commands-block.h"

static bool refuse(bool given, const char *what, GError **errp)
{
    if (given) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s is not supported", what);
    }
    return !given;
}

/* The options every node takes that qapikit can only take one way. */
static bool check_common(const BlockdevOptions *o, GError **errp)
{
    return refuse(o->has_detect_zeroes
                      && o->detect_zeroes != BLOCKDEV_DETECT_ZEROES_OPTIONS_OFF,
                  "'detect-zeroes' other than 'off'", errp)
        && refuse(o->cache && o->cache->has_direct && o->cache->direct,
                  "'cache.direct': true (O_DIRECT)", errp)
        && refuse(o->cache && o->cache->has_no_flush && o->cache->no_flush,
                  "'cache.no-flush': true", errp);
}

/* A file node's options; their FILENAME. */
static const char *file_options(const BlockdevOptions *o, GError **errp)
{
    const BlockdevOptionsFile *f = &o->u.file;

    if (!check_common(o, errp)
        || !refuse(f->has_locking && f->locking == ON_OFF_AUTO_OFF,
                   "'locking': 'off'", errp)) {
        return NULL;
    }
    return f->filename;
}

/*
 * Fill SPEC's file from REF: a file node's definition (added too when it
 * has a node name) or the name of one.
 */
static bool spec_file(BlockDeviceRegistry *reg, const BlockdevRef *ref,
                      BlockNodeSpec *spec, GError **errp)
{
    const BlockdevOptions *def;

    if (ref->type == QTYPE_QSTRING) {
        spec->file_node = ref->u.reference;
        return true;
    }
    def = &ref->u.definition;
    if (def->driver != BLOCKDEV_DRIVER_FILE) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "'file' must be a node of driver 'file', not '%s'",
                    BlockdevDriver_str(def->driver));
        return false;
    }
    spec->filename = file_options(def, errp);
    if (!spec->filename) {
        return false;
    }
    if (def->node_name) {
        if (!block_registry_add_file_node(reg, def->node_name, spec->filename,
                                          errp)) {
            return false;
        }
        spec->file_node = def->node_name;
        spec->filename = NULL;
    }
    return true;
}

bool qmp_blockdev_add(BlockdevOptions *arg, GError **errp)
{
    BlockDeviceRegistry *reg = block_command_registry();
    BlockNodeSpec spec = {
        .node_name = arg->node_name,
        .read_only = arg->has_read_only && arg->read_only,
        .force_share = arg->has_force_share && arg->force_share,
    };
    const BlockdevRef *file = NULL;
    const BlockdevRefOrNull *backing = NULL;
    const char *added_file_node = NULL;

    if (!reg) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "this program has no block devices");
        return false;
    }
    if (!check_common(arg, errp)) {
        return false;
    }
    switch (arg->driver) {
    case BLOCKDEV_DRIVER_FILE: {
        const char *filename = file_options(arg, errp);

        if (!filename) {
            return false;
        }
        if (!arg->node_name) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "A file node needs a node name: give 'node-name'");
            return false;
        }
        return block_registry_add_file_node(reg, arg->node_name, filename,
                                            errp);
    }
    case BLOCKDEV_DRIVER_QCOW2:
        spec.format = "qcow2";
        file = arg->u.qcow2.file;
        backing = arg->u.qcow2.backing;
        break;
    case BLOCKDEV_DRIVER_RAW:
        spec.format = "raw";
        file = arg->u.raw.file;
        if (!refuse(arg->u.raw.has_offset && arg->u.raw.offset != 0,
                    "a raw 'offset'", errp)
            || !refuse(arg->u.raw.has_size, "a raw 'size'", errp)) {
            return false;
        }
        break;
    default:
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "driver '%s' is not supported",
                    BlockdevDriver_str(arg->driver));
        return false;
    }
    if (backing) {
        switch (backing->type) {
        case QTYPE_QNULL:
            spec.backing = BLOCK_BACKING_NONE;
            break;
        case QTYPE_QSTRING:
            spec.backing = BLOCK_BACKING_NODE;
            spec.backing_node = backing->u.reference;
            break;
        default:
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "'backing' as a definition is not supported: add "
                        "the backing node first and give its node name");
            return false;
        }
    }
    if (!arg->node_name) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "A block device needs a node name: give 'node-name'");
        return false;
    }
    if (!spec_file(reg, file, &spec, errp)) {
        return false;
    }
    if (file->type != QTYPE_QSTRING && spec.file_node) {
        added_file_node = spec.file_node;
    }
    if (!block_registry_add_node(reg, &spec, errp)) {
        /* All or nothing: a file node defined inline goes too. */
        if (added_file_node) {
            block_registry_del_node(reg, added_file_node, NULL);
        }
        return false;
    }
    return true;
}

bool qmp_blockdev_del(const char *node_name, GError **errp)
{
    BlockDeviceRegistry *reg = block_command_registry();

    if (!reg) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "Failed to find node with node-name='%s'", node_name);
        return false;
    }
    return block_registry_del_node(reg, node_name, errp);
}

BlockDeviceInfoList *qmp_query_named_block_nodes(bool has_flat, bool flat,
                                                 GError **errp)
{
    BlockDeviceRegistry *reg = block_command_registry();
    BlockDeviceInfoList *head = NULL;
    BlockDeviceInfoList **tail = &head;
    GHashTableIter iter;
    gpointer name, node;

    (void)errp;
    flat = has_flat && flat;
    for (size_t i = 0; reg && i < block_registry_count(reg); i++) {
        BlockDevice *dev = block_registry_nth(reg, i);

        if (block_device_is_node(dev)) {
            QAPI_LIST_APPEND(tail,
                             block_device_info(reg, dev,
                                               block_device_origin(dev),
                                               dev->id, flat));
        }
    }
    if (!reg) {
        return NULL;
    }
    /* Images named by snapshot-node-name. */
    g_hash_table_iter_init(&iter, reg->node_names);
    while (g_hash_table_iter_next(&iter, &name, &node)) {
        for (size_t i = 0; i < block_registry_count(reg); i++) {
            BlockDevice *dev = block_registry_nth(reg, i);

            if (block_chain_has_node(dev->top, node)) {
                QAPI_LIST_APPEND(tail,
                                 block_device_info(reg, dev, node, name, flat));
                break;
            }
        }
    }
    return head;
}
