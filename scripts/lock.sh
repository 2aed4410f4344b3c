#!/usr/bin/env bash
# Regenerate requirements.lock (`make lock`): every dependency of pyproject.toml, direct and
# transitive, runtime and the `test` extra, plus the build backend, pinned exactly, with the
# sha256 of every file of each pin. Pins already in the lock are kept while pyproject.toml
# allows them (a new dependency does not move the others); `--upgrade` (`make lock
# ARGS=--upgrade`) takes the newest versions allowed today for all of them.
# pip-tools runs from a throwaway venv at a pinned version, so the lock does not depend
# on what .venv holds. It resolves on the public index only: this machine's pip
# configuration (local mirrors, find-links, constraints) is ignored, and the lock names no
# index. Run it after changing dependencies in pyproject.toml, then commit both files.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCK=$ROOT/requirements.lock
PYTHON=${PYTHON:-python3}
PIP_TOOLS=(pip==26.3 pip-tools==7.7.0)  # pip-tools follows pip's internals: pin both
UPGRADE=()
case ${1-} in
  --upgrade) UPGRADE=(--upgrade) ;;
  '') ;;
  *) printf 'usage: %s [--upgrade]\n' "$0" >&2; exit 2 ;;
esac

log() { printf 'lock: %s\n' "$*" >&2; }
die() { printf 'lock: error: %s\n' "$*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null || die "$PYTHON not found (Python >= 3.11 is needed)"
# Markers resolve for the running interpreter: lock with the oldest Python we support.
"$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
  log "warning: resolving with $("$PYTHON" -V 2>&1); the lock is meant for Python 3.11"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# No config file, no find-links, no extra index: the same resolution on every machine.
export PIP_CONFIG_FILE=/dev/null
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_CONSTRAINT PIP_NO_INDEX

log "pip-tools in a throwaway venv (${PIP_TOOLS[*]})"
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --disable-pip-version-check -q "${PIP_TOOLS[@]}"

log "pip-compile ${UPGRADE[*]:+${UPGRADE[*]} }pyproject.toml [test] + build deps -> requirements.lock"
cd "$ROOT"
[[ ! -f $LOCK ]] || cp "$LOCK" "$work/requirements.lock"  # pip-compile keeps its pins
CUSTOM_COMPILE_COMMAND="make lock" "$work/venv/bin/pip-compile" -q "${UPGRADE[@]}" \
  --generate-hashes --allow-unsafe --strip-extras \
  --no-emit-index-url --no-emit-find-links \
  --extra test --build-deps-for editable \
  --output-file "$work/requirements.lock" pyproject.toml
if grep -Eq -- '^[[:space:]]*(-i|--index-url|--extra-index-url|-f|--find-links)' "$work/requirements.lock"; then
  die "pip-compile wrote an index or find-links line"
fi
mv "$work/requirements.lock" "$LOCK"
log "wrote $LOCK ($(grep -c '^[a-z0-9]' "$LOCK") pins); review with git diff, then commit it"
