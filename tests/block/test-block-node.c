/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the image-node layer (<qapikit/block.h>) that need no
 * QEMU tool: refcount entry packing for every width, the create/open
 * contract, getters, read-only and backing handling, and a write/read
 * round trip in process with small clusters (new refcount blocks and a
 * growing refcount table).
 */
#define _GNU_SOURCE /* preadv2, RWF_NOWAIT */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "qcow2.h"

typedef struct Fixture {
    char *dir;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    (void)data;
    f->dir = g_dir_make_tmp("test-block-node-XXXXXX", NULL);
    g_assert_nonnull(f->dir);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
    const char *name;
    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(f->dir, name, NULL);
        g_unlink(path);
    }
    g_rmdir(f->dir);
    g_free(f->dir);
}

static char *fpath(Fixture *f, const char *name)
{
    return g_build_filename(f->dir, name, NULL);
}

static void create_qcow2(const char *path, uint64_t size, unsigned bits,
                         const char *backing, const char *backing_fmt)
{
    Qcow2CreateOptions opts = { .size = size,
                                .cluster_bits = bits,
                                .backing_file = backing,
                                .backing_format = backing_fmt };
    g_autoptr(GError) err = NULL;
    bool created = false;
    g_assert_true(qcow2_create(path, &opts, &created, &err));
    g_assert_no_error(err);
    g_assert_true(created);
}

static void test_refcount_widths(void)
{
    for (unsigned order = 0; order <= 6; order++) {
        unsigned bits = 1u << order;
        uint64_t max = order == 6 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
        uint64_t entries = 512 * 8 / bits;
        uint8_t block[512] = { 0 };
        for (uint64_t i = 0; i < entries; i++) {
            qcow2_rb_set(block, i, order, (i * 7919) & max);
        }
        for (uint64_t i = 0; i < entries; i++) {
            g_assert_cmpuint(qcow2_rb_get(block, i, order), ==,
                             (i * 7919) & max);
        }
        qcow2_rb_set(block, 3, order, max);
        g_assert_cmpuint(qcow2_rb_get(block, 3, order), ==, max);
        g_assert_cmpuint(qcow2_rb_get(block, 2, order), ==, (2 * 7919) & max);
        g_assert_cmpuint(qcow2_rb_get(block, 4, order), ==, (4 * 7919) & max);
    }
    /* The packing of §5/2: LSB first within a byte, big-endian above. */
    uint8_t b[8] = { 0 };
    qcow2_rb_set(b, 9, 0, 1);
    g_assert_cmpuint(b[1], ==, 0x02);
    memset(b, 0, sizeof(b));
    qcow2_rb_set(b, 1, 2, 0xa);
    g_assert_cmpuint(b[0], ==, 0xa0);
    memset(b, 0, sizeof(b));
    qcow2_rb_set(b, 3, 1, 2);
    g_assert_cmpuint(b[0], ==, 0x80);
    memset(b, 0, sizeof(b));
    qcow2_rb_set(b, 1, 4, 0x0102);
    g_assert_cmpuint(b[2], ==, 0x01);
    g_assert_cmpuint(b[3], ==, 0x02);
}

static void test_create_contract(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autofree char *path = fpath(f, "exists");
    g_assert_true(g_file_set_contents(path, "keep", 4, NULL));
    Qcow2CreateOptions opts = { .size = 1 << 20 };
    g_autoptr(GError) err = NULL;
    bool created = true;
    g_assert_false(qcow2_create(path, &opts, &created, &err));
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED);
    g_assert_false(created);
    g_assert_nonnull(strstr(err->message, path));
    g_clear_error(&err);

    g_autofree char *bad = fpath(f, "bad.qcow2");
    opts.cluster_bits = 22;
    g_assert_false(qcow2_create(bad, &opts, &created, &err));
    g_assert_false(created);
    g_assert_false(g_file_test(bad, G_FILE_TEST_EXISTS));
    g_clear_error(&err);

    opts.cluster_bits = 0;
    opts.backing_file = "base";
    opts.backing_format = "vmdk";
    g_assert_false(qcow2_create(bad, &opts, &created, &err));
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_INVALIDBLOCKFORMAT);
    g_clear_error(&err);

    g_autofree char *nodir = fpath(f, "nodir/x.qcow2");
    opts.backing_file = NULL;
    g_assert_false(qcow2_create(nodir, &opts, &created, &err));
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED);
    g_assert_false(created);
    g_clear_error(&err);

    g_autofree char *good = fpath(f, "good.qcow2");
    opts.sync = true;
    g_assert_true(qcow2_create(good, &opts, &created, &err));
    g_assert_true(created);
    g_assert_true(block_fsync_dir(good, &err));
    struct stat st;
    g_assert_cmpint(stat(good, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 3 * 65536 + 8);
}

