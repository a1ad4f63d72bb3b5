# SPDX-License-Identifier: MIT
# qapikit: the entry points.  meson + ninja do the real work; this file
# installs what they need, configures the build directories and prints one
# summary line after the tests.
#
#   make run          build, then start the daemon qapikit-blockd in the
#                     foreground on a demo set-up under $(DEMO_DIR)
#   make check        build and run every test; last line "N passed, N failed"
#   make check-asan   the same tests in build-asan/, ASan + UBSan
#   make fuzz         the libFuzzer targets of tests/fuzz/, FUZZ_SECONDS
#                     (default 60) each, in build-fuzz/ (clang, ASan +
#                     UBSan, -Dfuzzing=true; installs clang's libFuzzer);
#                     findings are left in build-fuzz/fuzz-run/TARGET/
#                     (tests/fuzz/README.md); last line "N passed, N
#                     failed", one test per target
#   make docs         the daemon's QMP reference (qapi/qmp-wire.json, through
#                     qapi-gen.py --doc) into $(BUILD)/docs/: one HTML page,
#                     Markdown and a man page of section 7
#   make check-update rewrite the golden tests' expectations
#                     (tests/qapi-schema/, tests/qapi-compat/), review with
#                     git diff
#   make bench        benchmarks: the front end and the whole generator
#                     (bench/gen-bench), the reference manual in
#                     each format (gen-bench --mode doc-*), then the
#                     visitors' throughput against json-c (visitor-bench),
#                     then QMP round trips against qemu-storage-daemon
#                     (bench/qmp-bench), group snapshots
#                     (bench/snapshot-bench), then NBD against
#                     qemu-storage-daemon and nbdkit (bench/nbd-bench;
#                     installs BENCH_DEPS)
#   make deps         install the Debian packages that are missing
#   make clean        remove the build directories

BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_FUZZ ?= build-fuzz
MESON ?= meson
NINJA ?= ninja
TEST_FLAGS ?= --print-errorlogs --num-processes 2
BENCH_FLAGS ?=
VISITOR_BENCH_FLAGS ?=
QMP_BENCH_FLAGS ?=
SNAPSHOT_BENCH_FLAGS ?=
NBD_BENCH_FLAGS ?=
ASAN_SETUP_FLAGS := -Db_sanitize=address,undefined -Db_lundef=false
FUZZ_SETUP_FLAGS := $(ASAN_SETUP_FLAGS) -Dfuzzing=true
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
# Targets to run (names of tests/fuzz/corpus/*/); empty: all of them.
FUZZ_TARGETS ?=

# Debian packages the build, the tests and the tools need.  libedit-dev:
# the line editor of qapikit-qmp's interactive mode (BSD licensed);
# scdoc: the manual pages (docs/man/); man-db: `man`, which their test
# renders them with (not in every minimal Debian image); python3-mypy
# and clang-format: the tests of the generator's types and of the C
# sources' format; qemu-system-common: qemu-storage-daemon, the peer of
# the image locking tests; strace: counts the daemon's accept() calls in
# tests/functional/test_resources.py; libnbd-bin: nbdinfo and nbdcopy,
# real NBD clients of the NBD tests; python3-jsonschema: validates the
# generator's JSON Schema output in its tests; tidy, cmark and groff-base
# (with man-db): the checks of the reference manual (qapi-gen.py --doc)
# in its tests.
DEPS := meson ninja-build pkg-config gcc clang libglib2.0-dev libjson-c-dev \
        python3-jinja2 python3-mypy qemu-utils libedit-dev scdoc man-db \
        clang-format qemu-system-common strace libnbd-bin python3-jsonschema \
        tidy cmark groff-base

# meson.build writes the interpreter it chose (one that has Jinja2) here.
PYTHON_FILE = $(1)/qapikit-python.txt
# Shell snippet: that interpreter, or python3 before the first configure.
python_of = $$(cat $(call PYTHON_FILE,$(1)) 2>/dev/null || echo python3)

.PHONY: all deps setup build check setup-asan build-asan check-asan \
        setup-fuzz fuzz check-update run bench docs clean

all: build

deps:
	@missing=; \
	if ! command -v dpkg-query >/dev/null 2>&1; then \
	    echo "deps: no dpkg-query (not Debian?); install by hand: $(DEPS)"; \
	    exit 0; \
	fi; \
	for pkg in $(DEPS); do \
	    status=$$(dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null || true); \
	    [ "$$status" = "install ok installed" ] || missing="$$missing $$pkg"; \
	done; \
	if [ -z "$$missing" ]; then \
	    echo "deps: all $(words $(DEPS)) packages installed"; \
	    exit 0; \
	fi; \
	echo "deps: installing$$missing"; \
	sudo=; \
	if [ "$$(id -u)" != 0 ]; then \
	    if command -v sudo >/dev/null 2>&1; then sudo=sudo; \
	    else echo "deps: not root and no sudo; install as root:$$missing" >&2; exit 1; fi; \
	fi; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq --no-install-recommends $$missing </dev/null

