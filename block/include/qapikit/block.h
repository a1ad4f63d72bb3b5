/* SPDX-License-Identifier: MIT */
/*
 * qapikit block layer: image nodes (raw and qcow2) and their backing
 * chains.
 *
 * A BlockNode is one open image file together with the node of its
 * backing image, if any: the chain top -> ... -> base is a list of nodes
 * linked through their backing pointers.  Nodes are reference counted;
 * a node holds a reference on its backing node.  Named devices, group
 * snapshots and the QMP commands sit above this layer
 * (<qapikit/block-device.h>).
 *
 * Errors: GError in the QAPI domain (<qapikit/error.h>), code
 * QAPI_ERROR_CLASS_GENERICERROR unless stated.  Every message names the
 * file it is about (and the header field or table, for a refused or
 * corrupt image).  Functions that can fail return false/NULL exactly
 * when they set *errp.  Nothing an image file contains can make this
 * layer abort: a malformed image is an error, never a crash.
 *
 * Threads: the guest I/O calls (block_node_pread(), block_node_pwrite(),
 * block_node_pwrite_zeroes(), block_node_discard(), block_node_flush(),
 * block_node_block_status()) may run in any thread, concurrently on one
 * node: each holds the node's lock for its call.  Everything else
 * (opening, references, backing links, read-only and lock changes) is
 * for one thread, the main loop, while no guest I/O runs on the chain.
 */
#ifndef QAPIKIT_BLOCK_H
#define QAPIKIT_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

typedef enum BlockFormat {
    BLOCK_FORMAT_RAW,
    BLOCK_FORMAT_QCOW2,
} BlockFormat;

/* "raw" or "qcow2". */
const char *block_format_name(BlockFormat format);

/*
 * NAME ("raw" or "qcow2") as a BlockFormat.  False, with *errp set
 * (QAPI_ERROR_CLASS_INVALIDBLOCKFORMAT, naming NAME), for anything else.
 */
bool block_format_from_name(const char *name, BlockFormat *format,
                            GError **errp);

typedef struct BlockNode BlockNode;

typedef enum BlockOpenFlags {
    BLOCK_OPEN_READ_WRITE = 0,
    BLOCK_OPEN_READ_ONLY = 1u << 0,
    /*
     * Do not open the backing chain recorded in the image: the caller
     * attaches a backing node itself with block_node_set_backing()
     * (snapshot overlays, whose backing is the node already open).
     * Reads of unallocated clusters read zeros until then.
     */
    BLOCK_OPEN_NO_BACKING = 1u << 1,
    /*
     * With BLOCK_OPEN_READ_ONLY: take no image lock and ignore those of
     * others (qemu-img's -U): to look at an image in use, which may
     * change under the reader.
     */
    BLOCK_OPEN_FORCE_SHARE = 1u << 2,
} BlockOpenFlags;

/*
 * Open FILENAME.  FORMAT is "raw", "qcow2", or NULL to detect it: the
 * qcow2 magic means qcow2, anything else raw.  FLAGS: BlockOpenFlags.
 *
 * A qcow2 image is fully validated (docs/spec/qcow2-format.md §9); an encrypted
 * image, an unknown incompatible feature, or a dirty or corrupt image
 * opened read-write is refused.  Compressed clusters are not supported:
 * a read or write that meets one fails with an error saying so (the rest
 * of such an image stays usable).
 * Unless BLOCK_OPEN_NO_BACKING, the backing chain recorded in the image
 * is opened too, read-only, each backing file's format taken from the
 * backing format extension (probed only when it is absent; a relative
 * backing name is resolved against the directory of the image that
 * records it); a file that appears twice in one chain (same device and
 * inode) is refused.
 *
 * Every image of the chain is locked as QEMU locks it (see
 * block_node_relock()), unless BLOCK_OPEN_FORCE_SHARE: an image that
 * QEMU or another daemon holds against the open is refused
 * (OpenFileFailed naming the lock).  Only a regular file or a block
 * device is an image; anything else is refused without blocking.
 *
 * Returns a new node (one reference, owned by the caller) whose
 * filename is FILENAME made absolute, its directory part resolved by
 * the kernel.  On failure nothing stays open.
 */
BlockNode *block_node_open(const char *filename, const char *format,
                           unsigned flags, GError **errp);

/* Take a reference on NODE; returns NODE. */
BlockNode *block_node_ref(BlockNode *node);

/*
 * Drop a reference on NODE; the last one closes the file and drops the
 * node's reference on its backing node.  NULL is fine.  A qcow2 node
 * whose metadata is still in memory writes it back first, in the order
 * of a flush, so the image stays consistent; an error there is only
 * logged: call block_node_flush() first when it matters.
 */
