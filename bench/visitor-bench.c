/* SPDX-License-Identifier: MIT */
/*
 * Visitor throughput: JSON text -> C struct -> JSON text through the
 * generated visitors of bench/bench.json, against json-c's own parse and
 * serialize of the same text (the floor).
 *
 *   visitor-bench [--iterations N] [--repeat R] [--time SECONDS]
 *                 [--records N] [--doc small|large|all]
 *                 [--only json-c|qapikit|both] [--no-breakdown]
 *
 * Two documents: "small", one query-like BenchQuery; "large", a
 * BenchDocument of --records (10,000) BenchRecord elements, each with a
 * nested list of ints and one of strings, an enum and (every third) an
 * optional member.  Both are built deterministically in memory and
 * serialized to text once; that text is the input of every request.
 *
 * One request:
 *   json-c   json_tokener_parse(text); json_object_to_json_string_ext(
 *            tree, JSON_C_TO_STRING_PLAIN); json_object_put(tree)
 *   qapikit  json_tokener_parse(text); JSON input visitor ->
 *            visit_type_X -> C value; JSON output visitor -> visit_type_X
 *            -> visit_complete -> tree; json_object_to_json_string_ext
 *            (PLAIN); free both trees and the C value
 *
 * Each measurement runs N requests (auto-scaled so that one takes about
 * --time seconds, or --iterations N), R times; the median is reported.
 * json-c's and qapikit's measurements alternate, so that a slow spell of
 * a shared machine falls on both.  The table gives requests per second
 * and MB/s (input text bytes, 1 MB = 10^6 bytes) for both, and the ratio
 * of qapikit's time per request over json-c's.  A second table splits
 * both requests into phases (a second run, each phase timed on its own
 * with CLOCK_MONOTONIC, so its sums are a little above the first table's
 * figures), and shows what qapikit adds to each.
 *
 * json_object_to_json_string_length() is json_object_to_json_string_ext()
 * that also returns the length (the latter calls the former).
 *
 * Before timing, one qapikit round trip is checked: its output text must
 * parse to a tree json_object_equal() to the input's; the benchmark
 * stops with status 1 otherwise.  Nothing here asserts a time: figures
 * are printed, never judged.  `make bench` runs it (VISITOR_BENCH_FLAGS
 * passes options).
 *
 * Profiling one side (the request functions are kept out of line):
 *   perf record --call-graph dwarf build/bench/visitor-bench \
 *       --doc large --only qapikit -n 40 -r 1 --no-breakdown
 *   valgrind --tool=callgrind --toggle-collect='request_*' \
 *       build/bench/visitor-bench --doc small --only qapikit -n 20000 \
 *       -r 1 --no-breakdown      (instructions per request: Ir / 20000)
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qapikit/visitor.h>

#include "qapi-types.h"
#include "qapi-visit.h"

#ifndef BENCH_BUILDTYPE
#define BENCH_BUILDTYPE "unknown"
#endif

#define MAX_REPEAT 101

typedef struct Options {
    long iterations; /* 0: auto-scale */
    int repeat;
    double target; /* seconds per measurement when auto-scaling */
    long records;
    bool small;
    bool large;
    bool json_c;
    bool qapikit;
    bool breakdown;
} Options;

/* What one request returns, so that the compiler keeps all of it. */
static volatile size_t sink;

typedef enum DocKind {
    DOC_SMALL,
    DOC_LARGE,
} DocKind;

typedef struct Doc {
    const char *label;
    DocKind kind;
    char *text;
    size_t bytes;
} Doc;

/*
 * Phases of a request, for the breakdown (json-c's request has PARSE,
 * SERIALIZE and PUT_IN only).
 */
enum {
    PHASE_PARSE,
    PHASE_INPUT,
    PHASE_PUT_IN,
    PHASE_OUTPUT,
    PHASE_SERIALIZE,
    PHASE_PUT_OUT,
    PHASE_FREE_C,
    PHASE__MAX,
};

