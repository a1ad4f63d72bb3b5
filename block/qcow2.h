/* SPDX-License-Identifier: MIT */
/*
 * qapikit block layer: the qcow2 driver's private state and the
 * functions its files share (qcow2.c: open, header, metadata cache;
 * qcow2-refcount.c: refcounts and cluster allocation; qcow2-cluster.c:
 * guest I/O and the ordered write-back; qcow2-create.c: new images).
 * On-disk format: docs/spec/qcow2-format.md.
 */
#ifndef QAPIKIT_QCOW2_H
#define QAPIKIT_QCOW2_H

#include "block-int.h"

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_MAX_L1_SIZE (4u * 1024 * 1024)
#define QCOW2_MAX_RT_BYTES (8u * 1024 * 1024)
#define QCOW2_MAX_BACKING_NAME 1023
#define QCOW2_OFFSET_LIMIT ((uint64_t)1 << 56)

#define QCOW2_COPIED ((uint64_t)1 << 63)
#define QCOW2_COMPRESSED ((uint64_t)1 << 62)
#define QCOW2_ZERO ((uint64_t)1)
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW2_L1_RESERVED 0x7f000000000001ffull
#define QCOW2_L2_RESERVED 0x3f000000000001feull
#define QCOW2_RT_RESERVED 0x1ffull

#define QCOW2_INCOMPAT_DIRTY ((uint64_t)1 << 0)
#define QCOW2_INCOMPAT_CORRUPT ((uint64_t)1 << 1)
#define QCOW2_INCOMPAT_DATA_FILE ((uint64_t)1 << 2)
#define QCOW2_INCOMPAT_COMPRESSION ((uint64_t)1 << 3)
#define QCOW2_INCOMPAT_EXTL2 ((uint64_t)1 << 4)

#define QCOW2_EXT_END 0x00000000u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u

/* Header field offsets written in place (§7.4). */
#define QCOW2_HDR_RT_OFFSET 48
#define QCOW2_HDR_INCOMPAT 72
#define QCOW2_HDR_AUTOCLEAR 88

/* Metadata held in memory above this many bytes is written back and the
 * clean part dropped. */
#define QCOW2_CACHE_MAX ((size_t)64 * 1024 * 1024)

/* One cluster of metadata: an L2 table or a refcount block, in on-disk
 * byte order. */
typedef struct Qcow2Table {
    uint64_t offset;
    bool dirty;
    bool verified; /* L2: refcounts checked for writing */
    uint8_t data[];
} Qcow2Table;

typedef struct Qcow2State {
    uint32_t version;
    unsigned cluster_bits;
    uint64_t cluster_size;
    unsigned l2_bits; /* log2 of entries per L2 table */
    uint64_t size;

    uint32_t l1_size;
    uint64_t l1_offset;
    uint64_t *l1; /* host byte order */
    bool *l1_dirty;
    bool any_l1_dirty;

    uint64_t rt_offset;
    uint32_t rt_clusters;
    uint64_t rt_size; /* entries */
    uint64_t *rt;     /* host byte order */
    bool *rt_dirty;
    bool any_rt_dirty;

    unsigned refcount_order;
    unsigned rb_bits; /* log2 of entries per refcount block */

    uint64_t incompat;
    uint64_t compat;
    uint64_t autoclear;
    uint32_t header_length;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;

    GHashTable *l2_cache; /* offset -> Qcow2Table, owned */
    GHashTable *rb_cache; /* offset -> Qcow2Table, owned */
    size_t cache_bytes;
    bool any_l2_dirty;
    bool any_rb_dirty;

    /*
     * The tail of the last cluster allocated by a partial write, whose
     * copy-on-write is deferred: a sequential writer fills it and no copy
     * is made.  Bytes [0, filled) of HOST are written; the rest comes
     * from the old content (type, old_host) when anything else touches
     * the cluster or at write-back, before any entry points at it (W2).
     */
    struct {
        bool active;
        int type;       /* Qcow2ClusterType of the old content */
        uint64_t guest; /* guest offset of the cluster */
        uint64_t host;
        uint64_t old_host;
        uint64_t filled;
    } cow;

    uint64_t alloc_end;      /* next host offset to allocate; 0 = unknown */
    GArray *pending_frees;   /* uint64_t host offsets to decrement */
    bool prepared_for_write; /* autoclear cleared, alloc_end known */
    bool broken;             /* corruption found or a write-back step
                                 * failed: nothing more is written */
    uint8_t *bounce;         /* one cluster, for copy-on-write */
} Qcow2State;

