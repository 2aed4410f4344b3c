#!/usr/bin/env bash
# Installs (once) and caches what the editor e2e needs, then prints the paths as
#   KEY=value lines (CODE_SERVER=..., NODE24=..., CHROMIUM=...).
# Cache: /var/cache/containai-rpc (override with CONTAINAI_CACHE). Re-runs are no-ops.
#  - apt: chromium build-essential pkg-config python3 libkrb5-dev (only when missing)
#  - node 24 (code-server's install script insists on it): the project's scripts/node24.sh
#  - code-server@$CODE_SERVER_VERSION installed with that node and its headers
set -euo pipefail

CACHE="${CONTAINAI_CACHE:-/var/cache/containai-rpc}"
NODE24_VERSION="${NODE24_VERSION:-24.11.1}"
CODE_SERVER_VERSION="${CODE_SERVER_VERSION:-4.139.1}"

log() { printf '[setup-e2e] %s\n' "$*" >&2; }

mkdir -p "$CACHE"

# --- apt packages ----------------------------------------------------------------------
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v make >/dev/null 2>&1 && command -v g++ >/dev/null 2>&1 || need_apt+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
if ((${#need_apt[@]})); then
  log "apt-get install ${need_apt[*]}"
  if [[ $(id -u) -ne 0 ]]; then log "need root for apt-get"; exit 1; fi
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
fi

# --- node 24 ---------------------------------------------------------------------------
NODE24="$(NODE24_VERSION="$NODE24_VERSION" "$(dirname "${BASH_SOURCE[0]}")/../../scripts/node24.sh")"

# --- code-server -----------------------------------------------------------------------
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
CODE_SERVER="$CS_DIR/node_modules/.bin/code-server"
if [[ ! -f "$CS_DIR/.complete" ]]; then
  log "installing code-server $CODE_SERVER_VERSION (takes ~2 min, ~620 MB)"
  rm -rf "$CS_DIR.tmp"
  mkdir -p "$CS_DIR.tmp"
  echo '{"name":"containai-e2e-code-server","private":true}' > "$CS_DIR.tmp/package.json"
  (
    cd "$CS_DIR.tmp"
    export PATH="$NODE24/bin:$PATH"
    export npm_config_nodedir="$NODE24"
    # compile the native modules (sqlite3, node-pty, argon2, kerberos…) on every core
    export JOBS=max npm_config_jobs=max
    export HOME="$CS_DIR.tmp/.home" XDG_CACHE_HOME="$CS_DIR.tmp/.home/.cache"
    mkdir -p "$HOME"
    npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2
  )
  rm -rf "$CS_DIR.tmp/.home"
  rm -rf "$CS_DIR"
  mv "$CS_DIR.tmp" "$CS_DIR"
  touch "$CS_DIR/.complete"
fi

echo "NODE24=$NODE24"
echo "CODE_SERVER=$CODE_SERVER"
echo "CODE_SERVER_DIR=$CS_DIR/node_modules/code-server"
echo "CHROMIUM=$(command -v chromium)"
