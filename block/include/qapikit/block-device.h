/* SPDX-License-Identifier: MIT */
/*
 * qapikit block layer: named devices, atomic group snapshots and the
 * daemon's state directory.
 *
 * A BlockDevice is a name (`--drive id=`) and the top BlockNode of an
 * image chain (<qapikit/block.h>).  A BlockDeviceRegistry holds the
 * devices in the order they were added.  block_snapshot_group() moves a
 * group of devices onto new qcow2 overlays all or nothing, in the three
 * phases of docs/spec/qcow2-format.md §11 (prepare, pivot, undo); the QMP
 * commands blockdev-snapshot-sync, blockdev-group-snapshot-sync and transaction
 * (block/blockdev.c) are thin wrappers around it.
 *
 * An embedder (tools/qapikit-blockd.c is one):
 *
 *     g_autoptr(BlockDeviceRegistry) reg = block_registry_new();
 *     for each --drive:
 *         block_registry_add_drive(reg, id, file, format, read_only, &err);
 *     if --state DIR:
 *         block_registry_load_state(reg, DIR, &err);
 *     qmp_command_list_set_opaque(cmds, reg);  // the qmp_* handlers use it
 *     qmp_init_marshal(cmds);                   // (the generated one)
 *     ... serve QMP ...
 *     qmp_command_list_free(cmds);
 *
 * Errors: GError in the QAPI domain (<qapikit/error.h>); the code is the
 * QMP error class of docs/spec/qmp-protocol.md §6.  Functions that can fail
 * return false/NULL exactly when they set *errp.  The main loop owns the
 * registry and its devices; only the calls marked "any thread" (a
 * device's guest I/O between block_device_io_begin() and
 * block_device_io_end()) may run elsewhere.
 */
#ifndef QAPIKIT_BLOCK_DEVICE_H
#define QAPIKIT_BLOCK_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include <qapikit/block.h>

G_BEGIN_DECLS

typedef struct BlockDeviceRegistry BlockDeviceRegistry;
typedef struct BlockDevice BlockDevice;

/* The registry: devices in add order */

/* A new, empty registry.  Free it with block_registry_free(). */
BlockDeviceRegistry *block_registry_new(void);

/*
 * Close every device (the nodes are flushed first; a flush error is
 * logged) and free REG.  NULL is fine.  No command registered with REG
 * may run afterwards: free its command list first.
 */
void block_registry_free(BlockDeviceRegistry *reg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlockDeviceRegistry, block_registry_free)

/*
 * Add the device ID over the image FILE, as `--drive
 * id=ID,file=FILE[,format=F][,read-only=on]` does.  FORMAT is "raw",
 * "qcow2" or NULL to detect it (block_node_open()); the backing chain
 * recorded in the image is opened with it, read-only.  With READ_ONLY
 * the top is opened read-only too and writes are refused.
 *
 * ID must be non-empty, at most 127 bytes of [A-Za-z0-9._-] starting
 * with a letter, and not yet used (GenericError otherwise).  Images are
 * compared as files (device and inode) with the chains of the devices
 * already in REG: FILE must be no image of theirs, and no image of its
 * chain may be the active image (top) of one of them (GenericError
 * naming both devices and the file); read-only backing images may be
 * shared.  Returns the
 * new device (owned by REG), or NULL with *errp set and REG unchanged.
 */
BlockDevice *block_registry_add_drive(BlockDeviceRegistry *reg, const char *id,
                                      const char *file, const char *format,
                                      bool read_only, GError **errp);

/* Nodes added at run time (blockdev-add) */

/* What a node's backing is, for block_registry_add_node(). */
typedef enum BlockBackingMode {
    BLOCK_BACKING_DEFAULT, /* the chain the image records */
    BLOCK_BACKING_NONE,    /* none: unallocated data reads as zeros */
    BLOCK_BACKING_NODE,    /* the node BACKING_NODE */
} BlockBackingMode;

/* A node to add.  Strings are lent for the call. */
typedef struct BlockNodeSpec {
    const char *node_name; /* required, a valid device id */
    const char *format;    /* "qcow2" or "raw" */
    const char *filename;  /* the image, or NULL with ... */
    const char *file_node; /* ... a file node of REG opening it */
    bool read_only;
    bool force_share; /* with READ_ONLY: no locks (qemu-img -U) */
    BlockBackingMode backing;
    const char *backing_node; /* BLOCK_BACKING_NODE: its node name */
} BlockNodeSpec;

