/* SPDX-License-Identifier: MIT */
/*
 * The interactive mode of qapikit-qmp (tools/qmp-shell.h).  libedit (BSD
 * licensed) edits the lines; its native API, not the readline emulation:
 * completion needs the text before the cursor and control over what is
 * inserted, which el_line() and el_insertstr() give directly.
 */
#define _XOPEN_SOURCE 700 /* POSIX with SA_RESTART, also under -std=c11 */

#include "qmp-shell.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include <glib-unix.h>
#include <histedit.h>

/* libedit wants a writable prompt string. */
static char prompt_text[] = "qmp> ";

#define HISTORY_SIZE 1000

/* ---- words of a line ---- */

/* How a text (a line, or what precedes the cursor) ends. */
typedef struct LineEnd {
    bool open;    /* inside a quote or an unclosed JSON value */
    bool in_word; /* the last word runs to the end of the text */
    bool plain;   /* that word has no quote, escape or JSON value */
} LineEnd;

/* A '{' or '[' after @word starts a JSON value: at the start of a word
 * (the JSON-object form) or right after the first '=' (KEY=VALUE). */
static bool starts_json_value(const GString *word)
{
    return word->len == 0
        || (word->str[word->len - 1] == '='
            && strchr(word->str, '=') == word->str + word->len - 1);
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
    json_object *schema;  /* query-qmp-schema's return value, or NULL */
    GHashTable *entities; /* name -> its SchemaInfo (borrowed) */
    GPtrArray *commands;  /* the command names (borrowed), sorted */
} SchemaIndex;

/* @object's member @key if it is a string, else NULL. */
static const char *string_member(json_object *object, const char *key)
{
    json_object *value = NULL;

    if (!json_object_object_get_ex(object, key, &value)
        || !json_object_is_type(value, json_type_string)) {
        return NULL;
    }
    return json_object_get_string(value);
}

