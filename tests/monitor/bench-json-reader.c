/* SPDX-License-Identifier: MIT */
/*
 * Throughput of the monitor's JSON reader against json-c's tokener
 * (json_tokener_parse_ex) on the same input, side by side.  Not a test:
 * run build/tests/monitor/bench-json-reader [ROUNDS [INPUT]].
 *
 * Inputs: a stream of QMP requests (small objects, the monitor's daily
 * bread), one large value rich in strings, and one rich in numbers.
 */
#include "json-reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t n_values;

static void count_value(json_object *value, size_t charge, void *opaque)
{
    (void)charge;
    (void)opaque;
    n_values++;
    json_object_put(value);
}

static void count_error(const GError *err, void *opaque)
{
    (void)opaque;
    fprintf(stderr, "unexpected error: %s\n", err->message);
    exit(1);
}

static double run_reader(const GString *in, size_t chunk)
{
    gint64 start = g_get_monotonic_time();
    /* the large inputs hold more tokens than the default allows */
    JsonReaderLimits limits = { .max_tokens = 100000000 };
    JsonReader *r = json_reader_new(&limits, count_value, count_error, NULL);

    for (size_t i = 0; i < in->len; i += chunk) {
        json_reader_feed(r, in->str + i, MIN(chunk, in->len - i));
    }
    json_reader_end(r);
    json_reader_free(r);
    return (double)(g_get_monotonic_time() - start) / 1e6;
}

/* json-c on the same stream, value after value, in the same chunks. */
static double run_tokener(const GString *in, size_t chunk)
{
    gint64 start = g_get_monotonic_time();
    json_tokener *tok = json_tokener_new_ex(1024);

    for (size_t i = 0; i < in->len;) {
        size_t len = MIN(chunk, in->len - i);
        json_object *obj = json_tokener_parse_ex(tok, in->str + i, (int)len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);

        if (obj) {
            n_values++;
            json_object_put(obj);
            i += json_tokener_get_parse_end(tok);
            json_tokener_reset(tok);
        } else if (jerr == json_tokener_continue) {
            i += len;
        } else {
            fprintf(stderr, "json-c: %s\n", json_tokener_error_desc(jerr));
            exit(1);
        }
    }
    json_tokener_free(tok);
    return (double)(g_get_monotonic_time() - start) / 1e6;
}

static const char *only;

static void compare(const char *name, const GString *in, int rounds)
{
    if (only && strcmp(only, name) != 0) {
        return;
    }
    static const size_t chunks[] = { 65536 };

    for (size_t c = 0; c < G_N_ELEMENTS(chunks); c++) {
        double best_reader = 1e9, best_tokener = 1e9;
        size_t values_reader = 0, values_tokener = 0;

        for (int i = 0; i < rounds; i++) {
            double t;

            /* alternate who goes first: the heap's state favours one */
            for (int k = 0; k < 2; k++) {
                n_values = 0;
                if ((i + k) % 2 == 0) {
                    t = run_reader(in, chunks[c]);
                    best_reader = MIN(best_reader, t);
                    values_reader = n_values;
                } else {
                    t = run_tokener(in, chunks[c]);
                    best_tokener = MIN(best_tokener, t);
                    values_tokener = n_values;
                }
            }
        }
        printf("%-16s %6.1f MB %5zu KiB chunks: json-reader %7.1f MB/s "
               "(%zu values), json_tokener_parse_ex %7.1f MB/s (%zu values), "
               "ratio %.2f\n",
               name, in->len / 1e6, chunks[c] / 1024,
               in->len / 1e6 / best_reader, values_reader,
               in->len / 1e6 / best_tokener, values_tokener,
               best_tokener / best_reader);
    }
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 5;
    only = argc > 2 ? argv[2] : NULL;
    GString *requests = g_string_new(NULL);
    GString *strings = g_string_new("[");
    GString *numbers = g_string_new("[");

    for (int i = 0; i < 100000; i++) {
        g_string_append_printf(
            requests,
            "{\"execute\": \"blockdev-group-snapshot-sync\", \"arguments\": "
            "{\"devlist\": [{\"device\": \"disk0\", \"snapshot-file\": "
            "\"/srv/vm/disk0.s%d.qcow2\", \"format\": \"qcow2\"}, "
            "{\"device\": \"disk1\", \"snapshot-file\": "
            "\"/srv/vm/disk1.s%d.qcow2\"}]}, \"id\": \"__qmp#%05d\"}\r\n",
            i, i, i);
    }
    for (int i = 0; i < 200000; i++) {
        g_string_append_printf(
            strings,
            "%s{\"name\": \"entry number %d with some text\", "
            "\"path\": \"/var/lib/images/caf\xC3\xA9-%d.qcow2\", "
            "\"note\": \"line\\nbreak \\\"quoted\\\" \\u00e9\"}",
            i ? "," : "", i, i);
    }
    g_string_append(strings, "]");
    for (int i = 0; i < 1000000; i++) {
        g_string_append_printf(numbers, "%s%lld,%d.25,-%de3", i ? "," : "",
                               (long long)i * 7919, i, i % 100);
    }
    g_string_append(numbers, "]");

    compare("qmp-requests", requests, rounds);
    compare("strings", strings, rounds);
    compare("numbers", numbers, rounds);

    g_string_free(requests, TRUE);
    g_string_free(strings, TRUE);
    g_string_free(numbers, TRUE);
    return 0;
}