static void test_open_errors(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) err = NULL;
    g_autofree char *missing = fpath(f, "missing");
    g_assert_null(block_node_open(missing, NULL, 0, &err));
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED);
    g_clear_error(&err);

    g_autofree char *raw = fpath(f, "disk.raw");
    g_assert_true(g_file_set_contents(raw, "0123456789", 10, NULL));
    g_assert_null(block_node_open(raw, "vmdk", 0, &err));
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_INVALIDBLOCKFORMAT);
    g_clear_error(&err);

    /* A raw file forced to qcow2. */
    g_assert_null(block_node_open(raw, "qcow2", 0, &err));
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR);
    g_assert_nonnull(strstr(err->message, raw));
    g_clear_error(&err);

    BlockFormat fmt;
    g_assert_true(block_format_from_name("qcow2", &fmt, NULL));
    g_assert_cmpint(fmt, ==, BLOCK_FORMAT_QCOW2);
    g_assert_cmpstr(block_format_name(BLOCK_FORMAT_RAW), ==, "raw");
    block_node_unref(NULL);
}

static void test_chain_and_getters(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) err = NULL;
    g_autofree char *base = fpath(f, "base.raw");
    g_autofree char *top = fpath(f, "top.qcow2");
    char pattern[4096];
    memset(pattern, 0xa5, sizeof(pattern));
    g_assert_true(g_file_set_contents(base, pattern, sizeof(pattern), NULL));
    create_qcow2(top, 1 << 20, 0, "base.raw", "raw");

    g_autoptr(BlockNode) node = block_node_open(top, NULL, 0, &err);
    g_assert_no_error(err);
    g_assert_cmpint(block_node_format(node), ==, BLOCK_FORMAT_QCOW2);
    g_assert_cmpuint(block_node_length(node), ==, 1 << 20);
    g_assert_cmpstr(block_node_filename(node), ==, top);
    g_assert_cmpstr(block_node_backing_name(node), ==, "base.raw");
    g_assert_cmpstr(block_node_full_backing_name(node), ==, base);
    g_assert_cmpstr(block_node_backing_format(node), ==, "raw");
    g_assert_cmpuint(block_node_cluster_size(node), ==, 65536);
    g_assert_false(block_node_is_dirty(node));
    g_assert_false(block_node_is_read_only(node));
    g_assert_cmpuint(block_node_backing_depth(node), ==, 1);
    BlockNode *b = block_node_backing(node);
    g_assert_nonnull(b);
    g_assert_cmpint(block_node_format(b), ==, BLOCK_FORMAT_RAW);
    g_assert_true(block_node_is_read_only(b));
    g_assert_cmpuint(block_node_length(b), ==, 4096);
    g_assert_cmpuint(block_node_cluster_size(b), ==, 0);
    g_assert_null(block_node_backing_name(b));
    g_assert_cmpint(block_node_actual_size(node), >, 0);
    struct stat st;
    g_assert_cmpint(stat(top, &st), ==, 0);
    dev_t dev;
    ino_t ino;
    block_node_file_id(node, &dev, &ino);
    g_assert_true(dev == st.st_dev && ino == st.st_ino);

    /* through the chain, zeros past the backing file's end */
    uint8_t buf[8192];
    g_assert_true(block_node_pread(node, 0, buf, sizeof(buf), &err));
    g_assert_cmpuint(buf[0], ==, 0xa5);
    g_assert_cmpuint(buf[4095], ==, 0xa5);
    g_assert_cmpuint(buf[4096], ==, 0);
    g_assert_cmpuint(buf[8191], ==, 0);

    /* out of range */
    g_assert_false(block_node_pread(node, (1 << 20) - 10, buf, 11, &err));
    g_clear_error(&err);
    g_assert_false(block_node_pwrite(node, UINT64_MAX - 1, buf, 11, &err));
    g_clear_error(&err);

    /* writes land in the top only */
    memset(buf, 0x5a, 100);
    g_assert_true(block_node_pwrite(node, 10, buf, 100, &err));
    g_assert_true(block_node_flush(node, &err));
    g_assert_true(block_node_pread(node, 0, buf, 4096, &err));
    g_assert_cmpuint(buf[9], ==, 0xa5);
    g_assert_cmpuint(buf[10], ==, 0x5a);
    g_assert_cmpuint(buf[110], ==, 0xa5);
    g_assert_true(block_node_pread(b, 0, buf, 4096, &err));
    g_assert_cmpuint(buf[10], ==, 0xa5);

    /* read-only in memory */
    block_node_set_read_only(node);
    g_assert_false(block_node_pwrite(node, 0, buf, 1, &err));
    g_assert_nonnull(strstr(err->message, "read-only"));
    g_clear_error(&err);
}

