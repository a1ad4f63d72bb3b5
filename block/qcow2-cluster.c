/* SPDX-License-Identifier: MIT */
/*
 * qapikit block layer: qcow2 guest I/O.  Reads map guest clusters
 * through L1/L2 and fall through the backing chain; writes allocate with
 * copy-on-write (§7.1).  New metadata stays in memory until the ordered
 * write-back (§7.2, W1-W4), so consecutive allocating writes share one
 * set of flushes; contiguous host ranges go out in one pread/pwrite.
 */
#include <string.h>

#include "qcow2.h"

typedef enum Qcow2ClusterType {
    QCOW2_CLUSTER_UNALLOCATED,
    QCOW2_CLUSTER_ZERO,
    QCOW2_CLUSTER_DATA,
} Qcow2ClusterType;

static inline uint64_t l2_entry(const Qcow2Table *t, uint64_t index)
{
    uint64_t v;
    memcpy(&v, t->data + 8 * index, 8);
    return GUINT64_FROM_BE(v);
}

static inline void l2_set(Qcow2Table *t, uint64_t index, uint64_t value)
{
    uint64_t v = GUINT64_TO_BE(value);
    memcpy(t->data + 8 * index, &v, 8);
    t->dirty = true;
}

static bool qcow2_complete_cow(BlockNode *node, GError **errp);

bool qcow2_metadata_dirty(Qcow2State *s)
{
    return s->cow.active || s->any_rb_dirty || s->any_rt_dirty
        || s->any_l2_dirty || s->any_l1_dirty || s->pending_frees->len > 0;
}

/* The L2 table of L1_INDEX, or *L2 = NULL when the L1 entry is 0. */
static bool qcow2_l2_lookup(BlockNode *node, uint64_t l1_index, Qcow2Table **l2,
                            GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    if (l1_index >= s->l1_size) {
        return qcow2_corrupt(node, errp, "guest offset outside the L1 table");
    }
    uint64_t e = s->l1[l1_index];
    if (e & QCOW2_L1_RESERVED) {
        return qcow2_corrupt(node, errp,
                             "L1 entry %" PRIu64 " has reserved "
                             "bits set (0x%016" PRIx64 ")",
                             l1_index, e);
    }
    uint64_t offset = e & QCOW2_OFFSET_MASK;
    if (!offset) {
        *l2 = NULL;
        return true;
    }
    *l2 = g_hash_table_lookup(s->l2_cache, &offset);
    if (!*l2) {
        *l2 = qcow2_table_get(node, s->l2_cache, offset, "L2 table", errp);
    }
    return *l2 != NULL;
}

/* Classify L2 entry E; *HOST is the host cluster offset for data. */
static bool qcow2_classify(BlockNode *node, uint64_t e, Qcow2ClusterType *type,
                           uint64_t *host, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    if (e & QCOW2_COMPRESSED) {
        block_error(errp, node,
                    "compressed clusters are not supported "
                    "(L2 entry 0x%016" PRIx64 ")",
                    e);
        return false;
    }
    if ((e & QCOW2_L2_RESERVED) || (s->version < 3 && (e & QCOW2_ZERO))) {
        return qcow2_corrupt(node, errp,
                             "L2 entry 0x%016" PRIx64 " has "
                             "reserved bits set",
                             e);
    }
    *host = e & QCOW2_OFFSET_MASK;
    if (e & QCOW2_ZERO) {
        *type = QCOW2_CLUSTER_ZERO;
    } else if (*host == 0) {
        *type = QCOW2_CLUSTER_UNALLOCATED;
    } else {
        *type = QCOW2_CLUSTER_DATA;
        if ((*host & (s->cluster_size - 1)) || *host >= node->file_size) {
            return qcow2_check_host_offset(node, *host, "data cluster", errp);
        }
    }
    if (*host && (*host & (s->cluster_size - 1))) {
        return qcow2_check_host_offset(node, *host, "data cluster", errp);
    }
    return true;
}

