#!/usr/bin/env bash
# Create .venv (python3 -m venv) and install the package with its test extras into it.
# make runs this only when pyproject.toml (or this script) is newer than .venv/.containai-installed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$ROOT/.venv
STAMP=$VENV/.containai-installed
PYTHON=${PYTHON:-python3}
export DEBIAN_FRONTEND=noninteractive

log() { printf 'venv: %s\n' "$*" >&2; }
die() { printf 'venv: error: %s\n' "$*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null || die "$PYTHON not found (Python >= 3.11 is needed)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
  die "Python >= 3.11 is needed; $PYTHON is $("$PYTHON" -V 2>&1)"

# Debian ships venv/ensurepip separately (python3.X-venv).
if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
  pkg=python$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')-venv
  [[ $EUID -eq 0 ]] || die "$PYTHON has no venv/ensurepip; install $pkg (as root: apt-get install $pkg)"
  command -v apt-get >/dev/null || die "$PYTHON has no venv/ensurepip, and there is no apt-get to install $pkg"
  log "apt-get install $pkg"
  apt-get -o DPkg::Lock::Timeout=300 -q update >/dev/null
  apt-get -o DPkg::Lock::Timeout=300 -q -y install "$pkg" >/dev/null
fi

# A venv whose interpreter is gone (Python upgraded, folder copied) is rebuilt.
if [[ -d $VENV ]] && ! "$VENV/bin/python" -c '' 2>/dev/null; then
  log "removing broken $VENV"
  rm -rf "$VENV"
fi
if [[ ! -x $VENV/bin/python ]]; then
  log "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

log "pip install -e '.[test]'"
rm -f "$STAMP"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q -e "${ROOT}[test]"
touch "$STAMP"
log "ready: $("$VENV/bin/python" -V)"
