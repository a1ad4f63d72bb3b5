/* SPDX-License-Identifier: MIT */
/*
 * Handlers of the kitchen sink's commands (every qmp_* that
 * qapi-commands.h and qapi-commands-qapi-schema-test-sub.h declare), for
 * the unit tests that drive the generated marshallers.
 *
 * Each handler counts its call and leaves a one-line summary of the C
 * values it received (ks_handlers_last()), so that a test sees exactly
 * what the marshaller handed over.  What each one returns:
 *
 *   ks-sub-echo            a copy of @arg
 *   ks-no-args, ks-oob, ks-preconfig, ks-coroutine, ks-all-flags,
 *   ks_legacy_cmd, ks-no-success-response-2012   nothing ({})
 *   ks-inline-args         KsBase {base-id: @a, base-note: @b}
 *   ks-struct-args         @base-id copies of KsBase {base-id: i,
 *                          base-note: @base-note}, i = 0, 1, ...
 *                          (GenericError unless 0 <= @base-id <= 16)
 *   ks-boxed-union         a copy of @arg whose note is "echo"
 *   ks-boxed-struct        nothing
 *   ks-return-int, -str-list, -enum, -any, -alternate
 *                          what ks_handler_config says
 *   ks-no-success-response nothing (GenericError when @delay is 0)
 *   ks-deprecated-cmd      nothing
 *   ks-unstable-cmd        KsNamedBaseUnion {tag: alpha, common: 7,
 *                          alpha-value: "unstable", alpha-list: [1, 2]}
 *   ks-conditional-cmd     KsCondStruct {value: 2 * @value}
 *   ks-legacy-args, x-ks-experimental   nothing
 *   __org.example_ks-downstream  a copy of @arg with x-member set to
 *                          the length of its __org.example_member
 *   ks-use-everything      one simple union {type: text, data: NAME} per
 *                          argument present, in order, then a copy of
 *                          @simple if present
 *
 * Failing on request: a string argument "fail:CLASS" (CLASS a
 * QapiErrorClass name: b of ks-inline-args, base-note of
 * ks-struct-args, note of ks-boxed-union, experimental of
 * ks-boxed-struct, label of ks-sub-echo, new-arg of ks-deprecated-cmd,
 * extra of ks-conditional-cmd, __org.example_member of the downstream
 * command, names.snake_case of ks-use-everything) makes the handler fail
 * with that class and the message "COMMAND: failing with CLASS as asked";
 * ks_handlers_fail_next() does the same for the next call of any
 * handler.
 */
#ifndef KITCHEN_SINK_HANDLERS_H
#define KITCHEN_SINK_HANDLERS_H

#include <qapikit/error.h>

#include "qapi-commands.h"

/* What the ks-return-* handlers return; reset by ks_handlers_reset(). */
typedef struct KsHandlerConfig {
    int64_t return_int;       /* 42 */
    unsigned str_list_length; /* 3: "s0", "s1", "s2" */
    KsColor return_enum;      /* KS_COL_3D (any int, even out of range) */
    json_object *return_any;  /* NULL (JSON null); owned: a reference */
    bool return_alt_list;     /* false: "alt-text"; true: [1, 2, 3] */
} KsHandlerConfig;

extern KsHandlerConfig ks_handler_config;

/* Forget calls and failure requests, restore the default config. */
void ks_handlers_reset(void);

/* Handler calls since the last reset. */
unsigned ks_handlers_calls(void);

/* The summary of the last call ("" before any): "NAME arg=value ...". */
const char *ks_handlers_last(void);

/* Make the next handler call, whichever it is, fail with CLASS. */
void ks_handlers_fail_next(QapiErrorClass error_class);

#endif /* KITCHEN_SINK_HANDLERS_H */
