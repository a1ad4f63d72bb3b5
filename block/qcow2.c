/* SPDX-License-Identifier: MIT */
/*
 * qapikit block layer: the qcow2 driver, opening an image (every check of
 * docs/spec/qcow2-format.md §9), the metadata cache, corruption reports, close.
 */
#include <stdarg.h>
#include <string.h>

#include "qcow2.h"

static uint32_t be32_at(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return GUINT32_FROM_BE(v);
}

static uint64_t be64_at(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return GUINT64_FROM_BE(v);
}

bool qcow2_corrupt(BlockNode *node, GError **errp, const char *fmt, ...)
{
    Qcow2State *s = qcow2_state(node);
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    if (!node->read_only && s->version >= 3
        && !(s->incompat & QCOW2_INCOMPAT_CORRUPT)) {
        uint64_t incompat = GUINT64_TO_BE(s->incompat | QCOW2_INCOMPAT_CORRUPT);
        /* Best effort: the request fails whatever happens here. */
        if (block_file_pwrite(node, QCOW2_HDR_INCOMPAT, &incompat, 8, NULL)
            && block_file_sync(node, NULL)) {
            s->incompat |= QCOW2_INCOMPAT_CORRUPT;
        }
    }
    bool was_rw = !node->read_only;
    node->read_only = true;
    s->broken = true;
    block_error(errp, node, "corrupt image: %s%s", msg,
                was_rw ? " (image marked corrupt and switched to read-only)"
                       : "");
    return false;
}

bool qcow2_check_host_offset(BlockNode *node, uint64_t offset, const char *what,
                             GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    if (offset & (s->cluster_size - 1)) {
        return qcow2_corrupt(node, errp,
                             "%s offset 0x%" PRIx64 " is not cluster-aligned",
                             what, offset);
    }
    if (offset == 0) {
        return qcow2_corrupt(node, errp, "%s points at cluster 0", what);
    }
    if (offset >= QCOW2_OFFSET_LIMIT || offset >= node->file_size) {
        return qcow2_corrupt(
            node, errp, "%s offset 0x%" PRIx64 " is past the end of the file",
            what, offset);
    }
    return true;
}

bool qcow2_check_overlap(BlockNode *node, uint64_t offset, const char *what,
                         GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    uint64_t l1_end = s->l1_offset + (uint64_t)s->l1_size * 8;
    uint64_t rt_end = s->rt_offset + s->rt_size * 8;
    if (offset < s->cluster_size) {
        return qcow2_corrupt(node, errp,
                             "%s at 0x%" PRIx64 " overlaps the "
                             "header",
                             what, offset);
    }
    if (s->l1_size && offset < l1_end
        && s->l1_offset < offset + s->cluster_size) {
        return qcow2_corrupt(node, errp,
                             "%s at 0x%" PRIx64 " overlaps the "
                             "L1 table",
                             what, offset);
    }
    if (offset < rt_end && s->rt_offset < offset + s->cluster_size) {
        return qcow2_corrupt(node, errp,
                             "%s at 0x%" PRIx64 " overlaps the "
                             "refcount table",
                             what, offset);
    }
    return true;
}

Qcow2Table *qcow2_table_new(Qcow2State *s, GHashTable *cache, uint64_t offset)
{
    Qcow2Table *t = g_malloc0(sizeof(*t) + s->cluster_size);
    t->offset = offset;
    g_hash_table_insert(cache, &t->offset, t);
    s->cache_bytes += s->cluster_size;
    return t;
}

Qcow2Table *qcow2_table_get(BlockNode *node, GHashTable *cache, uint64_t offset,
                            const char *what, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    Qcow2Table *t = g_hash_table_lookup(cache, &offset);
    if (t) {
        return t;
    }
    if (!qcow2_check_host_offset(node, offset, what, errp)
        || !qcow2_check_overlap(node, offset, what, errp)) {
        return NULL;
    }
    t = g_malloc(sizeof(*t) + s->cluster_size);
    if (!block_file_pread(node, offset, t->data, s->cluster_size, errp)) {
        g_free(t);
        return NULL;
    }
    t->offset = offset;
    t->dirty = false;
    t->verified = false;
    g_hash_table_insert(cache, &t->offset, t);
    s->cache_bytes += s->cluster_size;
    return t;
}

static gboolean table_is_clean(gpointer key, gpointer value, gpointer data)
{
    (void)key;
    (void)data;
    return !((Qcow2Table *)value)->dirty;
}

