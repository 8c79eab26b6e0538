# mlpsweep: build, test, data and the study, on Debian.
#
#   make sweep   install what is missing, fetch and verify MNIST, build, run the study
#   make test    install what is missing, fetch and verify MNIST, build and run every test
#
# Knobs: SANITIZE=address,undefined   NO_OMP=1   ARCH=<-march value, default native>

CC      ?= cc
ARCH    ?= native
SANITIZE ?=
NO_OMP  ?=

# Build folders are per flavour so a sanitizer build never mixes with a normal one.
BUILD := build$(if $(SANITIZE),-san$(if $(findstring thread,$(SANITIZE)),-thread))$(if $(NO_OMP),-noomp)

# Debian packages the build, the tests and the plots need.
DEPS_PKGS := gcc make pkg-config libyaml-dev libsqlite3-dev zlib1g-dev libcmocka-dev \
             sqlite3 gnuplot-nox ca-certificates

PKGS := yaml-0.1 sqlite3 zlib
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
             -DMS_VERSION='"$(shell git describe --always --dirty 2>/dev/null || echo unknown)"' \
             -DMS_BUILD='"$(firstword $(OPT))"' $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lm -lpthread $(LDLIBS)
LDFLAGS_ALL = $(OMP_FLAGS) $(SAN_FLAGS) $(LDFLAGS)

