/* SPDX-License-Identifier: MIT */
/*
 * Group snapshots in three phases (docs/spec/qcow2-format.md §11): prepare
 * everything that can fail, pivot with no failure point left, or undo
 * what the prepare phase made.
 */
#define _GNU_SOURCE /* O_TMPFILE, AT_EMPTY_PATH */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qapikit/error.h>

#include "device-internal.h"

/* The longest backing file name a qcow2 header may hold. */
#define BACKING_NAME_MAX 1023

/* One entry of the group while it is being prepared. */
typedef struct Prepared {
    const BlockSnapshotEntry *entry;
    BlockDevice *dev; /* NULL for an abort action */
    char *path;       /* snapshot file made absolute */
    bool exists;      /* it existed at check time ... */
    dev_t st_dev;     /* ... as this file */
    ino_t st_ino;
    int tmp_fd;    /* the new overlay while unnamed (O_TMPFILE), or -1 */
    dev_t new_dev; /* the file this group created ... */
    ino_t new_ino;
    bool made;          /* ... exists (named, or unnamed in tmp_fd) */
    bool created;       /* it has its name: unlink on undo */
    BlockNode *overlay; /* opened overlay, one reference */
    char *node_name;    /* snapshot-node-name, to move into the device */
    GError *err;        /* the first failure of this entry's preparation */
} Prepared;

static void prepared_clear(Prepared *p)
{
    if (p->tmp_fd >= 0) {
        close(p->tmp_fd); /* an unnamed file vanishes with it */
    }
    block_node_unref(p->overlay);
    g_free(p->path);
    g_free(p->node_name);
    g_clear_error(&p->err);
}

static char *file_key(dev_t dev, ino_t ino)
{
    return g_strdup_printf("%ju:%ju", (uintmax_t)dev, (uintmax_t)ino);
}

/*
 * Every image of every chain, by absolute name and by device and inode,
 * mapped to the id of the device that uses it.
 */
typedef struct ImagesInUse {
    GHashTable *by_path;
    GHashTable *by_file;
} ImagesInUse;

static void images_in_use_init(ImagesInUse *in_use,
                               const BlockDeviceRegistry *reg)
{
    in_use->by_path =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    in_use->by_file =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (size_t i = 0; i < block_registry_count(reg); i++) {
        BlockDevice *dev = block_registry_nth(reg, i);

        for (BlockNode *node = dev->top; node;
             node = block_node_backing(node)) {
            dev_t st_dev;
            ino_t st_ino;

            block_node_file_id(node, &st_dev, &st_ino);
            g_hash_table_insert(in_use->by_path,
                                block_absolute_path(block_node_filename(node)),
                                dev->id);
            g_hash_table_insert(in_use->by_file, file_key(st_dev, st_ino),
                                dev->id);
        }
    }
}

static void images_in_use_clear(ImagesInUse *in_use)
{
    g_hash_table_destroy(in_use->by_path);
    g_hash_table_destroy(in_use->by_file);
}

static bool node_name_valid(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > 31 || !g_ascii_isalpha(name[0])) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!g_ascii_isalnum(name[i]) && !strchr("._-", name[i])) {
            return false;
        }
    }
    return true;
}

/*
 * Whether the file PATH (absolute, directory resolved) names, or the
 * file a symlink there points to, is in REG's state directory or below.
 */
static bool in_state_dir(const BlockDeviceRegistry *reg, const char *path)
{
    g_autofree char *target = NULL;
    g_autofree char *dir = NULL;
    size_t len;

    if (!reg->state_dir_real) {
        return false;
    }
    target = realpath(path, NULL);
    dir = g_path_get_dirname(target ? target : path);
    len = strlen(reg->state_dir_real);
    return !strncmp(dir, reg->state_dir_real, len)
        && (dir[len] == '\0' || dir[len] == '/'
            || !strcmp(reg->state_dir_real, "/"));
}