bool qcow2_co_pread(BlockNode *node, uint64_t offset, void *buf, size_t len,
                    GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    unsigned range_bits = s->cluster_bits + s->l2_bits;
    uint64_t cmask = s->cluster_size - 1;
    uint8_t *p = buf;

    if (!qcow2_cache_trim(node, errp)) {
        return false;
    }
    if (s->cow.active && s->cow.guest < offset + len
        && offset < s->cow.guest + s->cluster_size
        && !qcow2_complete_cow(node, errp)) {
        return false;
    }
    while (len > 0) {
        uint64_t l1_index = offset >> range_bits;
        Qcow2Table *l2;
        if (!qcow2_l2_lookup(node, l1_index, &l2, errp)) {
            return false;
        }
        uint64_t range_end = (l1_index + 1) << range_bits;
        size_t chunk = (size_t)MIN((uint64_t)len, range_end - offset);
        if (!l2) {
            if (!block_backing_pread(node, offset, p, chunk, errp)) {
                return false;
            }
        } else {
            size_t done = 0;
            while (done < chunk) {
                uint64_t off = offset + done;
                uint64_t index =
                    (off >> s->cluster_bits) & ((1ull << s->l2_bits) - 1);
                Qcow2ClusterType type;
                uint64_t host;
                if (!qcow2_classify(node, l2_entry(l2, index), &type, &host,
                                    errp)) {
                    return false;
                }
                host += off & cmask;
                size_t n = (size_t)MIN((uint64_t)(chunk - done),
                                       s->cluster_size - (off & cmask));
                /* Extend the run over clusters of the same kind. */
                while (done + n < chunk) {
                    /* Initialised for gcc -O3's flow analysis only. */
                    Qcow2ClusterType next_type = type;
                    uint64_t next_host = 0;
                    if (!qcow2_classify(node, l2_entry(l2, ++index), &next_type,
                                        &next_host, errp)) {
                        return false;
                    }
                    if (next_type != type
                        || (type == QCOW2_CLUSTER_DATA
                            && next_host != host + n)) {
                        break;
                    }
                    n += (size_t)MIN((uint64_t)(chunk - done - n),
                                     s->cluster_size);
                }
                bool ok = true;
                switch (type) {
                case QCOW2_CLUSTER_DATA:
                    ok = block_file_pread(node, host, p + done, n, errp);
                    break;
                case QCOW2_CLUSTER_ZERO:
                    memset(p + done, 0, n);
                    break;
                case QCOW2_CLUSTER_UNALLOCATED:
                    ok = block_backing_pread(node, off, p + done, n, errp);
                    break;
                }
                if (!ok) {
                    return false;
                }
                done += n;
            }
        }
        p += chunk;
        offset += chunk;
        len -= chunk;
    }
    return true;
}

bool qcow2_pread_writes_nothing(BlockNode *node, uint64_t offset, size_t len)
{
    Qcow2State *s = qcow2_state(node);
    /* The L2 tables the read may load, each of which the cache keeps. */
    uint64_t l2_span = (uint64_t)s->cluster_size * (s->cluster_size / 8);
    uint64_t tables = len / l2_span + 2;

    /* Past its limit the cache would write its dirty tables back. */
    return s->cache_bytes + tables * s->cluster_size <= QCOW2_CACHE_MAX
        && !(s->cow.active && s->cow.guest < offset + len
             && offset < s->cow.guest + s->cluster_size);
}

