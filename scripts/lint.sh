#!/usr/bin/env bash
# The lint and format gate (`npm run lint`, run by .ci/run before the tests).
# typescript-eslint needs TypeScript's JS compiler API (6.0.x), which the 7.x compiler of
# the build does not have, so the linters live in their own install under tools/lint.
#   LINT_SKIP_FORMAT=1  skips `prettier --check` (e.g. while iterating on a change).
set -euo pipefail
cd "$(dirname "$0")/.."

lint=tools/lint
if [ ! -d "$lint/node_modules" ]; then
  echo "lint: installing $lint (npm ci)"
  npm ci --prefix "$lint" --no-audit --no-fund
fi

# The typed rules see another package through its declarations (dist/*.d.ts): build first.
echo "lint: build (tsc -b)"
npm run build --silent

echo "lint: eslint (typed rules) on packages and examples"
"$lint/node_modules/.bin/eslint" --config "$lint/eslint.config.mjs" --max-warnings 0 packages examples

if [ "${LINT_SKIP_FORMAT:-0}" = "1" ]; then
  echo "lint: prettier --check skipped (LINT_SKIP_FORMAT=1)"
else
  echo "lint: prettier --check (TypeScript sources and the lint config)"
  "$lint/node_modules/.bin/prettier" --check --log-level warn "packages/**/*.ts" "examples/**/*.ts" "$lint/*.mjs"
fi
echo "lint: ok"
