/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the monitor's incremental JSON reader (monitor/json-reader.h).
 *
 * Input: byte 0 chooses how the input is split (below) and, with its
 * bit 6 set, a memory budget for the readers; byte 1 the limits (0: the
 * defaults and a budget of 64 MiB; else small ones and a budget of 1 to
 * 64 KiB, so that every limit is hit); the rest is the byte stream.  The
 * reader promises that any split gives the same callbacks as feeding the
 * stream whole, and that a reader after json_reader_end() is ready
 * again; this target checks both, the shape of every error, that the
 * depth never exceeds its limit, and that a budget holds nothing once
 * the reader is freed and every value's charge released:
 *
 *   1. a reader fed the stream whole, then ended, then fed it whole and
 *      ended again: the second round must repeat the first;
 *   2. a second reader fed the stream in chunks of byte 0 % 64 + 1
 *      bytes (byte 0 >= 192: chunk sizes drawn from the stream itself),
 *      then ended: the same callbacks again.
 */
#include "fuzz.h"
#include "json-reader.h"

#include <string.h>

#include <qapikit/error.h>

typedef struct Events {
    GString *text; /* one line per callback: "V <plain JSON>" or "E <msg>" */
    size_t max_depth;
    JsonReader *reader;
    JsonBudget budget; /* limit 0: the reader has none */
} Events;

static void on_value(json_object *value, size_t charge, void *opaque)
{
    Events *ev = opaque;

    if (charge && !ev->budget.limit) {
        fuzz_fail("a charge of %zu without a budget", charge);
    }

    g_string_append(ev->text, "V ");
    g_string_append(
        ev->text,
        json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN));
    g_string_append_c(ev->text, '\n');
    json_object_put(value);
    if (charge) {
        json_budget_release(&ev->budget, charge);
    }
}

static void on_error(const GError *err, void *opaque)
{
    Events *ev = opaque;

    if (err->domain != QAPI_ERROR || err->code != QAPI_ERROR_CLASS_GENERICERROR
        || !g_str_has_prefix(err->message, "invalid JSON: ")) {
        fuzz_fail("error of domain %s code %d: %s",
                  g_quark_to_string(err->domain), err->code, err->message);
    }
    g_string_append(ev->text, "E ");
    g_string_append(ev->text, err->message);
    g_string_append_c(ev->text, '\n');
}

static void check_depth(const Events *ev)
{
    size_t depth = json_reader_depth(ev->reader);

    if (depth > ev->max_depth) {
        fuzz_fail("depth %zu over the limit %zu", depth, ev->max_depth);
    }
}

static void limits_from_byte(uint8_t b, JsonReaderLimits *limits)
{
    limits->max_depth = 1 + (b & 7) * 3;                  /* 1 .. 22 */
    limits->max_bytes = (size_t)8 << ((b >> 3) & 7);      /* 8 .. 1024 */
    limits->max_tokens = (size_t)2 << ((b >> 6) & 3) * 2; /* 2 .. 128 */
}

/* A reader for EV with limits LP and, if BUDGET_LIMIT, a budget. */
static void reader_new(Events *ev, const JsonReaderLimits *lp,
                       size_t budget_limit)
{
    ev->max_depth = lp ? lp->max_depth : JSON_READER_DEFAULT_MAX_DEPTH;
    ev->text = g_string_new(NULL);
    ev->budget = (JsonBudget){ .name = "fuzz", .limit = budget_limit };
    ev->reader = json_reader_new(lp, on_value, on_error, ev);
    if (budget_limit) {
        json_reader_set_budget(ev->reader, &ev->budget);
    }
}

/* Free EV's reader; its budget must be back to nothing. */
static void reader_free(Events *ev)
{
    json_reader_free(ev->reader);
    ev->reader = NULL;
    if (ev->budget.used != 0) {
        fuzz_fail("the budget holds %zu bytes after the reader is freed",
                  ev->budget.used);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    JsonReaderLimits limits;
    const JsonReaderLimits *lp = NULL;
    Events whole, again, split;
    const char *bytes;
    size_t len, chunk, pos, budget = 0;
    uint8_t split_byte;

    if (size < 2) {
        return 0;
    }
    split_byte = data[0];
    if (data[1]) {
        limits_from_byte(data[1], &limits);
        lp = &limits;
    }
    if (split_byte & 0x40) {
        budget = data[1] ? (size_t)1024 << (data[1] % 7) : (size_t)64 << 20;
    }
    bytes = (const char *)data + 2;
    len = size - 2;

    /*
     * 1: whole on one reader; then on a second reader fed whole and
     * ended, the second round must repeat the first reader's callbacks.
     */
    reader_new(&whole, lp, budget);
    json_reader_feed(whole.reader, bytes, len);
    check_depth(&whole);
    json_reader_end(whole.reader);
    if (json_reader_depth(whole.reader) != 0) {
        fuzz_fail("depth %zu after json_reader_end()",
                  json_reader_depth(whole.reader));
    }
    reader_free(&whole);

    reader_new(&again, lp, budget);
    json_reader_feed(again.reader, bytes, len);
    json_reader_end(again.reader);
    g_string_truncate(again.text, 0);
    json_reader_feed(again.reader, bytes, len);
    check_depth(&again);
    json_reader_end(again.reader);
    reader_free(&again);
    if (strcmp(whole.text->str, again.text->str) != 0) {
        fuzz_fail("a reader fed again after its end differs:\n"
                  "first:\n%s\nagain:\n%s",
                  whole.text->str, again.text->str);
    }

    /* 2: in chunks. */
    reader_new(&split, lp, budget);
    for (pos = 0; pos < len; pos += chunk) {
        if (split_byte >= 192) {
            chunk = (uint8_t)bytes[pos] % 16 + 1;
        } else {
            chunk = split_byte % 64 + 1;
        }
        if (chunk > len - pos) {
            chunk = len - pos;
        }
        json_reader_feed(split.reader, bytes + pos, chunk);
        check_depth(&split);
    }
    json_reader_end(split.reader);
    reader_free(&split);
    if (strcmp(whole.text->str, split.text->str) != 0) {
        fuzz_fail("split input differs:\nwhole:\n%s\nsplit:\n%s",
                  whole.text->str, split.text->str);
    }

    g_string_free(whole.text, TRUE);
    g_string_free(again.text, TRUE);
    g_string_free(split.text, TRUE);
    return 0;
}
