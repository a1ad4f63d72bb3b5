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
#include <stdlib.h>
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

static const char *backing_mode_name(BlockBackingMode mode)
{
    return mode == BLOCK_BACKING_NONE ? "none"
        : mode == BLOCK_BACKING_NODE  ? "node"
                                      : "default";
}

/* The entry of DEV, on TOP: what a --drive device or a node needs. */
static json_object *device_to_json(BlockDevice *dev, BlockNode *top)
{
    g_autofree char *image = block_absolute_path(block_node_filename(top));
    json_object *entry = json_object_new_object();
    const char *format = block_format_name(block_node_format(top));

    if (!dev->is_node) {
        json_object_object_add(entry, "device",
                               json_object_new_string(dev->id));
        json_object_object_add(entry, "image", json_object_new_string(image));
        json_object_object_add(entry, "format", json_object_new_string(format));
        return entry;
    }
    json_object_object_add(entry, "node-name", json_object_new_string(dev->id));
    json_object_object_add(entry, "format",
                           json_object_new_string(dev->spec_format));
    json_object_object_add(entry, "file",
                           json_object_new_string(dev->drive_file));
    if (dev->file_node) {
        json_object_object_add(entry, "file-node",
                               json_object_new_string(dev->file_node));
    }
    json_object_object_add(
        entry, "read-only",
        json_object_new_boolean(dev->read_only && !dev->backing_users));
    json_object_object_add(entry, "force-share",
                           json_object_new_boolean(dev->force_share));
    json_object_object_add(
        entry, "backing",
        json_object_new_string(backing_mode_name(dev->backing_mode)));
    if (dev->backing_dev) {
        json_object_object_add(entry, "backing-node",
                               json_object_new_string(dev->backing_dev->id));
    }
    json_object_object_add(entry, "image", json_object_new_string(image));
    json_object_object_add(entry, "image-format",
                           json_object_new_string(format));
    return entry;
}