static inline Qcow2State *qcow2_state(BlockNode *node)
{
    return node->opaque;
}

/* qcow2.c */
/*
 * Report metadata corruption: sets *errp ("FILE: corrupt image: ...");
 * on a writable node also sets the corrupt bit in the header and makes
 * the node read-only (§8).  Returns false.
 */
bool qcow2_corrupt(BlockNode *node, GError **errp, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
Qcow2Table *qcow2_table_new(Qcow2State *s, GHashTable *cache, uint64_t offset);
/* Load (or find) the table at OFFSET; WHAT names it in errors.  The
 * offset is validated (aligned, inside the file, not cluster 0). */
Qcow2Table *qcow2_table_get(BlockNode *node, GHashTable *cache, uint64_t offset,
                            const char *what, GError **errp);
/* Validate a host offset found in a table (§9, last item). */
bool qcow2_check_host_offset(BlockNode *node, uint64_t offset, const char *what,
                             GError **errp);
/* A table or data cluster at OFFSET must not overlap cluster 0, the L1
 * table or the refcount table. */
bool qcow2_check_overlap(BlockNode *node, uint64_t offset, const char *what,
                         GError **errp);
/* Write back dirty metadata if the cache is over its limit, then drop
 * the clean tables. */
bool qcow2_cache_trim(BlockNode *node, GError **errp);

/* qcow2-refcount.c */
uint64_t qcow2_rb_get(const uint8_t *block, uint64_t index, unsigned order);
void qcow2_rb_set(uint8_t *block, uint64_t index, unsigned order,
                  uint64_t value);
bool qcow2_refcount_get(BlockNode *node, uint64_t host, uint64_t *value,
                        GError **errp);
/* Add DELTA (+1 or -1) to the count of the cluster at HOST; over- and
 * underflow are corruption errors. */
bool qcow2_refcount_update(BlockNode *node, uint64_t host, int delta,
                           GError **errp);
/* Compute alloc_end (§5/6) by scanning the refcount blocks. */
bool qcow2_find_alloc_end(BlockNode *node, GError **errp);
/* Allocate one cluster at the end, its count set to 1 (in memory). */
bool qcow2_alloc_cluster(BlockNode *node, uint64_t *host, GError **errp);
/* Write the dirty refcount blocks (no sync). */
bool qcow2_write_refblocks(BlockNode *node, GError **errp);
/* Write the dirty refcount table entries (no sync). */
bool qcow2_write_rt_entries(BlockNode *node, GError **errp);
/* Write the dirty tables of CACHE (no sync). */
bool qcow2_write_tables(BlockNode *node, GHashTable *cache, GError **errp);

/* qcow2-cluster.c */
bool qcow2_co_pread(BlockNode *node, uint64_t offset, void *buf, size_t len,
                    GError **errp);
bool qcow2_co_pwrite(BlockNode *node, uint64_t offset, const void *buf,
                     size_t len, GError **errp);
/* BlockDriver.pread_writes_nothing. */
bool qcow2_pread_writes_nothing(BlockNode *node, uint64_t offset, size_t len);
/* What this image holds at OFFSET (BlockDriver.block_status). */
bool qcow2_block_status(BlockNode *node, uint64_t offset, uint64_t len,
                        BlockExtentKind *kind, uint64_t *pnum, GError **errp);
/* The ordered write-back of §7.2 (W1-W4), ending with fdatasync. */
bool qcow2_writeback(BlockNode *node, GError **errp);
bool qcow2_metadata_dirty(Qcow2State *s);

#endif /* QAPIKIT_QCOW2_H */
