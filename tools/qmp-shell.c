/* SPDX-License-Identifier: MIT */
/*
 * The interactive mode of qapikit-qmp (tools/qmp-shell.h).  libedit (BSD
 * licensed) edits the lines; its native API, not the readline emulation:
 * completion needs the text before the cursor and control over what is
 * inserted, which el_line() and el_insertstr() give directly.
 */
#include "qmp-shell.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <histedit.h>

/* libedit wants a writable prompt string. */
static char prompt_text[] = "qmp> ";

#define HISTORY_SIZE 1000

/* ---- words of a line ---- */

/* How a text (a line, or what precedes the cursor) ends. */
typedef struct LineEnd {
    bool open;          /* inside a quote or an unclosed JSON value */
    bool in_word;       /* the last word runs to the end of the text */
    bool plain;         /* that word has no quote, escape or JSON value */
} LineEnd;

/* A '{' or '[' after @word starts a JSON value: at the start of a word
 * (the JSON-object form) or right after the first '=' (KEY=VALUE). */
static bool starts_json_value(const GString *word)
{
    return word->len == 0 || (word->str[word->len - 1] == '=' &&
                              strchr(word->str, '=') ==
                                  word->str + word->len - 1);
}

/*
 * Splits @text into words, appended to @words (new strings), the way a
 * shell does on the command line: whitespace separates words; '...'
 * keeps its text as it is, "..." too except that \" and \\ stand for "
 * and \, and \C outside quotes stands for C; the quotes are removed.  A
 * JSON value (see starts_json_value()) runs to its closing bracket, spaces
 * and quotes kept.  @end says how the text ends.
 */
static void split_words(const char *text, GPtrArray *words, LineEnd *end)
{
    const char *p = text;

    memset(end, 0, sizeof(*end));
    for (;;) {
        GString *word;
        int depth = 0;          /* brackets open in a JSON value */
        bool in_string = false; /* inside a string of that JSON value */
        bool plain = true;

        while (g_ascii_isspace(*p)) {
            p++;
        }
        if (!*p) {
            return;
        }
        word = g_string_new(NULL);
        while (*p && (depth > 0 || !g_ascii_isspace(*p))) {
            char c = *p++;

            if (depth > 0) {
                g_string_append_c(word, c);
                if (in_string) {
                    if (c == '\\' && *p) {
                        g_string_append_c(word, *p++);
                    } else if (c == '"') {
                        in_string = false;
                    }
                } else if (c == '"') {
                    in_string = true;
                } else if (c == '{' || c == '[') {
                    depth++;
                } else if (c == '}' || c == ']') {
                    depth--;
                }
            } else if (c == '\'') {
                const char *close = strchr(p, '\'');

                plain = false;
                if (!close) {
                    close = p + strlen(p);
                    end->open = true;
                }
                g_string_append_len(word, p, close - p);
                p = *close ? close + 1 : close;
            } else if (c == '"') {
                plain = false;
                while (*p && *p != '"') {
                    if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) {
                        p++;
                    }
                    g_string_append_c(word, *p++);
                }
                if (*p) {
                    p++;
                } else {
                    end->open = true;
                }
            } else if (c == '\\') {
                plain = false;
                g_string_append_c(word, *p ? *p++ : c);
            } else {
                if ((c == '{' || c == '[') && starts_json_value(word)) {
                    depth = 1;
                    plain = false;
                }
                g_string_append_c(word, c);
            }
        }
        if (depth > 0) {
            end->open = true;
        }
        g_ptr_array_add(words, g_string_free(word, FALSE));
        if (!*p) {
            end->in_word = true;
            end->plain = plain;
            return;
        }
    }
}

/* ---- the schema, for completion ---- */

typedef struct SchemaIndex {
    json_object *schema;    /* query-qmp-schema's return value, or NULL */
    GHashTable *entities;   /* name -> its SchemaInfo (borrowed) */
    GPtrArray *commands;    /* the command names (borrowed), sorted */
} SchemaIndex;

/* @object's member @key if it is a string, else NULL. */
static const char *string_member(json_object *object, const char *key)
{
    json_object *value = NULL;

    if (!json_object_object_get_ex(object, key, &value) ||
        !json_object_is_type(value, json_type_string)) {
        return NULL;
    }
    return json_object_get_string(value);
}

/* @object's member @key if it is an array, else NULL. */
static json_object *array_member(json_object *object, const char *key)
{
    json_object *value = NULL;

    if (!json_object_object_get_ex(object, key, &value) ||
        !json_object_is_type(value, json_type_array)) {
        return NULL;
    }
    return value;
}

