/* SPDX-License-Identifier: MIT */
/*
 * The state directory of qapikit-blockd (`--state DIR`): which image
 * each device is on, recorded durably before a snapshot group replies,
 * and reopened at start (contract in <qapikit/block-device.h>).
 *
 * DIR/blockd-state.json (docs/snapshots.md):
 *   {"version": 2, "group": 12,
 *    "devices": [{"device": "disk0", "image": "/abs/disk0.s1.qcow2",
 *                 "format": "qcow2"}, ...]}
 * Image names are absolute, so a daemon started from another directory
 * finds them.  "group" counts the snapshot groups committed, which the
 * journal (journal.c) is read against; version 1 files have none (0).
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

/* The oldest version still read. */
#define STATE_VERSION_MIN 1

/* More than any state file holds: a bound on what is read. */
#define STATE_MAX_BYTES ((size_t)64 * 1024 * 1024)

int block_state_dir_open(const char *path, int flags, GError **errp)
{
    struct stat st;
    int fd, saved_errno;

    do {
        fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        saved_errno = errno;
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "cannot open '%s': %s", path,
                    saved_errno == ELOOP ? "it is a symbolic link"
                                         : g_strerror(saved_errno));
        return -1;
    }
    if (fstat(fd, &st) < 0
        || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
        saved_errno = errno;
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "cannot open '%s': %s", path, g_strerror(saved_errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "cannot open '%s': it is %s, not a regular file", path,
                    block_file_type_name(st.st_mode));
        close(fd);
        return -1;
    }
    return fd;
}

static json_object *state_to_json(BlockDeviceRegistry *reg,
                                  BlockNode *const *new_tops, uint64_t group)
{
    json_object *root = json_object_new_object();
    json_object *devices = json_object_new_array();

    json_object_object_add(root, "version",
                           json_object_new_int(BLOCK_STATE_VERSION));
    json_object_object_add(root, "group", json_object_new_uint64(group));
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
                      uint64_t group, GError **errp)
{
    g_autofree char *path =
        g_build_filename(reg->state_dir, BLOCK_STATE_FILE, NULL);
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    json_object *root = state_to_json(reg, new_tops, group);
    g_autofree char *text = g_strconcat(
        json_object_to_json_string_ext(
            root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE),
        "\n", NULL);
    g_autoptr(GError) dir_err = NULL;
    int fd;
    int saved_errno;

    json_object_put(root);
    /*
     * A fresh file of our own: a stale one (a crash mid-save) goes first,
     * and whatever sits at the name then, a symlink or a file planted
     * there, makes the save fail instead of being written through.
     */
    if (unlink(tmp) != 0 && errno != ENOENT) {
        saved_errno = errno;
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "cannot remove the stale state file '%s': %s", tmp,
                    g_strerror(saved_errno));
        return false;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
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
    reg->group = group;
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

/* The text of the state file at PATH, or NULL with *ERRP set. */
static char *read_state_file(const char *path, GError **errp)
{
    g_autoptr(GString) text = g_string_new(NULL);
    int fd = block_state_dir_open(path, O_RDONLY, errp);
    char buf[65536];

    if (fd < 0) {
        g_prefix_error(errp, "cannot read the state file: ");
        return NULL;
    }
    for (;;) {
        ssize_t got = read(fd, buf, sizeof(buf));

        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0 || text->len + (size_t)MAX(got, 0) > STATE_MAX_BYTES) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "cannot read the state file '%s': %s", path,
                        got < 0 ? g_strerror(errno) : "it is too large");
            close(fd);
            return NULL;
        }
        if (got == 0) {
            break;
        }
        g_string_append_len(text, buf, got);
    }
    close(fd);
    return g_string_free(g_steal_pointer(&text), false);
}

/* Whether IMAGE is the file DEV's top has open. */
static bool is_top_of(const BlockDevice *dev, const char *image)
{
    struct stat st;
    dev_t top_dev;
    ino_t top_ino;

    block_node_file_id(dev->top, &top_dev, &top_ino);
    return stat(image, &st) == 0 && st.st_dev == top_dev
        && st.st_ino == top_ino;
}

/*
 * Open the tops the state file at PATH names for REG's devices into
 * NEW_TOPS (indexed like the devices; NULL where the device keeps its
 * image), and read its group counter into *GROUP.
 */