/* Phase 1, step 1: check entry I before anything is touched. */
static bool check_entry(BlockDeviceRegistry *reg, Prepared *prepared, size_t i,
                        const ImagesInUse *in_use, GError **errp)
{
    Prepared *p = &prepared[i];
    const BlockSnapshotEntry *e = p->entry;
    const char *id;
    const char *owner;
    struct stat st;

    if (!e->device == !e->node_name) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "snapshot %zu: give exactly one of 'device' and "
                    "'node-name'",
                    i);
        return false;
    }
    if (e->device) {
        p->dev = block_registry_find(reg, e->device);
        if (!p->dev) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_DEVICENOTFOUND,
                        "device '%s' not found", e->device);
            return false;
        }
    } else {
        p->dev = block_registry_find_named_node(reg, e->node_name);
        if (!p->dev) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_DEVICENOTFOUND,
                        "no device's image has node name '%s'", e->node_name);
            return false;
        }
    }
    id = p->dev->id;
    for (size_t j = 0; j < i; j++) {
        if (prepared[j].dev == p->dev) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_DEVICEINUSE,
                        "%s: the device is listed twice in one group", id);
            return false;
        }
    }

    if (!e->snapshot_file || !*e->snapshot_file) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "%s: the snapshot file name is empty", id);
        return false;
    }
    p->path = block_absolute_path(e->snapshot_file);
    if (in_state_dir(reg, p->path)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "%s: snapshot file '%s' is in the daemon's state "
                    "directory '%s', which holds the daemon's own files",
                    id, e->snapshot_file, reg->state_dir);
        return false;
    }
    if (stat(e->snapshot_file, &st) == 0) {
        p->exists = true;
        p->st_dev = st.st_dev;
        p->st_ino = st.st_ino;
    }
    for (size_t j = 0; j < i; j++) {
        Prepared *q = &prepared[j];

        if (q->path
            && (!strcmp(q->path, p->path)
                || (p->exists && q->exists && q->st_dev == p->st_dev
                    && q->st_ino == p->st_ino))) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                        "%s: snapshot file '%s' is also the snapshot file "
                        "of device '%s'",
                        id, e->snapshot_file, q->dev->id);
            return false;
        }
    }

    if (e->format && strcmp(e->format, "qcow2") != 0) {
        if (!strcmp(e->format, "raw")) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_INVALIDBLOCKFORMAT,
                        "%s: snapshot file '%s' cannot be 'raw': a raw "
                        "image has no backing file; use 'qcow2'",
                        id, e->snapshot_file);
        } else {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_INVALIDBLOCKFORMAT,
                        "%s: unknown format '%s' for snapshot file '%s' "
                        "(only 'qcow2' is supported)",
                        id, e->format, e->snapshot_file);
        }
        return false;
    }

    if (e->mode == BLOCK_SNAPSHOT_MODE_ABSOLUTE_PATHS) {
        if (lstat(e->snapshot_file, &st) == 0) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                        "%s: snapshot file '%s' already exists", id,
                        e->snapshot_file);
            return false;
        }
    } else if (!p->exists) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "%s: snapshot file '%s' does not exist (mode "
                    "'existing')",
                    id, e->snapshot_file);
        return false;
    }

    owner = g_hash_table_lookup(in_use->by_path, p->path);
    if (!owner && p->exists) {
        g_autofree char *key = file_key(p->st_dev, p->st_ino);

        owner = g_hash_table_lookup(in_use->by_file, key);
    }
    if (owner) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "%s: snapshot file '%s' is an image of device '%s'", id,
                    e->snapshot_file, owner);
        return false;
    }

    if (strlen(block_node_filename(p->dev->top)) > BACKING_NAME_MAX) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "%s: snapshot file '%s' cannot record the device's "
                    "image name as its backing file: it is longer than "
                    "%d bytes",
                    id, e->snapshot_file, BACKING_NAME_MAX);
        return false;
    }

    /* The overlay over a chain of depth D + 1 images: D + 2 images. */
    if (block_node_backing_depth(p->dev->top) + 2 > BLOCK_MAX_CHAIN_DEPTH) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "%s: snapshot file '%s' would make the backing chain "
                    "%u images long; at most %d can be opened",
                    id, e->snapshot_file,
                    block_node_backing_depth(p->dev->top) + 2,
                    BLOCK_MAX_CHAIN_DEPTH);
        return false;
    }

    if (e->snapshot_node_name) {
        if (!node_name_valid(e->snapshot_node_name)) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "%s: invalid node name '%s': a letter, then "
                        "letters, digits, '.', '_' or '-', at most 31 "
                        "bytes",
                        id, e->snapshot_node_name);
            return false;
        }
        if (g_hash_table_contains(reg->node_names, e->snapshot_node_name)
            || g_hash_table_contains(reg->file_nodes, e->snapshot_node_name)
            || block_registry_find(reg, e->snapshot_node_name)) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "%s: node name '%s' is already in use", id,
                        e->snapshot_node_name);
            return false;
        }
        for (size_t j = 0; j < i; j++) {
            if (prepared[j].node_name
                && !strcmp(prepared[j].node_name, e->snapshot_node_name)) {
                g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "%s: node name '%s' is given twice", id,
                            e->snapshot_node_name);
                return false;
            }
        }
        p->node_name = g_strdup(e->snapshot_node_name);
    }
    return true;
}