static int compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Indexes @schema (taken over; NULL or anything but an array of objects
 * gives an empty index, since it comes from the server). */
static void schema_index_init(SchemaIndex *index, json_object *schema)
{
    size_t count = json_object_is_type(schema, json_type_array)
                       ? json_object_array_length(schema)
                       : 0;

    index->schema = schema;
    index->entities = g_hash_table_new(g_str_hash, g_str_equal);
    index->commands = g_ptr_array_new();
    for (size_t i = 0; i < count; i++) {
        json_object *entity = json_object_array_get_idx(schema, i);
        const char *name = string_member(entity, "name");
        const char *meta_type = string_member(entity, "meta-type");

        if (!name || !meta_type) {
            continue;
        }
        g_hash_table_insert(index->entities, (char *)name, entity);
        if (strcmp(meta_type, "command") == 0) {
            g_ptr_array_add(index->commands, (char *)name);
        }
    }
    g_ptr_array_sort(index->commands, compare_strings);
}

static void schema_index_clear(SchemaIndex *index)
{
    g_clear_pointer(&index->entities, g_hash_table_unref);
    g_clear_pointer(&index->commands, g_ptr_array_unref);
    g_clear_pointer(&index->schema, json_object_put);
}

/* The SchemaInfo of @name with meta-type @meta_type, or NULL. */
static json_object *schema_entity(const SchemaIndex *index, const char *name,
                                  const char *meta_type)
{
    json_object *entity =
        name ? g_hash_table_lookup(index->entities, name) : NULL;

    if (!entity || g_strcmp0(string_member(entity, "meta-type"),
                             meta_type) != 0) {
        return NULL;
    }
    return entity;
}

/* Variants of variants nest this deep at most (a guard against a server
 * whose types refer to themselves). */
#define VARIANT_DEPTH_MAX 16

/*
 * Appends to @members (borrowed SchemaInfoObjectMember objects) those of
 * the object type @type_name, its variants' included, each name once
 * (@seen: the names so far).
 */
static void collect_members(const SchemaIndex *index, const char *type_name,
                            GPtrArray *members, GHashTable *seen, int depth)
{
    json_object *entity = schema_entity(index, type_name, "object");
    json_object *list;
    size_t count;

    if (!entity || depth > VARIANT_DEPTH_MAX) {
        return;
    }
    list = array_member(entity, "members");
    count = list ? json_object_array_length(list) : 0;
    for (size_t i = 0; i < count; i++) {
        json_object *member = json_object_array_get_idx(list, i);
        const char *name = string_member(member, "name");

        if (name && string_member(member, "type") &&
            g_hash_table_add(seen, (char *)name)) {
            g_ptr_array_add(members, member);
        }
    }
    list = array_member(entity, "variants");
    count = list ? json_object_array_length(list) : 0;
    for (size_t i = 0; i < count; i++) {
        collect_members(index, string_member(json_object_array_get_idx(list, i),
                                             "type"),
                        members, seen, depth + 1);
    }
}

/* The members of the object type @type_name (see collect_members()); a
 * new array, empty when the type is not an object type. */
static GPtrArray *object_members(const SchemaIndex *index,
                                 const char *type_name)
{
    GPtrArray *members = g_ptr_array_new();
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    collect_members(index, type_name, members, seen, 0);
    return members;
}

/* The type of the member at the dotted @path ("a" or "a.b.c") of the
 * object type @type_name, or NULL if there is none. */
static const char *member_type(const SchemaIndex *index,
                               const char *type_name, const char *path)
{
    g_auto(GStrv) parts = g_strsplit(path, ".", -1);

    for (guint i = 0; parts[i] && type_name; i++) {
        g_autoptr(GPtrArray) members = object_members(index, type_name);
        const char *found = NULL;

        for (guint m = 0; m < members->len && !found; m++) {
            if (strcmp(string_member(members->pdata[m], "name"),
                       parts[i]) == 0) {
                found = string_member(members->pdata[m], "type");
            }
        }
        type_name = found;
    }
    return type_name;
}

/* ---- completion ---- */

typedef struct Completion {
    GPtrArray *candidates;  /* what the word may become (new strings) */
    size_t shown_from;      /* listings show candidates from this offset */
    char suffix;            /* what follows a word completed in full */
} Completion;

static void add_candidate(Completion *completion, const char *word,
                          const char *head, const char *tail)
{
    char *candidate = g_strconcat(head, tail, NULL);

    if (g_str_has_prefix(candidate, word)) {
        g_ptr_array_add(completion->candidates, candidate);
    } else {
        g_free(candidate);
    }
}

