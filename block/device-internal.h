/* SPDX-License-Identifier: MIT */
/*
 * Private to block/device.c, snapshot.c, state.c and blockdev.c: the
 * registry's insides.
 */
#ifndef QAPIKIT_BLOCK_DEVICE_INTERNAL_H
#define QAPIKIT_BLOCK_DEVICE_INTERNAL_H

#include <qapikit/block-device.h>

struct BlockDevice {
    char *id;
    BlockNode *top;   /* one reference, owned */
    char *drive_file; /* the --drive file as given */
    char *node_name;  /* the top's node name, or NULL */
    bool read_only;
    BlockDeviceIoState io_state;
};

struct BlockDeviceRegistry {
    GPtrArray *devices; /* BlockDevice *, add order, owned */
    GHashTable *by_id;  /* id -> BlockDevice *, borrowed */
    /*
     * Node names given by snapshot-node-name: name (owned) -> BlockNode *
     * (borrowed: nodes never leave a chain while the registry lives).
     */
    GHashTable *node_names;
    char *state_dir;                   /* NULL: no --state */
    int state_lock_fd;                 /* flock on the state directory, or -1 */
    BlockSnapshotFaultHook fault_hook; /* tests only (fault.c) */
    void *fault_opaque;
};

/* The node name of NODE, or NULL. */
const char *block_registry_node_name_of(const BlockDeviceRegistry *reg,
                                        const BlockNode *node);

/* The device whose top is named NODE_NAME, or NULL. */
BlockDevice *block_registry_find_by_node_name(const BlockDeviceRegistry *reg,
                                              const char *node_name);

/*
 * NAME made absolute against the current directory, normalised, with
 * the symlinks of its directory part resolved (when that exists).
 */
char *block_absolute_path(const char *name);

/*
 * Write the state file of REG's state directory naming, for each
 * device, NEW_TOPS[i] if not NULL (the device at index i is about to
 * pivot onto it) else its current top; durable when it returns true
 * (temp file, fdatasync, rename, fsync of the directory).  On failure the old state file is intact
 * and no temp file is left.
 */
bool block_state_save(BlockDeviceRegistry *reg, BlockNode *const *new_tops,
                      GError **errp);

/* Ask REG's test hook (block_registry_set_fault_hook()) about FAULT. */
bool block_snapshot_fault(const BlockDeviceRegistry *reg,
                          BlockSnapshotFault fault, size_t index);

#endif /* QAPIKIT_BLOCK_DEVICE_INTERNAL_H */
