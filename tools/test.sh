#!/usr/bin/env bash
# Install everything the test suite needs, then run all of it: the linters first (tools/lint.sh: ruff check,
# ruff format --check, ESLint; failing fast), then the JS unit tests and pytest (which includes the
# headless-Chromium editor tests), both tiers. Usage: bash tools/test.sh [--fast] [pytest args]
# --fast: only the fast tier (pytest -m "not slow", a few minutes), what a developer runs while working.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install -q -r requirements.txt -r requirements-test.txt

# Debian packages: chromium for the editor tests, nodejs + npm for ESLint and the JS unit tests,
# g++ for torch.compile's inductor CPU backend (TorchCompileModel tests)
missing=""
command -v g++ >/dev/null 2>&1 || missing="$missing g++"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
{ command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; } || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) >/dev/null
  else
    sudo sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing" >/dev/null
  fi
fi

lint_start=$SECONDS
bash tools/lint.sh
echo "lint: passed in $((SECONDS - lint_start)) s"

if [ -d tests/js ] && ls tests/js/*.test.mjs >/dev/null 2>&1; then
  node --test tests/js/
fi

if [ "${1:-}" = "--fast" ]; then
  shift
  set -- -m "not slow" "$@"
fi
python3 -m pytest -q --durations=15 "$@"