/*
 * Open a node as blockdev-add does: a device of REG named SPEC's node
 * name, which block_registry_find() and block_registry_find_node() find,
 * the snapshot functions snapshot and block_registry_count() counts, but
 * which block_device_is_node() tells apart from --drive devices
 * (query-block lists only those).  The names of devices, nodes and file
 * nodes share one namespace.  The image checks are those of
 * block_registry_add_drive().  A BLOCK_BACKING_NODE backing must be a
 * node of REG that no export uses: its image becomes this node's
 * read-only backing image, and it cannot be deleted before this node.
 * Returns the device (owned by REG) or NULL with *errp set (GenericError,
 * OpenFileFailed from the open).
 */
BlockDevice *block_registry_add_node(BlockDeviceRegistry *reg,
                                     const BlockNodeSpec *spec, GError **errp);

/*
 * A file node (blockdev-add driver 'file'): NODE_NAME names FILENAME for
 * a later block_registry_add_node() (SPEC->file_node).  Nothing is opened
 * yet.
 */
bool block_registry_add_file_node(BlockDeviceRegistry *reg,
                                  const char *node_name, const char *filename,
                                  GError **errp);

/*
 * Delete the node or file node NODE_NAME (blockdev-del): refused for a
 * --drive device, a node an export uses or another node has as backing,
 * and a file node a node was opened through.  The node's images are
 * flushed and closed.
 */
bool block_registry_del_node(BlockDeviceRegistry *reg, const char *node_name,
                             GError **errp);

/* Whether DEV was added by block_registry_add_node(). */
bool block_device_is_node(const BlockDevice *dev);

/* The image DEV's node was opened on (the node it added), for queries. */
BlockNode *block_device_origin(const BlockDevice *dev);

/*
 * Count a user of DEV (an export) and drop it: a used node cannot be
 * deleted.  Main loop.
 */
void block_device_use(BlockDevice *dev);
void block_device_unuse(BlockDevice *dev);

/* The device named ID (borrowed), or NULL. */
BlockDevice *block_registry_find(const BlockDeviceRegistry *reg,
                                 const char *id);

/*
 * The device NAME names as QEMU's node-name arguments do: a node added
 * by block_registry_add_node() as NAME, or the device whose top has node
 * name NAME; or NULL.
 */
BlockDevice *block_registry_find_named_node(const BlockDeviceRegistry *reg,
                                            const char *name);

/*
 * The device NAME names for block-export-add: the device with id NAME,
 * else block_registry_find_named_node(); or NULL.
 */
BlockDevice *block_registry_find_node(const BlockDeviceRegistry *reg,
                                      const char *name);

/* Number of devices, and the Nth one (borrowed) in add order. */
size_t block_registry_count(const BlockDeviceRegistry *reg);
BlockDevice *block_registry_nth(const BlockDeviceRegistry *reg, size_t n);

/* Devices */

const char *block_device_id(const BlockDevice *dev);

/* The device's current image, the top of its chain (borrowed). */
BlockNode *block_device_top(const BlockDevice *dev);

/* The node name of the top image (snapshot-node-name), or NULL. */
const char *block_device_node_name(const BlockDevice *dev);

bool block_device_is_read_only(const BlockDevice *dev);

/* What query-block reports as io-status. */
typedef enum BlockDeviceIoState {
    BLOCK_DEVICE_IO_OK,
    BLOCK_DEVICE_IO_FAILED,  /* a write or flush on the device failed */
    BLOCK_DEVICE_IO_NOSPACE, /* ... for lack of space (ENOSPC, EDQUOT) */
} BlockDeviceIoState;

BlockDeviceIoState block_device_io_state(const BlockDevice *dev);

/* Guest size in bytes (the top image's virtual size). */
uint64_t block_device_length(const BlockDevice *dev);

