/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: the incremental JSON reader.
 *
 * Turns a byte stream into top-level JSON values (json-c trees) as
 * docs/spec/qmp-protocol.md §1, §7 and §8 specify: no framing, any
 * split of the input, strict RFC 8259 plus single-quoted strings, limits
 * on depth, size and tokens, and the recovery state machine of §8 (at
 * most one error per run of bad input; the rest of a broken value is
 * skipped whole, so no part of it is ever delivered as a value of its
 * own: docs/embedding.md).
 *
 * Errors reach the embedder through a callback, not through errp: bad
 * input is not a failure of any call here.  Each error is a GError in
 * the QAPI_ERROR domain with code QAPI_ERROR_CLASS_GENERICERROR whose
 * message starts "invalid JSON: " and names what is wrong.
 *
 * A reader is not thread-safe.  The callbacks must not feed, end or free
 * the reader that calls them.
 */
#ifndef QAPIKIT_MONITOR_JSON_READER_H
#define QAPIKIT_MONITOR_JSON_READER_H

#include <stddef.h>

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

#define JSON_READER_DEFAULT_MAX_DEPTH ((size_t)1024)
#define JSON_READER_DEFAULT_MAX_BYTES ((size_t)64 * 1024 * 1024)
#define JSON_READER_DEFAULT_MAX_TOKENS ((size_t)2097152)

typedef struct JsonReader JsonReader;

/*
 * Limits on one top-level value (§7).  A field of 0 means its default;
 * an embedder may lower them (or raise them: memory grows with use).
 * MAX_DEPTH: levels of arrays and objects together; the opening bracket
 * that would make MAX_DEPTH + 1 levels is an error.  MAX_BYTES: input
 * bytes from the first byte of the value to its last; the byte that
 * crosses the limit is an error.  MAX_TOKENS: tokens (brackets, ',', ':',
 * strings, numbers, literals); the token past the limit is an error.
 * Every excess is refused at the offending byte, and the partial value
 * is freed at once.
 */
typedef struct JsonReaderLimits {
    size_t max_depth;
    size_t max_bytes;
    size_t max_tokens;
} JsonReaderLimits;

/*
 * A complete top-level value.  The callee owns the reference to VALUE
 * (json_object_put() it); NULL is JSON null.  Numbers: integers within
 * int64 are int64 (-0 is 0), integers from 2^63 to 2^64-1 are uint64,
 * anything else (out of range, fraction, exponent) is a double that
 * serialises to its source text (json_object_new_double_s); a double
 * may be infinite (1e999).
 */
typedef void (*JsonReaderValueFunc)(json_object *value, void *opaque);

/*
 * One run of bad input (§8).  ERR belongs to the reader and is valid
 * only during the call.
 */
typedef void (*JsonReaderErrorFunc)(const GError *err, void *opaque);

/*
 * A new reader in the ready state.  LIMITS NULL means the defaults; the
 * reader copies it.  ON_VALUE and ON_ERROR may be NULL (values are then
 * freed, errors ignored); OPAQUE is passed to both.  Free with
 * json_reader_free().
 */
JsonReader *json_reader_new(const JsonReaderLimits *limits,
                            JsonReaderValueFunc on_value,
                            JsonReaderErrorFunc on_error, void *opaque);

/*
 * Feed LEN bytes of input (BYTES may be NULL when LEN is 0).  Values and
 * errors are reported through the callbacks before this returns, in
 * input order.  Any split of the input gives the same callbacks as
 * feeding it whole.  A top-level number is complete only when a byte
 * that cannot continue it arrives (or at json_reader_end()).
 */
void json_reader_feed(JsonReader *r, const char *bytes, size_t len);

/*
 * End of input: a pending top-level number that is complete by the
 * grammar is delivered; any other unfinished value is dropped without an
 * error (§1/12).  The reader is then ready again and may be fed anew.
 */
void json_reader_end(JsonReader *r);

/*
 * The current nesting depth of the value being read (0 between values),
 * for tests and diagnostics.  It never exceeds the depth limit.
 */
size_t json_reader_depth(const JsonReader *r);

/* Free R and any partial value.  R may be NULL. */
void json_reader_free(JsonReader *r);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(JsonReader, json_reader_free)

G_END_DECLS

#endif /* QAPIKIT_MONITOR_JSON_READER_H */
