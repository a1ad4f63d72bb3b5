/* SPDX-License-Identifier: MIT */
/*
 * qapikit monitor: the incremental JSON reader (docs/spec/qmp-protocol.md §7,
 * §8).
 *
 * A byte-at-a-time lexer feeds a parser that builds the json-c tree as
 * tokens complete.  Containers are attached to their parent when they
 * open, so the tree's root owns everything and the stack only borrows;
 * dropping a partial value is one json_object_put().
 */
#include "json-reader.h"
#include "utf8.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <qapikit/error.h>

#ifdef JSON_BUDGET_GIVES_BACK
#include <malloc.h>
#endif

typedef enum {
    LEX_NONE,    /* between tokens */
    LEX_LITERAL, /* true, false, null */
    LEX_NUMBER,
    LEX_STRING,
} LexState;

typedef enum {
    NUM_MINUS, /* after '-' */
    NUM_ZERO,  /* a leading 0 */
    NUM_INT,
    NUM_DOT,
    NUM_FRAC,
    NUM_EXP, /* after e/E */
    NUM_EXP_SIGN,
    NUM_EXP_DIGITS,
    NUM_BAD, /* not a state: the byte cannot follow */
} NumState;

typedef enum {
    STR_PLAIN,
    STR_ESCAPE,     /* after '\' */
    STR_HEX,        /* in \uXXXX */
    STR_UTF8,       /* inside a multi-byte sequence */
    STR_LOW_ESCAPE, /* after a high surrogate, want '\' */
    STR_LOW_U,      /* want 'u' */
} StrState;

typedef enum {
    /* arrays */
    EXPECT_VALUE_OR_END,
    EXPECT_VALUE,
    EXPECT_COMMA_OR_END,
    /* objects (EXPECT_VALUE and EXPECT_COMMA_OR_END shared) */
    EXPECT_KEY_OR_END,
    EXPECT_KEY,
    EXPECT_COLON,
} ParseState;

typedef struct Frame {
    json_object *container; /* borrowed: the root owns it */
    bool is_object;
    ParseState state;
} Frame;

struct JsonReader {
    JsonReaderLimits limits;
    JsonReaderValueFunc on_value;
    JsonReaderErrorFunc on_error;
    void *opaque;

    /* recovery (§8) */
    bool skipping;
    bool tentative;
    /*
     * While skipping: brackets of the broken value still open, and the
     * quote of a string of it being skipped (0: none), so that the rest
     * of a broken value is skipped whole and no part of it is taken for
     * a request of its own.
     */
    size_t skip_depth;
    char skip_quote;
    bool skip_escape;

    /* memory accounting: the value being read, the token buffers */
    JsonBudget *budget;
    size_t value_charge;
    size_t buffer_charge;
    size_t buffer_initial; /* allocated_len of a new token buffer */

    /* the value being read */
    json_object *root;
    Frame *stack; /* grows up to limits.max_depth frames */
    size_t stack_size;
    size_t depth;
    size_t value_bytes;
    size_t value_tokens;

    /* the token being read */
    LexState lex;
    GString *tok;        /* number text or decoded string */
    GString *key;        /* the pending key of the innermost object */
    const char *literal; /* LEX_LITERAL: the literal, and how far */
    size_t literal_pos;
    NumState num;
    StrState str;
    char quote;
    bool string_is_key;
    unsigned hex_digits;
    uint32_t hex_value;
    uint32_t high_surrogate;
    unsigned utf8_need; /* continuation bytes still missing */
    unsigned char utf8_lead;
    unsigned char utf8_lo, utf8_hi; /* range of the next continuation */
    uint32_t utf8_cp;
};

/* GString buffers above this are given back after a value. */
#define TOKEN_BUFFER_KEEP 65536

/* ---- memory budgets ---- */

/*
 * The heap that the reader's json-c nodes cost with json-c 0.16 and
 * glibc's malloc on 64-bit systems, in bytes, measured with mallinfo2()
 * (tests/monitor/test-json-reader.c compares the estimate with it).  A
 * malloc chunk is the request plus 8 bytes, rounded up to 16, and at
 * least 32 bytes.  Strings keep their text inline; doubles keep their
 * source text in a copy of their own; object keys are copies.  Tables
 * grow as json-c grows them (table_growth()).
 */
#define COST_OBJECT ((size_t)784)     /* the object, its lh_table, 16 entries */
#define COST_ARRAY ((size_t)392)      /* the object, its array_list, 32 slots */
#define COST_SCALAR ((size_t)64)      /* int64, uint64, boolean, double */
#define COST_STRING_HEAD ((size_t)57) /* a string's object before its text */

static size_t heap_chunk(size_t request)
{
    return MAX((request + 8 + 15) & ~(size_t)15, (size_t)32);
}

/* Count BYTES in BUDGET and its parent, unchecked. */
static void budget_add(JsonBudget *budget, size_t bytes)
{
    JsonBudget *top = budget->parent ? budget->parent : budget;

    budget->used += bytes;
    budget->peak = MAX(budget->peak, budget->used);
    if (budget->parent) {
        budget->parent->used += bytes;
    }
    top->peak = MAX(top->peak, top->used);
}

