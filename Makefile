# Everything a fresh Debian machine needs: `make run` and `make test` install what is missing.
SWIFT ?= swift
APT_PACKAGES := liburing-dev libzstd-dev libdeflate-dev libssl-dev pkg-config
# Only the tests need these: Go and the Debian-packaged memberlist build the ring test's peer.
TEST_APT_PACKAGES := golang-go golang-github-hashicorp-memberlist-dev golang-github-golang-snappy-dev golang-google-grpc-dev
MEMBERLIST_PEER := .build/memberlist-peer/peer
GRPC_GO_CLIENT := .build/grpc-go-client/client
GRPC_GO_METASTORE := .build/grpc-go-metastore/metastore
VENV := .venv
PYTHON := $(VENV)/bin/python
SWIFT_TEST_FLAGS ?=

.PHONY: all deps test-deps venv build build-release build-tests test swift-test python-test memberlist-peer grpc-go-peers run clean
.PHONY: bench bench-check bench-thresholds loadgen ingest-passes ingest-callgrind ingest-perf fuzz fuzz-replay

all: build

# Installs those of the Debian packages $(1) that are missing ($(2): more apt-get options).
define apt_install_missing
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(2) $$missing; \
	fi
endef

deps:
	$(call apt_install_missing,$(APT_PACKAGES))

# Prometheus scrapes /metrics in the tests; without its recommendations (node exporter, IPMI tools).
test-deps:
	$(call apt_install_missing,$(TEST_APT_PACKAGES))
	$(call apt_install_missing,prometheus,--no-install-recommends)

# A stamp inside the venv says its packages match requirements.txt (the interpreter itself is a
# link to the system's, shared by every checkout: touching it would date all their venvs).
VENV_STAMP := $(VENV)/.requirements-installed

$(VENV_STAMP): Tests/Python/requirements.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -r Tests/Python/requirements.txt
	touch $(VENV_STAMP)

venv: $(VENV_STAMP)

build: deps
	$(SWIFT) build

build-release: deps
	$(SWIFT) build -c release

build-tests: deps
	$(SWIFT) build --build-tests $(SWIFT_TEST_FLAGS)

swift-test: build-tests
	$(SWIFT) test --skip-build $(SWIFT_TEST_FLAGS)

