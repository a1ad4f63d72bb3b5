/* SPDX-License-Identifier: MIT */
/*
 * qapikit block layer: file names and file types (contract in path.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

char *block_absolute_path(const char *name)
{
    g_autofree char *cwd =
        g_path_is_absolute(name) ? NULL : g_get_current_dir();
    g_autofree char *absolute = g_build_filename(cwd ? cwd : "/", name, NULL);
    g_autofree char *dir = g_path_get_dirname(absolute);
    g_autofree char *base = g_path_get_basename(absolute);
    g_autofree char *real_dir = NULL;

    /*
     * The directory part is resolved by the kernel (realpath), never as
     * text: in "link/../x" the ".." applies to where "link" points.  So
     * two spellings of one new file compare equal before it exists, and
     * the name is the file the kernel will create.  The last component
     * stays as given (it may not exist yet, or be a symlink to refuse).
     */
    if (!strcmp(base, ".") || !strcmp(base, "..")) {
        real_dir = realpath(absolute, NULL);
        return real_dir ? g_steal_pointer(&real_dir)
                        : g_steal_pointer(&absolute);
    }
    real_dir = realpath(dir, NULL);
    if (!real_dir) {
        /* A missing directory: creating the file will fail anyway. */
        return g_steal_pointer(&absolute);
    }
    return g_build_filename(real_dir, base, NULL);
}

const char *block_file_type_name(mode_t mode)
{
    if (S_ISDIR(mode)) {
        return "a directory";
    } else if (S_ISFIFO(mode)) {
        return "a FIFO";
    } else if (S_ISSOCK(mode)) {
        return "a socket";
    } else if (S_ISCHR(mode)) {
        return "a character device";
    } else if (S_ISLNK(mode)) {
        return "a symbolic link";
    } else if (S_ISBLK(mode)) {
        return "a block device";
    } else if (S_ISREG(mode)) {
        return "a regular file";
    }
    return "a special file";
}
