/* SPDX-License-Identifier: MIT */
/*
 * qapikit block layer: the raw driver.  Guest offset = file offset; the
 * virtual size is the file size.
 */
#include "block-int.h"

static bool raw_open(BlockNode *node, unsigned flags, GError **errp)
{
    (void)flags;
    (void)errp;
    node->length = node->file_size;
    node->opaque = NULL;
    return true;
}

static void raw_close(BlockNode *node)
{
    (void)node;
}

static bool raw_pread(BlockNode *node, uint64_t offset, void *buf, size_t len,
                      GError **errp)
{
    return block_file_pread(node, offset, buf, len, errp);
}

static bool raw_pwrite(BlockNode *node, uint64_t offset, const void *buf,
                       size_t len, GError **errp)
{
    return block_file_pwrite(node, offset, buf, len, errp);
}

static bool raw_flush(BlockNode *node, GError **errp)
{
    return block_file_sync(node, errp);
}

const BlockDriver block_driver_raw = {
    .format = BLOCK_FORMAT_RAW,
    .open = raw_open,
    .close = raw_close,
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    .flush = raw_flush,
};
