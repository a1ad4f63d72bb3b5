/* SPDX-License-Identifier: MIT */
/*
 * query-block's io-status (docs/spec/block-qmp.md): "ok" until a write or flush
 * on the device fails, then "nospace" when it failed for lack of space and
 * "failed" otherwise.
 *
 * The failures are real system call failures: this executable defines
 * pwrite() and fdatasync() itself, so the block layer linked into it
 * calls these, which fail with the armed errno once and otherwise make
 * the system call.
 */
/* Both names are defined: the build's -D_FILE_OFFSET_BITS=64 makes the
 * block layer call pwrite64 where off_t is 32 bits, and would rename the
 * definition of pwrite here. */
#undef _FILE_OFFSET_BITS
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <qapikit/block.h>
#include <qapikit/block-device.h>
#include <qapikit/dispatch.h>
#include "qapi-commands-block.h"

/* The errno the next pwrite or fdatasync fails with; 0: none. */
static int armed_errno;

static bool take_armed(void)
{
    if (!armed_errno) {
        return false;
    }
    errno = armed_errno;
    armed_errno = 0;
    return true;
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
{
    if (take_armed()) {
        return -1;
    }
    return syscall(SYS_pwrite64, fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t offset)
{
    if (take_armed()) {
        return -1;
    }
    return syscall(SYS_pwrite64, fd, buf, count, offset);
}

int fdatasync(int fd)
{
    if (take_armed()) {
        return -1;
    }
    return (int)syscall(SYS_fdatasync, fd);
}

typedef struct Fixture {
    char *dir;
    BlockDeviceRegistry *reg;
    QmpCommandList *cmds; /* query-block, on REG */
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *raw = NULL;
    g_autofree char *qcow2 = NULL;
    Qcow2CreateOptions opts = { .size = 1 << 20, .sync = false };
    bool created = false;
    int fd;

    (void)data;
    f->dir = g_dir_make_tmp("test-io-status-XXXXXX", &err);
    g_assert_no_error(err);
    raw = g_build_filename(f->dir, "d0.raw", NULL);
    fd = open(raw, O_WRONLY | O_CREAT | O_EXCL, 0644);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, 1 << 20), ==, 0);
    close(fd);
    qcow2 = g_build_filename(f->dir, "d1.qcow2", NULL);
    g_assert_true(qcow2_create(qcow2, &opts, &created, &err));
    g_assert_no_error(err);

    f->reg = block_registry_new();
    g_assert_nonnull(
        block_registry_add_drive(f->reg, "d0", raw, "raw", false, &err));
    g_assert_no_error(err);
    g_assert_nonnull(
        block_registry_add_drive(f->reg, "d1", qcow2, "qcow2", false, &err));
    g_assert_no_error(err);
    f->cmds = qmp_command_list_new();
    qmp_command_list_set_opaque(f->cmds, f->reg);
    qmp_register_command(f->cmds, "query-block", qmp_marshal_query_block, 0, 0);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
    const char *names[] = { "d0.raw", "d1.qcow2" };

    (void)data;
    armed_errno = 0;
    qmp_command_list_free(f->cmds);
    block_registry_free(f->reg);
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        g_autofree char *path = g_build_filename(f->dir, names[i], NULL);
        g_unlink(path);
    }
    g_rmdir(f->dir);
    g_free(f->dir);
}