/* The keys given by the KEY=VALUE words @words[1..] (new set). */
static GHashTable *keys_given(GPtrArray *words)
{
    GHashTable *keys = g_hash_table_new_full(g_str_hash, g_str_equal,
                                             g_free, NULL);

    for (guint i = 1; i < words->len; i++) {
        const char *word = words->pdata[i];
        const char *equals = strchr(word, '=');

        if (equals) {
            g_hash_table_add(keys, g_strndup(word, equals - word));
        }
    }
    return keys;
}

/* Argument names for @word (no '=' in it) of a command whose arguments
 * are the object type @arg_type: members of the object the dotted part
 * of @word leads to, those given already left out. */
static void complete_key(const SchemaIndex *index, const char *arg_type,
                         GPtrArray *words, const char *word,
                         Completion *completion)
{
    const char *dot = strrchr(word, '.');
    g_autofree char *path = dot ? g_strndup(word, dot - word) : NULL;
    g_autofree char *head = dot ? g_strndup(word, dot + 1 - word)
                                : g_strdup("");
    const char *type_name = path ? member_type(index, arg_type, path)
                                 : arg_type;
    g_autoptr(GPtrArray) members = object_members(index, type_name);
    g_autoptr(GHashTable) given = keys_given(words);

    completion->shown_from = strlen(head);
    completion->suffix = '=';
    for (guint i = 0; i < members->len; i++) {
        const char *name = string_member(members->pdata[i], "name");
        g_autofree char *key = g_strconcat(head, name, NULL);

        if (!g_hash_table_contains(given, key)) {
            add_candidate(completion, word, head, name);
        }
    }
}

/* Values for @word (KEY=...): an enum's values, or true and false. */
static void complete_value(const SchemaIndex *index, const char *arg_type,
                           const char *word, Completion *completion)
{
    const char *equals = strchr(word, '=');
    g_autofree char *key = g_strndup(word, equals - word);
    g_autofree char *head = g_strndup(word, equals + 1 - word);
    const char *type_name = member_type(index, arg_type, key);
    json_object *entity;

    completion->shown_from = strlen(head);
    completion->suffix = ' ';
    if ((entity = schema_entity(index, type_name, "enum"))) {
        json_object *values = array_member(entity, "values");
        size_t count = values ? json_object_array_length(values) : 0;

        for (size_t i = 0; i < count; i++) {
            json_object *value = json_object_array_get_idx(values, i);

            if (json_object_is_type(value, json_type_string)) {
                add_candidate(completion, word, head,
                              json_object_get_string(value));
            }
        }
    } else if ((entity = schema_entity(index, type_name, "builtin")) &&
               g_strcmp0(string_member(entity, "json-type"), "boolean") ==
                   0) {
        add_candidate(completion, word, head, "false");
        add_candidate(completion, word, head, "true");
    }
}

/*
 * Fills @completion for the word @word that follows the words @words:
 * a command name first, then argument names (KEY) and values (KEY=VALUE)
 * of that command.  Nothing is offered in the JSON-object form.
 */
static void complete_word(const SchemaIndex *index, GPtrArray *words,
                          const char *word, Completion *completion)
{
    json_object *command;
    const char *arg_type;

    if (words->len == 0) {
        completion->suffix = ' ';
        for (guint i = 0; i < index->commands->len; i++) {
            add_candidate(completion, word, "", index->commands->pdata[i]);
        }
        return;
    }
    command = schema_entity(index, words->pdata[0], "command");
    arg_type = command ? string_member(command, "arg-type") : NULL;
    if (!arg_type || word[0] == '{' ||
        (words->len > 1 && ((const char *)words->pdata[1])[0] == '{')) {
        return;
    }
    if (strchr(word, '=')) {
        complete_value(index, arg_type, word, completion);
    } else {
        complete_key(index, arg_type, words, word, completion);
    }
    g_ptr_array_sort(completion->candidates, compare_strings);
}

/* The longest prefix the strings of @strings (at least one) share. */
static size_t common_prefix_length(GPtrArray *strings)
{
    const char *first = strings->pdata[0];
    size_t length = strlen(first);

    for (guint i = 1; i < strings->len; i++) {
        const char *other = strings->pdata[i];
        size_t same = 0;

        while (same < length && first[same] == other[same]) {
            same++;
        }
        length = same;
    }
    return length;
}

