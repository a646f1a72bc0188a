# Rapport's two commands. Both install what is missing first and say what they do.
#   make run    start Rapport on SQLite (./data), with demo data when no Slack is configured
#   make test   every check and test: fmt, clippy (server and wasm halves), unit,
#               integration (SQLite and PostgreSQL) and browser tests

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO_LEPTOS_VERSION := 0.3.10
# The wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"$$/\1/p;}' Cargo.lock)
CHROMIUM ?= /usr/bin/chromium
# leptos reads LEPTOS_OUTPUT_NAME while compiling; cargo-leptos sets it, so every cargo
# command here sets the same value and they all share one build.
export LEPTOS_OUTPUT_NAME := rapport
# Browser tests get their own port and a fresh SQLite database seeded with the demo team.
E2E_ADDR ?= 127.0.0.1:3900
E2E_DIR := target/e2e

.PHONY: help run test tools browser-tools fmt-check clippy unit-tests e2e fuzz bench bench-build bench-search bench-ingest bench-pages bench-idle bench-round bench-sign-in bench-bundle bench-site soak

help:
	@echo "make run    start Rapport on http://127.0.0.1:3000"
	@echo "make test   run every check and test"
	@echo "make fuzz   run the property tests with $(FUZZ_CASES) cases each (not part of make test)"
	@echo "make bench  run the benchmarks and write BENCHMARKS.md (not part of make test)"
	@echo "make soak   10 minutes of mixed load with a restart, then checks; report in SOAK.md (not part of make test)"

run: tools
	@echo "==> Starting Rapport on http://$${LEPTOS_SITE_ADDR:-127.0.0.1:3000} (database: $${DATABASE_URL:-sqlite://data/rapport.db})"
	cargo leptos serve --split

test: tools browser-tools fmt-check clippy unit-tests e2e
	@echo "==> All checks and tests passed"

