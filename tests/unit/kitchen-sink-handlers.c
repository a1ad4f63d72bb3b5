/* SPDX-License-Identifier: MIT */
/*
 * Handlers of the kitchen sink's commands; see kitchen-sink-handlers.h.
 */
#include "kitchen-sink-handlers.h"

#include <string.h>

#include "qapi-visit.h"

KsHandlerConfig ks_handler_config;

static unsigned calls;
static GString *last;
static bool fail_next;
static QapiErrorClass fail_next_class;

void ks_handlers_reset(void)
{
    calls = 0;
    if (last) {
        g_string_truncate(last, 0);
    }
    fail_next = false;
    json_object_put(ks_handler_config.return_any);
    ks_handler_config = (KsHandlerConfig){
        .return_int = 42,
        .str_list_length = 3,
        .return_enum = KS_COL_3D,
        .return_any = NULL,
        .return_alt_list = false,
    };
}

unsigned ks_handlers_calls(void)
{
    return calls;
}

const char *ks_handlers_last(void)
{
    return last ? last->str : "";
}

void ks_handlers_fail_next(QapiErrorClass error_class)
{
    fail_next = true;
    fail_next_class = error_class;
}

static void fail_as_asked(const char *cmd, QapiErrorClass error_class,
                          GError **errp)
{
    g_set_error(errp, QAPI_ERROR, error_class, "%s: failing with %s as asked",
                cmd, QapiErrorClass_str(error_class));
}

/*
 * Start the call of CMD: count it, start its summary.  False with an
 * error when the test asked this call to fail.
 */
static bool enter(const char *cmd, GError **errp)
{
    calls++;
    if (!last) {
        last = g_string_new(NULL);
    }
    g_string_assign(last, cmd);
    if (fail_next) {
        fail_next = false;
        fail_as_asked(cmd, fail_next_class, errp);
        return false;
    }
    return true;
}

