/* SPDX-License-Identifier: MIT */
/*
 * Nodes added at run time (blockdev-add, blockdev-del): devices of the
 * registry that QMP names by node name (<qapikit/block-device.h>).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <qapikit/error.h>

#include "device-internal.h"

static bool node_delete(BlockDeviceRegistry *reg, const char *node_name,
                        GError **errp);

/* Whether NAME is free for a new device, node or file node. */
static bool name_free(const BlockDeviceRegistry *reg, const char *name,
                      GError **errp)
{
    if (!block_device_id_valid(name)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "invalid node name '%s': a letter, then letters, "
                    "digits, '.', '_' or '-', at most 127 bytes",
                    name);
        return false;
    }
    if (g_hash_table_contains(reg->by_id, name)
        || g_hash_table_contains(reg->node_names, name)
        || g_hash_table_contains(reg->file_nodes, name)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "Duplicate nodes with node-name='%s'", name);
        return false;
    }
    return true;
}

bool block_registry_add_file_node(BlockDeviceRegistry *reg,
                                  const char *node_name, const char *filename,
                                  GError **errp)
{
    BlockFileNode *f;

    if (!name_free(reg, node_name, errp)) {
        return false;
    }
    f = g_new0(BlockFileNode, 1);
    f->filename = block_absolute_path(filename);
    g_hash_table_insert(reg->file_nodes, g_strdup(node_name), f);
    if (reg->state_dir && !block_registry_save_state(reg, errp)) {
        g_hash_table_remove(reg->file_nodes, node_name);
        return false;
    }
    return true;
}

/* The node BACKING_NODE may become SPEC's backing; it, or NULL. */
static BlockDevice *backing_of(BlockDeviceRegistry *reg,
                               const BlockNodeSpec *spec, GError **errp)
{
    BlockDevice *b = block_registry_find(reg, spec->backing_node);

    if (!b || !b->is_node) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s: backing node '%s' is not a node added with "
                    "blockdev-add",
                    spec->node_name, spec->backing_node);
        return NULL;
    }
    if (b->users) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s: backing node '%s' is exported", spec->node_name,
                    spec->backing_node);
        return NULL;
    }
    return b;
}

/*
 * Open the chain from IMAGE (FORMAT) down to the image FILE, whose
 * backing is attached per SPEC (BACKING_DEV's top for a node backing):
 * the images in between, a node's overlays, record their backing names.
 * *ORIGIN is FILE's node.  Returns the top, or NULL with *errp set.
 */
static BlockNode *open_over(const BlockNodeSpec *spec, const char *image,
                            const char *format, const char *file,
                            unsigned flags, BlockDevice *backing_dev,
                            BlockNode **origin, GError **errp)
{
    g_autoptr(BlockNode) top = NULL;
    BlockNode *cur;
    struct stat st;
    unsigned depth = 0;

    if (stat(file, &st) != 0) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "%s: Could not open '%s': %s", spec->node_name, file,
                    g_strerror(errno));
        return NULL;
    }
    if (spec->backing == BLOCK_BACKING_DEFAULT) {
        /* The whole chain the images record. */
        top = block_node_open(image, format, flags, errp);
        for (cur = top; cur; cur = block_node_backing(cur)) {
            dev_t d;
            ino_t i;

            block_node_file_id(cur, &d, &i);
            if (d == st.st_dev && i == st.st_ino) {
                break;
            }
        }
        if (top && !cur) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "%s: the image '%s' recorded for the node is not "
                        "over its file '%s'",
                        spec->node_name, image, file);
            return NULL;
        }
        *origin = cur;
        return top ? g_steal_pointer(&top) : NULL;
    }
    /* Down to FILE one image at a time, then the backing SPEC says. */
    top = block_node_open(image, format, flags | BLOCK_OPEN_NO_BACKING, errp);
    cur = top;
    while (cur) {
        dev_t d;
        ino_t i;
        BlockNode *next;

        block_node_file_id(cur, &d, &i);
        if (d == st.st_dev && i == st.st_ino) {
            break;
        }
        if (!block_node_full_backing_name(cur)
            || ++depth >= BLOCK_MAX_CHAIN_DEPTH) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "%s: the image '%s' recorded for the node is not "
                        "over its file '%s'",
                        spec->node_name, image, file);
            return NULL;
        }
        next = block_node_open(
            block_node_full_backing_name(cur), block_node_backing_format(cur),
            (flags & BLOCK_OPEN_FORCE_SHARE) | BLOCK_OPEN_READ_ONLY
                | BLOCK_OPEN_NO_BACKING,
            errp);
        if (!next) {
            return NULL;
        }
        block_node_set_backing(cur, next);
        block_node_unref(next);
        cur = next;
    }
    if (!cur) {
        return NULL;
    }
    if (backing_dev) {
        block_node_set_backing(cur, backing_dev->top);
    }
    *origin = cur;
    return g_steal_pointer(&top);
}

