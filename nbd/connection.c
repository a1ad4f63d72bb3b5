/* SPDX-License-Identifier: MIT */
/*
 * One NBD client, in the server's thread: the fixed newstyle handshake,
 * then requests read, checked, handed to the worker pool, and their
 * replies queued and written as the socket takes them
 * (docs/spec/data-path.md §1).
 *
 * Flow control: a connection stops reading while it has
 * NBD_MAX_IN_FLIGHT requests (or NBD_MAX_IN_FLIGHT_BYTES of data) in
 * flight, or NBD_MAX_OUTPUT bytes of replies the client has not read; so
 * what one client can make the server hold is bounded.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "nbd-internal.h"

typedef enum ConnState {
    CONN_CLIENT_FLAGS, /* 4 bytes of client flags */
    CONN_OPT_HEADER,   /* IHAVEOPT, option, length */
    CONN_OPT_DATA,     /* the option's data */
    CONN_OPT_SKIP,     /* an option's data too large to keep */
    CONN_REQ_HEADER,   /* a request header */
    CONN_REQ_PAYLOAD,  /* a write's data */
    CONN_REQ_SKIP,     /* a refused write's data, discarded */
    CONN_DRAINING,     /* after DISC: finish what is in flight, close */
} ConnState;

/* One reply waiting to be written: a header and borrowed data. */
typedef struct OutItem {
    uint8_t head[64];
    size_t head_len;
    const uint8_t *data; /* owned by REQ, or NULL */
    size_t data_len;
    size_t done;     /* bytes of head, then data, written */
    NbdRequest *req; /* freed once written, or NULL */
} OutItem;

/* Polls the connection's socket for what it waits for. */
typedef struct ConnSource {
    GSource source;
    NbdConn *conn;
    gpointer tag;
} ConnSource;

struct NbdConn {
    unsigned refcnt; /* itself while open, and each request */
    NbdServer *srv;
    GSocket *socket;
    int fd;
    ConnSource *source;
    GSource *deadline; /* the end of the handshake, or NULL */
    GList *link;       /* in srv->conns while open */
    bool closed;
    bool replied; /* in srv->replied */

    ConnState state;
    bool no_zeroes;
    bool structured;
    NbdExport *exp;       /* after GO or EXPORT_NAME (a reference) */
    uint64_t size;        /* the export's size */
    bool meta_allocation; /* base:allocation selected */
    char *meta_export;    /* the export SET_META_CONTEXT named */

    /* Input: WANT bytes into DST (NULL: discarded), GOT so far. */
    uint8_t head[NBD_REQUEST_SIZE];
    uint8_t *dst;
    size_t want;
    size_t got;
    uint64_t skip; /* bytes still to discard */
    uint8_t *scratch;
    uint8_t *rbuf; /* read ahead: bytes [RPOS, RLEN) not used yet */
    size_t rpos;
    size_t rlen;
    uint32_t opt;
    uint32_t opt_len;
    uint8_t *opt_data;
    NbdRequest *cur; /* the request whose data is being read */

    unsigned in_flight;
    size_t in_flight_bytes;
    GQueue out; /* OutItem */
    size_t out_bytes;
};

#define SCRATCH_SIZE 65536
#define READ_AHEAD 65536
/* Buffers one sendmsg() gathers (two per reply). */
#define FLUSH_IOV 64

static void conn_unref(NbdConn *conn);
static void conn_update(NbdConn *conn);

/* ---- big-endian helpers ---- */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* ---- requests ---- */

static void request_free(NbdRequest *req)
{
    NbdConn *conn = req->conn;

    g_free(req->buf);
    if (req->extents) {
        g_array_unref(req->extents);
    }
    g_free(req->message);
    g_free(req);
    conn_unref(conn);
}

/* The bytes of data REQ keeps while in flight. */
static size_t request_bytes(const NbdRequest *req)
{
    return req->type == NBD_CMD_READ || req->type == NBD_CMD_WRITE ? req->len
                                                                   : 0;
}

/* ---- output ---- */

static OutItem *out_item(NbdConn *conn, NbdRequest *req)
{
    OutItem *item = g_new0(OutItem, 1);

    item->req = req;
    g_queue_push_tail(&conn->out, item);
    return item;
}

static void out_item_free(OutItem *item)
{
    if (item->req) {
        request_free(item->req);
    }
    g_free(item);
}

/* Queue LEN bytes of P (copied). */
static void out_bytes(NbdConn *conn, const void *p, size_t len)
{
    while (len > 0) {
        OutItem *item = out_item(conn, NULL);
        size_t n = MIN(len, sizeof(item->head));

        memcpy(item->head, p, n);
        item->head_len = n;
        conn->out_bytes += n;
        p = (const uint8_t *)p + n;
        len -= n;
    }
}