static void test_no_backing_and_set_backing(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) err = NULL;
    g_autofree char *base = fpath(f, "base.qcow2");
    g_autofree char *top = fpath(f, "top.qcow2");
    create_qcow2(base, 1 << 20, 12, NULL, NULL);
    {
        g_autoptr(BlockNode) b = block_node_open(base, "qcow2", 0, &err);
        g_assert_no_error(err);
        uint8_t bytes[3000];
        memset(bytes, 0x42, sizeof(bytes));
        g_assert_true(block_node_pwrite(b, 5000, bytes, sizeof(bytes), &err));
        g_assert_true(block_node_flush(b, &err));
    }
    create_qcow2(top, 1 << 20, 0, base, "qcow2");
    g_autoptr(BlockNode) node =
        block_node_open(top, "qcow2", BLOCK_OPEN_NO_BACKING, &err);
    g_assert_no_error(err);
    g_assert_null(block_node_backing(node));
    g_assert_cmpstr(block_node_backing_name(node), ==, base);
    uint8_t buf[8192];
    g_assert_true(block_node_pread(node, 0, buf, sizeof(buf), &err));
    g_assert_cmpuint(buf[5000], ==, 0);

    g_autoptr(BlockNode) b =
        block_node_open(base, NULL, BLOCK_OPEN_READ_ONLY, &err);
    g_assert_no_error(err);
    block_node_set_backing(node, b);
    g_assert_true(block_node_backing(node) == b);
    g_assert_cmpuint(block_node_backing_depth(node), ==, 1);
    g_assert_true(block_node_pread(node, 0, buf, sizeof(buf), &err));
    g_assert_cmpuint(buf[4999], ==, 0);
    g_assert_cmpuint(buf[5000], ==, 0x42);
    g_assert_cmpuint(buf[7999], ==, 0x42);
    g_assert_cmpuint(buf[8000], ==, 0);
    /* copy-on-write keeps the backing bytes around a small write */
    buf[0] = 0x99;
    g_assert_true(block_node_pwrite(node, 6000, buf, 1, &err));
    g_assert_true(block_node_pread(node, 0, buf, sizeof(buf), &err));
    g_assert_cmpuint(buf[5999], ==, 0x42);
    g_assert_cmpuint(buf[6000], ==, 0x99);
    g_assert_cmpuint(buf[6001], ==, 0x42);
    block_node_set_backing(node, NULL);
    g_assert_null(block_node_backing(node));
    g_assert_cmpuint(block_node_backing_depth(node), ==, 0);
}