/* Record that the image of NODE is called NAME. */
static void node_name_to_json(json_object *names, const char *name,
                              BlockNode *node)
{
    g_autofree char *image = block_absolute_path(block_node_filename(node));
    json_object *entry = json_object_new_object();

    json_object_object_add(entry, "node-name", json_object_new_string(name));
    json_object_object_add(entry, "image", json_object_new_string(image));
    json_object_array_add(names, entry);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The file nodes, sorted by name. */
static json_object *file_nodes_to_json(BlockDeviceRegistry *reg)
{
    json_object *list = json_object_new_array();
    g_autofree gpointer *names =
        g_hash_table_get_keys_as_array(reg->file_nodes, NULL);
    guint n = g_hash_table_size(reg->file_nodes);

    qsort(names, n, sizeof(*names), compare_names);
    for (guint i = 0; i < n; i++) {
        BlockFileNode *f = g_hash_table_lookup(reg->file_nodes, names[i]);
        json_object *entry = json_object_new_object();

        json_object_object_add(entry, "node-name",
                               json_object_new_string(names[i]));
        json_object_object_add(entry, "filename",
                               json_object_new_string(f->filename));
        json_object_array_add(list, entry);
    }
    return list;
}

/* The embedders' parts: name -> the object each gives. */
static json_object *extensions_to_json(BlockDeviceRegistry *reg)
{
    json_object *obj = json_object_new_object();
    GHashTableIter iter;
    gpointer name, value;

    g_hash_table_iter_init(&iter, reg->extensions);
    while (g_hash_table_iter_next(&iter, &name, &value)) {
        StateExtension *ext = value;
        g_autofree char *text = ext->fn(ext->opaque);
        json_object *part = text ? json_tokener_parse(text) : NULL;

        if (part) {
            json_object_object_add(obj, name, part);
        }
    }
    return obj;
}

static json_object *state_to_json(BlockDeviceRegistry *reg,
                                  BlockNode *const *new_tops,
                                  const char *const *new_names, uint64_t group)
{
    json_object *root = json_object_new_object();
    json_object *devices = json_object_new_array();
    json_object *nodes = json_object_new_array();
    json_object *names = json_object_new_array();
    GHashTableIter iter;
    gpointer name, node;

    json_object_object_add(root, "version",
                           json_object_new_int(BLOCK_STATE_VERSION));
    json_object_object_add(root, "group", json_object_new_uint64(group));
    for (size_t d = 0; d < block_registry_count(reg); d++) {
        BlockDevice *dev = block_registry_nth(reg, d);
        BlockNode *top = new_tops && new_tops[d] ? new_tops[d] : dev->top;

        json_object_array_add(dev->is_node ? nodes : devices,
                              device_to_json(dev, top));
        if (new_tops && new_tops[d] && new_names && new_names[d]) {
            node_name_to_json(names, new_names[d], new_tops[d]);
        }
    }
    g_hash_table_iter_init(&iter, reg->node_names);
    while (g_hash_table_iter_next(&iter, &name, &node)) {
        node_name_to_json(names, name, node);
    }
    json_object_object_add(root, "node-names", names);
    json_object_object_add(root, "devices", devices);
    json_object_object_add(root, "file-nodes", file_nodes_to_json(reg));
    json_object_object_add(root, "nodes", nodes);
    json_object_object_add(root, "extensions", extensions_to_json(reg));
    return root;
}

bool block_registry_save_state(BlockDeviceRegistry *reg, GError **errp)
{
    return !reg->state_dir
        || block_state_save(reg, NULL, NULL, reg->group, errp);
}

void block_registry_set_state_extension(BlockDeviceRegistry *reg,
                                        const char *name,
                                        BlockStateExtensionFunc fn,
                                        void *opaque)
{
    StateExtension *ext;

    if (!fn) {
        g_hash_table_remove(reg->extensions, name);
        return;
    }
    ext = g_new0(StateExtension, 1);
    ext->fn = fn;
    ext->opaque = opaque;
    g_hash_table_insert(reg->extensions, g_strdup(name), ext);
}

const char *block_registry_state_extension(const BlockDeviceRegistry *reg,
                                           const char *name)
{
    return g_hash_table_lookup(reg->loaded_extensions, name);
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
                      const char *const *new_names, uint64_t group,
                      GError **errp)
{
    g_autofree char *path =
        g_build_filename(reg->state_dir, BLOCK_STATE_FILE, NULL);
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    json_object *root = state_to_json(reg, new_tops, new_names, group);
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
 * The state file at PATH parsed, its version checked, its devices array
 * in *DEVICES and its group in *GROUP; NULL with *ERRP set.
 */
static json_object *parse_state(const char *path, json_object **devices,
                                uint64_t *group, GError **errp)
{
    g_autofree char *text = read_state_file(path, errp);
    json_object *root;
    json_object *version = NULL;
    json_object *group_obj = NULL;
    enum json_tokener_error jerr;
    int64_t v;

    if (!text) {
        return NULL;
    }
    root = json_tokener_parse_verbose(text, &jerr);
    if (!root || !json_object_is_type(root, json_type_object)
        || !json_object_object_get_ex(root, "version", &version)
        || !json_object_is_type(version, json_type_int)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "'%s' is not a state file (no version)", path);
        json_object_put(root);
        return NULL;
    }
    v = json_object_get_int64(version);
    if (v < STATE_VERSION_MIN || v > BLOCK_STATE_VERSION) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "state file '%s' has version %" PRId64
                    "; this qapikit-blockd reads versions %d to %d",
                    path, v, STATE_VERSION_MIN, BLOCK_STATE_VERSION);
        json_object_put(root);
        return NULL;
    }
    if (!json_object_object_get_ex(root, "devices", devices)
        || !json_object_is_type(*devices, json_type_array)
        || (v >= 2
            && (!json_object_object_get_ex(root, "group", &group_obj)
                || !json_object_is_type(group_obj, json_type_int)))) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "state file '%s' needs %s", path,
                    v >= 2 ? "a 'devices' array and a 'group' number"
                           : "a 'devices' array");
        json_object_put(root);
        return NULL;
    }
    *group = group_obj ? json_object_get_uint64(group_obj) : 0;
    return root;
}

