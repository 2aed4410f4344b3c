# The README's commands. Each target sets up what it needs; the logic lives in scripts/.
#   make run    set up, then start/attach this workspace's container with `cai run`
#   make test   set up, lint, run the test suite
#   make lock   regenerate requirements.lock after a dependency change in pyproject.toml
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV          := .venv
STAMP         := $(VENV)/.containai-installed
PY            := $(VENV)/bin/python
LINT_PATHS    := $(wildcard containai_rpc tests bench scripts examples tools)
# `make run` works on this directory (make -C changes it): override with CAI_WORKSPACE=<dir>.
CAI_WORKSPACE ?= $(CURDIR)
ARGS          ?=
PYTEST_ARGS   ?=

.PHONY: help setup engine images lint lock test test-python test-extension test-latest run bench clean reliability

help:
	@echo 'make run     set up, then `cai run` in $$CAI_WORKSPACE (default: here); ARGS=... passes options'
	@echo 'make test    set up, lint, then pytest (PYTEST_ARGS=... passes options)'
	@echo 'make setup   .venv from requirements.lock + package, a Docker engine if none answers, the local images'
	@echo 'make lock    regenerate requirements.lock from pyproject.toml (ARGS=--upgrade: newest of everything)'
	@echo 'make test-latest  unit + protocol tests with the newest releases pyproject.toml allows (not in CI)'
	@echo 'make lint | bench | clean'

setup: $(STAMP) engine images

$(STAMP): pyproject.toml requirements.lock scripts/venv.sh
	@scripts/venv.sh

# After changing dependencies in pyproject.toml; commit both files.
lock:
	@scripts/lock.sh $(ARGS)

engine:
	@scripts/engine.sh

images: engine
	@scripts/images.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINT_PATHS)

test: test-python test-extension

test-python: setup lint
	@$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) || { rc=$$?; \
	  [ $$rc -ne 5 ] || echo 'make test: pytest collected no tests (exit 5): that is a failure' >&2; \
	  exit $$rc; }

# The extension: npm ci, build, node --test, .vsix, then the end-to-end run in a real
# VS Code (code-server, cached under /var/cache/containai-rpc) driven by headless Chromium.
test-extension: setup
	@editor-extension/scripts/test.sh

run: setup
	@echo 'make run: CONTAINAI_ALLOW_REDUCED_ISOLATION=1 (no Sysbox here: runc + CAP_SYS_ADMIN, weaker isolation)' >&2
	@cd '$(CAI_WORKSPACE)' && CONTAINAI_ALLOW_REDUCED_ISOLATION=1 exec '$(CURDIR)/$(VENV)/bin/cai' run $(ARGS)

# The canary: a throwaway venv (build/latest-venv) with the newest releases the ranges allow,
# ignoring the lock; unit and protocol tests. Not part of `make test` or CI.
test-latest: engine images
	@scripts/test-latest.sh $(PYTEST_ARGS)

# The reliability tests' long profile (`make test` runs their fast one): more fuzzing, longer races.
reliability: setup
	CONTAINAI_RELIABILITY_PROFILE=long $(PY) -m pytest -q -p no:cacheprovider --timeout=3600 tests/reliability $(PYTEST_ARGS)

bench: setup
	$(PY) -m bench $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
	find . -path ./editor-extension/node_modules -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