static void set_open_failed(GError **errp, const char *id, GError *err)
{
    err->code = QAPI_ERROR_CLASS_OPENFILEFAILED;
    err->domain = QAPI_ERROR;
    g_propagate_prefixed_error(errp, err, "%s: ", id);
}

/* In mode 'existing': the image must fit in front of the old top. */
static bool check_existing(const Prepared *p, BlockNode *old_top, GError **errp)
{
    const char *id = p->dev->id;
    const char *file = p->entry->snapshot_file;
    BlockNode *overlay = p->overlay;
    const char *backing = block_node_full_backing_name(overlay);
    const char *backing_format = block_node_backing_format(overlay);
    dev_t old_dev;
    ino_t old_ino;
    struct stat st;

    if (block_node_length(overlay) != block_node_length(old_top)) {
        g_set_error(
            errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
            "%s: snapshot file '%s' has a virtual size of %" G_GUINT64_FORMAT
            " bytes, the device has %" G_GUINT64_FORMAT,
            id, file, block_node_length(overlay), block_node_length(old_top));
        return false;
    }
    if (!backing) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "%s: snapshot file '%s' has no backing file; it must "
                    "name the device's image '%s'",
                    id, file, block_node_filename(old_top));
        return false;
    }
    block_node_file_id(old_top, &old_dev, &old_ino);
    if (stat(backing, &st) != 0 || st.st_dev != old_dev
        || st.st_ino != old_ino) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "%s: snapshot file '%s' has backing file '%s', not "
                    "the device's image '%s'",
                    id, file, block_node_backing_name(overlay),
                    block_node_filename(old_top));
        return false;
    }
    if (backing_format
        && strcmp(backing_format, block_format_name(block_node_format(old_top)))
            != 0) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "%s: snapshot file '%s' records backing format '%s', "
                    "but the device's image '%s' is %s",
                    id, file, backing_format, block_node_filename(old_top),
                    block_format_name(block_node_format(old_top)));
        return false;
    }
    return true;
}