/* Prints the candidates in columns, as a shell lists completions. */
static void list_candidates(EditLine *el, const Completion *completion)
{
    GPtrArray *candidates = completion->candidates;
    int screen_columns = 0;
    size_t width = 0, per_line, rows;

    if (el_get(el, EL_GETTC, "co", &screen_columns) != 0 ||
        screen_columns <= 0) {
        screen_columns = 80;
    }
    for (guint i = 0; i < candidates->len; i++) {
        width = MAX(width, strlen((const char *)candidates->pdata[i] +
                                  completion->shown_from));
    }
    per_line = MAX((size_t)screen_columns / (width + 2), 1);
    rows = (candidates->len + per_line - 1) / per_line;
    fputc('\n', stdout);
    for (size_t row = 0; row < rows; row++) {
        for (size_t i = row; i < candidates->len; i += rows) {
            const char *shown =
                (const char *)candidates->pdata[i] + completion->shown_from;

            fprintf(stdout, "%-*s", i + rows < candidates->len
                                        ? (int)(width + 2) : 0, shown);
        }
        fputc('\n', stdout);
    }
    fflush(stdout);
}

/* ---- the line editor ---- */

typedef struct Shell {
    QmpClient *client;
    const char *address;
    bool compact;
    SchemaIndex schema;
    EditLine *editor;
    History *history;
    char *history_file;     /* NULL: history is not saved */
} Shell;

/* Tab: complete the word before the cursor (libedit's EL_ADDFN). */
static unsigned char complete_cb(EditLine *el, int key)
{
    Shell *shell = NULL;
    const LineInfo *line = el_line(el);
    g_autofree char *before = NULL;
    g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *word = NULL;
    Completion completion = { .candidates = NULL };
    LineEnd end;
    size_t common;
    unsigned char result = CC_ERROR;

    (void)key;
    if (el_get(el, EL_CLIENTDATA, (void **)&shell) != 0 || !shell) {
        return CC_ERROR;
    }
    before = g_strndup(line->buffer, line->cursor - line->buffer);
    split_words(before, words, &end);
    if (end.open || (end.in_word && !end.plain)) {
        return CC_ERROR;
    }
    word = end.in_word ? g_ptr_array_steal_index(words, words->len - 1)
                       : g_strdup("");
    completion.candidates = g_ptr_array_new_with_free_func(g_free);
    complete_word(&shell->schema, words, word, &completion);

    if (completion.candidates->len == 1) {
        const char *full = completion.candidates->pdata[0];
        char suffix[2] = { completion.suffix, '\0' };

        el_insertstr(el, full + strlen(word));
        /* Step over the suffix if it is there already. */
        line = el_line(el);
        if (line->cursor < line->lastchar && *line->cursor == suffix[0]) {
            el_cursor(el, 1);
        } else {
            el_insertstr(el, suffix);
        }
        result = CC_REFRESH;
    } else if (completion.candidates->len > 1) {
        common = common_prefix_length(completion.candidates);
        if (common > strlen(word)) {
            g_autofree char *more = g_strndup(
                (const char *)completion.candidates->pdata[0] + strlen(word),
                common - strlen(word));

            el_insertstr(el, more);
            result = CC_REFRESH;
        } else {
            list_candidates(el, &completion);
            result = CC_REDISPLAY;
        }
    }
    g_ptr_array_unref(completion.candidates);
    return result;
}

static char *prompt_cb(EditLine *el)
{
    (void)el;
    return prompt_text;
}

/* The history file: $XDG_STATE_HOME/qapikit-qmp/history, its folder made
 * if missing.  NULL (no saving) when it cannot be made. */
static char *history_file_path(void)
{
    g_autofree char *dir =
        g_build_filename(g_get_user_state_dir(), "qapikit-qmp", NULL);

    if (g_mkdir_with_parents(dir, 0700) != 0) {
        fprintf(stderr, "qapikit-qmp: history is not saved: %s: %s\n", dir,
                g_strerror(errno));
        return NULL;
    }
    return g_build_filename(dir, "history", NULL);
}

static bool shell_start(Shell *shell)
{
    HistEvent event;

    shell->editor = el_init("qapikit-qmp", stdin, stdout, stderr);
    shell->history = history_init();
    if (!shell->editor || !shell->history) {
        fprintf(stderr, "qapikit-qmp: cannot start the line editor\n");
        return false;
    }
    history(shell->history, &event, H_SETSIZE, HISTORY_SIZE);
    history(shell->history, &event, H_SETUNIQUE, 1);
    shell->history_file = history_file_path();
    if (shell->history_file) {
        /* A missing file is a first session: nothing to load. */
        history(shell->history, &event, H_LOAD, shell->history_file);
    }
    el_set(shell->editor, EL_EDITOR, "emacs");
    el_set(shell->editor, EL_SIGNAL, 1);
    el_set(shell->editor, EL_PROMPT, prompt_cb);
    el_set(shell->editor, EL_HIST, history, shell->history);
    el_set(shell->editor, EL_CLIENTDATA, shell);
    /* el_wset(): el_set() would copy the two strings and never free
     * them (a leak libedit documents in its source). */
    el_wset(shell->editor, EL_ADDFN, L"qapikit-complete",
            L"Complete a QMP command, argument name or value", complete_cb);
    el_set(shell->editor, EL_BIND, "^I", "qapikit-complete", NULL);
    /* The user's ~/.editrc (or $EDITRC) may rebind keys. */
    el_source(shell->editor, NULL);
    return true;
}

