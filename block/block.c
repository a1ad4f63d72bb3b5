/* SPDX-License-Identifier: MIT */
/*
 * qapikit block layer: the node core.  Opening a file, detecting its
 * format, opening its backing chain, and dispatching I/O to the format
 * driver.
 */
#define _GNU_SOURCE /* preadv2, RWF_NOWAIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "block-int.h"
#include "path.h"

typedef struct FileId {
    dev_t dev;
    ino_t ino;
} FileId;

void block_error(GError **errp, const BlockNode *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR, "%s: %s",
                node->filename, msg);
}

const char *block_format_name(BlockFormat format)
{
    return format == BLOCK_FORMAT_QCOW2 ? "qcow2" : "raw";
}

bool block_format_from_name(const char *name, BlockFormat *format,
                            GError **errp)
{
    if (g_strcmp0(name, "raw") == 0) {
        *format = BLOCK_FORMAT_RAW;
        return true;
    }
    if (g_strcmp0(name, "qcow2") == 0) {
        *format = BLOCK_FORMAT_QCOW2;
        return true;
    }
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_INVALIDBLOCKFORMAT,
                "Invalid block format '%s'", name ? name : "(null)");
    return false;
}

/*
 * Set in a thread while block_node_pread_nowait() runs there: reads take
 * no lock they would wait for and read only what the page cache holds.
 */
static _Thread_local bool io_nowait;

/* In nowait mode: whether to give up instead of waiting (and say so). */
static bool nowait_gives_up(GError **errp)
{
    if (io_nowait) {
        g_set_error_literal(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "the read would wait");
    }
    return io_nowait;
}

/* Lock NODE; in nowait mode only if it is free. */
static bool node_lock(BlockNode *node, GError **errp)
{
    if (!io_nowait) {
        g_mutex_lock(&node->lock);
        return true;
    }
    return g_mutex_trylock(&node->lock) || !nowait_gives_up(errp);
}

bool block_file_pread(BlockNode *node, uint64_t offset, void *buf, size_t len,
                      GError **errp)
{
    uint8_t *p = buf;
    while (len > 0) {
        if (offset >= node->file_size) {
            memset(p, 0, len);
            return true;
        }
        size_t chunk =
            MIN(len, (size_t)MIN(node->file_size - offset, (uint64_t)1 << 30));
        ssize_t n;

        if (io_nowait) {
            struct iovec iov = { .iov_base = p, .iov_len = chunk };

            /* EAGAIN: not in the page cache (EOPNOTSUPP: no such reads). */
            n = preadv2(node->fd, &iov, 1, (off_t)offset, RWF_NOWAIT);
            if (n < 0 && errno != EINTR) {
                nowait_gives_up(errp);
                return false;
            }
        } else {
            n = pread(node->fd, p, chunk, (off_t)offset);
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            block_error(errp, node,
                        "read of %zu bytes at %" PRIu64 " failed: %s", chunk,
                        offset, g_strerror(errno));
            return false;
        }
        if (n == 0) {
            /* The file shrank under us: what is missing reads as zeros. */
            node->file_size = offset;
            continue;
        }
        p += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
    }
    return true;
}

bool block_file_pwrite(BlockNode *node, uint64_t offset, const void *buf,
                       size_t len, GError **errp)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n =
            pwrite(node->fd, p, MIN(len, (size_t)1 << 30), (off_t)offset);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            node->io_errno = errno;
            block_error(errp, node,
                        "write of %zu bytes at %" PRIu64 " failed: %s", len,
                        offset, g_strerror(errno));
            return false;
        }
        p += n;
        offset += (uint64_t)n;
        len -= (size_t)n;
        if (offset > node->file_size) {
            node->file_size = offset;
        }
    }
    return true;
}