bool qcow2_block_status(BlockNode *node, uint64_t offset, uint64_t len,
                        BlockExtentKind *kind, uint64_t *pnum, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    unsigned range_bits = s->cluster_bits + s->l2_bits;
    uint64_t l1_index = offset >> range_bits;
    uint64_t range_end = (l1_index + 1) << range_bits;
    uint64_t cmask = s->cluster_size - 1;
    Qcow2Table *l2;

    /* The deferred copy-on-write cluster holds data: settle it first. */
    if (s->cow.active && s->cow.guest < offset + len
        && offset < s->cow.guest + s->cluster_size
        && !qcow2_complete_cow(node, errp)) {
        return false;
    }
    if (!qcow2_l2_lookup(node, l1_index, &l2, errp)) {
        return false;
    }
    len = MIN(len, range_end - offset);
    if (!l2) {
        *kind = BLOCK_EXTENT_UNALLOCATED;
        *pnum = len;
        return true;
    }
    uint64_t index = (offset >> s->cluster_bits) & ((1ull << s->l2_bits) - 1);
    uint64_t n = MIN(len, s->cluster_size - (offset & cmask));
    Qcow2ClusterType type;
    uint64_t host;

    if (!qcow2_classify(node, l2_entry(l2, index), &type, &host, errp)) {
        return false;
    }
    while (n < len) {
        Qcow2ClusterType next_type = type;
        uint64_t next_host = 0;

        if (!qcow2_classify(node, l2_entry(l2, ++index), &next_type, &next_host,
                            errp)) {
            return false;
        }
        if (next_type != type) {
            break;
        }
        n += MIN(len - n, s->cluster_size);
    }
    *kind = type == QCOW2_CLUSTER_DATA ? BLOCK_EXTENT_DATA
        : type == QCOW2_CLUSTER_ZERO   ? BLOCK_EXTENT_ZERO
                                       : BLOCK_EXTENT_UNALLOCATED;
    *pnum = n;
    return true;
}

/* Contiguous pieces of one write request, sent as one pwrite. */
typedef struct WriteRun {
    uint64_t host;
    const uint8_t *src;
    size_t len;
} WriteRun;

static bool run_flush(BlockNode *node, WriteRun *run, GError **errp)
{
    if (run->len == 0) {
        return true;
    }
    bool ok = block_file_pwrite(node, run->host, run->src, run->len, errp);
    run->len = 0;
    return ok;
}

static bool run_add(BlockNode *node, WriteRun *run, uint64_t host,
                    const uint8_t *src, size_t len, GError **errp)
{
    if (run->len && run->host + run->len == host
        && run->src + run->len == src) {
        run->len += len;
        return true;
    }
    if (!run_flush(node, run, errp)) {
        return false;
    }
    *run = (WriteRun){ host, src, len };
    return true;
}

/* Before the first write: clear the autoclear bits (§2), find the end. */
static bool qcow2_prepare_write(BlockNode *node, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    if (s->prepared_for_write) {
        return true;
    }
    if (s->autoclear) {
        uint64_t zero = 0;
        if (!block_file_pwrite(node, QCOW2_HDR_AUTOCLEAR, &zero, 8, errp)
            || !block_file_sync(node, errp)) {
            return false;
        }
        s->autoclear = 0;
    }
    if (!qcow2_find_alloc_end(node, errp)) {
        return false;
    }
    s->prepared_for_write = true;
    return true;
}

/* An existing L2 table about to be written: its COPIED bits must match
 * the refcounts (§4), or in-place writes could hit shared clusters. */