/*
 * Phase 1, step 2.  Each absolute-paths entry gets its overlay file
 * first, in this thread: unnamed (O_TMPFILE) where the file system
 * allows, so its device and inode are known before any content and a
 * crash leaves nothing; else at its name (O_EXCL), announced in the
 * journal before.  Then the slow part runs as jobs on a pool of threads,
 * so that the waits for the disk overlap: per entry, flush the old top,
 * then write and fdatasync the overlay (or open the existing one); and,
 * with a journal, one more job records the unnamed overlays' device and
 * inode, durably, while their contents are written.  Each node and each
 * file is used by one thread only, while the caller waits.  Then, in this
 * thread and in order, each overlay is named, opened, checked (mode
 * 'existing') and put over its old top.  An entry whose step fails skips
 * its next ones; the error reported is that of the first failing entry
 * in request order, as if the entries were prepared one after the other.
 * The test hook is asked in this thread only, before the jobs run.
 */
#define PREPARE_THREADS 64

/* The journal's record of a group's unnamed overlays (a job of its own). */
typedef struct RecordJob {
    int fd;
    uint64_t group;
    GArray *files; /* BlockJournalFile, borrowed paths */
    bool replace;  /* the journal holds no line of this group yet */
    GError *err;
} RecordJob;

typedef struct PrepareJob {
    Prepared *p; /* NULL: the job is RECORD */
    RecordJob *record;
    bool flush;         /* the old top is writable: flush it */
    bool fault_flush;   /* test hook: fail the flush */
    bool fault_create;  /* test hook: fail after creating */
    bool fault_open;    /* test hook: fail instead of opening */
    GError *create_err; /* making the overlay's file failed */
    Qcow2CreateOptions opts;
} PrepareJob;

/* P's overlay file exists, open as FD: note its device and inode. */
static void note_made(Prepared *p, int fd)
{
    struct stat st;

    p->made = true;
    if (fstat(fd, &st) == 0) {
        p->new_dev = st.st_dev;
        p->new_ino = st.st_ino;
    }
}

/*
 * Make the file of P's overlay unnamed in its directory (O_TMPFILE).
 * Returns the descriptor, or -1: with *ERRP set, or with *NAMED when the
 * file system has no O_TMPFILE (or NO_TMPFILE says to act so), for the
 * job to create it at its name.
 */
static int make_overlay_file(Prepared *p, bool no_tmpfile, bool *named,
                             GError **errp)
{
    g_autofree char *dir = g_path_get_dirname(p->path);
    int fd;

    *named = no_tmpfile;
    if (no_tmpfile) {
        return -1;
    }
    do {
        fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        *named = true;
        return -1;
    }
    if (fd < 0) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "Could not create '%s': %s", p->entry->snapshot_file,
                    g_strerror(errno));
        return -1;
    }
    note_made(p, fd);
    return fd;
}

/* Create P's overlay at its name (no O_TMPFILE), after the intent. */
static int make_named_overlay_file(Prepared *p, GError **errp)
{
    int fd;

    do {
        fd = open(p->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "Could not create '%s': %s", p->entry->snapshot_file,
                    g_strerror(errno));
        return -1;
    }
    p->created = true; /* undo unlinks it */
    note_made(p, fd);
    return fd;
}

/* Give the unnamed overlay of P its name; it never replaces a file. */
static bool link_overlay(Prepared *p, GError **errp)
{
    char proc_path[64];
    int ret;

    g_snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", p->tmp_fd);
    ret = linkat(AT_FDCWD, proc_path, AT_FDCWD, p->path, AT_SYMLINK_FOLLOW);
    if (ret < 0 && errno == ENOENT && access("/proc/self/fd", F_OK) != 0) {
        /* No /proc: AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH. */
        ret = linkat(p->tmp_fd, "", AT_FDCWD, p->path, AT_EMPTY_PATH);
    }
    if (ret < 0) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                    "Could not create '%s': %s", p->entry->snapshot_file,
                    g_strerror(errno));
        return false;
    }
    p->created = true;
    close(p->tmp_fd);
    p->tmp_fd = -1;
    return true;
}

