/* SPDX-License-Identifier: MIT */
/*
 * qapikit block layer: creating a qcow2 version 3 image with the layout
 * of docs/spec/qcow2-format.md §6 (the one `qemu-img create` gives): header,
 * refcount table, refcount block(s), L1 table; the file ends after the
 * last L1 entry.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "qcow2.h"

static bool buffer_is_zero(const uint8_t *buf, uint64_t len)
{
    return len == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, len - 1) == 0);
}

/*
 * Write the CREATE_BLOCK-sized blocks of BUF[0, LEN) that are not all
 * zero into FD (a new, empty file) at the same offsets, runs of
 * consecutive such blocks in one pwrite.  False with errno set on error.
 */
#define CREATE_BLOCK 4096
static bool write_nonzero_blocks(int fd, const uint8_t *buf, uint64_t len)
{
    uint64_t off = 0;

    while (off < len) {
        uint64_t start, end;

        while (off < len
               && buffer_is_zero(buf + off, MIN(CREATE_BLOCK, len - off))) {
            off += CREATE_BLOCK;
        }
        if (off >= len) {
            break;
        }
        start = off;
        while (off < len
               && !buffer_is_zero(buf + off, MIN(CREATE_BLOCK, len - off))) {
            off += CREATE_BLOCK;
        }
        end = MIN(off, len);
        while (start < end) {
            ssize_t n =
                pwrite(fd, buf + start, MIN(end - start, (uint64_t)1 << 30),
                       (off_t)start);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                return false;
            }
            start += (uint64_t)n;
        }
    }
    return true;
}

/* The feature name table qapikit writes: {kind, bit, name}. */
static const struct {
    uint8_t kind;
    uint8_t bit;
    const char *name;
} qcow2_feature_names[] = {
    { 0, 0, "dirty bit" },
    { 0, 1, "corrupt bit" },
    { 0, 2, "external data file" },
    { 0, 3, "compression type" },
    { 0, 4, "extended L2 entries" },
    { 1, 0, "lazy refcounts" },
    { 2, 0, "bitmaps" },
    { 2, 1, "raw external data" },
};

static void put_be32(uint8_t *p, uint32_t v)
{
    v = GUINT32_TO_BE(v);
    memcpy(p, &v, 4);
}

static void put_be64(uint8_t *p, uint64_t v)
{
    v = GUINT64_TO_BE(v);
    memcpy(p, &v, 8);
}

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

/*
 * The new image's bytes for OPTS: *IMG (FILE_LEN bytes, the caller's to
 * free), or false with *ERRP set (FILENAME names the image).
 */