static bool qcow2_verify_l2(BlockNode *node, Qcow2Table *t, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    uint64_t count;
    if (!qcow2_refcount_get(node, t->offset, &count, errp)) {
        return false;
    }
    if (count != 1) {
        return qcow2_corrupt(node, errp,
                             "L2 table at 0x%" PRIx64 " has "
                             "refcount %" PRIu64 " but COPIED set",
                             t->offset, count);
    }
    /* Metadata clusters a data cluster must not be (W6 and §4). */
    g_autoptr(GHashTable) metadata =
        g_hash_table_new(g_int64_hash, g_int64_equal);
    for (uint64_t i = 0; i < s->rt_size; i++) {
        if (s->rt[i]) {
            g_hash_table_add(metadata, &s->rt[i]);
        }
    }
    g_autofree uint64_t *l2_offsets = g_new(uint64_t, s->l1_size + 1);
    for (uint32_t i = 0; i < s->l1_size; i++) {
        l2_offsets[i] = s->l1[i] & QCOW2_OFFSET_MASK;
        if (l2_offsets[i]) {
            g_hash_table_add(metadata, &l2_offsets[i]);
        }
    }
    for (uint64_t i = 0; i < (1ull << s->l2_bits); i++) {
        uint64_t e = l2_entry(t, i);
        uint64_t host = e & QCOW2_OFFSET_MASK;
        if (!(e & QCOW2_COPIED) || !host || (e & QCOW2_COMPRESSED)) {
            continue;
        }
        if (!qcow2_check_overlap(node, host, "data cluster", errp)) {
            return false;
        }
        if (g_hash_table_contains(metadata, &host)) {
            return qcow2_corrupt(node, errp,
                                 "data cluster at 0x%" PRIx64
                                 " is also an L2 table or a refcount block",
                                 host);
        }
        if (!qcow2_refcount_get(node, host, &count, errp)) {
            return false;
        }
        if (count != 1) {
            return qcow2_corrupt(node, errp,
                                 "data cluster at 0x%" PRIx64
                                 " has refcount %" PRIu64 " but COPIED set",
                                 host, count);
        }
    }
    t->verified = true;
    return true;
}

static bool qcow2_l2_for_write(BlockNode *node, uint64_t l1_index,
                               Qcow2Table **l2, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    if (!qcow2_l2_lookup(node, l1_index, l2, errp)) {
        return false;
    }
    if (!*l2) {
        uint64_t host;
        if (!qcow2_alloc_cluster(node, &host, errp)) {
            return false;
        }
        *l2 = qcow2_table_new(s, s->l2_cache, host);
        (*l2)->dirty = true;
        (*l2)->verified = true;
        s->any_l2_dirty = true;
        s->l1[l1_index] = host | QCOW2_COPIED;
        s->l1_dirty[l1_index] = true;
        s->any_l1_dirty = true;
        return true;
    }
    if (!(s->l1[l1_index] & QCOW2_COPIED)) {
        return qcow2_corrupt(node, errp,
                             "L1 entry %" PRIu64 " lacks the "
                             "COPIED bit in an image without snapshots",
                             l1_index);
    }
    return (*l2)->verified || qcow2_verify_l2(node, *l2, errp);
}

/*
 * Put bytes [FROM, TO) of the old content of the guest cluster at GSTART
 * (§7.1/3) at the same positions of BUF.
 */
static bool qcow2_cow_source(BlockNode *node, Qcow2ClusterType type,
                             uint64_t old_host, uint64_t gstart, uint64_t from,
                             uint64_t to, uint8_t *buf, GError **errp)
{
    switch (type) {
    case QCOW2_CLUSTER_ZERO:
        memset(buf + from, 0, to - from);
        return true;
    case QCOW2_CLUSTER_DATA:
        return block_file_pread(node, old_host + from, buf + from, to - from,
                                errp);
    case QCOW2_CLUSTER_UNALLOCATED:
    default: {
        /* Past the virtual size the cluster is zero. */
        uint64_t in_disk = node->length - gstart;
        uint64_t end = MIN(to, MAX(from, in_disk));
        memset(buf + end, 0, to - end);
        return block_backing_pread(node, gstart + from, buf + from, end - from,
                                   errp);
    }
    }
}

/* Write the deferred tail of the pending copy-on-write, if any. */
static bool qcow2_complete_cow(BlockNode *node, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    if (!s->cow.active) {
        return true;
    }
    s->cow.active = false;
    uint64_t from = s->cow.filled;
    if (!qcow2_cow_source(node, s->cow.type, s->cow.old_host, s->cow.guest,
                          from, s->cluster_size, s->bounce, errp)
        || !block_file_pwrite(node, s->cow.host + from, s->bounce + from,
                              s->cluster_size - from, errp)) {
        /* The entry in memory points at an incomplete cluster: it must
         * never reach the file. */
        node->read_only = true;
        s->broken = true;
        return false;
    }
    return true;
}

