# mlpsweep: build, test, data and the study, on Debian.
#
#   make sweep   install what is missing, fetch and verify MNIST, build, run the study
#   make test    install what is missing, fetch and verify MNIST, build and run every test
#   make check   the fast tier for the edit-compile-test loop: offline, no installs, no
#                MNIST, the tests that take seconds (the rest needs make test)
#
# Knobs: SANITIZE=address,undefined   NO_OMP=1   ARCH=<-march value, default native>

CC      ?= cc
ARCH    ?= native
SANITIZE ?=
NO_OMP  ?=

# Build folders are per flavour so a sanitizer build never mixes with a normal one.
BUILD := build$(if $(SANITIZE),-san$(if $(findstring thread,$(SANITIZE)),-thread))$(if $(NO_OMP),-noomp)

# Debian packages the build, the tests and the plots need.
DEPS_PKGS := gcc make pkg-config libyaml-dev libsqlite3-dev zlib1g-dev libdeflate-dev libcmocka-dev \
             sqlite3 gnuplot-nox ca-certificates

PKGS := yaml-0.1 sqlite3 zlib libdeflate
# Recursive (=) so pkg-config runs after `deps` has installed it.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))

OMP_FLAGS := $(if $(NO_OMP),-Wno-unknown-pragmas,-fopenmp)
SAN_FLAGS := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all)
OPT := $(if $(SANITIZE),-O1 -g,-O3 -g)

# -ffp-contract=fast: ISO C mode would otherwise forbid fused multiply-adds.
# The kernels call fma() explicitly, so results never depend on this flag.
CFLAGS_ALL = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes $(OPT) -march=$(ARCH) \
             -ffp-contract=fast $(OMP_FLAGS) $(SAN_FLAGS) -Iinclude $(PKG_CFLAGS) \
             -DMS_VERSION='"$(VERSION)"' \
             -DMS_BUILD='"$(firstword $(OPT))"' $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lmvec -lm -lpthread $(LDLIBS)
LDFLAGS_ALL = $(OMP_FLAGS) $(SAN_FLAGS) $(LDFLAGS)

# src/ is one folder a layer (src/*/README.md; make layers checks the rule).
SRC := $(wildcard src/*/*.c)
OBJ := $(patsubst src/%.c,$(BUILD)/%.o,$(SRC))
LIB_OBJ := $(filter-out $(BUILD)/cmd/main.o,$(OBJ))
HDRS := $(wildcard include/*.h src/*/*.h)
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

# The kernel tests once more for each other instruction-set class this CPU
# runs (AVX2+FMA, and the generic C kernels of any x86-64), so every class
# is checked on any machine, not only the one -march=native picks.
KERNEL_ARCHS := $(if $(SANITIZE)$(NO_OMP),,$(if $(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && \
                  grep -qw fma /proc/cpuinfo && echo y),x86-64-v3) x86-64)
TEST_BIN += $(patsubst %,$(BUILD)/tests/test_kernels_%,$(KERNEL_ARCHS))

BIN := $(BUILD)/mlpsweep
# The commit a build is made from, for --version and each run's provenance;
# the objects that print it are rebuilt when it changes.
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
MANIFEST ?= experiments/tdt4265_a2.yaml

.PHONY: all deps data test check check-build sweep report bench clean distclean install uninstall
.DEFAULT_GOAL := all

all: $(BIN) mlpsweep

# A stable path for users: ./mlpsweep links to the normal build.
mlpsweep: $(BUILD)/mlpsweep
	@if [ -z "$(SANITIZE)$(NO_OMP)" ]; then ln -sf $(BUILD)/mlpsweep mlpsweep; fi

$(BUILD)/%.o: src/%.c $(HDRS) | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/version.stamp: FORCE | $(BUILD)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' > $@
# every object that prints MS_VERSION (found, not listed: a new one is never stale)
$(patsubst src/%.c,$(BUILD)/%.o,$(shell grep -l MS_VERSION $(SRC))): $(BUILD)/version.stamp
.PHONY: FORCE
FORCE:

