#!/usr/bin/env bash
# Install everything the test suite needs, then run all of it: JS unit tests and pytest
# (which includes the headless-Chromium editor tests). Usage: bash tools/test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install -q -r requirements.txt -r requirements-test.txt

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    sudo sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium' >/dev/null
  fi
fi

if [ -d tests/js ] && ls tests/js/*.test.mjs >/dev/null 2>&1; then
  node --test tests/js/
fi

python3 -m pytest -q --durations=15 "$@"
