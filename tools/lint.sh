#!/usr/bin/env bash
# The static checks, run first by tools/test.sh (so by CI): ruff lint + ruff format on the Python tree
# (config in pyproject.toml), ESLint on the editor's JS and its tests (config in eslint.config.mjs).
# Usage: bash tools/lint.sh          check only; exits non-zero at the first failing linter
#        bash tools/lint.sh --fix    first apply ruff format, ruff check --fix and eslint --fix, then check
# Needs ruff (requirements-test.txt) and node/npm; ESLint comes from package-lock.json (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."

fix=0
case "${1:-}" in
  "") ;;
  --fix) fix=1 ;;
  *) echo "usage: bash tools/lint.sh [--fix]" >&2; exit 2 ;;
esac

if ! python3 -m ruff --version >/dev/null 2>&1; then
  echo "ruff is missing: python3 -m pip install -r requirements-test.txt" >&2
  exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "node/npm are missing: install Debian's nodejs and npm (tools/test.sh does)" >&2
  exit 1
fi
if [ ! -x node_modules/.bin/eslint ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ "$fix" = 1 ]; then
  python3 -m ruff format .
  python3 -m ruff check --fix .
  npx --no-install eslint --fix .
fi

echo "lint: ruff check" && python3 -m ruff check .
echo "lint: ruff format --check" && python3 -m ruff format --check .
echo "lint: eslint" && npx --no-install eslint .