bool json_budget_charge(JsonBudget *budget, size_t bytes,
                        const JsonBudget **refused)
{
    JsonBudget *parent = budget->parent;
    const JsonBudget *full = NULL;

    if (budget->limit
        && bytes > budget->limit - MIN(budget->used, budget->limit)) {
        full = budget;
    } else if (parent && parent->limit
               && budget->used + bytes > budget->guaranteed
               && bytes > parent->limit - MIN(parent->used, parent->limit)) {
        full = parent;
    }
    if (full) {
        if (refused) {
            *refused = full;
        }
        return false;
    }
    budget_add(budget, bytes);
    return true;
}

/*
 * Give the free memory of the heap back to the system.  glibc keeps what
 * was freed for later mallocs; the trees of a large value, thousands of
 * small chunks, would hold its peak resident for the process's life.
 * AddressSanitizer's allocator is not glibc's: nothing to give back.
 */
static void give_back_memory(void)
{
#ifdef JSON_BUDGET_GIVES_BACK
    malloc_trim(0);
#endif
}

void json_budget_release(JsonBudget *budget, size_t bytes)
{
    JsonBudget *top = budget->parent ? budget->parent : budget;

    budget->used -= MIN(bytes, budget->used);
    if (budget->parent) {
        budget->parent->used -= MIN(bytes, budget->parent->used);
    }
    /* After a large value, not after every one: see JsonBudget. */
    if (top->peak - top->used >= JSON_BUDGET_GIVE_BACK
        && top->used <= top->peak / 2) {
        give_back_memory();
        top->peak = top->used;
    }
}

void json_budget_retire(JsonBudget *budget)
{
    if (budget->peak >= JSON_BUDGET_GIVE_BACK / 8) {
        give_back_memory();
    }
    budget->peak = 0;
}

/* The bytes of CONTAINER's table (hash entries, or array slots). */
static size_t table_bytes(const Frame *f)
{
    if (f->is_object) {
        return (size_t)json_object_get_object(f->container)->size
            * sizeof(struct lh_entry);
    }
    return json_object_get_array(f->container)->size * sizeof(void *);
}

/*
 * How much the table of F's container grows when one more member is
 * added: json-c doubles an array's slots when its length reaches their
 * number, and an object's hash table when its count reaches
 * LH_LOAD_FACTOR of its size.  add_value() counts the actual growth, so
 * that another json-c's rules only shift when a charge is refused.
 */
static size_t table_growth(const Frame *f)
{
    if (f->is_object) {
        const struct lh_table *t = json_object_get_object(f->container);

        return t->count >= t->size * LH_LOAD_FACTOR
            ? (size_t)t->size * sizeof(struct lh_entry)
            : 0;
    }
    const struct array_list *a = json_object_get_array(f->container);

    return a->length + 1 >= a->size ? a->size * sizeof(void *) : 0;
}

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_noncharacter(uint32_t cp)
{
    return (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
}

/* "'c'" for printable ASCII, "byte 0xNN" otherwise. */
static const char *describe_byte(unsigned char c, char buf[16])
{
    if (c > 0x20 && c < 0x7F) {
        g_snprintf(buf, 16, "'%c'", c);
    } else {
        g_snprintf(buf, 16, "byte 0x%02X", c);
    }
    return buf;
}

/* At most 64 bytes of TEXT, cut on a UTF-8 boundary, for messages. */
static char *excerpt(const char *text, size_t len)
{
    size_t cut = len;

    if (cut > 64) {
        cut = 64;
        while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80) {
            cut--;
        }
    }
    return g_strdup_printf("%.*s%s", (int)cut, text, cut < len ? "..." : "");
}

static size_t token_buffers_size(const JsonReader *r)
{
    return r->tok->allocated_len + r->key->allocated_len;
}

/* The size the token buffers start with. */
#define TOKEN_BUFFER_INITIAL 64

/* Empty *BUF; give it back to its initial size when KEEP is exceeded. */
static void token_buffer_reset(GString **buf, size_t keep)
{
    if ((*buf)->allocated_len > keep) {
        g_string_free(*buf, TRUE);
        *buf = g_string_sized_new(TOKEN_BUFFER_INITIAL);
    } else {
        g_string_truncate(*buf, 0);
    }
}

/*
 * Empty the token buffers, replacing those larger than KEEP bytes by new
 * small ones; the bytes of budget their shrinking frees.  Under a budget
 * they always go back to their initial size, so that what one value may
 * use never depends on the values before it (and buffers whose growth
 * the budget refused, which hold more than is charged, go too).
 */
static size_t token_buffers_reset(JsonReader *r, size_t keep)
{
    size_t freed = 0;

    if (r->budget) {
        keep = MIN(keep, r->buffer_initial);
    }
    token_buffer_reset(&r->tok, keep);
    token_buffer_reset(&r->key, keep);
    if (r->budget && token_buffers_size(r) < r->buffer_charge) {
        freed = r->buffer_charge - token_buffers_size(r);
        r->buffer_charge -= freed;
    }
    return freed;
}

/* Drop the value being read, and release what it held of the budget. */
static void value_reset(JsonReader *r)
{
    size_t freed;

    json_object_put(r->root);
    r->root = NULL;
    r->depth = 0;
    r->value_bytes = 0;
    r->value_tokens = 0;
    r->lex = LEX_NONE;
    r->high_surrogate = 0;
    freed = token_buffers_reset(r, TOKEN_BUFFER_KEEP) + r->value_charge;
    r->value_charge = 0;
    if (freed) {
        json_budget_release(r->budget, freed);
    }
}