/* Write what the socket takes; false when the connection broke. */
static bool conn_flush(NbdConn *conn)
{
    while (!g_queue_is_empty(&conn->out)) {
        struct iovec iov[FLUSH_IOV];
        int n = 0;
        ssize_t r;

        /* As many queued replies as fit, in one system call. */
        for (GList *l = conn->out.head; l && n + 2 <= FLUSH_IOV; l = l->next) {
            OutItem *item = l->data;
            size_t data_done =
                item->done > item->head_len ? item->done - item->head_len : 0;

            if (item->done < item->head_len) {
                iov[n].iov_base = item->head + item->done;
                iov[n++].iov_len = item->head_len - item->done;
            }
            if (item->data_len > data_done) {
                iov[n].iov_base = (void *)(item->data + data_done);
                iov[n++].iov_len = item->data_len - data_done;
            }
        }
        do {
            struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)n };

            r = sendmsg(conn->fd, &msg, MSG_NOSIGNAL);
        } while (r < 0 && errno == EINTR);
        if (r < 0) {
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        conn->out_bytes -= (size_t)r;
        /* Retire what was written. */
        while (r > 0) {
            OutItem *item = g_queue_peek_head(&conn->out);
            size_t left = item->head_len + item->data_len - item->done;

            if ((size_t)r < left) {
                item->done += (size_t)r;
                return true; /* the socket is full */
            }
            r -= (ssize_t)left;
            g_queue_pop_head(&conn->out);
            out_item_free(item);
        }
    }
    return true;
}

/* ---- handshake ---- */

static void expect(NbdConn *conn, ConnState state, void *dst, size_t want)
{
    conn->state = state;
    conn->dst = dst;
    conn->want = want;
    conn->got = 0;
}

static void opt_reply(NbdConn *conn, uint32_t type, const void *data,
                      size_t len)
{
    uint8_t head[20];

    put64(head, NBD_REP_MAGIC);
    put32(head + 8, conn->opt);
    put32(head + 12, type);
    put32(head + 16, (uint32_t)len);
    out_bytes(conn, head, sizeof(head));
    out_bytes(conn, data, len);
}

/* An error reply with a message for people. */
static void opt_error(NbdConn *conn, uint32_t type, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);

static void opt_error(NbdConn *conn, uint32_t type, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *text = NULL;

    va_start(ap, fmt);
    text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    opt_reply(conn, type, text, strlen(text));
}

static uint16_t transmission_flags(const NbdExport *exp)
{
    uint16_t flags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH
        | NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES
        | NBD_FLAG_SEND_DF | NBD_FLAG_CAN_MULTI_CONN | NBD_FLAG_SEND_CACHE
        | NBD_FLAG_SEND_FAST_ZERO;

    if (!exp->writable) {
        flags |= NBD_FLAG_READ_ONLY;
    }
    return flags;
}

/* Enter transmission on EXP (a reference, now the connection's). */
static void conn_go(NbdConn *conn, NbdExport *exp)
{
    conn->exp = exp;
    conn->size = exp->size;
    g_atomic_int_inc(&exp->clients);
    if (conn->deadline) {
        g_source_destroy(conn->deadline);
        g_source_unref(conn->deadline);
        conn->deadline = NULL;
    }
    if (conn->meta_export && strcmp(conn->meta_export, exp->name) != 0) {
        conn->meta_allocation = false;
    }
    expect(conn, CONN_REQ_HEADER, conn->head, NBD_REQUEST_SIZE);
}

static void opt_export_name(NbdConn *conn)
{
    NbdExport *exp =
        nbd_export_lookup(conn->srv, (char *)conn->opt_data, conn->opt_len);
    uint8_t reply[10 + 124] = { 0 };

    if (!exp) {
        /* The protocol has no error reply here: close. */
        nbd_conn_close(conn);
        return;
    }
    put64(reply, exp->size);
    put16(reply + 8, transmission_flags(exp));
    out_bytes(conn, reply, conn->no_zeroes ? 10 : sizeof(reply));
    conn_go(conn, exp);
}

static void list_one(NbdExport *exp, void *opaque)
{
    NbdConn *conn = opaque;
    size_t name_len = strlen(exp->name);
    size_t desc_len = exp->description ? strlen(exp->description) : 0;
    g_autofree uint8_t *data = g_malloc(4 + name_len + desc_len);

    put32(data, (uint32_t)name_len);
    memcpy(data + 4, exp->name, name_len);
    if (desc_len) {
        memcpy(data + 4 + name_len, exp->description, desc_len);
    }
    opt_reply(conn, NBD_REP_SERVER, data, 4 + name_len + desc_len);
}

static void opt_list(NbdConn *conn)
{
    if (conn->opt_len != 0) {
        opt_error(conn, NBD_REP_ERR_INVALID, "LIST takes no data");
        return;
    }
    nbd_export_foreach(conn->srv, list_one, conn);
    opt_reply(conn, NBD_REP_ACK, NULL, 0);
}

static void info_reply(NbdConn *conn, uint16_t type, const void *data,
                       size_t len)
{
    g_autofree uint8_t *buf = g_malloc(2 + len);

    put16(buf, type);
    memcpy(buf + 2, data, len);
    opt_reply(conn, NBD_REP_INFO, buf, 2 + len);
}