/* @object's member @key if it is an array, else NULL. */
static json_object *array_member(json_object *object, const char *key)
{
    json_object *value = NULL;

    if (!json_object_object_get_ex(object, key, &value)
        || !json_object_is_type(value, json_type_array)) {
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

    if (!entity
        || g_strcmp0(string_member(entity, "meta-type"), meta_type) != 0) {
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

        if (name && string_member(member, "type")
            && g_hash_table_add(seen, (char *)name)) {
            g_ptr_array_add(members, member);
        }
    }
    list = array_member(entity, "variants");
    count = list ? json_object_array_length(list) : 0;
    for (size_t i = 0; i < count; i++) {
        collect_members(
            index, string_member(json_object_array_get_idx(list, i), "type"),
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
static const char *member_type(const SchemaIndex *index, const char *type_name,
                               const char *path)
{
    g_auto(GStrv) parts = g_strsplit(path, ".", -1);

    for (guint i = 0; parts[i] && type_name; i++) {
        g_autoptr(GPtrArray) members = object_members(index, type_name);
        const char *found = NULL;

        for (guint m = 0; m < members->len && !found; m++) {
            if (strcmp(string_member(members->pdata[m], "name"), parts[i])
                == 0) {
                found = string_member(members->pdata[m], "type");
            }
        }
        type_name = found;
    }
    return type_name;
}

/* ---- completion ---- */

typedef struct Completion {
    GPtrArray *candidates; /* what the word may become (new strings) */
    size_t shown_from;     /* listings show candidates from this offset */
    char suffix;           /* what follows a word completed in full */
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
    GHashTable *keys =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

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
    g_autofree char *head =
        dot ? g_strndup(word, dot + 1 - word) : g_strdup("");
    const char *type_name =
        path ? member_type(index, arg_type, path) : arg_type;
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
    } else if ((entity = schema_entity(index, type_name, "builtin"))
               && g_strcmp0(string_member(entity, "json-type"), "boolean")
                   == 0) {
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
    if (!arg_type || word[0] == '{'
        || (words->len > 1 && ((const char *)words->pdata[1])[0] == '{')) {
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

    if (el_get(el, EL_GETTC, "co", &screen_columns) != 0
        || screen_columns <= 0) {
        screen_columns = 80;
    }
    for (guint i = 0; i < candidates->len; i++) {
        width = MAX(width,
                    strlen((const char *)candidates->pdata[i]
                           + completion->shown_from));
    }
    per_line = MAX((size_t)screen_columns / (width + 2), 1);
    rows = (candidates->len + per_line - 1) / per_line;
    fputc('\n', stdout);
    for (size_t row = 0; row < rows; row++) {
        for (size_t i = row; i < candidates->len; i += rows) {
            const char *shown =
                (const char *)candidates->pdata[i] + completion->shown_from;

            fprintf(stdout, "%-*s",
                    i + rows < candidates->len ? (int)(width + 2) : 0, shown);
        }
        fputc('\n', stdout);
    }
    fflush(stdout);
}

/* ---- the line editor ---- */

/* The signals libedit would catch while it edits a line (EL_SIGNAL; its
 * sig.h): the shell catches them itself (see "waiting for a key"). */
static const int edit_signals[] = {
    SIGINT, SIGTSTP, SIGQUIT, SIGHUP, SIGTERM, SIGCONT, SIGWINCH,
};
#define EDIT_SIGNAL_COUNT G_N_ELEMENTS(edit_signals)

typedef struct Shell {
    QmpClient *client;
    const char *address;
    bool compact;
    SchemaIndex schema;
    EditLine *editor;
    History *history;
    char *history_file;     /* NULL: history is not saved */
    GPtrArray *held_events; /* read while a line was edited, not printed */
    GError *ended;          /* how the connection ended during a line */
    /* While a line is edited: which of edit_signals are caught, and
     * their actions before. */
    bool catching[EDIT_SIGNAL_COUNT];
    struct sigaction actions_before[EDIT_SIGNAL_COUNT];
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

/*
 * The prompt; libedit asks for it each time it draws the prompt, before
 * it writes it to the terminal.
 *
 * It is also where the terminal goes into libedit's editing mode (keys
 * read one by one, not echoed by the terminal).  el_gets() prints the
 * prompt first and switches the mode only at its first read (the
 * earlier switch it has is compiled only where FIONREAD is visible in
 * its read.c, which it is not on Linux).  Keys that came in between
 * were read by the terminal in its line mode: echoed by it (and once
 * more by libedit), edited with its own erase and kill keys, and a
 * Ctrl-D there was the terminal's end of file, which becomes a NUL byte
 * once the mode changes, so Ctrl-D at an empty prompt was lost and the
 * session waited on.  Switched here, the mode is set before the prompt
 * can be seen, and while the signals are caught (catch_signals(): a
 * signal that ends the program restores the terminal first).  el_gets()
 * restores the user's mode when it returns: a command runs in it.
 * Further calls (each refresh) find the mode set and do nothing.
 */
static char *prompt_cb(EditLine *el)
{
    el_set(el, EL_PREP_TERM, 1);
    return prompt_text;
}

/* ---- waiting for a key ---- */

/*
 * While a line is edited the shell waits in one place, read_char_cb(),
 * for whichever comes first: a key; a message from the server, an event
 * (kept for the next prompt, as the manual says) or the end of the
 * connection (which ends the line and the session); or a signal.
 *
 * libedit's own signal handling (EL_SIGNAL) is not used: its handler
 * puts the signal's former action back, and libedit installs its
 * handlers again only when a signal interrupts its own read(), never a
 * wait elsewhere, so after one window change or Ctrl-Z a second one in
 * the same line would find them gone.  The shell catches the same
 * signals while a line is edited, and does what libedit does, in
 * order: the handler only records the signal and wakes the wait.
 */

/* The signals caught and not yet acted on (indexes of edit_signals). */
static volatile sig_atomic_t signal_caught[EDIT_SIGNAL_COUNT];

/* A byte written here wakes the wait (non-blocking, both ends). */
static int signal_pipe[2] = { -1, -1 };

static void record_signal(int signo)
{
    int saved_errno = errno;

    for (size_t i = 0; i < EDIT_SIGNAL_COUNT; i++) {
        if (edit_signals[i] == signo) {
            signal_caught[i] = 1;
        }
    }
    if (write(signal_pipe[1], "", 1) < 0) {
        /* The pipe is full: the wait is woken already. */
    }
    errno = saved_errno;
}

static void catch_signal(int signo)
{
    struct sigaction action = { .sa_handler = record_signal,
                                .sa_flags = SA_RESTART };

    sigemptyset(&action.sa_mask);
    sigaction(signo, &action, NULL);
}

/* Before a line is edited: catches the signals whose action is the
 * default one (one ignored or handled otherwise is left as it is). */
static void catch_signals(Shell *shell)
{
    for (size_t i = 0; i < EDIT_SIGNAL_COUNT; i++) {
        struct sigaction *before = &shell->actions_before[i];

        signal_caught[i] = 0;
        shell->catching[i] = sigaction(edit_signals[i], NULL, before) == 0
            && !(before->sa_flags & SA_SIGINFO)
            && before->sa_handler == SIG_DFL;
        if (shell->catching[i]) {
            catch_signal(edit_signals[i]);
        }
    }
}

/* After: the former actions; a signal not acted on yet (it came after
 * the last key) is raised again for its own action. */
static void release_signals(Shell *shell)
{
    for (size_t i = 0; i < EDIT_SIGNAL_COUNT; i++) {
        if (!shell->catching[i]) {
            continue;
        }
        sigaction(edit_signals[i], &shell->actions_before[i], NULL);
        shell->catching[i] = false;
        if (signal_caught[i]) {
            signal_caught[i] = 0;
            raise(edit_signals[i]);
        }
    }
}

/* Acts on the signals caught, as libedit's handler would. */
static void handle_signals(Shell *shell, EditLine *el)
{
    char drained[64];

    while (read(signal_pipe[0], drained, sizeof(drained)) > 0) {
    }
    for (size_t i = 0; i < EDIT_SIGNAL_COUNT; i++) {
        int signo = edit_signals[i];

        if (!signal_caught[i]) {
            continue;
        }
        signal_caught[i] = 0;
        if (signo == SIGWINCH) {
            el_resize(el); /* the next refresh fits the new width */
        } else if (signo == SIGCONT) {
            /* Continued (after a stop by SIGSTOP too): the terminal's
             * mode may have been changed meanwhile; set it again. */
            el_set(el, EL_PREP_TERM, 0);
            el_set(el, EL_PREP_TERM, 1);
        } else {
            /* The terminal in the user's mode, then the signal's own
             * action: the end of the program, or (Ctrl-Z) a stop, and
             * once continued the editing mode again.  (As libedit, the
             * line is not drawn again: where the cursor is after the
             * continuing shell's output is not known.) */
            el_set(el, EL_PREP_TERM, 0);
            sigaction(signo, &shell->actions_before[i], NULL);
            raise(signo);
            catch_signal(signo);
            el_set(el, EL_PREP_TERM, 1);
        }
    }
}

/*
 * Waits until a key can be read (true), acting on the signals and
 * reading the server's messages meanwhile.  False when the connection
 * ended or broke (shell->ended says how).
 */
static bool wait_for_key(Shell *shell, EditLine *el)
{
    GSocket *socket = g_socket_connection_get_socket(shell->client->connection);

    for (;;) {
        struct pollfd fds[] = {
            { .fd = STDIN_FILENO, .events = POLLIN },
            { .fd = signal_pipe[0], .events = POLLIN },
            { .fd = g_socket_get_fd(socket), .events = POLLIN },
        };

        handle_signals(shell, el);
        if (poll(fds, G_N_ELEMENTS(fds), -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return true; /* read() says what is wrong */
        }
        if (fds[2].revents
            && !qmp_client_read_pending(shell->client, shell->held_events,
                                        &shell->ended)) {
            return false;
        }
        if (fds[0].revents) {
            handle_signals(shell, el);
            return true;
        }
    }
}

/*
 * libedit's EL_GETCFN: reads one character as its built-in function
 * does (a byte at a time; a multibyte character decoded in the locale's
 * character set, an invalid byte dropped), once wait_for_key() says a
 * key is there.  1: a character; 0: the end of the input, or of the
 * connection; -1: an error (errno).
 */
static int read_char_cb(EditLine *el, wchar_t *wc)
{
    Shell *shell = NULL;
    char bytes[MB_LEN_MAX];
    size_t length = 0;

    *wc = L'\0';
    if (el_get(el, EL_CLIENTDATA, (void **)&shell) != 0 || !shell) {
        errno = EINVAL;
        return -1;
    }
    for (;;) {
        mbstate_t state;
        size_t decoded;
        ssize_t got;

        if (!wait_for_key(shell, el)) {
            return 0;
        }
        got = read(STDIN_FILENO, bytes + length, 1);
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (got <= 0) {
            return (int)got;
        }
        length++;
        for (;;) {
            memset(&state, 0, sizeof(state));
            decoded = mbrtowc(wc, bytes, length, &state);
            if (decoded != (size_t)-1 || length == 1) {
                break;
            }
            /* Invalid: its last byte may start a character. */
            bytes[0] = bytes[length - 1];
            length = 1;
        }
        if (decoded == (size_t)-2 && length < sizeof(bytes)) {
            continue; /* the rest of the character */
        }
        if (decoded == (size_t)-1 || decoded == (size_t)-2) {
            length = 0;
            continue;
        }
        return 1;
    }
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

static void free_json(gpointer value)
{
    json_object_put(value);
}

static bool shell_start(Shell *shell)
{
    g_autoptr(GError) error = NULL;
    HistEvent event;

    shell->held_events = g_ptr_array_new_with_free_func(free_json);
    if (!g_unix_open_pipe(signal_pipe, FD_CLOEXEC, &error)
        || !g_unix_set_fd_nonblocking(signal_pipe[0], TRUE, &error)
        || !g_unix_set_fd_nonblocking(signal_pipe[1], TRUE, &error)) {
        fprintf(stderr, "qapikit-qmp: cannot start the line editor: %s\n",
                error->message);
        return false;
    }
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
    /* Signals: not EL_SIGNAL, see "waiting for a key". */
    el_set(shell->editor, EL_GETCFN, read_char_cb);
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
    g_clear_pointer(&shell->held_events, g_ptr_array_unref);
    g_clear_error(&shell->ended);
    for (size_t i = 0; i < G_N_ELEMENTS(signal_pipe); i++) {
        if (signal_pipe[i] >= 0) {
            close(signal_pipe[i]);
            signal_pipe[i] = -1;
        }
    }
}

/* Enters @text in the history and saves it, so that a session killed
 * later keeps it. */
static void remember(Shell *shell, const char *text)
{
    HistEvent event;

    history(shell->history, &event, H_ENTER, text);
    if (shell->history_file
        && history(shell->history, &event, H_SAVE, shell->history_file) < 0) {
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
    g_autoptr(json_object) reply =
        qmp_client_execute(shell->client, "query-qmp-schema", NULL, &error);
    json_object *value = NULL;

    if (!reply) {
        fprintf(stderr, "qapikit-qmp: %s: query-qmp-schema: %s\n",
                shell->address, error->message);
        return false;
    }
    if (!json_object_object_get_ex(reply, "return", &value)) {
        fprintf(stderr,
                "qapikit-qmp: no completion: query-qmp-schema "
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
        fprintf(stderr,
                "qapikit-qmp: the line ends inside a quote or a "
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

/* Prints the events held while a line was edited. */
static void print_held_events(Shell *shell)
{
    for (guint i = 0; i < shell->held_events->len; i++) {
        qmp_print_event(shell->held_events->pdata[i]);
    }
    g_ptr_array_set_size(shell->held_events, 0);
}

/* The end of the session when the connection ended (@error): a server
 * that closed it (after quit, say) ends it well. */
static int connection_ended(Shell *shell, const GError *error)
{
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CLOSED)) {
        fprintf(stderr,
                "qapikit-qmp: %s: the server closed the "
                "connection\n",
                shell->address);
        return STATUS_OK;
    }
    fprintf(stderr, "qapikit-qmp: %s: %s\n", shell->address, error->message);
    return STATUS_USAGE;
}

static int shell_loop(Shell *shell)
{
    for (;;) {
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;
        const char *line;
        int count = 0;

        /* Events that came while the last line was edited, then those
         * since; a server that went away ends the session here. */
        print_held_events(shell);
        if (!qmp_client_read_pending(shell->client, NULL, &error)) {
            return connection_ended(shell, error);
        }
        catch_signals(shell);
        line = el_gets(shell->editor, &count);
        release_signals(shell);
        if (shell->ended) {
            /* It ended while the line was edited: the line is dropped. */
            fputc('\n', stdout);
            print_held_events(shell);
            return connection_ended(shell, shell->ended);
        }
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
    Shell shell = { .client = client, .address = address, .compact = compact };
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