/*
 * Bad input: drop the partial value, report unless the value was
 * tentative, and skip (§8).
 */
G_GNUC_PRINTF(2, 3)
static void fail(JsonReader *r, const char *fmt, ...)
{
    if (!r->tentative && r->on_error) {
        va_list ap;
        g_autofree char *msg = NULL;
        g_autoptr(GError) err = NULL;

        va_start(ap, fmt);
        msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        err = g_error_new(QAPI_ERROR, QAPI_ERROR_CLASS_GENERICERROR,
                          "invalid JSON: %s", msg);
        r->on_error(err, r->opaque);
    }
    value_reset(r);
    r->tentative = false;
    r->skipping = true;
}

/*
 * Charge BYTES to the budget, and count them in *ACCOUNT (the value's or
 * the token buffers'); if the budget refuses, fail the value (§7, §8).
 */
static bool charge(JsonReader *r, size_t bytes, size_t *account)
{
    const JsonBudget *full = NULL;

    if (!json_budget_charge(r->budget, bytes, &full)) {
        fail(r, "value needs more memory than the %s's budget of %zu bytes",
             full->name ? full->name : "reader", full->limit);
        return false;
    }
    *account += bytes;
    return true;
}

/*
 * Charge a new value that costs COST, with what adding it to the
 * innermost container costs (its key, its table's growth); false (the
 * value failed) if the budget refuses.  Before the value is made.
 */
static bool charge_value(JsonReader *r, size_t cost)
{
    if (!r->budget) {
        return true;
    }
    if (r->depth) {
        const Frame *f = &r->stack[r->depth - 1];

        cost += table_growth(f);
        if (f->is_object) {
            cost += heap_chunk(r->key->len + 1);
        }
    }
    return charge(r, cost, &r->value_charge);
}

/*
 * Charge the growth of the token buffers (the text of a string or number
 * being read); false (the value failed) if the budget refuses.
 */
static bool charge_buffers(JsonReader *r)
{
    size_t size = token_buffers_size(r);

    if (!r->budget || r->skipping || size <= r->buffer_charge) {
        return true;
    }
    return charge(r, size - r->buffer_charge, &r->buffer_charge);
}

static void deliver(JsonReader *r, json_object *value)
{
    size_t held = r->value_charge;

    r->value_charge = 0;
    r->root = NULL;
    value_reset(r);
    r->tentative = false;
    if (r->on_value) {
        r->on_value(value, held, r->opaque);
    } else {
        json_object_put(value);
        if (held) {
            json_budget_release(r->budget, held);
        }
    }
}

static bool expecting_value(JsonReader *r)
{
    if (r->depth == 0) {
        return true;
    }
    ParseState s = r->stack[r->depth - 1].state;
    return s == EXPECT_VALUE || s == EXPECT_VALUE_OR_END;
}

/* A complete value (scalar, or a container that opened): attach it. */
static void add_value(JsonReader *r, json_object *value)
{
    Frame *f;
    size_t predicted = 0, before = 0;

    if (r->depth == 0) {
        return;
    }
    f = &r->stack[r->depth - 1];
    if (r->budget) {
        predicted = table_growth(f);
        before = table_bytes(f);
    }
    if (f->is_object) {
        json_object_object_add_ex(f->container, r->key->str, value,
                                  JSON_C_OBJECT_ADD_KEY_IS_NEW);
    } else {
        json_object_array_add(f->container, value);
    }
    f->state = EXPECT_COMMA_OR_END;
    if (r->budget) {
        /* charge_value() charged PREDICTED; the table grew by GROWN. */
        size_t grown = table_bytes(f) - before;

        if (grown > predicted) {
            budget_add(r->budget, grown - predicted);
            r->value_charge += grown - predicted;
        } else if (grown < predicted) {
            json_budget_release(r->budget, predicted - grown);
            r->value_charge -= predicted - grown;
        }
    }
}

static void complete_scalar(JsonReader *r, json_object *value)
{
    r->lex = LEX_NONE;
    if (r->depth == 0) {
        deliver(r, value);
    } else {
        add_value(r, value);
    }
}

static void complete_number(JsonReader *r)
{
    const char *text = r->tok->str;
    bool negative = text[0] == '-';
    const char *digits = text + negative;
    json_object *value = NULL;

    if (r->num == NUM_ZERO || r->num == NUM_INT) {
        uint64_t mag = 0;
        bool overflow = false;

        for (const char *p = digits; *p; p++) {
            unsigned d = (unsigned)(*p - '0');
            if (mag > (UINT64_MAX - d) / 10) {
                overflow = true;
                break;
            }
            mag = mag * 10 + d;
        }
        if (!overflow) {
            if (!negative && mag <= INT64_MAX) {
                value = json_object_new_int64((int64_t)mag);
            } else if (!negative) {
                value = json_object_new_uint64(mag);
            } else if (mag <= (uint64_t)INT64_MAX + 1) {
                value = json_object_new_int64(
                    mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag);
            }
        }
    }
    if (!value) {
        if (!charge_value(r, COST_SCALAR + heap_chunk(r->tok->len + 1))) {
            return;
        }
        value = json_object_new_double_s(g_ascii_strtod(text, NULL), text);
    } else if (!charge_value(r, COST_SCALAR)) {
        json_object_put(value);
        return;
    }
    g_string_truncate(r->tok, 0);
    complete_scalar(r, value);
}

