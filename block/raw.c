/* SPDX-License-Identifier: MIT */
/*
 * qapikit block layer: the raw driver.  Guest offset = file offset; the
 * virtual size is the file size.
 */
#define _GNU_SOURCE /* fallocate, FALLOC_FL_* */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

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

/*
 * Data or hole at OFFSET, from the file system (SEEK_DATA/SEEK_HOLE):
 * a hole reads as zeros.  Where the file system cannot tell, all data.
 */
static bool raw_block_status(BlockNode *node, uint64_t offset, uint64_t len,
                             BlockExtentKind *kind, uint64_t *pnum,
                             GError **errp)
{
    off_t data, hole;

    (void)errp;
    *kind = BLOCK_EXTENT_DATA;
    *pnum = len;
    if (offset >= node->file_size) {
        *kind = BLOCK_EXTENT_ZERO;
        return true;
    }
    data = lseek(node->fd, (off_t)offset, SEEK_DATA);
    if (data < 0) {
        /* ENXIO: no data from OFFSET to the end of the file. */
        if (errno == ENXIO) {
            *kind = BLOCK_EXTENT_ZERO;
        }
        return true;
    }
    if ((uint64_t)data > offset) {
        *kind = BLOCK_EXTENT_ZERO;
        *pnum = MIN(len, (uint64_t)data - offset);
        return true;
    }
    hole = lseek(node->fd, (off_t)offset, SEEK_HOLE);
    if (hole > (off_t)offset) {
        *pnum = MIN(len, (uint64_t)hole - offset);
    }
    return true;
}

static int raw_fallocate(BlockNode *node, int mode, uint64_t offset,
                         uint64_t len, GError **errp)
{
    int r;

    do {
        r = fallocate(node->fd, mode, (off_t)offset, (off_t)len);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
        return 1;
    }
    if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL
        || errno == ENODEV) {
        return 0;
    }
    node->io_errno = errno;
    block_error(errp, node,
                "fallocate of %" PRIu64 " bytes at %" PRIu64 " failed: %s", len,
                offset, g_strerror(errno));
    return -1;
}

static int raw_zero_range(BlockNode *node, uint64_t offset, uint64_t len,
                          unsigned flags, GError **errp)
{
    if (flags & BLOCK_ZERO_MAY_UNMAP) {
        int done =
            raw_fallocate(node, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                          offset, len, errp);
        if (done != 0) {
            return done;
        }
    }
    return raw_fallocate(node, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
                         offset, len, errp);
}

static bool raw_discard(BlockNode *node, uint64_t offset, uint64_t len,
                        GError **errp)
{
    return raw_fallocate(node, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                         offset, len, errp)
        >= 0;
}

const BlockDriver block_driver_raw = {
    .format = BLOCK_FORMAT_RAW,
    .open = raw_open,
    .close = raw_close,
    .pread = raw_pread,
    .pwrite = raw_pwrite,
    .flush = raw_flush,
    .block_status = raw_block_status,
    .zero_range = raw_zero_range,
    .discard = raw_discard,
};
