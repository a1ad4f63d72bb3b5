/* SPDX-License-Identifier: MIT */
/*
 * The group snapshot through the C API (<qapikit/block-device.h>):
 * groups of 1, 2 and 16 devices, every failure class with its class and
 * desc, a fault injected at every failure point of phase 1 in turn, and
 * after each failure: devices on their old tops, no new file, old files
 * byte-identical, and a retry that succeeds.  qemu-img is the oracle
 * for the overlays when it is installed.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <qapikit/error.h>

#include "blockdev-test-util.h"

/* An entry for device I onto DIR/NAME. */
static BlockSnapshotEntry entry(const char *device, const char *file)
{
    BlockSnapshotEntry e = {
        .action = BLOCK_SNAPSHOT_ACTION_SNAPSHOT,
        .device = device,
        .snapshot_file = file,
    };

    return e;
}

/* What must not change when a group fails. */
typedef struct Before {
    char *tops;
    char *digest;
} Before;

static void before_take(Before *b, const TestDisks *t)
{
    b->tops = test_tops(t->reg);
    b->digest = test_dir_digest(t->dir);
}

static void before_check(Before *b, const TestDisks *t)
{
    g_autofree char *tops = test_tops(t->reg);
    g_autofree char *digest = test_dir_digest(t->dir);

    g_assert_cmpstr(tops, ==, b->tops);
    g_assert_cmpstr(digest, ==, b->digest);
    g_free(b->tops);
    g_free(b->digest);
}

/* Snapshot every device of T onto DIR/diskI.SUFFIX.qcow2 and check. */
static void snapshot_all(TestDisks *t, const char *suffix)
{
    g_autoptr(GError) err = NULL;
    g_autofree BlockSnapshotEntry *entries = g_new0(BlockSnapshotEntry, t->n);
    g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) old = g_ptr_array_new_with_free_func(g_free);
    g_autofree unsigned *depth = g_new0(unsigned, t->n);

    for (size_t i = 0; i < t->n; i++) {
        BlockNode *top = block_device_top(block_registry_nth(t->reg, i));
        g_autofree char *name = g_strdup_printf("disk%zu.%s.qcow2", i, suffix);

        g_ptr_array_add(ids, g_strdup_printf("disk%zu", i));
        g_ptr_array_add(files, test_path(t, name));
        g_ptr_array_add(old, g_strdup(block_node_filename(top)));
        depth[i] = block_node_backing_depth(top);
        entries[i] = entry(ids->pdata[i], files->pdata[i]);
    }
    g_assert_true(block_snapshot_group(t->reg, entries, t->n, NULL, &err));
    g_assert_no_error(err);
    for (size_t i = 0; i < t->n; i++) {
        BlockNode *top = block_device_top(block_registry_nth(t->reg, i));
        BlockNode *backing = block_node_backing(top);
        struct stat st;

        g_assert_cmpstr(block_node_filename(top), ==, files->pdata[i]);
        g_assert_cmpint(block_node_format(top), ==, BLOCK_FORMAT_QCOW2);
        g_assert_false(block_node_is_read_only(top));
        g_assert_nonnull(backing);
        g_assert_cmpstr(block_node_filename(backing), ==, old->pdata[i]);
        g_assert_true(block_node_is_read_only(backing));
        g_assert_cmpuint(block_node_backing_depth(top), ==, depth[i] + 1);
        g_assert_cmpuint(block_node_length(top), ==, TEST_DISK_SIZE);
        g_assert_cmpint(g_stat(files->pdata[i], &st), ==, 0);
        g_assert_cmpint(st.st_size, ==, TEST_OVERLAY_SIZE);
    }
}

/* Guest content of device I is still all 'a' + I. */
static void check_content(TestDisks *t, size_t i)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *buf = g_malloc(TEST_DISK_SIZE);
    BlockDevice *dev = block_registry_nth(t->reg, i);

    g_assert_true(block_device_pread(dev, 0, buf, TEST_DISK_SIZE, &err));
    g_assert_no_error(err);
    for (size_t k = 0; k < TEST_DISK_SIZE; k++) {
        if (buf[k] != (char)('a' + i % 26)) {
            g_error("disk%zu: byte %zu is %d", i, k, buf[k]);
        }
    }
}

static void test_group(size_t n, bool mixed)
{
    TestDisks t;

    test_disks_init(&t, n, mixed);
    snapshot_all(&t, "s1");
    snapshot_all(&t, "s2");
    for (size_t i = 0; i < n; i++) {
        check_content(&t, i);
    }
    test_disks_cleanup(&t);
}

static void test_group_1(void)
{
    test_group(1, false);
}

static void test_group_2_mixed(void)
{
    test_group(2, true);
}

static void test_group_16(void)
{
    test_group(16, true);
}

static void test_empty_group(void)
{
    TestDisks t;
    Before b;
    g_autoptr(GError) err = NULL;

    test_disks_init(&t, 2, false);
    before_take(&b, &t);
    g_assert_true(block_snapshot_group(t.reg, NULL, 0, NULL, &err));
    g_assert_no_error(err);
    before_check(&b, &t);
    test_disks_cleanup(&t);
}

/* Writes after a snapshot land in the overlay; the old image is frozen. */
static void test_write_after_snapshot(void)
{
    TestDisks t;
    g_autoptr(GError) err = NULL;
    g_autofree char *base = NULL;
    g_autofree char *sum_before = NULL;
    g_autofree char *sum_after = NULL;
    char buf[4096];
    char back[4096];
    BlockDevice *dev;

    test_disks_init(&t, 2, true);
    base = g_strdup(
        block_node_filename(block_device_top(block_registry_nth(t.reg, 1))));
    sum_before = test_sha256_file(base);
    snapshot_all(&t, "s1");
    dev = block_registry_nth(t.reg, 1);
    memset(buf, 'Z', sizeof(buf));
    g_assert_true(
        block_device_pwrite(dev, 65536 + 100, buf, sizeof(buf), &err));
    g_assert_true(block_device_flush(dev, &err));
    g_assert_no_error(err);
    sum_after = test_sha256_file(base);
    g_assert_cmpstr(sum_before, ==, sum_after);
    g_assert_true(
        block_device_pread(dev, 65536 + 100, back, sizeof(back), &err));
    g_assert_cmpmem(back, sizeof(back), buf, sizeof(buf));
    /* Around the write: still the old content (copy-on-write). */
    g_assert_true(block_device_pread(dev, 65536, back, 100, &err));
    for (size_t k = 0; k < 100; k++) {
        g_assert_cmpint(back[k], ==, 'b');
    }
    /* Beyond the device: refused. */
    g_assert_false(block_device_pwrite(dev, TEST_DISK_SIZE - 1, buf, 2, &err));
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR);

    if (test_have_qemu_img()) {
        g_autofree char *overlay = test_path(&t, "disk1.s1.qcow2");
        const char *compare[] = { "compare", "-U", "-q", base, overlay, NULL };

        /* The overlay differs now: exit 1. */
        g_assert_cmpint(test_qemu_img(NULL, compare), ==, 1);
    }
    test_disks_cleanup(&t);
}

