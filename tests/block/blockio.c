/* SPDX-License-Identifier: MIT */
/*
 * blockio: a command-line program over the image-node API
 * (<qapikit/block.h>), used by the tests and the qcow2 benchmark.
 *
 *   blockio create [-s CLUSTER_SIZE] [-b BACKING -F FORMAT] IMAGE SIZE
 *   blockio [-f FORMAT] [-r] [-n] IMAGE -c 'CMD ARGS' [-c ...]
 *
 * Commands (sizes take k/M/G suffixes):
 *   write -P BYTE OFF LEN      write a pattern
 *   read -P BYTE OFF LEN       read and verify a pattern (exit 1 if not)
 *   read OFF LEN               read and discard
 *   save OFF LEN PATH          write guest bytes to PATH
 *   load OFF PATH              write the bytes of PATH at OFF
 *   flush
 *   info                       key=value lines about every node of the chain
 *   bench-write BS TOTAL       sequential writes of BS, one flush at the end;
 *                              prints "MB/s SECONDS"
 *   bench-read BS TOTAL        sequential reads of BS, wrapping around at
 *                              the end of the disk
 *
 * -f FORMAT: raw or qcow2 (detected by default); -r: read-only; -n: do
 * not open the backing chain.  Exit status: 0 success, 1 a command failed
 * (message on stderr), 2 usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qapikit/block.h>
#include <qapikit/error.h>

static bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (end == s || errno) {
        return false;
    }
    unsigned shift = 0;
    switch (*end) {
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'M':
    case 'm':
        shift = 20;
        end++;
        break;
    case 'G':
    case 'g':
        shift = 30;
        end++;
        break;
    case 'T':
    case 't':
        shift = 40;
        end++;
        break;
    default:
        break;
    }
    if (*end || (shift && v > (UINT64_MAX >> shift))) {
        return false;
    }
    *out = (uint64_t)v << shift;
    return true;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: blockio create [-s CLUSTER_SIZE] [-b BACKING -F FORMAT] "
            "IMAGE SIZE\n"
            "       blockio [-f FORMAT] [-r] [-n] IMAGE -c 'CMD ARGS'...\n");
    return 2;
}

static int cmd_create(int argc, char **argv)
{
    Qcow2CreateOptions opts = { 0 };
    const char *args[2];
    int nargs = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-s") && i + 1 < argc) {
            uint64_t cs;
            if (!parse_size(argv[++i], &cs) || cs < 512 || (cs & (cs - 1))) {
                return usage();
            }
            opts.cluster_bits = (unsigned)__builtin_ctzll(cs);
        } else if (!strcmp(argv[i], "-b") && i + 1 < argc) {
            opts.backing_file = argv[++i];
        } else if (!strcmp(argv[i], "-F") && i + 1 < argc) {
            opts.backing_format = argv[++i];
        } else if (nargs < 2) {
            args[nargs++] = argv[i];
        } else {
            return usage();
        }
    }
    if (nargs != 2 || !parse_size(args[1], &opts.size)) {
        return usage();
    }
    opts.sync = true;
    g_autoptr(GError) err = NULL;
    bool created;
    if (!qcow2_create(args[0], &opts, &created, &err)
        || !block_fsync_dir(args[0], &err)) {
        fprintf(stderr, "blockio: %s\n", err->message);
        return 1;
    }
    return 0;
}

static void print_info(BlockNode *node)
{
    unsigned depth = 0;
    for (BlockNode *bs = node; bs; bs = block_node_backing(bs), depth++) {
        printf("[%u]\n", depth);
        printf("filename=%s\n", block_node_filename(bs));
        printf("format=%s\n", block_format_name(block_node_format(bs)));
        printf("virtual-size=%" PRIu64 "\n", block_node_length(bs));
        printf("cluster-size=%" PRIu64 "\n", block_node_cluster_size(bs));
        printf("read-only=%s\n",
               block_node_is_read_only(bs) ? "true" : "false");
        printf("dirty=%s\n", block_node_is_dirty(bs) ? "true" : "false");
        printf("backing-depth=%u\n", block_node_backing_depth(bs));
        if (block_node_backing_name(bs)) {
            printf("backing-filename=%s\n", block_node_backing_name(bs));
            printf("full-backing-filename=%s\n",
                   block_node_full_backing_name(bs));
        }
        if (block_node_backing_format(bs)) {
            printf("backing-format=%s\n", block_node_backing_format(bs));
        }
    }
}

static bool run_bench(BlockNode *node, bool write, uint64_t bs, uint64_t total,
                      GError **errp)
{
    g_autofree uint8_t *buf = g_malloc(bs);
    memset(buf, 0x5a, bs);
    gint64 start = g_get_monotonic_time();
    uint64_t length = block_node_length(node);
    for (uint64_t done = 0; done + bs <= total; done += bs) {
        /* Reads wrap around at the end of the disk (several passes). */
        uint64_t off =
            write || length < bs ? done : done % (length - length % bs);
        bool ok = write ? block_node_pwrite(node, off, buf, bs, errp)
                        : block_node_pread(node, off, buf, bs, errp);
        if (!ok) {
            return false;
        }
    }
    if (write && !block_node_flush(node, errp)) {
        return false;
    }
    double secs = (double)(g_get_monotonic_time() - start) / 1e6;
    printf("%.1f %.6f\n", (double)total / 1e6 / secs, secs);
    return true;
}