/* The export NAME (a new reference), or NULL after an UNKNOWN reply. */
static NbdExport *opt_lookup(NbdConn *conn, const char *name, uint32_t len)
{
    NbdExport *exp = nbd_export_lookup(conn->srv, name, len);

    if (!exp) {
        opt_error(conn, NBD_REP_ERR_UNKNOWN, "export '%.*s' not present",
                  (int)MIN(len, 256u), name);
    }
    return exp;
}

static void opt_info_go(NbdConn *conn)
{
    const uint8_t *d = conn->opt_data;
    uint32_t len = conn->opt_len;
    uint32_t name_len;
    uint16_t n_req;
    NbdExport *exp;
    uint8_t buf[12];

    name_len = len >= 6 ? get32(d) : 0;
    n_req = len >= 6 && name_len <= len - 6 ? get16(d + 4 + name_len) : 0;
    if (len < 6 || name_len > len - 6 || 6 + name_len + 2u * n_req != len) {
        opt_error(conn, NBD_REP_ERR_INVALID, "malformed %s request",
                  conn->opt == NBD_OPT_GO ? "GO" : "INFO");
        return;
    }
    exp = opt_lookup(conn, (const char *)d + 4, name_len);
    if (!exp) {
        return;
    }
    put64(buf, exp->size);
    put16(buf + 8, transmission_flags(exp));
    info_reply(conn, NBD_INFO_EXPORT, buf, 10);
    for (uint16_t i = 0; i < n_req; i++) {
        uint16_t type = get16(d + 6 + name_len + 2u * i);

        if (type == NBD_INFO_NAME) {
            info_reply(conn, NBD_INFO_NAME, exp->name, strlen(exp->name));
        } else if (type == NBD_INFO_DESCRIPTION && exp->description) {
            info_reply(conn, NBD_INFO_DESCRIPTION, exp->description,
                       strlen(exp->description));
        }
    }
    put32(buf, 1);
    put32(buf + 4, NBD_PREFERRED_BLOCK);
    put32(buf + 8, NBD_MAX_REQUEST);
    info_reply(conn, NBD_INFO_BLOCK_SIZE, buf, 12);
    opt_reply(conn, NBD_REP_ACK, NULL, 0);
    if (conn->opt == NBD_OPT_GO) {
        conn_go(conn, exp);
    } else {
        nbd_export_unref(exp);
    }
}

/* LIST_META_CONTEXT and SET_META_CONTEXT, for base:allocation. */
static void opt_meta_context(NbdConn *conn)
{
    bool set = conn->opt == NBD_OPT_SET_META_CONTEXT;
    const uint8_t *d = conn->opt_data;
    uint32_t len = conn->opt_len, pos, name_len, n_queries;
    const size_t base_len = strlen(NBD_META_BASE_ALLOCATION);
    bool selected = false;
    NbdExport *exp;
    uint8_t reply[4 + 16];

    if (set && !conn->structured) {
        opt_error(conn, NBD_REP_ERR_INVALID,
                  "SET_META_CONTEXT needs structured replies first");
        return;
    }
    if (len < 8 || (name_len = get32(d)) > len - 8) {
        opt_error(conn, NBD_REP_ERR_INVALID, "malformed meta context request");
        return;
    }
    n_queries = get32(d + 4 + name_len);
    /* Check the queries' framing before answering any of them. */
    pos = 8 + name_len;
    for (uint32_t i = 0; i < n_queries; i++) {
        uint32_t qlen;

        if (len - pos < 4 || (qlen = get32(d + pos)) > len - pos - 4) {
            opt_error(conn, NBD_REP_ERR_INVALID,
                      "malformed meta context query");
            return;
        }
        pos += 4 + qlen;
    }
    if (pos != len) {
        opt_error(conn, NBD_REP_ERR_INVALID,
                  "meta context request longer than its queries");
        return;
    }
    exp = opt_lookup(conn, (const char *)d + 4, name_len);
    if (!exp) {
        return;
    }
    nbd_export_unref(exp);
    put32(reply, 0);
    memcpy(reply + 4, NBD_META_BASE_ALLOCATION, base_len);
    pos = 8 + name_len;
    for (uint32_t i = 0; i < n_queries || (!set && n_queries == 0 && i == 0);
         i++) {
        const char *q = NULL;
        uint32_t qlen = 0;
        bool match;

        if (n_queries) {
            qlen = get32(d + pos);
            q = (const char *)d + pos + 4;
            pos += 4 + qlen;
        }
        match = n_queries == 0
            || (qlen == base_len
                && memcmp(q, NBD_META_BASE_ALLOCATION, qlen) == 0)
            || (!set && qlen == 5 && memcmp(q, "base:", 5) == 0);
        if (match && !selected) {
            selected = true;
            opt_reply(conn, NBD_REP_META_CONTEXT, reply, 4 + base_len);
        }
    }
    if (set) {
        conn->meta_allocation = selected;
        g_free(conn->meta_export);
        conn->meta_export = g_strndup((const char *)d + 4, name_len);
    }
    opt_reply(conn, NBD_REP_ACK, NULL, 0);
}