tools:
	@if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then \
		echo "==> Installing the wasm32-unknown-unknown Rust target"; \
		rustup target add wasm32-unknown-unknown; \
	fi
	@if ! cargo leptos --version 2>/dev/null | grep -qF "$(CARGO_LEPTOS_VERSION)"; then \
		echo "==> Installing cargo-leptos $(CARGO_LEPTOS_VERSION) (one time, about 10 minutes on 2 cores)"; \
		CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
			cargo install cargo-leptos --locked --version $(CARGO_LEPTOS_VERSION); \
	fi
	@if ! wasm-bindgen --version 2>/dev/null | grep -qF "$(WASM_BINDGEN_VERSION)"; then \
		echo "==> Installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (one time, a few minutes)"; \
		cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force; \
	fi
	@if [ ! -x node_modules/.bin/wasm-opt ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
		echo "==> Installing npm tools (binaryen's wasm-opt, playwright-core)"; \
		npm ci --no-audit --no-fund; \
	fi

browser-tools:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "==> Installing Debian's Chromium for the browser tests"; \
		if [ "$$(id -u)" -eq 0 ]; then apt-get install -y chromium; else sudo apt-get install -y chromium; fi; \
	fi

fmt-check:
	@echo "==> cargo fmt --check"
	cargo fmt --all --check

clippy:
	@echo "==> clippy, server half (ssr)"
	cargo clippy -p app -p server -p bench --features app/ssr --all-targets -- -D warnings
	@echo "==> clippy, wasm half (hydrate)"
	cargo clippy -p app -p frontend --features app/hydrate --target wasm32-unknown-unknown -- -D warnings

unit-tests:
	@echo "==> unit and integration tests (storage tests on SQLite and PostgreSQL)"
	@pg_url="$${RAPPORT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"; \
	if command -v psql >/dev/null && ! psql "$$pg_url" -Atqc 'SELECT 1' >/dev/null 2>&1; then \
		if [ "$${RAPPORT_REQUIRE_POSTGRES:-}" = 1 ]; then \
			echo "!!! PostgreSQL is not reachable at $$pg_url and RAPPORT_REQUIRE_POSTGRES=1: the Postgres tests will fail."; \
		else \
			echo "!!! WARNING: PostgreSQL is not reachable at $$pg_url: every Postgres test will be SKIPPED."; \
			echo "!!! Start PostgreSQL, or set RAPPORT_TEST_POSTGRES_URL; RAPPORT_REQUIRE_POSTGRES=1 makes this a failure."; \
		fi; \
	fi
	cargo test -p app --features ssr
	cargo test -p server -p bench

e2e:
	@echo "==> building the app for the browser tests"
	cargo leptos build --split
	@echo "==> browser tests against http://$(E2E_ADDR) (Chromium at $(CHROMIUM))"
	rm -rf $(E2E_DIR) && mkdir -p $(E2E_DIR)
	env -u SLACK_BOT_TOKEN \
		DATABASE_URL=sqlite://$(E2E_DIR)/rapport.db \
		RAPPORT_DEMO_DATA=auto \
		LEPTOS_SITE_ADDR=$(E2E_ADDR) \
		LEPTOS_RELOAD_PORT=3901 \
		RAPPORT_E2E_BASE_URL=http://$(E2E_ADDR) \
		CHROMIUM_PATH=$(CHROMIUM) \
		cargo leptos end-to-end --split

# Property tests (each a `mod properties` beside the code it tests) run a bounded number of
# cases in `make test`; `make fuzz` runs the same tests with FUZZ_CASES cases each.
FUZZ_CASES ?= 20000

fuzz:
	@echo "==> property tests, $(FUZZ_CASES) cases each"
	PROPTEST_CASES=$(FUZZ_CASES) cargo test -p app --features ssr --lib properties::
	PROPTEST_CASES=$(FUZZ_CASES) cargo test -p server --lib properties::

# Benchmarks: the release server pinned to core 0, the load from core 1, on SQLite and on
# PostgreSQL (RAPPORT_BENCH_POSTGRES_URL); figures go into BENCHMARKS.md. Each can run alone.
BENCH_BIN := $(or $(CARGO_TARGET_DIR),target)/release
BENCH_POSTGRES_URL ?= $(or $(RAPPORT_BENCH_POSTGRES_URL),postgres://postgres@127.0.0.1:5432/postgres)
BENCH := taskset -c 1 $(BENCH_BIN)/rapport-bench --server $(BENCH_BIN)/rapport --postgres-url $(BENCH_POSTGRES_URL)

bench: bench-build bench-site
	@echo "==> every benchmark: search and B2 on one team per database, then B1, B3 idle and B4, B3 round, B6, B5"
	$(BENCH) all
	@echo "==> Benchmarks done: see BENCHMARKS.md"

# The release site, which B5 measures and the benchmarks' servers serve, has a site root of
# its own (`make run` and the browser tests build theirs, in debug, into target/site; the
# benchmarks' servers get LEPTOS_SITE_ROOT), and is built again only when what it is made
# of changed: remaking it takes minutes even with its wasm already compiled. What it is made
# of is listed by hand below: a new input (another crate the frontend builds from) goes there
# too, or a change to it leaves the site stale. bench/src/server.rs names the same root.
BENCH_SITE := target/site-release
BENCH_SITE_WASM := $(BENCH_SITE)/pkg/$(LEPTOS_OUTPUT_NAME).wasm
BENCH_SITE_SOURCES := $(shell find app/src frontend/src style public -type f) \
	Cargo.toml Cargo.lock app/Cargo.toml app/build.rs frontend/Cargo.toml

bench-site: tools $(BENCH_SITE_WASM)

# A build that fails after writing the wasm must not leave it looking up to date (make
# deletes the file target of a failed recipe; the other targets here are phony).
.DELETE_ON_ERROR:
$(BENCH_SITE_WASM): $(BENCH_SITE_SOURCES)
	@echo "==> building the release site (its wasm and JS) into $(BENCH_SITE)"
	LEPTOS_SITE_ROOT=$(BENCH_SITE) cargo leptos build --release --split --frontend-only
	touch $@

bench-build:
	@echo "==> building the release server and the benchmarks"
	cargo build --release -p server -p bench

bench-search: bench-build bench-site
	@echo "==> search and insights at 10,000 members and 200,000 answers"
	$(BENCH) search

bench-ingest: bench-build
	@echo "==> B1 ingest: signed Slack events, flat out and at 5,000 a second"
	$(BENCH) ingest

bench-pages: bench-build bench-site
	@echo "==> B2 pages: the directory, a profile and the question list of a team of 10,000, signed in"
	$(BENCH) pages

bench-idle: bench-build
	@echo "==> B3 idle and B4 memory: 1,000 installed workspaces with nothing due, left alone"
	$(BENCH) idle

bench-round: bench-build
	@echo "==> B3 round: 100,000 members in 1,000 workspaces due at once, against Slack's limits"
	$(BENCH) round

bench-sign-in: bench-build
	@echo "==> B6 sign-ins: 40 password sign-ins a second beside B1's events at half its rate"
	$(BENCH) sign-in

bench-bundle: bench-build bench-site
	@echo "==> B5 bundle: the release site's wasm and JS, gzipped"
	$(BENCH_BIN)/rapport-bench --server $(BENCH_BIN)/rapport bundle

# The soak: the release server on SQLite with the Slack emulator, 10 minutes of mixed load
# with a restart half-way, then checks against its database; the report goes to SOAK.md.
soak: bench-build bench-site
	@echo "==> soak: 10 minutes of mixed load on SQLite, a restart half-way"
	$(BENCH) --database sqlite soak
