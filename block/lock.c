/* SPDX-License-Identifier: MIT */
/*
 * Image locks compatible with QEMU's (docs/spec/data-path.md §4): shared
 * open-file-description locks on single bytes of the image file.  Byte
 * 100 + i says "I hold permission i", byte 200 + i "nobody else may have
 * permission i".  Contract in block-int.h.
 */
#define _GNU_SOURCE /* F_OFD_SETLK, F_OFD_GETLK */
#include <errno.h>
#include <fcntl.h>

#include "block-int.h"

#define LOCK_PERM_BASE 100
#define LOCK_SHARED_BASE 200
#define LOCK_PERMS 4

static const char *const perm_names[LOCK_PERMS] = {
    "consistent read",
    "write",
    "write unchanged",
    "resize",
};

/* Lock (F_RDLCK) or unlock (F_UNLCK) byte OFFSET of FD: 0, or an errno. */
static int set_byte(int fd, off_t offset, short type)
{
    struct flock fl = {
        .l_type = type,
        .l_whence = SEEK_SET,
        .l_start = offset,
        .l_len = 1,
    };

    while (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
        if (errno != EINTR) {
            return errno;
        }
    }
    return 0;
}

/* Whether another open file description holds a lock on byte OFFSET. */
static bool byte_taken(int fd, off_t offset)
{
    struct flock fl = {
        .l_type = F_WRLCK,
        .l_whence = SEEK_SET,
        .l_start = offset,
        .l_len = 1,
    };

    while (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
        if (errno != EINTR) {
            return false; /* cannot tell: as if free */
        }
    }
    return fl.l_type != F_UNLCK;
}

/* The file system has no such locks: they are advisory; go without. */
static bool unsupported(int err)
{
    return err == EINVAL || err == ENOLCK || err == EOPNOTSUPP || err == ENOSYS;
}

static void set_conflict(GError **errp, const char *filename, bool shared,
                         unsigned perm)
{
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_OPENFILEFAILED,
                "Could not open '%s': Failed to get %s\"%s\" lock: the "
                "image is in use by QEMU, another daemon or another device",
                filename, shared ? "shared " : "", perm_names[perm]);
}

bool block_lock_apply(int fd, const char *filename, unsigned perm,
                      unsigned shared, GError **errp)
{
    unsigned refused = BLOCK_PERM_ALL & ~shared;
    int err = 0;

    /* Take first, then look: no moment where both sides only looked. */
    for (unsigned i = 0; i < LOCK_PERMS && !err; i++) {
        err = set_byte(fd, LOCK_PERM_BASE + i,
                       perm & (1u << i) ? F_RDLCK : F_UNLCK);
        if (!err) {
            err = set_byte(fd, LOCK_SHARED_BASE + i,
                           refused & (1u << i) ? F_RDLCK : F_UNLCK);
        }
    }
    if (err) {
        if (unsupported(err)) {
            return true;
        }
        /* A program that holds a byte with a write lock. */
        set_conflict(errp, filename, false, 1);
        return false;
    }
    for (unsigned i = 0; i < LOCK_PERMS; i++) {
        if ((perm & (1u << i)) && byte_taken(fd, LOCK_SHARED_BASE + i)) {
            set_conflict(errp, filename, false, i);
            return false;
        }
        if ((refused & (1u << i)) && byte_taken(fd, LOCK_PERM_BASE + i)) {
            set_conflict(errp, filename, true, i);
            return false;
        }
    }
    return true;
}

void block_lock_drop_write(int fd)
{
    /* Unlocking cannot conflict with anything. */
    set_byte(fd, LOCK_PERM_BASE + 1, F_UNLCK);
    set_byte(fd, LOCK_PERM_BASE + 3, F_UNLCK);
}