# What `make fuzz` adds (through `make deps DEPS=...`): clang with its
# runtime libraries (libclang-rt-14-dev holds the libFuzzer that
# -fsanitize=fuzzer links) and Debian's standalone libFuzzer.
FUZZ_DEPS := clang libclang-rt-14-dev libfuzzer-14-dev

# Configure DIR with extra OPTIONS unless it is configured already; a
# directory whose previous setup stopped half-way is reconfigured.  ENV
# (optional): variable assignments for meson, e.g. CC=clang.
define meson_setup
	@if [ -f $(1)/build.ninja ]; then :; \
	elif [ -f $(1)/meson-private/coredata.dat ]; then \
	    $(3) $(MESON) setup --reconfigure $(2) $(1); \
	else \
	    $(3) $(MESON) setup $(2) $(1); \
	fi
endef

# Run the tests of DIR, then print the summary line, always, last.
define meson_test
	@rm -f $(1)/meson-logs/testlog.json; \
	status=0; \
	$(3) $(MESON) test -C $(1) $(TEST_FLAGS) || status=$$?; \
	"$(call python_of,$(1))" tests/summary.py $(1) || status=1; \
	exit $$status
endef

setup: deps
	$(call meson_setup,$(BUILD),)

build: setup
	@$(NINJA) -C $(BUILD) --quiet

check: build
	$(call meson_test,$(BUILD))

# The daemon's QMP reference, docs/meson.build's alias target.
docs: setup
	@$(NINJA) -C $(BUILD) --quiet qmp-reference
	@echo "docs: $(BUILD)/docs/qapikit-qmp-wire.html," \
	    "$(BUILD)/docs/qapikit-qmp-wire.md, $(BUILD)/docs/qapikit-qmp-wire.7"

setup-asan: deps
	$(call meson_setup,$(BUILD_ASAN),$(ASAN_SETUP_FLAGS))

build-asan: setup-asan
	@$(NINJA) -C $(BUILD_ASAN) --quiet

check-asan: build-asan
	$(call meson_test,$(BUILD_ASAN),\
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)

setup-fuzz: deps
	@$(MAKE) --no-print-directory deps DEPS="$(FUZZ_DEPS)"
	$(call meson_setup,$(BUILD_FUZZ),$(FUZZ_SETUP_FLAGS),CC=$(FUZZ_CC))

# Build the libFuzzer binaries only (not the whole project), run each
# target FUZZ_SECONDS seconds on a scratch copy of its corpus, then print
# the summary line, always, last.
fuzz: setup-fuzz
	@targets="$(FUZZ_TARGETS)"; \
	[ -n "$$targets" ] || targets=$$(ls tests/fuzz/corpus); \
	bins=; for t in $$targets; do bins="$$bins tests/fuzz/fuzz-$$t"; done; \
	python="$(call python_of,$(BUILD_FUZZ))"; \
	rm -f $(BUILD_FUZZ)/fuzz-logs/testlog.json; \
	status=0; \
	$(NINJA) -C $(BUILD_FUZZ) --quiet $$bins || status=$$?; \
	if [ $$status = 0 ]; then \
	    "$$python" tests/fuzz/run-fuzzers.py --build $(BUILD_FUZZ) \
	        --seconds $(FUZZ_SECONDS) $$targets || status=$$?; \
	fi; \
	"$$python" tests/summary.py $(BUILD_FUZZ)/fuzz-logs/testlog.json \
	    || status=1; \
	exit $$status

check-update: setup
	@status=0; \
	"$(call python_of,$(BUILD))" tests/qapi-schema/run-case.py \
	    --gen scripts/qapi-gen.py --update-all || status=$$?; \
	"$(call python_of,$(BUILD))" tests/qapi-compat/run-case.py \
	    --compat scripts/qapi-compat.py --update-all || status=$$?; \
	echo "check-update: review with: git status tests/qapi-schema" \
	    "tests/qapi-compat; git diff tests/qapi-schema tests/qapi-compat"; \
	exit $$status

# The daemon in the foreground on a demo set-up (docs/qapikit-blockd.md):
# two 64 MiB qcow2 disks (raw files if qemu-img is missing) made the first
# time, its state directory and its QMP socket, all under DEMO_DIR.
# Ctrl-C (SIGINT) or the QMP command quit stops it.
# Each snapshot hint names new files (a timestamp taken when it is pasted),
# so it works every time; RUN_DEPS is what the hints use besides the tools.
DEMO_DIR ?= $(BUILD)/demo
DEMO_SIZE ?= 64M
RUN_DEPS := socat