SRC := $(wildcard src/*.c)
OBJ := $(patsubst src/%.c,$(BUILD)/%.o,$(SRC))
LIB_OBJ := $(filter-out $(BUILD)/main.o,$(OBJ))
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

BIN := $(BUILD)/mlpsweep
MANIFEST ?= experiments/tdt4265_a2.yaml

.PHONY: all deps data test check-build sweep report bench clean distclean
.DEFAULT_GOAL := all

all: $(BIN) mlpsweep

# A stable path for users: ./mlpsweep links to the normal build.
mlpsweep: $(BUILD)/mlpsweep
	@if [ -z "$(SANITIZE)$(NO_OMP)" ]; then ln -sf $(BUILD)/mlpsweep mlpsweep; fi

$(BUILD)/%.o: src/%.c $(wildcard include/*.h) $(wildcard src/*.h) | $(BUILD)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BIN): $(OBJ)
	$(CC) $(LDFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/%.c $(LIB_OBJ) $(wildcard tests/*.h tests/fuzz/*.h) | $(BUILD)
	@mkdir -p $(BUILD)/tests
	$(CC) $(CFLAGS_ALL) -DMS_BIN='"$(BIN)"' $< $(LIB_OBJ) -o $@ $(LDFLAGS_ALL) \
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

test: deps data
	@$(MAKE) --no-print-directory check-build
	@sh tests/run.sh $(BUILD)

# ThreadSanitizer on the tests whose code runs threads of its own (the
# scheduler's workers, the store's lock, progress), built without OpenMP:
# ThreadSanitizer cannot see into libgomp and reports its barriers as races.
.PHONY: test-tsan
test-tsan: deps data
	@$(MAKE) --no-print-directory SANITIZE=thread NO_OMP=1 check-build
	@sh tests/run.sh build-san-thread-noomp test_store test_sweep test_shard

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

# The study's figures and summary tables, from its database (after `make sweep`).
report: all
	./$(BIN) plot $(MANIFEST) --out plots
	./$(BIN) export $(MANIFEST) --format md -o plots/summary.md
	./$(BIN) export $(MANIFEST) --format csv -o plots/summary.csv

# What `make bench` needs beyond the build: the NumPy peer (tests/bench/
# peer_numpy.py) and OpenBLAS, which NumPy uses and bench dlopen()s.
BENCH_PKGS := python3-numpy libopenblas0-pthread

# The benchmark as Markdown on stdout (1-2 minutes here; BENCH_ARGS=--quick:
# 2 epochs a figure and no study, under a minute).
bench: deps data
	@$(MAKE) --no-print-directory deps DEPS_PKGS="$(BENCH_PKGS)"
	@$(MAKE) --no-print-directory all $(BUILD)/bench
	@$(BUILD)/bench $(BIN) $(BENCH_ARGS)

$(BUILD)/bench: tests/bench/bench.c $(LIB_OBJ) | $(BUILD)
	$(CC) $(CFLAGS_ALL) $< $(LIB_OBJ) -o $@ $(LDFLAGS_ALL) $(LDLIBS_ALL) -ldl

clean:
	rm -rf build build-san* build-noomp build-fuzz mlpsweep

distclean: clean
	rm -rf data

# ---- fuzzing: libFuzzer harnesses in tests/fuzz/ (issue 6) ----
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="manifest idx checkpoint db"]
#
# Builds with clang into build-fuzz/ (installing clang and its fuzzer runtime
# if -fsanitize=fuzzer does not link), then runs each harness in turn, one
# process, for FUZZ_SECONDS on a working copy of tests/fuzz/corpus/ kept in
# build-fuzz/corpus/ (it grows from run to run; tests/fuzz/ is only read).
# A finding stops the run and is saved in build-fuzz/artifacts/<target>/:
# minimize it with ./build-fuzz/fuzz_<target> -minimize_crash=1 -runs=10000 FILE,
# fix it, and add it to tests/fuzz/regressions/<target>/ (make test replays it).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= manifest idx checkpoint db
FUZZ_BUILD := build-fuzz
FUZZ_PKGS := clang libclang-rt-dev
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unknown-pragmas -O1 -g \
              $(FUZZ_SAN) -Iinclude $(PKG_CFLAGS) -DMS_VERSION='"fuzz"'
# Only the modules under test and what they call: the rest of src/ is not
# reachable from the harnesses, and a file elsewhere that clang rejects
# should not stop the fuzzers.
FUZZ_LIB_SRC := src/util.c src/config.c src/manifest.c src/data.c src/train.c src/mlp.c \
                src/kernels.c src/rng.c src/store.c src/query.c src/export.c
FUZZ_OBJ := $(patsubst src/%.c,$(FUZZ_BUILD)/obj/%.o,$(FUZZ_LIB_SRC))
# Largest input: manifests well past the study's 4 KB, IDX files of ~10 images.
FUZZ_MAXLEN_manifest := 16384
FUZZ_MAXLEN_idx := 8192
FUZZ_MAXLEN_checkpoint := 32768
FUZZ_MAXLEN_db := 81920
# IDX inputs are slow (the reader allocates 1 MiB each time): try full lengths at once.
FUZZ_OPTS_manifest :=
FUZZ_OPTS_idx := -len_control=0
FUZZ_OPTS_checkpoint := -len_control=0
FUZZ_OPTS_db := -len_control=0

.PHONY: fuzz fuzz-toolchain fuzz-seeds

fuzz: deps fuzz-toolchain
	@$(MAKE) --no-print-directory $(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	    case $$t in manifest) maxlen=$(FUZZ_MAXLEN_manifest) opts="$(FUZZ_OPTS_manifest)";; \
	                checkpoint) maxlen=$(FUZZ_MAXLEN_checkpoint) opts="$(FUZZ_OPTS_checkpoint)";; \
	                db) maxlen=$(FUZZ_MAXLEN_db) opts="$(FUZZ_OPTS_db)";; \
	                *) maxlen=$(FUZZ_MAXLEN_idx) opts="$(FUZZ_OPTS_idx)";; esac; \
	    corpus=$(FUZZ_BUILD)/corpus/$$t art=$(FUZZ_BUILD)/artifacts/$$t log=$(FUZZ_BUILD)/fuzz_$$t.log; \
	    mkdir -p $$corpus $$art && cp tests/fuzz/corpus/$$t/* $$corpus/ || exit 1; \
	    extra=""; [ -d tests/fuzz/regressions/$$t ] && extra=tests/fuzz/regressions/$$t; \
	    echo "fuzz $$t: $(FUZZ_SECONDS) s, log in $$log"; \
	    st=0; ./$(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=$$maxlen \
	        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$$art/ $$opts \
	        $$corpus $$extra >$$log 2>&1 || st=$$?; \
	    execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log); \
	    rate=$$(sed -n 's/^stat::average_exec_per_sec: *//p' $$log); \
	    last=$$(grep -E '^#[0-9]+' $$log | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[^ ]+'); \
	    echo "fuzz $$t: $${execs:-?} execs ($${rate:-?}/s), $$last"; \
	    if [ $$st -ne 0 ]; then \
	        tail -n 60 $$log; found=$$(ls $$art); \
	        echo "fuzz $$t: FAILED (exit $$st)$${found:+; saved in $$art/: $$found}"; exit 1; \
	    fi; \
	done

# Probe that clang links a libFuzzer program; install the toolchain if not.
fuzz-toolchain:
	@mkdir -p $(FUZZ_BUILD)
	@printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
	    >$(FUZZ_BUILD)/probe.c
	@if ! $(FUZZ_CC) -fsanitize=fuzzer,address,undefined $(FUZZ_BUILD)/probe.c \
	        -o $(FUZZ_BUILD)/probe >/dev/null 2>&1; then \
	    echo "installing: $(FUZZ_PKGS)"; \
	    SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(FUZZ_PKGS) && \
	    $(FUZZ_CC) -fsanitize=fuzzer,address,undefined $(FUZZ_BUILD)/probe.c -o $(FUZZ_BUILD)/probe || \
	    { echo "$(FUZZ_CC) cannot link -fsanitize=fuzzer"; exit 1; }; \
	fi

$(FUZZ_BUILD)/obj/%.o: src/%.c $(wildcard include/*.h) $(wildcard src/*.h)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# An archive, so a harness links only the objects it uses.
$(FUZZ_BUILD)/libms.a: $(FUZZ_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_targets.h $(FUZZ_BUILD)/libms.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_BUILD)/libms.a -o $@ $(PKG_LIBS) -lm -lpthread

# The checkpoint seeds are checkpoints of the fuzz build: rewrite them when the
# checkpoint format changes.
fuzz-seeds: fuzz-toolchain $(FUZZ_BUILD)/gen_checkpoint_seeds
	./$(FUZZ_BUILD)/gen_checkpoint_seeds

$(FUZZ_BUILD)/gen_checkpoint_seeds: tests/fuzz/gen_checkpoint_seeds.c tests/fuzz/fuzz_targets.h $(FUZZ_BUILD)/libms.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $< $(FUZZ_BUILD)/libms.a -o $@ $(PKG_LIBS) -lm -lpthread
