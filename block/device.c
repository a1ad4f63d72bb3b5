/*
 * Named block devices and their registry (<qapikit/block-device.h>).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qapikit/error.h>

#include "device-internal.h"

static void block_device_free(BlockDevice *dev)
{
    g_autoptr(GError) err = NULL;

    if (!dev) {
        return;
    }
    if (dev->top && !block_node_is_read_only(dev->top) &&
        !block_node_flush(dev->top, &err)) {
        g_message("%s: %s", dev->id, err->message);
    }
    block_node_unref(dev->top);
    g_free(dev->id);
    g_free(dev->drive_file);
    g_free(dev->node_name);
    g_free(dev);
}

BlockDeviceRegistry *block_registry_new(void)
{
    BlockDeviceRegistry *reg = g_new0(BlockDeviceRegistry, 1);

    reg->devices = g_ptr_array_new_with_free_func(
        (GDestroyNotify)block_device_free);
    reg->by_id = g_hash_table_new(g_str_hash, g_str_equal);
    reg->node_names = g_hash_table_new_full(g_str_hash, g_str_equal,
                                            g_free, NULL);
    reg->state_lock_fd = -1;
    return reg;
}

void block_registry_free(BlockDeviceRegistry *reg)
{
    if (!reg) {
        return;
    }
    g_hash_table_destroy(reg->by_id);
    g_hash_table_destroy(reg->node_names);
    g_ptr_array_free(reg->devices, true);
    g_free(reg->state_dir);
    if (reg->state_lock_fd >= 0) {
        close(reg->state_lock_fd);
    }
    g_free(reg);
}

static bool device_id_valid(const char *id)
{
    size_t len = strlen(id);

    if (len == 0 || len > 127 || !g_ascii_isalpha(id[0])) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!g_ascii_isalnum(id[i]) && !strchr("._-", id[i])) {
            return false;
        }
    }
    return true;
}

BlockDevice *block_registry_add_drive(BlockDeviceRegistry *reg,
                                      const char *id, const char *file,
                                      const char *format, bool read_only,
                                      GError **errp)
{
    BlockNode *top;
    BlockDevice *dev;

    if (!device_id_valid(id)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "invalid device id '%s': a letter, then letters, "
                    "digits, '.', '_' or '-', at most 127 bytes", id);
        return NULL;
    }
    if (g_hash_table_contains(reg->by_id, id)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "device '%s' already exists", id);
        return NULL;
    }
    top = block_node_open(file, format,
                          read_only ? BLOCK_OPEN_READ_ONLY
                                    : BLOCK_OPEN_READ_WRITE,
                          errp);
    if (!top) {
        g_prefix_error(errp, "%s: ", id);
        return NULL;
    }
    dev = g_new0(BlockDevice, 1);
    dev->id = g_strdup(id);
    dev->top = top;
    dev->drive_file = g_strdup(file);
    dev->read_only = read_only;
    dev->io_state = BLOCK_DEVICE_IO_OK;
    g_ptr_array_add(reg->devices, dev);
    g_hash_table_insert(reg->by_id, dev->id, dev);
    return dev;
}

BlockDevice *block_registry_find(const BlockDeviceRegistry *reg,
                                 const char *id)
{
    return g_hash_table_lookup(reg->by_id, id);
}

size_t block_registry_count(const BlockDeviceRegistry *reg)
{
    return reg->devices->len;
}

BlockDevice *block_registry_nth(const BlockDeviceRegistry *reg, size_t n)
{
    return n < reg->devices->len ? g_ptr_array_index(reg->devices, n)
                                 : NULL;
}

const char *block_registry_node_name_of(const BlockDeviceRegistry *reg,
                                        const BlockNode *node)
{
    GHashTableIter iter;
    gpointer name, value;

    g_hash_table_iter_init(&iter, reg->node_names);
    while (g_hash_table_iter_next(&iter, &name, &value)) {
        if (value == node) {
            return name;
        }
    }
    return NULL;
}

BlockDevice *block_registry_find_by_node_name(const BlockDeviceRegistry *reg,
                                              const char *node_name)
{
    for (guint i = 0; i < reg->devices->len; i++) {
        BlockDevice *dev = g_ptr_array_index(reg->devices, i);

        if (dev->node_name && !strcmp(dev->node_name, node_name)) {
            return dev;
        }
    }
    return NULL;
}

char *block_absolute_path(const char *name)
{
    g_autofree char *canonical = g_canonicalize_filename(name, NULL);
    g_autofree char *dir = g_path_get_dirname(canonical);
    g_autofree char *base = g_path_get_basename(canonical);
    g_autofree char *real_dir = realpath(dir, NULL);

    /* Symlinks in the directory part resolved, so that two spellings of
     * one new file compare equal before it exists. */
    if (!real_dir) {
        return g_steal_pointer(&canonical);
    }
    return g_build_filename(real_dir, base, NULL);
}

const char *block_device_id(const BlockDevice *dev)
{
    return dev->id;
}

BlockNode *block_device_top(const BlockDevice *dev)
{
    return dev->top;
}

bool block_device_is_read_only(const BlockDevice *dev)
{
    return dev->read_only;
}

BlockDeviceIoState block_device_io_state(const BlockDevice *dev)
{
    return dev->io_state;
}

uint64_t block_device_length(const BlockDevice *dev)
{
    return block_node_length(dev->top);
}

static bool check_range(const BlockDevice *dev, uint64_t offset, size_t len,
                        GError **errp)
{
    uint64_t length = block_node_length(dev->top);

    if (offset > length || len > length - offset) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s: range %" G_GUINT64_FORMAT "+%zu is past the end "
                    "of the device (%" G_GUINT64_FORMAT " bytes)",
                    dev->id, offset, len, length);
        return false;
    }
    return true;
}

bool block_device_pread(BlockDevice *dev, uint64_t offset, void *buf,
                        size_t len, GError **errp)
{
    if (!check_range(dev, offset, len, errp)) {
        return false;
    }
    if (!block_node_pread(dev->top, offset, buf, len, errp)) {
        g_prefix_error(errp, "%s: ", dev->id);
        return false;
    }
    return true;
}

/* The io-status after a failed write or flush of DEV. */
static BlockDeviceIoState device_io_failure(const BlockDevice *dev)
{
    return block_node_out_of_space(dev->top) ? BLOCK_DEVICE_IO_NOSPACE
                                             : BLOCK_DEVICE_IO_FAILED;
}

bool block_device_pwrite(BlockDevice *dev, uint64_t offset,
                         const void *buf, size_t len, GError **errp)
{
    if (!check_range(dev, offset, len, errp)) {
        return false;
    }
    if (dev->read_only) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s: the device is read-only", dev->id);
        return false;
    }
    if (!block_node_pwrite(dev->top, offset, buf, len, errp)) {
        dev->io_state = device_io_failure(dev);
        g_prefix_error(errp, "%s: ", dev->id);
        return false;
    }
    return true;
}

bool block_device_flush(BlockDevice *dev, GError **errp)
{
    if (!block_node_flush(dev->top, errp)) {
        dev->io_state = device_io_failure(dev);
        g_prefix_error(errp, "%s: ", dev->id);
        return false;
    }
    return true;
}

const char *block_device_node_name(const BlockDevice *dev)
{
    return dev->node_name;
}
