/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: the QMP dispatcher (docs/spec/qmp-protocol.md §4, §5).
 */

/* The runtime logs in its own domain; the unit tests expect it. */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "qapikit"
#endif

#include <qapikit/dispatch.h>
#include <qapikit/error.h>
#include <qapikit/visitor.h>

#include "visitor-impl.h"

#include <math.h>
#include <string.h>

/* What the envelope checks (2-8) learn about a request. */
typedef struct QmpRequest {
    bool has_id;      /* the reply echoes ID (set once check 3 passed) */
    json_object *id;  /* lent from the request; NULL is JSON null */
    bool oob;         /* 'exec-oob' rather than 'execute' */
    const char *name; /* the command name, lent; may hold NULs */
    size_t name_len;
    json_object *args; /* lent; NULL when absent */
} QmpRequest;

static json_object *error_response(QapiErrorClass error_class, const char *desc,
                                   bool has_id, json_object *id)
{
    json_object *error = json_object_new_object();
    json_object *resp = json_object_new_object();

    json_object_object_add(error, "class",
                           json_object_new_string(qapi_enum_lookup(
                               &QapiErrorClass_lookup, error_class)));
    json_object_object_add(error, "desc",
                           json_object_new_string(desc ? desc : ""));
    json_object_object_add(resp, "error", error);
    if (has_id) {
        json_object_object_add(resp, "id", json_object_get(id));
    }
    return resp;
}

/* ERR's reply to REQ. */
static json_object *request_error(const GError *err, const QmpRequest *req)
{
    return error_response(qapi_error_class(err), err->message, req->has_id,
                          req->id);
}

json_object *qmp_error_response(const GError *err, json_object *id)
{
    g_return_val_if_fail(err != NULL, NULL);

    return error_response(qapi_error_class(err), err->message, id != NULL, id);
}

/*
 * Whether VALUE holds a number that is not finite, at any depth.  A walk
 * with an explicit stack: an id nests as deep as the reader allows, and
 * an embedder may build deeper trees still.
 */
static bool holds_nonfinite_number(json_object *value)
{
    g_autoptr(GPtrArray) pending = g_ptr_array_new();
    bool found = false;

    if (value) {
        g_ptr_array_add(pending, value);
    }
    while (pending->len && !found) {
        json_object *cur = g_ptr_array_remove_index(pending, pending->len - 1);

        switch (json_object_get_type(cur)) {
        case json_type_double:
            found = !isfinite(json_object_get_double(cur));
            break;
        case json_type_array: {
            size_t i, len = json_object_array_length(cur);

            for (i = 0; i < len; i++) {
                json_object *elt = json_object_array_get_idx(cur, i);

                if (elt) {
                    g_ptr_array_add(pending, elt);
                }
            }
            break;
        }
        case json_type_object: {
            json_object_object_foreach(cur, key, member)
            {
                (void)key;
                if (member) {
                    g_ptr_array_add(pending, member);
                }
            }
            break;
        }
        default:
            break;
        }
    }
    return found;
}

/* The first top-level member of REQUEST that is not allowed, or NULL. */
static const char *unexpected_member(json_object *request, bool allow_oob)
{
    json_object_object_foreach(request, key, value)
    {
        (void)value;
        if (strcmp(key, "execute") && strcmp(key, "arguments")
            && strcmp(key, "id") && (!allow_oob || strcmp(key, "exec-oob"))) {
            return key;
        }
    }
    return NULL;
}

/* Checks 2-8: fill REQ, or fail with the reply's error. */
static bool check_envelope(json_object *request, bool allow_oob,
                           QmpRequest *req, GError **errp)
{
    json_object *execute, *exec_oob, *name_obj;
    bool has_execute, has_exec_oob, has_id;
    const char *member;

    memset(req, 0, sizeof(*req));

    if (!json_object_is_type(request, json_type_object)) {
        g_set_error_literal(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "a request must be a JSON object");
        return false;
    }

    has_id = json_object_object_get_ex(request, "id", &req->id);
    if (has_id && holds_nonfinite_number(req->id)) {
        g_set_error_literal(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "member 'id' holds a number too large to "
                            "represent");
        return false;
    }
    req->has_id = has_id;

    member = unexpected_member(request, allow_oob);
    if (member) {
        if (!strcmp(member, "exec-oob")) {
            g_set_error_literal(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                                "request member 'exec-oob' is not allowed: "
                                "out-of-band execution is not enabled");
        } else {
            g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                        "request member '%s' is not allowed", member);
        }
        return false;
    }

    has_execute = json_object_object_get_ex(request, "execute", &execute);
    has_exec_oob = json_object_object_get_ex(request, "exec-oob", &exec_oob);
    if (has_execute && has_exec_oob) {
        g_set_error_literal(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "request has both 'execute' and 'exec-oob'");
        return false;
    }
    if (!has_execute && !has_exec_oob) {
        g_set_error_literal(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            allow_oob
                                ? "request has neither 'execute' nor 'exec-oob'"
                                : "request has no 'execute' member");
        return false;
    }

    req->oob = has_exec_oob;
    name_obj = has_exec_oob ? exec_oob : execute;
    if (!json_object_is_type(name_obj, json_type_string)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "request member '%s' must be a string",
                    has_exec_oob ? "exec-oob" : "execute");
        return false;
    }
    req->name = json_object_get_string(name_obj);
    req->name_len = json_object_get_string_len(name_obj);

    if (json_object_object_get_ex(request, "arguments", &req->args)
        && !json_object_is_type(req->args, json_type_object)) {
        g_set_error_literal(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                            "request member 'arguments' must be an object");
        return false;
    }
    return true;
}