static void complete_string(JsonReader *r)
{
    r->lex = LEX_NONE;
    if (r->string_is_key) {
        Frame *f = &r->stack[r->depth - 1];
        g_autofree char *shown = NULL;

        if (memchr(r->tok->str, '\0', r->tok->len)) {
            shown = excerpt(r->tok->str, strlen(r->tok->str));
            fail(r, "object key '%s\\u0000...' contains U+0000", shown);
            return;
        }
        if (json_object_object_get_ex(f->container, r->tok->str, NULL)) {
            shown = excerpt(r->tok->str, r->tok->len);
            fail(r, "duplicate key '%s'", shown);
            return;
        }
        /* swap: the key buffer takes the text, tok the old key buffer */
        GString *tmp = r->key;
        r->key = r->tok;
        r->tok = tmp;
        g_string_truncate(r->tok, 0);
        f->state = EXPECT_COLON;
        return;
    }
    if (r->tok->len > INT_MAX) {
        fail(r, "string longer than %d bytes", INT_MAX);
        return;
    }
    if (!charge_value(r, heap_chunk(COST_STRING_HEAD + r->tok->len))) {
        return;
    }
    json_object *value =
        json_object_new_string_len(r->tok->str, (int)r->tok->len);
    g_string_truncate(r->tok, 0);
    complete_scalar(r, value);
}

static void open_container(JsonReader *r, bool is_object)
{
    json_object *container;
    Frame *f;

    if (r->depth == r->limits.max_depth) {
        fail(r, "nesting deeper than %zu levels", r->limits.max_depth);
        return;
    }
    if (r->depth == r->stack_size) {
        r->stack_size = MIN(MAX(r->stack_size * 2, 16), r->limits.max_depth);
        r->stack = g_renew(Frame, r->stack, r->stack_size);
    }
    if (!charge_value(r, is_object ? COST_OBJECT : COST_ARRAY)) {
        return;
    }
    container = is_object ? json_object_new_object() : json_object_new_array();
    if (r->depth == 0) {
        r->root = container;
    } else {
        add_value(r, container);
    }
    f = &r->stack[r->depth++];
    f->container = container;
    f->is_object = is_object;
    f->state = is_object ? EXPECT_KEY_OR_END : EXPECT_VALUE_OR_END;
}

static void close_container(JsonReader *r)
{
    r->depth--;
    if (r->depth == 0) {
        deliver(r, r->root);
    } else {
        r->stack[r->depth - 1].state = EXPECT_COMMA_OR_END;
    }
}

static const char *expectation(JsonReader *r)
{
    if (r->depth == 0) {
        return "a value";
    }
    switch (r->stack[r->depth - 1].state) {
    case EXPECT_VALUE_OR_END:
        return "a value or ']'";
    case EXPECT_VALUE:
        return "a value";
    case EXPECT_COMMA_OR_END:
        return r->stack[r->depth - 1].is_object ? "',' or '}'" : "',' or ']'";
    case EXPECT_KEY_OR_END:
        return "a key or '}'";
    case EXPECT_KEY:
        return "a key";
    case EXPECT_COLON:
        return "':'";
    }
    return "?";
}

/* The first byte of a token (r->lex == LEX_NONE, C not whitespace). */
static void start_token(JsonReader *r, unsigned char c)
{
    Frame *f = r->depth ? &r->stack[r->depth - 1] : NULL;
    char buf[16];

    if (++r->value_tokens > r->limits.max_tokens) {
        fail(r, "more than %zu tokens in one value", r->limits.max_tokens);
        return;
    }
    switch (c) {
    case '{':
    case '[':
        if (!expecting_value(r)) {
            break;
        }
        open_container(r, c == '{');
        return;
    case '}':
        if (f && f->is_object
            && (f->state == EXPECT_KEY_OR_END
                || f->state == EXPECT_COMMA_OR_END)) {
            close_container(r);
            return;
        }
        break;
    case ']':
        if (f && !f->is_object
            && (f->state == EXPECT_VALUE_OR_END
                || f->state == EXPECT_COMMA_OR_END)) {
            close_container(r);
            return;
        }
        break;
    case ',':
        if (f && f->state == EXPECT_COMMA_OR_END) {
            f->state = f->is_object ? EXPECT_KEY : EXPECT_VALUE;
            return;
        }
        break;
    case ':':
        if (f && f->state == EXPECT_COLON) {
            f->state = EXPECT_VALUE;
            return;
        }
        break;
    case '"':
    case '\'':
        if (f && (f->state == EXPECT_KEY_OR_END || f->state == EXPECT_KEY)) {
            r->string_is_key = true;
        } else if (expecting_value(r)) {
            r->string_is_key = false;
        } else {
            fail(r, "unexpected string (expecting %s)", expectation(r));
            return;
        }
        r->lex = LEX_STRING;
        r->str = STR_PLAIN;
        r->quote = (char)c;
        return;
    case 't':
    case 'f':
    case 'n':
        if (!expecting_value(r)) {
            fail(r, "unexpected literal (expecting %s)", expectation(r));
            return;
        }
        r->lex = LEX_LITERAL;
        r->literal = c == 't' ? "true" : c == 'f' ? "false" : "null";
        r->literal_pos = 1;
        return;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        if (!expecting_value(r)) {
            fail(r, "unexpected number (expecting %s)", expectation(r));
            return;
        }
        r->lex = LEX_NUMBER;
        r->num = c == '-' ? NUM_MINUS : c == '0' ? NUM_ZERO : NUM_INT;
        g_string_append_c(r->tok, (char)c);
        return;
    default:
        fail(r, "unexpected %s", describe_byte(c, buf));
        return;
    }
    fail(r, "unexpected '%c' (expecting %s)", c, expectation(r));
}