/*
 * Guest I/O on the device's current top (block_node_pread(),
 * block_node_pwrite(), block_node_pwrite_zeroes(), block_node_discard(),
 * block_node_flush(), block_node_block_status()); a failed write or
 * flush sets the device's io state to BLOCK_DEVICE_IO_FAILED (or
 * _NOSPACE).  A range past block_device_length() is refused
 * (GenericError) before any I/O, and so is a write on a read-only
 * device.
 *
 * Any thread, between block_device_io_begin() and block_device_io_end()
 * (or in the main loop, which drains devices itself).
 */
bool block_device_pread(BlockDevice *dev, uint64_t offset, void *buf,
                        size_t len, GError **errp);

/*
 * block_device_pread() if it can be done at once, without waiting (see
 * block_node_pread_nowait()): true when BUF holds the data; false when
 * it would wait, or on any error (then call block_device_pread()).
 * Between block_device_io_begin() and block_device_io_end().
 */
bool block_device_pread_nowait(BlockDevice *dev, uint64_t offset, void *buf,
                               size_t len);
bool block_device_pwrite(BlockDevice *dev, uint64_t offset, const void *buf,
                         size_t len, GError **errp);
bool block_device_pwrite_zeroes(BlockDevice *dev, uint64_t offset, uint64_t len,
                                unsigned flags, GError **errp);
bool block_device_discard(BlockDevice *dev, uint64_t offset, uint64_t len,
                          GError **errp);
bool block_device_flush(BlockDevice *dev, GError **errp);
bool block_device_block_status(BlockDevice *dev, uint64_t offset, uint64_t len,
                               BlockExtentKind *kind, uint64_t *pnum,
                               GError **errp);

/* Whether block_device_pwrite_zeroes() writes no zeros (NBD FAST_ZERO). */
bool block_device_can_zero_fast(const BlockDevice *dev);

/*
 * Requests from other threads, and drains
 *
 * A server that does guest I/O off the main loop (the NBD server)
 * brackets each request with these.  block_device_io_begin() (any
 * thread) counts the request in flight and returns true, or returns
 * false while the device is drained: the caller then keeps the request
 * and tries again when the device's resume notifiers run.
 *
 * block_device_drain_begin() (main loop) stops new requests and waits
 * until those in flight have ended; block_device_drain_end() lets them
 * in again and runs the resume notifiers (in the main loop, in the
 * order they were added).  Drains nest.  A group snapshot drains its
 * devices around its work; other devices go on.
 */
bool block_device_io_begin(BlockDevice *dev);
void block_device_io_end(BlockDevice *dev);
void block_device_drain_begin(BlockDevice *dev);
void block_device_drain_end(BlockDevice *dev);

typedef void (*BlockDeviceResumeFunc)(BlockDevice *dev, void *opaque);

/* Main loop: call FN(DEV, OPAQUE) after each drain of DEV ends. */
void block_device_add_resume_notifier(BlockDevice *dev,
                                      BlockDeviceResumeFunc fn, void *opaque);
/* Main loop: remove the notifier FN, OPAQUE (added once). */
void block_device_remove_resume_notifier(BlockDevice *dev,
                                         BlockDeviceResumeFunc fn,
                                         void *opaque);

/* Group snapshots (docs/spec/qcow2-format.md §11) */

typedef enum BlockSnapshotMode {
    /* Create a new file; an existing one is never overwritten. */
    BLOCK_SNAPSHOT_MODE_ABSOLUTE_PATHS,
    /*
     * Open an existing qcow2 image of the same virtual size whose
     * recorded backing file is the device's current image; it is not
     * rewritten, and never deleted on failure.
     */
    BLOCK_SNAPSHOT_MODE_EXISTING,
} BlockSnapshotMode;

typedef enum BlockSnapshotAction {
    BLOCK_SNAPSHOT_ACTION_SNAPSHOT, /* one device onto a new overlay */
    BLOCK_SNAPSHOT_ACTION_ABORT,    /* always fails (transaction 'abort') */
} BlockSnapshotAction;

/* One entry of a group.  Strings are lent for the call. */
typedef struct BlockSnapshotEntry {
    BlockSnapshotAction action;
    const char *device;             /* the device, or NULL with ... */
    const char *node_name;          /* ... the node name of its top */
    const char *snapshot_file;      /* the overlay's file name */
    const char *snapshot_node_name; /* node name of the overlay, or NULL */
    const char *format;             /* NULL or "qcow2" */
    BlockSnapshotMode mode;
} BlockSnapshotEntry;

