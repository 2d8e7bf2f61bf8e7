# partifact — the two commands a fresh Debian 12 machine needs (as root):
#   make demo    install what is needed, build, and run the main job on generated data
#   make check   install what is needed, build, and run every test
# Other targets: deps, build, install, install-python (the Python package), check-asan (the
# ASan+UBSan test build), fuzz / check-fuzz (the libFuzzer targets, built with clang), bench,
# clean, format, format-check.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_TARGETS := $(shell grep -o '^  fuzz_[a-z_]*' fuzz/targets.cmake)
FUZZ_SECONDS ?= 25
JOBS       ?= $(shell nproc)
# Debian's python3 (with python3-numpy and pip), ahead of any other python3 on PATH
PYTHON     ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
APT_PKGS   := build-essential cmake pkg-config git libopenblas-dev libopenblas-openmp-dev \
              protobuf-c-compiler libprotobuf-c-dev libjansson-dev libxxhash-dev libgomp1 time \
              clang libclang-rt-14-dev libomp-14-dev libroaring-dev python3 libzstd-dev liblz4-dev \
              clang-format
# the Python package (python/) and its tests: numpy, pytest, and pip to install it
APT_PKGS   += python3-numpy python3-pytest python3-pip python3-setuptools python3-wheel
# the MPI driver (build --mpi, src/mpi) and its tests (tests/mpi): Debian's OpenMPI
APT_PKGS   += openmpi-bin libopenmpi-dev
NODE_DIR   := tests/interop
BENCH_PKGS := python3-faiss python3-numpy python3-matplotlib dataset-fashion-mnist time

.PHONY: all deps deps-apt deps-node build demo check check-asan fuzz check-fuzz install install-python bench bench-deps clean format format-check

all: build

deps: deps-apt deps-node

# Installs the Debian packages that are missing (nothing when all are present).
deps-apt:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then missing="$$missing nodejs npm"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# Installs the pinned npm packages (LanceDB) used by the interop tests.
# package.json pins exact versions and package-lock.json the rest; `npm ci` is
# not usable: @lancedb/lancedb 0.37.1 names optional platform packages that
# were never published, so npm 11 always finds the lock "out of sync". `npm
# install --no-save` installs from the lock without rewriting it.
deps-node:
	@if [ ! -d $(NODE_DIR)/node_modules/@lancedb/lancedb ]; then \
	  echo "installing npm packages in $(NODE_DIR)"; \
	  cd $(NODE_DIR) && npm install --no-save --no-audit --no-fund --loglevel=error; fi
	@if [ ! -d $(NODE_DIR)/lancedb-0.39/node_modules/@lancedb/lancedb ]; then \
	  echo "installing npm packages in $(NODE_DIR)/lancedb-0.39"; \
	  cd $(NODE_DIR)/lancedb-0.39 && npm install --no-save --no-audit --no-fund --loglevel=error; fi

# Warnings are errors in the check targets (and so in CI) and with `make WERROR=ON ...`; a
# plain build or install does not stop on a newer compiler's new warnings.
WERROR ?= OFF
check check-asan fuzz check-fuzz: WERROR = ON

build: deps-apt
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPA_WERROR=$(WERROR) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	./scripts/demo.sh $(BUILD)

check: deps build install-python
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The same unit tests under AddressSanitizer + UndefinedBehaviorSanitizer.
check-asan: deps-apt
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPA_SANITIZE=ON -DPA_WERROR=$(WERROR) >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS) -L unit

# The libFuzzer targets (fuzz/): clang with -fsanitize=fuzzer,address,undefined; libFuzzer
# itself comes from libclang-rt-14-dev, OpenMP for clang from libomp-14-dev.
fuzz: deps-apt
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DPA_FUZZ=ON -DPA_BUILD_TESTS=OFF \
	  -DCMAKE_BUILD_TYPE=Debug -DPA_WERROR=$(WERROR) >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

# A short run of every fuzz target (FUZZ_SECONDS each, one after the other); fails on any crash,
# leak, hang or sanitizer report. Long runs: fuzz/run.sh TARGET SECONDS (docs/fuzzing.md).
check-fuzz: fuzz
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzzing $$t for $(FUZZ_SECONDS) s"; \
	  fuzz/run.sh $$t $(FUZZ_SECONDS) $(FUZZ_BUILD) >$(FUZZ_BUILD)/$$t.log 2>&1 \
	    || { tail -50 $(FUZZ_BUILD)/$$t.log; exit 1; }; \
	  grep -E 'stat::(number_of_executed_units|new_units_added)' $(FUZZ_BUILD)/$$t.log; \
	done

# The peers and data the benchmarks compare against (FAISS, Fashion-MNIST; LanceDB from npm).
bench-deps: deps
	@missing=""; for p in $(BENCH_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# Every benchmark, side by side with the peers; tables for BENCHMARKS.md on stdout.
# The FAISS peer: FAISS_PYTHONPATH=$(cat BUILD/faiss-pythonpath) after bench/faiss_build.sh SRC
# BUILD (a FAISS built for the CPU); Debian's generic python3-faiss only with
# FAISS_CORRECTNESS_ONLY=1 (the FAISS benchmarks stop otherwise).
bench: bench-deps build
	bench/backend_bench.sh $(BUILD)
	bench/artifact_bench.sh $(BUILD)
	bench/finalize_bench.sh $(BUILD)
	bench/index_bench.sh $(BUILD)
	bench/kernels_bench.sh $(BUILD)
	bench/table_bench.sh $(BUILD)
	bench/mpi_bench.sh $(BUILD)
	bench/build_vs_faiss.sh $(BUILD)

install: build
	cmake --install $(BUILD)
	-ldconfig

# The Python package (python/) over the installed libpartifact: what the README's Python
# quick start needs; `make check` runs it so the quick start works after it.
install-python: install
	$(PYTHON) -m pip install -q --break-system-packages --no-build-isolation --no-deps \
	  --no-warn-script-location --root-user-action=ignore ./python

# clang-format (.clang-format) over every tracked C source and header, less generated code
# (protoc-c's *.pb-c.[ch], which are written into the build directory). format-check changes
# nothing and fails on any file clang-format would change; format rewrites them.
FORMAT_FILES = $(shell git ls-files '*.c' '*.h' | grep -Ev '\.pb-c\.[ch]$$')
format-check: deps-apt
	clang-format --dry-run -Werror $(FORMAT_FILES)

format:
	clang-format -i $(FORMAT_FILES)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