/* The data of option CONN->opt is in CONN->opt_data. */
static void option_done(NbdConn *conn)
{
    expect(conn, CONN_OPT_HEADER, conn->head, NBD_OPTION_HEADER_SIZE);
    switch (conn->opt) {
    case NBD_OPT_EXPORT_NAME:
        opt_export_name(conn);
        break;
    case NBD_OPT_ABORT:
        opt_reply(conn, NBD_REP_ACK, NULL, 0);
        conn->state = CONN_DRAINING;
        break;
    case NBD_OPT_LIST:
        opt_list(conn);
        break;
    case NBD_OPT_STARTTLS:
        opt_error(conn, NBD_REP_ERR_POLICY, "TLS is not supported");
        break;
    case NBD_OPT_INFO:
    case NBD_OPT_GO:
        opt_info_go(conn);
        break;
    case NBD_OPT_STRUCTURED_REPLY:
        if (conn->opt_len) {
            opt_error(conn, NBD_REP_ERR_INVALID,
                      "STRUCTURED_REPLY takes no data");
            break;
        }
        conn->structured = true;
        opt_reply(conn, NBD_REP_ACK, NULL, 0);
        break;
    case NBD_OPT_LIST_META_CONTEXT:
    case NBD_OPT_SET_META_CONTEXT:
        opt_meta_context(conn);
        break;
    default:
        opt_error(conn, NBD_REP_ERR_UNSUP, "option %u is not supported",
                  conn->opt);
        break;
    }
    g_clear_pointer(&conn->opt_data, g_free);
}

static void option_header_done(NbdConn *conn)
{
    conn->opt = get32(conn->head + 8);
    conn->opt_len = get32(conn->head + 12);
    if (get64(conn->head) != NBD_OPTS_MAGIC) {
        nbd_conn_close(conn);
        return;
    }
    if (conn->opt_len > NBD_MAX_OPTION) {
        if (conn->opt == NBD_OPT_EXPORT_NAME) {
            nbd_conn_close(conn);
            return;
        }
        conn->skip = conn->opt_len;
        expect(conn, CONN_OPT_SKIP, NULL, 0);
        return;
    }
    conn->opt_data = g_malloc(conn->opt_len + 1);
    expect(conn, CONN_OPT_DATA, conn->opt_data, conn->opt_len);
}

/* ---- transmission ---- */

/*
 * The reply to REQ as the protocol wants it; REQ goes with the reply
 * (freed once written).
 */
static void queue_reply(NbdConn *conn, NbdRequest *req)
{
    OutItem *item = out_item(conn, req);
    uint8_t *h = item->head;
    bool chunked = conn->structured
        && (req->type == NBD_CMD_READ || req->type == NBD_CMD_BLOCK_STATUS);

    if (!chunked) {
        put32(h, NBD_SIMPLE_REPLY_MAGIC);
        put32(h + 4, req->error);
        put64(h + 8, req->cookie);
        item->head_len = 16;
        if (!req->error && req->type == NBD_CMD_READ) {
            item->data = req->buf;
            item->data_len = req->len;
        }
    } else {
        uint16_t type;
        uint32_t len;

        put32(h, NBD_STRUCTURED_REPLY_MAGIC);
        put16(h + 4, NBD_REPLY_FLAG_DONE);
        put64(h + 8, req->cookie);
        if (req->error) {
            size_t mlen = req->message ? MIN(strlen(req->message), 32u) : 0;

            type = NBD_REPLY_TYPE_ERROR;
            len = 6 + (uint32_t)mlen;
            put32(h + 20, req->error);
            put16(h + 24, (uint16_t)mlen);
            memcpy(h + 26, req->message ? req->message : "", mlen);
            item->head_len = 20 + len;
        } else if (req->type == NBD_CMD_READ && req->len == 0) {
            type = NBD_REPLY_TYPE_NONE;
            len = 0;
            item->head_len = 20;
        } else if (req->type == NBD_CMD_READ) {
            type = NBD_REPLY_TYPE_OFFSET_DATA;
            len = 8 + req->len;
            put64(h + 20, req->offset);
            item->head_len = 28;
            item->data = req->buf;
            item->data_len = req->len;
        } else {
            type = NBD_REPLY_TYPE_BLOCK_STATUS;
            len = 4 + 4 * req->extents->len;
            put32(h + 20, 0); /* the context id of base:allocation */
            item->head_len = 24;
            item->data = (const uint8_t *)req->extents->data;
            item->data_len = 4 * req->extents->len;
        }
        put16(h + 6, type);
        put32(h + 16, len);
    }
    conn->out_bytes += item->head_len + item->data_len;
}

/* An error reply to REQ without any I/O. */
static void reply_error(NbdConn *conn, NbdRequest *req, uint32_t error,
                        const char *message)
{
    req->error = error;
    req->message = g_strdup(message);
    queue_reply(conn, req);
}

