/* SPDX-License-Identifier: MIT */
/*
 * qmp-bench-client: the measuring half of bench/qmp-bench.
 *
 * Connects to one QMP server on a unix socket, negotiates, and measures
 *   - sequential round trips of query-version (send one, wait for its reply),
 *   - pipelined round trips of query-version (DEPTH requests in flight),
 *   - the time of query-qmp-schema (median of several runs),
 * each for about SECONDS of wall time (at least a minimum count).  With
 * --pid it also reads the server's CPU time (utime + stime of
 * /proc/PID/stat) around each phase.  Prints one JSON object on stdout.
 *
 * Speed matters more than generality here: requests are fixed byte
 * strings, replies are counted by their CR LF (a server message never
 * contains CR or LF, docs/spec/qmp-protocol.md §1/6) and checked to be replies,
 * not parsed.  The same code measures every server.
 */

#define _GNU_SOURCE /* memmem */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#define READ_CHUNK (256 * 1024)

static const char version_request[] = "{\"execute\":\"query-version\"}";
static const char schema_request[] = "{\"execute\":\"query-qmp-schema\"}";
static const char negotiate_request[] = "{\"execute\":\"qmp_capabilities\"}";

typedef struct {
    int fd;
    char *buffer; /* unread input; messages are cut at CR LF */
    size_t length;
    size_t capacity;
    size_t scan_from;  /* where to continue looking for CR LF */
    size_t bytes_read; /* since the last reset */
} Connection;

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The server's utime + stime in seconds, or -1 without a pid. */
static double server_cpu_seconds(long pid)
{
    char path[64];
    char text[1024];
    FILE *file;
    size_t length;
    char *after_name;
    unsigned long utime = 0, stime = 0;

    if (pid <= 0) {
        return -1;
    }
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    file = fopen(path, "r");
    if (!file) {
        return -1;
    }
    length = fread(text, 1, sizeof(text) - 1, file);
    fclose(file);
    text[length] = '\0';
    /* Fields after "(comm)": state is field 3, utime 14, stime 15. */
    after_name = strrchr(text, ')');
    if (!after_name
        || sscanf(after_name + 2,
                  "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                  &stime)
            != 2) {
        return -1;
    }
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* This process's own user + system CPU time in seconds. */
static double client_cpu_seconds(void)
{
    struct rusage usage;

    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6
        + (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

static void die(const char *what)
{
    fprintf(stderr, "qmp-bench-client: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void send_all(Connection *conn, const char *data, size_t length)
{
    while (length > 0) {
        ssize_t written = write(conn->fd, data, length);

        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("write");
        }
        data += written;
        length -= (size_t)written;
    }
}

/* Reads once (blocking); exits at end of input. */
static void fill(Connection *conn)
{
    ssize_t got;

    if (conn->capacity - conn->length < READ_CHUNK) {
        conn->capacity = conn->length + 2 * READ_CHUNK;
        conn->buffer = g_realloc(conn->buffer, conn->capacity);
    }
    do {
        got = read(conn->fd, conn->buffer + conn->length, READ_CHUNK);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
        die("read");
    }
    if (got == 0) {
        fprintf(stderr, "qmp-bench-client: the server closed the connection\n");
        exit(1);
    }
    conn->length += (size_t)got;
    conn->bytes_read += (size_t)got;
}

/*
 * Takes complete messages off the buffer: returns how many, at most
 * @max.  Each must be a reply ("return"); an error reply or anything else
 * ends the program, since the numbers would mean nothing.
 */
static size_t take_messages(Connection *conn, size_t max)
{
    size_t count = 0;
    size_t start = 0;
    size_t pos = conn->scan_from;

    while (count < max) {
        char *end = pos < conn->length
            ? memmem(conn->buffer + pos, conn->length - pos, "\r\n", 2)
            : NULL;
        if (!end) {
            pos = conn->length;
            break;
        }
        /* QEMU writes {"return": ...}, qapikit {"return":...}. */
        if (strncmp(conn->buffer + start, "{\"return\"", 9) != 0) {
            fprintf(stderr, "qmp-bench-client: unexpected message: %.200s\n",
                    conn->buffer + start);
            exit(1);
        }
        count++;
        start = (size_t)(end - conn->buffer) + 2;
        pos = start;
    }
    memmove(conn->buffer, conn->buffer + start, conn->length - start);
    conn->length -= start;
    conn->scan_from = pos - start;
    if (conn->scan_from > 0 && conn->buffer[conn->scan_from - 1] == '\r') {
        conn->scan_from--; /* a CR LF split across reads */
    }
    return count;
}

/* Waits for one more reply. */
static void wait_reply(Connection *conn)
{
    while (take_messages(conn, 1) == 0) {
        fill(conn);
    }
}

static void connect_and_negotiate(Connection *conn, const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    char *end;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        fprintf(stderr, "qmp-bench-client: socket path too long\n");
        exit(2);
    }
    strcpy(addr.sun_path, path);
    conn->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (conn->fd < 0
        || connect(conn->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        die(path);
    }
    /* The greeting is no reply: skip it by hand. */
    while (!(end = conn->length ? memmem(conn->buffer, conn->length, "\r\n", 2)
                                : NULL)) {
        fill(conn);
    }
    if (strncmp(conn->buffer, "{\"QMP\"", 6) != 0) {
        fprintf(stderr, "qmp-bench-client: not a QMP greeting: %.200s\n",
                conn->buffer);
        exit(1);
    }
    conn->length -= (size_t)(end + 2 - conn->buffer);
    memmove(conn->buffer, end + 2, conn->length);
    send_all(conn, negotiate_request, strlen(negotiate_request));
    wait_reply(conn);
}

typedef struct {
    uint64_t requests;
    double seconds;
    double cpu_seconds; /* < 0: unknown */
    double client_cpu_seconds;
} Phase;

static void print_phase(const char *name, const Phase *phase, bool comma)
{
    printf("\"%s\": {\"requests\": %" PRIu64 ", \"seconds\": %.6f, "
           "\"rate\": %.1f, \"server_cpu_seconds\": %.4f, "
           "\"client_cpu_seconds\": %.4f}%s",
           name, phase->requests, phase->seconds,
           (double)phase->requests / phase->seconds, phase->cpu_seconds,
           phase->client_cpu_seconds, comma ? ", " : "");
}

static Phase run_sequential(Connection *conn, double seconds, uint64_t minimum,
                            long pid)
{
    Phase phase = { 0 };
    double cpu0 = server_cpu_seconds(pid);
    double own0 = client_cpu_seconds();
    double start = now_seconds();
    double elapsed = 0;

    while (phase.requests < minimum || elapsed < seconds) {
        for (int i = 0; i < 16; i++) {
            send_all(conn, version_request, strlen(version_request));
            wait_reply(conn);
            phase.requests++;
        }
        elapsed = now_seconds() - start;
    }
    phase.seconds = elapsed;
    phase.cpu_seconds = cpu0 < 0 ? -1 : server_cpu_seconds(pid) - cpu0;
    phase.client_cpu_seconds = client_cpu_seconds() - own0;
    return phase;
}

static Phase run_pipelined(Connection *conn, double seconds, uint64_t minimum,
                           unsigned depth, long pid)
{
    Phase phase = { 0 };
    size_t one = strlen(version_request);
    char *batch = g_malloc(one * depth);
    uint64_t in_flight = depth;
    bool sending = true;
    double cpu0 = server_cpu_seconds(pid);
    double own0 = client_cpu_seconds();
    double start = now_seconds();

    for (unsigned i = 0; i < depth; i++) {
        memcpy(batch + i * one, version_request, one);
    }
    send_all(conn, batch, one * depth);
    while (in_flight > 0) {
        size_t got;

        fill(conn);
        got = take_messages(conn, in_flight);
        phase.requests += got;
        in_flight -= got;
        if (sending && got > 0) {
            /* Refill the pipeline with as many as just came back. */
            send_all(conn, batch, one * got);
            in_flight += got;
            if (phase.requests >= minimum && now_seconds() - start >= seconds) {
                sending = false;
            }
        }
    }
    phase.seconds = now_seconds() - start;
    phase.cpu_seconds = cpu0 < 0 ? -1 : server_cpu_seconds(pid) - cpu0;
    phase.client_cpu_seconds = client_cpu_seconds() - own0;
    g_free(batch);
    return phase;
}

static gint compare_doubles(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    g_autofree char *socket_path = NULL;
    g_autofree char *label = NULL;
    gint64 pid = 0;
    double seconds = 2.0;
    gint64 depth = 64;
    gint64 schema_runs = 20;
    GOptionEntry entries[] = {
        { "socket", 's', 0, G_OPTION_ARG_FILENAME, &socket_path,
          "The server's unix socket", "PATH" },
        { "pid", 'p', 0, G_OPTION_ARG_INT64, &pid,
          "The server's pid, for its CPU time", "PID" },
        { "label", 'l', 0, G_OPTION_ARG_STRING, &label, "A name for the output",
          "NAME" },
        { "seconds", 't', 0, G_OPTION_ARG_DOUBLE, &seconds,
          "Wall time per round-trip phase (default 2)", "S" },
        { "depth", 'd', 0, G_OPTION_ARG_INT64, &depth,
          "Requests in flight in the pipelined phase (default 64)", "N" },
        { "schema-runs", 'r', 0, G_OPTION_ARG_INT64, &schema_runs,
          "query-qmp-schema calls, at least (default 20; and for at least "
          "half of S)",
          "N" },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) context =
        g_option_context_new("- QMP round trips per second against one server");
    g_autoptr(GError) error = NULL;
    Connection conn = { .fd = -1 };
    Phase sequential, pipelined;
    GArray *schema_times;
    double schema_cpu0, schema_cpu, schema_start;
    size_t schema_bytes = 0;

    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error)) {
        fprintf(stderr, "qmp-bench-client: %s\n", error->message);
        return 2;
    }
    if (!socket_path || depth < 1 || depth > 100000 || schema_runs < 1
        || seconds <= 0) {
        fprintf(stderr,
                "qmp-bench-client: give -s PATH (and sane numbers); "
                "see --help\n");
        return 2;
    }

    connect_and_negotiate(&conn, socket_path);
    /* Warm up both paths. */
    run_sequential(&conn, 0.05, 100, 0);
    sequential = run_sequential(&conn, seconds, 200, (long)pid);
    pipelined = run_pipelined(&conn, seconds, 1000, (unsigned)depth, (long)pid);

    /* query-qmp-schema: at least SCHEMA_RUNS calls and SECONDS / 2 of wall
     * time, so that the server's CPU time spans enough clock ticks. */
    schema_times = g_array_new(FALSE, FALSE, sizeof(double));
    schema_cpu0 = server_cpu_seconds((long)pid);
    schema_start = now_seconds();
    while ((gint64)schema_times->len < schema_runs
           || now_seconds() - schema_start < seconds / 2) {
        double start = now_seconds();
        double took;

        conn.bytes_read = conn.length;
        send_all(&conn, schema_request, strlen(schema_request));
        wait_reply(&conn);
        took = now_seconds() - start;
        g_array_append_val(schema_times, took);
        schema_bytes = conn.bytes_read - conn.length;
    }
    schema_cpu =
        schema_cpu0 < 0 ? -1 : server_cpu_seconds((long)pid) - schema_cpu0;
    g_array_sort(schema_times, compare_doubles);

    printf("{\"label\": \"%s\", \"depth\": %" G_GINT64_FORMAT ", ",
           label ? label : socket_path, depth);
    print_phase("sequential", &sequential, true);
    print_phase("pipelined", &pipelined, true);
    printf("\"schema\": {\"runs\": %" G_GINT64_FORMAT ", \"median_seconds\": "
           "%.6f, \"min_seconds\": %.6f, \"bytes\": %zu, "
           "\"server_cpu_seconds\": %.4f}}\n",
           (gint64)schema_times->len,
           g_array_index(schema_times, double, schema_times->len / 2),
           g_array_index(schema_times, double, 0), schema_bytes, schema_cpu);
    g_array_unref(schema_times);
    g_free(conn.buffer);
    close(conn.fd);
    return 0;
}