/* io-status of device ID as query-block on F's registry reports it. */
static BlockDeviceIoStatus query_io_status(Fixture *f, const char *id)
{
    json_object *request = json_tokener_parse("{\"execute\": \"query-block\"}");
    json_object *response = qmp_dispatch(f->cmds, request, false);
    json_object *list, *value;
    BlockDeviceIoStatus status = BLOCK_DEVICE_IO_STATUS__MAX;

    g_assert_true(json_object_object_get_ex(response, "return", &list));
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *info = json_object_array_get_idx(list, i);

        g_assert_true(json_object_object_get_ex(info, "device", &value));
        if (strcmp(json_object_get_string(value), id)) {
            continue;
        }
        g_assert_true(json_object_object_get_ex(info, "io-status", &value));
        status = qapi_enum_parse(&BlockDeviceIoStatus_lookup,
                                 json_object_get_string(value),
                                 BLOCK_DEVICE_IO_STATUS__MAX, NULL);
    }
    json_object_put(response);
    json_object_put(request);
    g_assert_cmpint(status, !=, BLOCK_DEVICE_IO_STATUS__MAX);
    return status;
}

static void write_fails(BlockDevice *dev, int error)
{
    g_autoptr(GError) err = NULL;
    char buf[4096];

    memset(buf, 0x5a, sizeof(buf));
    armed_errno = error;
    g_assert_false(block_device_pwrite(dev, 0, buf, sizeof(buf), &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, block_device_id(dev)));
    g_assert_nonnull(strstr(err->message, g_strerror(error)));
}

static void test_ok_until_failure(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    BlockDevice *dev = block_registry_find(f->reg, "d0");
    char buf[512] = { 1 };

    (void)data;
    g_assert_cmpint(query_io_status(f, "d0"), ==, BLOCK_DEVICE_IO_STATUS_OK);
    g_assert_true(block_device_pwrite(dev, 0, buf, sizeof(buf), &err));
    g_assert_true(block_device_flush(dev, &err));
    g_assert_no_error(err);
    g_assert_cmpint(query_io_status(f, "d0"), ==, BLOCK_DEVICE_IO_STATUS_OK);
    g_assert_cmpint(query_io_status(f, "d1"), ==, BLOCK_DEVICE_IO_STATUS_OK);
}

static void test_raw_nospace(Fixture *f, gconstpointer data)
{
    (void)data;
    write_fails(block_registry_find(f->reg, "d0"), ENOSPC);
    g_assert_cmpint(query_io_status(f, "d0"), ==,
                    BLOCK_DEVICE_IO_STATUS_NOSPACE);
    g_assert_cmpint(query_io_status(f, "d1"), ==, BLOCK_DEVICE_IO_STATUS_OK);
}

static void test_raw_eio(Fixture *f, gconstpointer data)
{
    (void)data;
    write_fails(block_registry_find(f->reg, "d0"), EIO);
    g_assert_cmpint(query_io_status(f, "d0"), ==,
                    BLOCK_DEVICE_IO_STATUS_FAILED);
}

static void test_qcow2_quota(Fixture *f, gconstpointer data)
{
    (void)data;
    write_fails(block_registry_find(f->reg, "d1"), EDQUOT);
    g_assert_cmpint(query_io_status(f, "d1"), ==,
                    BLOCK_DEVICE_IO_STATUS_NOSPACE);
}

static void test_flush_eio(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    BlockDevice *dev = block_registry_find(f->reg, "d0");

    (void)data;
    armed_errno = EIO;
    g_assert_false(block_device_flush(dev, &err));
    g_assert_nonnull(err);
    g_assert_cmpint(query_io_status(f, "d0"), ==,
                    BLOCK_DEVICE_IO_STATUS_FAILED);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/io-status/ok-until-failure", Fixture, NULL, fixture_setup,
               test_ok_until_failure, fixture_teardown);
    g_test_add("/io-status/raw-nospace", Fixture, NULL, fixture_setup,
               test_raw_nospace, fixture_teardown);
    g_test_add("/io-status/raw-eio", Fixture, NULL, fixture_setup, test_raw_eio,
               fixture_teardown);
    g_test_add("/io-status/qcow2-quota", Fixture, NULL, fixture_setup,
               test_qcow2_quota, fixture_teardown);
    g_test_add("/io-status/flush-eio", Fixture, NULL, fixture_setup,
               test_flush_eio, fixture_teardown);
    return g_test_run();
}
