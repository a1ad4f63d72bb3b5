/* SPDX-License-Identifier: MIT */
/*
 * qapikit block layer: file names and file types.  Private to block/.
 */
#ifndef QAPIKIT_BLOCK_PATH_H
#define QAPIKIT_BLOCK_PATH_H

#include <sys/stat.h>

#include <glib.h>

/*
 * NAME made absolute against the current directory, with the directory
 * part resolved by the kernel (realpath: symlinks followed, "." and ".."
 * applied where they point) when it exists; the last component stays as
 * given.  Every image name the block layer keeps, records in a backing
 * file field or writes to the state file is made so, so that it means
 * the same file whatever the daemon's current directory is later.
 * A new string.
 */
char *block_absolute_path(const char *name);

/* "a FIFO", "a directory", ...: the kind of file MODE (st_mode) is. */
const char *block_file_type_name(mode_t mode);

#endif /* QAPIKIT_BLOCK_PATH_H */