static void literal_byte(JsonReader *r, unsigned char c)
{
    char buf[16];

    if ((char)c == r->literal[r->literal_pos]) {
        if (r->literal[++r->literal_pos] == '\0') {
            json_object *value = NULL;
            if (!charge_value(r, r->literal[0] == 'n' ? 0 : COST_SCALAR)) {
                return;
            }
            if (r->literal[0] == 't') {
                value = json_object_new_boolean(1);
            } else if (r->literal[0] == 'f') {
                value = json_object_new_boolean(0);
            }
            complete_scalar(r, value);
        }
        return;
    }
    fail(r, "bad literal '%.*s' followed by %s", (int)r->literal_pos,
         r->literal, describe_byte(c, buf));
}

/* Can C continue the number?  Errors wait for number_byte(). */
static bool number_continues(JsonReader *r, unsigned char c)
{
    switch (r->num) {
    case NUM_MINUS:
    case NUM_DOT:
    case NUM_EXP:
    case NUM_EXP_SIGN:
        return true; /* anything else than the right byte is an error */
    case NUM_ZERO:
        return c == '.' || c == 'e' || c == 'E' || (c >= '0' && c <= '9');
    case NUM_INT:
        return c == '.' || c == 'e' || c == 'E' || (c >= '0' && c <= '9');
    case NUM_FRAC:
        return c == 'e' || c == 'E' || (c >= '0' && c <= '9');
    case NUM_EXP_DIGITS:
        return c >= '0' && c <= '9';
    case NUM_BAD:
        break;
    }
    return false;
}

static void number_byte(JsonReader *r, const unsigned char *bytes, size_t len,
                        size_t *i)
{
    unsigned char c = bytes[*i];
    bool digit = c >= '0' && c <= '9';
    NumState next;

    switch (r->num) {
    case NUM_MINUS:
        next = c == '0' ? NUM_ZERO : digit ? NUM_INT : NUM_BAD;
        break;
    case NUM_ZERO:
        next = c == '.' ? NUM_DOT : (c == 'e' || c == 'E') ? NUM_EXP : NUM_BAD;
        break;
    case NUM_INT:
        next = digit ? NUM_INT : c == '.' ? NUM_DOT : NUM_EXP;
        break;
    case NUM_DOT:
        next = digit ? NUM_FRAC : NUM_BAD;
        break;
    case NUM_FRAC:
        next = digit ? NUM_FRAC : NUM_EXP;
        break;
    case NUM_EXP:
        next = (c == '+' || c == '-') ? NUM_EXP_SIGN
            : digit                   ? NUM_EXP_DIGITS
                                      : NUM_BAD;
        break;
    case NUM_EXP_SIGN:
    case NUM_EXP_DIGITS:
        next = digit ? NUM_EXP_DIGITS : NUM_BAD;
        break;
    default:
        next = NUM_BAD;
    }
    if (next == NUM_BAD) {
        char buf[16];
        g_autofree char *shown = excerpt(r->tok->str, r->tok->len);
        if (digit || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
            fail(r, "bad number '%s%c'", shown, c);
        } else {
            fail(r, "bad number '%s' followed by %s", shown,
                 describe_byte(c, buf));
        }
        return;
    }
    r->num = next;
    if (next == NUM_INT || next == NUM_FRAC || next == NUM_EXP_DIGITS) {
        /* a run of digits, up to the size budget */
        size_t start = *i, end = start + 1;
        size_t budget = r->limits.max_bytes - r->value_bytes;
        size_t stop = len - start - 1 < budget ? len : start + 1 + budget;
        while (end < stop && bytes[end] >= '0' && bytes[end] <= '9') {
            end++;
        }
        g_string_append_len(r->tok, (const char *)bytes + start,
                            (gssize)(end - start));
        r->value_bytes += end - start - 1;
        *i = end - 1;
        return;
    }
    g_string_append_c(r->tok, (char)c);
}

static void code_point(JsonReader *r, uint32_t cp)
{
    if (is_noncharacter(cp)) {
        fail(r, "noncharacter U+%04X in string", cp);
        return;
    }
    g_string_append_unichar(r->tok, cp);
}