static void shell_stop(Shell *shell)
{
    if (shell->editor) {
        el_end(shell->editor);
    }
    if (shell->history) {
        history_end(shell->history);
    }
    g_free(shell->history_file);
    schema_index_clear(&shell->schema);
}

/* Enters @text in the history and saves it, so that a session killed
 * later keeps it. */
static void remember(Shell *shell, const char *text)
{
    HistEvent event;

    history(shell->history, &event, H_ENTER, text);
    if (shell->history_file &&
        history(shell->history, &event, H_SAVE, shell->history_file) < 0) {
        fprintf(stderr, "qapikit-qmp: cannot save the history to %s\n",
                shell->history_file);
        g_clear_pointer(&shell->history_file, g_free);
    }
}

/* Completion data: query-qmp-schema; without it, no completion.  False
 * when the connection broke. */
static bool load_schema(Shell *shell)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(json_object) reply = qmp_client_execute(
        shell->client, "query-qmp-schema", NULL, &error);
    json_object *value = NULL;

    if (!reply) {
        fprintf(stderr, "qapikit-qmp: %s: query-qmp-schema: %s\n",
                shell->address, error->message);
        return false;
    }
    if (!json_object_object_get_ex(reply, "return", &value)) {
        fprintf(stderr, "qapikit-qmp: no completion: query-qmp-schema "
                "failed\n");
    }
    schema_index_init(&shell->schema, json_object_get(value));
    return true;
}

/*
 * Runs one line (not blank).  Returns false when the connection broke,
 * with a message printed; a usage or an error reply is printed and the
 * session goes on.
 */
static bool run_line(Shell *shell, const char *text)
{
    g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(json_object) arguments = NULL;
    g_autoptr(json_object) reply = NULL;
    g_autoptr(GError) error = NULL;
    const char *command;
    LineEnd end;

    split_words(text, words, &end);
    if (end.open) {
        fprintf(stderr, "qapikit-qmp: the line ends inside a quote or a "
                "JSON value\n");
        return true;
    }
    command = words->pdata[0];
    if (!qmp_build_arguments((char *const *)words->pdata + 1,
                             (int)words->len - 1, &arguments, &error)) {
        fprintf(stderr, "qapikit-qmp: %s\n", error->message);
        return true;
    }
    reply = qmp_client_execute(shell->client, command, arguments, &error);
    if (!reply) {
        fprintf(stderr, "qapikit-qmp: %s: %s: %s\n", shell->address, command,
                error->message);
        return false;
    }
    qmp_print_reply(reply, shell->compact);
    return true;
}

static int shell_loop(Shell *shell)
{
    for (;;) {
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;
        const char *line;
        int count = 0;

        /* Events that came while the prompt waited; and a server that
         * went away (after quit, say) ends the session here. */
        if (!qmp_client_read_pending(shell->client, &error)) {
            if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED)) {
                fprintf(stderr, "qapikit-qmp: %s: the server closed the "
                        "connection\n", shell->address);
                return STATUS_OK;
            }
            fprintf(stderr, "qapikit-qmp: %s: %s\n", shell->address,
                    error->message);
            return STATUS_USAGE;
        }
        line = el_gets(shell->editor, &count);
        if (!line || count <= 0) {
            fputc('\n', stdout);
            return STATUS_OK;
        }
        text = g_strstrip(g_strdup(line));
        if (!*text) {
            continue;
        }
        remember(shell, text);
        if (!run_line(shell, text)) {
            return STATUS_USAGE;
        }
    }
}

int qmp_shell_run(QmpClient *client, const char *address, bool compact)
{
    Shell shell = { .client = client, .address = address,
                    .compact = compact };
    int status = STATUS_USAGE;

    /* The terminal's character set, for libedit's multibyte input. */
    setlocale(LC_CTYPE, "");
    client->print_events = true;
    if (load_schema(&shell) && shell_start(&shell)) {
        status = shell_loop(&shell);
    }
    shell_stop(&shell);
    return status;
}