/* The NBD error for REQ before any I/O, or 0 if it is to be done. */
static uint32_t request_check(NbdConn *conn, NbdRequest *req, const char **why)
{
    uint16_t allowed = NBD_CMD_FLAG_FUA;
    uint64_t end = req->offset + req->len;
    bool in_range = end >= req->offset && end <= conn->size;

    switch (req->type) {
    case NBD_CMD_READ:
        allowed |= NBD_CMD_FLAG_DF;
        break;
    case NBD_CMD_WRITE_ZEROES:
        allowed |= NBD_CMD_FLAG_NO_HOLE | NBD_CMD_FLAG_FAST_ZERO;
        break;
    case NBD_CMD_BLOCK_STATUS:
        allowed |= NBD_CMD_FLAG_REQ_ONE;
        break;
    case NBD_CMD_WRITE:
    case NBD_CMD_FLUSH:
    case NBD_CMD_TRIM:
    case NBD_CMD_CACHE:
        break;
    default:
        *why = "unknown command";
        return NBD_EINVAL;
    }
    if (req->flags & ~allowed) {
        *why = "flag not valid for this command";
        return NBD_EINVAL;
    }
    if ((req->flags & NBD_CMD_FLAG_DF) && !conn->structured) {
        *why = "DF without structured replies";
        return NBD_EINVAL;
    }
    switch (req->type) {
    case NBD_CMD_READ:
        if (req->len > NBD_MAX_REQUEST) {
            *why = "request too large";
            return req->flags & NBD_CMD_FLAG_DF ? NBD_EOVERFLOW : NBD_EINVAL;
        }
        break;
    case NBD_CMD_WRITE:
        if (req->len > NBD_MAX_REQUEST) {
            *why = "request too large";
            return NBD_EINVAL;
        }
        break;
    case NBD_CMD_BLOCK_STATUS:
        if (!conn->structured || !conn->meta_allocation) {
            *why = "no meta context negotiated";
            return NBD_EINVAL;
        }
        if (req->len == 0) {
            *why = "zero length";
            return NBD_EINVAL;
        }
        break;
    }
    switch (req->type) {
    case NBD_CMD_WRITE:
    case NBD_CMD_WRITE_ZEROES:
    case NBD_CMD_TRIM:
        if (!conn->exp->writable) {
            *why = "read-only export";
            return NBD_EPERM;
        }
        if (!in_range) {
            *why = "beyond the end";
            return req->type == NBD_CMD_TRIM ? NBD_EINVAL : NBD_ENOSPC;
        }
        if ((req->flags & NBD_CMD_FLAG_FAST_ZERO)
            && !block_device_can_zero_fast(conn->exp->dev)) {
            *why = "cannot zero fast";
            return NBD_ENOTSUP;
        }
        break;
    case NBD_CMD_READ:
    case NBD_CMD_CACHE:
    case NBD_CMD_BLOCK_STATUS:
        if (!in_range) {
            *why = "beyond the end";
            return NBD_EINVAL;
        }
        break;
    }
    return 0;
}

/* REQ, complete with its data, is checked and goes to a worker. */
static void request_dispatch(NbdConn *conn, NbdRequest *req)
{
    const char *why = NULL;
    uint32_t error = request_check(conn, req, &why);

    if (error) {
        reply_error(conn, req, error, why);
        return;
    }
    if (req->len == 0 && req->type != NBD_CMD_FLUSH) {
        queue_reply(conn, req); /* nothing to do */
        return;
    }
    conn->in_flight++;
    conn->in_flight_bytes += request_bytes(req);
    nbd_request_submit(req);
}

static void request_header_done(NbdConn *conn)
{
    const uint8_t *h = conn->head;
    NbdRequest *req;

    if (get32(h) != NBD_REQUEST_MAGIC) {
        g_debug("NBD: bad request magic 0x%08x: closing", get32(h));
        nbd_conn_close(conn);
        return;
    }
    req = g_new0(NbdRequest, 1);
    req->conn = conn;
    conn->refcnt++;
    req->exp = conn->exp;
    req->flags = get16(h + 4);
    req->type = get16(h + 6);
    req->cookie = get64(h + 8);
    req->offset = get64(h + 16);
    req->len = get32(h + 24);
    expect(conn, CONN_REQ_HEADER, conn->head, NBD_REQUEST_SIZE);
    switch (req->type) {
    case NBD_CMD_DISC:
        request_free(req);
        conn->state = CONN_DRAINING;
        return;
    case NBD_CMD_WRITE:
        if (req->len > NBD_MAX_REQUEST) {
            /* Read and drop the data, then refuse. */
            conn->cur = req;
            conn->skip = req->len;
            expect(conn, CONN_REQ_SKIP, NULL, 0);
            return;
        }
        if (req->len > 0) {
            req->buf = g_malloc(req->len);
            conn->cur = req;
            conn->in_flight_bytes += req->len; /* while it is read */
            expect(conn, CONN_REQ_PAYLOAD, req->buf, req->len);
            return;
        }
        break;
    }
    request_dispatch(conn, req);
}