static const char *const phase_names[PHASE__MAX] = {
    [PHASE_PARSE] = "json_tokener_parse (text -> tree)",
    [PHASE_INPUT] = "input visitor (tree -> C)",
    [PHASE_PUT_IN] = "json_object_put (input tree)",
    [PHASE_OUTPUT] = "output visitor (C -> tree)",
    [PHASE_SERIALIZE] = "json_object_to_json_string_ext",
    [PHASE_PUT_OUT] = "json_object_put (output tree)",
    [PHASE_FREE_C] = "qapi_free_X (C value)",
};

static double now(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("clock_gettime");
        exit(2);
    }
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, GError *err)
{
    fprintf(stderr, "visitor-bench: %s: %s\n", what,
            err ? err->message : "failed");
    exit(1);
}

/*
 * The steps of a request stay functions of their own (G_GNUC_NO_INLINE)
 * so that a profiler attributes time to them: one call per request.
 */

/* Building the documents */

static const char *const words[] = {
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
    "hotel", "india", "juliett", "kilo",  "lima", "mike",    "november",
};
#define N_WORDS (sizeof(words) / sizeof(words[0]))

static strList *str_list_of(const char *const *names, size_t n)
{
    strList *head = NULL;
    strList **tail = &head;

    for (size_t i = 0; i < n; i++) {
        strList *node = g_new0(strList, 1);

        node->value = g_strdup(names[i]);
        *tail = node;
        tail = &node->next;
    }
    return head;
}

static BenchQuery *make_small(void)
{
    static const char *const tags[] = { "boot", "virtio", "cache=none" };
    BenchQuery *q = g_new0(BenchQuery, 1);

    q->device = g_strdup("virtio-disk0");
    q->node_name = g_strdup("#block142");
    q->size = INT64_C(21474836480);
    q->count = 17;
    q->read_only = false;
    q->state = BENCH_STATE_RUNNING;
    q->has_tags = true;
    q->tags = str_list_of(tags, G_N_ELEMENTS(tags));
    return q;
}

static BenchDocument *make_large(long records)
{
    BenchDocument *doc = g_new0(BenchDocument, 1);
    BenchRecordList **tail = &doc->records;

    doc->title = g_strdup("visitor benchmark: large document");
    for (long i = 0; i < records; i++) {
        BenchRecordList *node = g_new0(BenchRecordList, 1);
        BenchRecord *r = g_new0(BenchRecord, 1);
        intList **vtail = &r->values;
        const char *labels[3];

        r->id = i;
        r->name = g_strdup_printf("record-%06ld", i);
        r->state = (BenchState)(i % BENCH_STATE__MAX);
        for (int k = 0; k < 4; k++) {
            intList *v = g_new0(intList, 1);

            v->value = (i * 7919 + k * 104729) % 1000003 - 500000;
            *vtail = v;
            vtail = &v->next;
        }
        for (int k = 0; k < 3; k++) {
            labels[k] = words[(size_t)(i * 3 + k) % N_WORDS];
        }
        r->labels = str_list_of(labels, 3);
        if (i % 3 == 0) {
            r->note = g_strdup_printf("note for record %ld", i);
        }
        node->value = r;
        *tail = node;
        tail = &node->next;
    }
    return doc;
}

/* Serialize a C value of DOC's kind with the output visitor. */
G_GNUC_NO_INLINE static json_object *doc_output(DocKind kind, void *value)
{
    Visitor *v = qapi_json_output_visitor_new();
    GError *err = NULL;
    json_object *tree = NULL;
    bool ok;

    if (kind == DOC_SMALL) {
        BenchQuery *q = value;
        ok = visit_type_BenchQuery(v, NULL, &q, &err);
    } else {
        BenchDocument *d = value;
        ok = visit_type_BenchDocument(v, NULL, &d, &err);
    }
    if (!ok) {
        die("output visitor", err);
    }
    visit_complete(v, &tree);
    visit_free(v);
    return tree;
}

/* TREE (a reference handed over) to a C value with the input visitor. */
G_GNUC_NO_INLINE static void *doc_input(DocKind kind, json_object *tree)
{
    Visitor *v = qapi_json_input_visitor_new(tree);
    GError *err = NULL;
    void *value = NULL;
    bool ok;

    json_object_put(tree); /* the visitor holds its own reference */
    if (kind == DOC_SMALL) {
        BenchQuery *q = NULL;
        ok = visit_type_BenchQuery(v, NULL, &q, &err);
        value = q;
    } else {
        BenchDocument *d = NULL;
        ok = visit_type_BenchDocument(v, NULL, &d, &err);
        value = d;
    }
    if (!ok) {
        die("input visitor", err);
    }
    visit_free(v);
    return value;
}