/*
 * Open the tops DEVICES (the state file's, at PATH) names for REG's
 * devices into NEW_TOPS (indexed like the devices; NULL where the device
 * keeps its image).
 */
static bool open_recorded_tops(BlockDeviceRegistry *reg, const char *path,
                               json_object *devices, BlockNode **new_tops,
                               GError **errp)
{
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
            return false;
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
            return false;
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
            return false;
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
            return false;
        }
    }
    return true;
}

static bool member_bool(json_object *obj, const char *key)
{
    json_object *value;

    return json_object_object_get_ex(obj, key, &value)
        && json_object_get_boolean(value);
}

/*
 * The file nodes and nodes the state file (ROOT, at PATH) records,
 * added to REG in order; their names are appended to ADDED.
 */
static bool restore_nodes(BlockDeviceRegistry *reg, const char *path,
                          json_object *root, GPtrArray *added, GError **errp)
{
    json_object *list;

    if (json_object_object_get_ex(root, "file-nodes", &list)) {
        for (size_t i = 0; i < json_object_array_length(list); i++) {
            json_object *entry = json_object_array_get_idx(list, i);
            const char *name = member_string(entry, "node-name");
            const char *filename = member_string(entry, "filename");
            BlockFileNode *f;

            if (!name || !filename) {
                g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "state file '%s': file node %zu needs "
                            "'node-name' and 'filename'",
                            path, i);
                return false;
            }
            if (!block_device_id_valid(name)
                || g_hash_table_contains(reg->by_id, name)
                || g_hash_table_contains(reg->file_nodes, name)) {
                g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "state file '%s': file node '%s' is invalid or "
                            "its name is in use",
                            path, name);
                return false;
            }
            f = g_new0(BlockFileNode, 1);
            f->filename = g_strdup(filename);
            g_hash_table_insert(reg->file_nodes, g_strdup(name), f);
            g_ptr_array_add(added, g_strdup(name));
        }
    }
    if (!json_object_object_get_ex(root, "nodes", &list)) {
        return true;
    }
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *entry = json_object_array_get_idx(list, i);
        const char *backing = member_string(entry, "backing");
        BlockNodeSpec spec = {
            .node_name = member_string(entry, "node-name"),
            .format = member_string(entry, "format"),
            .filename = member_string(entry, "file"),
            .file_node = member_string(entry, "file-node"),
            .read_only = member_bool(entry, "read-only"),
            .force_share = member_bool(entry, "force-share"),
            .backing_node = member_string(entry, "backing-node"),
        };
        const char *image = member_string(entry, "image");
        const char *image_format = member_string(entry, "image-format");
        BlockDevice *dev;

        if (!spec.node_name || !spec.format || !spec.filename || !image
            || !image_format || !backing) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "state file '%s': node %zu needs 'node-name', "
                        "'format', 'file', 'backing', 'image' and "
                        "'image-format'",
                        path, i);
            return false;
        }
        spec.backing = !strcmp(backing, "none") ? BLOCK_BACKING_NONE
            : !strcmp(backing, "node") && spec.backing_node
            ? BLOCK_BACKING_NODE
            : BLOCK_BACKING_DEFAULT;
        if (spec.file_node) {
            spec.filename = NULL;
        }
        dev =
            block_registry_restore_node(reg, &spec, image, image_format, errp);
        if (!dev) {
            g_prefix_error(errp, "state file '%s': ", path);
            return false;
        }
        g_ptr_array_add(added, g_strdup(spec.node_name));
    }
    return true;
}

/*
 * The node names ROOT records ("node-names": name and image file), given
 * again to the images of the chains TOPS (of REG's devices, in order);
 * a name whose image is in no chain is dropped.
 */
