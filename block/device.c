/* SPDX-License-Identifier: MIT */
/*
 * Named block devices and their registry (<qapikit/block-device.h>).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qapikit/error.h>

#include "device-internal.h"

void block_device_free(BlockDevice *dev)
{
    g_autoptr(GError) err = NULL;

    if (!dev) {
        return;
    }
    if (dev->top && !block_node_is_read_only(dev->top)
        && !block_node_flush(dev->top, &err)) {
        g_message("%s: %s", dev->id, err->message);
    }
    block_node_unref(dev->top);
    g_mutex_clear(&dev->io_lock);
    g_cond_clear(&dev->io_idle);
    g_array_unref(dev->resume);
    g_free(dev->id);
    g_free(dev->file_node);
    g_free(dev->spec_format);
    g_free(dev->drive_file);
    g_free(dev->node_name);
    g_free(dev);
}

static void file_node_free(gpointer data)
{
    BlockFileNode *f = data;

    g_free(f->filename);
    g_free(f);
}

BlockDeviceRegistry *block_registry_new(void)
{
    BlockDeviceRegistry *reg = g_new0(BlockDeviceRegistry, 1);

    reg->devices =
        g_ptr_array_new_with_free_func((GDestroyNotify)block_device_free);
    reg->by_id = g_hash_table_new(g_str_hash, g_str_equal);
    reg->node_names =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    reg->file_nodes =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, file_node_free);
    reg->extensions =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    reg->loaded_extensions =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    reg->state_lock_fd = -1;
    reg->journal_fd = -1;
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
    g_hash_table_destroy(reg->file_nodes);
    g_hash_table_destroy(reg->extensions);
    g_hash_table_destroy(reg->loaded_extensions);
    g_free(reg->state_dir);
    g_free(reg->state_dir_real);
    if (reg->state_lock_fd >= 0) {
        close(reg->state_lock_fd);
    }
    if (reg->journal_fd >= 0) {
        close(reg->journal_fd);
    }
    g_free(reg);
}

bool block_device_id_valid(const char *id)
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

/*
 * Whether the image DEV/INO, which would be the top of the new device
 * ID, is already any image of another device's chain (two writers on
 * one file, or a writer under another device's overlay).  FILE is the
 * name to report.
 */
static bool check_top_free(const BlockDeviceRegistry *reg, const char *id,
                           const char *file, dev_t st_dev, ino_t st_ino,
                           const BlockDevice *except, GError **errp)
{
    for (guint i = 0; i < reg->devices->len; i++) {
        const BlockDevice *other = g_ptr_array_index(reg->devices, i);

        if (other == except) {
            continue;
        }
        for (BlockNode *node = other->top; node;
             node = block_node_backing(node)) {
            dev_t node_dev;
            ino_t node_ino;

            block_node_file_id(node, &node_dev, &node_ino);
            if (node_dev == st_dev && node_ino == st_ino) {
                g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "%s: image '%s' is already %s of device '%s' "
                            "('%s')",
                            id, file,
                            node == other->top ? "the active image"
                                               : "a backing image",
                            other->id, block_node_filename(node));
                return false;
            }
        }
    }
    return true;
}

/*
 * Whether the new chain TOP of device ID may be used next to the
 * devices of REG: its top is no image of theirs, and none of its images
 * is the top of one of them (the image that device writes).  Read-only
 * backing images may be shared.
 */
bool block_check_file_free(const BlockDeviceRegistry *reg, const char *id,
                           const char *file, const BlockDevice *except,
                           GError **errp)
{
    struct stat st;

    return stat(file, &st) != 0
        || check_top_free(reg, id, file, st.st_dev, st.st_ino, except, errp);
}

bool block_check_chain_free(const BlockDeviceRegistry *reg, const char *id,
                            BlockNode *top, const BlockDevice *except,
                            GError **errp)
{
    dev_t st_dev;
    ino_t st_ino;

    block_node_file_id(top, &st_dev, &st_ino);
    if (!check_top_free(reg, id, block_node_filename(top), st_dev, st_ino,
                        except, errp)) {
        return false;
    }
    for (BlockNode *node = block_node_backing(top); node;
         node = block_node_backing(node)) {
        block_node_file_id(node, &st_dev, &st_ino);
        for (guint i = 0; i < reg->devices->len; i++) {
            const BlockDevice *other = g_ptr_array_index(reg->devices, i);
            dev_t top_dev;
            ino_t top_ino;

            if (other == except) {
                continue;
            }
            block_node_file_id(other->top, &top_dev, &top_ino);
            if (top_dev == st_dev && top_ino == st_ino) {
                g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "%s: backing image '%s' is the active image "
                            "of device '%s' ('%s')",
                            id, block_node_filename(node), other->id,
                            block_node_filename(other->top));
                return false;
            }
        }
    }
    return true;
}