static bool qcow2_do_pwrite(BlockNode *node, uint64_t offset, const void *buf,
                            size_t len, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    unsigned range_bits = s->cluster_bits + s->l2_bits;
    uint64_t cmask = s->cluster_size - 1;
    const uint8_t *p = buf;
    WriteRun run = { 0, NULL, 0 };

    if (!qcow2_prepare_write(node, errp) || !qcow2_cache_trim(node, errp)) {
        return false;
    }
    while (len > 0) {
        uint64_t l1_index = offset >> range_bits;
        Qcow2Table *l2;
        if (!qcow2_l2_for_write(node, l1_index, &l2, errp)) {
            return false;
        }
        uint64_t index =
            (offset >> s->cluster_bits) & ((1ull << s->l2_bits) - 1);
        uint64_t in_cluster = offset & cmask;
        size_t n = (size_t)MIN((uint64_t)len, s->cluster_size - in_cluster);
        if (s->cow.active && s->cow.guest == offset - in_cluster) {
            if (in_cluster == s->cow.filled) {
                /* The sequential writer continues: no copy needed. */
                if (!run_add(node, &run, s->cow.host + in_cluster, p, n,
                             errp)) {
                    return false;
                }
                s->cow.filled += n;
                s->cow.active = s->cow.filled < s->cluster_size;
                p += n;
                offset += n;
                len -= n;
                continue;
            }
            if (!qcow2_complete_cow(node, errp)) {
                return false;
            }
        }
        uint64_t e = l2_entry(l2, index);
        Qcow2ClusterType type;
        uint64_t host;
        if (!qcow2_classify(node, e, &type, &host, errp)) {
            return false;
        }
        if (type == QCOW2_CLUSTER_DATA && (e & QCOW2_COPIED)) {
            /* In place. */
            if (!run_add(node, &run, host + in_cluster, p, n, errp)) {
                return false;
            }
        } else if (type == QCOW2_CLUSTER_ZERO && host && (e & QCOW2_COPIED)) {
            /* A preallocated ZERO cluster: fill it, then drop ZERO. */
            if (!qcow2_check_host_offset(node, host, "data cluster", errp)) {
                return false;
            }
            if (n == s->cluster_size) {
                if (!run_add(node, &run, host, p, n, errp)) {
                    return false;
                }
            } else {
                memset(s->bounce, 0, s->cluster_size);
                memcpy(s->bounce + in_cluster, p, n);
                if (!run_flush(node, &run, errp)
                    || !block_file_pwrite(node, host, s->bounce,
                                          s->cluster_size, errp)) {
                    return false;
                }
            }
            l2_set(l2, index, host | QCOW2_COPIED);
            s->any_l2_dirty = true;
        } else {
            /* Allocate, with copy-on-write for a partial cluster. */
            uint64_t new_host;
            if (!qcow2_alloc_cluster(node, &new_host, errp)) {
                return false;
            }
            if (in_cluster == 0) {
                if (!run_add(node, &run, new_host, p, n, errp)) {
                    return false;
                }
            } else {
                /* The head now; the bounce buffer is reused below. */
                if (!run_flush(node, &run, errp)
                    || !qcow2_cow_source(node, type, host, offset - in_cluster,
                                         0, in_cluster, s->bounce, errp)) {
                    return false;
                }
                memcpy(s->bounce + in_cluster, p, n);
                if (!block_file_pwrite(node, new_host, s->bounce,
                                       in_cluster + n, errp)) {
                    return false;
                }
            }
            if (in_cluster + n < s->cluster_size) {
                /* Defer the tail (one pending cluster at a time). */
                if (!run_flush(node, &run, errp)
                    || !qcow2_complete_cow(node, errp)) {
                    return false;
                }
                s->cow.active = true;
                s->cow.type = type;
                s->cow.guest = offset - in_cluster;
                s->cow.host = new_host;
                s->cow.old_host = host;
                s->cow.filled = in_cluster + n;
            }
            l2_set(l2, index, new_host | QCOW2_COPIED);
            s->any_l2_dirty = true;
            if (host) {
                /* W3: released once the new entry is durable. */
                g_array_append_val(s->pending_frees, host);
            }
        }
        p += n;
        offset += n;
        len -= n;
    }
    return run_flush(node, &run, errp);
}

