/* SPDX-License-Identifier: MIT */
/*
 * The state directory of qapikit-blockd (`--state DIR`): which image
 * each device is on, recorded durably before a snapshot group replies,
 * and reopened at start (contract in <qapikit/block-device.h>).
 *
 * DIR/blockd-state.json:
 *   {"version": 1,
 *    "devices": [{"device": "disk0", "image": "/abs/disk0.s1.qcow2",
 *                 "format": "qcow2"}, ...]}
 * Image names are absolute, so a daemon started from another directory
 * finds them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include <qapikit/error.h>

#include "device-internal.h"

#define STATE_VERSION 1

static json_object *state_to_json(BlockDeviceRegistry *reg,
                                  BlockNode *const *new_tops)
{
    json_object *root = json_object_new_object();
    json_object *devices = json_object_new_array();

    json_object_object_add(root, "version", json_object_new_int(STATE_VERSION));
    for (size_t d = 0; d < block_registry_count(reg); d++) {
        BlockDevice *dev = block_registry_nth(reg, d);
        BlockNode *top = new_tops && new_tops[d] ? new_tops[d] : dev->top;
        g_autofree char *image = block_absolute_path(block_node_filename(top));
        json_object *entry = json_object_new_object();

        json_object_object_add(entry, "device",
                               json_object_new_string(dev->id));
        json_object_object_add(entry, "image", json_object_new_string(image));
        json_object_object_add(
            entry, "format",
            json_object_new_string(block_format_name(block_node_format(top))));
        json_object_array_add(devices, entry);
    }
    json_object_object_add(root, "devices", devices);
    return root;
}

static bool write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t done = write(fd, buf, len);

        if (done < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        buf += done;
        len -= done;
    }
    return true;
}

bool block_state_save(BlockDeviceRegistry *reg, BlockNode *const *new_tops,
                      GError **errp)
{
    g_autofree char *path =
        g_build_filename(reg->state_dir, BLOCK_STATE_FILE, NULL);
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    json_object *root = state_to_json(reg, new_tops);
    g_autofree char *text = g_strconcat(
        json_object_to_json_string_ext(
            root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE),
        "\n", NULL);
    g_autoptr(GError) dir_err = NULL;
    int fd;
    int saved_errno;

    json_object_put(root);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        saved_errno = errno;
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "cannot write the state file '%s': %s", tmp,
                    g_strerror(saved_errno));
        return false;
    }
    if (block_snapshot_fault(reg, BLOCK_SNAPSHOT_FAULT_STATE_WRITE, 0)) {
        saved_errno = EIO;
        goto fail;
    }
    if (!write_all(fd, text, strlen(text)) || fdatasync(fd) != 0) {
        saved_errno = errno;
        goto fail;
    }
    if (close(fd) != 0) {
        saved_errno = errno;
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (block_snapshot_fault(reg, BLOCK_SNAPSHOT_FAULT_STATE_RENAME, 0)) {
        saved_errno = EIO;
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        saved_errno = errno;
        goto fail;
    }
    /*
     * The rename is the commit point: the new state names overlays that
     * are durable already, the old one images that still exist, so
     * either is valid after a crash.  A failed fsync of the directory
     * cannot be undone by removing the overlays (the new name may be on
     * disk), so it is only reported.
     */
    if (!block_fsync_dir(path, &dir_err)) {
        g_message("state file '%s': %s", path, dir_err->message);
    }
    return true;

fail:
    if (fd >= 0) {
        close(fd);
    }
    unlink(tmp);
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                "cannot write the state file '%s': %s", path,
                g_strerror(saved_errno));
    return false;
}

const char *block_registry_state_dir(const BlockDeviceRegistry *reg)
{
    return reg->state_dir;
}

static const char *member_string(json_object *obj, const char *key)
{
    json_object *value;

    if (!json_object_object_get_ex(obj, key, &value)
        || !json_object_is_type(value, json_type_string)) {
        return NULL;
    }
    return json_object_get_string(value);
}

/* Does the chain below TOP contain the file of NODE? */
static bool chain_contains(BlockNode *top, BlockNode *node)
{
    dev_t want_dev, dev;
    ino_t want_ino, ino;

    block_node_file_id(node, &want_dev, &want_ino);
    for (BlockNode *n = top; n; n = block_node_backing(n)) {
        block_node_file_id(n, &dev, &ino);
        if (dev == want_dev && ino == want_ino) {
            return true;
        }
    }
    return false;
}

/*
 * Open the tops the state file at PATH names for REG's devices into
 * NEW_TOPS (indexed like the devices; NULL where the device keeps its
 * image).
 */