BlockDevice *block_device_new(const char *id, BlockNode *top, const char *file,
                              bool read_only)
{
    BlockDevice *dev = g_new0(BlockDevice, 1);

    dev->id = g_strdup(id);
    dev->top = top;
    dev->drive_file = g_strdup(file);
    dev->read_only = read_only;
    dev->io_state = BLOCK_DEVICE_IO_OK;
    g_mutex_init(&dev->io_lock);
    g_cond_init(&dev->io_idle);
    dev->resume = g_array_new(FALSE, FALSE, sizeof(BlockResumeNotifier));
    return dev;
}

BlockDevice *block_registry_add_drive(BlockDeviceRegistry *reg, const char *id,
                                      const char *file, const char *format,
                                      bool read_only, GError **errp)
{
    BlockNode *top;
    BlockDevice *dev;

    if (!block_device_id_valid(id)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "invalid device id '%s': a letter, then letters, "
                    "digits, '.', '_' or '-', at most 127 bytes",
                    id);
        return NULL;
    }
    if (g_hash_table_contains(reg->by_id, id)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "device '%s' already exists", id);
        return NULL;
    }
    /* Refused before the file is opened (and maybe written). */
    if (!block_check_file_free(reg, id, file, NULL, errp)) {
        return NULL;
    }
    top = block_node_open(
        file, format, read_only ? BLOCK_OPEN_READ_ONLY : BLOCK_OPEN_READ_WRITE,
        errp);
    if (!top) {
        g_prefix_error(errp, "%s: ", id);
        return NULL;
    }
    if (!block_check_chain_free(reg, id, top, NULL, errp)) {
        block_node_unref(top);
        return NULL;
    }
    dev = block_device_new(id, top, file, read_only);
    g_ptr_array_add(reg->devices, dev);
    g_hash_table_insert(reg->by_id, dev->id, dev);
    return dev;
}

BlockDevice *block_registry_find(const BlockDeviceRegistry *reg, const char *id)
{
    return g_hash_table_lookup(reg->by_id, id);
}

size_t block_registry_count(const BlockDeviceRegistry *reg)
{
    return reg->devices->len;
}