/* WANT bytes arrived for CONN's state (or SKIP ran out). */
static void input_done(NbdConn *conn)
{
    NbdRequest *req;

    switch (conn->state) {
    case CONN_CLIENT_FLAGS: {
        uint32_t flags = get32(conn->head);

        if (flags
            & ~(uint32_t)(NBD_FLAG_C_FIXED_NEWSTYLE | NBD_FLAG_C_NO_ZEROES)) {
            nbd_conn_close(conn);
            return;
        }
        conn->no_zeroes = flags & NBD_FLAG_C_NO_ZEROES;
        expect(conn, CONN_OPT_HEADER, conn->head, NBD_OPTION_HEADER_SIZE);
        break;
    }
    case CONN_OPT_HEADER:
        option_header_done(conn);
        break;
    case CONN_OPT_DATA:
        option_done(conn);
        break;
    case CONN_OPT_SKIP:
        expect(conn, CONN_OPT_HEADER, conn->head, NBD_OPTION_HEADER_SIZE);
        opt_error(conn, NBD_REP_ERR_TOO_BIG, "option data over %u bytes",
                  NBD_MAX_OPTION);
        break;
    case CONN_REQ_HEADER:
        request_header_done(conn);
        break;
    case CONN_REQ_PAYLOAD:
        req = conn->cur;
        conn->cur = NULL;
        conn->in_flight_bytes -= req->len;
        expect(conn, CONN_REQ_HEADER, conn->head, NBD_REQUEST_SIZE);
        request_dispatch(conn, req);
        break;
    case CONN_REQ_SKIP:
        req = conn->cur;
        conn->cur = NULL;
        expect(conn, CONN_REQ_HEADER, conn->head, NBD_REQUEST_SIZE);
        request_dispatch(conn, req); /* refused as too large */
        break;
    case CONN_DRAINING:
        break;
    }
}

/* Whether CONN takes more input now. */
static bool conn_reading(const NbdConn *conn)
{
    return !conn->closed && conn->state != CONN_DRAINING
        && conn->in_flight < NBD_MAX_IN_FLIGHT
        && conn->in_flight_bytes < NBD_MAX_IN_FLIGHT_BYTES
        && conn->out_bytes < NBD_MAX_OUTPUT;
}

