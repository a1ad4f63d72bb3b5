/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: the command registry and the QMP dispatcher.
 *
 * Generated code registers every command of a schema with
 * qmp_init_marshal(cmds) (docs/spec/qapi-language.md §13.4): a name, its
 * marshaller, options and special features.  qmp_dispatch() takes one
 * request object and returns its response object, running the checks of
 * docs/spec/qmp-protocol.md §4 in order; check 9, the negotiation state, is the
 * monitor's, which slots it in with qmp_dispatch_checked().
 */
#ifndef QAPIKIT_DISPATCH_H
#define QAPIKIT_DISPATCH_H

#include <qapikit/base.h>

G_BEGIN_DECLS

/*
 * A marshaller (generated qmp_marshal_NAME): ARGS is the request's
 * 'arguments' object, lent (an empty object when the request had none).
 * On success it stores a new reference to the result in *RET ({} for a
 * command without result; NULL is JSON null) and returns true.  On
 * failure it sets *ERRP, stores nothing and returns false.
 */
typedef bool (*QmpMarshalFunc)(json_object *args, json_object **ret,
                               GError **errp);

/* Registration options, from the schema's command flags (§3.5). */
typedef enum QmpCommandOptions {
    QCO_NO_OPTIONS = 0,
    QCO_NO_SUCCESS_RESP = 1u << 0, /* 'success-response': false */
    QCO_ALLOW_OOB = 1u << 1,       /* 'allow-oob': true */
    QCO_ALLOW_PRECONFIG = 1u << 2, /* 'allow-preconfig': true */
    QCO_COROUTINE = 1u << 3,       /* 'coroutine': true */
} QmpCommandOptions;

typedef struct QmpCommandList QmpCommandList;

QAPIKIT_API QmpCommandList *qmp_command_list_new(void);
/* Frees CMDS and its entries.  NULL is fine. */
QAPIKIT_API void qmp_command_list_free(QmpCommandList *cmds);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QmpCommandList, qmp_command_list_free)

/*
 * The pointer that commands registered into CMDS from now on carry (NULL
 * until set; not owned): while one of them runs, its handler finds it in
 * qmp_command_context()->opaque.  This is how handlers reach the state
 * they serve without globals: set it, register (qmp_init_marshal(cmds)
 * registers a whole schema), and set the next one for other commands.
 * qapikit-blockd registers the block commands with its device registry.
 */
QAPIKIT_API void qmp_command_list_set_opaque(QmpCommandList *cmds,
                                             void *opaque);

/*
 * The compatibility policy of CMDS' commands (copied; NULL: none of its
 * own, the process default applies, as for a new list): the dispatcher
 * refuses the commands its input side rejects, and the generated
 * marshallers give it to their visitors, for arguments and results
 * (qmp_command_policy()).  Several lists, several policies: each monitor
 * serves clients with the policy of its list.
 */
QAPIKIT_API void qmp_command_list_set_policy(QmpCommandList *cmds,
                                             const QapiCompatPolicy *policy);
/* CMDS' own policy, or NULL when the process default applies. */
QAPIKIT_API const QapiCompatPolicy *
qmp_command_list_get_policy(const QmpCommandList *cmds);

/*
 * Register NAME (copied; not empty) with marshaller FN, OPTIONS
 * (QmpCommandOptions or-ed) and SPECIAL_FEATURES (1u << QapiSpecialFeature,
 * or-ed), enabled, carrying the list's current opaque pointer
 * (qmp_command_list_set_opaque()).  Commands keep their registration
 * order.  A second registration of NAME replaces the first in place:
 * same position, same QmpCommandInfo, new FN, OPTIONS, SPECIAL_FEATURES
 * and opaque pointer, enabled again.
 */
QAPIKIT_API void qmp_register_command(QmpCommandList *cmds, const char *name,
                                      QmpMarshalFunc fn, unsigned options,
                                      unsigned special_features);

/*
 * Enable or disable NAME.  A disabled command answers CommandNotFound, as
 * an unknown one.  Returns false when NAME is not registered.
 */
QAPIKIT_API bool qmp_command_set_enabled(QmpCommandList *cmds, const char *name,
                                         bool enabled);

/* What the registry knows of one command. */
typedef struct QmpCommandInfo {
    const char *name;
    QmpMarshalFunc fn;
    unsigned options;
    unsigned special_features;
    bool enabled;
    void *opaque; /* the list's opaque pointer at registration */
} QmpCommandInfo;

/*
 * A monitor's check of the command NAME against its session state
 * (docs/spec/qmp-protocol.md §4 check 9): return false with *ERRP set
 * (normally CommandNotFound) to refuse it.  NAME is the request's
 * command name; a name holding U+0000 comes with each NUL written as the
 * six characters \u0000 (it names no command, and check 10 refuses it if
 * this does not).
 */