/* Append " NAME=VALUE" to the summary. */
static void note(const char *name, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void note(const char *name, const char *fmt, ...)
{
    va_list ap;

    g_string_append_printf(last, " %s=", name);
    va_start(ap, fmt);
    g_string_append_vprintf(last, fmt, ap);
    va_end(ap);
}

static void note_str(const char *name, const char *value)
{
    if (value) {
        note(name, "'%s'", value);
    } else {
        note(name, "absent");
    }
}

/* VALUE (an argument) asks for failure with "fail:CLASS". */
static bool fails_on(const char *cmd, const char *value, GError **errp)
{
    int error_class;

    if (!value || !g_str_has_prefix(value, "fail:")) {
        return false;
    }
    error_class = qapi_enum_parse(&QapiErrorClass_lookup, value + 5,
                                  QAPI_ERROR_CLASS_GENERICERROR, NULL);
    if (error_class < 0) {
        error_class = QAPI_ERROR_CLASS_GENERICERROR;
    }
    fail_as_asked(cmd, error_class, errp);
    return true;
}

static char *int_list_text(const intList *list)
{
    GString *text = g_string_new("[");

    for (; list; list = list->next) {
        g_string_append_printf(text, "%" PRId64 "%s", list->value,
                               list->next ? "," : "");
    }
    g_string_append_c(text, ']');
    return g_string_free(text, FALSE);
}

static char *color_list_text(const KsColorList *list)
{
    GString *text = g_string_new("[");

    for (; list; list = list->next) {
        const char *name = KsColor_str(list->value);

        g_string_append_printf(text, "%s%s", name ? name : "?",
                               list->next ? "," : "");
    }
    g_string_append_c(text, ']');
    return g_string_free(text, FALSE);
}

/* Module qapi-schema-test-sub.json */

KsSubStruct *qmp_ks_sub_echo(KsSubStruct *arg, GError **errp)
{
    if (!enter("ks-sub-echo", errp)) {
        return NULL;
    }
    note("count", "%" PRIu32, arg->count);
    note_str("label", arg->label);
    if (fails_on("ks-sub-echo", arg->label, errp)) {
        return NULL;
    }
    return QAPI_CLONE(KsSubStruct, arg);
}

/* Module qapi-schema-test.json */

bool qmp_ks_no_args(GError **errp)
{
    return enter("ks-no-args", errp);
}

KsBase *qmp_ks_inline_args(int64_t a, const char *b, KsColorList *colors,
                           KsAltStrArray *alt, bool has_q_default,
                           bool q_default, GError **errp)
{
    g_autofree char *colors_text = NULL;
    KsBase *ret;

    if (!enter("ks-inline-args", errp)) {
        return NULL;
    }
    colors_text = color_list_text(colors);
    note("a", "%" PRId64, a);
    note_str("b", b);
    note("colors", "%s", colors_text);
    if (!alt) {
        note("alt", "absent");
    } else if (alt->type == QTYPE_QSTRING) {
        note("alt", "text:'%s'", alt->u.text);
    } else if (alt->type == QTYPE_QLIST) {
        g_autofree char *list_text = int_list_text(alt->u.list);

        note("alt", "list:%s", list_text);
    } else {
        note("alt", "type %d", alt->type);
    }
    note("default", "%s",
         has_q_default ? (q_default ? "true" : "false") : "absent");
    if (fails_on("ks-inline-args", b, errp)) {
        return NULL;
    }
    ret = g_new0(KsBase, 1);
    ret->base_id = a;
    ret->base_note = g_strdup(b);
    return ret;
}

KsBaseList *qmp_ks_struct_args(int64_t base_id, const char *base_note,
                               bool middle, double leaf, KsSubStruct *sub,
                               GError **errp)
{
    KsBaseList *head = NULL, **tail = &head;
    int64_t i;

    if (!enter("ks-struct-args", errp)) {
        return NULL;
    }
    note("base-id", "%" PRId64, base_id);
    note_str("base-note", base_note);
    note("middle", "%s", middle ? "true" : "false");
    note("leaf", "%g", leaf);
    if (sub) {
        note("sub", "{count=%" PRIu32 " label=%s}", sub->count,
             sub->label ? sub->label : "absent");
    } else {
        note("sub", "absent");
    }
    if (fails_on("ks-struct-args", base_note, errp)) {
        return NULL;
    }
    if (base_id < 0 || base_id > 16) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "ks-struct-args: 'base-id' must be 0 to 16");
        return NULL;
    }
    for (i = 0; i < base_id; i++) {
        KsBaseList *node = g_new0(KsBaseList, 1);

        node->value = g_new0(KsBase, 1);
        node->value->base_id = i;
        node->value->base_note = g_strdup(base_note);
        *tail = node;
        tail = &node->next;
    }
    return head;
}

KsFlatUnion *qmp_ks_boxed_union(KsFlatUnion *arg, GError **errp)
{
    KsFlatUnion *ret;

    if (!enter("ks-boxed-union", errp)) {
        return NULL;
    }
    note("kind", "%s", KsUnionKind_str(arg->kind));
    note_str("note", arg->note);
    if (fails_on("ks-boxed-union", arg->note, errp)) {
        return NULL;
    }
    ret = QAPI_CLONE(KsFlatUnion, arg);
    g_free(ret->note);
    ret->note = g_strdup("echo");
    return ret;
}

bool qmp_ks_boxed_struct(KsFeatured *arg, GError **errp)
{
    if (!enter("ks-boxed-struct", errp)) {
        return false;
    }
    note("plain", "%" PRId64, arg->plain);
    note("old", "%" PRId64, arg->old);
    note_str("experimental", arg->experimental);
#if defined(TEST_IF_MEMBER)
    note("cond", "%" PRId64, arg->cond);
#endif
#if defined(TEST_IF_A) || defined(TEST_IF_B)
    note("both", "%s", arg->has_both ? KsColor_str(arg->both) : "absent");
#endif
    note("default", "%s", arg->q_default ? "true" : "false");
    return !fails_on("ks-boxed-struct", arg->experimental, errp);
}