# The memberlist peer the ring tests join (Tests/Peers/memberlist-peer), built offline from the
# Debian Go packages in GOPATH mode.
$(MEMBERLIST_PEER): $(wildcard Tests/Peers/memberlist-peer/*.go) | test-deps
	cd Tests/Peers/memberlist-peer && GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= \
	  GOCACHE=$(CURDIR)/.build/gocache go build -o $(CURDIR)/$(MEMBERLIST_PEER) .

memberlist-peer: $(MEMBERLIST_PEER)

# Both gRPC peers in grpc-go, Debian's, likewise: the distributors' side of Push
# (Tests/Peers/grpc-go-client) and a metastore double for AddBlock (Tests/Peers/grpc-go-metastore).
$(GRPC_GO_CLIENT): $(wildcard Tests/Peers/grpc-go-client/*.go) | test-deps
	cd Tests/Peers/grpc-go-client && GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= \
	  GOCACHE=$(CURDIR)/.build/gocache go build -o $(CURDIR)/$(GRPC_GO_CLIENT) .

$(GRPC_GO_METASTORE): $(wildcard Tests/Peers/grpc-go-metastore/*.go) | test-deps
	cd Tests/Peers/grpc-go-metastore && GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= \
	  GOCACHE=$(CURDIR)/.build/gocache go build -o $(CURDIR)/$(GRPC_GO_METASTORE) .

grpc-go-peers: $(GRPC_GO_CLIENT) $(GRPC_GO_METASTORE)

# Some Python tests run a Swift suite (built by build-tests) for what it writes or checks.
python-test: venv build build-tests $(MEMBERLIST_PEER) $(GRPC_GO_CLIENT) $(GRPC_GO_METASTORE)
	SWIFT=$(SWIFT) SWIFT_BIN_PATH=$$($(SWIFT) build --show-bin-path) SEGTOOL=$$($(SWIFT) build --show-bin-path)/segtool \
	  MEMBERLIST_PEER=$(CURDIR)/$(MEMBERLIST_PEER) GRPC_GO_CLIENT=$(CURDIR)/$(GRPC_GO_CLIENT) \
	  GRPC_GO_METASTORE=$(CURDIR)/$(GRPC_GO_METASTORE) $(PYTHON) -m pytest -q Tests/Python

test: swift-test python-test

# The server with its defaults: gRPC Push on :9095, /ready and /metrics on :4040, objects under ./data.
run: deps
	$(SWIFT) build -c release --product segment-writer
	$$($(SWIFT) build -c release --show-bin-path)/segment-writer -storage.filesystem.dir=./data $(ARGS)

# Benchmarks/ is a package of its own (package-benchmark), built in release by the plugin;
# BENCH_FLAGS passes options on, e.g. BENCH_FLAGS="--filter Ingest".
BENCH_FLAGS ?=

bench: deps
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark $(BENCH_FLAGS)

# Load against a release segment-writer that loadgen starts itself (filesystem bucket in a
# temporary directory); LOADGEN_FLAGS passes options on, e.g.
# LOADGEN_FLAGS="--rate-fraction 0.7 --duration 20s --report /tmp/loadgen" (Sources/Tools/LoadGen/README.md).
LOADGEN_FLAGS ?= --duration 10s

loadgen: deps
	$(SWIFT) build -c release --product segment-writer
	$(SWIFT) build -c release --product loadgen
	bin=$$($(SWIFT) build -c release --show-bin-path); $$bin/loadgen --spawn-server $$bin/segment-writer $(LOADGEN_FLAGS)

# Issue #4's measure without a server or the benchmark harness: the corpus through one in-process
# accumulator, pass after pass, beside a gunzip baseline. INGEST_FLAGS passes options on, e.g.
# INGEST_FLAGS="--compression none --normalize" or INGEST_FLAGS="--only heap --json".
INGEST_PASSES ?= 200
INGEST_FLAGS ?=

ingest-passes: deps
	$(SWIFT) build -c release --product loadgen
	$$($(SWIFT) build -c release --show-bin-path)/loadgen --in-process-passes $(INGEST_PASSES) $(INGEST_FLAGS)

# The same passes counted by callgrind (instructions: repeatable whatever the machine does):
# 7 passes minus 2, over 5, inside the ingest pass only. valgrind 3.19 reads DWARF 4, not the
# toolchain's default 5, hence a build folder of its own. The 7-pass profile stays for
# `callgrind_annotate .build-callgrind/ingest.7.out`.
CALLGRIND_DIR := .build-callgrind

ingest-callgrind: deps
	$(call apt_install_missing,valgrind)
	$(SWIFT) build -c release --product loadgen --scratch-path $(CALLGRIND_DIR) -Xswiftc -dwarf-version=4 -Xcc -gdwarf-4
	@bin=$$($(SWIFT) build -c release --scratch-path $(CALLGRIND_DIR) --show-bin-path); \
	for n in 2 7; do \
	  valgrind --tool=callgrind --toggle-collect='*ingestPass*' --callgrind-out-file=$(CALLGRIND_DIR)/ingest.$$n.out \
	    $$bin/loadgen --in-process-passes $$n --quiet $(INGEST_FLAGS) >/dev/null 2>$(CALLGRIND_DIR)/ingest.$$n.log || exit 1; \
	done; \
	a=$$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' $(CALLGRIND_DIR)/ingest.2.log); \
	b=$$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' $(CALLGRIND_DIR)/ingest.7.log); \
	echo "decode+accumulate: $$(( (b - a) / 5 )) instructions per pass (callgrind, $(INGEST_FLAGS))"

# The same passes by wall time: perf samples the CPU clock (no hardware counters needed) with
# DWARF call graphs, and Benchmarks/Scripts/ingest-self-times.awk keeps the samples inside the
# ingest pass (not the gunzip baseline, not the flush) and prints milliseconds per pass per
# function. It shows what instruction counts cannot: code that waits on memory.
PERF_HZ := 999
PERF_DATA := .build/ingest.perf.data

ingest-perf: deps
	$(call apt_install_missing,linux-perf)
	$(SWIFT) build -c release --product loadgen
	@bin=$$($(SWIFT) build -c release --show-bin-path); \
	perf record -q -F $(PERF_HZ) -e cpu-clock --call-graph dwarf,16384 -o $(PERF_DATA) \
	  $$bin/loadgen --in-process-passes $(INGEST_PASSES) --quiet $(INGEST_FLAGS) >/dev/null || exit 1; \
	perf script -i $(PERF_DATA) -F ip,sym,dso 2>/dev/null \
	  | awk -v hz=$(PERF_HZ) -v passes=$$(( $(INGEST_PASSES) + 2 )) -v top=25 -f Benchmarks/Scripts/ingest-self-times.awk \
	  | $(SWIFT) demangle --simplified

# Coverage-guided fuzzing (Sources/Tools/FuzzChecks): libFuzzer drives a check in a build with
# AddressSanitizer, in a build folder of its own. FUZZ_INPUT=profile fuzzes a push's pprof bytes,
# FUZZ_INPUT=push whole PushRequest messages, FUZZ_INPUT=sequence several pushes into one segment
# (`IngestCheck`: refused ⇒ the accumulator unchanged, accepted ⇒ the flushed object verifies);
# FUZZ_INPUT=grpc a client's bytes on a gRPC connection, FUZZ_INPUT=http1 on the operational
# port; FUZZ_INPUT=metastore, memberlist and s3 what those peers answer. Each starts from seeds
# (`fuzz --seeds`) and keeps what it learns in $(FUZZ_DIR)/corpus-$(FUZZ_INPUT). A broken promise
# or a crash is kept as $(FUZZ_DIR)/crash-*; `make fuzz-replay FUZZ_FILES=...` replays inputs
# without the sanitizer. libFuzzer's own `main` is not linked (SwiftPM names the entry point itself): its
# driver is called from ours, hence the no-main runtime and the C++ library it needs. Swift's
# backtracer is off there: libFuzzer's and AddressSanitizer's handlers report a crash.
TESTDATA ?= ../shared/testdata
FUZZ_DIR := .build-fuzz
FUZZ_INPUT ?= profile
FUZZ_SECONDS ?= 600
FUZZ_FILES ?= $(FUZZ_DIR)/crash-*
FUZZ_FLAGS ?=
LIBFUZZER = $(shell ls $(dir $(realpath $(shell which swiftc)))../lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a)

fuzz: deps
	$(SWIFT) build -c release --product fuzz --scratch-path $(FUZZ_DIR) -Xswiftc -DFUZZING -Xswiftc -sanitize=address \
	  -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp -Xlinker $(LIBFUZZER) -Xlinker -lstdc++
	$(SWIFT) build --product fuzz
	mkdir -p $(FUZZ_DIR)/corpus-$(FUZZ_INPUT)
	FUZZ_INPUT=$(FUZZ_INPUT) $$($(SWIFT) build --show-bin-path)/fuzz --seeds $(FUZZ_DIR)/corpus-$(FUZZ_INPUT) $(TESTDATA)/pprof
	bin=$$($(SWIFT) build -c release --scratch-path $(FUZZ_DIR) --show-bin-path); cd $(FUZZ_DIR) && \
	  SWIFT_BACKTRACE=enable=no FUZZ_INPUT=$(FUZZ_INPUT) FUZZ_SEED=$(abspath $(TESTDATA))/pprof/profile_nodejs $$bin/fuzz \
	  -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 -max_len=300000 -print_final_stats=1 $(FUZZ_FLAGS) corpus-$(FUZZ_INPUT)

fuzz-replay: deps
	$(SWIFT) build --product fuzz
	@files=$$(ls -d $(FUZZ_FILES) 2>/dev/null); if [ -z "$$files" ]; then echo "nothing to replay: no $(FUZZ_FILES)"; exit 0; fi; \
	FUZZ_INPUT=$(FUZZ_INPUT) FUZZ_SEED=$(TESTDATA)/pprof/profile_nodejs $$($(SWIFT) build --show-bin-path)/fuzz $$files

# Regression check against the committed Benchmarks/Thresholds/*.p90.json (wall clock and malloc
# counts; tolerances in Benchmarks/Benchmarks/SegmentBenchmarks/SegmentBenchmarks.swift). Fails on
# a regression, and on an improvement beyond the tolerance (refresh the thresholds then).
BENCH_CHECK_METRICS := --metric wallClock --metric mallocCountTotal

bench-check: deps
	cd Benchmarks && $(SWIFT) package --disable-sandbox benchmark thresholds check $(BENCH_CHECK_METRICS) $(BENCH_FLAGS)

# Rewrites the thresholds from a fresh run; BENCH_FLAGS='--filter ...' refreshes a subset.
# package-benchmark 1.38.1 writes a file name with `_` for each space of the benchmark name but
# looks it up with the spaces, so the files are renamed back (names must not contain `_` or `/`).
bench-thresholds: deps
	cd Benchmarks && $(SWIFT) package --disable-sandbox --allow-writing-to-package-directory \
	  benchmark thresholds update $(BENCH_CHECK_METRICS) $(BENCH_FLAGS)
	cd Benchmarks/Thresholds && for f in *_*.p90.json; do \
	  [ -e "$$f" ] && mv -f "$$f" "$$(printf '%s' "$$f" | tr '_' ' ')"; done; true

clean:
	rm -rf .build $(VENV)