static void hex_byte(JsonReader *r, unsigned char c)
{
    unsigned v;

    if (c >= '0' && c <= '9') {
        v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
        v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
        v = c - 'A' + 10;
    } else {
        const char *digits = r->tok->str + r->tok->len - r->hex_digits;
        if (c > 0x20 && c < 0x7F) {
            fail(r, "bad escape '\\u%.*s%c'", (int)r->hex_digits, digits, c);
        } else {
            fail(r, "bad escape '\\u%.*s' followed by byte 0x%02X",
                 (int)r->hex_digits, digits, c);
        }
        return;
    }
    /* the digits so far sit at the end of tok for messages */
    g_string_append_c(r->tok, (char)c);
    r->hex_value = r->hex_value * 16 + v;
    if (++r->hex_digits < 4) {
        return;
    }
    g_string_truncate(r->tok, r->tok->len - 4);
    r->str = STR_PLAIN;
    uint32_t u = r->hex_value;
    if (r->high_surrogate) {
        uint32_t high = r->high_surrogate;
        r->high_surrogate = 0;
        if (u < 0xDC00 || u > 0xDFFF) {
            fail(r, "high surrogate '\\u%04X' followed by '\\u%04X'", high, u);
            return;
        }
        code_point(r, 0x10000 + ((high - 0xD800) << 10) + (u - 0xDC00));
    } else if (u >= 0xD800 && u <= 0xDBFF) {
        r->high_surrogate = u;
        r->str = STR_LOW_ESCAPE;
    } else if (u >= 0xDC00 && u <= 0xDFFF) {
        fail(r, "low surrogate '\\u%04X' without a high one", u);
    } else {
        code_point(r, u);
    }
}

/* The byte that the simple escape '\\C' stands for, 0 if none. */
static char simple_escape(unsigned char c)
{
    switch (c) {
    case '"':
        return '"';
    case '\'':
        return '\'';
    case '\\':
        return '\\';
    case '/':
        return '/';
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    }
    return 0;
}

static void escape_byte(JsonReader *r, unsigned char c)
{
    char out = simple_escape(c);

    if (c == 'u') {
        r->str = STR_HEX;
        r->hex_digits = 0;
        r->hex_value = 0;
        return;
    }
    if (!out) {
        if (c > 0x20 && c < 0x7F) {
            fail(r, "bad escape '\\%c'", c);
        } else {
            fail(r, "bad escape: '\\' followed by byte 0x%02X", c);
        }
        return;
    }
    g_string_append_c(r->tok, out);
    r->str = STR_PLAIN;
}

static void utf8_lead_byte(JsonReader *r, unsigned char c)
{
    unsigned need;
    unsigned char lo = 0x80, hi = 0xBF;

    if (c < 0xC0) {
        fail(r, "stray UTF-8 continuation byte 0x%02X in string", c);
        return;
    } else if (c < 0xC2) {
        fail(r, "overlong UTF-8 sequence (byte 0x%02X) in string", c);
        return;
    } else if (c < 0xE0) {
        need = 1;
    } else if (c < 0xF0) {
        need = 2;
        if (c == 0xE0) {
            lo = 0xA0;
        } else if (c == 0xED) {
            hi = 0x9F;
        }
    } else if (c < 0xF5) {
        need = 3;
        if (c == 0xF0) {
            lo = 0x90;
        } else if (c == 0xF4) {
            hi = 0x8F;
        }
    } else if (c < 0xF8) {
        fail(r, "UTF-8 sequence above U+10FFFF (byte 0x%02X) in string", c);
        return;
    } else if (c < 0xFE) {
        fail(r, "5- or 6-byte UTF-8 sequence (byte 0x%02X) in string", c);
        return;
    } else {
        fail(r, "invalid UTF-8 byte 0x%02X in string", c);
        return;
    }
    r->utf8_need = need;
    r->utf8_lead = c;
    r->utf8_lo = lo;
    r->utf8_hi = hi;
    r->utf8_cp = c & (0x3F >> need);
    r->str = STR_UTF8;
    g_string_append_c(r->tok, (char)c);
}

static void utf8_continuation_byte(JsonReader *r, unsigned char c)
{
    if (c < r->utf8_lo || c > r->utf8_hi) {
        if (c < 0x80 || c > 0xBF) {
            fail(r, "truncated UTF-8 sequence in string");
        } else if (r->utf8_lead == 0xE0 || r->utf8_lead == 0xF0) {
            fail(r, "overlong UTF-8 sequence in string");
        } else if (r->utf8_lead == 0xED) {
            fail(r, "UTF-8 encoded surrogate in string");
        } else {
            fail(r, "UTF-8 sequence above U+10FFFF in string");
        }
        return;
    }
    r->utf8_lo = 0x80;
    r->utf8_hi = 0xBF;
    r->utf8_cp = (r->utf8_cp << 6) | (c & 0x3F);
    g_string_append_c(r->tok, (char)c);
    if (--r->utf8_need == 0) {
        r->str = STR_PLAIN;
        if (is_noncharacter(r->utf8_cp)) {
            fail(r, "noncharacter U+%04X in string", r->utf8_cp);
        }
    }
}

/*
 * The length of the well-formed UTF-8 sequence of a character (not a
 * noncharacter) at P, when all of it is within AVAIL bytes; else 0.
 */
static size_t utf8_sequence(const unsigned char *p, size_t avail)
{
    size_t n = 0;
    int32_t cp = qmp_utf8_decode(p, avail, &n);

    return cp < 0 || is_noncharacter((uint32_t)cp) ? 0 : n;
}