/* qemu-img check and info --backing-chain on every overlay. */
static void test_qemu_img_oracle(void)
{
    TestDisks t;

    if (!test_have_qemu_img()) {
        g_test_skip("qemu-img is not installed");
        return;
    }
    test_disks_init(&t, 2, true);
    snapshot_all(&t, "s1");
    snapshot_all(&t, "s2");
    for (size_t i = 0; i < 2; i++) {
        g_autofree char *name = g_strdup_printf("disk%zu.s2.qcow2", i);
        g_autofree char *mid_name = g_strdup_printf("disk%zu.s1.qcow2", i);
        g_autofree char *path = test_path(&t, name);
        g_autofree char *mid = test_path(&t, mid_name);
        g_autofree char *base =
            g_strdup_printf("%s/disk%zu.%s", t.dir, i, i ? "raw" : "qcow2");
        g_autofree char *out = NULL;
        const char *check[] = { "check", "-U", path, NULL };
        const char *info[] = { "info", "-U", "--backing-chain", path, NULL };
        const char *compare[] = { "compare", "-U", "-q", path, base, NULL };

        g_assert_cmpint(test_qemu_img(NULL, check), ==, 0);
        g_assert_cmpint(test_qemu_img(&out, info), ==, 0);
        g_assert_nonnull(strstr(out, mid));
        g_assert_nonnull(strstr(out, base));
        g_assert_nonnull(
            strstr(out, i ? "file format: raw" : "file format: qcow2"));
        g_assert_cmpint(test_qemu_img(NULL, compare), ==, 0);
    }
    test_disks_cleanup(&t);
}

/* A failing request: its class and desc, and nothing changed. */
static void expect_failure(TestDisks *t, const BlockSnapshotEntry *entries,
                           size_t n, int code, const char *desc)
{
    g_autoptr(GError) err = NULL;
    Before b;

    before_take(&b, t);
    g_assert_false(block_snapshot_group(t->reg, entries, n, NULL, &err));
    g_assert_nonnull(err);
    if (err->code != code || strcmp(err->message, desc) != 0) {
        g_error("expected class %d '%s', got %d '%s'", code, desc, err->code,
                err->message);
    }
    g_assert_true(err->domain == QAPI_ERROR);
    before_check(&b, t);
}

