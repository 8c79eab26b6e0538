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
BUILD := build$(if $(SANITIZE),-san)$(if $(NO_OMP),-noomp)

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
             $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lm -lpthread $(LDLIBS)
LDFLAGS_ALL = $(OMP_FLAGS) $(SAN_FLAGS) $(LDFLAGS)

SRC := $(wildcard src/*.c)
OBJ := $(patsubst src/%.c,$(BUILD)/%.o,$(SRC))
LIB_OBJ := $(filter-out $(BUILD)/main.o,$(OBJ))
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))

BIN := $(BUILD)/mlpsweep
MANIFEST ?= experiments/tdt4265_a2.yaml

.PHONY: all deps data test check-build sweep bench clean distclean
.DEFAULT_GOAL := all

all: $(BIN) mlpsweep

# A stable path for users: ./mlpsweep links to the normal build.
mlpsweep: $(BUILD)/mlpsweep
	@if [ -z "$(SANITIZE)$(NO_OMP)" ]; then ln -sf $(BUILD)/mlpsweep mlpsweep; fi

$(BUILD)/%.o: src/%.c $(wildcard include/*.h) $(wildcard src/*_impl.h) | $(BUILD)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BIN): $(OBJ)
	$(CC) $(LDFLAGS_ALL) $^ -o $@ $(LDLIBS_ALL)

$(BUILD)/tests/%: tests/%.c $(LIB_OBJ) $(wildcard tests/*.h) | $(BUILD)
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

sweep: deps data
	@$(MAKE) --no-print-directory all
	./$(BIN) run $(MANIFEST)

bench: deps data
	@$(MAKE) --no-print-directory all
	@sh scripts/bench.sh $(BIN)

clean:
	rm -rf build build-san build-noomp build-san-noomp mlpsweep

distclean: clean
	rm -rf data