void block_node_unref(BlockNode *node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlockNode, block_node_unref)

/*
 * Read LEN bytes of guest data at OFFSET through the chain: allocated
 * clusters from this image, ZERO clusters as zeros, unallocated ones
 * from the backing node (zeros past its end, or without one).  The
 * range must lie within block_node_length().
 */
bool block_node_pread(BlockNode *node, uint64_t offset, void *buf, size_t len,
                      GError **errp);

/*
 * block_node_pread() if it can be done at once: only data the page
 * cache holds, no lock that is taken, nothing written (no metadata
 * write-back due).  True when BUF holds the data; false when it would
 * have waited, or for any error: then do block_node_pread() (BUF may
 * have been written).  For a server that reads in its event loop and
 * hands only what would wait to a thread.
 */
bool block_node_pread_nowait(BlockNode *node, uint64_t offset, void *buf,
                             size_t len);

/*
 * Write LEN bytes of guest data at OFFSET into this image (never into a
 * backing node), allocating clusters with copy-on-write from the chain
 * for partial clusters (docs/spec/qcow2-format.md §7).  Refused on a read-only
 * node.  The range must lie within block_node_length().  Data may stay
 * in the page cache until block_node_flush(); metadata is ordered so
 * that a crash never leaves a reference to unwritten data (§7.2).  On
 * failure the guest content of the range is unspecified (old or new
 * bytes) but the image stays consistent.
 */
bool block_node_pwrite(BlockNode *node, uint64_t offset, const void *buf,
                       size_t len, GError **errp);

/*
 * Make every completed write of NODE durable: qcow2 metadata still in
 * memory is written in the order of docs/spec/qcow2-format.md §7.2, then
 * fdatasync.  Also for a node made read-only by
 * block_node_set_read_only() after writes; a node opened read-only has
 * nothing to flush.  Fails on a qcow2 node that stopped writing after
 * corruption or an I/O error.
 */
bool block_node_flush(BlockNode *node, GError **errp);

/* Flags of block_node_pwrite_zeroes(). */
typedef enum BlockZeroFlags {
    /* The range may be deallocated (a hole) rather than written. */
    BLOCK_ZERO_MAY_UNMAP = 1u << 0,
} BlockZeroFlags;

/*
 * Make [OFFSET, OFFSET + LEN) of NODE read as zeros, as
 * block_node_pwrite() of zeros would, but without sending zeros where
 * the driver can do better (raw: fallocate; FLAGS: BlockZeroFlags).
 * Same rules and errors as block_node_pwrite().
 */
bool block_node_pwrite_zeroes(BlockNode *node, uint64_t offset, uint64_t len,
                              unsigned flags, GError **errp);

/*
 * Whether block_node_pwrite_zeroes() on NODE is done without writing
 * the zeros (NBD's FAST_ZERO): a raw image on a regular file.
 */
bool block_node_can_zero_fast(const BlockNode *node);

/*
 * A hint that [OFFSET, OFFSET + LEN) of NODE is no longer needed (NBD's
 * TRIM): its content is unspecified afterwards.  Raw images punch a
 * hole; qcow2 images keep their clusters.  Same rules as
 * block_node_pwrite().
 */
bool block_node_discard(BlockNode *node, uint64_t offset, uint64_t len,
                        GError **errp);

/* What a range of guest data is, for block_node_block_status(). */
typedef enum BlockExtentKind {
    BLOCK_EXTENT_DATA,        /* data somewhere in the chain */
    BLOCK_EXTENT_ZERO,        /* reads as zeros, nothing stored */
    BLOCK_EXTENT_UNALLOCATED, /* not in this image: see its backing */
} BlockExtentKind;

/*
 * The run of guest data at OFFSET through NODE's chain: *KIND is
 * BLOCK_EXTENT_DATA or BLOCK_EXTENT_ZERO (unallocated in the whole
 * chain reads as zeros), for *PNUM bytes (1 <= *PNUM <= LEN).  The
 * range must lie within block_node_length(), LEN > 0.
 */
bool block_node_block_status(BlockNode *node, uint64_t offset, uint64_t len,
                             BlockExtentKind *kind, uint64_t *pnum,
                             GError **errp);

/* Virtual size in bytes. */
uint64_t block_node_length(const BlockNode *node);

/* The file name exactly as passed to block_node_open(). */
const char *block_node_filename(const BlockNode *node);

BlockFormat block_node_format(const BlockNode *node);

bool block_node_is_read_only(const BlockNode *node);

/*
 * Mark NODE read-only in memory: later writes are refused.  Used when a
 * node becomes the backing of a new overlay.  Cannot fail.
 */
void block_node_set_read_only(BlockNode *node);

