/* SPDX-License-Identifier: MIT */
/*
 * qapikit block layer: qcow2 refcounts (every width of §5), cluster
 * allocation at the end of the file, new refcount blocks and the growth
 * of the refcount table (§7.3).
 */
#include <string.h>

#include "qcow2.h"

uint64_t qcow2_rb_get(const uint8_t *block, uint64_t index, unsigned order)
{
    const uint8_t *p;
    switch (order) {
    case 3:
        return block[index];
    case 4:
        p = block + 2 * index;
        return (uint64_t)p[0] << 8 | p[1];
    case 5: {
        uint32_t v;
        memcpy(&v, block + 4 * index, 4);
        return GUINT32_FROM_BE(v);
    }
    case 6: {
        uint64_t v;
        memcpy(&v, block + 8 * index, 8);
        return GUINT64_FROM_BE(v);
    }
    default: {
        unsigned bits = 1u << order;
        uint64_t bit = index * bits;
        return (block[bit >> 3] >> (bit & 7)) & ((1u << bits) - 1);
    }
    }
}

void qcow2_rb_set(uint8_t *block, uint64_t index, unsigned order,
                  uint64_t value)
{
    switch (order) {
    case 3:
        block[index] = (uint8_t)value;
        break;
    case 4:
        block[2 * index] = (uint8_t)(value >> 8);
        block[2 * index + 1] = (uint8_t)value;
        break;
    case 5: {
        uint32_t v = GUINT32_TO_BE((uint32_t)value);
        memcpy(block + 4 * index, &v, 4);
        break;
    }
    case 6: {
        uint64_t v = GUINT64_TO_BE(value);
        memcpy(block + 8 * index, &v, 8);
        break;
    }
    default: {
        unsigned bits = 1u << order;
        uint64_t bit = index * bits;
        uint8_t mask = (uint8_t)(((1u << bits) - 1) << (bit & 7));
        block[bit >> 3] = (uint8_t)((block[bit >> 3] & ~mask)
                                    | ((value << (bit & 7)) & mask));
        break;
    }
    }
}

/* The refcount block for cluster index C, or NULL with *errp unset when
 * no block covers it. */
static Qcow2Table *qcow2_refblock(BlockNode *node, uint64_t c, GError **errp,
                                  bool *failed)
{
    Qcow2State *s = qcow2_state(node);
    uint64_t ri = c >> s->rb_bits;
    *failed = false;
    if (ri >= s->rt_size || s->rt[ri] == 0) {
        return NULL;
    }
    if (s->rt[ri] & QCOW2_RT_RESERVED) {
        *failed = true;
        qcow2_corrupt(node, errp,
                      "refcount table entry %" PRIu64 " has reserved bits set",
                      ri);
        return NULL;
    }
    Qcow2Table *t =
        qcow2_table_get(node, s->rb_cache, s->rt[ri], "refcount block", errp);
    *failed = !t;
    return t;
}

bool qcow2_refcount_get(BlockNode *node, uint64_t host, uint64_t *value,
                        GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    uint64_t c = host >> s->cluster_bits;
    bool failed;
    Qcow2Table *t = qcow2_refblock(node, c, errp, &failed);
    if (failed) {
        return false;
    }
    *value = t ? qcow2_rb_get(t->data, c & ((1ull << s->rb_bits) - 1),
                              s->refcount_order)
               : 0;
    return true;
}

bool qcow2_refcount_update(BlockNode *node, uint64_t host, int delta,
                           GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    uint64_t c = host >> s->cluster_bits;
    bool failed;
    Qcow2Table *t = qcow2_refblock(node, c, errp, &failed);
    if (failed) {
        return false;
    }
    if (!t) {
        return qcow2_corrupt(node, errp,
                             "no refcount block covers the "
                             "cluster at 0x%" PRIx64,
                             host);
    }
    uint64_t index = c & ((1ull << s->rb_bits) - 1);
    uint64_t value = qcow2_rb_get(t->data, index, s->refcount_order);
    uint64_t max = s->refcount_order == 6
        ? UINT64_MAX
        : ((uint64_t)1 << (1u << s->refcount_order)) - 1;
    if (delta > 0 && value == max) {
        block_error(errp, node,
                    "refcount of the cluster at 0x%" PRIx64
                    " would exceed its maximum %" PRIu64,
                    host, max);
        return false;
    }
    if (delta < 0 && value == 0) {
        return qcow2_corrupt(
            node, errp, "refcount of the cluster at 0x%" PRIx64 " is already 0",
            host);
    }
    qcow2_rb_set(t->data, index, s->refcount_order,
                 delta > 0 ? value + 1 : value - 1);
    t->dirty = true;
    s->any_rb_dirty = true;
    return true;
}