static void open_overlay(Prepared *p, GError **errp)
{
    unsigned flags = BLOCK_OPEN_NO_BACKING;
    GError *err = NULL;

    if (p->dev->read_only) {
        flags |= BLOCK_OPEN_READ_ONLY;
    }
    p->overlay = block_node_open(p->entry->snapshot_file, "qcow2", flags, &err);
    if (!p->overlay) {
        set_open_failed(errp, p->dev->id, err);
    }
}

static void set_fault(GError **errp, Prepared *p, const char *step)
{
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                "%s: %s '%s' failed (injected fault)", p->dev->id, step,
                p->entry->snapshot_file);
}

/*
 * One entry's slow part, in a pool thread: flush the old top, then
 * write the new overlay (absolute-paths) or open the existing one.
 */
static void prepare_entry_job(PrepareJob *job)
{
    Prepared *p = job->p;
    const char *id = p->dev->id;
    GError *err = NULL;
    int fd;

    if (job->fault_flush) {
        g_set_error(&p->err, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "%s: flushing '%s' failed (injected fault)", id,
                    block_node_filename(p->dev->top));
        return;
    }
    if (job->flush && !block_node_flush(p->dev->top, &p->err)) {
        g_prefix_error(&p->err, "%s: ", id);
        return;
    }
    if (p->entry->mode != BLOCK_SNAPSHOT_MODE_ABSOLUTE_PATHS) {
        if (job->fault_open) {
            set_fault(&p->err, p, "opening");
        } else {
            open_overlay(p, &p->err);
        }
        return;
    }
    if (job->create_err) {
        set_open_failed(&p->err, id, g_steal_pointer(&job->create_err));
        return;
    }
    fd = p->tmp_fd >= 0 ? p->tmp_fd : make_named_overlay_file(p, &err);
    if (fd < 0
        || !qcow2_create_fd(fd, p->entry->snapshot_file, &job->opts, &err)) {
        set_open_failed(&p->err, id, err);
    } else if (job->fault_create) {
        set_fault(&p->err, p, "writing");
    }
    if (fd >= 0 && fd != p->tmp_fd) {
        close(fd);
    }
}

static void prepare_job_run(gpointer data, gpointer user_data)
{
    PrepareJob *job = data;
    RecordJob *record = job->record;

    (void)user_data;
    if (job->p) {
        prepare_entry_job(job);
    } else {
        block_journal_created(record->fd, record->group,
                              (BlockJournalFile *)(void *)record->files->data,
                              record->files->len, record->replace,
                              &record->err);
    }
}

static void prepare_jobs_run(GArray *jobs)
{
    GThreadPool *pool;

    if (jobs->len <= 1) {
        for (guint i = 0; i < jobs->len; i++) {
            prepare_job_run(&g_array_index(jobs, PrepareJob, i), NULL);
        }
        return;
    }
    pool = g_thread_pool_new(prepare_job_run, NULL,
                             MIN(jobs->len, PREPARE_THREADS), false, NULL);
    for (guint i = 0; i < jobs->len; i++) {
        g_thread_pool_push(pool, &g_array_index(jobs, PrepareJob, i), NULL);
    }
    g_thread_pool_free(pool, false, true); /* waits for every job */
}

/* With a journal: record the files P[0..N) made at their names, durably. */
static bool record_named(const BlockDeviceRegistry *reg,
                         const Prepared *prepared, size_t n, uint64_t group,
                         GError **errp)
{
    g_autoptr(GArray) files =
        g_array_new(false, false, sizeof(BlockJournalFile));

    for (size_t i = 0; i < n; i++) {
        const Prepared *p = &prepared[i];
        BlockJournalFile file = { p->path, p->new_dev, p->new_ino };

        if (p->made && p->tmp_fd < 0) {
            g_array_append_val(files, file);
        }
    }
    if (reg->journal_fd < 0 || !files->len) {
        return true;
    }
    /* The intent of these names opened the group's lines. */
    return block_journal_created(reg->journal_fd, group,
                                 (BlockJournalFile *)(void *)files->data,
                                 files->len, false, errp);
}