/*
 * The fast path of a string: from BYTES[*I] (counted already) on, a run
 * of plain ASCII, complete well-formed UTF-8 sequences and simple
 * escapes, up to the size budget.  Anything else is left to the byte at
 * a time states.  False when not even BYTES[*I] could be taken.
 */
static bool string_run(JsonReader *r, const unsigned char *bytes, size_t len,
                       size_t *i)
{
    size_t start = *i, end = start, run = start;
    size_t budget = r->limits.max_bytes - r->value_bytes + 1;
    size_t stop = len - start < budget ? len : start + budget;
    unsigned char quote = (unsigned char)r->quote;

    while (end < stop) {
        unsigned char d = bytes[end];
        if (d >= 0x20 && d < 0x80 && d != '\\' && d != quote) {
            end++;
        } else if (d >= 0x80) {
            size_t n = utf8_sequence(bytes + end, stop - end);
            if (!n) {
                break;
            }
            end += n;
        } else if (d == '\\' && end + 1 < stop
                   && simple_escape(bytes[end + 1])) {
            g_string_append_len(r->tok, (const char *)bytes + run,
                                (gssize)(end - run));
            g_string_append_c(r->tok, simple_escape(bytes[end + 1]));
            end += 2;
            run = end;
        } else {
            break;
        }
    }
    if (end == start) {
        return false;
    }
    g_string_append_len(r->tok, (const char *)bytes + run, (gssize)(end - run));
    r->value_bytes += end - start - 1;
    *i = end - 1;
    return true;
}

/*
 * Bytes of a string from BYTES[*I] on; the first is counted already.
 * Consumes a run of plain bytes at once, within the size limit.
 */
static void string_bytes(JsonReader *r, const unsigned char *bytes, size_t len,
                         size_t *i)
{
    unsigned char c = bytes[*i];

    switch (r->str) {
    case STR_PLAIN:
        if (c == (unsigned char)r->quote) {
            complete_string(r);
        } else if (c == '\\') {
            r->str = STR_ESCAPE;
        } else if (c < 0x20) {
            fail(r, "control character 0x%02X in string", c);
        } else if (!string_run(r, bytes, len, i)) {
            utf8_lead_byte(r, c); /* an error, or a sequence split */
        }
        return;
    case STR_ESCAPE:
        escape_byte(r, c);
        return;
    case STR_HEX:
        hex_byte(r, c);
        return;
    case STR_UTF8:
        utf8_continuation_byte(r, c);
        return;
    case STR_LOW_ESCAPE:
    case STR_LOW_U:
        if (c == (r->str == STR_LOW_ESCAPE ? '\\' : 'u')) {
            if (r->str == STR_LOW_ESCAPE) {
                r->str = STR_LOW_U;
            } else {
                r->str = STR_HEX;
                r->hex_digits = 0;
                r->hex_value = 0;
            }
            return;
        }
        fail(r, "high surrogate '\\u%04X' not followed by a low one",
             r->high_surrogate);
        r->high_surrogate = 0;
        return;
    }
}

/* One byte while reading a value (not skipping). */
static void read_byte(JsonReader *r, const unsigned char *bytes, size_t len,
                      size_t *i)
{
    unsigned char c = bytes[*i];

    if (r->lex == LEX_STRING) {
        if (++r->value_bytes > r->limits.max_bytes) {
            fail(r, "value larger than %zu bytes", r->limits.max_bytes);
            return;
        }
        string_bytes(r, bytes, len, i);
        charge_buffers(r);
        return;
    }
    if (r->lex == LEX_NUMBER && !number_continues(r, c)) {
        complete_number(r);
        if (r->skipping) {
            return; /* refused by the budget */
        }
    }
    if (r->lex == LEX_NONE && r->depth == 0 && !r->root && is_ws(c)) {
        return; /* between top-level values */
    }
    if (++r->value_bytes > r->limits.max_bytes) {
        fail(r, "value larger than %zu bytes", r->limits.max_bytes);
        return;
    }
    switch (r->lex) {
    case LEX_NONE:
        if (!is_ws(c)) {
            start_token(r, c);
        }
        return;
    case LEX_LITERAL:
        literal_byte(r, c);
        return;
    case LEX_NUMBER:
        number_byte(r, bytes, len, i);
        charge_buffers(r);
        return;
    case LEX_STRING:
        string_bytes(r, bytes, len, i);
        charge_buffers(r);
        return;
    }
}

JsonReader *json_reader_new(const JsonReaderLimits *limits,
                            JsonReaderValueFunc on_value,
                            JsonReaderErrorFunc on_error, void *opaque)
{
    JsonReader *r = g_new0(JsonReader, 1);

    if (limits) {
        r->limits = *limits;
    }
    if (!r->limits.max_depth) {
        r->limits.max_depth = JSON_READER_DEFAULT_MAX_DEPTH;
    }
    if (!r->limits.max_bytes) {
        r->limits.max_bytes = JSON_READER_DEFAULT_MAX_BYTES;
    }
    if (!r->limits.max_tokens) {
        r->limits.max_tokens = JSON_READER_DEFAULT_MAX_TOKENS;
    }
    r->on_value = on_value;
    r->on_error = on_error;
    r->opaque = opaque;
    r->tok = g_string_sized_new(TOKEN_BUFFER_INITIAL);
    r->key = g_string_sized_new(TOKEN_BUFFER_INITIAL);
    r->buffer_initial = r->tok->allocated_len;
    return r;
}