bool qcow2_cache_trim(BlockNode *node, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    if (s->cache_bytes <= QCOW2_CACHE_MAX) {
        return true;
    }
    /* A broken node never writes its metadata: only clean tables go. */
    if (!s->broken && qcow2_metadata_dirty(s) && !qcow2_writeback(node, errp)) {
        return false;
    }
    guint dropped =
        g_hash_table_foreach_remove(s->l2_cache, table_is_clean, NULL);
    dropped += g_hash_table_foreach_remove(s->rb_cache, table_is_clean, NULL);
    s->cache_bytes -= dropped * s->cluster_size;
    return true;
}

static void qcow2_state_free(Qcow2State *s)
{
    if (!s) {
        return;
    }
    if (s->l2_cache) {
        g_hash_table_destroy(s->l2_cache);
    }
    if (s->rb_cache) {
        g_hash_table_destroy(s->rb_cache);
    }
    if (s->pending_frees) {
        g_array_free(s->pending_frees, TRUE);
    }
    g_free(s->l1);
    g_free(s->l1_dirty);
    g_free(s->rt);
    g_free(s->rt_dirty);
    g_free(s->bounce);
    g_free(s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Qcow2State, qcow2_state_free)

/* The name of incompatible feature BIT from the feature name table. */
static char *feature_name(const uint8_t *table, uint32_t len, unsigned bit)
{
    for (uint32_t i = 0; table && i + 48 <= len; i += 48) {
        if (table[i] == 0 && table[i + 1] == bit) {
            return g_strndup((const char *)table + i + 2, 46);
        }
    }
    return g_strdup_printf("unknown feature bit %u", bit);
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

/* Parse the header extensions of cluster 0 (§3). */
static bool qcow2_read_extensions(BlockNode *node, const uint8_t *c0,
                                  uint64_t start, uint64_t limit, uint64_t *end,
                                  const uint8_t **ftable, uint32_t *ftable_len,
                                  GError **errp)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
    uint64_t pos = start;

    for (;;) {
        if (pos + 8 > limit) {
            block_error(errp, node,
                        "header extensions run past the end of "
                        "the header area (%" PRIu64 " bytes)",
                        limit);
            return false;
        }
        uint32_t type = be32_at(c0 + pos);
        uint32_t len = be32_at(c0 + pos + 4);
        pos += 8;
        if (type == QCOW2_EXT_END) {
            *end = pos;
            return true;
        }
        if ((uint64_t)len > limit - pos) {
            block_error(errp, node,
                        "header extension 0x%08x (%u bytes) "
                        "runs past the end of the header area",
                        type, len);
            return false;
        }
        if (g_hash_table_contains(seen, GUINT_TO_POINTER(type))) {
            block_error(errp, node, "header extension 0x%08x appears twice",
                        type);
            return false;
        }
        g_hash_table_add(seen, GUINT_TO_POINTER(type));
        if (type == QCOW2_EXT_BACKING_FORMAT) {
            if (len == 0 || memchr(c0 + pos, 0, len)) {
                block_error(errp, node, "invalid backing format extension");
                return false;
            }
            node->backing_format = g_strndup((const char *)c0 + pos, len);
        } else if (type == QCOW2_EXT_FEATURE_TABLE) {
            *ftable = c0 + pos;
            *ftable_len = len;
        }
        pos += ((uint64_t)len + 7) & ~(uint64_t)7;
    }
}

static bool qcow2_check_features(BlockNode *node, Qcow2State *s,
                                 const uint8_t *ftable, uint32_t ftable_len,
                                 uint8_t compression_type, GError **errp)
{
    uint64_t incompat = s->incompat;
    if (incompat & QCOW2_INCOMPAT_DATA_FILE) {
        block_error(errp, node,
                    "images with an external data file "
                    "(incompatible feature bit 2) are not supported");
        return false;
    }
    if (incompat & QCOW2_INCOMPAT_COMPRESSION) {
        block_error(errp, node,
                    "compression type %u (incompatible feature "
                    "bit 3) is not supported: compressed images are refused",
                    compression_type);
        return false;
    }
    if (compression_type != 0) {
        block_error(errp, node,
                    "compression_type %u without incompatible "
                    "feature bit 3",
                    compression_type);
        return false;
    }
    if (incompat & QCOW2_INCOMPAT_EXTL2) {
        block_error(errp, node,
                    "extended L2 entries (incompatible feature "
                    "bit 4) are not supported");
        return false;
    }
    for (unsigned bit = 5; bit < 64; bit++) {
        if (incompat & ((uint64_t)1 << bit)) {
            g_autofree char *name = feature_name(ftable, ftable_len, bit);
            block_error(errp, node,
                        "unsupported incompatible feature: %s "
                        "(incompatible_features bit %u)",
                        name, bit);
            return false;
        }
    }
    if ((incompat & QCOW2_INCOMPAT_DIRTY) && !node->read_only) {
        block_error(errp, node,
                    "the image is dirty (incompatible feature bit "
                    "0: refcounts may be stale); open it read-only or repair "
                    "it with 'qemu-img check -r all'");
        return false;
    }
    if (incompat & QCOW2_INCOMPAT_CORRUPT) {
        if (!node->read_only) {
            block_error(errp, node,
                        "the image is marked corrupt "
                        "(incompatible feature bit 1); it can only be opened "
                        "read-only");
            return false;
        }
        g_message("%s: the image is marked corrupt; opened read-only",
                  node->filename);
    }
    return true;
}

/* Verify that the clusters of [OFFSET, OFFSET + LEN) are in use. */
static bool qcow2_check_counted(BlockNode *node, uint64_t offset, uint64_t len,
                                const char *what, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    for (uint64_t c = offset; c < offset + len; c += s->cluster_size) {
        uint64_t count;
        if (!qcow2_refcount_get(node, c, &count, errp)) {
            return false;
        }
        if (count == 0) {
            return qcow2_corrupt(node, errp,
                                 "%s cluster at 0x%" PRIx64 " has refcount 0",
                                 what, c);
        }
    }
    return true;
}

static bool qcow2_open(BlockNode *node, unsigned flags, GError **errp)
{
    (void)flags;
    g_autoptr(Qcow2State) s = g_new0(Qcow2State, 1);
    uint8_t h[112] = { 0 };

    if (node->file_size < 72) {
        block_error(errp, node, "file too short for a qcow2 header");
        return false;
    }
    if (!block_file_pread(node, 0, h, sizeof(h), errp)) {
        return false;
    }
    if (be32_at(h) != QCOW2_MAGIC) {
        block_error(errp, node, "bad magic: not a qcow2 image");
        return false;
    }
    s->version = be32_at(h + 4);
    if (s->version != 2 && s->version != 3) {
        block_error(errp, node,
                    "unsupported qcow2 version %u (field "
                    "version)",
                    s->version);
        return false;
    }
    uint64_t backing_offset = be64_at(h + 8);
    uint32_t backing_size = be32_at(h + 16);
    s->cluster_bits = be32_at(h + 20);
    s->size = be64_at(h + 24);
    uint32_t crypt_method = be32_at(h + 32);
    s->l1_size = be32_at(h + 36);
    s->l1_offset = be64_at(h + 40);
    s->rt_offset = be64_at(h + 48);
    s->rt_clusters = be32_at(h + 56);
    s->nb_snapshots = be32_at(h + 60);
    s->snapshots_offset = be64_at(h + 64);
    uint8_t compression_type = 0;
    if (s->version == 3) {
        s->incompat = be64_at(h + 72);
        s->compat = be64_at(h + 80);
        s->autoclear = be64_at(h + 88);
        s->refcount_order = be32_at(h + 96);
        s->header_length = be32_at(h + 100);
    } else {
        s->refcount_order = 4;
        s->header_length = 72;
    }

    if (s->cluster_bits < 9 || s->cluster_bits > 21) {
        block_error(errp, node,
                    "unsupported cluster_bits %u (must be 9 to "
                    "21)",
                    s->cluster_bits);
        return false;
    }
    s->cluster_size = (uint64_t)1 << s->cluster_bits;
    s->l2_bits = s->cluster_bits - 3;
    if (s->version == 3) {
        if (s->header_length < 104 || s->header_length % 8
            || s->header_length > s->cluster_size) {
            block_error(errp, node, "invalid header_length %u",
                        s->header_length);
            return false;
        }
        if (s->header_length > 104) {
            compression_type = h[104];
        }
    }
    if (crypt_method != 0) {
        block_error(errp, node,
                    "encrypted images are not supported "
                    "(crypt_method %u)",
                    crypt_method);
        return false;
    }
    if (s->refcount_order > 6) {
        block_error(errp, node, "invalid refcount_order %u (at most 6)",
                    s->refcount_order);
        return false;
    }
    s->rb_bits = s->cluster_bits + 3 - s->refcount_order;

    /* Cluster 0: extensions and backing file name. */
    g_autofree uint8_t *c0 = g_malloc(s->cluster_size);
    if (!block_file_pread(node, 0, c0, s->cluster_size, errp)) {
        return false;
    }
    uint64_t ext_limit = s->cluster_size;
    if (backing_offset && backing_size) {
        if (backing_size > QCOW2_MAX_BACKING_NAME) {
            block_error(errp, node,
                        "backing file name too long (field "
                        "backing_file_size %u, at most %u)",
                        backing_size, QCOW2_MAX_BACKING_NAME);
            return false;
        }
        if (backing_offset > s->cluster_size
            || backing_size > s->cluster_size - backing_offset) {
            block_error(errp, node,
                        "backing file name (field "
                        "backing_file_offset 0x%" PRIx64 ") lies outside "
                        "cluster 0",
                        backing_offset);
            return false;
        }
        ext_limit = backing_offset;
    }
    uint64_t ext_end = 0;
    const uint8_t *ftable = NULL;
    uint32_t ftable_len = 0;
    if (!qcow2_read_extensions(node, c0, s->header_length, ext_limit, &ext_end,
                               &ftable, &ftable_len, errp)) {
        return false;
    }
    if (node->backing_format
        && !block_format_from_name(node->backing_format, &(BlockFormat){ 0 },
                                   NULL)) {
        block_error(errp, node,
                    "unknown backing format '%s' in the backing "
                    "format extension",
                    node->backing_format);
        return false;
    }
    if (backing_offset && backing_size) {
        if (memchr(c0 + backing_offset, 0, backing_size)) {
            block_error(errp, node, "backing file name contains a NUL byte");
            return false;
        }
        node->backing_name =
            g_strndup((const char *)c0 + backing_offset, backing_size);
        if (g_path_is_absolute(node->backing_name)) {
            node->full_backing_name = g_strdup(node->backing_name);
        } else {
            g_autofree char *dir = g_path_get_dirname(node->filename);
            node->full_backing_name = strcmp(dir, ".") == 0
                ? g_strdup(node->backing_name)
                : g_build_filename(dir, node->backing_name, NULL);
        }
    } else {
        g_clear_pointer(&node->backing_format, g_free);
    }

    if (!qcow2_check_features(node, s, ftable, ftable_len, compression_type,
                              errp)) {
        return false;
    }

    /* L1 table */
    unsigned range_bits = s->cluster_bits + s->l2_bits;
    uint64_t l1_needed = (s->size >> range_bits)
        + ((s->size & (((uint64_t)1 << range_bits) - 1)) != 0);
    if (s->l1_size > QCOW2_MAX_L1_SIZE) {
        block_error(errp, node, "l1_size %u too large (at most %u)", s->l1_size,
                    QCOW2_MAX_L1_SIZE);
        return false;
    }
    if (s->l1_size < l1_needed) {
        block_error(errp, node,
                    "l1_size %u too small for the virtual size "
                    "%" PRIu64 " (needs %" PRIu64 ")",
                    s->l1_size, s->size, l1_needed);
        return false;
    }
    if (s->size > INT64_MAX) {
        block_error(errp, node, "virtual size %" PRIu64 " too large", s->size);
        return false;
    }
    uint64_t l1_bytes = (uint64_t)s->l1_size * 8;
    if (s->l1_size > 0) {
        if ((s->l1_offset & (s->cluster_size - 1))
            || s->l1_offset >= QCOW2_OFFSET_LIMIT) {
            block_error(errp, node, "invalid l1_table_offset 0x%" PRIx64,
                        s->l1_offset);
            return false;
        }
        if (s->l1_offset >= node->file_size) {
            block_error(errp, node,
                        "L1 table (l1_table_offset 0x%" PRIx64
                        ") starts past the end of the file",
                        s->l1_offset);
            return false;
        }
    }

    /* Refcount table */
    if ((s->rt_offset & (s->cluster_size - 1)) || s->rt_offset == 0
        || s->rt_offset >= QCOW2_OFFSET_LIMIT) {
        block_error(errp, node, "invalid refcount_table_offset 0x%" PRIx64,
                    s->rt_offset);
        return false;
    }
    if (s->rt_offset >= node->file_size) {
        block_error(errp, node,
                    "refcount table (refcount_table_offset 0x%" PRIx64
                    ") starts past the end of the file",
                    s->rt_offset);
        return false;
    }
    if (s->rt_clusters < 1
        || (uint64_t)s->rt_clusters * s->cluster_size > QCOW2_MAX_RT_BYTES) {
        block_error(errp, node, "invalid refcount_table_clusters %u",
                    s->rt_clusters);
        return false;
    }
    uint64_t rt_bytes = (uint64_t)s->rt_clusters * s->cluster_size;

    /* Snapshots */
    if (s->nb_snapshots > 0) {
        if ((s->snapshots_offset & (s->cluster_size - 1))
            || s->snapshots_offset == 0
            || s->snapshots_offset >= QCOW2_OFFSET_LIMIT) {
            block_error(errp, node, "invalid snapshots_offset 0x%" PRIx64,
                        s->snapshots_offset);
            return false;
        }
        if (!node->read_only) {
            block_error(errp, node,
                        "the image has %u internal snapshots: "
                        "it can only be opened read-only",
                        s->nb_snapshots);
            return false;
        }
    }

    /* Overlaps between cluster 0 and the tables (§9). */
    uint64_t l1_span =
        (l1_bytes + s->cluster_size - 1) & ~(s->cluster_size - 1);
    uint64_t snap_span = s->nb_snapshots ? s->cluster_size : 0;
    struct {
        const char *name;
        uint64_t offset, len;
    } areas[] = {
        { "header", 0, s->cluster_size },
        { "L1 table", s->l1_offset, s->l1_size ? l1_span : 0 },
        { "refcount table", s->rt_offset, rt_bytes },
        { "snapshot table", s->snapshots_offset, snap_span },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(areas); i++) {
        for (size_t j = i + 1; j < G_N_ELEMENTS(areas); j++) {
            if (ranges_overlap(areas[i].offset, areas[i].len, areas[j].offset,
                               areas[j].len)) {
                block_error(errp, node, "the %s overlaps the %s", areas[i].name,
                            areas[j].name);
                return false;
            }
        }
    }

    s->l1 = g_malloc0(l1_bytes ? l1_bytes : 8);
    s->l1_dirty = g_malloc0(s->l1_size ? s->l1_size : 1);
    if (s->l1_size
        && !block_file_pread(node, s->l1_offset, s->l1, l1_bytes, errp)) {
        return false;
    }
    for (uint32_t i = 0; i < s->l1_size; i++) {
        s->l1[i] = GUINT64_FROM_BE(s->l1[i]);
    }
    s->rt_size = rt_bytes / 8;
    s->rt = g_malloc(rt_bytes);
    s->rt_dirty = g_malloc0(s->rt_size);
    if (!block_file_pread(node, s->rt_offset, s->rt, rt_bytes, errp)) {
        return false;
    }
    for (uint64_t i = 0; i < s->rt_size; i++) {
        s->rt[i] = GUINT64_FROM_BE(s->rt[i]);
    }

    s->l2_cache =
        g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
    s->rb_cache =
        g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
    s->pending_frees = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    s->bounce = g_malloc(s->cluster_size);

    node->opaque = s;
    node->length = s->size;
    node->cluster_size = s->cluster_size;
    node->dirty = s->incompat & QCOW2_INCOMPAT_DIRTY;

    if (!node->read_only) {
        /* The metadata a writer relies on must be counted.  A failed
         * open leaves the file alone: no corrupt bit. */
        node->read_only = true;
        bool counted =
            qcow2_check_counted(node, 0, s->cluster_size, "header", errp)
            && qcow2_check_counted(node, s->rt_offset, rt_bytes,
                                   "refcount table", errp)
            && (!s->l1_size
                || qcow2_check_counted(node, s->l1_offset, l1_span, "L1 table",
                                       errp));
        node->read_only = false;
        if (!counted) {
            node->opaque = NULL;
            return false;
        }
    }
    s = NULL;
    return true;
}

static void qcow2_close(BlockNode *node)
{
    Qcow2State *s = qcow2_state(node);
    if (node->writable_fd && !s->broken && qcow2_metadata_dirty(s)) {
        g_autoptr(GError) err = NULL;
        if (!qcow2_writeback(node, &err)) {
            g_message("%s: writing metadata on close failed: %s",
                      node->filename, err->message);
        }
    }
    qcow2_state_free(s);
    node->opaque = NULL;
}

static bool qcow2_flush(BlockNode *node, GError **errp)
{
    Qcow2State *s = qcow2_state(node);
    if (s->broken) {
        block_error(errp, node,
                    "not flushed: writing stopped after an "
                    "earlier error, the image is read-only");
        return false;
    }
    return qcow2_writeback(node, errp);
}

const BlockDriver block_driver_qcow2 = {
    .format = BLOCK_FORMAT_QCOW2,
    .open = qcow2_open,
    .close = qcow2_close,
    .pread = qcow2_co_pread,
    .pwrite = qcow2_co_pwrite,
    .flush = qcow2_flush,
    .block_status = qcow2_block_status,
    .pread_writes_nothing = qcow2_pread_writes_nothing,
};