int64_t qmp_ks_return_int(GError **errp)
{
    if (!enter("ks-return-int", errp)) {
        return 0;
    }
    return ks_handler_config.return_int;
}

strList *qmp_ks_return_str_list(GError **errp)
{
    strList *head = NULL, **tail = &head;
    unsigned i;

    if (!enter("ks-return-str-list", errp)) {
        return NULL;
    }
    for (i = 0; i < ks_handler_config.str_list_length; i++) {
        strList *node = g_new0(strList, 1);

        node->value = g_strdup_printf("s%u", i);
        *tail = node;
        tail = &node->next;
    }
    return head;
}

KsColor qmp_ks_return_enum(GError **errp)
{
    if (!enter("ks-return-enum", errp)) {
        return KS_COL_RED;
    }
    return ks_handler_config.return_enum;
}

json_object *qmp_ks_return_any(GError **errp)
{
    if (!enter("ks-return-any", errp)) {
        return NULL;
    }
    return json_object_get(ks_handler_config.return_any);
}

KsAltStrArray *qmp_ks_return_alternate(GError **errp)
{
    KsAltStrArray *ret;

    if (!enter("ks-return-alternate", errp)) {
        return NULL;
    }
    ret = g_new0(KsAltStrArray, 1);
    if (ks_handler_config.return_alt_list) {
        intList **tail = &ret->u.list;
        int64_t i;

        ret->type = QTYPE_QLIST;
        for (i = 1; i <= 3; i++) {
            *tail = g_new0(intList, 1);
            (*tail)->value = i;
            tail = &(*tail)->next;
        }
    } else {
        ret->type = QTYPE_QSTRING;
        ret->u.text = g_strdup("alt-text");
    }
    return ret;
}

bool qmp_ks_no_success_response(uint64_t delay, GError **errp)
{
    if (!enter("ks-no-success-response", errp)) {
        return false;
    }
    note("delay", "%" PRIu64, delay);
    if (!delay) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "ks-no-success-response: 'delay' must not be 0");
        return false;
    }
    return true;
}

bool qmp_ks_no_success_response_2012(GError **errp)
{
    return enter("ks-no-success-response-2012", errp);
}

bool qmp_ks_oob(GError **errp)
{
    return enter("ks-oob", errp);
}

bool qmp_ks_preconfig(GError **errp)
{
    return enter("ks-preconfig", errp);
}

bool qmp_ks_coroutine(GError **errp)
{
    return enter("ks-coroutine", errp);
}

bool qmp_ks_all_flags(GError **errp)
{
    return enter("ks-all-flags", errp);
}

bool qmp_ks_deprecated_cmd(bool has_old_arg, int64_t old_arg,
                           const char *new_arg, GError **errp)
{
    if (!enter("ks-deprecated-cmd", errp)) {
        return false;
    }
    if (has_old_arg) {
        note("old-arg", "%" PRId64, old_arg);
    } else {
        note("old-arg", "absent");
    }
    note_str("new-arg", new_arg);
    return !fails_on("ks-deprecated-cmd", new_arg, errp);
}

KsNamedBaseUnion *qmp_ks_unstable_cmd(GError **errp)
{
    KsNamedBaseUnion *ret;

    if (!enter("ks-unstable-cmd", errp)) {
        return NULL;
    }
    ret = g_new0(KsNamedBaseUnion, 1);
    ret->tag = KS_SUB_ENUM_ALPHA;
    ret->common = 7;
    ret->u.alpha.alpha_value = g_strdup("unstable");
    ret->u.alpha.has_alpha_list = true;
    ret->u.alpha.alpha_list = g_new0(intList, 1);
    ret->u.alpha.alpha_list->value = 1;
    ret->u.alpha.alpha_list->next = g_new0(intList, 1);
    ret->u.alpha.alpha_list->next->value = 2;
    return ret;
}

