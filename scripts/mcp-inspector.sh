#!/usr/bin/env bash
# Install (once) the MCP Inspector pinned by tools/mcp-inspector/package-lock.json and print
# the path of a launcher that runs it on Node 24 (it declares node >= 22.19; Debian has 20);
# the MCP tests run it in CLI mode (`<path> --cli <server> ...`).
# Cache: $CONTAINAI_CACHE (default /var/cache/containai-rpc)/mcp-inspector-<lock hash>, so a
# rerun (CI, another worktree) costs nothing, and a changed lockfile installs afresh.
# Its postinstall script (which fetches its other clients) is not run: the CLI needs none.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC=$ROOT/tools/mcp-inspector
CACHE=${CONTAINAI_CACHE:-/var/cache/containai-rpc}
HASH=$(cat "$SRC/package.json" "$SRC/package-lock.json" | sha256sum | cut -c1-12)
DIR=$CACHE/mcp-inspector-$HASH
BIN=$DIR/node_modules/.bin/mcp-inspector
RUN=$DIR/run

log() { printf 'mcp-inspector: %s\n' "$*" >&2; }

if [[ ! -x $BIN ]]; then
  command -v npm >/dev/null || { log "error: npm not found (install nodejs and npm)"; exit 1; }
  mkdir -p "$CACHE"
  exec 9>"$CACHE/mcp-inspector.lock"
  flock 9  # one installer at a time; the others find it installed
  if [[ ! -x $BIN ]]; then
    tmp=$(mktemp -d "$CACHE/.mcp-inspector.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    cp "$SRC/package.json" "$SRC/package-lock.json" "$tmp/"
    log "npm ci (pinned by tools/mcp-inspector/package-lock.json) into $DIR"
    (cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
    rm -rf "$DIR"
    mv "$tmp" "$DIR"
    trap - EXIT
  fi
fi
NODE24=$("$ROOT/scripts/node24.sh")
# the launcher, written each time: the node folder may move with $CONTAINAI_CACHE
printf '#!/bin/sh\nexec "%s/bin/node" "%s" "$@"\n' "$NODE24" "$BIN" >"$RUN.$$"
chmod +x "$RUN.$$" && mv "$RUN.$$" "$RUN"
printf '%s\n' "$RUN"