/*
 * Move each device of ENTRIES[0..N) onto a new overlay whose backing
 * image is its current top, all or nothing:
 *
 *  1. prepare: check the whole request in order (DeviceNotFound for an
 *     unknown device; DeviceInUse for a device listed twice;
 *     InvalidBlockFormat for a format other than qcow2; OpenFileFailed
 *     for a snapshot file named twice (as absolute paths, or as the
 *     same device and inode), a file that exists in absolute-paths mode
 *     or is missing in existing mode, a file that is an image of any
 *     device's chain, a file in the state directory or below it (after
 *     symlinks), an existing file that is not a regular file or block
 *     device (checked without blocking), an old top whose name is
 *     over 1023 bytes, or a new chain longer than BLOCK_MAX_CHAIN_DEPTH
 *     images; GenericError
 *     for an abort action, which is a failure at its position: the
 *     entries after it are not checked, those before it are still
 *     prepared, then undone); then per entry flush the old top, create
 *     the overlay (qcow2 v3, 64 KiB clusters, the old top's size, its
 *     absolute file name as the backing name and its format in the
 *     backing format extension) without a name (O_TMPFILE, where the
 *     file system has it) and fdatasync it; with a state directory,
 *     record the overlays in the journal (see below); link each overlay
 *     to its name (never replacing a file) and open it; fsync each
 *     target directory once; with a state directory, record the new
 *     tops.  The entries are prepared on a pool of up to 64 threads
 *     (each node and file in one thread only, while the caller waits),
 *     so that the waits for the disk overlap; the error reported is
 *     still that of the first failing entry in request order;
 *  2. pivot: every device's top becomes its overlay and the old top is
 *     made read-only; nothing can fail here;
 *  3. undo, when step 1 failed: close every overlay and unlink every
 *     file this call created, in reverse order (a file that existed is
 *     never deleted); every device stays on its old top.
 *
 * The error names the device and the file ("disk1: snapshot file
 * '/x' already exists").  N == 0 succeeds and changes nothing.  On
 * success, DEVICES (NULL, or room for N) receives the device each entry
 * resolved to, as the request named it, before the pivot moved node
 * names onto the new tops.
 */
bool block_snapshot_group(BlockDeviceRegistry *reg,
                          const BlockSnapshotEntry *entries, size_t n,
                          const BlockDevice **devices, GError **errp);

/*
 * Failure injection for tests: when REG has a hook, it is asked, in the
 * calling thread, about each failure point of phase 1 that an entry of
 * a group snapshot on REG may reach (INDEX: the entry's place in the
 * request; for a directory fsync, the first entry whose file is in that
 * directory; 0 for the state file), at most once per point and entry;
 * returning true makes that step fail as it would for real, with the
 * same error class (the file of FAULT_CREATE has been created when it
 * fails, so undo has to remove it).  NULL removes the hook.  For tests
 * only.
 */
typedef enum BlockSnapshotFault {
    BLOCK_SNAPSHOT_FAULT_FLUSH,        /* flushing the old top */
    BLOCK_SNAPSHOT_FAULT_CREATE,       /* writing the new overlay */
    BLOCK_SNAPSHOT_FAULT_OPEN,         /* opening the new overlay */
    BLOCK_SNAPSHOT_FAULT_FSYNC_DIR,    /* fsync of a target directory */
    BLOCK_SNAPSHOT_FAULT_STATE_WRITE,  /* writing the new state file */
    BLOCK_SNAPSHOT_FAULT_STATE_RENAME, /* renaming it into place */
    /*
     * Not a failure: asked once per group (INDEX 0) before any file is
     * made; true makes the group create its overlays at their names, as
     * on a file system without O_TMPFILE.
     */
    BLOCK_SNAPSHOT_FAULT_NO_TMPFILE,
    BLOCK_SNAPSHOT_FAULT__MAX,
} BlockSnapshotFault;

typedef bool (*BlockSnapshotFaultHook)(BlockSnapshotFault fault, size_t index,
                                       void *opaque);
void block_registry_set_fault_hook(BlockDeviceRegistry *reg,
                                   BlockSnapshotFaultHook hook, void *opaque);

/* The state directory (`--state DIR`) */

