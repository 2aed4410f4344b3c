#!/usr/bin/env bash
# The canary (`make test-latest`; not part of `make test` or CI): a throwaway venv in
# build/latest-venv with the newest versions pyproject.toml allows today, ignoring
# requirements.lock, then the unit and protocol tests in it. It fails before users do when a
# new release of a dependency (tomlkit 0.15 was one) breaks us; the versions it got are in
# build/latest-freeze.txt. Then fix the code or the range, and `make lock ARGS=--upgrade`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$ROOT/build/latest-venv
FREEZE=$ROOT/build/latest-freeze.txt
PYTHON=${PYTHON:-python3}

log() { printf 'test-latest: %s\n' "$*" >&2; }

log "creating $VENV (the lock is not used)"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
log "pip install --upgrade --upgrade-strategy eager -e '.[test]'"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q \
  --upgrade --upgrade-strategy eager -e "${ROOT}[test]"
"$VENV/bin/python" -m pip freeze --exclude-editable >"$FREEZE"
log "got (also in $FREEZE): $(paste -sd ' ' "$FREEZE")"
"$VENV/bin/python" -m pip --disable-pip-version-check check >&2
# The lock comparison is meant to fail here whenever newer releases exist: not run.
cd "$ROOT"
log "pytest tests/unit tests/protocol"
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
  --ignore=tests/unit/project/test_dependency_lock.py tests/unit tests/protocol "$@"
