# hanoi247 — the two commands of the quick start are `make demo` and `make test`.
# Both work on a fresh Debian machine that has only Python: they create .venv, install the
# package and its dependencies, and install the system packages they need with apt.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR ?= .demo

# System packages: PostgreSQL (tests run a throwaway cluster), age (tests open evidence
# packages with the real CLI), poppler-utils (pdftotext for PDF tests), fonts and Chromium
# for the browser tests and PDFs.
APT_PACKAGES := postgresql age poppler-utils fonts-noto-core fonts-noto-cjk chromium sqlite3
# `make bench` also needs gnupg: bench_evidence times `sha256sum` + `gpg --encrypt`, what
# officers use today, beside the node's ingest of the same file (`make test` does not).
BENCH_APT_PACKAGES := gnupg
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test bench lint typecheck format sysdeps venv unit clean messages axe

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# Installs with apt only what is missing; `apt-get update` once, only when needed.
sysdeps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null || \
	  { echo "error: could not install$$missing with apt-get; install them and run again" >&2; exit 1; }; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/python scripts/extract_messages.py --check
	$(BIN)/python scripts/compile_messages.py --check
	$(BIN)/python scripts/export_protocol.py --check
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy --strict src/hanoi247
	$(BIN)/mypy benchmarks  # not strict: scripts that print figures, but no wrong types

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks scripts
	$(BIN)/ruff check --fix src tests benchmarks scripts

# Translations: after changing rule data or UI strings, update the catalogues and translate.
messages: $(STAMP)
	$(BIN)/python scripts/extract_messages.py --update
	$(BIN)/python scripts/compile_messages.py

# Two workers (pytest-xdist), one per core; a test file stays on one worker so that its
# module fixtures (provisioned nodes, a browser) are built once.
test: sysdeps $(STAMP) axe lint typecheck
	$(BIN)/pytest -q -p no:cacheprovider -n 2 --dist loadfile --durations=25

# axe-core for the browser tests' accessibility scans (tests/browser), fetched once with npm
# into an ignored cache and checked against the pinned SHA-256 of axe.min.js.
AXE_VERSION := 4.14.1
AXE_SHA256  := 29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c
AXE_JS      := .cache/axe-core-$(AXE_VERSION)/axe.min.js

axe: $(AXE_JS)

$(AXE_JS):
	@command -v npm >/dev/null 2>&1 || { echo "error: npm is needed to fetch axe-core $(AXE_VERSION) for the browser tests (apt-get install npm)" >&2; exit 1; }
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  (cd "$$tmp" && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && tar xzf axe-core-$(AXE_VERSION).tgz package/axe.min.js) && \
	  echo "$(AXE_SHA256)  $$tmp/package/axe.min.js" | sha256sum --check --quiet - || \
	  { echo "error: could not fetch axe-core $(AXE_VERSION) with npm, or its SHA-256 is not $(AXE_SHA256)" >&2; exit 1; }; \
	  mkdir -p $(@D) && cp "$$tmp/package/axe.min.js" $@.tmp && mv $@.tmp $@

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

bench: $(STAMP)
	@$(MAKE) --no-print-directory sysdeps APT_PACKAGES="$(APT_PACKAGES) $(BENCH_APT_PACKAGES)"
	$(BIN)/python -m benchmarks

demo: sysdeps $(STAMP)
	$(BIN)/hanoi247 demo --state-dir $(DEMO_DIR)

clean:
	rm -rf $(VENV) $(DEMO_DIR) .mypy_cache .ruff_cache .pytest_cache