$(BIN): $(OBJ)
	$(CC) $(LDFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/%.c $(LIB_OBJ) $(wildcard tests/*.h tests/fuzz/*.h) | $(BUILD)
	@mkdir -p $(BUILD)/tests
	$(CC) $(CFLAGS_ALL) -DMS_BIN='"$(BIN)"' -DMS_DATA_DIR='"$(CURDIR)/data"' $< $(LIB_OBJ) -o $@ $(LDFLAGS_ALL) \
	    $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka) $(LDLIBS_ALL)

$(BUILD)/tests/test_kernels_%: tests/test_kernels.c src/numeric/kernels.c $(LIB_OBJ) \
                                $(HDRS) $(wildcard tests/*.h) | $(BUILD)
	@mkdir -p $(BUILD)/tests
	$(CC) $(CFLAGS_ALL) -march=$* tests/test_kernels.c src/numeric/kernels.c \
	    $(filter-out $(BUILD)/numeric/kernels.o,$(LIB_OBJ)) -o $@ $(LDFLAGS_ALL) \
	    $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka) $(LDLIBS_ALL)

$(BUILD):
	@mkdir -p $@

# Install missing Debian packages (as root, or through sudo).
deps:
	@missing=""; for p in $(DEPS_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The four canonical MNIST files in data/, checksums verified.
data:
	@sh scripts/fetch_mnist.sh data

check-build: $(BIN) $(TEST_BIN)

# What only the tests need: Chromium, to render the HTML report as a reader
# would; Debian's Fashion-MNIST, for the second dataset's sweep.
TEST_PKGS := chromium dataset-fashion-mnist

test: deps data layers
	@$(MAKE) --no-print-directory deps DEPS_PKGS="$(TEST_PKGS)"
	@$(MAKE) --no-print-directory check-build
	@sh tests/run.sh $(BUILD)

# Tests that need neither MNIST nor minutes: the manifest, the store and its
# integrity, exports, figures, statistics, kernels (this CPU's ISA), the RNG,
# the runs of earlier invocations (history: tiny data), runs of the same settings
# under two names (ident: tiny data), grid views (grid), pruning decisions (prune).
CHECK_TESTS := test_rng test_manifest test_stats test_store test_claims test_fuzz_regressions \
               test_integrity test_export test_export_rows test_plot test_kernels test_history \
               test_grid test_prune test_ident

check: layers $(BIN) $(addprefix $(BUILD)/tests/,$(CHECK_TESTS))
	@sh tests/run.sh $(BUILD) $(CHECK_TESTS)

# The include rule of the layers (scripts/check_layers.sh), then the same
# check on a copy of src/ with a wrong include planted, which must fail: the
# rule is seen to bite on every run.
.PHONY: layers
layers:
	@sh scripts/check_layers.sh .
	@t=$$(mktemp -d) && mkdir -p $$t/src $$t/include && cp -r src/* $$t/src/ && \
	    cp include/*.h $$t/include/ && echo '#include "ms_sweep.h"' >> $$t/src/numeric/data.c && \
	    if sh scripts/check_layers.sh $$t >/dev/null; then \
	        rm -rf $$t; echo "layers: a planted include of a higher layer passed"; exit 1; fi; \
	    rm -rf $$t; echo "layers: ok (and a planted wrong include is caught)"

# ThreadSanitizer on the tests whose code runs threads of its own (the
# scheduler's workers, the store's lock, progress), built without OpenMP:
# ThreadSanitizer cannot see into libgomp and reports its barriers as races.
.PHONY: test-tsan
test-tsan: deps data
	@$(MAKE) --no-print-directory SANITIZE=thread NO_OMP=1 check-build
	@sh tests/run.sh build-san-thread-noomp test_store test_sweep test_shard test_search

# Crash soak: 20 kill -9 at random moments, resumed each time, then SIGINT and
# SIGTERM; the result must equal an uninterrupted run bit for bit.
.PHONY: soak
soak: all data
	@bash tests/soak.sh $(BIN) $${SOAK_KILLS:-20}

# The SLURM test: a one-node cluster from Debian's packages (installed when
# missing; needs root), sweeps run as job arrays and checked against unsharded
# runs (tests/slurm/run.sh). Ends with a line `slurm: N passed, N failed`.
.PHONY: test-slurm
test-slurm: all data
	@bash tests/slurm/run.sh $(BIN)

sweep: deps data
	@$(MAKE) --no-print-directory all
	./$(BIN) run $(MANIFEST)
	@$(MAKE) --no-print-directory report

# The study's figures, summary tables and HTML report (plots/report.html),
# from its database (after `make sweep`).
report: all
	./$(BIN) plot $(MANIFEST) --out plots
	./$(BIN) export $(MANIFEST) --format md -o plots/summary.md
	./$(BIN) export $(MANIFEST) --format csv -o plots/summary.csv
	./$(BIN) report $(MANIFEST) -o plots/report.html

# What `make bench` needs beyond the build: the NumPy peer (tests/bench/
# peer_numpy.py) and OpenBLAS, which NumPy uses and bench dlopen()s.
BENCH_PKGS := python3-numpy libopenblas0-pthread

# The benchmark as Markdown on stdout (1-2 minutes here before the grid
# section, whose 10,000 runs take minutes more; BENCH_ARGS=--quick: 2 epochs
# a figure, no study, the grid at 1,000 runs only; --grid-only: the grid alone).
bench: deps data
	@$(MAKE) --no-print-directory deps DEPS_PKGS="$(BENCH_PKGS)"
	@$(MAKE) --no-print-directory all $(BUILD)/bench
	@$(BUILD)/bench $(BIN) $(BENCH_ARGS)

$(BUILD)/bench: tests/bench/bench.c $(LIB_OBJ) | $(BUILD)
	$(CC) $(CFLAGS_ALL) $< $(LIB_OBJ) -o $@ $(LDFLAGS_ALL) $(LDLIBS_ALL) -ldl

# Install like any Unix tool: the binary, its man page, the study manifests
# and the data fetchers that `mlpsweep fetch` runs (PREFIX/share/mlpsweep/).
# PREFIX (/usr/local) and DESTDIR (staging, for packages) as usual.
PREFIX ?= /usr/local
SHARE = $(DESTDIR)$(PREFIX)/share/mlpsweep
DOCDIR = $(DESTDIR)$(PREFIX)/share/doc/mlpsweep
INSTALLED = $(DESTDIR)$(PREFIX)/bin/mlpsweep $(DESTDIR)$(PREFIX)/share/man/man1/mlpsweep.1 \
            $(addprefix $(SHARE)/experiments/,$(notdir $(wildcard experiments/*.yaml))) \
            $(SHARE)/fetch_mnist.sh $(SHARE)/fetch_fashion_mnist.sh $(SHARE)/fetch_common.sh \
            $(DOCDIR)/schema.md $(DOCDIR)/LICENSE

install: all
	install -D -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/mlpsweep
	install -D -m 644 docs/mlpsweep.1 $(DESTDIR)$(PREFIX)/share/man/man1/mlpsweep.1
	install -d $(SHARE)/experiments
	install -m 644 experiments/*.yaml $(SHARE)/experiments/
	install -m 755 scripts/fetch_mnist.sh scripts/fetch_fashion_mnist.sh $(SHARE)/
	install -m 644 scripts/fetch_common.sh $(SHARE)/
	install -D -m 644 docs/schema.md $(DOCDIR)/schema.md
	install -D -m 644 LICENSE $(DOCDIR)/LICENSE

uninstall:
	rm -f $(INSTALLED)
	-rmdir $(SHARE)/experiments $(SHARE) $(DOCDIR) 2>/dev/null

clean:
	rm -rf build build-san* build-noomp build-fuzz mlpsweep

distclean: clean
	rm -rf data

# ---- fuzzing: make fuzz, make fuzz-seeds (libFuzzer; the rules, with their
# documentation, are in tests/fuzz/fuzz.mk beside the harnesses) ----
include tests/fuzz/fuzz.mk