BlockDevice *block_registry_nth(const BlockDeviceRegistry *reg, size_t n)
{
    return n < reg->devices->len ? g_ptr_array_index(reg->devices, n) : NULL;
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

BlockDevice *block_registry_find_node(const BlockDeviceRegistry *reg,
                                      const char *name)
{
    BlockDevice *dev = block_registry_find(reg, name);

    return dev ? dev : block_registry_find_named_node(reg, name);
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
    return (BlockDeviceIoState)g_atomic_int_get(&dev->io_state);
}

uint64_t block_device_length(const BlockDevice *dev)
{
    return block_node_length(dev->top);
}

static bool check_range(const BlockDevice *dev, uint64_t offset, uint64_t len,
                        GError **errp)
{
    uint64_t length = block_node_length(dev->top);

    if (offset > length || len > length - offset) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s: range %" G_GUINT64_FORMAT "+%" G_GUINT64_FORMAT
                    " is past the end of the device (%" G_GUINT64_FORMAT
                    " bytes)",
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

bool block_device_pread_nowait(BlockDevice *dev, uint64_t offset, void *buf,
                               size_t len)
{
    return check_range(dev, offset, len, NULL)
        && block_node_pread_nowait(dev->top, offset, buf, len);
}

/* The io-status after a failed write or flush of DEV. */
static BlockDeviceIoState device_io_failure(const BlockDevice *dev)
{
    return block_node_out_of_space(dev->top) ? BLOCK_DEVICE_IO_NOSPACE
                                             : BLOCK_DEVICE_IO_FAILED;
}

static bool check_writable(BlockDevice *dev, uint64_t offset, uint64_t len,
                           GError **errp)
{
    if (!check_range(dev, offset, len, errp)) {
        return false;
    }
    if (dev->read_only) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s: the device is read-only", dev->id);
        return false;
    }
    return true;
}

bool block_device_pwrite(BlockDevice *dev, uint64_t offset, const void *buf,
                         size_t len, GError **errp)
{
    if (!check_writable(dev, offset, len, errp)) {
        return false;
    }
    if (!block_node_pwrite(dev->top, offset, buf, len, errp)) {
        g_atomic_int_set(&dev->io_state, device_io_failure(dev));
        g_prefix_error(errp, "%s: ", dev->id);
        return false;
    }
    return true;
}

bool block_device_pwrite_zeroes(BlockDevice *dev, uint64_t offset, uint64_t len,
                                unsigned flags, GError **errp)
{
    if (!check_writable(dev, offset, len, errp)) {
        return false;
    }
    if (!block_node_pwrite_zeroes(dev->top, offset, len, flags, errp)) {
        g_atomic_int_set(&dev->io_state, device_io_failure(dev));
        g_prefix_error(errp, "%s: ", dev->id);
        return false;
    }
    return true;
}

bool block_device_discard(BlockDevice *dev, uint64_t offset, uint64_t len,
                          GError **errp)
{
    if (!check_writable(dev, offset, len, errp)) {
        return false;
    }
    if (!block_node_discard(dev->top, offset, len, errp)) {
        g_prefix_error(errp, "%s: ", dev->id);
        return false;
    }
    return true;
}

bool block_device_block_status(BlockDevice *dev, uint64_t offset, uint64_t len,
                               BlockExtentKind *kind, uint64_t *pnum,
                               GError **errp)
{
    if (!block_node_block_status(dev->top, offset, len, kind, pnum, errp)) {
        g_prefix_error(errp, "%s: ", dev->id);
        return false;
    }
    return true;
}

bool block_device_can_zero_fast(const BlockDevice *dev)
{
    return block_node_can_zero_fast(dev->top);
}

bool block_device_io_begin(BlockDevice *dev)
{
    bool ok;

    g_mutex_lock(&dev->io_lock);
    ok = dev->drained == 0;
    if (ok) {
        dev->in_flight++;
    }
    g_mutex_unlock(&dev->io_lock);
    return ok;
}

void block_device_io_end(BlockDevice *dev)
{
    g_mutex_lock(&dev->io_lock);
    if (--dev->in_flight == 0) {
        g_cond_broadcast(&dev->io_idle);
    }
    g_mutex_unlock(&dev->io_lock);
}

void block_device_drain_begin(BlockDevice *dev)
{
    g_mutex_lock(&dev->io_lock);
    dev->drained++;
    while (dev->in_flight > 0) {
        g_cond_wait(&dev->io_idle, &dev->io_lock);
    }
    g_mutex_unlock(&dev->io_lock);
}

void block_device_drain_end(BlockDevice *dev)
{
    bool resumed;

    g_mutex_lock(&dev->io_lock);
    resumed = --dev->drained == 0;
    g_mutex_unlock(&dev->io_lock);
    for (guint i = 0; resumed && i < dev->resume->len; i++) {
        BlockResumeNotifier *n =
            &g_array_index(dev->resume, BlockResumeNotifier, i);

        n->fn(dev, n->opaque);
    }
}

void block_device_add_resume_notifier(BlockDevice *dev,
                                      BlockDeviceResumeFunc fn, void *opaque)
{
    BlockResumeNotifier n = { fn, opaque };

    g_array_append_val(dev->resume, n);
}

void block_device_remove_resume_notifier(BlockDevice *dev,
                                         BlockDeviceResumeFunc fn, void *opaque)
{
    for (guint i = 0; i < dev->resume->len; i++) {
        BlockResumeNotifier *n =
            &g_array_index(dev->resume, BlockResumeNotifier, i);

        if (n->fn == fn && n->opaque == opaque) {
            g_array_remove_index(dev->resume, i);
            return;
        }
    }
}

bool block_device_flush(BlockDevice *dev, GError **errp)
{
    if (!block_node_flush(dev->top, errp)) {
        g_atomic_int_set(&dev->io_state, device_io_failure(dev));
        g_prefix_error(errp, "%s: ", dev->id);
        return false;
    }
    return true;
}

const char *block_device_node_name(const BlockDevice *dev)
{
    return dev->node_name;
}