/* Read what there is; false when the connection ended. */
static bool conn_read(NbdConn *conn)
{
    /*
     * Small pieces (headers, small writes) come through a read-ahead
     * buffer, so that pipelined requests cost one recv() for many; large
     * ones go straight to their place.  A few recv() per turn, so that
     * one client cannot hold the thread.
     */
    int recvs = 0;

    while (conn_reading(conn)) {
        bool skipping =
            conn->state == CONN_OPT_SKIP || conn->state == CONN_REQ_SKIP;
        uint64_t need = skipping ? conn->skip : conn->want - conn->got;
        uint8_t *dst;
        size_t len;
        ssize_t n;

        if (need == 0) {
            input_done(conn);
            continue;
        }
        if (conn->rpos < conn->rlen) {
            len = (size_t)MIN(need, (uint64_t)(conn->rlen - conn->rpos));
            if (skipping) {
                conn->skip -= len;
            } else {
                memcpy(conn->dst + conn->got, conn->rbuf + conn->rpos, len);
                conn->got += len;
            }
            conn->rpos += len;
            continue;
        }
        if (recvs++ == 16) {
            break;
        }
        if (need >= READ_AHEAD / 2) {
            if (skipping && !conn->scratch) {
                conn->scratch = g_malloc(SCRATCH_SIZE);
            }
            dst = skipping ? conn->scratch : conn->dst + conn->got;
            len = (size_t)MIN(need, skipping ? (uint64_t)SCRATCH_SIZE : need);
        } else {
            if (!conn->rbuf) {
                conn->rbuf = g_malloc(READ_AHEAD);
            }
            dst = conn->rbuf;
            len = READ_AHEAD;
        }
        do {
            n = recv(conn->fd, dst, len, 0);
        } while (n < 0 && errno == EINTR);
        if (n == 0) {
            return false;
        }
        if (n < 0) {
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        if (dst == conn->rbuf) {
            conn->rpos = 0;
            conn->rlen = (size_t)n;
        } else if (skipping) {
            conn->skip -= (uint64_t)n;
        } else {
            conn->got += (size_t)n;
        }
    }
    return true;
}

/* ---- the connection's life ---- */

static void conn_unref(NbdConn *conn)
{
    NbdServer *srv = conn->srv;

    if (--conn->refcnt > 0) {
        return;
    }
    if (conn->exp) {
        g_atomic_int_add(&conn->exp->clients, -1);
        nbd_export_unref(conn->exp);
    }
    g_free(conn->meta_export);
    g_free(conn->scratch);
    g_free(conn->rbuf);
    g_free(conn->opt_data);
    g_object_unref(conn->socket);
    g_free(conn);
    g_mutex_lock(&srv->lock);
    if (g_atomic_int_dec_and_test(&srv->connections)) {
        g_cond_broadcast(&srv->idle);
    }
    g_mutex_unlock(&srv->lock);
}

static void destroy_source(GSource **source)
{
    if (*source) {
        g_source_destroy(*source);
        g_source_unref(*source);
        *source = NULL;
    }
}

void nbd_conn_close(NbdConn *conn)
{
    GSource *source = &conn->source->source;
    GList *l;

    if (conn->closed) {
        return;
    }
    conn->closed = true;
    destroy_source(&source);
    conn->source = NULL;
    destroy_source(&conn->deadline);
    g_socket_close(conn->socket, NULL);
    while (!g_queue_is_empty(&conn->out)) {
        out_item_free(g_queue_pop_head(&conn->out));
    }
    conn->out_bytes = 0;
    if (conn->cur) {
        NbdRequest *req = conn->cur;

        conn->cur = NULL;
        request_free(req);
    }
    /* Requests waiting for a drain to end go unanswered. */
    if (conn->exp) {
        l = conn->exp->parked.head;
        while (l) {
            GList *next = l->next;
            NbdRequest *req = l->data;

            if (req->conn == conn) {
                g_queue_delete_link(&conn->exp->parked, l);
                request_free(req);
            }
            l = next;
        }
    }
    g_queue_delete_link(&conn->srv->conns, conn->link);
    conn->link = NULL;
    conn_unref(conn);
}

NbdExport *nbd_conn_export(const NbdConn *conn)
{
    return conn->exp;
}

bool nbd_conn_client_gone(const NbdConn *conn)
{
    char byte;

    /* A peek that finds the end of the stream, with nothing read ahead. */
    return !conn->closed && conn->rpos == conn->rlen
        && recv(conn->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

/* After any progress: poll for what CONN waits for, or close it. */
static void conn_update(NbdConn *conn)
{
    GIOCondition events = 0;

    if (conn->closed) {
        return;
    }
    /*
     * Input read ahead while the connection was not reading (too much in
     * flight) will not make the socket poll readable: use it now.
     */
    if (conn_reading(conn) && conn->rpos < conn->rlen
        && (!conn_read(conn) || !conn_flush(conn))) {
        nbd_conn_close(conn);
        return;
    }
    if (conn->state == CONN_DRAINING && conn->in_flight == 0
        && g_queue_is_empty(&conn->out)) {
        nbd_conn_close(conn);
        return;
    }
    if (conn_reading(conn)) {
        events |= G_IO_IN;
    }
    if (!g_queue_is_empty(&conn->out)) {
        events |= G_IO_OUT;
    }
    g_source_modify_unix_fd(&conn->source->source, conn->source->tag, events);
}

static gboolean conn_source_dispatch(GSource *source, GSourceFunc fn,
                                     gpointer data)
{
    ConnSource *cs = (ConnSource *)source;
    NbdConn *conn = cs->conn;
    GIOCondition rev = g_source_query_unix_fd(source, cs->tag);
    bool ok = true;

    (void)fn;
    (void)data;
    conn->refcnt++;
    if (rev & G_IO_OUT) {
        ok = conn_flush(conn);
    }
    if (ok && (rev & (G_IO_IN | G_IO_HUP | G_IO_ERR)) && !conn->closed) {
        ok = conn_read(conn);
        /* Replies made while reading (errors, handshake) go out now. */
        ok = ok && conn_flush(conn);
    }
    if (!ok) {
        nbd_conn_close(conn);
    }
    conn_update(conn);
    /* Requests done at once while reading (nbd_request_submit()). */
    nbd_conn_send_replies(conn->srv);
    conn_unref(conn);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs conn_source_funcs = {
    .dispatch = conn_source_dispatch,
};

static gboolean deadline_cb(gpointer opaque)
{
    NbdConn *conn = opaque;

    g_debug("NBD: a client did not finish its handshake in %u s: closing",
            NBD_HANDSHAKE_SECONDS);
    g_source_unref(conn->deadline);
    conn->deadline = NULL;
    nbd_conn_close(conn);
    return G_SOURCE_REMOVE;
}

/* nbd: greet the client of CONN and start polling. */
static gboolean conn_start_in_thread(gpointer opaque)
{
    NbdConn *conn = opaque;
    uint8_t greeting[18];

    conn->link = g_list_alloc();
    conn->link->data = conn;
    g_queue_push_tail_link(&conn->srv->conns, conn->link);
    conn->source =
        (ConnSource *)g_source_new(&conn_source_funcs, sizeof(ConnSource));
    conn->source->conn = conn;
    conn->source->tag =
        g_source_add_unix_fd(&conn->source->source, conn->fd, G_IO_IN);
    g_source_attach(&conn->source->source, conn->srv->context);
    conn->deadline = g_timeout_source_new_seconds(NBD_HANDSHAKE_SECONDS);
    g_source_set_callback(conn->deadline, deadline_cb, conn, NULL);
    g_source_attach(conn->deadline, conn->srv->context);

    put64(greeting, NBD_MAGIC);
    put64(greeting + 8, NBD_OPTS_MAGIC);
    put16(greeting + 16, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
    out_bytes(conn, greeting, sizeof(greeting));
    expect(conn, CONN_CLIENT_FLAGS, conn->head, 4);
    if (!conn_flush(conn)) {
        nbd_conn_close(conn);
        return G_SOURCE_REMOVE;
    }
    conn_update(conn);
    return G_SOURCE_REMOVE;
}

void nbd_conn_start(NbdServer *srv, GSocket *socket)
{
    NbdConn *conn = g_new0(NbdConn, 1);
    GSource *source = g_idle_source_new();

    conn->refcnt = 1;
    conn->srv = srv;
    conn->socket = socket;
    conn->fd = g_socket_get_fd(socket);
    g_queue_init(&conn->out);
    g_atomic_int_inc(&srv->connections);
    g_source_set_callback(source, conn_start_in_thread, conn, NULL);
    g_source_attach(source, srv->context);
    g_source_unref(source);
}

void nbd_conn_complete(NbdRequest *req)
{
    NbdConn *conn = req->conn;

    conn->in_flight--;
    conn->in_flight_bytes -= request_bytes(req);
    if (conn->closed) {
        request_free(req);
        return;
    }
    queue_reply(conn, req);
    if (!conn->replied) {
        conn->replied = true;
        conn->refcnt++;
        g_ptr_array_add(conn->srv->replied, conn);
    }
}

void nbd_conn_send_replies(NbdServer *srv)
{
    for (guint i = 0; i < srv->replied->len; i++) {
        NbdConn *conn = srv->replied->pdata[i];

        conn->replied = false;
        if (!conn->closed && !conn_flush(conn)) {
            nbd_conn_close(conn);
        }
        conn_update(conn);
        conn_unref(conn);
    }
    g_ptr_array_set_size(srv->replied, 0);
}

/* ---- the work, in a worker ---- */

static uint32_t write_error(const BlockDevice *dev)
{
    return block_device_io_state(dev) == BLOCK_DEVICE_IO_NOSPACE ? NBD_ENOSPC
                                                                 : NBD_EIO;
}

static void block_status(NbdRequest *req, BlockDevice *dev, GError **errp)
{
    unsigned max = req->flags & NBD_CMD_FLAG_REQ_ONE ? 1 : NBD_MAX_EXTENTS;
    uint64_t offset = req->offset, end = req->offset + req->len;
    uint32_t last_flags = 0;

    req->extents = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    while (offset < end) {
        BlockExtentKind kind;
        uint64_t pnum;
        uint32_t flags, be[2];

        if (!block_device_block_status(dev, offset, end - offset, &kind, &pnum,
                                       errp)) {
            return;
        }
        flags = kind == BLOCK_EXTENT_DATA ? 0 : NBD_STATE_HOLE | NBD_STATE_ZERO;
        if (req->extents->len > 0 && flags == last_flags) {
            /* Extend the last descriptor (lengths fit: len is 32-bit). */
            uint32_t *len_be =
                &g_array_index(req->extents, uint32_t, req->extents->len - 2);

            uint32_t len = GUINT32_FROM_BE(*len_be) + (uint32_t)pnum;

            *len_be = GUINT32_TO_BE(len);
        } else {
            if (req->extents->len / 2 >= max) {
                break;
            }
            be[0] = GUINT32_TO_BE((uint32_t)pnum);
            be[1] = GUINT32_TO_BE(flags);
            g_array_append_vals(req->extents, be, 2);
            last_flags = flags;
        }
        offset += pnum;
    }
}

void nbd_request_run(NbdRequest *req)
{
    BlockDevice *dev = req->exp->dev;
    g_autoptr(GError) err = NULL;
    bool fua = req->flags & NBD_CMD_FLAG_FUA;
    bool ok = true;

    switch (req->type) {
    case NBD_CMD_READ:
        if (!req->buf) { /* (nbd_request_submit() may have made it) */
            req->buf = g_try_malloc(req->len);
        }
        if (!req->buf) {
            req->error = NBD_ENOMEM;
            return;
        }
        if (!block_device_pread(dev, req->offset, req->buf, req->len, &err)) {
            req->error = NBD_EIO;
        }
        break;
    case NBD_CMD_WRITE:
        ok = block_device_pwrite(dev, req->offset, req->buf, req->len, &err);
        g_clear_pointer(&req->buf, g_free);
        break;
    case NBD_CMD_WRITE_ZEROES:
        ok = block_device_pwrite_zeroes(
            dev, req->offset, req->len,
            req->flags & NBD_CMD_FLAG_NO_HOLE ? 0 : BLOCK_ZERO_MAY_UNMAP, &err);
        break;
    case NBD_CMD_TRIM:
        ok = block_device_discard(dev, req->offset, req->len, &err);
        break;
    case NBD_CMD_FLUSH:
        fua = true;
        break;
    case NBD_CMD_CACHE:
        break;
    case NBD_CMD_BLOCK_STATUS:
        block_status(req, dev, &err);
        if (err) {
            req->error = NBD_EIO;
        }
        break;
    }
    if (ok && fua && req->type != NBD_CMD_READ
        && req->type != NBD_CMD_BLOCK_STATUS && req->type != NBD_CMD_CACHE) {
        ok = block_device_flush(dev, &err);
    }
    if (!ok) {
        req->error = write_error(dev);
    }
    if (err) {
        g_debug("NBD: %s", err->message);
        req->message = g_strdup(err->message);
    }
}