static void restore_node_names(BlockDeviceRegistry *reg, json_object *root,
                               BlockNode *const *tops)
{
    json_object *list;

    if (!json_object_object_get_ex(root, "node-names", &list)
        || !json_object_is_type(list, json_type_array)) {
        return;
    }
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *entry = json_object_array_get_idx(list, i);
        const char *name = member_string(entry, "node-name");
        const char *image = member_string(entry, "image");
        struct stat st;

        if (!name || !image || !block_device_id_valid(name)
            || g_hash_table_contains(reg->node_names, name)
            || block_registry_find(reg, name) || stat(image, &st) != 0) {
            continue;
        }
        for (size_t d = 0; d < block_registry_count(reg); d++) {
            BlockDevice *dev = block_registry_nth(reg, d);
            BlockNode *node = tops[d];

            while (node) {
                dev_t nd;
                ino_t ni;

                block_node_file_id(node, &nd, &ni);
                if (nd == st.st_dev && ni == st.st_ino) {
                    break;
                }
                node = block_node_backing(node);
            }
            if (node) {
                g_hash_table_insert(reg->node_names, g_strdup(name), node);
                if (node == tops[d]) {
                    g_free(dev->node_name);
                    dev->node_name = g_strdup(name);
                }
                break;
            }
        }
    }
}

/* The extensions of ROOT, kept as text for their embedders. */
static void keep_extensions(BlockDeviceRegistry *reg, json_object *root)
{
    json_object *extensions;

    g_hash_table_remove_all(reg->loaded_extensions);
    if (!json_object_object_get_ex(root, "extensions", &extensions)
        || !json_object_is_type(extensions, json_type_object)) {
        return;
    }
    json_object_object_foreach(extensions, name, value)
    {
        g_hash_table_insert(reg->loaded_extensions, g_strdup(name),
                            g_strdup(json_object_to_json_string(value)));
    }
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
    g_autofree BlockNode **tops = NULL;
    g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *abs_dir = block_absolute_path(dir);
    g_autofree char *real_dir = NULL;
    g_autofree char *path = g_build_filename(abs_dir, BLOCK_STATE_FILE, NULL);
    json_object *root = NULL;
    json_object *devices = NULL;
    struct stat st;
    uint64_t group = 0;
    bool have_state;
    int lock_fd, journal_fd = -1;
    size_t all;
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
    ok = !have_state || (root = parse_state(path, &devices, &group, errp));
    /* The recorded chains are opened over the drives' own images. */
    relock_tops(reg, new_tops, false, NULL);
    ok =
        ok && (!root || open_recorded_tops(reg, path, devices, new_tops, errp));
    ok = ok && relock_tops(reg, new_tops, true, errp);
    ok = ok && (!root || restore_nodes(reg, path, root, added, errp));
    if (ok) {
        journal_fd = block_journal_open(abs_dir, errp);
        ok = journal_fd >= 0;
    }
    if (ok) {
        /* The nodes restored above count too. */
        all = block_registry_count(reg);
        tops = g_new0(BlockNode *, all + 1);
        for (size_t d = 0; d < all; d++) {
            tops[d] = d < count && new_tops[d]
                ? new_tops[d]
                : block_registry_nth(reg, d)->top;
        }
        ok = block_journal_recover(journal_fd, group, have_state, tops, all,
                                   errp);
    }
    if (ok && root) {
        keep_extensions(reg, root);
        restore_node_names(reg, root, tops);
    }
    if (ok) {
        g_autofree char *old_dir = g_steal_pointer(&reg->state_dir);
        g_autofree BlockNode **save_tops = g_new0(BlockNode *, all + 1);

        memcpy(save_tops, new_tops, count * sizeof(*new_tops));
        reg->state_dir = g_strdup(abs_dir);
        ok = block_state_save(reg, save_tops, NULL, group, errp);
        if (!ok) {
            g_free(reg->state_dir);
            reg->state_dir = g_steal_pointer(&old_dir);
        }
    }
    json_object_put(root);
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
        /* Nodes, then file nodes, newest first. */
        for (guint i = added->len; i-- > 0;) {
            block_registry_del_node(reg, added->pdata[i], NULL);
        }
        g_hash_table_remove_all(reg->loaded_extensions);
        /* Only what this load named: the registry had none before. */
        g_hash_table_remove_all(reg->node_names);
        for (size_t d = 0; d < block_registry_count(reg); d++) {
            BlockDevice *dev = block_registry_nth(reg, d);

            g_clear_pointer(&dev->node_name, g_free);
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
