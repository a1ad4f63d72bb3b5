/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the block device tests: a scratch directory with base
 * images, file digests and directory listings, qemu-img as the oracle.
 */
#ifndef BLOCKDEV_TEST_UTIL_H
#define BLOCKDEV_TEST_UTIL_H

#include <qapikit/block-device.h>

/* Disk size of the test devices: 1 MiB, l1_size 1. */
#define TEST_DISK_SIZE (1u << 20)
/* §6: 3 clusters and one L1 entry. */
#define TEST_OVERLAY_SIZE (3 * 65536 + 8)

typedef struct TestDisks {
    char *dir;                /* scratch directory, removed at the end */
    BlockDeviceRegistry *reg; /* disk0 .. diskN-1 */
    size_t n;
} TestDisks;

/*
 * N devices "disk0".."diskN-1" over DIR/diskI.qcow2 (or .raw for odd I
 * when MIXED), each filled with the byte 'a' + I.
 */
void test_disks_init(TestDisks *t, size_t n, bool mixed);
void test_disks_cleanup(TestDisks *t);

/* DIR/NAME, newly allocated. */
char *test_path(const TestDisks *t, const char *name);

/* sha256 of the file at PATH, hex; NULL if unreadable. */
char *test_sha256_file(const char *path);

/* Sorted names in DIR, joined by '\n'. */
char *test_list_dir(const char *dir);

/* Every device's top file name and depth, one line each. */
char *test_tops(const BlockDeviceRegistry *reg);

/* Digest of every file in DIR: "name sha256\n"... sorted. */
char *test_dir_digest(const char *dir);

/* Whether qemu-img is in PATH. */
bool test_have_qemu_img(void);

/* Run qemu-img with ARGV (NULL-terminated, without "qemu-img"); its exit
 * status, stdout in *OUT if not NULL. */
int test_qemu_img(char **out, const char *const *argv);

#endif
