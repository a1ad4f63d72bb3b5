/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: opening a qcow2 image and reading it (<qapikit/block.h>),
 * docs/spec/qcow2-format.md §1-§5 and §9.
 *
 * Input: the image file, written to a scratch directory, opened
 * read-only as qcow2 without its backing chain, and read cluster by
 * cluster: every cluster when that takes at most 256 reads and 1 MiB,
 * else clusters evenly spread within those bounds (so that a large
 * virtual size costs no more than a small one), then the last cluster
 * and one read across the first cluster boundary.  When the image names a backing
 * file that is a plain name (no '/', not starting with '.'), it is
 * opened again with its chain and read again: the scratch directory
 * holds "backing.raw" (64 KiB) and "backing.qcow2" (64 KiB, 512-byte
 * clusters, over backing.raw), for the seeds to name.  Names with '/'
 * are never followed, so a mutated name cannot reach other files.
 *
 * Checked: every call that fails sets an error in the QAPI domain, and
 * every call that succeeds sets none.
 */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qapikit/block.h>
#include <qapikit/error.h>

#define READ_BUDGET ((uint64_t)1024 * 1024)
#define MAX_READS 256

static const char *scratch_dir;
static char *image_path;
static uint8_t *buffer; /* READ_BUDGET bytes */

static void check_error(bool ok, GError **err, const char *what)
{
    if (ok && *err) {
        fuzz_fail("%s succeeded with an error set: %s", what, (*err)->message);
    }
    if (!ok && (!*err || (*err)->domain != QAPI_ERROR)) {
        fuzz_fail("%s failed without a QAPI error", what);
    }
    g_clear_error(err);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *raw = NULL;
    g_autofree char *qcow2 = NULL;
    Qcow2CreateOptions opts = {
        .size = 65536,
        .cluster_bits = 9,
        .backing_file = "backing.raw",
        .backing_format = "raw",
    };
    g_autoptr(BlockNode) node = NULL;
    uint8_t pattern[65536];
    bool created;

    (void)argc;
    (void)argv;
    fuzz_init();
    scratch_dir = fuzz_scratch_dir("qapikit-fuzz-qcow2");
    image_path = g_build_filename(scratch_dir, "image.qcow2", NULL);
    buffer = g_malloc(READ_BUDGET);

    raw = g_build_filename(scratch_dir, "backing.raw", NULL);
    for (size_t i = 0; i < sizeof(pattern); i++) {
        pattern[i] = (uint8_t)(i / 512 + 1);
    }
    if (!g_file_set_contents(raw, (const char *)pattern, sizeof(pattern),
                             &err)) {
        fuzz_setup_failed("backing.raw", err);
    }
    qcow2 = g_build_filename(scratch_dir, "backing.qcow2", NULL);
    if (!qcow2_create(qcow2, &opts, &created, &err)) {
        fuzz_setup_failed("backing.qcow2", err);
    }
    node = block_node_open(qcow2, "qcow2", BLOCK_OPEN_READ_WRITE, &err);
    memset(pattern, 0xa5, 1536);
    if (!node || !block_node_pwrite(node, 1024, pattern, 1536, &err)
        || !block_node_flush(node, &err)) {
        fuzz_setup_failed("backing.qcow2", err);
    }
    return 0;
}

static void read_range(BlockNode *node, uint64_t offset, uint64_t len)
{
    g_autoptr(GError) err = NULL;
    bool ok;

    if (len > READ_BUDGET) {
        len = READ_BUDGET;
    }
    ok = block_node_pread(node, offset, buffer, len, &err);
    check_error(ok, &err, "block_node_pread");
}

/* Read NODE's virtual disk within the budget (see the top of the file). */
static void read_disk(BlockNode *node)
{
    uint64_t len = block_node_length(node);
    uint64_t cs = block_node_cluster_size(node);
    uint64_t clusters, reads, stride;

    if (cs == 0 || len == 0) {
        return;
    }
    if (cs > READ_BUDGET) {
        cs = READ_BUDGET;
    }
    clusters = len / cs + (len % cs != 0);
    reads = READ_BUDGET / cs;
    if (reads > MAX_READS) {
        reads = MAX_READS;
    }
    stride = clusters <= reads ? 1 : clusters / reads;
    for (uint64_t i = 0; i < clusters; i += stride) {
        read_range(node, i * cs, MIN(cs, len - i * cs));
    }
    read_range(node, (clusters - 1) * cs, len - (clusters - 1) * cs);
    if (clusters >= 2) {
        read_range(node, cs - 256, MIN((uint64_t)512, len - (cs - 256)));
    }
}

static bool write_image(const uint8_t *data, size_t size)
{
    int fd = open(image_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t done = 0;

    if (fd < 0) {
        return false;
    }
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            close(fd);
            return false;
        }
        done += (size_t)n;
    }
    return close(fd) == 0;
}

/* Whether the backing name NAME is one this target follows. */
static bool plain_name(const char *name)
{
    return name && name[0] && name[0] != '.' && !strchr(name, '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) err = NULL;
    BlockNode *node;
    bool follow;

    if (!write_image(data, size)) {
        fuzz_fail("cannot write %s: %s", image_path, g_strerror(errno));
    }
    node = block_node_open(image_path, "qcow2",
                           BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_NO_BACKING, &err);
    check_error(node != NULL, &err, "block_node_open");
    if (!node) {
        return 0;
    }
    read_disk(node);
    follow = plain_name(block_node_backing_name(node));
    block_node_unref(node);
    if (!follow) {
        return 0;
    }
    node = block_node_open(image_path, "qcow2", BLOCK_OPEN_READ_ONLY, &err);
    check_error(node != NULL, &err, "block_node_open with backing");
    if (node) {
        read_disk(node);
        block_node_unref(node);
    }
    return 0;
}