/* NODE's backing node (borrowed), or NULL. */
BlockNode *block_node_backing(const BlockNode *node);

/*
 * Make BACKING (a new reference is taken; NULL for none) NODE's backing
 * node, dropping the reference on the previous one.  In memory only:
 * the image file is not changed.  Cannot fail; the caller checks that
 * the sizes and names fit.
 */
void block_node_set_backing(BlockNode *node, BlockNode *backing);

/*
 * The most images one chain may have (top and every backing image):
 * opening a longer chain fails rather than recursing deeper.
 */
#define BLOCK_MAX_CHAIN_DEPTH 256

/* Number of nodes below NODE in its chain (0 without a backing node). */
unsigned block_node_backing_depth(const BlockNode *node);

/*
 * What the image records about its backing file (qcow2 only; NULL for
 * raw or without one), owned by NODE: the name exactly as stored, the
 * name resolved against the image's directory, and the format from the
 * backing format extension (NULL when the extension is absent).
 */
const char *block_node_backing_name(const BlockNode *node);
const char *block_node_full_backing_name(const BlockNode *node);
const char *block_node_backing_format(const BlockNode *node);

/* qcow2: cluster size in bytes; raw: 0. */
uint64_t block_node_cluster_size(const BlockNode *node);

/* qcow2: the dirty bit as found on open; raw: false. */
bool block_node_is_dirty(const BlockNode *node);

/*
 * Whether the most recent write or flush of NODE's file that failed
 * failed for lack of space (ENOSPC or EDQUOT); false if none failed.
 */
bool block_node_out_of_space(const BlockNode *node);

/* Bytes allocated on disk for the file (st_blocks * 512), or -1. */
int64_t block_node_actual_size(const BlockNode *node);

/*
 * NODE's image locks (docs/spec/data-path.md §4; QEMU's bytes): every
 * node holds its image for reading and lets nobody else write or resize
 * it; WRITABLE: for writing and resizing too.  block_node_open() takes
 * them as its mode says (OpenFileFailed naming the lock when QEMU or
 * another daemon holds the image against it), and
 * block_node_set_read_only() gives up writing.  This sets them anew,
 * e.g. to let a read-only chain be opened over a writable node's image
 * and back; fails like block_node_open().
 */
bool block_node_relock(BlockNode *node, bool writable, GError **errp);

/* Whether NODE is TOP or an image below it. */
bool block_chain_has_node(const BlockNode *top, const BlockNode *node);

/* Whether DEV/INO is the file of TOP or of an image below it. */
bool block_chain_has_file(const BlockNode *top, dev_t dev, ino_t ino);

/* The device and inode of NODE's open file (fstat at open time). */
void block_node_file_id(const BlockNode *node, dev_t *dev, ino_t *ino);

/* Options of qcow2_create(). */
typedef struct Qcow2CreateOptions {
    uint64_t size;            /* virtual size in bytes */
    unsigned cluster_bits;    /* 9..21; 0 means 16 (64 KiB) */
    const char *backing_file; /* stored as given, or NULL */
    const char
        *backing_format; /* "raw"/"qcow2"; required with a backing file */
    bool sync;           /* fdatasync the new file before returning */
} Qcow2CreateOptions;

/*
 * Create a new qcow2 version 3 image at FILENAME, which must not exist
 * (O_CREAT | O_EXCL: an existing file or symlink is refused and left
 * untouched, QAPI_ERROR_CLASS_OPENFILEFAILED).  The layout is
 * docs/spec/qcow2-format.md §6 (header, backing format extension, feature name
 * table, backing name, refcount table, refcount block, L1 table), the
 * same size and fields `qemu-img create -f qcow2 -b B -F F` gives.
 *
 * *CREATED is set to true as soon as the file exists, before anything
 * else can fail, so that a caller which must leave nothing behind knows
 * to unlink FILENAME even when this returns false.  Errors creating or
 * writing are QAPI_ERROR_CLASS_OPENFILEFAILED and name the file.  The
 * parent directory is not fsync'ed: see block_fsync_dir().
 */
bool qcow2_create(const char *filename, const Qcow2CreateOptions *opts,
                  bool *created, GError **errp);

/*
 * The same image written into FD, an empty file open for writing (for
 * instance an unnamed one from O_TMPFILE, linked into place by the
 * caller once it is complete).  FILENAME names it in errors only.  FD
 * stays open, the caller's.
 */
bool qcow2_create_fd(int fd, const char *filename,
                     const Qcow2CreateOptions *opts, GError **errp);

/*
 * fsync the directory that holds FILENAME, so that a name created in it
 * is durable.
 */
bool block_fsync_dir(const char *filename, GError **errp);

G_END_DECLS

#endif /* QAPIKIT_BLOCK_H */