void json_reader_set_budget(JsonReader *r, JsonBudget *budget)
{
    size_t held = r->value_charge + r->buffer_charge;

    if (r->budget && held) {
        json_budget_release(r->budget, held);
    }
    r->budget = budget;
    r->value_charge = 0;
    r->buffer_charge = budget ? token_buffers_size(r) : 0;
    if (budget) {
        budget_add(budget, r->buffer_charge);
    }
}

/* Stop skipping: the next byte starts a value or is between values. */
static void skip_end(JsonReader *r)
{
    r->skipping = false;
    r->skip_depth = 0;
    r->skip_quote = 0;
    r->skip_escape = false;
}

/*
 * A control byte other than TAB, CR and LF, or 0xFF: what a client sends
 * to make any pending input fail and resynchronise (§8/1).
 */
static bool is_resync_byte(unsigned char c)
{
    return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0xFF;
}

/*
 * Byte C while skipping.  Inside the broken value (skip_depth > 0) its
 * strings and brackets are followed, so that the rest of it is dropped
 * whole; at depth 0, '{' or '[' starts a tentative value.  CR or LF ends
 * skipping anywhere (§8: one error per bad line); a resync byte drops
 * what is left of the broken value.  True when C starts a tentative
 * value, which the caller reads.
 */
static bool skip_byte(JsonReader *r, unsigned char c)
{
    if (c == '\r' || c == '\n') {
        skip_end(r);
        return false;
    }
    if (is_resync_byte(c)) {
        r->skip_depth = 0;
        r->skip_quote = 0;
        r->skip_escape = false;
        return false;
    }
    if (r->skip_quote) {
        if (r->skip_escape) {
            r->skip_escape = false;
        } else if (c == '\\') {
            r->skip_escape = true;
        } else if (c == (unsigned char)r->skip_quote) {
            r->skip_quote = 0;
        }
        return false;
    }
    if (r->skip_depth == 0) {
        if (c == '{' || c == '[') {
            skip_end(r);
            r->tentative = true;
            return true;
        }
        return false;
    }
    if (c == '{' || c == '[') {
        r->skip_depth++;
    } else if (c == '}' || c == ']') {
        r->skip_depth--;
    } else if (c == '"' || c == '\'') {
        r->skip_quote = (char)c;
    }
    return false;
}

void json_reader_feed(JsonReader *r, const char *bytes, size_t len)
{
    const unsigned char *in = (const unsigned char *)bytes;

    for (size_t i = 0; i < len; i++) {
        size_t depth, start;
        char quote;
        bool closing;

        if (r->skipping) {
            if (skip_byte(r, in[i])) {
                read_byte(r, in, len, &i);
            }
            continue;
        }
        depth = r->depth;
        quote = r->lex == LEX_STRING ? r->quote : 0;
        /* the byte at I would close the string (not an escaped quote) */
        closing = quote && r->str == STR_PLAIN && in[i] == (unsigned char)quote;
        start = i;
        read_byte(r, in, len, &i);
        if (!r->skipping) {
            continue;
        }
        /*
         * The byte at I broke the value, which had DEPTH brackets open:
         * skip the rest of it from there.  An error inside a string
         * (not at its closing quote: a run of text that ended with an
         * escaped quote is inside) skips the rest of the string first;
         * the offending byte itself counts as skipped input.
         */
        closing = closing && i == start;
        r->skip_depth = is_resync_byte(in[i]) ? 0 : depth;
        if (quote && !closing && !is_resync_byte(in[i])) {
            r->skip_quote = quote;
            if (in[i] == '\r' || in[i] == '\n') {
                skip_end(r);
            }
            continue;
        }
        if (quote) {
            continue; /* a key refused at its closing quote */
        }
        if (skip_byte(r, in[i])) {
            read_byte(r, in, len, &i);
        }
    }
}

void json_reader_end(JsonReader *r)
{
    size_t freed;

    if (!r->skipping && r->lex == LEX_NUMBER && r->depth == 0
        && (r->num == NUM_ZERO || r->num == NUM_INT || r->num == NUM_FRAC
            || r->num == NUM_EXP_DIGITS)) {
        complete_number(r);
    }
    value_reset(r);
    skip_end(r);
    r->tentative = false;
    /* Ready again as a new reader: no grown buffers, nor their charge. */
    freed = token_buffers_reset(r, 0);
    if (freed) {
        json_budget_release(r->budget, freed);
    }
}

size_t json_reader_depth(const JsonReader *r)
{
    return r->depth;
}

void json_reader_free(JsonReader *r)
{
    if (!r) {
        return;
    }
    json_object_put(r->root);
    g_string_free(r->tok, TRUE);
    g_string_free(r->key, TRUE);
    g_free(r->stack);
    if (r->budget && r->value_charge + r->buffer_charge) {
        json_budget_release(r->budget, r->value_charge + r->buffer_charge);
    }
    g_free(r);
}