static bool open_recorded_tops(BlockDeviceRegistry *reg, const char *path,
                               BlockNode **new_tops, GError **errp)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    json_object *root;
    json_object *devices = NULL;
    json_object *version = NULL;
    enum json_tokener_error jerr;
    bool ok = false;

    if (!g_file_get_contents(path, &text, NULL, &err)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "cannot read the state file: %s", err->message);
        return false;
    }
    root = json_tokener_parse_verbose(text, &jerr);
    if (!root || !json_object_is_type(root, json_type_object)
        || !json_object_object_get_ex(root, "version", &version)
        || json_object_get_int(version) != STATE_VERSION
        || !json_object_object_get_ex(root, "devices", &devices)
        || !json_object_is_type(devices, json_type_array)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "state file '%s' is not a version %d state file", path,
                    STATE_VERSION);
        goto out;
    }
    for (size_t i = 0; i < json_object_array_length(devices); i++) {
        json_object *entry = json_object_array_get_idx(devices, i);
        const char *id = member_string(entry, "device");
        const char *image = member_string(entry, "image");
        const char *format = member_string(entry, "format");
        BlockDevice *dev;
        BlockNode *top;
        size_t d;

        if (!id || !image || !format) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "state file '%s': entry %zu needs the strings "
                        "'device', 'image' and 'format'",
                        path, i);
            goto out;
        }
        dev = block_registry_find(reg, id);
        if (!dev) {
            g_message("state file '%s': device '%s' is not configured; "
                      "its entry is dropped",
                      path, id);
            continue;
        }
        for (d = 0; block_registry_nth(reg, d) != dev; d++) {
        }
        if (new_tops[d]) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "state file '%s' names device '%s' twice", path, id);
            goto out;
        }
        top = block_node_open(image, format,
                              dev->read_only ? BLOCK_OPEN_READ_ONLY
                                             : BLOCK_OPEN_READ_WRITE,
                              errp);
        if (!top) {
            g_prefix_error(errp,
                           "%s: cannot reopen the image recorded in "
                           "the state file '%s': ",
                           id, path);
            goto out;
        }
        if (!chain_contains(top, dev->top)) {
            g_message("%s: the image '%s' recorded in the state file is "
                      "not over the drive's file '%s'; using the drive's "
                      "file",
                      id, image, dev->drive_file);
            block_node_unref(top);
            continue;
        }
        new_tops[d] = top;
    }
    ok = true;
out:
    json_object_put(root);
    return ok;
}

/*
 * One daemon per state directory: an exclusive flock on
 * DIR/blockd-state.lock, held while the registry lives.  Returns the
 * locked descriptor, or -1 with *errp set.
 */
static int lock_state_dir(const char *dir, GError **errp)
{
    g_autofree char *path = g_build_filename(dir, BLOCK_STATE_LOCK_FILE, NULL);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int saved_errno;

    if (fd < 0) {
        saved_errno = errno;
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "cannot open '%s': %s", path, g_strerror(saved_errno));
        return -1;
    }
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        saved_errno = errno;
        if (saved_errno == EINTR) {
            continue;
        }
        close(fd);
        if (saved_errno == EWOULDBLOCK) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "state directory '%s' is in use by another "
                        "daemon (lock '%s')",
                        dir, path);
        } else {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "cannot lock '%s': %s", path, g_strerror(saved_errno));
        }
        return -1;
    }
    return fd;
}

bool block_registry_load_state(BlockDeviceRegistry *reg, const char *dir,
                               GError **errp)
{
    size_t count = block_registry_count(reg);
    g_autofree BlockNode **new_tops = g_new0(BlockNode *, count + 1);
    g_autofree char *abs_dir = block_absolute_path(dir);
    g_autofree char *path = g_build_filename(abs_dir, BLOCK_STATE_FILE, NULL);
    int lock_fd;
    bool ok;

    if (g_mkdir_with_parents(abs_dir, 0700) != 0) {
        int saved_errno = errno;

        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "cannot create the state directory '%s': %s", abs_dir,
                    g_strerror(saved_errno));
        return false;
    }
    lock_fd = lock_state_dir(abs_dir, errp);
    if (lock_fd < 0) {
        return false;
    }
    ok = !g_file_test(path, G_FILE_TEST_EXISTS)
        || open_recorded_tops(reg, path, new_tops, errp);
    if (ok) {
        g_autofree char *old_dir = g_steal_pointer(&reg->state_dir);

        reg->state_dir = g_strdup(abs_dir);
        ok = block_state_save(reg, new_tops, errp);
        if (!ok) {
            g_free(reg->state_dir);
            reg->state_dir = g_steal_pointer(&old_dir);
        }
    }
    if (ok) {
        if (reg->state_lock_fd >= 0) {
            close(reg->state_lock_fd);
        }
        reg->state_lock_fd = lock_fd;
    } else {
        close(lock_fd);
    }
    for (size_t d = 0; d < count; d++) {
        BlockDevice *dev = block_registry_nth(reg, d);

        if (!new_tops[d]) {
            continue;
        }
        if (ok) {
            block_node_unref(dev->top);
            dev->top = new_tops[d];
        } else {
            block_node_unref(new_tops[d]);
        }
    }
    return ok;
}
