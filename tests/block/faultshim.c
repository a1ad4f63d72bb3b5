/* SPDX-License-Identifier: MIT */
/*
 * An LD_PRELOAD shim for the fault tests (test_qcow2_faults.py): it counts
 * the pwrite and fdatasync calls of a process and, at the Nth one, either
 * makes the process die on the spot (a crash: every earlier write is in
 * the file, nothing later is) or fails the call with EIO.
 *
 *   QAPIKIT_FAULT_AT=N         the call to act on (1-based); unset: none
 *   QAPIKIT_FAULT_MODE=crash|fail
 *   QAPIKIT_FAULT_COUNT=PATH   write the number of calls made to PATH at
 *                              exit
 */
/* Both symbols are wrapped: the build's -D_FILE_OFFSET_BITS=64 would
 * rename pwrite to pwrite64 here. */
#undef _FILE_OFFSET_BITS
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define FAULT_EXIT_STATUS 99

static long fault_calls;

static void fault_report(void)
{
    const char *path = getenv("QAPIKIT_FAULT_COUNT");
    if (path) {
        FILE *f = fopen(path, "w");
        if (f) {
            fprintf(f, "%ld\n", fault_calls);
            fclose(f);
        }
    }
}

__attribute__((constructor)) static void fault_init(void)
{
    atexit(fault_report);
}

/* True when this call must fail (errno set); exits for a crash. */
static int fault_hit(void)
{
    const char *at = getenv("QAPIKIT_FAULT_AT");
    fault_calls++;
    if (!at || atol(at) != fault_calls) {
        return 0;
    }
    const char *mode = getenv("QAPIKIT_FAULT_MODE");
    if (mode && strcmp(mode, "fail") == 0) {
        errno = EIO;
        return 1;
    }
    fault_report();
    _exit(FAULT_EXIT_STATUS);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
{
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real) {
        real = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT,
                                                                   "pwrite");
    }
    return fault_hit() ? -1 : real(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t offset)
{
    static ssize_t (*real)(int, const void *, size_t, off64_t);
    if (!real) {
        real = (ssize_t(*)(int, const void *, size_t, off64_t))dlsym(
            RTLD_NEXT, "pwrite64");
    }
    return fault_hit() ? -1 : real(fd, buf, count, offset);
}

int fdatasync(int fd)
{
    static int (*real)(int);
    if (!real) {
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    }
    return fault_hit() ? -1 : real(fd);
}
