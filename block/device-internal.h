/* SPDX-License-Identifier: MIT */
/*
 * Private to block/device.c, snapshot.c, state.c and blockdev.c: the
 * registry's insides.
 */
#ifndef QAPIKIT_BLOCK_DEVICE_INTERNAL_H
#define QAPIKIT_BLOCK_DEVICE_INTERNAL_H

#include <qapikit/block-device.h>

#include "path.h"

/* A block_device_add_resume_notifier() entry. */
typedef struct BlockResumeNotifier {
    BlockDeviceResumeFunc fn;
    void *opaque;
} BlockResumeNotifier;

struct BlockDevice {
    char *id;
    /*
     * One reference, owned.  Changed by the main loop only while the
     * device is drained, so a request between block_device_io_begin()
     * and block_device_io_end() sees one top throughout.
     */
    BlockNode *top;
    char *drive_file; /* the --drive file as given */
    char *node_name;  /* the top's node name, or NULL */
    bool read_only;
    gint io_state; /* BlockDeviceIoState, atomic */

    /*
     * A node blockdev-add added (block_registry_add_node()): ID is its
     * node name, DRIVE_FILE its file; listed by query-named-block-nodes,
     * not by query-block.
     */
    bool is_node;
    /* The node it opened (borrowed: it stays in TOP's chain). */
    BlockNode *origin;
    /* As blockdev-add gave them, for the state file. */
    char *spec_format;
    bool force_share;
    BlockBackingMode backing_mode;
    /* The file node it was opened through, or NULL. */
    char *file_node;
    /* The node given as its backing, or NULL. */
    struct BlockDevice *backing_dev;
    unsigned backing_users; /* nodes that have this one as backing */
    unsigned users;         /* exports (block_device_use()) */

    /* Requests in flight and drains, under io_lock. */
    GMutex io_lock;
    GCond io_idle;      /* signalled when in_flight drops to 0 */
    unsigned in_flight; /* between io_begin and io_end */
    unsigned drained;   /* drain_begin calls not yet ended */
    GArray *resume;     /* BlockResumeNotifier, main loop only */
};

struct BlockDeviceRegistry {
    GPtrArray *devices; /* BlockDevice *, add order, owned */
    GHashTable *by_id;  /* id -> BlockDevice *, borrowed */
    /*
     * Node names given by snapshot-node-name: name (owned) -> BlockNode *
     * (borrowed: nodes never leave a chain while the registry lives).
     */
    GHashTable *node_names;
    /*
     * File nodes (blockdev-add driver 'file'): name (owned) ->
     * BlockFileNode (owned).
     */
    GHashTable *file_nodes;
    /*
     * The embedder's parts of the state file: name -> StateExtension
     * (owned), and what the file held for each name when it was loaded:
     * name -> JSON text (both owned).
     */
    GHashTable *extensions;
    GHashTable *loaded_extensions;
    char *state_dir;      /* NULL: no --state */
    char *state_dir_real; /* realpath() of state_dir, for target checks */
    int state_lock_fd;    /* flock on the state directory, or -1 */
    int journal_fd;       /* the state directory's journal, or -1 */
    uint64_t group;       /* the last group the state file committed */
    BlockSnapshotFaultHook fault_hook; /* tests only (fault.c) */
    void *fault_opaque;
};

/* A file node: a name for a file, which a format node opens. */
typedef struct BlockFileNode {
    char *filename;
    unsigned users; /* format nodes opened through it */
} BlockFileNode;

/* A block_registry_set_state_extension() entry. */
typedef struct StateExtension {
    BlockStateExtensionFunc fn;
    void *opaque;
} StateExtension;

/*
 * Open the node SPEC as block_registry_add_node() does, on IMAGE (of
 * IMAGE_FORMAT), a later top over SPEC's file, when not NULL (a node the
 * state file records); no state is saved.
 */
BlockDevice *block_registry_restore_node(BlockDeviceRegistry *reg,
                                         const BlockNodeSpec *spec,
                                         const char *image,
                                         const char *image_format,
                                         GError **errp);

/* Free DEV (flushed first, as at exit); main loop only. */
void block_device_free(BlockDevice *dev);

/* A new device ID on the chain TOP (taken over), not yet registered. */
BlockDevice *block_device_new(const char *id, BlockNode *top, const char *file,
                              bool read_only);

