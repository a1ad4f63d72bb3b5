/* SPDX-License-Identifier: MIT */
/*
 * What every fuzz target of tests/fuzz/ defines and may use.
 *
 * A target is one C file defining LLVMFuzzerTestOneInput() and
 * LLVMFuzzerInitialize() (its set-up, once per process, before the first
 * input; it may do nothing but must call fuzz_init()).  It is linked two ways
 * (tests/fuzz/meson.build): with libFuzzer (-fsanitize=fuzzer) in a
 * build configured with -Dfuzzing=true, and with driver.c in every build,
 * where it runs once over given files: the regression tests of `make
 * check`.
 *
 * The input DATA is lent for the call only.  A target must be
 * deterministic, must not keep state from one input to the next (beyond
 * caches that do not change what it does), and must free everything an
 * input allocated before it returns: leaks are findings.  It reports a
 * broken invariant with fuzz_fail(), which aborts: that is how libFuzzer
 * (and the driver's test) see a finding that is no memory error.
 */
#ifndef QAPIKIT_FUZZ_H
#define QAPIKIT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * The set-up every target's LLVMFuzzerInitialize() starts with: GLib's
 * criticals (a precondition a caller broke: a bug) abort, and messages,
 * info and debug output are dropped (they would only slow the fuzzer);
 * warnings and errors are printed as usual.
 */
void fuzz_init(void);

/*
 * A new empty directory under $TMPDIR (or /tmp) whose name starts with
 * NAME, removed with everything in it when the process exits normally
 * (a crash leaves it).  Owned by this module.  Exits with a message when
 * it cannot be made.  At most one per process.
 */
const char *fuzz_scratch_dir(const char *name);

/*
 * Set-up that cannot go on: print "fuzz: WHAT: " and ERR's message (ERR
 * may be NULL), exit(1).  Not a finding: the environment is broken.
 */
void fuzz_setup_failed(const char *what, const GError *err)
    __attribute__((noreturn));

/*
 * Print "fuzz: invariant broken: " and the message FMT to stderr, then
 * abort().  Only for invariants the code under test promises, never for
 * input it rightly refuses.
 */
void fuzz_fail(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

#endif /* QAPIKIT_FUZZ_H */