G_GNUC_NO_INLINE static void doc_free(DocKind kind, void *value)
{
    if (kind == DOC_SMALL) {
        qapi_free_BenchQuery(value);
    } else {
        qapi_free_BenchDocument(value);
    }
}

static void doc_make(Doc *doc, DocKind kind, long records)
{
    void *value =
        kind == DOC_SMALL ? (void *)make_small() : (void *)make_large(records);
    json_object *tree = doc_output(kind, value);
    size_t len;
    const char *text =
        json_object_to_json_string_length(tree, JSON_C_TO_STRING_PLAIN, &len);

    doc->kind = kind;
    doc->label = kind == DOC_SMALL ? "small" : "large";
    doc->text = g_strndup(text, len);
    doc->bytes = len;
    json_object_put(tree);
    doc_free(kind, value);
}

/* One request of each kind */

G_GNUC_NO_INLINE static json_object *parse(const Doc *doc)
{
    json_object *tree = json_tokener_parse(doc->text);

    if (!tree) {
        fprintf(stderr,
                "visitor-bench: json-c cannot parse the %s "
                "document\n",
                doc->label);
        exit(1);
    }
    return tree;
}

/*
 * Phase timing: with PHASES not NULL, mark(PHASES, T, K) ends phase K
 * (adds the time since the previous mark to PHASES[K]).
 */
static void mark(double *phases, double *t, int k)
{
    if (phases) {
        double t1 = now();

        if (k >= 0) {
            phases[k] += t1 - *t;
        }
        *t = t1;
    }
}

/* The json-c request; PHASES, when not NULL, accumulates its phases. */
G_GNUC_NO_INLINE static void request_json_c(const Doc *doc, double *phases)
{
    json_object *tree;
    double t = 0;
    size_t len;

    mark(phases, &t, -1);
    tree = parse(doc);
    mark(phases, &t, PHASE_PARSE);
    json_object_to_json_string_length(tree, JSON_C_TO_STRING_PLAIN, &len);
    sink += len;
    mark(phases, &t, PHASE_SERIALIZE);
    json_object_put(tree);
    mark(phases, &t, PHASE_PUT_IN);
}

/* The qapikit request; PHASES, when not NULL, accumulates its phases. */
G_GNUC_NO_INLINE static void request_qapikit(const Doc *doc, double *phases)
{
    json_object *in, *out;
    double t = 0;
    void *value;
    size_t len;

    mark(phases, &t, -1);
    in = parse(doc);
    mark(phases, &t, PHASE_PARSE);
    /* doc_input() puts our reference; the visitor's goes with it. */
    json_object_get(in);
    value = doc_input(doc->kind, in);
    mark(phases, &t, PHASE_INPUT);
    json_object_put(in);
    mark(phases, &t, PHASE_PUT_IN);
    out = doc_output(doc->kind, value);
    mark(phases, &t, PHASE_OUTPUT);
    json_object_to_json_string_length(out, JSON_C_TO_STRING_PLAIN, &len);
    sink += len;
    mark(phases, &t, PHASE_SERIALIZE);
    json_object_put(out);
    mark(phases, &t, PHASE_PUT_OUT);
    doc_free(doc->kind, value);
    mark(phases, &t, PHASE_FREE_C);
}

/* The correctness check: qapikit's output parses equal to its input. */
static void check_round_trip(const Doc *doc)
{
    json_object *in = parse(doc);
    json_object *again;
    void *value;
    json_object *out;
    const char *text;
    size_t len;

    json_object_get(in);
    value = doc_input(doc->kind, in);
    out = doc_output(doc->kind, value);
    text = json_object_to_json_string_length(out, JSON_C_TO_STRING_PLAIN, &len);
    again = json_tokener_parse(text);
    if (!again || !json_object_equal(in, again)) {
        fprintf(stderr,
                "visitor-bench: the %s document does not survive "
                "the round trip through qapikit\n",
                doc->label);
        exit(1);
    }
    printf("round trip checked: %s document, %zu bytes in, %zu bytes out, "
           "json_object_equal, text %s\n",
           doc->label, doc->bytes, len,
           len == doc->bytes && !memcmp(text, doc->text, len)
               ? "identical"
               : "differs (same value)");
    json_object_put(again);
    json_object_put(out);
    json_object_put(in);
    doc_free(doc->kind, value);
}