/* Whether ID is a valid device id or node name. */
bool block_device_id_valid(const char *id);

/*
 * Whether FILE, to be the top of the new device ID, is no image of the
 * chains of REG's devices (EXCEPT, or NULL, left out); checked before
 * FILE is opened.  A FILE that does not exist passes (the open fails).
 */
bool block_check_file_free(const BlockDeviceRegistry *reg, const char *id,
                           const char *file, const BlockDevice *except,
                           GError **errp);

/*
 * Whether the new chain TOP of device ID may be used next to the devices
 * of REG (see block_registry_add_drive()), EXCEPT (or NULL) left out.
 */
bool block_check_chain_free(const BlockDeviceRegistry *reg, const char *id,
                            BlockNode *top, const BlockDevice *except,
                            GError **errp);

/* The node name of NODE, or NULL. */
const char *block_registry_node_name_of(const BlockDeviceRegistry *reg,
                                        const BlockNode *node);

/* The device whose top is named NODE_NAME, or NULL. */
BlockDevice *block_registry_find_by_node_name(const BlockDeviceRegistry *reg,
                                              const char *node_name);

/*
 * Write the state file of REG's state directory naming, for each
 * device, NEW_TOPS[i] if not NULL (the device at index i is about to
 * pivot onto it, named NEW_NAMES[i] if NEW_NAMES is not NULL) else its
 * current top, with GROUP as the last committed
 * group; durable when it returns true (a fresh temp file, fdatasync,
 * rename, fsync of the directory), and then REG's group is GROUP.  On
 * failure the old state file is intact and no temp file is left.
 */
bool block_state_save(BlockDeviceRegistry *reg, BlockNode *const *new_tops,
                      const char *const *new_names, uint64_t group,
                      GError **errp);

/*
 * Open PATH, a file of the state directory, with FLAGS (O_RDONLY,
 * O_RDWR, O_CREAT...; mode 0600 when created) plus O_NOFOLLOW and
 * O_CLOEXEC, without blocking on a FIFO; anything but a regular file is
 * refused.  Returns the descriptor, or -1 with *ERRP set.
 */
int block_state_dir_open(const char *path, int flags, GError **errp);

/* The state file format; the journal's records carry it too. */
#define BLOCK_STATE_VERSION 3

/* The intent journal of a state directory (journal.c) */

#define BLOCK_JOURNAL_FILE "blockd-journal"

/* A file a snapshot group created, as the journal records it. */
typedef struct BlockJournalFile {
    const char *path;
    dev_t dev;
    ino_t ino;
} BlockJournalFile;

/* Open (create) the journal of the state directory DIR: a descriptor. */
int block_journal_open(const char *dir, GError **errp);

/*
 * Before group GROUP creates files at their names: replace the journal's
 * content with those PATHS[0..N), durably.
 */
bool block_journal_intent(int fd, uint64_t group, char *const *paths, size_t n,
                          GError **errp);

/*
 * After FILES[0..N) of group GROUP were created (unnamed with O_TMPFILE
 * and not linked yet, or at their names after block_journal_intent())
 * and before any of them is named or used: record their device and
 * inode, durably; REPLACE: instead of what the journal holds (the
 * group's first line).
 */
bool block_journal_created(int fd, uint64_t group,
                           const BlockJournalFile *files, size_t n,
                           bool replace, GError **errp);

/* Empty the journal, durably (a group undone). */
bool block_journal_clear(int fd, GError **errp);

/*
 * At start, once the devices' tops are known (TOPS[0..N_TOPS), their
 * chains): remove every file recorded as created by a group after
 * COMMITTED (the state file's last group) whose device and inode still
 * match and which none of those chains uses; log, and leave, an
 * intended file that exists without such a record.  Without a state
 * file (HAVE_STATE false) nothing is removed.  Then empty the journal.
 * False only when the journal cannot be read or has a newer version.
 */
bool block_journal_recover(int fd, uint64_t committed, bool have_state,
                           BlockNode *const *tops, size_t n_tops,
                           GError **errp);

/* Ask REG's test hook (block_registry_set_fault_hook()) about FAULT. */
bool block_snapshot_fault(const BlockDeviceRegistry *reg,
                          BlockSnapshotFault fault, size_t index);

#endif /* QAPIKIT_BLOCK_DEVICE_INTERNAL_H */