bool qcow2_find_alloc_end(BlockNode *node, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    uint64_t end = (node->file_size + s->cluster_size - 1) >> s->cluster_bits;
    uint64_t entries = 1ull << s->rb_bits;

    if (end == 0) {
        end = 1;
    }
    for (uint64_t ri = 0; ri < s->rt_size; ri++) {
        if (s->rt[ri] == 0) {
            continue;
        }
        bool failed;
        Qcow2Table *t = qcow2_refblock(node, ri << s->rb_bits, errp, &failed);
        if (failed) {
            return false;
        }
        for (uint64_t i = entries; i-- > 0;) {
            if (qcow2_rb_get(t->data, i, s->refcount_order)) {
                end = MAX(end, (ri << s->rb_bits) + i + 1);
                break;
            }
        }
        if (!t->dirty && s->cache_bytes > QCOW2_CACHE_MAX) {
            /* A huge image: do not keep every block in memory. */
            g_hash_table_remove(s->rb_cache, &t->offset);
            s->cache_bytes -= s->cluster_size;
        }
    }
    s->alloc_end = end << s->cluster_bits;
    return true;
}

bool qcow2_write_tables(BlockNode *node, GHashTable *cache, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, cache);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        Qcow2Table *t = value;
        if (!t->dirty) {
            continue;
        }
        if (!block_file_pwrite(node, t->offset, t->data, s->cluster_size,
                               errp)) {
            return false;
        }
        t->dirty = false;
    }
    return true;
}

bool qcow2_write_refblocks(BlockNode *node, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    if (!qcow2_write_tables(node, s->rb_cache, errp)) {
        return false;
    }
    s->any_rb_dirty = false;
    return true;
}

bool qcow2_write_rt_entries(BlockNode *node, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    uint64_t i = 0;
    while (i < s->rt_size) {
        if (!s->rt_dirty[i]) {
            i++;
            continue;
        }
        uint64_t j = i;
        while (j < s->rt_size && s->rt_dirty[j]) {
            j++;
        }
        g_autofree uint64_t *buf = g_new(uint64_t, j - i);
        for (uint64_t k = i; k < j; k++) {
            buf[k - i] = GUINT64_TO_BE(s->rt[k]);
        }
        if (!block_file_pwrite(node, s->rt_offset + i * 8, buf, (j - i) * 8,
                               errp)) {
            return false;
        }
        memset(s->rt_dirty + i, 0, j - i);
        i = j;
    }
    s->any_rt_dirty = false;
    return true;
}

/*
 * §7.3/2: the table is full.  Place a bigger table at the end, followed
 * by the refcount blocks needed to cover it and themselves; write the
 * blocks and the table, flush, switch the header (one pwrite of bytes
 * 48-59), flush, then release the old table's clusters in memory.
 */