/* Many small-cluster writes, several reopens: new refcount blocks and a
 * growing refcount table, checked by reading everything back. */
static void test_small_cluster_round_trip(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) err = NULL;
    g_autofree char *path = fpath(f, "small.qcow2");
    const size_t size = 12 << 20;
    create_qcow2(path, size, 9, NULL, NULL);
    g_autofree uint8_t *model = g_malloc0(size);
    g_autofree uint8_t *buf = g_malloc(size);
    GRand *rand = g_rand_new_with_seed(42);
    for (int session = 0; session < 3; session++) {
        g_autoptr(BlockNode) node = block_node_open(path, NULL, 0, &err);
        g_assert_no_error(err);
        for (int i = 0; i < 200; i++) {
            size_t len = (size_t)g_rand_int_range(rand, 1, 200000);
            size_t off =
                (size_t)g_rand_int_range(rand, 0, (gint32)(size - len));
            memset(model + off, g_rand_int_range(rand, 0, 256), len);
            g_assert_true(block_node_pwrite(node, off, model + off, len, &err));
            if (i % 50 == 0) {
                g_assert_true(block_node_flush(node, &err));
            }
        }
        g_assert_true(block_node_pread(node, 0, buf, size, &err));
        g_assert_true(memcmp(buf, model, size) == 0);
        g_assert_true(block_node_flush(node, &err));
    }
    g_rand_free(rand);
    g_autoptr(BlockNode) node =
        block_node_open(path, NULL, BLOCK_OPEN_READ_ONLY, &err);
    g_assert_no_error(err);
    g_assert_true(block_node_pread(node, 0, buf, size, &err));
    g_assert_true(memcmp(buf, model, size) == 0);
    /* the refcount table grew past its first cluster */
    uint8_t header[64];
    int fd = open(path, O_RDONLY);
    g_assert_cmpint(pread(fd, header, sizeof(header), 0), ==, 64);
    close(fd);
    uint32_t rt_clusters = (uint32_t)header[56] << 24
        | (uint32_t)header[57] << 16 | (uint32_t)header[58] << 8 | header[59];
    g_assert_cmpuint(rt_clusters, >, 1);
}

/* More metadata than the cache keeps (64 MiB): one L2 table of 512 bytes
 * per byte written, so the cache is written back and trimmed while
 * writing, and tables are read back from the file afterwards. */
static void test_cache_trim(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) err = NULL;
    g_autofree char *path = fpath(f, "sparse.qcow2");
    const uint64_t range = 32 * 1024; /* guest bytes per L2 table */
    const uint64_t count = 140000;
    create_qcow2(path, count * range, 9, NULL, NULL);
    {
        g_autoptr(BlockNode) node = block_node_open(path, NULL, 0, &err);
        g_assert_no_error(err);
        for (uint64_t i = 0; i < count; i++) {
            uint8_t byte = (uint8_t)(i * 31 + 7);
            g_assert_true(
                block_node_pwrite(node, i * range + i % 500, &byte, 1, &err));
        }
        for (uint64_t i = 0; i < count; i += 997) {
            uint8_t byte[2];
            g_assert_true(
                block_node_pread(node, i * range + i % 500, byte, 2, &err));
            g_assert_cmpuint(byte[0], ==, (uint8_t)(i * 31 + 7));
            g_assert_cmpuint(byte[1], ==, 0);
        }
        g_assert_true(block_node_flush(node, &err));
    }
    g_autoptr(BlockNode) node =
        block_node_open(path, NULL, BLOCK_OPEN_READ_ONLY, &err);
    g_assert_no_error(err);
    for (uint64_t i = 0; i < count; i++) {
        uint8_t byte;
        g_assert_true(
            block_node_pread(node, i * range + i % 500, &byte, 1, &err));
        g_assert_cmpuint(byte, ==, (uint8_t)(i * 31 + 7));
    }
}

