/* SPDX-License-Identifier: MIT */
/*
 * The intent journal of a state directory (DIR/blockd-journal): what a
 * snapshot group is about to create, so that a restart after a crash
 * removes the files of a group that never committed and nothing else.
 * Contract in device-internal.h; format in docs/snapshots.md.
 *
 * One JSON object per line, each written with one write() and made
 * durable with fdatasync() before the step it announces:
 *
 *   {"version": 2, "group": 7, "intent": ["/abs/a.qcow2", ...]}
 *   {"version": 2, "group": 7, "created": [{"path": "/abs/a.qcow2",
 *                                           "dev": 2049, "ino": 131}]}
 *
 * A line cut short by a crash was never durable, so nothing depended on
 * it: it is ignored.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include <qapikit/error.h>

#include "device-internal.h"

/* The journal of a daemon that never crashed is empty; this is plenty. */
#define JOURNAL_MAX_BYTES ((size_t)16 * 1024 * 1024)

static void set_journal_error(GError **errp, const char *what, int err)
{
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                "cannot %s the journal '%s' of the state directory: %s", what,
                BLOCK_JOURNAL_FILE, g_strerror(err));
}

int block_journal_open(const char *dir, GError **errp)
{
    g_autofree char *path = g_build_filename(dir, BLOCK_JOURNAL_FILE, NULL);

    return block_state_dir_open(path, O_RDWR | O_CREAT | O_APPEND, errp);
}

static bool sync_fd(int fd)
{
    int ret;

    do {
        ret = fdatasync(fd);
    } while (ret < 0 && errno == EINTR);
    return ret == 0;
}

/* Append LINE (a JSON object) and a newline, durably. */
static bool append_line(int fd, json_object *line, GError **errp)
{
    g_autofree char *text = g_strconcat(
        json_object_to_json_string_ext(
            line, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
        "\n", NULL);
    size_t len = strlen(text);
    ssize_t done;

    do {
        done = write(fd, text, len);
    } while (done < 0 && errno == EINTR);
    if (done < 0 || (size_t)done != len) {
        /* A short append is a torn line: harmless, but an error. */
        set_journal_error(errp, "write", done < 0 ? errno : ENOSPC);
        return false;
    }
    if (!sync_fd(fd)) {
        set_journal_error(errp, "sync", errno);
        return false;
    }
    return true;
}

static json_object *new_record(uint64_t group)
{
    json_object *line = json_object_new_object();

    json_object_object_add(line, "version",
                           json_object_new_int(BLOCK_STATE_VERSION));
    json_object_object_add(line, "group", json_object_new_uint64(group));
    return line;
}

/* Empty the journal; not durable by itself (the next sync makes it so). */
static bool truncate_journal(int fd, GError **errp)
{
    int ret;

    do {
        ret = ftruncate(fd, 0);
    } while (ret < 0 && errno == EINTR);
    if (ret < 0) {
        set_journal_error(errp, "truncate", errno);
        return false;
    }
    return true;
}

bool block_journal_clear(int fd, GError **errp)
{
    if (!truncate_journal(fd, errp)) {
        return false;
    }
    if (!sync_fd(fd)) {
        set_journal_error(errp, "sync", errno);
        return false;
    }
    return true;
}

bool block_journal_intent(int fd, uint64_t group, char *const *paths, size_t n,
                          GError **errp)
{
    json_object *line = new_record(group);
    json_object *list = json_object_new_array();
    bool ok;

    for (size_t i = 0; i < n; i++) {
        json_object_array_add(list, json_object_new_string(paths[i]));
    }
    json_object_object_add(line, "intent", list);
    ok = truncate_journal(fd, errp) && append_line(fd, line, errp);
    json_object_put(line);
    return ok;
}

bool block_journal_created(int fd, uint64_t group,
                           const BlockJournalFile *files, size_t n,
                           bool replace, GError **errp)
{
    json_object *line = new_record(group);
    json_object *list = json_object_new_array();
    bool ok;

    for (size_t i = 0; i < n; i++) {
        json_object *file = json_object_new_object();

        json_object_object_add(file, "path",
                               json_object_new_string(files[i].path));
        json_object_object_add(file, "dev",
                               json_object_new_uint64(files[i].dev));
        json_object_object_add(file, "ino",
                               json_object_new_uint64(files[i].ino));
        json_object_array_add(list, file);
    }
    json_object_object_add(line, "created", list);
    ok =
        (!replace || truncate_journal(fd, errp)) && append_line(fd, line, errp);
    json_object_put(line);
    return ok;
}

/* The whole journal, or NULL with *ERRP set. */
static char *read_journal(int fd, GError **errp)
{
    struct stat st;
    g_autofree char *text = NULL;
    size_t len = 0;

    if (fstat(fd, &st) < 0) {
        set_journal_error(errp, "read", errno);
        return NULL;
    }
    if ((uint64_t)st.st_size > JOURNAL_MAX_BYTES) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "the journal '%s' of the state directory is %jd bytes "
                    "long, more than a journal ever holds; remove it once "
                    "no snapshot file it names is needed",
                    BLOCK_JOURNAL_FILE, (intmax_t)st.st_size);
        return NULL;
    }
    text = g_malloc((size_t)st.st_size + 1);
    while (len < (size_t)st.st_size) {
        ssize_t got =
            pread(fd, text + len, (size_t)st.st_size - len, (off_t)len);

        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            set_journal_error(errp, "read", errno);
            return NULL;
        }
        if (got == 0) {
            break;
        }
        len += (size_t)got;
    }
    text[len] = '\0';
    return g_steal_pointer(&text);
}