/* Timing */

typedef enum Method {
    METHOD_JSON_C,
    METHOD_QAPIKIT,
} Method;

/* N requests; PHASES, when not NULL, accumulates their phases. */
static double run(const Doc *doc, Method method, long n, double *phases)
{
    double start = now();

    for (long i = 0; i < n; i++) {
        if (method == METHOD_JSON_C) {
            request_json_c(doc, phases);
        } else {
            request_qapikit(doc, phases);
        }
    }
    return now() - start;
}

/* How many requests take about TARGET seconds. */
static long calibrate(const Doc *doc, Method method, double target)
{
    long n = 1;

    for (;;) {
        double t = run(doc, method, n, NULL);

        if (t >= target * 0.2 || n >= LONG_MAX / 4) {
            double scaled = (double)n * target / (t > 0 ? t : 1e-9);
            return scaled < 1 ? 1 : (long)scaled + 1;
        }
        n *= t > 0 && target * 0.2 / t > 4 ? 4 : 2;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

typedef struct Result {
    long n;             /* requests per measurement */
    double per_request; /* median seconds per request */
    double min_per_request;
    double max_per_request;
} Result;

static Result summarize(long n, double *samples, int count)
{
    Result r = { .n = n,
                 .min_per_request = samples[0],
                 .max_per_request = samples[0] };

    for (int i = 1; i < count; i++) {
        if (samples[i] < r.min_per_request) {
            r.min_per_request = samples[i];
        }
        if (samples[i] > r.max_per_request) {
            r.max_per_request = samples[i];
        }
    }
    r.per_request = median(samples, count);
    return r;
}

/*
 * Measure the methods of METHODS (NMETHODS of them) on DOC, REPEAT
 * times each, one measurement of each method in turn, so that a slow
 * spell of the machine (other jobs on its cores) hits them alike.
 * PHASES, when not NULL, receives the per-request mean of each phase,
 * a row per method (and the requests are timed phase by phase).
 */
static void measure(const Doc *doc, const Method *methods, int nmethods,
                    const Options *opt, Result *results,
                    double (*phases)[PHASE__MAX])
{
    double samples[2][MAX_REPEAT];
    long n[2];

    g_assert(nmethods >= 1 && nmethods <= 2);
    for (int m = 0; m < nmethods; m++) {
        n[m] = opt->iterations ? opt->iterations
                               : calibrate(doc, methods[m], opt->target);
        if (phases) {
            memset(phases[m], 0, sizeof(phases[m]));
        }
    }
    for (int i = 0; i < opt->repeat; i++) {
        for (int m = 0; m < nmethods; m++) {
            samples[m][i] =
                run(doc, methods[m], n[m], phases ? phases[m] : NULL)
                / (double)n[m];
        }
    }
    for (int m = 0; m < nmethods; m++) {
        results[m] = summarize(n[m], samples[m], opt->repeat);
        for (int k = 0; phases && k < PHASE__MAX; k++) {
            phases[m][k] /= (double)n[m] * opt->repeat;
        }
    }
}

static void print_result_cells(const Doc *doc, const Result *r)
{
    printf(" %12.1f %9.1f", 1.0 / r->per_request,
           (double)doc->bytes / r->per_request / 1e6);
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: visitor-bench [OPTION]...\n"
        "JSON text -> C struct -> JSON text through qapikit's visitors, "
        "against\n"
        "json-c's own parse + serialize of the same text.\n"
        "\n"
        "  -n, --iterations N   requests per measurement (default: "
        "auto-scaled)\n"
        "  -r, --repeat R       measurements per figure, median taken (default "
        "5)\n"
        "  -t, --time SECONDS   auto-scale target per measurement (default "
        "1.0)\n"
        "      --records N      elements of the large document (default "
        "10000)\n"
        "      --doc WHICH      small, large or all (default all)\n"
        "      --only WHAT      json-c, qapikit or both (default both); one "
        "side\n"
        "                       alone is for profilers, and prints no ratio\n"
        "      --no-breakdown   skip the per-phase table (needs --only both)\n"
        "  -h, --help           this text\n");
}

static long parse_long(const char *opt, const char *arg, long min, long max)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < min || v > max) {
        fprintf(stderr,
                "visitor-bench: %s wants an integer from %ld to "
                "%ld, not '%s'\n",
                opt, min, max, arg);
        exit(2);
    }
    return v;
}