/*
 * Make the overlay files of the absolute-paths entries among
 * PREPARED[0..N) (JOBS[i] is entry i's job); with a journal, announce the
 * names that have to be created at once, durably, and add the job that
 * records the unnamed ones.
 */
static bool make_overlay_files(const BlockDeviceRegistry *reg,
                               Prepared *prepared, size_t n, GArray *jobs,
                               RecordJob *record, GError **errp)
{
    g_autoptr(GPtrArray) named = g_ptr_array_new();
    bool no_tmpfile =
        n > 0 && block_snapshot_fault(reg, BLOCK_SNAPSHOT_FAULT_NO_TMPFILE, 0);

    for (size_t i = 0; i < n; i++) {
        Prepared *p = &prepared[i];
        PrepareJob *job = &g_array_index(jobs, PrepareJob, i);
        BlockJournalFile file;
        bool is_named;

        if (p->entry->mode != BLOCK_SNAPSHOT_MODE_ABSOLUTE_PATHS) {
            continue;
        }
        p->tmp_fd =
            make_overlay_file(p, no_tmpfile, &is_named, &job->create_err);
        if (is_named) {
            g_ptr_array_add(named, p->path);
        } else if (p->tmp_fd >= 0) {
            file = (BlockJournalFile){ p->path, p->new_dev, p->new_ino };
            g_array_append_val(record->files, file);
        }
    }
    if (reg->journal_fd < 0) {
        return true;
    }
    if (named->len
        && !block_journal_intent(reg->journal_fd, record->group,
                                 (char *const *)named->pdata, named->len,
                                 errp)) {
        return false;
    }
    if (record->files->len) {
        PrepareJob job = { .record = record };

        record->replace = !named->len;
        g_array_append_val(jobs, job);
    }
    return true;
}

/*
 * Phase 1, step 2 for ENTRIES[0..N), all checked snapshot entries of
 * group GROUP: make the overlay files, flush the old tops and write the
 * overlays (jobs) while the journal records them, then name each one
 * (p->created from then on: undo unlinks it), open it and put it over
 * its old top.  *JOURNALED: the journal was written to.
 */
static bool prepare_entries(const BlockDeviceRegistry *reg, Prepared *prepared,
                            size_t n, uint64_t group, bool *journaled,
                            GError **errp)
{
    g_autoptr(GArray) jobs = g_array_new(false, true, sizeof(PrepareJob));
    g_autoptr(GArray) record_files =
        g_array_new(false, false, sizeof(BlockJournalFile));
    RecordJob record = { reg->journal_fd, group, record_files, false, NULL };
    bool ok = true;

    for (size_t i = 0; i < n; i++) {
        Prepared *p = &prepared[i];
        BlockNode *old_top = p->dev->top;
        PrepareJob job = {
            .p = p,
            .flush = !block_node_is_read_only(old_top),
            .opts = {
                .size = block_node_length(old_top),
                .cluster_bits = 16,
                .backing_file = block_node_filename(old_top),
                .backing_format =
                    block_format_name(block_node_format(old_top)),
                .sync = true,
            },
        };

        job.fault_flush = job.flush
            && block_snapshot_fault(reg, BLOCK_SNAPSHOT_FAULT_FLUSH, i);
        job.fault_create = !job.fault_flush
            && p->entry->mode == BLOCK_SNAPSHOT_MODE_ABSOLUTE_PATHS
            && block_snapshot_fault(reg, BLOCK_SNAPSHOT_FAULT_CREATE, i);
        job.fault_open = !job.fault_flush && !job.fault_create
            && block_snapshot_fault(reg, BLOCK_SNAPSHOT_FAULT_OPEN, i);
        g_array_append_val(jobs, job);
    }
    *journaled = reg->journal_fd >= 0;
    ok = make_overlay_files(reg, prepared, n, jobs, &record, errp);
    if (ok) {
        prepare_jobs_run(jobs);
        if (record.err) {
            g_propagate_error(errp, g_steal_pointer(&record.err));
            ok = false;
        }
    }
    ok = ok && record_named(reg, prepared, n, group, errp);
    for (size_t i = 0; i < n; i++) {
        g_clear_error(&g_array_index(jobs, PrepareJob, i).create_err);
    }
    if (!ok) {
        return false;
    }

    /* Name, open and check each overlay, and put it over its old top. */
    for (size_t i = 0; i < n; i++) {
        Prepared *p = &prepared[i];
        PrepareJob *job = &g_array_index(jobs, PrepareJob, i);

        if (p->err) {
            g_propagate_error(errp, g_steal_pointer(&p->err));
            return false;
        }
        if (p->entry->mode == BLOCK_SNAPSHOT_MODE_ABSOLUTE_PATHS) {
            if (p->tmp_fd >= 0 && !link_overlay(p, errp)) {
                return false;
            }
            if (job->fault_open) {
                set_fault(errp, p, "opening");
                return false;
            }
            open_overlay(p, errp);
            if (!p->overlay) {
                return false;
            }
        }
        if (p->entry->mode == BLOCK_SNAPSHOT_MODE_EXISTING
            && !check_existing(p, p->dev->top, errp)) {
            return false;
        }
        block_node_set_backing(p->overlay, p->dev->top);
    }
    return true;
}