/* Whether DEV/INO is an image of one of the chains TOPS[0..N). */
static bool in_use(BlockNode *const *tops, size_t n, dev_t dev, ino_t ino)
{
    for (size_t t = 0; t < n; t++) {
        if (block_chain_has_file(tops[t], dev, ino)) {
            return true;
        }
    }
    return false;
}

/* Remove the file a record names if it is still the one created. */
static void remove_created(BlockNode *const *tops, size_t n_tops,
                           json_object *file)
{
    json_object *path_obj, *dev_obj, *ino_obj;
    const char *path;
    struct stat st;

    if (!json_object_object_get_ex(file, "path", &path_obj)
        || !json_object_is_type(path_obj, json_type_string)
        || !json_object_object_get_ex(file, "dev", &dev_obj)
        || !json_object_object_get_ex(file, "ino", &ino_obj)) {
        return;
    }
    path = json_object_get_string(path_obj);
    if (lstat(path, &st) != 0) {
        return; /* never linked, or already removed */
    }
    if (!S_ISREG(st.st_mode)
        || (uint64_t)st.st_dev != json_object_get_uint64(dev_obj)
        || (uint64_t)st.st_ino != json_object_get_uint64(ino_obj)) {
        g_message("journal: '%s' is not the file an unfinished snapshot "
                  "group created; left alone",
                  path);
        return;
    }
    if (in_use(tops, n_tops, st.st_dev, st.st_ino)) {
        return;
    }
    if (unlink(path) != 0) {
        g_message("journal: could not remove '%s', left by an unfinished "
                  "snapshot group: %s",
                  path, g_strerror(errno));
        return;
    }
    g_message("journal: removed '%s', left by an unfinished snapshot group",
              path);
}

static void put_record(gpointer record)
{
    json_object_put(record);
}

/*
 * The records of groups after COMMITTED in TEXT, in order (owned), or
 * NULL with *ERRP set for a record of a newer version.
 */
static GPtrArray *uncommitted_records(const char *text, uint64_t committed,
                                      GError **errp)
{
    g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func(put_record);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

    for (char **l = lines; *l; l++) {
        json_object *line = json_tokener_parse(*l);
        json_object *version, *group;

        if (!line || !json_object_is_type(line, json_type_object)) {
            json_object_put(line);
            continue; /* empty, or torn by a crash */
        }
        if (json_object_object_get_ex(line, "version", &version)
            && json_object_get_int64(version) > BLOCK_STATE_VERSION) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "the journal '%s' of the state directory has "
                        "version %" PRId64 "; this qapikit-blockd reads "
                        "versions up to %d",
                        BLOCK_JOURNAL_FILE, json_object_get_int64(version),
                        BLOCK_STATE_VERSION);
            json_object_put(line);
            return NULL;
        }
        if (!json_object_object_get_ex(line, "group", &group)
            || json_object_get_uint64(group) <= committed) {
            json_object_put(line);
            continue; /* a group that committed */
        }
        g_ptr_array_add(records, line);
    }
    return g_steal_pointer(&records);
}

/* The array member NAME of RECORD, or NULL. */
static json_object *record_list(json_object *record, const char *name)
{
    json_object *list;

    if (!json_object_object_get_ex(record, name, &list)
        || !json_object_is_type(list, json_type_array)) {
        return NULL;
    }
    return list;
}

bool block_journal_recover(int fd, uint64_t committed, bool have_state,
                           BlockNode *const *tops, size_t n_tops, GError **errp)
{
    g_autofree char *text = read_journal(fd, errp);
    g_autoptr(GPtrArray) records = NULL;
    g_autoptr(GHashTable) recorded = NULL;

    if (!text) {
        return false;
    }
    records = uncommitted_records(text, committed, errp);
    if (!records) {
        return false;
    }
    if (!have_state && records->len) {
        /* The state file was removed: its groups cannot be told apart. */
        g_message("journal: no state file to tell which snapshot groups "
                  "completed; no file is removed");
        return block_journal_clear(fd, errp);
    }
    /* Created files first, then the intended ones never recorded. */
    recorded = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint r = 0; r < records->len; r++) {
        json_object *list = record_list(records->pdata[r], "created");

        for (size_t i = 0; list && i < json_object_array_length(list); i++) {
            json_object *file = json_object_array_get_idx(list, i);
            json_object *path;

            remove_created(tops, n_tops, file);
            if (json_object_object_get_ex(file, "path", &path)) {
                g_hash_table_add(recorded,
                                 (char *)json_object_get_string(path));
            }
        }
    }
    for (guint r = 0; r < records->len; r++) {
        json_object *list = record_list(records->pdata[r], "intent");

        for (size_t i = 0; list && i < json_object_array_length(list); i++) {
            const char *path =
                json_object_get_string(json_object_array_get_idx(list, i));
            struct stat st;

            if (path && !g_hash_table_contains(recorded, path)
                && lstat(path, &st) == 0) {
                g_message("journal: '%s' may have been created by an "
                          "unfinished snapshot group, but its creation was "
                          "not recorded; left alone",
                          path);
            }
        }
    }
    return block_journal_clear(fd, errp);
}