static bool build_image(const char *filename, const Qcow2CreateOptions *opts,
                        uint8_t **img_out, uint64_t *file_len_out,
                        GError **errp)
{
    unsigned cluster_bits = opts->cluster_bits ? opts->cluster_bits : 16;
    const char *backing = opts->backing_file;
    size_t backing_len = backing ? strlen(backing) : 0;
    size_t format_len = 0;

    if (cluster_bits < 9 || cluster_bits > 21) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s: cluster size must be 512 B to 2 MiB (cluster_bits "
                    "%u)",
                    filename, cluster_bits);
        return false;
    }
    uint64_t cs = (uint64_t)1 << cluster_bits;
    unsigned range_bits = 2 * cluster_bits - 3;
    if (opts->size > INT64_MAX) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s: virtual size too large", filename);
        return false;
    }
    uint64_t l1_size = (opts->size >> range_bits)
        + ((opts->size & (((uint64_t)1 << range_bits) - 1)) != 0);
    if (l1_size > QCOW2_MAX_L1_SIZE) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s: virtual size %" PRIu64 " too large for %" PRIu64
                    "-byte clusters",
                    filename, opts->size, cs);
        return false;
    }
    if (backing && backing_len > 0) {
        BlockFormat fmt;
        if (backing_len > QCOW2_MAX_BACKING_NAME) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "%s: backing file name too long (%zu bytes, at most "
                        "%u)",
                        filename, backing_len, QCOW2_MAX_BACKING_NAME);
            return false;
        }
        if (!block_format_from_name(opts->backing_format, &fmt, errp)) {
            g_prefix_error(errp, "%s: backing format: ", filename);
            return false;
        }
        format_len = strlen(opts->backing_format);
    } else {
        backing = NULL;
        backing_len = 0;
    }

    /* Cluster 0: header, extensions, end marker, backing name. */
    size_t format_ext = backing ? 8 + ((format_len + 7) & ~(size_t)7) : 0;
    size_t feature_ext = 8 + 48 * G_N_ELEMENTS(qcow2_feature_names);
    size_t area = 112 + format_ext + 8 + backing_len;
    /* qemu-img leaves the table out of clusters under 8 KiB. */
    bool with_features = cs >= 8192 && area + feature_ext <= cs;
    if (area > cs) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s: backing file name does not fit in a %" PRIu64
                    "-byte header cluster",
                    filename, cs);
        return false;
    }

    /* Clusters: header, refcount table, refcount blocks, L1 table. */
    uint64_t l1_clusters = ceil_div(l1_size * 8, cs);
    uint64_t entries = cs * 8 / 16;
    uint64_t rt_clusters = 1, rb_clusters = 1;
    for (;;) {
        uint64_t total = 1 + rt_clusters + rb_clusters + l1_clusters;
        uint64_t rb = ceil_div(total, entries);
        uint64_t rt = ceil_div(rb * 8, cs);
        if (rb == rb_clusters && rt == rt_clusters) {
            break;
        }
        rb_clusters = MAX(rb, rb_clusters);
        rt_clusters = MAX(rt, rt_clusters);
    }
    uint64_t total = 1 + rt_clusters + rb_clusters + l1_clusters;
    uint64_t rt_offset = cs;
    uint64_t rb_offset = cs * (1 + rt_clusters);
    uint64_t l1_offset = l1_size ? cs * (1 + rt_clusters + rb_clusters) : 0;
    uint64_t file_len = cs * (1 + rt_clusters + rb_clusters) + l1_size * 8;

    g_autofree uint8_t *img = g_try_malloc0(file_len);
    if (!img) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s: out of memory for a %" PRIu64 "-byte image", filename,
                    file_len);
        return false;
    }
    memcpy(img, "QFI\xfb", 4);
    put_be32(img + 4, 3);
    put_be32(img + 20, cluster_bits);
    put_be64(img + 24, opts->size);
    put_be32(img + 36, (uint32_t)l1_size);
    put_be64(img + 40, l1_offset);
    put_be64(img + 48, rt_offset);
    put_be32(img + 56, (uint32_t)rt_clusters);
    put_be32(img + 96, 4);
    put_be32(img + 100, 112);
    size_t pos = 112;
    if (backing) {
        put_be32(img + pos, QCOW2_EXT_BACKING_FORMAT);
        put_be32(img + pos + 4, (uint32_t)format_len);
        memcpy(img + pos + 8, opts->backing_format, format_len);
        pos += format_ext;
    }
    if (with_features) {
        put_be32(img + pos, QCOW2_EXT_FEATURE_TABLE);
        put_be32(img + pos + 4, (uint32_t)(feature_ext - 8));
        pos += 8;
        for (size_t i = 0; i < G_N_ELEMENTS(qcow2_feature_names); i++) {
            img[pos] = qcow2_feature_names[i].kind;
            img[pos + 1] = qcow2_feature_names[i].bit;
            memcpy(img + pos + 2, qcow2_feature_names[i].name,
                   strlen(qcow2_feature_names[i].name));
            pos += 48;
        }
    }
    pos += 8; /* end marker */
    if (backing) {
        put_be64(img + 8, pos);
        put_be32(img + 16, (uint32_t)backing_len);
        memcpy(img + pos, backing, backing_len);
    }
    for (uint64_t i = 0; i < rb_clusters; i++) {
        put_be64(img + rt_offset + 8 * i, rb_offset + i * cs);
    }
    for (uint64_t c = 0; c < total; c++) {
        qcow2_rb_set(img + rb_offset, c, 4, 1);
    }
    *img_out = g_steal_pointer(&img);
    *file_len_out = file_len;
    return true;
}

/* Write IMG (FILE_LEN bytes) into the empty file FD; sync if asked. */
static bool write_image(int fd, const char *filename, const uint8_t *img,
                        uint64_t file_len, bool sync, GError **errp)
{
    /*
     * Write the blocks that hold something and let ftruncate() make the
     * rest (the L1 table, most of every table cluster) a hole that reads
     * as zeros, as qemu-img does: a 64 KiB-cluster overlay is three 4 KiB
     * writes instead of 192 KiB.
     */
    if (!write_nonzero_blocks(fd, img, file_len)
        || ftruncate(fd, (off_t)file_len) < 0) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "Could not write '%s': %s", filename, g_strerror(errno));
        return false;
    }
    if (sync) {
        int ret;
        do {
            ret = fdatasync(fd);
        } while (ret < 0 && errno == EINTR);
        if (ret < 0) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                        "Could not sync '%s': %s", filename, g_strerror(errno));
            return false;
        }
    }
    return true;
}

bool qcow2_create_fd(int fd, const char *filename,
                     const Qcow2CreateOptions *opts, GError **errp)
{
    g_autofree uint8_t *img = NULL;
    uint64_t file_len;

    return build_image(filename, opts, &img, &file_len, errp)
        && write_image(fd, filename, img, file_len, opts->sync, errp);
}

bool qcow2_create(const char *filename, const Qcow2CreateOptions *opts,
                  bool *created, GError **errp)
{
    g_autofree uint8_t *img = NULL;
    uint64_t file_len;
    bool ok;
    int fd;

    *created = false;
    if (!build_image(filename, opts, &img, &file_len, errp)) {
        return false;
    }
    do {
        fd = open(filename,
                  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "Could not create '%s': %s", filename, g_strerror(errno));
        return false;
    }
    *created = true;
    ok = write_image(fd, filename, img, file_len, opts->sync, errp);
    if (close(fd) < 0 && ok) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "Could not close '%s': %s", filename, g_strerror(errno));
        ok = false;
    }
    return ok;
}