/* Phase 1, step 3: make the new names durable, one fsync per directory. */
static bool sync_directories(const BlockDeviceRegistry *reg, Prepared *prepared,
                             size_t n, GError **errp)
{
    g_autoptr(GHashTable) done =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (size_t i = 0; i < n; i++) {
        Prepared *p = &prepared[i];
        GError *err = NULL;
        char *dir;

        if (!p->created) {
            continue;
        }
        dir = g_path_get_dirname(p->path);
        if (g_hash_table_contains(done, dir)) {
            g_free(dir);
            continue;
        }
        g_hash_table_add(done, dir);
        if (block_snapshot_fault(reg, BLOCK_SNAPSHOT_FAULT_FSYNC_DIR, i)) {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                        "%s: fsync of the directory of '%s' failed "
                        "(injected fault)",
                        p->dev->id, p->entry->snapshot_file);
            return false;
        }
        if (!block_fsync_dir(p->path, &err)) {
            set_open_failed(errp, p->dev->id, err);
            return false;
        }
    }
    return true;
}

/* Unlink the file P created, if its name still leads to it. */
static bool remove_created(const Prepared *p)
{
    struct stat st;

    if (lstat(p->path, &st) != 0) {
        return errno == ENOENT;
    }
    if (st.st_dev != p->new_dev || st.st_ino != p->new_ino) {
        errno = EEXIST; /* replaced by another file: not ours to remove */
        return false;
    }
    return unlink(p->path) == 0 || errno == ENOENT;
}

/*
 * Phase 3: close every overlay, unlink every file this group created,
 * and empty the journal if the group wrote to it (JOURNALED).
 */
static void undo(const BlockDeviceRegistry *reg, Prepared *prepared, size_t n,
                 bool journaled)
{
    for (size_t i = n; i-- > 0;) {
        Prepared *p = &prepared[i];

        block_node_unref(p->overlay);
        p->overlay = NULL;
        if (p->created && !remove_created(p)) {
            g_message("%s: could not remove snapshot file '%s' after a "
                      "failed group: %s",
                      p->dev ? p->dev->id : "?", p->path, g_strerror(errno));
        }
    }
    if (journaled) {
        g_autoptr(GError) err = NULL;

        if (!block_journal_clear(reg->journal_fd, &err)) {
            g_message("%s", err->message);
        }
    }
}