static bool run_command(BlockNode *node, const char *line, GError **errp)
{
    g_auto(GStrv) argv = NULL;
    int argc;
    if (!g_shell_parse_argv(line, &argc, &argv, errp)) {
        return false;
    }
    const char *cmd = argv[0];
    uint64_t a = 0, b = 0;

    if ((!strcmp(cmd, "write") || !strcmp(cmd, "read")) && argc == 5
        && !strcmp(argv[1], "-P")) {
        uint64_t pattern;
        if (!parse_size(argv[2], &pattern) || pattern > 255
            || !parse_size(argv[3], &a) || !parse_size(argv[4], &b)) {
            g_set_error(errp, QAPI_ERROR, 0, "bad arguments: %s", line);
            return false;
        }
        g_autofree uint8_t *buf = g_malloc(b ? b : 1);
        if (cmd[0] == 'w') {
            memset(buf, (int)pattern, b);
            return block_node_pwrite(node, a, buf, b, errp);
        }
        if (!block_node_pread(node, a, buf, b, errp)) {
            return false;
        }
        for (uint64_t i = 0; i < b; i++) {
            if (buf[i] != pattern) {
                g_set_error(errp, QAPI_ERROR, 0,
                            "pattern mismatch at offset "
                            "%" PRIu64 ": 0x%02x, expected 0x%02x",
                            a + i, buf[i], (unsigned)pattern);
                return false;
            }
        }
        return true;
    }
    if (!strcmp(cmd, "read") && argc == 3 && parse_size(argv[1], &a)
        && parse_size(argv[2], &b)) {
        /* Read in 1 MiB pieces and discard. */
        g_autofree uint8_t *buf = g_malloc(1 << 20);
        for (uint64_t done = 0; done < b;) {
            size_t n = (size_t)MIN(b - done, (uint64_t)1 << 20);
            if (!block_node_pread(node, a + done, buf, n, errp)) {
                return false;
            }
            done += n;
        }
        return true;
    }
    if (!strcmp(cmd, "save") && argc == 4 && parse_size(argv[1], &a)
        && parse_size(argv[2], &b)) {
        g_autofree uint8_t *buf = g_malloc(b ? b : 1);
        return block_node_pread(node, a, buf, b, errp)
            && g_file_set_contents(argv[3], (const char *)buf, (gssize)b, errp);
    }
    if (!strcmp(cmd, "load") && argc == 3 && parse_size(argv[1], &a)) {
        g_autofree char *data = NULL;
        gsize len;
        return g_file_get_contents(argv[2], &data, &len, errp)
            && block_node_pwrite(node, a, data, len, errp);
    }
    if (!strcmp(cmd, "flush") && argc == 1) {
        return block_node_flush(node, errp);
    }
    if (!strcmp(cmd, "info") && argc == 1) {
        print_info(node);
        return true;
    }
    if ((!strcmp(cmd, "bench-write") || !strcmp(cmd, "bench-read")) && argc == 3
        && parse_size(argv[1], &a) && parse_size(argv[2], &b) && a > 0) {
        return run_bench(node, cmd[6] == 'w', a, b, errp);
    }
    g_set_error(errp, QAPI_ERROR, 0, "unknown command or bad arguments: %s",
                line);
    return false;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "create")) {
        return cmd_create(argc - 2, argv + 2);
    }
    const char *format = NULL;
    const char *image = NULL;
    unsigned flags = 0;
    g_autoptr(GPtrArray) cmds = g_ptr_array_new();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-f") && i + 1 < argc) {
            format = argv[++i];
        } else if (!strcmp(argv[i], "-r")) {
            flags |= BLOCK_OPEN_READ_ONLY;
        } else if (!strcmp(argv[i], "-n")) {
            flags |= BLOCK_OPEN_NO_BACKING;
        } else if (!strcmp(argv[i], "-c") && i + 1 < argc) {
            g_ptr_array_add(cmds, argv[++i]);
        } else if (!image && argv[i][0] != '-') {
            image = argv[i];
        } else {
            return usage();
        }
    }
    if (!image) {
        return usage();
    }
    g_autoptr(GError) err = NULL;
    g_autoptr(BlockNode) node = block_node_open(image, format, flags, &err);
    if (!node) {
        fprintf(stderr, "blockio: %s\n", err->message);
        return 1;
    }
    for (guint i = 0; i < cmds->len; i++) {
        if (!run_command(node, cmds->pdata[i], &err)) {
            fprintf(stderr, "blockio: %s\n", err->message);
            return 1;
        }
    }
    if (!(flags & BLOCK_OPEN_READ_ONLY) && !block_node_flush(node, &err)) {
        fprintf(stderr, "blockio: %s\n", err->message);
        return 1;
    }
    return 0;
}
