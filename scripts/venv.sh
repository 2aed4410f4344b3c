#!/usr/bin/env bash
# Create .venv (python3 -m venv) and install exactly requirements.lock into it (hashes
# checked), then the package itself, editable, without resolving anything again.
# make runs this only when pyproject.toml, requirements.lock (or this script) is newer than
# .venv/.containai-installed. A .venv installed from another lock is rebuilt, so no package
# the lock dropped stays behind; then `pip check` and scripts/check_lock.py must pass.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$ROOT/.venv
STAMP=$VENV/.containai-installed
LOCK=$ROOT/requirements.lock
INSTALLED_LOCK=$VENV/.containai-lock  # the lock this .venv was installed from
PYTHON=${PYTHON:-python3}
export DEBIAN_FRONTEND=noninteractive

log() { printf 'venv: %s\n' "$*" >&2; }
die() { printf 'venv: error: %s\n' "$*" >&2; exit 1; }

[[ -f $LOCK ]] || die "$LOCK is missing (make lock writes it)"
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
elif [[ -d $VENV ]] && ! cmp -s "$LOCK" "$INSTALLED_LOCK"; then
  log "removing $VENV: it was not installed from this requirements.lock"
  rm -rf "$VENV"
fi
if [[ ! -x $VENV/bin/python ]]; then
  log "creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

pip() { "$VENV/bin/python" -m pip --disable-pip-version-check "$@"; }
rm -f "$STAMP"
log "pip install --require-hashes -r requirements.lock"
pip install -q --require-hashes -r "$LOCK"
log "pip install --no-deps --no-build-isolation -e ."
pip install -q --no-deps --no-build-isolation -e "$ROOT"
pip check >&2 || die "pip check: the installed packages' requirements conflict (see above)"
"$VENV/bin/python" "$ROOT/scripts/check_lock.py" "$LOCK" || die "$VENV differs from requirements.lock"
cp "$LOCK" "$INSTALLED_LOCK"
touch "$STAMP"
log "ready: $("$VENV/bin/python" -V)"
