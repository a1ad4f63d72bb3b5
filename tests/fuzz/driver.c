/* SPDX-License-Identifier: MIT */
/*
 * The standalone main() of a fuzz target, for builds without libFuzzer:
 *
 *   fuzz-regress-TARGET PATH...
 *
 * runs LLVMFuzzerTestOneInput() once on each file PATH names, and on
 * each regular file directly inside each directory PATH names (sorted by
 * name; hidden files and README* skipped), each copied into a buffer of
 * its exact size so that a read past the end is a memory error under
 * ASan.  LLVMFuzzerInitialize() runs first.  Prints one line per input
 * ("fuzz: NAME") and the count; exit status 0 when every input ran (a
 * finding aborts or is reported by the sanitizers), 1 when a PATH cannot
 * be read or none held an input.
 */
#include "fuzz.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run the target on the file PATH; false (with a message) if unreadable. */
static bool run_file(const char *path)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *contents = NULL;
    g_autofree uint8_t *copy = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &contents, &len, &err)) {
        fprintf(stderr, "fuzz: %s\n", err->message);
        return false;
    }
    /* Exactly LEN bytes: no terminating NUL for the target to lean on. */
    copy = g_malloc(len ? len : 1);
    memcpy(copy, contents, len);
    printf("fuzz: %s\n", path);
    fflush(stdout);
    LLVMFuzzerTestOneInput(copy, len);
    return true;
}

/* Run the target on every input of DIR; false if DIR cannot be read. */
static bool run_dir(const char *dir, unsigned *count)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &err);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    if (!d) {
        fprintf(stderr, "fuzz: %s\n", err->message);
        return false;
    }
    while ((name = g_dir_read_name(d))) {
        if (name[0] != '.' && !g_str_has_prefix(name, "README")) {
            g_ptr_array_add(names, g_strdup(name));
        }
    }
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *path =
            g_build_filename(dir, g_ptr_array_index(names, i), NULL);

        if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
            continue;
        }
        if (!run_file(path)) {
            return false;
        }
        (*count)++;
    }
    return true;
}

int main(int argc, char **argv)
{
    unsigned count = 0;

    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        bool ok;

        if (g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
            ok = run_dir(argv[i], &count);
        } else {
            ok = run_file(argv[i]);
            count++;
        }
        if (!ok) {
            return 1;
        }
    }
    printf("fuzz: %u inputs ran\n", count);
    return count ? 0 : 1;
}