bool block_file_sync(BlockNode *node, GError **errp)
{
    while (fdatasync(node->fd) < 0) {
        if (errno != EINTR) {
            node->io_errno = errno;
            block_error(errp, node, "fdatasync failed: %s", g_strerror(errno));
            return false;
        }
    }
    return true;
}

bool block_backing_pread(BlockNode *node, uint64_t offset, void *buf,
                         size_t len, GError **errp)
{
    BlockNode *bs = node->backing;
    uint64_t blen = bs ? bs->length : 0;
    size_t from_backing = 0;

    if (offset < blen) {
        bool ok;

        from_backing = (size_t)MIN((uint64_t)len, blen - offset);
        if (!node_lock(bs, errp)) {
            return false;
        }
        ok = bs->drv->pread(bs, offset, buf, from_backing, errp);
        g_mutex_unlock(&bs->lock);
        if (!ok) {
            return false;
        }
    }
    memset((uint8_t *)buf + from_backing, 0, len - from_backing);
    return true;
}

static void block_node_free(BlockNode *node)
{
    if (node->opaque) {
        node->drv->close(node);
    }
    if (node->fd >= 0) {
        close(node->fd);
    }
    block_node_unref(node->backing);
    g_mutex_clear(&node->lock);
    g_free(node->filename);
    g_free(node->backing_name);
    g_free(node->full_backing_name);
    g_free(node->backing_format);
    g_free(node);
}

static bool fileid_seen(GArray *seen, dev_t dev, ino_t ino)
{
    for (guint i = 0; i < seen->len; i++) {
        FileId *id = &g_array_index(seen, FileId, i);
        if (id->dev == dev && id->ino == ino) {
            return true;
        }
    }
    return false;
}

static void set_not_an_image(GError **errp, const char *filename, mode_t mode)
{
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                "Could not open '%s': it is %s, not a regular file or a "
                "block device",
                filename, block_file_type_name(mode));
}

/*
 * Open FILENAME as an image file: a regular file or a block device,
 * with its status in *ST; anything else is refused without blocking.
 * O_NONBLOCK makes the open of a FIFO return at once (a FIFO without a
 * writer would block a read-only open forever, and the main loop with
 * it); the type is checked on the descriptor, then O_NONBLOCK cleared.
 * Returns the descriptor, or -1 with *ERRP set (OpenFileFailed).
 */
static int open_image_file(const char *filename, bool read_only,
                           struct stat *st, GError **errp)
{
    int flags =
        (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    int fd, saved_errno;
    bool stat_ok;

    do {
        fd = open(filename, flags);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        saved_errno = errno;
        /* A socket (ENXIO) or a directory opened for writing (EISDIR). */
        if (stat(filename, st) == 0 && !S_ISREG(st->st_mode)
            && !S_ISBLK(st->st_mode)) {
            set_not_an_image(errp, filename, st->st_mode);
        } else {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                        "Could not open '%s': %s", filename,
                        g_strerror(saved_errno));
        }
        return -1;
    }
    stat_ok = fstat(fd, st) == 0;
    if (stat_ok && !S_ISREG(st->st_mode) && !S_ISBLK(st->st_mode)) {
        close(fd);
        set_not_an_image(errp, filename, st->st_mode);
        return -1;
    }
    if (!stat_ok || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
        saved_errno = errno;
        close(fd);
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "Could not open '%s': %s", filename,
                    g_strerror(saved_errno));
        return -1;
    }
    return fd;
}