run: build
	@$(MAKE) --no-print-directory deps DEPS="$(RUN_DEPS)"
	@demo=$$(mkdir -p "$(DEMO_DIR)" && cd "$(DEMO_DIR)" && pwd); \
	blockd="$$(pwd)/$(BUILD)/tools/qapikit-blockd"; \
	qmp="$$(pwd)/$(BUILD)/tools/qapikit-qmp"; \
	if [ ! -x "$$blockd" ]; then \
	    echo "run: $$blockd was not built (it needs the block layer," \
	        "block/meson.build's qapikit_block_dep)" >&2; exit 1; \
	fi; \
	for i in 0 1; do \
	    if [ -e "$$demo/disk$$i.qcow2" ] || [ -e "$$demo/disk$$i.raw" ]; then \
	        continue; \
	    elif command -v qemu-img >/dev/null 2>&1; then \
	        qemu-img create -q -f qcow2 "$$demo/disk$$i.qcow2" $(DEMO_SIZE) \
	            && echo "run: created $$demo/disk$$i.qcow2 ($(DEMO_SIZE))"; \
	    else \
	        truncate -s $(DEMO_SIZE) "$$demo/disk$$i.raw" \
	            && echo "run: created $$demo/disk$$i.raw ($(DEMO_SIZE))"; \
	    fi || exit 1; \
	done; \
	drives=; \
	for i in 0 1; do \
	    if [ -e "$$demo/disk$$i.qcow2" ]; then \
	        drives="$$drives --drive id=disk$$i,file=$$demo/disk$$i.qcow2,format=qcow2"; \
	    else \
	        drives="$$drives --drive id=disk$$i,file=$$demo/disk$$i.raw,format=raw"; \
	    fi; \
	done; \
	sock="$$demo/qmp.sock"; \
	echo "run: QMP socket $$sock, NBD socket $$demo/nbd.sock (state in $$demo/state); try, in another shell:"; \
	echo "  $$qmp -s $$sock      # interactive: Tab completes, Ctrl-D ends"; \
	echo "  $$qmp -s $$sock query-block"; \
	echo "  t=\$$(date +%Y%m%d-%H%M%S.%N); $$qmp -s $$sock blockdev-group-snapshot-sync \\"; \
	echo "      '{\"devlist\": [{\"device\": \"disk0\", \"snapshot-file\": \"$$demo/disk0-'\$$t'.qcow2\"}," \
	    "{\"device\": \"disk1\", \"snapshot-file\": \"$$demo/disk1-'\$$t'.qcow2\"}]}'"; \
	echo "  qemu-io -f raw -c 'write -P 0xab 0 1M' -c 'read -P 0xab 0 1M' 'nbd+unix:///disk0?socket=$$demo/nbd.sock'"; \
	echo "  socat - UNIX-CONNECT:$$sock      # then type:"; \
	echo '    {"execute": "qmp_capabilities"}'; \
	echo '    {"execute": "query-block"}'; \
	echo '    {"execute": "quit"}'; \
	echo "run: Ctrl-C or quit stops the daemon"; \
	exec "$$blockd" --qmp "unix:$$sock" --state "$$demo/state" $$drives \
	    --nbd "unix:$$demo/nbd.sock" \
	    --export nbd,id=disk0,node-name=disk0,writable=on \
	    --export nbd,id=disk1,node-name=disk1,writable=on

# What `make bench` adds (through `make deps DEPS=...`): the peers and
# the client of bench/nbd-bench.  fio: the client (its nbd engine links
# libnbd); nbdkit: its file plugin, a peer on raw images; libnbd-bin:
# nbdcopy; qemu-utils: qemu-img and qemu-io make and fill the images;
# qemu-system-common: qemu-storage-daemon, the other peer.
BENCH_DEPS := fio nbdkit libnbd-bin qemu-utils qemu-system-common

bench: build
	@$(MAKE) --no-print-directory deps DEPS="$(BENCH_DEPS)"
	@"$(call python_of,$(BUILD))" bench/gen-bench --mode dump $(BENCH_FLAGS)
	@echo
	@"$(call python_of,$(BUILD))" bench/gen-bench --mode gen $(BENCH_FLAGS)
	@echo
	@for format in html markdown man; do \
	    "$(call python_of,$(BUILD))" bench/gen-bench --mode doc-$$format \
	        --sizes 1 $(BENCH_FLAGS) || exit 1; echo; \
	done
	@$(BUILD)/bench/visitor-bench $(VISITOR_BENCH_FLAGS)
	@echo; "$(call python_of,$(BUILD))" bench/qcow2-bench --blockio $(BUILD)/tests/block/blockio
	@echo
	@"$(call python_of,$(BUILD))" bench/qmp-bench --build $(BUILD) \
	    $(QMP_BENCH_FLAGS)
	@echo
	@"$(call python_of,$(BUILD))" bench/snapshot-bench \
	    --blockd $(BUILD)/tools/qapikit-blockd $(SNAPSHOT_BENCH_FLAGS)
	@echo
	@"$(call python_of,$(BUILD))" bench/nbd-bench --build $(BUILD) \
	    $(NBD_BENCH_FLAGS)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ)
