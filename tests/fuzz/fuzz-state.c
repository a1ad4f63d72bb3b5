/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the state-file loader of qapikit-blockd,
 * block_registry_load_state() (contract in <qapikit/block-device.h>),
 * through the public functions only, so that it keeps working while the
 * file's format changes.
 *
 * Input: the text of DIR/blockd-state.json, with every "@DIR@" replaced
 * by the scratch directory (so that seeds can name its images).  Each
 * input gets a new registry with two raw devices over files of the
 * scratch directory, "disk0" read-only over disk0.raw and "disk1"
 * read-write over disk1.raw, and loads the state from DIR = the scratch
 * directory's "state" (emptied, then the file written, for each input:
 * no journal or temporary file of an earlier input is left).  The
 * scratch directory also holds qcow2 overlays for the seeds to name:
 * disk0-top.qcow2 over disk0.raw and disk1-top.qcow2 over disk1.raw.
 *
 * So that a mutated image name cannot reach other files (disk1's is
 * opened read-write), an input is skipped unless each string of it, as
 * json-c parses the text (JSON escapes decoded), that contains '/' starts
 * with the scratch directory and has no "..".  Input that json-c does
 * not parse goes through.
 *
 * Checked: the call fails exactly when it sets an error (QAPI domain);
 * on failure no device moved; on success every device's image is the
 * --drive file or a qcow2 chain over it, the lock is held (a second,
 * empty registry on DIR is refused) and the state file rewritten is
 * loaded by a new registry once the first is freed.
 */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <qapikit/block-device.h>
#include <qapikit/error.h>

static const char *scratch_dir;
static char *state_dir;
static char *state_file;
static char *drive_file[2];
static const char *const drive_id[2] = { "disk0", "disk1" };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    g_autoptr(GError) err = NULL;
    static char zeros[65536];
    bool created;

    (void)argc;
    (void)argv;
    fuzz_init();
    scratch_dir = fuzz_scratch_dir("qapikit-fuzz-state");
    state_dir = g_build_filename(scratch_dir, "state", NULL);
    state_file = g_build_filename(state_dir, BLOCK_STATE_FILE, NULL);
    for (int i = 0; i < 2; i++) {
        g_autofree char *name = g_strdup_printf("disk%d-top.qcow2", i);
        g_autofree char *top = g_build_filename(scratch_dir, name, NULL);
        Qcow2CreateOptions opts = { .size = sizeof(zeros), .cluster_bits = 9 };

        g_free(name);
        name = g_strdup_printf("disk%d.raw", i);
        drive_file[i] = g_build_filename(scratch_dir, name, NULL);
        if (!g_file_set_contents(drive_file[i], zeros, sizeof(zeros), &err)) {
            fuzz_setup_failed(drive_file[i], err);
        }
        opts.backing_file = drive_file[i];
        opts.backing_format = "raw";
        if (!qcow2_create(top, &opts, &created, &err)) {
            fuzz_setup_failed(top, err);
        }
    }
    if (mkdir(state_dir, 0700) != 0) {
        fuzz_setup_failed(state_dir, NULL);
    }
    return 0;
}

/* Whether every string in OBJ that has a '/' is in the scratch directory. */
static bool strings_confined(json_object *obj)
{
    switch (json_object_get_type(obj)) {
    case json_type_string: {
        const char *s = json_object_get_string(obj);
        size_t len = (size_t)json_object_get_string_len(obj);

        if (strlen(s) != len) {
            return !memchr(s, '/', len); /* a NUL cuts the name short */
        }
        if (!strchr(s, '/')) {
            return true;
        }
        return g_str_has_prefix(s, scratch_dir) && s[strlen(scratch_dir)] == '/'
            && !strstr(s, "..");
    }
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(obj); i++) {
            if (!strings_confined(json_object_array_get_idx(obj, i))) {
                return false;
            }
        }
        return true;
    case json_type_object: {
        json_object_object_foreach(obj, key, value)
        {
            if (strchr(key, '/') || !strings_confined(value)) {
                return false;
            }
        }
        return true;
    }
    default:
        return true;
    }
}