static BlockNode *block_node_open_chain(const char *filename,
                                        const char *format, unsigned flags,
                                        GArray *seen, GError **errp)
{
    bool read_only = flags & BLOCK_OPEN_READ_ONLY;
    struct stat st;
    BlockFormat fmt;

    if (format && !block_format_from_name(format, &fmt, errp)) {
        return NULL;
    }
    if (seen->len >= BLOCK_MAX_CHAIN_DEPTH) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s: backing chain longer than %d images", filename,
                    BLOCK_MAX_CHAIN_DEPTH);
        return NULL;
    }

    int fd = open_image_file(filename, read_only, &st, errp);
    if (fd < 0) {
        return NULL;
    }

    g_autoptr(BlockNode) node = g_new0(BlockNode, 1);
    g_mutex_init(&node->lock);
    node->refcnt = 1;
    node->fd = fd;
    node->filename = block_absolute_path(filename);
    node->read_only = read_only;
    node->writable_fd = !read_only;
    if (!(read_only && (flags & BLOCK_OPEN_FORCE_SHARE))
        && !block_node_relock(node, !read_only, errp)) {
        return NULL;
    }

    if (S_ISREG(st.st_mode)) {
        node->file_size = (uint64_t)st.st_size;
    } else if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(fd, 0, SEEK_END);
        if (end < 0) {
            block_error(errp, node, "cannot find the size of the device: %s",
                        g_strerror(errno));
            return NULL;
        }
        node->file_size = (uint64_t)end;
    }
    node->dev = st.st_dev;
    node->ino = st.st_ino;
    if (fileid_seen(seen, st.st_dev, st.st_ino)) {
        block_error(errp, node,
                    "the file appears twice in one backing "
                    "chain");
        return NULL;
    }
    FileId id = { st.st_dev, st.st_ino };
    g_array_append_val(seen, id);

    if (!format) {
        uint8_t magic[4];
        if (!block_file_pread(node, 0, magic, sizeof(magic), errp)) {
            return NULL;
        }
        fmt = memcmp(magic, "QFI\xfb", 4) == 0 ? BLOCK_FORMAT_QCOW2
                                               : BLOCK_FORMAT_RAW;
    }
    const BlockDriver *drv =
        fmt == BLOCK_FORMAT_QCOW2 ? &block_driver_qcow2 : &block_driver_raw;
    if (!drv->open(node, flags, errp)) {
        return NULL;
    }
    node->drv = drv;

    if (node->backing_name && !(flags & BLOCK_OPEN_NO_BACKING)) {
        GError *local_err = NULL;
        node->backing = block_node_open_chain(
            node->full_backing_name, node->backing_format,
            BLOCK_OPEN_READ_ONLY | (flags & BLOCK_OPEN_FORCE_SHARE), seen,
            &local_err);
        if (!node->backing) {
            g_propagate_prefixed_error(
                errp, local_err, "%s: cannot open backing file: ", filename);
            return NULL;
        }
    }
    return g_steal_pointer(&node);
}

BlockNode *block_node_open(const char *filename, const char *format,
                           unsigned flags, GError **errp)
{
    g_autoptr(GArray) seen = g_array_new(FALSE, FALSE, sizeof(FileId));
    return block_node_open_chain(filename, format, flags, seen, errp);
}

BlockNode *block_node_ref(BlockNode *node)
{
    node->refcnt++;
    return node;
}

void block_node_unref(BlockNode *node)
{
    if (node && --node->refcnt == 0) {
        block_node_free(node);
    }
}

static bool block_check_range(BlockNode *node, uint64_t offset, size_t len,
                              GError **errp)
{
    if (offset > node->length || len > node->length - offset) {
        block_error(errp, node,
                    "request of %zu bytes at %" PRIu64
                    " runs past the end of the disk (%" PRIu64 " bytes)",
                    len, offset, node->length);
        return false;
    }
    return true;
}

bool block_node_pread(BlockNode *node, uint64_t offset, void *buf, size_t len,
                      GError **errp)
{
    bool ok;

    if (!block_check_range(node, offset, len, errp)) {
        return false;
    }
    if (len == 0) {
        return true;
    }
    g_mutex_lock(&node->lock);
    ok = node->drv->pread(node, offset, buf, len, errp);
    g_mutex_unlock(&node->lock);
    return ok;
}