#if defined(TEST_IF_A) && (defined(TEST_IF_B) || !defined(TEST_IF_C))
KsCondStruct *qmp_ks_conditional_cmd(KsCondArgs *arg, GError **errp)
{
    KsCondStruct *ret;

    if (!enter("ks-conditional-cmd", errp)) {
        return NULL;
    }
    note("value", "%" PRId64, arg->value);
#if defined(TEST_IF_ARG)
    note_str("extra", arg->extra);
    if (fails_on("ks-conditional-cmd", arg->extra, errp)) {
        return NULL;
    }
#endif
    ret = g_new0(KsCondStruct, 1);
    ret->value = 2 * arg->value;
    return ret;
}
#endif

bool qmp_ks_legacy_cmd(GError **errp)
{
    return enter("ks_legacy_cmd", errp);
}

bool qmp_ks_legacy_args(KsLegacyEnum Legacy_Arg, GError **errp)
{
    if (!enter("ks-legacy-args", errp)) {
        return false;
    }
    note("Legacy_Arg", "%s", KsLegacyEnum_str(Legacy_Arg));
    return true;
}

bool qmp_x_ks_experimental(x_KsExperimental *arg, GError **errp)
{
    if (!enter("x-ks-experimental", errp)) {
        return false;
    }
    note("arg.value", "%d", arg->value);
    return true;
}

__org_example_KsDownstream *
qmp___org_example_ks_downstream(__org_example_KsDownstream *arg, GError **errp)
{
    __org_example_KsDownstream *ret;

    if (!enter("__org.example_ks-downstream", errp)) {
        return NULL;
    }
    note_str("arg.__org.example_member", arg->__org_example_member);
    if (arg->has_x_member) {
        note("arg.x-member", "%" PRId64, arg->x_member);
    } else {
        note("arg.x-member", "absent");
    }
    if (fails_on("__org.example_ks-downstream", arg->__org_example_member,
                 errp)) {
        return NULL;
    }
    ret = QAPI_CLONE(__org_example_KsDownstream, arg);
    ret->has_x_member = true;
    ret->x_member = (int64_t)strlen(ret->__org_example_member);
    return ret;
}

static void append_text(KsSimpleUnionList ***tail, const char *text)
{
    KsSimpleUnionList *node = g_new0(KsSimpleUnionList, 1);

    node->value = g_new0(KsSimpleUnion, 1);
    node->value->type = KS_SIMPLE_UNION_KIND_TEXT;
    node->value->u.text.data = g_strdup(text);
    **tail = node;
    *tail = &node->next;
}

KsSimpleUnionList *qmp_ks_use_everything(
    KsAllOptional *all_optional, KsAllLists *all_lists, KsAnyNull *any_null,
    KsLegacyType *legacy, KsLegacyNames *names, KsSimpleUnion *simple,
    KsAltObjNumBoolNull *alt1, KsAltEnumInt *alt2, GError **errp)
{
    KsSimpleUnionList *head = NULL, **tail = &head;

    if (!enter("ks-use-everything", errp)) {
        return NULL;
    }
    if (names && fails_on("ks-use-everything", names->snake_case, errp)) {
        return NULL;
    }
    if (all_optional) {
        append_text(&tail, "all-optional");
    }
    if (all_lists) {
        append_text(&tail, "all-lists");
    }
    if (any_null) {
        append_text(&tail, "any-null");
    }
    if (legacy) {
        append_text(&tail, "legacy");
    }
    if (names) {
        append_text(&tail, "names");
    }
    if (simple) {
        append_text(&tail, "simple");
    }
    if (alt1) {
        append_text(&tail, "alt1");
    }
    if (alt2) {
        append_text(&tail, "alt2");
    }
    if (simple) {
        KsSimpleUnionList *node = g_new0(KsSimpleUnionList, 1);

        node->value = QAPI_CLONE(KsSimpleUnion, simple);
        *tail = node;
    }
    return head;
}