typedef bool (*QmpSessionCheck)(const char *name, void *session, GError **errp);

/*
 * The command running now, for its handler: what a handler needs beyond
 * its arguments.  OPAQUE is the pointer the command was registered with
 * (qmp_command_list_set_opaque()).  SESSION and CHECK are what the
 * dispatcher's caller passed to qmp_dispatch_checked() (a monitor passes
 * its session and its check, so CHECK tells whose session SESSION is);
 * both NULL through qmp_dispatch().
 */
typedef struct QmpCommandContext {
    const QmpCommandList *cmds;
    const QmpCommandInfo *command;
    void *opaque;
    void *session;
    QmpSessionCheck check;
} QmpCommandContext;

/*
 * The context of the command whose marshaller runs on this thread, or
 * NULL outside any.  Valid from the marshaller's start until it returns,
 * in everything it calls: the handler, and commands dispatched by a
 * nested main loop (which see their own context, and leave the outer
 * one in place when they return).  The pointer must not be kept.  This
 * is the runtime's only thread-local state.
 */
QAPIKIT_API const QmpCommandContext *qmp_command_context(void);

/*
 * The policy of the running command's list, for its marshaller's
 * visitors (visit_set_policy()); NULL outside a command or for a list
 * without a policy of its own (the process default then applies).
 */
QAPIKIT_API const QapiCompatPolicy *qmp_command_policy(void);

/* NAME's entry (owned by CMDS, valid until CMDS is freed), or NULL. */
QAPIKIT_API const QmpCommandInfo *qmp_find_command(const QmpCommandList *cmds,
                                                   const char *name);

/*
 * Call FN for every registered command in registration order, enabled
 * or not.
 */
QAPIKIT_API void qmp_for_each_command(const QmpCommandList *cmds,
                                      void (*fn)(const QmpCommandInfo *info,
                                                 void *opaque),
                                      void *opaque);

/*
 * Run one request and return its response, a new json-c object:
 * {"return": ..., "id": ...} or {"error": {"class": ..., "desc": ...},
 * "id": ...}, members in that order, the id being the request's own
 * json-c object (a new reference), whatever its JSON type, and left out
 * where docs/spec/qmp-protocol.md §5/2 says so.  NULL when a command registered
 * with QCO_NO_SUCCESS_RESP succeeded: nothing is to be sent.  REQUEST is
 * lent; NULL is JSON null.
 *
 * ALLOW_OOB says whether this session enabled out-of-band execution:
 * without it 'exec-oob' is an unexpected member.  A command whose special
 * features the input policy (qapikit/visitor.h) rejects answers
 * CommandNotFound, saying it is deprecated or unstable.  The marshaller
 * gets an empty object when the request has no 'arguments'.  A
 * marshaller that breaks its contract (false without an error, true with
 * one) is logged with g_critical() and answered with a GenericError.
 */
QAPIKIT_API json_object *qmp_dispatch(const QmpCommandList *cmds,
                                      json_object *request, bool allow_oob);

/*
 * qmp_dispatch() for a session: CHECK (if not NULL) runs with SESSION
 * between the envelope checks (2-8) and the command lookup (10), so
 * that every check of docs/spec/qmp-protocol.md §4 runs in order and its
 * reply carries the id; the handler finds SESSION in
 * qmp_command_context()->session.
 */
QAPIKIT_API json_object *
qmp_dispatch_checked(const QmpCommandList *cmds, json_object *request,
                     bool allow_oob, QmpSessionCheck check, void *session);

/*
 * For generated marshallers: OK, what the handler of command NAME
 * returned, checked against *ERRP.  A handler returns false exactly when
 * it sets an error (docs/spec/qapi-language.md §13.4); one that returned
 * false without an error, or true with one, broke that contract:
 * g_critical() says so, and *ERRP becomes the GenericError "internal
 * error: ..." that the client gets.  Returns whether the command
 * succeeded.
 */
QAPIKIT_API bool qmp_handler_result(bool ok, GError **errp, const char *name);

/*
 * Whether REQUEST (lent) is to run out of band, for a monitor's queueing
 * in a session that enabled OOB: it uses 'exec-oob' and passes the
 * envelope checks (2-8).  A request that fails them is bad input and
 * keeps its place in the in-band order (docs/spec/qmp-protocol.md §10/6).
 */
QAPIKIT_API bool qmp_is_oob(json_object *request);

/*
 * {"error": {"class": CLASS, "desc": ERR's message}} plus "id": ID if ID
 * is not NULL (lent: the reply takes a reference of its own).  For a
 * monitor's own errors; those of check 9 come with the id through
 * qmp_dispatch_checked(), which can also echo a JSON null id.
 */
QAPIKIT_API json_object *qmp_error_response(const GError *err, json_object *id);

G_END_DECLS

#endif /* QAPIKIT_DISPATCH_H */
