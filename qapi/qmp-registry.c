/* SPDX-License-Identifier: MIT */
/*
 * qapikit runtime: the command registry.
 */

/* The runtime logs in its own domain; the unit tests expect it. */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "qapikit"
#endif

#include <qapikit/dispatch.h>

/*
 * ORDER owns the entries and keeps registration order; BY_NAME indexes
 * them by their own name string.  Entries never move in memory, so the
 * pointers qmp_find_command() hands out stay valid.
 */
struct QmpCommandList {
    GHashTable *by_name;
    GPtrArray *order;
    void *opaque; /* for commands registered from now on */
    QapiCompatPolicy policy;
    bool has_policy; /* else the process default applies */
};

static void command_info_free(gpointer data)
{
    QmpCommandInfo *info = data;

    g_free((char *)info->name);
    g_free(info);
}

QmpCommandList *qmp_command_list_new(void)
{
    QmpCommandList *cmds = g_new0(QmpCommandList, 1);

    cmds->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    cmds->order = g_ptr_array_new_with_free_func(command_info_free);
    return cmds;
}

void qmp_command_list_free(QmpCommandList *cmds)
{
    if (!cmds) {
        return;
    }
    g_hash_table_destroy(cmds->by_name);
    g_ptr_array_free(cmds->order, TRUE);
    g_free(cmds);
}

void qmp_register_command(QmpCommandList *cmds, const char *name,
                          QmpMarshalFunc fn, unsigned options,
                          unsigned special_features)
{
    QmpCommandInfo *info;

    g_return_if_fail(cmds != NULL);
    g_return_if_fail(name != NULL && *name);
    g_return_if_fail(fn != NULL);

    info = g_hash_table_lookup(cmds->by_name, name);
    if (!info) {
        info = g_new0(QmpCommandInfo, 1);
        info->name = g_strdup(name);
        g_ptr_array_add(cmds->order, info);
        g_hash_table_insert(cmds->by_name, (char *)info->name, info);
    }
    info->fn = fn;
    info->options = options;
    info->special_features = special_features;
    info->enabled = true;
    info->opaque = cmds->opaque;
}

void qmp_command_list_set_policy(QmpCommandList *cmds,
                                 const QapiCompatPolicy *policy)
{
    g_return_if_fail(cmds != NULL);

    cmds->has_policy = policy != NULL;
    if (policy) {
        cmds->policy = *policy;
    }
}

const QapiCompatPolicy *qmp_command_list_get_policy(const QmpCommandList *cmds)
{
    g_return_val_if_fail(cmds != NULL, NULL);

    return cmds->has_policy ? &cmds->policy : NULL;
}

void qmp_command_list_set_opaque(QmpCommandList *cmds, void *opaque)
{
    g_return_if_fail(cmds != NULL);

    cmds->opaque = opaque;
}

bool qmp_command_set_enabled(QmpCommandList *cmds, const char *name,
                             bool enabled)
{
    QmpCommandInfo *info;

    g_return_val_if_fail(cmds != NULL && name != NULL, false);

    info = g_hash_table_lookup(cmds->by_name, name);
    if (!info) {
        return false;
    }
    info->enabled = enabled;
    return true;
}

const QmpCommandInfo *qmp_find_command(const QmpCommandList *cmds,
                                       const char *name)
{
    g_return_val_if_fail(cmds != NULL && name != NULL, NULL);

    return g_hash_table_lookup(cmds->by_name, name);
}

void qmp_for_each_command(const QmpCommandList *cmds,
                          void (*fn)(const QmpCommandInfo *info, void *opaque),
                          void *opaque)
{
    guint i;

    g_return_if_fail(cmds != NULL && fn != NULL);

    for (i = 0; i < cmds->order->len; i++) {
        fn(g_ptr_array_index(cmds->order, i), opaque);
    }
}
