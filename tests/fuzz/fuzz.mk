# Fuzzing, included by the Makefile: libFuzzer harnesses in tests/fuzz/.
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="manifest idx checkpoint db merge"]
#
# Builds with clang into build-fuzz/ (installing clang and its fuzzer runtime
# if -fsanitize=fuzzer does not link), then runs each harness in turn, one
# process, for FUZZ_SECONDS on a working copy of tests/fuzz/corpus/ kept in
# build-fuzz/corpus/ (it grows from run to run; tests/fuzz/ is only read).
# A finding stops the run and is saved in build-fuzz/artifacts/<target>/:
# minimize it with ./build-fuzz/fuzz_<target> -minimize_crash=1 -runs=10000 FILE,
# fix it, and add it to tests/fuzz/regressions/<target>/ (make test replays it;
# a new folder gets its line in tests/test_fuzz_regressions.c).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= manifest idx checkpoint db merge
FUZZ_BUILD := build-fuzz
FUZZ_PKGS := clang libclang-rt-dev
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unknown-pragmas -O1 -g \
              $(FUZZ_SAN) -Iinclude $(PKG_CFLAGS) -DMS_VERSION='"fuzz"'
# Only the modules under test and what they call: the rest of src/ is not
# reachable from the harnesses, and a file elsewhere that clang rejects
# should not stop the fuzzers.
FUZZ_LIB_SRC := src/base/util.c $(wildcard src/numeric/*.c) $(wildcard src/manifest/*.c) \
                $(wildcard src/db/*.c) $(wildcard src/report/export*.c) src/report/filter.c
FUZZ_OBJ := $(patsubst src/%.c,$(FUZZ_BUILD)/obj/%.o,$(FUZZ_LIB_SRC))
# Largest input: manifests well past the study's 4 KB, IDX files of ~10 images.
FUZZ_MAXLEN_manifest := 16384
FUZZ_MAXLEN_idx := 8192
FUZZ_MAXLEN_checkpoint := 32768
FUZZ_MAXLEN_db := 81920
# A mode byte and a shard of the seed corpus's sweep (57 and 61 KB).
FUZZ_MAXLEN_merge := 81920
# IDX inputs are slow (the reader allocates 1 MiB each time): try full lengths at once.
FUZZ_OPTS_manifest :=
FUZZ_OPTS_idx := -len_control=0
FUZZ_OPTS_checkpoint := -len_control=0
FUZZ_OPTS_db := -len_control=0
FUZZ_OPTS_merge := -len_control=0

.PHONY: fuzz fuzz-toolchain fuzz-seeds

fuzz: deps fuzz-toolchain
	@$(MAKE) --no-print-directory $(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	    case $$t in manifest) maxlen=$(FUZZ_MAXLEN_manifest) opts="$(FUZZ_OPTS_manifest)";; \
	                checkpoint) maxlen=$(FUZZ_MAXLEN_checkpoint) opts="$(FUZZ_OPTS_checkpoint)";; \
	                db) maxlen=$(FUZZ_MAXLEN_db) opts="$(FUZZ_OPTS_db)";; \
	                merge) maxlen=$(FUZZ_MAXLEN_merge) opts="$(FUZZ_OPTS_merge)";; \
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

$(FUZZ_BUILD)/obj/%.o: src/%.c $(wildcard include/*.h) $(wildcard src/*/*.h)
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