BlockDevice *block_registry_restore_node(BlockDeviceRegistry *reg,
                                         const BlockNodeSpec *spec,
                                         const char *image,
                                         const char *image_format,
                                         GError **errp)
{
    const char *filename = spec->filename;
    BlockFileNode *file_node = NULL;
    BlockDevice *backing_dev = NULL;
    unsigned flags = spec->read_only ? BLOCK_OPEN_READ_ONLY : 0;
    BlockNode *top, *origin = NULL;
    BlockDevice *dev;

    if (!spec->node_name) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "A block device needs a node name: give 'node-name'");
        return NULL;
    }
    if (!name_free(reg, spec->node_name, errp)) {
        return NULL;
    }
    if (spec->file_node) {
        file_node = g_hash_table_lookup(reg->file_nodes, spec->file_node);
        if (!file_node) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "Cannot find device= nor node-name=%s",
                        spec->file_node);
            return NULL;
        }
        filename = file_node->filename;
    }
    if (!filename) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s: no file to open", spec->node_name);
        return NULL;
    }
    if (spec->force_share && !spec->read_only) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "force-share=on can only be used with read-only images");
        return NULL;
    }
    if (spec->force_share) {
        flags |= BLOCK_OPEN_FORCE_SHARE;
    }
    if (spec->backing == BLOCK_BACKING_NODE
        && !(backing_dev = backing_of(reg, spec, errp))) {
        return NULL;
    }

    /* Refused before the file is opened (and maybe written). */
    if (!block_check_file_free(reg, spec->node_name, image ? image : filename,
                               backing_dev, errp)) {
        return NULL;
    }
    top = open_over(spec, image ? image : filename,
                    image ? image_format : spec->format, filename, flags,
                    backing_dev, &origin, errp);
    if (!top) {
        g_prefix_error(errp, "%s: ", spec->node_name);
        return NULL;
    }
    if (!block_check_chain_free(reg, spec->node_name, top, backing_dev, errp)) {
        block_node_unref(top);
        return NULL;
    }
    dev = block_device_new(spec->node_name, top, filename, spec->read_only);
    dev->is_node = true;
    dev->origin = origin;
    dev->spec_format = g_strdup(spec->format);
    dev->force_share = spec->force_share;
    dev->backing_mode = spec->backing;
    if (top == origin) {
        dev->node_name = g_strdup(spec->node_name);
    }
    if (file_node) {
        dev->file_node = g_strdup(spec->file_node);
        file_node->users++;
    }
    if (backing_dev) {
        /* Its image is a backing image now: nobody writes it. */
        backing_dev->read_only = true;
        block_node_set_read_only(backing_dev->top);
        backing_dev->backing_users++;
        dev->backing_dev = backing_dev;
    }
    g_ptr_array_add(reg->devices, dev);
    g_hash_table_insert(reg->by_id, dev->id, dev);
    return dev;
}

BlockDevice *block_registry_add_node(BlockDeviceRegistry *reg,
                                     const BlockNodeSpec *spec, GError **errp)
{
    BlockDevice *dev = block_registry_restore_node(reg, spec, NULL, NULL, errp);

    if (dev && reg->state_dir && !block_registry_save_state(reg, errp)) {
        node_delete(reg, spec->node_name, NULL);
        return NULL;
    }
    return dev;
}

/* Forget the node names given to images of DEV's chain. */
static void forget_node_names(BlockDeviceRegistry *reg, const BlockDevice *dev)
{
    GHashTableIter iter;
    gpointer name, node;

    g_hash_table_iter_init(&iter, reg->node_names);
    while (g_hash_table_iter_next(&iter, &name, &node)) {
        if (block_chain_has_node(dev->top, node)) {
            g_hash_table_iter_remove(&iter);
        }
    }
}

/* Delete NODE_NAME as block_registry_del_node() does, saving nothing. */
static bool node_delete(BlockDeviceRegistry *reg, const char *node_name,
                        GError **errp)
{
    BlockDevice *dev = block_registry_find(reg, node_name);
    BlockFileNode *f = g_hash_table_lookup(reg->file_nodes, node_name);

    if (f) {
        if (f->users) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "Node %s is in use", node_name);
            return false;
        }
        g_hash_table_remove(reg->file_nodes, node_name);
        return true;
    }
    if (!dev || !dev->is_node) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    dev ? "'%s' is a device of the command line, not a node "
                          "added with blockdev-add"
                        : "Failed to find node with node-name='%s'",
                    node_name);
        return false;
    }
    if (dev->users || dev->backing_users) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "Node %s is in use (%s)", node_name,
                    dev->users ? "exported" : "the backing of another node");
        return false;
    }
    if (dev->file_node) {
        BlockFileNode *fn =
            g_hash_table_lookup(reg->file_nodes, dev->file_node);

        if (fn) {
            fn->users--;
        }
    }
    if (dev->backing_dev) {
        dev->backing_dev->backing_users--;
    }
    forget_node_names(reg, dev);
    g_hash_table_remove(reg->by_id, dev->id);
    /* The array frees it (flushed and closed). */
    g_ptr_array_remove(reg->devices, dev);
    return true;
}

bool block_registry_del_node(BlockDeviceRegistry *reg, const char *node_name,
                             GError **errp)
{
    g_autoptr(GError) err = NULL;

    if (!node_delete(reg, node_name, errp)) {
        return false;
    }
    /* The node is gone; a state file that still names it is only stale. */
    if (reg->state_dir && !block_registry_save_state(reg, &err)) {
        g_message("%s", err->message);
    }
    return true;
}

bool block_device_is_node(const BlockDevice *dev)
{
    return dev->is_node;
}

BlockNode *block_device_origin(const BlockDevice *dev)
{
    return dev->origin;
}

void block_device_use(BlockDevice *dev)
{
    dev->users++;
}

void block_device_unuse(BlockDevice *dev)
{
    dev->users--;
}

BlockDevice *block_registry_find_named_node(const BlockDeviceRegistry *reg,
                                            const char *name)
{
    BlockDevice *dev = block_registry_find(reg, name);

    if (dev && dev->is_node) {
        return dev;
    }
    return block_registry_find_by_node_name(reg, name);
}