static void parse_options(int argc, char **argv, Options *opt)
{
    enum {
        OPT_RECORDS = 256,
        OPT_DOC,
        OPT_ONLY,
        OPT_NO_BREAKDOWN
    };
    static const struct option longopts[] = {
        { "iterations", required_argument, NULL, 'n' },
        { "repeat", required_argument, NULL, 'r' },
        { "time", required_argument, NULL, 't' },
        { "records", required_argument, NULL, OPT_RECORDS },
        { "doc", required_argument, NULL, OPT_DOC },
        { "only", required_argument, NULL, OPT_ONLY },
        { "no-breakdown", no_argument, NULL, OPT_NO_BREAKDOWN },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    *opt = (Options){
        .repeat = 5,
        .target = 1.0,
        .records = 10000,
        .small = true,
        .large = true,
        .json_c = true,
        .qapikit = true,
        .breakdown = true,
    };
    while ((c = getopt_long(argc, argv, "n:r:t:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            opt->iterations = parse_long("--iterations", optarg, 1, LONG_MAX);
            break;
        case 'r':
            opt->repeat = (int)parse_long("--repeat", optarg, 1, MAX_REPEAT);
            break;
        case 't': {
            char *end;

            errno = 0;
            opt->target = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(opt->target > 0)
                || opt->target > 3600) {
                fprintf(stderr,
                        "visitor-bench: --time wants seconds "
                        "(0 to 3600), not '%s'\n",
                        optarg);
                exit(2);
            }
            break;
        }
        case OPT_RECORDS:
            opt->records = parse_long("--records", optarg, 0, 100000000);
            break;
        case OPT_DOC:
            opt->small = !strcmp(optarg, "small") || !strcmp(optarg, "all");
            opt->large = !strcmp(optarg, "large") || !strcmp(optarg, "all");
            if (!opt->small && !opt->large) {
                fprintf(stderr,
                        "visitor-bench: --doc wants small, large "
                        "or all, not '%s'\n",
                        optarg);
                exit(2);
            }
            break;
        case OPT_ONLY:
            opt->json_c = !strcmp(optarg, "json-c") || !strcmp(optarg, "both");
            opt->qapikit =
                !strcmp(optarg, "qapikit") || !strcmp(optarg, "both");
            if (!opt->json_c && !opt->qapikit) {
                fprintf(stderr,
                        "visitor-bench: --only wants json-c, "
                        "qapikit or both, not '%s'\n",
                        optarg);
                exit(2);
            }
            break;
        case OPT_NO_BREAKDOWN:
            opt->breakdown = false;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "visitor-bench: unexpected argument '%s'\n",
                argv[optind]);
        usage(stderr);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    Options opt;
    Doc docs[2];
    int ndocs = 0;
    Result jc[2], qk[2];

    parse_options(argc, argv, &opt);
    if (opt.small) {
        doc_make(&docs[ndocs++], DOC_SMALL, 0);
    }
    if (opt.large) {
        doc_make(&docs[ndocs++], DOC_LARGE, opt.records);
    }

    printf("visitor-bench: build type %s, json-c %s, glib %u.%u.%u; "
           "median of %d, %s\n",
           BENCH_BUILDTYPE, json_c_version(), glib_major_version,
           glib_minor_version, glib_micro_version, opt.repeat,
           opt.iterations ? "fixed iterations" : "iterations auto-scaled");
    for (int d = 0; d < ndocs; d++) {
        check_round_trip(&docs[d]);
    }

    for (int d = 0; d < ndocs; d++) {
        Method methods[2];
        Result results[2];
        int nmethods = 0;

        if (opt.json_c) {
            methods[nmethods++] = METHOD_JSON_C;
        }
        if (opt.qapikit) {
            methods[nmethods++] = METHOD_QAPIKIT;
        }
        measure(&docs[d], methods, nmethods, &opt, results, NULL);
        nmethods = 0;
        if (opt.json_c) {
            jc[d] = results[nmethods++];
        }
        if (opt.qapikit) {
            qk[d] = results[nmethods++];
        }
    }

    printf("\n%-8s %9s %12s %9s %12s %9s %7s\n", "document", "bytes",
           "json-c req/s", "MB/s", "qapikit req/s", "MB/s", "ratio");
    for (int d = 0; d < ndocs; d++) {
        printf("%-8s %9zu", docs[d].label, docs[d].bytes);
        if (opt.json_c) {
            print_result_cells(&docs[d], &jc[d]);
        } else {
            printf(" %12s %9s", "-", "-");
        }
        if (opt.qapikit) {
            printf(" ");
            print_result_cells(&docs[d], &qk[d]);
        } else {
            printf(" %13s %9s", "-", "-");
        }
        if (opt.json_c && opt.qapikit) {
            printf(" %6.2fx", qk[d].per_request / jc[d].per_request);
        } else {
            printf(" %7s", "-");
        }
        printf("\n");
    }
    printf("\nratio = qapikit time per request / json-c time per request "
           "(goal: within 2x)\n");
    printf("%-8s %16s %22s %22s %9s\n", "document", "requests/run",
           "json-c us/req min-max", "qapikit us/req min-max", "min ratio");
    for (int d = 0; d < ndocs; d++) {
        char n[64], a[64] = "-", b[64] = "-", r[64] = "-";

        g_snprintf(n, sizeof(n), "%ld/%ld", opt.json_c ? jc[d].n : 0,
                   opt.qapikit ? qk[d].n : 0);
        if (opt.json_c) {
            g_snprintf(a, sizeof(a), "%.2f-%.2f", jc[d].min_per_request * 1e6,
                       jc[d].max_per_request * 1e6);
        }
        if (opt.qapikit) {
            g_snprintf(b, sizeof(b), "%.2f-%.2f", qk[d].min_per_request * 1e6,
                       qk[d].max_per_request * 1e6);
        }
        if (opt.json_c && opt.qapikit) {
            g_snprintf(r, sizeof(r), "%.2fx",
                       qk[d].min_per_request / jc[d].min_per_request);
        }
        printf("%-8s %16s %22s %22s %9s\n", docs[d].label, n, a, b, r);
    }
    printf("(min ratio: fastest over fastest, less sensitive to other "
           "jobs on the machine)\n");

    if (opt.breakdown && opt.json_c && opt.qapikit) {
        static const Method both[2] = { METHOD_JSON_C, METHOD_QAPIKIT };

        printf("\nrequest by phase, us per request (each phase timed on "
               "its own; %% = share of qapikit's sum)\n");
        for (int d = 0; d < ndocs; d++) {
            double phases[2][PHASE__MAX];
            double sum[2] = { 0, 0 };
            Result results[2];

            measure(&docs[d], both, 2, &opt, results, phases);
            for (int k = 0; k < PHASE__MAX; k++) {
                sum[0] += phases[0][k];
                sum[1] += phases[1][k];
            }
            printf("%-8s %-34s %11s %11s %11s %6s\n", docs[d].label, "phase",
                   "json-c", "qapikit", "extra", "%");
            for (int k = 0; k <= PHASE__MAX; k++) {
                double jc_t = k < PHASE__MAX ? phases[0][k] : sum[0];
                double qk_t = k < PHASE__MAX ? phases[1][k] : sum[1];

                printf("%-8s %-34s %11.2f %11.2f %+11.2f %5.1f%%\n", "",
                       k < PHASE__MAX ? phase_names[k] : "sum", jc_t * 1e6,
                       qk_t * 1e6, (qk_t - jc_t) * 1e6, 100 * qk_t / sum[1]);
            }
            printf("%-8s %-34s %11s %11s %10.2fx\n", "", "ratio of the sums",
                   "", "", sum[1] / sum[0]);
        }
    }

    for (int d = 0; d < ndocs; d++) {
        g_free(docs[d].text);
    }
    return 0;
}