/*
 * The state file inside a state directory, and the lock file that keeps
 * a second daemon out of it.
 */
#define BLOCK_STATE_FILE "blockd-state.json"
#define BLOCK_STATE_LOCK_FILE "blockd-state.lock"

/*
 * Use DIR (created with mode 0700 if missing) as REG's state directory,
 * call this after every block_registry_add_drive().  REG holds an
 * exclusive lock on DIR/blockd-state.lock until it is freed: a second
 * registry (another daemon) on the same DIR is refused (GenericError).
 * The files of DIR are opened with O_NOFOLLOW and must be regular files;
 * the format is docs/snapshots.md.
 *
 * If DIR/blockd-state.json exists, it names for each device the top
 * image it was on when the last snapshot group succeeded.  For each
 * device of REG that the state names: the recorded top is opened with
 * its chain and becomes the device's image, provided that chain
 * contains the device's --drive file (normally as its base; compared by
 * device and inode).  A chain without it, or a recorded top that cannot
 * be opened, is an error naming the device and the files (starting on
 * the --drive file would fork the disk's history).  Devices in the
 * state but not in REG are dropped.  A state file of a version this
 * daemon does not know is refused, naming both versions.  Then
 * the journal DIR/blockd-journal is read: the files a group that never
 * committed created (a crash) are removed, when their device and inode
 * still match and no chain uses them.  Then the state file is rewritten
 * for the current devices.
 *
 * From then on every block_snapshot_group() on REG that creates files
 * records them in the journal first (their names, then each one's device
 * and inode before it gets its name), and every successful one records
 * the new tops before it returns: it writes a fresh
 * DIR/blockd-state.json.tmp (O_EXCL | O_NOFOLLOW, mode 0600, a stale one
 * removed first), fdatasyncs it, renames it over the state file and
 * fsyncs DIR, after every overlay is durable and before any device
 * pivots.  A crash at any point leaves either the old or the new state,
 * each naming images that exist, and no file of an uncommitted group
 * after the next start.  Snapshot targets in DIR or below are refused.
 *
 * On failure REG is unchanged (no device moved, the state directory it
 * had before kept).
 */
bool block_registry_load_state(BlockDeviceRegistry *reg, const char *dir,
                               GError **errp);

/*
 * Write REG's state file now, after a change that is not a snapshot
 * (blockdev-add and blockdev-del do it themselves; an embedder whose
 * state extension changed calls it): durable when it returns true.
 * Without a state directory there is nothing to do (true).
 */
bool block_registry_save_state(BlockDeviceRegistry *reg, GError **errp);

/*
 * The embedder's own part of the state file, under "extensions": NAME
 * (the NBD server uses "nbd").  Each save calls FN(OPAQUE), which returns
 * a new string of JSON (an object), or NULL for nothing; FN NULL removes
 * NAME.  Main loop.
 */
typedef char *(*BlockStateExtensionFunc)(void *opaque);
void block_registry_set_state_extension(BlockDeviceRegistry *reg,
                                        const char *name,
                                        BlockStateExtensionFunc fn,
                                        void *opaque);

/*
 * The JSON text the state file held under "extensions" for NAME when
 * block_registry_load_state() read it (borrowed), or NULL.
 */
const char *block_registry_state_extension(const BlockDeviceRegistry *reg,
                                           const char *name);

/* REG's state directory, or NULL. */
const char *block_registry_state_dir(const BlockDeviceRegistry *reg);

/* The registry of the QMP handlers */

/*
 * The qmp_* handlers of qapi/block.json (query-block,
 * blockdev-snapshot-sync, blockdev-group-snapshot-sync, transaction)
 * act on the registry their commands were registered with: register
 * them after qmp_command_list_set_opaque(cmds, reg) (<qapikit/dispatch.h>),
 * and they find it in qmp_command_context()->opaque.  Called outside a
 * dispatch, or registered with NULL, they act on an empty registry.  So
 * one process can serve several registries, each behind its own command
 * list (and monitor).  After every successful snapshot command they emit
 * BLOCK_SNAPSHOT_GROUP through the generated
 * qapi_event_send_block_snapshot_group().
 */

G_END_DECLS

#endif /* QAPIKIT_BLOCK_DEVICE_H */