/* Whether the kernel serves reads of PATH's cached pages without waiting. */
static bool nowait_reads_work(const char *path)
{
    char byte;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    int fd = open(path, O_RDONLY);
    ssize_t n;

    g_assert_cmpint(fd, >=, 0);
    n = preadv2(fd, &iov, 1, 0, RWF_NOWAIT);
    close(fd);
    return n == 1;
}

/*
 * block_node_pread_nowait(): the same bytes as block_node_pread() where
 * it succeeds; false past the end, for nothing, and where a read would
 * write (a qcow2 cluster whose copy-on-write is deferred).
 */
static void test_pread_nowait(Fixture *f, gconstpointer data)
{
    (void)data;
    g_autoptr(GError) err = NULL;
    g_autofree char *base = fpath(f, "base.raw");
    g_autofree char *top = fpath(f, "top.qcow2");
    g_autofree uint8_t *pattern = g_malloc(1 << 20);
    uint8_t buf[4096], want[4096];

    for (size_t i = 0; i < 1 << 20; i++) {
        pattern[i] = (uint8_t)(i * 13 + i / 4096);
    }
    g_assert_true(
        g_file_set_contents(base, (const char *)pattern, 1 << 20, NULL));
    create_qcow2(top, 1 << 20, 16, "base.raw", "raw");
    g_autoptr(BlockNode) node = block_node_open(top, NULL, 0, &err);
    g_assert_no_error(err);

    g_assert_false(block_node_pread_nowait(node, (1 << 20) - 100, buf, 4096));
    g_assert_false(block_node_pread_nowait(node, 0, buf, 0));

    /* Half a cluster written: the other half's copy waits for a write. */
    memset(want, 0xa5, sizeof(want));
    g_assert_true(block_node_pwrite(node, 65536, want, sizeof(want), &err));
    g_assert_false(block_node_pread_nowait(node, 65536, buf, sizeof(buf)));
    g_assert_false(block_node_pread_nowait(node, 100000, buf, sizeof(buf)));
    if (!nowait_reads_work(base)) {
        g_test_skip("no RWF_NOWAIT reads on this file system");
        return;
    }
    /* From the backing file, through the overlay's tables. */
    g_assert_true(block_node_pread_nowait(node, 8192, buf, sizeof(buf)));
    g_assert_cmpmem(buf, sizeof(buf), pattern + 8192, sizeof(buf));
    /* Once written back, the overlay's own cluster too. */
    g_assert_true(block_node_flush(node, &err));
    g_assert_true(block_node_pread_nowait(node, 65536, buf, sizeof(buf)));
    g_assert_cmpmem(buf, sizeof(buf), want, sizeof(want));
    g_assert_true(block_node_pread(node, 100000, want, sizeof(want), &err));
    g_assert_true(block_node_pread_nowait(node, 100000, buf, sizeof(buf)));
    g_assert_cmpmem(buf, sizeof(buf), want, sizeof(want));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/block/refcount-widths", test_refcount_widths);
    g_test_add("/block/pread-nowait", Fixture, NULL, fixture_setup,
               test_pread_nowait, fixture_teardown);
    g_test_add("/block/create-contract", Fixture, NULL, fixture_setup,
               test_create_contract, fixture_teardown);
    g_test_add("/block/open-errors", Fixture, NULL, fixture_setup,
               test_open_errors, fixture_teardown);
    g_test_add("/block/chain-and-getters", Fixture, NULL, fixture_setup,
               test_chain_and_getters, fixture_teardown);
    g_test_add("/block/no-backing-and-set-backing", Fixture, NULL,
               fixture_setup, test_no_backing_and_set_backing,
               fixture_teardown);
    g_test_add("/block/small-cluster-round-trip", Fixture, NULL, fixture_setup,
               test_small_cluster_round_trip, fixture_teardown);
    g_test_add("/block/cache-trim", Fixture, NULL, fixture_setup,
               test_cache_trim, fixture_teardown);
    return g_test_run();
}
