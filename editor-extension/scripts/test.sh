#!/usr/bin/env bash
# The extension's whole test run, from a clean checkout (the lead's `make test` calls this):
#   npm ci → typecheck + bundle → eslint → node --test (model, tree/status bar and the commands
#   with a vscode stand-in, protocol client against the real server) → vsce package → e2e in
#   code-server + Chromium.
# Non-zero on any failure. SKIP_E2E=1 skips the end-to-end part.
set -uo pipefail
EXT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$EXT"
start=$(date +%s)
fail=0
say() { printf '\n== editor-extension: %s (+%ss)\n' "$*" "$(( $(date +%s) - start ))"; }

say "npm ci"
npm ci --no-audit --no-fund --loglevel=error || exit 1

say "typecheck + bundle"
npm run --silent build || exit 1

say "eslint"
npx --no-install eslint src test || fail=1

say "node --test"
node --test --test-reporter=spec --test-reporter-destination=stdout out/test/unit/ || fail=1

say "package the .vsix"
rm -f containai.vsix
npx --no-install vsce package --no-dependencies --out containai.vsix || fail=1

if [[ "${SKIP_E2E:-}" != "1" && -f containai.vsix ]]; then
  say "e2e (code-server + headless Chromium)"
  bash scripts/e2e.sh || fail=1
fi

say "done in $(( $(date +%s) - start )) s, $([[ $fail == 0 ]] && echo OK || echo FAILED)"
exit $fail