static bool qcow2_grow_refcount_table(BlockNode *node, uint64_t need_index,
                                      GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    uint64_t per_cluster = s->cluster_size / 8;
    uint64_t new_clusters = MAX((uint64_t)s->rt_clusters * 2,
                                (need_index + per_cluster) / per_cluster);
    uint64_t start, end;

    for (;;) {
        if (new_clusters * s->cluster_size > QCOW2_MAX_RT_BYTES) {
            block_error(errp, node,
                        "the refcount table would exceed 8 MiB: "
                        "image too large");
            return false;
        }
        start = s->alloc_end >> s->cluster_bits;
        uint64_t blocks = 0;
        for (;;) {
            end = start + new_clusters + blocks;
            uint64_t missing = 0;
            for (uint64_t r = start >> s->rb_bits; r <= (end - 1) >> s->rb_bits;
                 r++) {
                if (r >= s->rt_size || s->rt[r] == 0) {
                    missing++;
                }
            }
            if (missing == blocks) {
                break;
            }
            blocks = missing;
        }
        if (((end - 1) >> s->rb_bits) < new_clusters * per_cluster
            && need_index < new_clusters * per_cluster) {
            break;
        }
        new_clusters *= 2;
    }
    if ((end << s->cluster_bits) >= QCOW2_OFFSET_LIMIT) {
        block_error(errp, node, "image too large");
        return false;
    }

    uint64_t new_size = new_clusters * per_cluster;
    uint64_t *rt = g_new0(uint64_t, new_size);
    memcpy(rt, s->rt, s->rt_size * 8);
    uint64_t block = start + new_clusters;
    for (uint64_t r = start >> s->rb_bits; r <= (end - 1) >> s->rb_bits; r++) {
        if (r >= s->rt_size || s->rt[r] == 0) {
            rt[r] = block << s->cluster_bits;
            qcow2_table_new(s, s->rb_cache, rt[r])->dirty = true;
            block++;
        }
    }
    uint64_t old_offset = s->rt_offset;
    uint64_t old_clusters = s->rt_clusters;
    g_free(s->rt);
    g_free(s->rt_dirty);
    s->rt = rt;
    s->rt_size = new_size;
    s->rt_dirty = g_malloc0(new_size);
    s->any_rt_dirty = false;

    /* From here on, a failure leaves memory ahead of the file: the node
     * becomes read-only (the file itself stays consistent). */
    bool ok = true;
    for (uint64_t x = start; ok && x < end; x++) {
        ok = qcow2_refcount_update(node, x << s->cluster_bits, +1, errp);
    }
    g_autofree uint64_t *buf = g_new(uint64_t, new_size);
    for (uint64_t i = 0; i < new_size; i++) {
        buf[i] = GUINT64_TO_BE(rt[i]);
    }
    uint8_t hdr[12];
    uint64_t off_be = GUINT64_TO_BE(start << s->cluster_bits);
    uint32_t clusters_be = GUINT32_TO_BE((uint32_t)new_clusters);
    memcpy(hdr, &off_be, 8);
    memcpy(hdr + 8, &clusters_be, 4);
    ok = ok && qcow2_write_refblocks(node, errp)
        && block_file_pwrite(node, start << s->cluster_bits, buf, new_size * 8,
                             errp)
        && block_file_sync(node, errp)
        && block_file_pwrite(node, QCOW2_HDR_RT_OFFSET, hdr, sizeof(hdr), errp)
        && block_file_sync(node, errp);
    if (!ok) {
        node->read_only = true;
        s->broken = true;
        return false;
    }
    s->rt_offset = start << s->cluster_bits;
    s->rt_clusters = (uint32_t)new_clusters;
    s->alloc_end = end << s->cluster_bits;
    /* W3: the header is durable; the old table's clusters are free. */
    for (uint64_t i = 0; i < old_clusters; i++) {
        if (!qcow2_refcount_update(node, old_offset + i * s->cluster_size, -1,
                                   errp)) {
            return false;
        }
    }
    return true;
}

bool qcow2_alloc_cluster(BlockNode *node, uint64_t *host, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    for (;;) {
        if (s->alloc_end >= QCOW2_OFFSET_LIMIT) {
            block_error(errp, node, "image too large: no cluster left");
            return false;
        }
        uint64_t c = s->alloc_end >> s->cluster_bits;
        uint64_t ri = c >> s->rb_bits;
        if (ri >= s->rt_size) {
            if (!qcow2_grow_refcount_table(node, ri, errp)) {
                return false;
            }
            continue;
        }
        if (s->rt[ri] == 0) {
            /* §7.3/1: the block covers itself. */
            Qcow2Table *t = qcow2_table_new(s, s->rb_cache, s->alloc_end);
            qcow2_rb_set(t->data, c & ((1ull << s->rb_bits) - 1),
                         s->refcount_order, 1);
            t->dirty = true;
            s->any_rb_dirty = true;
            s->rt[ri] = s->alloc_end;
            s->rt_dirty[ri] = true;
            s->any_rt_dirty = true;
            s->alloc_end += s->cluster_size;
            continue;
        }
        uint64_t count;
        if (!qcow2_refcount_get(node, s->alloc_end, &count, errp)) {
            return false;
        }
        if (count != 0) {
            return qcow2_corrupt(node, errp,
                                 "cluster 0x%" PRIx64 " past "
                                 "the end of the image is in use",
                                 s->alloc_end);
        }
        if (!qcow2_refcount_update(node, s->alloc_end, +1, errp)) {
            return false;
        }
        *host = s->alloc_end;
        s->alloc_end += s->cluster_size;
        return true;
    }
}