static bool open_recorded_tops(BlockDeviceRegistry *reg, const char *path,
                               BlockNode **new_tops, uint64_t *group,
                               GError **errp)
{
    g_autofree char *text = read_state_file(path, errp);
    json_object *root;
    json_object *devices = NULL;
    json_object *version = NULL;
    json_object *group_obj = NULL;
    enum json_tokener_error jerr;
    int64_t v;
    bool ok = false;

    if (!text) {
        return false;
    }
    root = json_tokener_parse_verbose(text, &jerr);
    if (!root || !json_object_is_type(root, json_type_object)
        || !json_object_object_get_ex(root, "version", &version)
        || !json_object_is_type(version, json_type_int)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "'%s' is not a state file (no version)", path);
        goto out;
    }
    v = json_object_get_int64(version);
    if (v < STATE_VERSION_MIN || v > BLOCK_STATE_VERSION) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "state file '%s' has version %" PRId64
                    "; this qapikit-blockd reads versions %d to %d",
                    path, v, STATE_VERSION_MIN, BLOCK_STATE_VERSION);
        goto out;
    }
    if (!json_object_object_get_ex(root, "devices", &devices)
        || !json_object_is_type(devices, json_type_array)
        || (v >= 2
            && (!json_object_object_get_ex(root, "group", &group_obj)
                || !json_object_is_type(group_obj, json_type_int)))) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "state file '%s' needs %s", path,
                    v >= 2 ? "a 'devices' array and a 'group' number"
                           : "a 'devices' array");
        goto out;
    }
    *group = group_obj ? json_object_get_uint64(group_obj) : 0;
    for (size_t i = 0; i < json_object_array_length(devices); i++) {
        json_object *entry = json_object_array_get_idx(devices, i);
        const char *id = member_string(entry, "device");
        const char *image = member_string(entry, "image");
        const char *format = member_string(entry, "format");
        BlockDevice *dev;
        BlockNode *top;
        dev_t drive_dev;
        ino_t drive_ino;
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
        if (is_top_of(dev, image)) {
            continue; /* still on its --drive image */
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
        new_tops[d] = top;
        block_node_file_id(dev->top, &drive_dev, &drive_ino);
        if (!block_chain_has_file(top, drive_dev, drive_ino)) {
            /*
             * Starting on the --drive file instead would fork the disk's
             * history; the user decides.
             */
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "%s: the image '%s' recorded in the state file '%s' "
                        "is not over the drive's file '%s'; to start on "
                        "the drive's file, remove the device's entry from "
                        "the state file",
                        id, image, path, dev->drive_file);
            goto out;
        }
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
    int fd = block_state_dir_open(path, O_RDWR | O_CREAT, errp);
    int saved_errno;

    if (fd < 0) {
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

/*
 * Set the image locks of the writable devices of REG that keep their top
 * (no NEW_TOPS entry) to WRITABLE or read-only.  False on the first
 * failure, with *ERRP set (NULL: log it and go on).
 */
static bool relock_tops(BlockDeviceRegistry *reg, BlockNode *const *new_tops,
                        bool writable, GError **errp)
{
    for (size_t d = 0; d < block_registry_count(reg); d++) {
        BlockDevice *dev = block_registry_nth(reg, d);
        g_autoptr(GError) err = NULL;

        if (dev->read_only || (new_tops && new_tops[d])) {
            continue;
        }
        if (!block_node_relock(dev->top, writable, &err)) {
            if (errp) {
                g_propagate_prefixed_error(errp, g_steal_pointer(&err),
                                           "%s: ", dev->id);
                return false;
            }
            g_message("%s: %s", dev->id, err->message);
        }
    }
    return true;
}

/* Replace *FD with NEW_FD, closing the old one. */
static void replace_fd(int *fd, int new_fd)
{
    if (*fd >= 0) {
        close(*fd);
    }
    *fd = new_fd;
}

bool block_registry_load_state(BlockDeviceRegistry *reg, const char *dir,
                               GError **errp)
{
    size_t count = block_registry_count(reg);
    g_autofree BlockNode **new_tops = g_new0(BlockNode *, count + 1);
    g_autofree BlockNode **tops = g_new0(BlockNode *, count + 1);
    g_autofree char *abs_dir = block_absolute_path(dir);
    g_autofree char *real_dir = NULL;
    g_autofree char *path = g_build_filename(abs_dir, BLOCK_STATE_FILE, NULL);
    struct stat st;
    uint64_t group = 0;
    bool have_state;
    int lock_fd, journal_fd = -1;
    bool ok;

    if (g_mkdir_with_parents(abs_dir, 0700) != 0
        || !(real_dir = realpath(abs_dir, NULL))) {
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
    have_state = lstat(path, &st) == 0;
    /* The recorded chains are opened over the drives' own images. */
    relock_tops(reg, new_tops, false, NULL);
    ok = !have_state || open_recorded_tops(reg, path, new_tops, &group, errp);
    ok = ok && relock_tops(reg, new_tops, true, errp);
    if (ok) {
        journal_fd = block_journal_open(abs_dir, errp);
        ok = journal_fd >= 0;
    }
    if (ok) {
        for (size_t d = 0; d < count; d++) {
            tops[d] =
                new_tops[d] ? new_tops[d] : block_registry_nth(reg, d)->top;
        }
        ok = block_journal_recover(journal_fd, group, have_state, tops, count,
                                   errp);
    }
    if (ok) {
        g_autofree char *old_dir = g_steal_pointer(&reg->state_dir);

        reg->state_dir = g_strdup(abs_dir);
        ok = block_state_save(reg, new_tops, group, errp);
        if (!ok) {
            g_free(reg->state_dir);
            reg->state_dir = g_steal_pointer(&old_dir);
        }
    }
    if (ok) {
        replace_fd(&reg->state_lock_fd, lock_fd);
        replace_fd(&reg->journal_fd, journal_fd);
        g_free(reg->state_dir_real);
        reg->state_dir_real = g_steal_pointer(&real_dir);
    } else {
        close(lock_fd);
        if (journal_fd >= 0) {
            close(journal_fd);
        }
        relock_tops(reg, NULL, true, NULL);
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