/* Phase 2: no failure point, no I/O. */
static void pivot(BlockDeviceRegistry *reg, Prepared *prepared, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        Prepared *p = &prepared[i];
        BlockNode *old_top;

        if (!p->dev) {
            continue;
        }
        old_top = p->dev->top;
        block_node_set_read_only(old_top);
        p->dev->top = p->overlay; /* the overlay holds old_top now */
        p->overlay = NULL;
        block_node_unref(old_top);
        g_free(p->dev->node_name);
        p->dev->node_name = NULL;
        if (p->node_name) {
            p->dev->node_name = g_strdup(p->node_name);
            g_hash_table_insert(reg->node_names, p->node_name, p->dev->top);
            p->node_name = NULL;
        }
    }
}

static bool record_state(BlockDeviceRegistry *reg, Prepared *prepared, size_t n,
                         uint64_t group, GError **errp)
{
    size_t count = block_registry_count(reg);
    g_autofree BlockNode **new_tops = g_new0(BlockNode *, count + 1);
    g_autofree const char **new_names = g_new0(const char *, count + 1);

    for (size_t i = 0; i < n; i++) {
        if (!prepared[i].dev) {
            continue;
        }
        for (size_t d = 0; d < count; d++) {
            if (block_registry_nth(reg, d) == prepared[i].dev) {
                new_tops[d] = prepared[i].overlay;
                new_names[d] = prepared[i].node_name;
            }
        }
    }
    return block_state_save(reg, new_tops, new_names, group, errp);
}

bool block_snapshot_group(BlockDeviceRegistry *reg,
                          const BlockSnapshotEntry *entries, size_t n,
                          const BlockDevice **devices, GError **errp)
{
    g_autofree Prepared *prepared = g_new0(Prepared, n ? n : 1);
    ImagesInUse in_use;
    GError *abort_err = NULL;
    uint64_t group = reg->group + 1;
    bool journaled = false;
    bool ok = true;
    size_t i, checked;

    for (i = 0; i < n; i++) {
        prepared[i].tmp_fd = -1;
    }

    /*
     * Every entry in request order; the first failure is the reply.  An
     * abort action is a failure at its position: the entries before it
     * were checked and are still prepared (their failure comes first in
     * request order), then undone; the entries after it are not looked
     * at.  A check failure of an entry is raised before any file is
     * touched.
     */
    images_in_use_init(&in_use, reg);
    for (i = 0; i < n; i++) {
        prepared[i].entry = &entries[i];
        if (entries[i].action == BLOCK_SNAPSHOT_ACTION_ABORT) {
            g_set_error(&abort_err, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "action %zu is 'abort': transaction aborted", i);
            break;
        }
        if (!check_entry(reg, prepared, i, &in_use, errp)) {
            ok = false;
            break;
        }
    }
    images_in_use_clear(&in_use);
    checked = ok ? i : 0;

    /*
     * Requests in flight on the group's devices complete before their
     * tops are flushed, new ones wait until the pivot (or undo) is done.
     */
    for (i = 0; i < checked; i++) {
        if (prepared[i].dev) {
            block_device_drain_begin(prepared[i].dev);
        }
    }
    if (ok) {
        ok = prepare_entries(reg, prepared, checked, group, &journaled, errp);
    }
    if (ok && abort_err) {
        g_propagate_error(errp, g_steal_pointer(&abort_err));
        ok = false;
    }
    g_clear_error(&abort_err);
    if (ok) {
        ok = sync_directories(reg, prepared, n, errp);
    }
    if (ok && reg->state_dir && n > 0) {
        ok = record_state(reg, prepared, n, group, errp);
    }

    if (ok) {
        pivot(reg, prepared, n);
        for (i = 0; devices && i < n; i++) {
            devices[i] = prepared[i].dev;
        }
    } else {
        undo(reg, prepared, n, journaled);
    }
    for (i = 0; i < checked; i++) {
        if (prepared[i].dev) {
            block_device_drain_end(prepared[i].dev);
        }
    }
    for (i = 0; i < n; i++) {
        prepared_clear(&prepared[i]);
    }
    return ok;
}
