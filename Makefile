# frontmcp-cpp. Two commands matter: `make run` and `make test` (see README.md).
BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= 2
HOST       ?= 127.0.0.1
PORT       ?= 3000
CMAKE_ARGS ?=
# Tests that take part in `make test` (all of them); narrow with e.g. LABELS=unit.
LABELS     ?=
# ccache hits across clones in different folders (CI builds a fresh clone elsewhere).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all deps configure build run test test-unit test-clang test-sanitize fuzz bench clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS)

configure: deps $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Builds only what it runs: the reference server.
run: configure
	cmake --build $(BUILD) -j $(JOBS) --target frontmcp-server
	$(BUILD)/bin/frontmcp-server --host $(HOST) --port $(PORT)

# Everything: g++ build + unit/integration/e2e/conformance tests, then the fuzz smoke
# run and the clang and ASan+UBSan builds (scripts/test-all.sh prints each summary).
test: build
	@bash scripts/test-all.sh $(BUILD) $(JOBS)

test-unit: build
	ctest --test-dir $(BUILD) -L unit --output-on-failure -j $(JOBS)

test-clang: deps
	@bash scripts/test-variant.sh clang $(JOBS)

test-sanitize: deps
	@bash scripts/test-variant.sh sanitize $(JOBS)

fuzz: deps
	@bash scripts/test-variant.sh fuzz $(JOBS)

bench: deps
	cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DFRONTMCP_BUILD_TESTS=OFF
	cmake --build build-bench -j $(JOBS)
	bash bench/run_load.sh

clean:
	rm -rf $(BUILD) build-clang build-sanitize build-fuzz build-bench