static BlockDeviceRegistry *new_registry(void)
{
    g_autoptr(GError) err = NULL;
    BlockDeviceRegistry *reg = block_registry_new();

    for (int i = 0; i < 2; i++) {
        if (!block_registry_add_drive(reg, drive_id[i], drive_file[i], "raw",
                                      i == 0, &err)) {
            fuzz_fail("cannot add %s: %s", drive_id[i], err->message);
        }
    }
    return reg;
}

/* Whether DEV's chain holds its --drive file (compared by device/inode). */
static bool over_drive(BlockDevice *dev, int i)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(BlockNode) drive =
        block_node_open(drive_file[i], "raw",
                        BLOCK_OPEN_READ_ONLY | BLOCK_OPEN_FORCE_SHARE, &err);
    dev_t want_dev, d;
    ino_t want_ino, ino;

    if (!drive) {
        fuzz_fail("cannot open %s: %s", drive_file[i], err->message);
    }
    block_node_file_id(drive, &want_dev, &want_ino);
    for (BlockNode *n = block_device_top(dev); n; n = block_node_backing(n)) {
        block_node_file_id(n, &d, &ino);
        if (d == want_dev && ino == want_ino) {
            return true;
        }
    }
    return false;
}

static bool write_state(const char *text, size_t len)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GDir) dir = g_dir_open(state_dir, 0, &err);
    const char *name;

    if (!dir) {
        return false;
    }
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(state_dir, name, NULL);

        unlink(path);
    }
    return g_file_set_contents(state_file, text, (gssize)len, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    json_object *parsed;
    BlockDeviceRegistry *reg;
    BlockDeviceRegistry *second;
    BlockNode *before[2];
    bool ok;
    gsize text_len;

    /* Substitute @DIR@ (on the bytes: the input may hold NULs). */
    {
        GString *s = g_string_new_len((const char *)data, (gssize)size);

        g_string_replace(s, "@DIR@", scratch_dir, 0);
        text_len = s->len;
        text = g_string_free(s, FALSE);
    }
    parsed = json_tokener_parse(text);
    if (parsed && !strings_confined(parsed)) {
        json_object_put(parsed);
        return 0;
    }
    json_object_put(parsed);
    if (!write_state(text, text_len)) {
        fuzz_fail("cannot write %s", state_file);
    }

    reg = new_registry();
    for (int i = 0; i < 2; i++) {
        before[i] = block_device_top(block_registry_find(reg, drive_id[i]));
    }
    ok = block_registry_load_state(reg, state_dir, &err);
    if (ok != !err || (err && err->domain != QAPI_ERROR)) {
        fuzz_fail("block_registry_load_state returned %d with error %s", ok,
                  err ? err->message : "none");
    }
    for (int i = 0; i < 2; i++) {
        BlockDevice *dev = block_registry_find(reg, drive_id[i]);

        if (!ok && block_device_top(dev) != before[i]) {
            fuzz_fail("%s moved though loading failed", drive_id[i]);
        }
        if (!over_drive(dev, i)) {
            fuzz_fail("%s is on %s, not over its drive", drive_id[i],
                      block_node_filename(block_device_top(dev)));
        }
        if (block_device_is_read_only(dev) != (i == 0)) {
            fuzz_fail("%s changed its read-only flag", drive_id[i]);
        }
    }
    if (ok) {
        second = block_registry_new();
        g_clear_error(&err);
        if (block_registry_load_state(second, state_dir, &err)) {
            fuzz_fail("a second registry got the locked state directory");
        }
        block_registry_free(second);
    }
    block_registry_free(reg);
    if (ok) {
        /* What the first registry wrote loads again. */
        g_clear_error(&err);
        reg = new_registry();
        if (!block_registry_load_state(reg, state_dir, &err)) {
            fuzz_fail("the rewritten state file does not load: %s",
                      err->message);
        }
        block_registry_free(reg);
    }
    return 0;
}
