/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the JSON input visitor (<qapikit/visitor.h>) through the
 * generated visit_type_* of the kitchen-sink types (the table of
 * tests/unit/kitchen-sink-test-util.h), then the output, clone and
 * dealloc visitors on what it built.
 *
 * Input: a first line "TYPE" or "TYPE reject" (TYPE a name of that
 * table: "KsFlatUnion", "[KsBase]", "int8", ...; "reject" sets the
 * policy for deprecated and unstable input to reject), then JSON text,
 * parsed strictly by json-c.  Checked, when the input visitor accepts
 * the document: the value is written by the output visitor, and if that
 * succeeds, reading its output back succeeds and writes the same JSON
 * again; a clone writes the same JSON too.  When it refuses the
 * document: a GenericError, and an object, list or string left NULL.
 * Every value is freed with the dealloc visitor (LeakSanitizer checks
 * that nothing is left).
 */
#include "fuzz.h"
#include "kitchen-sink-test-util.h"

#include <string.h>

/* Storage for any value of the table: a pointer or a scalar. */
typedef union KsValue {
    void *ptr;
    uint64_t u64;
    double number;
    char bytes[16];
} KsValue;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_init();
    return 0;
}

/* TEXT parsed strictly and whole; false when it is no JSON. */
static bool parse_json(const char *text, size_t len, json_object **obj)
{
    json_tokener *tok = json_tokener_new();
    bool ok;

    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    *obj = json_tokener_parse_ex(tok, text, (int)len);
    if (json_tokener_get_error(tok) == json_tokener_continue) {
        /* a top-level number completes at the end of the text */
        *obj = json_tokener_parse_ex(tok, "", 1);
    }
    ok = json_tokener_get_error(tok) == json_tokener_success
        && json_tokener_get_parse_end(tok) >= len;
    json_tokener_free(tok);
    if (!ok) {
        json_object_put(*obj);
        *obj = NULL;
    }
    return ok;
}

static char *json_text(json_object *obj)
{
    return g_strdup(
        json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
}

/* VALUE (accepted from the input) written, read back, written again. */
static void check_roundtrip(const KsType *type, KsValue *value)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GError) err2 = NULL;
    json_object *out = ks_type_output(type, value, &err);
    json_object *out2;
    KsValue value2 = { 0 };

    if (!out) {
        return;
    }
    if (!ks_type_input(type, out, &value2, &err2)) {
        g_autofree char *text = json_text(out);

        fuzz_fail("%s: the output %s read back fails: %s", type->name, text,
                  err2->message);
    }
    out2 = ks_type_output(type, &value2, &err2);
    if (!out2 || !json_object_equal(out, out2)) {
        g_autofree char *text = json_text(out);
        g_autofree char *text2 = json_text(out2);

        fuzz_fail("%s: written %s, read back and written %s", type->name, text,
                  out2 ? text2 : err2->message);
    }
    ks_type_free(type, &value2);
    json_object_put(out2);

    if (type->clone && value->ptr) {
        KsValue copy = { .ptr = type->clone(value->ptr) };
        json_object *out3 = ks_type_output(type, &copy, &err2);

        if (!out3 || !json_object_equal(out, out3)) {
            g_autofree char *text = json_text(out);

            fuzz_fail("%s: %s cloned writes differently", type->name, text);
        }
        json_object_put(out3);
        ks_type_free(type, &copy);
    }
    json_object_put(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nl = memchr(text, '\n', size);
    g_autofree char *line = NULL;
    g_autoptr(GError) err = NULL;
    const KsType *type;
    json_object *doc;
    KsValue value = { 0 };
    bool reject = false;
    char *space;

    if (!nl) {
        return 0;
    }
    line = g_strndup(text, nl - text);
    space = strchr(line, ' ');
    if (space) {
        if (strcmp(space, " reject") != 0) {
            return 0;
        }
        *space = 0;
        reject = true;
    }
    type = ks_type_find(line);
    if (!type || type->size > sizeof(value)) {
        return 0;
    }
    if (!parse_json(nl + 1, size - (nl + 1 - text), &doc)) {
        return 0;
    }
    if (reject) {
        ks_policy_set(QAPI_INPUT_REJECT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_REJECT,
                      QAPI_OUTPUT_ACCEPT);
    }
    if (ks_type_input(type, doc, &value, &err)) {
        check_roundtrip(type, &value);
        ks_type_free(type, &value);
    } else {
        if (!err || err->domain != QAPI_ERROR
            || err->code != QAPI_ERROR_CLASS_GENERICERROR) {
            fuzz_fail("%s: refused without a GenericError", type->name);
        }
        if (type->is_pointer && value.ptr) {
            fuzz_fail("%s: refused, but the value is not NULL", type->name);
        }
    }
    if (reject) {
        ks_policy_set(QAPI_INPUT_ACCEPT, QAPI_OUTPUT_ACCEPT, QAPI_INPUT_ACCEPT,
                      QAPI_OUTPUT_ACCEPT);
    }
    json_object_put(doc);
    return 0;
}