bool block_node_pread_nowait(BlockNode *node, uint64_t offset, void *buf,
                             size_t len)
{
    g_autoptr(GError) err = NULL;
    bool ok;

    if (offset > node->length || len > node->length - offset || len == 0
        || !g_mutex_trylock(&node->lock)) {
        return false;
    }
    ok = !node->drv->pread_writes_nothing
        || node->drv->pread_writes_nothing(node, offset, len);
    if (ok) {
        io_nowait = true;
        ok = node->drv->pread(node, offset, buf, len, &err);
        io_nowait = false;
    }
    g_mutex_unlock(&node->lock);
    return ok;
}

/* The checks of every call that changes guest data; LEN may be 0. */
static bool block_check_write(BlockNode *node, uint64_t offset, uint64_t len,
                              GError **errp)
{
    if (node->read_only) {
        block_error(errp, node, "the image is read-only");
        return false;
    }
    if (len > SIZE_MAX) {
        block_error(errp, node, "request of %" PRIu64 " bytes is too large",
                    len);
        return false;
    }
    return block_check_range(node, offset, (size_t)len, errp);
}

bool block_node_pwrite(BlockNode *node, uint64_t offset, const void *buf,
                       size_t len, GError **errp)
{
    bool ok;

    if (!block_check_write(node, offset, len, errp)) {
        return false;
    }
    if (len == 0) {
        return true;
    }
    g_mutex_lock(&node->lock);
    ok = node->drv->pwrite(node, offset, buf, len, errp);
    g_mutex_unlock(&node->lock);
    return ok;
}

const uint8_t block_zero_buf[BLOCK_ZERO_BUF_SIZE];

bool block_node_pwrite_zeroes(BlockNode *node, uint64_t offset, uint64_t len,
                              unsigned flags, GError **errp)
{
    bool ok = true;

    if (!block_check_write(node, offset, len, errp)) {
        return false;
    }
    if (len == 0) {
        return true;
    }
    g_mutex_lock(&node->lock);
    if (node->drv->zero_range) {
        int done = node->drv->zero_range(node, offset, len, flags, errp);

        if (done != 0) {
            ok = done > 0;
            len = 0;
        }
    }
    while (ok && len > 0) {
        size_t n = (size_t)MIN(len, (uint64_t)BLOCK_ZERO_BUF_SIZE);

        ok = node->drv->pwrite(node, offset, block_zero_buf, n, errp);
        offset += n;
        len -= n;
    }
    g_mutex_unlock(&node->lock);
    return ok;
}

bool block_node_can_zero_fast(const BlockNode *node)
{
    return node->drv->zero_range != NULL;
}

bool block_node_discard(BlockNode *node, uint64_t offset, uint64_t len,
                        GError **errp)
{
    bool ok = true;

    if (!block_check_write(node, offset, len, errp)) {
        return false;
    }
    if (len > 0 && node->drv->discard) {
        g_mutex_lock(&node->lock);
        ok = node->drv->discard(node, offset, len, errp);
        g_mutex_unlock(&node->lock);
    }
    return ok;
}

bool block_node_block_status(BlockNode *node, uint64_t offset, uint64_t len,
                             BlockExtentKind *kind, uint64_t *pnum,
                             GError **errp)
{
    if (len == 0 || offset > node->length || len > node->length - offset) {
        block_error(errp, node,
                    "block status of %" PRIu64 " bytes at %" PRIu64
                    " is outside the disk (%" PRIu64 " bytes)",
                    len, offset, node->length);
        return false;
    }
    /* Down the chain while this image does not hold the run. */
    for (;;) {
        bool ok;

        g_mutex_lock(&node->lock);
        ok = node->drv->block_status(node, offset, len, kind, pnum, errp);
        g_mutex_unlock(&node->lock);
        if (!ok) {
            return false;
        }
        len = *pnum;
        if (*kind != BLOCK_EXTENT_UNALLOCATED) {
            return true;
        }
        node = node->backing;
        if (!node || offset >= node->length) {
            *kind = BLOCK_EXTENT_ZERO;
            return true;
        }
        len = MIN(len, node->length - offset);
        *pnum = len;
    }
}

