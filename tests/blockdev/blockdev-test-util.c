/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include <glib/gstdio.h>

#include "blockdev-test-util.h"

static void fill_image(const char *path, const char *format, char byte)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(BlockNode) node = block_node_open(path, format, 0, &err);
    g_autofree char *buf = g_malloc(TEST_DISK_SIZE);

    g_assert_no_error(err);
    memset(buf, byte, TEST_DISK_SIZE);
    g_assert_true(block_node_pwrite(node, 0, buf, TEST_DISK_SIZE, &err));
    g_assert_true(block_node_flush(node, &err));
}

void test_disks_init(TestDisks *t, size_t n, bool mixed)
{
    g_autoptr(GError) err = NULL;

    t->dir = g_dir_make_tmp("blockdev-test-XXXXXX", &err);
    g_assert_no_error(err);
    t->reg = block_registry_new();
    t->n = n;
    for (size_t i = 0; i < n; i++) {
        bool raw = mixed && (i % 2);
        g_autofree char *id = g_strdup_printf("disk%zu", i);
        g_autofree char *name =
            g_strdup_printf("disk%zu.%s", i, raw ? "raw" : "qcow2");
        g_autofree char *path = test_path(t, name);

        if (raw) {
            int fd = g_open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);

            g_assert_cmpint(fd, >=, 0);
            g_assert_cmpint(ftruncate(fd, TEST_DISK_SIZE), ==, 0);
            close(fd);
        } else {
            Qcow2CreateOptions opts = { .size = TEST_DISK_SIZE, .sync = true };
            bool created = false;

            g_assert_true(qcow2_create(path, &opts, &created, &err));
            g_assert_no_error(err);
        }
        fill_image(path, raw ? "raw" : "qcow2", (char)('a' + i % 26));
        g_assert_nonnull(
            block_registry_add_drive(t->reg, id, path, NULL, false, &err));
        g_assert_no_error(err);
    }
}

static void remove_tree(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    const char *name;

    if (dir) {
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *child = g_build_filename(path, name, NULL);

            if (g_file_test(child, G_FILE_TEST_IS_DIR)
                && !g_file_test(child, G_FILE_TEST_IS_SYMLINK)) {
                g_chmod(child, 0700);
                remove_tree(child);
            } else {
                g_unlink(child);
            }
        }
        g_dir_close(dir);
    }
    g_rmdir(path);
}

void test_disks_cleanup(TestDisks *t)
{
    block_registry_free(t->reg);
    t->reg = NULL;
    remove_tree(t->dir);
    g_free(t->dir);
    t->dir = NULL;
}

char *test_path(const TestDisks *t, const char *name)
{
    return g_build_filename(t->dir, name, NULL);
}

char *test_sha256_file(const char *path)
{
    g_autofree char *data = NULL;
    gsize len;

    if (!g_file_get_contents(path, &data, &len, NULL)) {
        return NULL;
    }
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)data, len);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static GPtrArray *sorted_names(const char *path)
{
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    GDir *dir = g_dir_open(path, 0, NULL);
    const char *name;

    if (dir) {
        while ((name = g_dir_read_name(dir))) {
            g_ptr_array_add(names, g_strdup(name));
        }
        g_dir_close(dir);
    }
    g_ptr_array_sort(names, compare_names);
    return names;
}

char *test_list_dir(const char *path)
{
    g_autoptr(GPtrArray) names = sorted_names(path);
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < names->len; i++) {
        g_string_append_printf(out, "%s\n", (char *)names->pdata[i]);
    }
    return g_string_free(out, false);
}

char *test_dir_digest(const char *path)
{
    g_autoptr(GPtrArray) names = sorted_names(path);
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < names->len; i++) {
        g_autofree char *child = g_build_filename(path, names->pdata[i], NULL);
        g_autofree char *sum = NULL;

        if (g_file_test(child, G_FILE_TEST_IS_REGULAR)) {
            sum = test_sha256_file(child);
        }
        g_string_append_printf(out, "%s %s\n", (char *)names->pdata[i],
                               sum ? sum : "-");
    }
    return g_string_free(out, false);
}

char *test_tops(const BlockDeviceRegistry *reg)
{
    GString *out = g_string_new(NULL);

    for (size_t i = 0; i < block_registry_count(reg); i++) {
        BlockDevice *dev = block_registry_nth(reg, i);
        BlockNode *top = block_device_top(dev);

        g_string_append_printf(out, "%s %s %u %d\n", block_device_id(dev),
                               block_node_filename(top),
                               block_node_backing_depth(top),
                               block_node_is_read_only(top));
    }
    return g_string_free(out, false);
}

bool test_have_qemu_img(void)
{
    g_autofree char *path = g_find_program_in_path("qemu-img");

    return path != NULL;
}

int test_qemu_img(char **out, const char *const *argv)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    g_autoptr(GError) err = NULL;
    g_autofree char *err_text = NULL;
    int status = -1;

    g_ptr_array_add(args, (char *)"qemu-img");
    for (size_t i = 0; argv[i]; i++) {
        g_ptr_array_add(args, (char *)argv[i]);
    }
    g_ptr_array_add(args, NULL);
    if (!g_spawn_sync(NULL, (char **)args->pdata, NULL, G_SPAWN_SEARCH_PATH,
                      NULL, NULL, out, &err_text, &status, &err)) {
        g_test_message("qemu-img: %s", err->message);
        return -1;
    }
    if (err_text && *err_text) {
        g_test_message("qemu-img: %s", err_text);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