/*
 * The command name as C text: REQ's own string, or, when it holds NULs
 * (which C names cannot), a copy with each written as \u0000, stored in
 * *COPY.
 */
static const char *command_name_text(const QmpRequest *req, char **copy)
{
    GString *text;
    size_t i;

    *copy = NULL;
    if (strlen(req->name) == req->name_len) {
        return req->name;
    }
    text = g_string_sized_new(req->name_len + 16);
    for (i = 0; i < req->name_len; i++) {
        if (req->name[i]) {
            g_string_append_c(text, req->name[i]);
        } else {
            g_string_append(text, "\\u0000");
        }
    }
    *copy = g_string_free(text, FALSE);
    return *copy;
}

/*
 * Checks 10 and 11: the command to run, or NULL with the error.  A name
 * holding NULs is looked up by its escaped text, which no registered
 * name matches; "" cannot be registered.
 */
static const QmpCommandInfo *find_runnable(const QmpCommandList *cmds,
                                           const QmpRequest *req,
                                           const char *name, GError **errp)
{
    const QmpCommandInfo *cmd = qmp_find_command(cmds, name);
    const char *feature;

    if (!cmd || !cmd->enabled) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_COMMANDNOTFOUND,
                    "command '%s' does not exist", name);
        return NULL;
    }
    feature = qapi_policy_refused(qmp_command_list_get_policy(cmds),
                                  cmd->special_features);
    if (feature) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_COMMANDNOTFOUND,
                    "command '%s' is %s and disabled by policy", name, feature);
        return NULL;
    }
    if (req->oob && !(cmd->options & QCO_ALLOW_OOB)) {
        g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                    "command '%s' cannot run out of band", name);
        return NULL;
    }
    return cmd;
}

/*
 * Enforce the error convention (qapikit/base.h) on a hook's verdict OK
 * and its *ERRP.  A breach is a bug of the hook's author: log it and
 * answer a GenericError naming the command rather than trust either half.
 * WHAT names the hook.  Returns the verdict to act on.
 */
static bool keep_convention(bool ok, GError **errp, const char *what,
                            const char *name)
{
    if (ok == !*errp) {
        return ok;
    }
    if (ok) {
        g_critical("%s of command '%s' returned true but set an error: %s",
                   what, name, (*errp)->message);
        g_clear_error(errp);
    } else {
        g_critical("%s of command '%s' returned false without setting an "
                   "error",
                   what, name);
    }
    g_set_error(errp, QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                "internal error: %s of command '%s' broke the error "
                "convention",
                what, name);
    return false;
}

bool qmp_handler_result(bool ok, GError **errp, const char *name)
{
    g_return_val_if_fail(errp != NULL && name != NULL, false);

    return keep_convention(ok, errp, "the handler", name);
}

/* The command running on this thread (qmp_command_context()). */
static _Thread_local const QmpCommandContext *running_command;

const QmpCommandContext *qmp_command_context(void)
{
    return running_command;
}

const QapiCompatPolicy *qmp_command_policy(void)
{
    return running_command ? qmp_command_list_get_policy(running_command->cmds)
                           : NULL;
}

json_object *qmp_dispatch_checked(const QmpCommandList *cmds,
                                  json_object *request, bool allow_oob,
                                  QmpSessionCheck check, void *session)
{
    const QmpCommandContext *outer = running_command;
    QmpCommandContext context;
    g_autoptr(GError) err = NULL;
    g_autofree char *name_copy = NULL;
    json_object *args, *ret = NULL, *resp;
    const QmpCommandInfo *cmd;
    const char *name;
    QmpRequest req;
    unsigned options;
    bool ok;

    g_return_val_if_fail(cmds != NULL, NULL);

    if (!check_envelope(request, allow_oob, &req, &err)) {
        return request_error(err, &req);
    }
    name = command_name_text(&req, &name_copy);

    if (check
        && !keep_convention(check(name, session, &err), &err,
                            "the session check", name)) {
        return request_error(err, &req);
    }

    cmd = find_runnable(cmds, &req, name, &err);
    if (!cmd) {
        return request_error(err, &req);
    }

    /* Read before the call: a command may re-register itself. */
    options = cmd->options;
    args = req.args ? json_object_get(req.args) : json_object_new_object();
    context = (QmpCommandContext){ .cmds = cmds,
                                   .command = cmd,
                                   .opaque = cmd->opaque,
                                   .session = session,
                                   .check = check };
    running_command = &context;
    ok = cmd->fn(args, &ret, &err);
    running_command = outer;
    json_object_put(args);

    if (!keep_convention(ok, &err, "the marshaller", name)) {
        /* A failing marshaller stores nothing; drop whatever it did. */
        json_object_put(ret);
        return request_error(err, &req);
    }
    if (options & QCO_NO_SUCCESS_RESP) {
        json_object_put(ret);
        return NULL;
    }
    resp = json_object_new_object();
    json_object_object_add(resp, "return", ret);
    if (req.has_id) {
        json_object_object_add(resp, "id", json_object_get(req.id));
    }
    return resp;
}

json_object *qmp_dispatch(const QmpCommandList *cmds, json_object *request,
                          bool allow_oob)
{
    return qmp_dispatch_checked(cmds, request, allow_oob, NULL, NULL);
}

bool qmp_is_oob(json_object *request)
{
    QmpRequest req;

    return check_envelope(request, true, &req, NULL) && req.oob;
}
