#!/usr/bin/env bash
# End-to-end test of the packaged extension in code-server + headless Chromium, against the
# real containai-rpc server and Docker engine. Expects a built extension (out/, the .vsix);
# scripts/test.sh does the whole thing.
#   VSIX=path   the .vsix to install (default editor-extension/containai.vsix)
set -euo pipefail
EXT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$EXT/.." && pwd)"

# code-server, node 24 and chromium, cached under /var/cache/containai-rpc
eval "$("$EXT/scripts/setup-e2e.sh")"

# the engine and the test image are the project's own setup (idempotent, fast when warm)
if [[ -x "$ROOT/scripts/engine.sh" ]]; then "$ROOT/scripts/engine.sh"; fi
# what killed test runs left on the engine (their stale containers would show in gc)
if [[ -x "$ROOT/.venv/bin/python" ]]; then (cd "$ROOT" && .venv/bin/python -m tests.support.leftovers); fi
IMAGE="${CONTAINAI_E2E_IMAGE:-containai:latest}"
if ! docker image inspect "$IMAGE" >/dev/null 2>&1 && [[ -x "$ROOT/scripts/images.sh" ]]; then
  "$ROOT/scripts/images.sh"
fi
docker image inspect "$IMAGE" >/dev/null 2>&1 || { echo "e2e: image $IMAGE is missing (scripts/images.sh builds it)" >&2; exit 1; }

export CODE_SERVER NODE24 CHROMIUM
export VSIX="${VSIX:-$EXT/containai.vsix}"
export CONTAINAI_E2E_IMAGE="$IMAGE"
export CONTAINAI_RPC_SERVER="${CONTAINAI_RPC_SERVER:-$ROOT/.venv/bin/containai-rpc}"
exec node "$EXT/out/test/e2e/run.js"