bool block_node_flush(BlockNode *node, GError **errp)
{
    bool ok;

    /* A node made read-only after writes still has them to flush. */
    if (!node->writable_fd) {
        return true;
    }
    g_mutex_lock(&node->lock);
    ok = node->drv->flush(node, errp);
    g_mutex_unlock(&node->lock);
    return ok;
}

uint64_t block_node_length(const BlockNode *node)
{
    return node->length;
}

const char *block_node_filename(const BlockNode *node)
{
    return node->filename;
}

BlockFormat block_node_format(const BlockNode *node)
{
    return node->drv->format;
}

bool block_node_is_read_only(const BlockNode *node)
{
    return node->read_only;
}

void block_node_set_read_only(BlockNode *node)
{
    node->read_only = true;
    block_lock_drop_write(node->fd);
}

/* Others may read a node's image, never write or resize it. */
#define NODE_SHARED (BLOCK_PERM_READ | BLOCK_PERM_WRITE_UNCHANGED)

bool block_node_relock(BlockNode *node, bool writable, GError **errp)
{
    unsigned perm = BLOCK_PERM_READ;

    if (writable) {
        perm |= BLOCK_PERM_WRITE | BLOCK_PERM_RESIZE;
    }
    return block_lock_apply(node->fd, node->filename, perm, NODE_SHARED, errp);
}

BlockNode *block_node_backing(const BlockNode *node)
{
    return node->backing;
}

void block_node_set_backing(BlockNode *node, BlockNode *backing)
{
    if (backing) {
        block_node_ref(backing);
    }
    block_node_unref(node->backing);
    node->backing = backing;
}

unsigned block_node_backing_depth(const BlockNode *node)
{
    unsigned depth = 0;
    for (const BlockNode *bs = node->backing; bs; bs = bs->backing) {
        depth++;
    }
    return depth;
}

const char *block_node_backing_name(const BlockNode *node)
{
    return node->backing_name;
}

const char *block_node_full_backing_name(const BlockNode *node)
{
    return node->full_backing_name;
}

const char *block_node_backing_format(const BlockNode *node)
{
    return node->backing_format;
}

uint64_t block_node_cluster_size(const BlockNode *node)
{
    return node->cluster_size;
}

bool block_node_is_dirty(const BlockNode *node)
{
    return node->dirty;
}

bool block_node_out_of_space(const BlockNode *node)
{
    return node->io_errno == ENOSPC || node->io_errno == EDQUOT;
}

int64_t block_node_actual_size(const BlockNode *node)
{
    struct stat st;
    if (fstat(node->fd, &st) < 0) {
        return -1;
    }
    return (int64_t)st.st_blocks * 512;
}

bool block_chain_has_node(const BlockNode *top, const BlockNode *node)
{
    for (; top; top = top->backing) {
        if (top == node) {
            return true;
        }
    }
    return false;
}

bool block_chain_has_file(const BlockNode *top, dev_t dev, ino_t ino)
{
    for (const BlockNode *n = top; n; n = n->backing) {
        if (n->dev == dev && n->ino == ino) {
            return true;
        }
    }
    return false;
}

void block_node_file_id(const BlockNode *node, dev_t *dev, ino_t *ino)
{
    *dev = node->dev;
    *ino = node->ino;
}

bool block_fsync_dir(const char *filename, GError **errp)
{
    g_autofree char *dir = g_path_get_dirname(filename);
    int fd;
    do {
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "Could not open directory '%s': %s", dir,
                    g_strerror(errno));
        return false;
    }
    int ret;
    do {
        ret = fsync(fd);
    } while (ret < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (ret < 0) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "fsync of directory '%s' failed: %s", dir,
                    g_strerror(saved));
        return false;
    }
    return true;
}