static bool qcow2_write_l1_entries(BlockNode *node, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    uint32_t i = 0;
    while (i < s->l1_size) {
        if (!s->l1_dirty[i]) {
            i++;
            continue;
        }
        uint32_t j = i;
        while (j < s->l1_size && s->l1_dirty[j]) {
            j++;
        }
        g_autofree uint64_t *buf = g_new(uint64_t, j - i);
        for (uint32_t k = i; k < j; k++) {
            buf[k - i] = GUINT64_TO_BE(s->l1[k]);
        }
        if (!block_file_pwrite(node, s->l1_offset + (uint64_t)i * 8, buf,
                               (uint64_t)(j - i) * 8, errp)) {
            return false;
        }
        memset(s->l1_dirty + i, 0, j - i);
        i = j;
    }
    s->any_l1_dirty = false;
    return true;
}

bool qcow2_writeback(BlockNode *node, GError **errp)
{
    Qcow2State *s = qcow2_state(node);

    /* W2: a cluster's content is complete before an entry points at it. */
    if (!qcow2_complete_cow(node, errp)) {
        return false;
    }
    /* W1/W2: refcount blocks, then the table entries pointing at them. */
    if (s->any_rb_dirty && !qcow2_write_refblocks(node, errp)) {
        return false;
    }
    if (s->any_rt_dirty) {
        if (!block_file_sync(node, errp)
            || !qcow2_write_rt_entries(node, errp)) {
            return false;
        }
    }
    /* Data and counts durable before any L2/L1 entry points at them. */
    if (!block_file_sync(node, errp)) {
        return false;
    }
    if (s->any_l2_dirty || s->any_l1_dirty) {
        if (s->any_l2_dirty) {
            if (!qcow2_write_tables(node, s->l2_cache, errp)) {
                return false;
            }
            s->any_l2_dirty = false;
            if (s->any_l1_dirty && !block_file_sync(node, errp)) {
                return false;
            }
        }
        if (s->any_l1_dirty && !qcow2_write_l1_entries(node, errp)) {
            return false;
        }
        if (!block_file_sync(node, errp)) {
            return false;
        }
    }
    /* W3: the new references are durable; release the old clusters. */
    if (s->pending_frees->len > 0) {
        for (guint i = 0; i < s->pending_frees->len; i++) {
            uint64_t host = g_array_index(s->pending_frees, uint64_t, i);
            if (!qcow2_refcount_update(node, host, -1, errp)) {
                g_array_set_size(s->pending_frees, 0);
                return false;
            }
        }
        g_array_set_size(s->pending_frees, 0);
        if (!qcow2_write_refblocks(node, errp)
            || !block_file_sync(node, errp)) {
            return false;
        }
    }
    return true;
}

bool qcow2_co_pwrite(BlockNode *node, uint64_t offset, const void *buf,
                     size_t len, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    if (s->broken) {
        block_error(errp, node, "writing stopped after an earlier error");
        return false;
    }
    if (qcow2_do_pwrite(node, offset, buf, len, errp)) {
        return true;
    }
    /*
     * Memory may now hold entries for clusters whose data did not reach
     * the file: stop writing, so that they never do (W2).  What earlier
     * flushes made durable stays consistent.
     */
    s->broken = true;
    node->read_only = true;
    return false;
}
