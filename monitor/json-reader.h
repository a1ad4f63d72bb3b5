/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: the incremental JSON reader.
 *
 * Turns a byte stream into top-level JSON values (json-c trees) as
 * docs/spec/qmp-protocol.md §1, §7 and §8 specify: no framing, any
 * split of the input, strict RFC 8259 plus single-quoted strings, limits
 * on depth, size and tokens, memory budgets, and the recovery state
 * machine of §8 (at most one error per run of bad input; the rest of a
 * broken value is skipped whole, so no part of it is ever delivered as a
 * value of its own: docs/embedding.md).
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

#include <stdbool.h>
#include <stddef.h>

#include <glib.h>
#include <json-c/json.h>

G_BEGIN_DECLS

/*
 * Defined when json_budget_release() gives memory back (see JsonBudget):
 * glibc's allocator, not AddressSanitizer's.
 */
#if defined(__SANITIZE_ADDRESS__)
#define JSON_BUDGET_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JSON_BUDGET_ASAN 1
#endif
#endif
#if defined(__GLIBC__) && !defined(JSON_BUDGET_ASAN)
#define JSON_BUDGET_GIVES_BACK 1
#endif

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
 * A memory budget (§7): an estimate, in bytes, of the heap that values
 * read and not yet freed hold, and a limit on it.  A reader given a
 * budget (json_reader_set_budget()) charges to it, as it builds a value,
 * every json-c node it creates (a documented cost per type, measured on
 * json-c 0.16 with glibc's malloc, plus the length of strings and keys),
 * the growth of the tables of arrays and objects, and the growth of its
 * token buffers.  A value whose next charge the budget refuses fails
 * like one past the size limit: one error, the partial value freed at
 * once, the rest of it skipped (§8).  A delivered value's charge goes
 * with it to the value callback, which releases it once it has freed
 * the value.
 *
 * Budgets nest one level: a session's budget has the monitor's as
 * PARENT.  A charge counts in both; the parent refuses a charge only
 * when it takes the child beyond its first GUARANTEED bytes, so a child
 * always gets those (within its own LIMIT) whatever its siblings hold,
 * and the parent's USED may exceed its LIMIT by the children's
 * guaranteed parts.
 *
 * When what a top-level budget (no PARENT) holds has fallen to half its
 * PEAK, and by at least JSON_BUDGET_GIVE_BACK bytes, the free memory of
 * the process's heap is given back to the system (glibc's malloc_trim();
 * not in AddressSanitizer builds, whose allocator keeps freed memory):
 * after a large value has been freed, not after every value.
 *
 * Budgets are plain structures owned by their user; set NAME, LIMIT,
 * GUARANTEED and PARENT, zero the rest.  Not thread-safe.
 */
typedef struct JsonBudget JsonBudget;
struct JsonBudget {
    const char *name;  /* whose: "session", "monitor" (for messages) */
    size_t limit;      /* the most it may hold; 0: no limit */
    size_t guaranteed; /* what PARENT never refuses */
    JsonBudget *parent;
    size_t used; /* charged now */
    size_t peak; /* the most used (top-level: since memory was given back) */
};

#define JSON_BUDGET_GIVE_BACK ((size_t)8 * 1024 * 1024)

/*
 * Charge BYTES to BUDGET (and its parent).  False, nothing charged and
 * *REFUSED (if not NULL) set to the budget that refused, when it does
 * not fit (see JsonBudget).
 */
bool json_budget_charge(JsonBudget *budget, size_t bytes,
                        const JsonBudget **refused);

/*
 * Release BYTES charged to BUDGET (and its parent), once the memory they
 * stand for is freed; may give memory back to the system (above).
 */
void json_budget_release(JsonBudget *budget, size_t bytes);

/*
 * BUDGET's owner has freed what it held and is done with it.  When it
 * once held an eighth of JSON_BUDGET_GIVE_BACK or more, the heap's free
 * memory is given back (above): what the owner kept beside its charged
 * values (buffers, queues) went with it, and no later release would
 * account for that.
 */
void json_budget_retire(JsonBudget *budget);

/*
 * A complete top-level value.  The callee owns the reference to VALUE
 * (json_object_put() it); NULL is JSON null.  Numbers: integers within
 * int64 are int64 (-0 is 0), integers from 2^63 to 2^64-1 are uint64,
 * anything else (out of range, fraction, exponent) is a double that
 * serialises to its source text (json_object_new_double_s); a double
 * may be infinite (1e999).  CHARGE is what VALUE holds of the reader's
 * budget (0 without one): the callee releases it from that budget
 * (json_budget_release()) after it has freed VALUE.
 */
typedef void (*JsonReaderValueFunc)(json_object *value, size_t charge,
                                    void *opaque);

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
 * Charge the values R reads to BUDGET (lent: it must outlive R; NULL: no
 * accounting) from now on.  Call it before the first json_reader_feed().
 */
void json_reader_set_budget(JsonReader *r, JsonBudget *budget);

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

/*
 * Free R and any partial value, and release what they held of R's
 * budget.  R may be NULL.
 */
void json_reader_free(JsonReader *r);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(JsonReader, json_reader_free)

G_END_DECLS

#endif /* QAPIKIT_MONITOR_JSON_READER_H */
