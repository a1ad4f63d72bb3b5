/* SPDX-License-Identifier: MIT */
/*
 * qapikit block layer: what the node core (block.c) and the format
 * drivers (raw.c, qcow2*.c) share.  Private to block/.
 */
#ifndef QAPIKIT_BLOCK_INT_H
#define QAPIKIT_BLOCK_INT_H

#include <sys/stat.h>

#include <qapikit/block.h>
#include <qapikit/error.h>

typedef struct BlockDriver {
    BlockFormat format;
    /*
     * Fill in the driver part of NODE, whose fd, filename, read_only and
     * file_size are set.  On failure the driver has released what it
     * allocated (close() is not called).
     */
    bool (*open)(BlockNode *node, unsigned flags, GError **errp);
    void (*close)(BlockNode *node);
    bool (*pread)(BlockNode *node, uint64_t offset, void *buf, size_t len,
                  GError **errp);
    bool (*pwrite)(BlockNode *node, uint64_t offset, const void *buf,
                   size_t len, GError **errp);
    bool (*flush)(BlockNode *node, GError **errp);
    /*
     * What this image (not its backing chain) holds at OFFSET: the kind
     * of the run that starts there and its length *PNUM (at least 1, at
     * most LEN).  LEN > 0, within the node's length.
     */
    bool (*block_status)(BlockNode *node, uint64_t offset, uint64_t len,
                         BlockExtentKind *kind, uint64_t *pnum, GError **errp);
    /*
     * Optional: make [OFFSET, OFFSET + LEN) read as zeros cheaply (no
     * data written), FLAGS as block_node_pwrite_zeroes().  Returns 1
     * when done, 0 when this driver cannot do it for that range (the
     * caller writes zeros), -1 on failure with *errp set.
     */
    int (*zero_range)(BlockNode *node, uint64_t offset, uint64_t len,
                      unsigned flags, GError **errp);
    /*
     * Optional: whether pread of [OFFSET, OFFSET + LEN) would write
     * nothing (no metadata write-back, no deferred copy-on-write), so
     * that block_node_pread_nowait() may try it; NULL: always.
     */
    bool (*pread_writes_nothing)(BlockNode *node, uint64_t offset, size_t len);
    /* Optional: give up [OFFSET, OFFSET + LEN) (a hint; may do nothing). */
    bool (*discard)(BlockNode *node, uint64_t offset, uint64_t len,
                    GError **errp);
} BlockDriver;

struct BlockNode {
    /*
     * Held by every guest I/O call on this node (block_node_pread() and
     * the others of <qapikit/block.h>): the driver's state is used by
     * one thread at a time.  Taken top down along a chain, never up.
     */
    GMutex lock;
    unsigned refcnt; /* main thread only */
    char *filename;  /* as given to block_node_open() */
    int fd;
    dev_t dev;
    ino_t ino;
    uint64_t file_size; /* bytes, kept up to date by the drivers */
    const BlockDriver *drv;
    void *opaque;    /* the driver's state */
    uint64_t length; /* virtual size */
    bool read_only;
    bool writable_fd; /* the file was opened read-write */
    BlockNode *backing;
    /* qcow2: as recorded in the image (NULL otherwise) */
    char *backing_name;
    char *full_backing_name;
    char *backing_format;
    uint64_t cluster_size;
    bool dirty;
    int io_errno; /* errno of the last failed write or flush */
};

extern const BlockDriver block_driver_raw;
extern const BlockDriver block_driver_qcow2;

/*
 * Read LEN bytes of the file at OFFSET; bytes past the end of the file
 * read as zeros.  Errors name the file.
 */
bool block_file_pread(BlockNode *node, uint64_t offset, void *buf, size_t len,
                      GError **errp);

/* Write LEN bytes at OFFSET (all of them); updates node->file_size. */
bool block_file_pwrite(BlockNode *node, uint64_t offset, const void *buf,
                       size_t len, GError **errp);

/* fdatasync the file. */
bool block_file_sync(BlockNode *node, GError **errp);

/*
 * Read guest bytes [OFFSET, OFFSET + LEN) of NODE's backing chain: the
 * backing node's data, zeros past its end or without one.
 */
bool block_backing_pread(BlockNode *node, uint64_t offset, void *buf,
                         size_t len, GError **errp);

/* Zeros, for writing zeros without allocating them. */
#define BLOCK_ZERO_BUF_SIZE ((size_t)64 * 1024)
extern const uint8_t block_zero_buf[BLOCK_ZERO_BUF_SIZE];

/*
 * Image locks (lock.c), with QEMU's permissions and bytes
 * (docs/spec/data-path.md §4).
 */
#define BLOCK_PERM_READ (1u << 0)
#define BLOCK_PERM_WRITE (1u << 1)
#define BLOCK_PERM_WRITE_UNCHANGED (1u << 2)
#define BLOCK_PERM_RESIZE (1u << 3)
#define BLOCK_PERM_ALL 0xfu

/*
 * Hold the permissions PERM on the image open as FD and refuse others
 * every permission not in SHARED, replacing what FD held: OpenFileFailed
 * naming the lock (QEMU's words: 'Failed to get "write" lock', 'Failed
 * to get shared "write" lock') when another open file description, in
 * this process or another, holds a conflicting byte; FD then holds a
 * partial set, to be closed.  Where the file system has no OFD locks the
 * image goes unlocked (they are advisory).
 */
bool block_lock_apply(int fd, const char *filename, unsigned perm,
                      unsigned shared, GError **errp);

/*
 * Give up the write and resize permissions FD holds (a node made
 * read-only), keeping the refusals; cannot fail.
 */
void block_lock_drop_write(int fd);

/* Set *ERRP to a GenericError "FILENAME: message". */
void block_error(GError **errp, const BlockNode *node, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

#endif /* QAPIKIT_BLOCK_INT_H */