static void test_failure_classes(void)
{
    TestDisks t;
    g_autofree char *f0 = NULL, *f1 = NULL, *f1b = NULL, *exists = NULL;
    g_autofree char *desc = NULL, *base1 = NULL, *missing = NULL;
    g_autoptr(GError) err = NULL;
    BlockSnapshotEntry e[3];

    test_disks_init(&t, 3, true);
    f0 = test_path(&t, "disk0.s1.qcow2");
    f1 = test_path(&t, "disk1.s1.qcow2");
    f1b = g_strdup_printf("%s/./disk1.s1.qcow2", t.dir);
    exists = test_path(&t, "notes.txt");
    base1 = test_path(&t, "disk1.raw");
    missing = test_path(&t, "no-such-dir/disk2.s1.qcow2");
    g_assert_true(g_file_set_contents(exists, "keep me\n", -1, NULL));

    /* Unknown device, after a valid entry: DeviceNotFound. */
    e[0] = entry("disk0", f0);
    e[1] = entry("disk9", f1);
    expect_failure(&t, e, 2, QAPI_ERROR_CLASS_DEVICENOTFOUND,
                   "device 'disk9' not found");

    /* Same device twice: DeviceInUse. */
    e[1] = entry("disk0", f1);
    expect_failure(&t, e, 2, QAPI_ERROR_CLASS_DEVICEINUSE,
                   "disk0: the device is listed twice in one group");

    /* Same file twice, spelled differently: OpenFileFailed. */
    e[0] = entry("disk0", f1);
    e[1] = entry("disk1", f1b);
    desc = g_strdup_printf("disk1: snapshot file '%s' is also the snapshot "
                           "file of device 'disk0'",
                           f1b);
    expect_failure(&t, e, 2, QAPI_ERROR_CLASS_OPENFILEFAILED, desc);
    g_clear_pointer(&desc, g_free);

    /* Same new file through a symlinked directory. */
    {
        g_autofree char *alias = test_path(&t, "alias");
        g_autofree char *f1c = g_strdup_printf("%s/disk1.s1.qcow2", alias);

        g_assert_cmpint(symlink(t.dir, alias), ==, 0);
        e[0] = entry("disk0", f1);
        e[1] = entry("disk1", f1c);
        desc = g_strdup_printf("disk1: snapshot file '%s' is also the "
                               "snapshot file of device 'disk0'",
                               f1c);
        expect_failure(&t, e, 2, QAPI_ERROR_CLASS_OPENFILEFAILED, desc);
        g_clear_pointer(&desc, g_free);
        g_assert_cmpint(g_unlink(alias), ==, 0);
    }

    /* Formats: raw and unknown are InvalidBlockFormat. */
    e[0] = entry("disk0", f0);
    e[1] = entry("disk1", f1);
    e[1].format = "raw";
    desc = g_strdup_printf("disk1: snapshot file '%s' cannot be 'raw': a "
                           "raw image has no backing file; use 'qcow2'",
                           f1);
    expect_failure(&t, e, 2, QAPI_ERROR_CLASS_INVALIDBLOCKFORMAT, desc);
    g_clear_pointer(&desc, g_free);
    e[1].format = "vmdk";
    desc = g_strdup_printf("disk1: unknown format 'vmdk' for snapshot file "
                           "'%s' (only 'qcow2' is supported)",
                           f1);
    expect_failure(&t, e, 2, QAPI_ERROR_CLASS_INVALIDBLOCKFORMAT, desc);
    g_clear_pointer(&desc, g_free);
    e[1].format = "qcow2";

    /* An existing file is never overwritten. */
    e[1] = entry("disk1", exists);
    desc = g_strdup_printf("disk1: snapshot file '%s' already exists", exists);
    expect_failure(&t, e, 2, QAPI_ERROR_CLASS_OPENFILEFAILED, desc);
    g_clear_pointer(&desc, g_free);

    /* An image of a chain, in mode existing (it exists, so the exists
     * check does not catch it first). */
    e[1] = entry("disk1", base1);
    e[1].mode = BLOCK_SNAPSHOT_MODE_EXISTING;
    desc = g_strdup_printf("disk1: snapshot file '%s' is an image of "
                           "device 'disk1'",
                           base1);
    expect_failure(&t, e, 2, QAPI_ERROR_CLASS_OPENFILEFAILED, desc);
    g_clear_pointer(&desc, g_free);

    /* Mode existing: a missing file. */
    e[1] = entry("disk1", f1);
    e[1].mode = BLOCK_SNAPSHOT_MODE_EXISTING;
    desc = g_strdup_printf("disk1: snapshot file '%s' does not exist (mode "
                           "'existing')",
                           f1);
    expect_failure(&t, e, 2, QAPI_ERROR_CLASS_OPENFILEFAILED, desc);
    g_clear_pointer(&desc, g_free);

    /* Mode existing: not a qcow2 image. */
    e[1] = entry("disk1", exists);
    e[1].mode = BLOCK_SNAPSHOT_MODE_EXISTING;
    {
        g_autoptr(GError) local = NULL;
        Before b;

        before_take(&b, &t);
        g_assert_false(block_snapshot_group(t.reg, e, 2, NULL, &local));
        g_assert_error(local, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED);
        g_assert_true(g_str_has_prefix(local->message, "disk1: "));
        g_assert_nonnull(strstr(local->message, exists));
        before_check(&b, &t);
    }

    /* A missing directory for the last entry: the first two overlays
     * were created, and are gone again. */
    e[1] = entry("disk1", f1);
    e[2] = entry("disk2", missing);
    {
        g_autoptr(GError) local = NULL;
        Before b;

        before_take(&b, &t);
        g_assert_false(block_snapshot_group(t.reg, e, 3, NULL, &local));
        g_assert_error(local, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED);
        g_assert_true(g_str_has_prefix(local->message, "disk2: "));
        g_assert_nonnull(strstr(local->message, missing));
        before_check(&b, &t);
    }

    /* An abort action after two snapshots. */
    e[2].action = BLOCK_SNAPSHOT_ACTION_ABORT;
    expect_failure(&t, e, 3, QAPI_ERROR_CLASS_GENERICERROR,
                   "action 2 is 'abort': transaction aborted");

    /* Neither device nor node name. */
    e[2] = entry(NULL, missing);
    expect_failure(&t, e, 3, QAPI_ERROR_CLASS_GENERICERROR,
                   "snapshot 2: give exactly one of 'device' and "
                   "'node-name'");

    /* The retry with corrected input succeeds. */
    e[2] = entry("disk2", missing);
    {
        g_autofree char *dir = g_path_get_dirname(missing);

        g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
    }
    g_assert_true(block_snapshot_group(t.reg, e, 3, NULL, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(
        block_node_filename(block_device_top(block_registry_nth(t.reg, 2))), ==,
        missing);
    test_disks_cleanup(&t);
}

/* The device's own active image and a hard link to it. */
static void test_target_in_use(void)
{
    TestDisks t;
    g_autofree char *base0 = NULL, *hardlink = NULL, *desc = NULL;
    BlockSnapshotEntry e[1];

    test_disks_init(&t, 2, false);
    base0 = test_path(&t, "disk0.qcow2");
    hardlink = test_path(&t, "link.qcow2");
    g_assert_cmpint(link(base0, hardlink), ==, 0);
    e[0] = entry("disk1", hardlink);
    e[0].mode = BLOCK_SNAPSHOT_MODE_EXISTING;
    desc = g_strdup_printf("disk1: snapshot file '%s' is an image of "
                           "device 'disk0'",
                           hardlink);
    expect_failure(&t, e, 1, QAPI_ERROR_CLASS_OPENFILEFAILED, desc);
    test_disks_cleanup(&t);
}

/* A backing name over 1023 bytes cannot be recorded. */
static void test_long_backing_name(void)
{
    TestDisks t;
    g_autoptr(GError) err = NULL;
    g_autoptr(GString) dir = NULL;
    g_autofree char *image = NULL, *target = NULL, *desc = NULL;
    Qcow2CreateOptions opts = { .size = TEST_DISK_SIZE };
    bool created;
    BlockSnapshotEntry e[1];

    test_disks_init(&t, 0, false);
    dir = g_string_new(t.dir);
    for (int i = 0; i < 6; i++) {
        g_string_append_c(dir, '/');
        for (int k = 0; k < 200; k++) {
            g_string_append_c(dir, 'd');
        }
        g_assert_cmpint(g_mkdir(dir->str, 0755), ==, 0);
    }
    image = g_strdup_printf("%s/long.qcow2", dir->str);
    g_assert_true(qcow2_create(image, &opts, &created, &err));
    g_assert_nonnull(
        block_registry_add_drive(t.reg, "long", image, "qcow2", false, &err));
    target = test_path(&t, "long.s1.qcow2");
    e[0] = entry("long", target);
    desc = g_strdup_printf("long: snapshot file '%s' cannot record the "
                           "device's image name as its backing file: it "
                           "is longer than 1023 bytes",
                           target);
    expect_failure(&t, e, 1, QAPI_ERROR_CLASS_OPENFILEFAILED, desc);
    test_disks_cleanup(&t);
}

/* Mode existing: an overlay qemu-img (or we) made beforehand. */
static void test_mode_existing(void)
{
    TestDisks t;
    g_autoptr(GError) err = NULL;
    g_autofree char *base0 = NULL, *pre = NULL, *wrong = NULL, *desc = NULL;
    g_autofree char *sum = NULL, *sum_after = NULL;
    Qcow2CreateOptions opts = { .size = TEST_DISK_SIZE,
                                .backing_format = "qcow2" };
    bool created;
    BlockSnapshotEntry e[1];

    test_disks_init(&t, 2, false);
    base0 = test_path(&t, "disk0.qcow2");
    pre = test_path(&t, "pre.qcow2");
    wrong = test_path(&t, "wrong.qcow2");
    opts.backing_file = base0;
    g_assert_true(qcow2_create(pre, &opts, &created, &err));
    opts.backing_file = test_path(&t, "disk1.qcow2");
    g_assert_true(qcow2_create(wrong, &opts, &created, &err));
    g_free((char *)opts.backing_file);

    /* Backing file of another image: refused, file kept. */
    e[0] = entry("disk0", wrong);
    e[0].mode = BLOCK_SNAPSHOT_MODE_EXISTING;
    sum = test_sha256_file(wrong);
    {
        g_autoptr(GError) local = NULL;
        Before b;

        before_take(&b, &t);
        g_assert_false(block_snapshot_group(t.reg, e, 1, NULL, &local));
        g_assert_error(local, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED);
        desc = g_strdup_printf("disk0: snapshot file '%s' has backing file "
                               "'%s/disk1.qcow2', not the device's image "
                               "'%s'",
                               wrong, t.dir, base0);
        g_assert_cmpstr(local->message, ==, desc);
        before_check(&b, &t);
    }
    sum_after = test_sha256_file(wrong);
    g_assert_cmpstr(sum, ==, sum_after);

    /* The right one: used as is. */
    g_free(sum);
    sum = test_sha256_file(pre);
    e[0] = entry("disk0", pre);
    e[0].mode = BLOCK_SNAPSHOT_MODE_EXISTING;
    g_assert_true(block_snapshot_group(t.reg, e, 1, NULL, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(
        block_node_filename(block_device_top(block_registry_nth(t.reg, 0))), ==,
        pre);
    g_free(sum_after);
    sum_after = test_sha256_file(pre);
    g_assert_cmpstr(sum, ==, sum_after);
    check_content(&t, 0);
    test_disks_cleanup(&t);
}

/* A read-only device stays read-only on its overlay. */
static void test_read_only_device(void)
{
    TestDisks t;
    g_autoptr(GError) err = NULL;
    g_autofree char *image = NULL, *overlay = NULL;
    BlockSnapshotEntry e[1];
    BlockDevice *dev;
    char byte = 'x';

    test_disks_init(&t, 1, false);
    /* A copy of disk0's image: disk0 writes its own. */
    {
        g_autofree char *base0 = test_path(&t, "disk0.qcow2");
        g_autofree char *data = NULL;
        gsize len;

        image = test_path(&t, "ro.qcow2");
        g_assert_true(g_file_get_contents(base0, &data, &len, NULL));
        g_assert_true(g_file_set_contents(image, data, (gssize)len, NULL));
    }
    overlay = test_path(&t, "ro.s1.qcow2");
    dev = block_registry_add_drive(t.reg, "ro", image, "qcow2", true, &err);
    g_assert_nonnull(dev);
    e[0] = entry("ro", overlay);
    g_assert_true(block_snapshot_group(t.reg, e, 1, NULL, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(block_node_filename(block_device_top(dev)), ==, overlay);
    g_assert_true(block_node_is_read_only(block_device_top(dev)));
    g_assert_false(block_device_pwrite(dev, 0, &byte, 1, &err));
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR);
    g_assert_true(block_device_pread(dev, 0, &byte, 1, NULL));
    g_assert_cmpint(byte, ==, 'a');
    test_disks_cleanup(&t);
}

/* Node names: snapshot-node-name, then addressing by node-name. */
static void test_node_names(void)
{
    TestDisks t;
    g_autoptr(GError) err = NULL;
    g_autofree char *f1 = NULL, *f2 = NULL;
    BlockSnapshotEntry e[1];

    test_disks_init(&t, 2, false);
    f1 = test_path(&t, "disk0.s1.qcow2");
    f2 = test_path(&t, "disk0.s2.qcow2");
    e[0] = entry("disk0", f1);
    e[0].snapshot_node_name = "snap1";
    g_assert_true(block_snapshot_group(t.reg, e, 1, NULL, &err));
    g_assert_cmpstr(block_device_node_name(block_registry_nth(t.reg, 0)), ==,
                    "snap1");
    e[0] = entry(NULL, f2);
    e[0].node_name = "nope";
    expect_failure(&t, e, 1, QAPI_ERROR_CLASS_DEVICENOTFOUND,
                   "no device's image has node name 'nope'");
    e[0].node_name = "snap1";
    e[0].snapshot_node_name = "snap1";
    expect_failure(&t, e, 1, QAPI_ERROR_CLASS_GENERICERROR,
                   "disk0: node name 'snap1' is already in use");
    e[0].snapshot_node_name = "snap2";
    g_assert_true(block_snapshot_group(t.reg, e, 1, NULL, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(
        block_node_filename(block_device_top(block_registry_nth(t.reg, 0))), ==,
        f2);
    test_disks_cleanup(&t);
}

/* Failure injection: each point of phase 1 fails in turn. */
typedef struct Fault {
    BlockSnapshotFault fault;
    size_t index;
    bool named; /* as without O_TMPFILE: overlays made at their names */
    unsigned hits;
} Fault;

static bool fault_hook(BlockSnapshotFault fault, size_t index, void *opaque)
{
    Fault *f = opaque;

    if (fault == BLOCK_SNAPSHOT_FAULT_NO_TMPFILE) {
        return f->named;
    }
    if (fault == f->fault && index == f->index) {
        f->hits++;
        return true;
    }
    return false;
}

/* The size of the journal of STATE_DIR. */
static goffset journal_size(const char *state_dir)
{
    g_autofree char *path = g_build_filename(state_dir, "blockd-journal", NULL);
    struct stat st;

    g_assert_cmpint(stat(path, &st), ==, 0);
    return st.st_size;
}

static void test_fault_injection(void)
{
    static const int classes[] = {
        [BLOCK_SNAPSHOT_FAULT_FLUSH] = QAPI_ERROR_CLASS_GENERICERROR,
        [BLOCK_SNAPSHOT_FAULT_CREATE] = QAPI_ERROR_CLASS_OPENFILEFAILED,
        [BLOCK_SNAPSHOT_FAULT_OPEN] = QAPI_ERROR_CLASS_OPENFILEFAILED,
        [BLOCK_SNAPSHOT_FAULT_FSYNC_DIR] = QAPI_ERROR_CLASS_OPENFILEFAILED,
        [BLOCK_SNAPSHOT_FAULT_STATE_WRITE] = QAPI_ERROR_CLASS_GENERICERROR,
        [BLOCK_SNAPSHOT_FAULT_STATE_RENAME] = QAPI_ERROR_CLASS_GENERICERROR,
    };
    TestDisks t;
    g_autoptr(GError) err = NULL;
    g_autofree char *state_dir = NULL;
    unsigned round = 0;

    test_disks_init(&t, 3, true);
    state_dir = test_path(&t, "state");
    g_assert_true(block_registry_load_state(t.reg, state_dir, &err));
    g_assert_no_error(err);
    for (int run = 0; run < 2 * BLOCK_SNAPSHOT_FAULT__MAX; run++) {
        BlockSnapshotFault fault = run % BLOCK_SNAPSHOT_FAULT__MAX;
        bool named = run >= BLOCK_SNAPSHOT_FAULT__MAX;
        bool group_wide = fault >= BLOCK_SNAPSHOT_FAULT_FSYNC_DIR;

        if (fault == BLOCK_SNAPSHOT_FAULT_NO_TMPFILE) {
            continue; /* not a failure: NAMED runs every fault both ways */
        }
        for (size_t index = 0; index < (group_wide ? 1 : 3); index++) {
            Fault f = { .fault = fault, .index = index, .named = named };
            g_autofree char *state_file =
                g_build_filename(state_dir, BLOCK_STATE_FILE, NULL);
            g_autofree char *state_sum = test_sha256_file(state_file);
            g_autofree char *state_after = NULL;
            g_autofree char *suffix = g_strdup_printf("r%u", round++);
            g_autofree char *state_list = test_list_dir(state_dir);
            g_autofree char *state_list_after = NULL;
            g_autoptr(GError) local = NULL;
            BlockSnapshotEntry e[3];
            char *files[3];
            Before b;

            for (size_t i = 0; i < 3; i++) {
                g_autofree char *name =
                    g_strdup_printf("disk%zu.%s.qcow2", i, suffix);

                files[i] = test_path(&t, name);
            }
            e[0] = entry("disk0", files[0]);
            e[1] = entry("disk1", files[1]);
            e[2] = entry("disk2", files[2]);
            before_take(&b, &t);
            block_registry_set_fault_hook(t.reg, fault_hook, &f);
            g_assert_false(block_snapshot_group(t.reg, e, 3, NULL, &local));
            block_registry_set_fault_hook(t.reg, NULL, NULL);
            g_assert_cmpuint(f.hits, ==, 1);
            g_assert_error(local, QAPI_ERROR, classes[fault]);
            g_test_message("fault %d at %zu%s: %s", fault, index,
                           named ? " (named)" : "", local->message);
            before_check(&b, &t);
            state_after = test_sha256_file(state_file);
            g_assert_cmpstr(state_sum, ==, state_after);
            state_list_after = test_list_dir(state_dir);
            g_assert_cmpstr(state_list, ==, state_list_after);
            g_assert_cmpint(journal_size(state_dir), ==, 0);

            /* The retry succeeds and the state follows it. */
            g_assert_true(block_snapshot_group(t.reg, e, 3, NULL, &err));
            g_assert_no_error(err);
            g_free(state_after);
            state_after = test_sha256_file(state_file);
            g_assert_cmpstr(state_sum, !=, state_after);
            for (size_t i = 0; i < 3; i++) {
                g_free(files[i]);
            }
        }
    }
    for (size_t i = 0; i < 3; i++) {
        check_content(&t, i);
    }
    test_disks_cleanup(&t);
}

/* --state: a restart reopens the chains where the last group left them. */
static void test_state_restart(void)
{
    TestDisks t;
    g_autoptr(GError) err = NULL;
    g_autofree char *state_dir = NULL;
    g_autofree char *tops = NULL;
    g_autofree char *tops_again = NULL;
    g_autofree char *base0 = NULL, *base1 = NULL, *other = NULL;
    BlockDeviceRegistry *again, *third;

    test_disks_init(&t, 2, true);
    state_dir = test_path(&t, "state");
    base0 = test_path(&t, "disk0.qcow2");
    base1 = test_path(&t, "disk1.raw");
    g_assert_true(block_registry_load_state(t.reg, state_dir, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(block_registry_state_dir(t.reg), ==, state_dir);
    snapshot_all(&t, "s1");
    snapshot_all(&t, "s2");
    tops = test_tops(t.reg);

    /* One daemon per state directory. */
    third = block_registry_new();
    g_assert_false(block_registry_load_state(third, state_dir, &err));
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR);
    g_assert_nonnull(strstr(err->message, "in use"));
    g_clear_error(&err);
    g_assert_null(block_registry_state_dir(third));
    block_registry_free(third);

    /* The daemon stops; a second one starts on the same drives. */
    block_registry_free(t.reg);
    t.reg = block_registry_new();
    again = block_registry_new();
    g_assert_nonnull(
        block_registry_add_drive(again, "disk0", base0, NULL, false, &err));
    g_assert_nonnull(
        block_registry_add_drive(again, "disk1", base1, NULL, false, &err));
    g_assert_true(block_registry_load_state(again, state_dir, &err));
    g_assert_no_error(err);
    tops_again = test_tops(again);
    g_assert_cmpstr(tops, ==, tops_again);
    block_registry_free(again);

    /*
     * The drive changed: refused, naming the device and both files, and
     * nothing changed (starting on the drive's file would fork the disk).
     */
    {
        Qcow2CreateOptions opts = { .size = TEST_DISK_SIZE };
        bool created = false;

        other = test_path(&t, "other.qcow2");
        g_assert_true(qcow2_create(other, &opts, &created, &err));
        g_assert_no_error(err);
    }
    again = block_registry_new();
    g_assert_nonnull(
        block_registry_add_drive(again, "disk1", other, NULL, false, &err));
    g_assert_nonnull(
        block_registry_add_drive(again, "disk0", base0, NULL, false, &err));
    g_assert_false(block_registry_load_state(again, state_dir, &err));
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR);
    g_assert_nonnull(strstr(err->message, "disk1: the image"));
    g_assert_nonnull(strstr(err->message, "is not over the drive's file"));
    g_assert_nonnull(strstr(err->message, other));
    g_clear_error(&err);
    g_assert_null(block_registry_state_dir(again));
    g_assert_cmpuint(block_node_backing_depth(
                         block_device_top(block_registry_find(again, "disk0"))),
                     ==, 0);
    block_registry_free(again);
    test_disks_cleanup(&t);
}

/* A file at PATH with some bytes; its device and inode in *ST. */
static void make_file(const char *path, struct stat *st)
{
    g_assert_true(g_file_set_contents(path, "left by a crash", -1, NULL));
    g_assert_cmpint(stat(path, st), ==, 0);
}

/* The journal line of a created file, as the daemon writes it. */
static char *created_line(unsigned group, const char *path,
                          const struct stat *st)
{
    return g_strdup_printf("{\"version\":2,\"group\":%u,\"created\":[{"
                           "\"path\":\"%s\",\"dev\":%ju,\"ino\":%ju}]}\n",
                           group, path, (uintmax_t)st->st_dev,
                           (uintmax_t)st->st_ino);
}

/* Load STATE_DIR into a new registry over BASE0 as disk0. */
static BlockDeviceRegistry *restart(const char *base0, const char *state_dir,
                                    GError **errp)
{
    BlockDeviceRegistry *reg = block_registry_new();

    g_assert_nonnull(
        block_registry_add_drive(reg, "disk0", base0, NULL, false, NULL));
    if (!block_registry_load_state(reg, state_dir, errp)) {
        block_registry_free(reg);
        return NULL;
    }
    return reg;
}

/*
 * The journal after a crash: the files a group that never committed
 * created go, when they are still the files recorded and no chain uses
 * them; nothing else is removed; a newer journal version is refused.
 */
static void test_state_journal_recovery(void)
{
    TestDisks t;
    g_autoptr(GError) err = NULL;
    g_autofree char *state_dir = NULL, *journal = NULL, *state_file = NULL;
    g_autofree char *base0 = NULL, *s1 = NULL;
    g_autofree char *ours = NULL, *replaced = NULL, *unrecorded = NULL;
    g_autofree char *committed = NULL, *text = NULL;
    g_autofree char *l1 = NULL, *l2 = NULL, *l3 = NULL, *l4 = NULL;
    g_autofree char *l5 = NULL, *intent = NULL;
    struct stat st_ours, st_replaced, st_committed, st_s1, st_other;
    BlockDeviceRegistry *again;

    test_disks_init(&t, 1, false);
    state_dir = test_path(&t, "state");
    journal = g_build_filename(state_dir, "blockd-journal", NULL);
    state_file = g_build_filename(state_dir, BLOCK_STATE_FILE, NULL);
    base0 = test_path(&t, "disk0.qcow2");
    s1 = test_path(&t, "disk0.s1.qcow2");
    g_assert_true(block_registry_load_state(t.reg, state_dir, &err));
    snapshot_all(&t, "s1"); /* group 1 commits */
    block_registry_free(t.reg);
    t.reg = block_registry_new();

    /* Group 2 crashed; group 1's line is stale. */
    ours = test_path(&t, "ours.qcow2");
    replaced = test_path(&t, "replaced.qcow2");
    unrecorded = test_path(&t, "unrecorded.qcow2");
    committed = test_path(&t, "committed.qcow2");
    make_file(ours, &st_ours);
    make_file(replaced, &st_replaced);
    make_file(committed, &st_committed);
    g_assert_cmpint(stat(s1, &st_s1), ==, 0);
    /* REPLACED's recorded inode is another file's. */
    make_file(unrecorded, &st_other);
    intent = g_strdup_printf("{\"version\":2,\"group\":2,\"intent\":[\"%s\","
                             "\"%s\",\"%s\",\"%s\"]}\n",
                             ours, replaced, unrecorded, s1);
    l1 = created_line(1, committed, &st_committed);
    l2 = created_line(2, ours, &st_ours);
    l3 = created_line(2, replaced, &st_other);
    l4 = created_line(2, s1, &st_s1); /* the chain uses it */
    l5 = g_strdup("{\"version\":2,\"group\":2,\"created\":[{\"pa");
    text = g_strconcat(l1, intent, l2, l3, l4, l5, NULL); /* torn last */
    g_assert_true(g_file_set_contents(journal, text, -1, NULL));

    again = restart(base0, state_dir, &err);
    g_assert_no_error(err);
    g_assert_false(g_file_test(ours, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(replaced, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(unrecorded, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(committed, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(s1, G_FILE_TEST_EXISTS));
    g_assert_cmpint(journal_size(state_dir), ==, 0);
    g_assert_cmpuint(block_node_backing_depth(
                         block_device_top(block_registry_nth(again, 0))),
                     ==, 1);
    block_registry_free(again);

    /* Without a state file, nothing is removed. */
    make_file(ours, &st_ours);
    g_free(l2);
    l2 = created_line(2, ours, &st_ours);
    g_assert_true(g_file_set_contents(journal, l2, -1, NULL));
    g_assert_cmpint(g_unlink(state_file), ==, 0);
    again = restart(base0, state_dir, &err);
    g_assert_no_error(err);
    g_assert_true(g_file_test(ours, G_FILE_TEST_EXISTS));
    block_registry_free(again);

    /* A newer journal: refused, naming the version. */
    g_assert_true(g_file_set_contents(
        journal, "{\"version\":99,\"group\":5,\"created\":[]}\n", -1, NULL));
    g_assert_null(restart(base0, state_dir, &err));
    g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR);
    g_assert_nonnull(strstr(err->message, "version 99"));
    g_clear_error(&err);
    g_assert_true(g_file_test(ours, G_FILE_TEST_EXISTS));
    test_disks_cleanup(&t);
}

/* A recorded top that is gone: refused, nothing changed. */
static void test_state_missing_image(void)
{
    TestDisks t;
    g_autoptr(GError) err = NULL;
    g_autofree char *state_dir = NULL;
    g_autofree char *base0 = NULL, *overlay = NULL;
    BlockDeviceRegistry *again;

    test_disks_init(&t, 1, false);
    state_dir = test_path(&t, "state");
    base0 = test_path(&t, "disk0.qcow2");
    overlay = test_path(&t, "disk0.s1.qcow2");
    g_assert_true(block_registry_load_state(t.reg, state_dir, &err));
    snapshot_all(&t, "s1");
    block_registry_free(t.reg);
    t.reg = block_registry_new();
    g_assert_cmpint(g_unlink(overlay), ==, 0);
    again = block_registry_new();
    g_assert_nonnull(
        block_registry_add_drive(again, "disk0", base0, NULL, false, &err));
    g_assert_false(block_registry_load_state(again, state_dir, &err));
    g_assert_nonnull(err);
    g_assert_true(err->domain == QAPI_ERROR);
    g_assert_nonnull(strstr(err->message, overlay));
    g_assert_true(g_str_has_prefix(err->message, "disk0: "));
    g_assert_null(block_registry_state_dir(again));
    g_assert_cmpstr(
        block_node_filename(block_device_top(block_registry_nth(again, 0))), ==,
        base0);
    block_registry_free(again);
    test_disks_cleanup(&t);
}

/* Every file under DIR, recursively (symlinks not followed): relative
 * name and sha256 ("-" for directories and symlinks), sorted. */
static void tree_digest_add(GPtrArray *lines, const char *root, const char *rel)
{
    g_autofree char *path =
        rel ? g_build_filename(root, rel, NULL) : g_strdup(root);
    GDir *dir = g_dir_open(path, 0, NULL);
    const char *name;

    if (!dir) {
        return;
    }
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *child_rel =
            rel ? g_build_filename(rel, name, NULL) : g_strdup(name);
        g_autofree char *child = g_build_filename(root, child_rel, NULL);
        g_autofree char *sum = NULL;
        struct stat st;

        g_assert_cmpint(lstat(child, &st), ==, 0);
        if (S_ISREG(st.st_mode)) {
            sum = test_sha256_file(child);
        }
        g_ptr_array_add(lines,
                        g_strdup_printf("%s %s", child_rel, sum ? sum : "-"));
        if (S_ISDIR(st.st_mode)) {
            tree_digest_add(lines, root, child_rel);
        }
    }
    g_dir_close(dir);
}

static int compare_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *tree_digest(const char *root)
{
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

    tree_digest_add(lines, root, NULL);
    g_ptr_array_sort(lines, compare_lines);
    g_ptr_array_add(lines, NULL);
    return g_strjoinv("\n", (char **)lines->pdata);
}

/*
 * ".." after a symlink: DIR/link/../victim.qcow2 with DIR/link ->
 * DIR/d/e names DIR/d/victim.qcow2 for the kernel.  The undo of a
 * failed group must remove that file, never the unrelated
 * DIR/victim.qcow2; and two spellings of one new file are one file.
 */
static void test_symlink_dotdot(void)
{
    TestDisks t;
    g_autofree char *d = NULL, *e_dir = NULL, *link = NULL;
    g_autofree char *victim = NULL, *via_link = NULL, *missing = NULL;
    g_autofree char *sum = NULL, *sum_after = NULL;
    g_autofree char *tree = NULL, *tree_after = NULL;
    g_autofree char *x_direct = NULL, *x_link = NULL, *desc = NULL;
    g_autofree char *tops = NULL, *tops_after = NULL;
    BlockSnapshotEntry e[2];

    test_disks_init(&t, 2, false);
    d = test_path(&t, "d");
    e_dir = test_path(&t, "d/e");
    link = test_path(&t, "link");
    victim = test_path(&t, "victim.qcow2");
    via_link = test_path(&t, "link/../victim.qcow2");
    missing = test_path(&t, "no-such-dir/disk1.s1.qcow2");
    g_assert_cmpint(g_mkdir(d, 0755), ==, 0);
    g_assert_cmpint(g_mkdir(e_dir, 0755), ==, 0);
    g_assert_cmpint(symlink(e_dir, link), ==, 0);
    g_assert_true(g_file_set_contents(victim, "not an overlay\n", -1, NULL));
    sum = test_sha256_file(victim);
    tree = tree_digest(t.dir);
    tops = test_tops(t.reg);

    /* The first entry creates DIR/d/victim.qcow2, the second fails. */
    e[0] = entry("disk0", via_link);
    e[1] = entry("disk1", missing);
    {
        g_autoptr(GError) err = NULL;

        g_assert_false(block_snapshot_group(t.reg, e, 2, NULL, &err));
        g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED);
        g_assert_true(g_str_has_prefix(err->message, "disk1: "));
    }
    sum_after = test_sha256_file(victim);
    g_assert_cmpstr(sum, ==, sum_after);
    tree_after = tree_digest(t.dir);
    g_assert_cmpstr(tree, ==, tree_after);
    tops_after = test_tops(t.reg);
    g_assert_cmpstr(tops, ==, tops_after);

    /* Two spellings of one new file: refused before anything is made. */
    x_direct = test_path(&t, "d/x.qcow2");
    x_link = test_path(&t, "link/../x.qcow2");
    e[0] = entry("disk0", x_direct);
    e[1] = entry("disk1", x_link);
    desc = g_strdup_printf("disk1: snapshot file '%s' is also the snapshot "
                           "file of device 'disk0'",
                           x_link);
    expect_failure(&t, e, 2, QAPI_ERROR_CLASS_OPENFILEFAILED, desc);
    g_free(tree_after);
    tree_after = tree_digest(t.dir);
    g_assert_cmpstr(tree, ==, tree_after);

    /* The link spelling works, and names the file the kernel made. */
    e[0] = entry("disk0", via_link);
    {
        g_autoptr(GError) err = NULL;
        g_autofree char *made = test_path(&t, "d/victim.qcow2");

        g_assert_true(block_snapshot_group(t.reg, e, 1, NULL, &err));
        g_assert_no_error(err);
        g_assert_true(g_file_test(made, G_FILE_TEST_IS_REGULAR));
    }
    g_free(sum_after);
    sum_after = test_sha256_file(victim);
    g_assert_cmpstr(sum, ==, sum_after);
    test_disks_cleanup(&t);
}

/*
 * A chain of BLOCK_MAX_CHAIN_DEPTH images is the longest that opens
 * again (at a restart): the snapshot that would go past it is refused.
 */
static void test_chain_depth_limit(void)
{
    TestDisks t;
    g_autoptr(GError) err = NULL;
    g_autofree char *prev = NULL, *last = NULL, *over = NULL, *desc = NULL;
    BlockSnapshotEntry e[1];
    BlockDevice *dev;

    test_disks_init(&t, 0, false);
    /* BLOCK_MAX_CHAIN_DEPTH - 1 images, each over the one before. */
    for (int i = 0; i < BLOCK_MAX_CHAIN_DEPTH - 1; i++) {
        g_autofree char *name = g_strdup_printf("c%03d.qcow2", i);
        char *path = test_path(&t, name);
        Qcow2CreateOptions opts = {
            .size = 65536,
            .backing_file = prev,
            .backing_format = prev ? "qcow2" : NULL,
        };
        bool created = false;

        g_assert_true(qcow2_create(path, &opts, &created, &err));
        g_assert_no_error(err);
        g_free(prev);
        prev = path;
    }
    dev = block_registry_add_drive(t.reg, "deep", prev, "qcow2", false, &err);
    g_assert_no_error(err);
    g_assert_nonnull(dev);
    g_assert_cmpuint(block_node_backing_depth(block_device_top(dev)), ==,
                     BLOCK_MAX_CHAIN_DEPTH - 2);

    /* The last image that fits. */
    last = test_path(&t, "deep.s1.qcow2");
    e[0] = entry("deep", last);
    g_assert_true(block_snapshot_group(t.reg, e, 1, NULL, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(block_node_backing_depth(block_device_top(dev)), ==,
                     BLOCK_MAX_CHAIN_DEPTH - 1);
    {
        g_autoptr(BlockNode) again = block_node_open(
            last, NULL, BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_FORCE_SHARE, &err);

        g_assert_no_error(err);
        g_assert_nonnull(again);
    }

    /* One more would not open again: refused before any file exists. */
    over = test_path(&t, "deep.s2.qcow2");
    e[0] = entry("deep", over);
    desc =
        g_strdup_printf("deep: snapshot file '%s' would make the backing "
                        "chain %d images long; at most %d can be opened",
                        over, BLOCK_MAX_CHAIN_DEPTH + 1, BLOCK_MAX_CHAIN_DEPTH);
    expect_failure(&t, e, 1, QAPI_ERROR_CLASS_OPENFILEFAILED, desc);
    g_assert_false(g_file_test(over, G_FILE_TEST_EXISTS));
    test_disks_cleanup(&t);
}

/*
 * An abort action fails at its position in request order: before a
 * later entry's check failure, after the preparation of the entries
 * before it (whose own failure would come first), which is undone.
 */
static void test_abort_order(void)
{
    TestDisks t;
    g_autofree char *f0 = NULL, *f1 = NULL, *f2 = NULL, *list = NULL;
    g_autofree char *list_after = NULL;
    BlockSnapshotEntry e[3];

    test_disks_init(&t, 2, false);
    f0 = test_path(&t, "disk0.s1.qcow2");
    f1 = test_path(&t, "disk1.s1.qcow2");
    f2 = test_path(&t, "nope.s1.qcow2");
    list = test_list_dir(t.dir);

    e[0] = entry("disk0", f0);
    memset(&e[1], 0, sizeof(e[1]));
    e[1].action = BLOCK_SNAPSHOT_ACTION_ABORT;
    e[2] = entry("nope", f2);
    expect_failure(&t, e, 3, QAPI_ERROR_CLASS_GENERICERROR,
                   "action 1 is 'abort': transaction aborted");
    /* Also a later entry that fails its checks in other ways. */
    e[2] = entry("disk0", f1);
    expect_failure(&t, e, 3, QAPI_ERROR_CLASS_GENERICERROR,
                   "action 1 is 'abort': transaction aborted");
    /* An abort first of all. */
    e[0] = e[1];
    e[1] = entry("nope", f2);
    expect_failure(&t, e, 2, QAPI_ERROR_CLASS_GENERICERROR,
                   "action 0 is 'abort': transaction aborted");

    /* The entries before the abort are prepared: their failure wins. */
    e[0] = entry("disk0", f0);
    memset(&e[1], 0, sizeof(e[1]));
    e[1].action = BLOCK_SNAPSHOT_ACTION_ABORT;
    e[2] = entry("nope", f2);
    {
        Fault f = { .fault = BLOCK_SNAPSHOT_FAULT_OPEN, .index = 0 };
        g_autoptr(GError) err = NULL;
        Before b;

        before_take(&b, &t);
        block_registry_set_fault_hook(t.reg, fault_hook, &f);
        g_assert_false(block_snapshot_group(t.reg, e, 3, NULL, &err));
        block_registry_set_fault_hook(t.reg, NULL, NULL);
        g_assert_cmpuint(f.hits, ==, 1);
        g_assert_error(err, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED);
        g_assert_true(g_str_has_prefix(err->message, "disk0: "));
        before_check(&b, &t);
    }
    /* A check failure before the abort wins too. */
    e[0] = entry("nope", f0);
    expect_failure(&t, e, 3, QAPI_ERROR_CLASS_DEVICENOTFOUND,
                   "device 'nope' not found");
    list_after = test_list_dir(t.dir);
    g_assert_cmpstr(list, ==, list_after);
    test_disks_cleanup(&t);
}

/* A new device that would refuse (NULL, CODE, DESC) and leave REG as
 * it was. */
static void expect_add_refused_with(TestDisks *t, const char *id,
                                    const char *file, bool read_only, int code,
                                    const char *desc)
{
    g_autoptr(GError) err = NULL;
    size_t count = block_registry_count(t->reg);
    g_autofree char *sum = test_sha256_file(file);
    g_autofree char *sum_after = NULL;

    g_assert_null(
        block_registry_add_drive(t->reg, id, file, NULL, read_only, &err));
    g_assert_error(err, QAPI_ERROR, code);
    g_assert_cmpstr(err->message, ==, desc);
    g_assert_cmpuint(block_registry_count(t->reg), ==, count);
    g_assert_null(block_registry_find(t->reg, id));
    sum_after = test_sha256_file(file);
    g_assert_cmpstr(sum, ==, sum_after);
}

static void expect_add_refused(TestDisks *t, const char *id, const char *file,
                               bool read_only, const char *desc)
{
    expect_add_refused_with(t, id, file, read_only,
                            QAPI_ERROR_CLASS_GENERICERROR, desc);
}

/*
 * One image file in two devices: never as one's top and any image of
 * the other; read-only backing images may be shared.
 */
static void test_drive_shared_image(void)
{
    TestDisks t;
    g_autoptr(GError) err = NULL;
    g_autofree char *base0 = NULL, *base1 = NULL, *hard = NULL;
    g_autofree char *s1 = NULL, *over1 = NULL, *share = NULL, *desc = NULL;
    Qcow2CreateOptions opts = { .size = TEST_DISK_SIZE,
                                .backing_format = "qcow2" };
    bool created;
    BlockSnapshotEntry e[1];
    BlockDevice *dev;

    test_disks_init(&t, 2, false);
    base0 = test_path(&t, "disk0.qcow2");
    base1 = test_path(&t, "disk1.qcow2");
    hard = test_path(&t, "hard.qcow2");
    g_assert_cmpint(link(base0, hard), ==, 0);

    /* Another device's top, by name, by hard link, even read-only. */
    desc = g_strdup_printf("dup: image '%s' is already the active image of "
                           "device 'disk0' ('%s')",
                           base0, base0);
    expect_add_refused(&t, "dup", base0, false, desc);
    expect_add_refused(&t, "dup", base0, true, desc);
    g_free(desc);
    desc = g_strdup_printf("dup: image '%s' is already the active image of "
                           "device 'disk0' ('%s')",
                           hard, base0);
    expect_add_refused(&t, "dup", hard, false, desc);
    g_free(desc);

    /* After a snapshot, disk0.qcow2 is a backing image of disk0. */
    s1 = test_path(&t, "disk0.s1.qcow2");
    e[0] = entry("disk0", s1);
    g_assert_true(block_snapshot_group(t.reg, e, 1, NULL, &err));
    g_assert_no_error(err);
    desc = g_strdup_printf("under: image '%s' is already a backing image of "
                           "device 'disk0' ('%s')",
                           base0, base0);
    expect_add_refused(&t, "under", base0, true, desc);
    g_free(desc);

    /* An overlay of disk1's top: disk1 would write under it. */
    over1 = test_path(&t, "over1.qcow2");
    opts.backing_file = base1;
    g_assert_true(qcow2_create(over1, &opts, &created, &err));
    g_assert_no_error(err);
    /* disk1 holds its image for writing: the image lock refuses it. */
    desc = g_strdup_printf("over: %s: cannot open backing file: Could not "
                           "open '%s': Failed to get shared \"write\" lock: "
                           "the image is in use by QEMU, another daemon or "
                           "another device",
                           over1, base1);
    expect_add_refused_with(&t, "over", over1, false,
                            QAPI_ERROR_CLASS_OPENFILEFAILED, desc);
    g_free(desc);

    /* Sharing disk0's read-only base is fine. */
    share = test_path(&t, "share.qcow2");
    opts.backing_file = base0;
    g_assert_true(qcow2_create(share, &opts, &created, &err));
    g_assert_no_error(err);
    dev = block_registry_add_drive(t.reg, "share", share, NULL, false, &err);
    g_assert_no_error(err);
    g_assert_nonnull(dev);
    g_assert_cmpuint(block_node_backing_depth(block_device_top(dev)), ==, 1);
    check_content(&t, 0);

    /* And the new device's top is now taken in turn. */
    desc = g_strdup_printf("again: image '%s' is already the active image "
                           "of device 'share' ('%s')",
                           share, share);
    expect_add_refused(&t, "again", share, false, desc);
    test_disks_cleanup(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/blockdev/snapshot/group-1", test_group_1);
    g_test_add_func("/blockdev/snapshot/group-2-mixed", test_group_2_mixed);
    g_test_add_func("/blockdev/snapshot/group-16", test_group_16);
    g_test_add_func("/blockdev/snapshot/empty", test_empty_group);
    g_test_add_func("/blockdev/snapshot/write-after",
                    test_write_after_snapshot);
    g_test_add_func("/blockdev/snapshot/qemu-img", test_qemu_img_oracle);
    g_test_add_func("/blockdev/snapshot/failures", test_failure_classes);
    g_test_add_func("/blockdev/snapshot/target-in-use", test_target_in_use);
    g_test_add_func("/blockdev/snapshot/symlink-dotdot", test_symlink_dotdot);
    g_test_add_func("/blockdev/snapshot/long-backing-name",
                    test_long_backing_name);
    g_test_add_func("/blockdev/snapshot/mode-existing", test_mode_existing);
    g_test_add_func("/blockdev/snapshot/chain-depth-limit",
                    test_chain_depth_limit);
    g_test_add_func("/blockdev/snapshot/node-names", test_node_names);
    g_test_add_func("/blockdev/snapshot/read-only", test_read_only_device);
    g_test_add_func("/blockdev/drive/shared-image", test_drive_shared_image);
    g_test_add_func("/blockdev/snapshot/fault-injection", test_fault_injection);
    g_test_add_func("/blockdev/snapshot/abort-order", test_abort_order);
    g_test_add_func("/blockdev/state/restart", test_state_restart);
    g_test_add_func("/blockdev/state/missing-image", test_state_missing_image);
    g_test_add_func("/blockdev/state/journal-recovery",
                    test_state_journal_recovery);
    return g_test_run();
}
