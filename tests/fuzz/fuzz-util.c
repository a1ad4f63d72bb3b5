/* SPDX-License-Identifier: MIT */
/*
 * The helpers of fuzz.h, linked into every target (both ways).
 */
/* nftw() */
#define _XOPEN_SOURCE 700

#include "fuzz.h"

#include <stdarg.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <glib.h>

void fuzz_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("fuzz: invariant broken: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

static void log_handler(const char *domain, GLogLevelFlags level,
                        const char *message, gpointer data)
{
    if (level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG)) {
        return;
    }
    g_log_default_handler(domain, level, message, data);
}

void fuzz_init(void)
{
    g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR);
    g_log_set_default_handler(log_handler, NULL);
}

static char *scratch;

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_scratch(void)
{
    nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_scratch_dir(const char *name)
{
    g_autofree char *tmpl = g_strconcat(name, "-XXXXXX", NULL);
    GError *err = NULL;

    if (scratch) {
        fuzz_setup_failed("fuzz_scratch_dir() called twice", NULL);
    }
    scratch = g_dir_make_tmp(tmpl, &err);
    if (!scratch) {
        fuzz_setup_failed("scratch directory", err);
    }
    atexit(remove_scratch);
    return scratch;
}

void fuzz_setup_failed(const char *what, const GError *err)
{
    fprintf(stderr, "fuzz: %s%s%s\n", what, err ? ": " : "",
            err ? err->message : "");
    exit(1);
}
