# qapikit: the entry points.  meson + ninja do the real work; this file
# installs what they need, configures the build directories and prints one
# summary line after the tests.
#
#   make run          build, then start what exists (today: print the model)
#   make check        build and run every test; last line "N passed, N failed"
#   make check-asan   the same tests in build-asan/, ASan + UBSan
#   make check-update rewrite tests/qapi-schema/*.out|*.err, review with git diff
#   make bench        benchmarks: the front end and the whole generator
#                     (bench/gen-bench), then the
#                     visitors' throughput against json-c (visitor-bench)
#   make deps         install the Debian packages that are missing
#   make clean        remove the build directories

BUILD ?= build
BUILD_ASAN ?= build-asan
MESON ?= meson
NINJA ?= ninja
TEST_FLAGS ?= --print-errorlogs --num-processes 2
BENCH_FLAGS ?=
VISITOR_BENCH_FLAGS ?=
ASAN_SETUP_FLAGS := -Db_sanitize=address,undefined -Db_lundef=false

# Debian packages the build, the tests and the tools need.
DEPS := meson ninja-build pkg-config gcc clang libglib2.0-dev libjson-c-dev \
        python3-jinja2 qemu-utils

# meson.build writes the interpreter it chose (one that has Jinja2) here.
PYTHON_FILE = $(1)/qapikit-python.txt
# Shell snippet: that interpreter, or python3 before the first configure.
python_of = $$(cat $(call PYTHON_FILE,$(1)) 2>/dev/null || echo python3)

.PHONY: all deps setup build check setup-asan build-asan check-asan \
        check-update run bench clean

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

# Configure DIR with extra OPTIONS unless it is configured already; a
# directory whose previous setup stopped half-way is reconfigured.
define meson_setup
	@if [ -f $(1)/build.ninja ]; then :; \
	elif [ -f $(1)/meson-private/coredata.dat ]; then \
	    $(MESON) setup --reconfigure $(2) $(1); \
	else \
	    $(MESON) setup $(2) $(1); \
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

setup-asan: deps
	$(call meson_setup,$(BUILD_ASAN),$(ASAN_SETUP_FLAGS))

build-asan: setup-asan
	@$(NINJA) -C $(BUILD_ASAN) --quiet

check-asan: build-asan
	$(call meson_test,$(BUILD_ASAN),\
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)

check-update: setup
	@status=0; \
	"$(call python_of,$(BUILD))" tests/qapi-schema/run-case.py \
	    --gen scripts/qapi-gen.py --update-all || status=$$?; \
	echo "check-update: review with: git status tests/qapi-schema;" \
	    "git diff tests/qapi-schema"; \
	exit $$status

# Today only the schema compiler exists, so `make run` shows what it makes
# of the project's schema.  When the daemon lands (monitor issue), replace
# the body with starting $(BUILD)/tools/qapikit-blockd.
run: build
	@"$(call python_of,$(BUILD))" scripts/qapi-gen.py --dump-model \
	    qapi/qapi-schema.json
	@echo
	@echo "run: above is the checked model of qapi/qapi-schema.json." \
	    "The daemon (qapikit-blockd) arrives with the monitor issue."

bench: build
	@"$(call python_of,$(BUILD))" bench/gen-bench --mode dump $(BENCH_FLAGS)
	@echo
	@"$(call python_of,$(BUILD))" bench/gen-bench --mode gen $(BENCH_FLAGS)
	@echo
	@$(BUILD)/bench/visitor-bench $(VISITOR_BENCH_FLAGS)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
