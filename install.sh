#!/usr/bin/env bash
# Set up cosmo in ./.venv on a fresh machine: CPU torch first (so no CUDA build is pulled),
# then cosmo with its development tools, then the system packages the browser tests use.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
python -c "import torch" 2>/dev/null || pip install --quiet torch==2.13.0
pip install --quiet -e ".[dev]"
# Browser tests drive Debian's chromium (browser downloads do not work offline).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
      || echo "warning: could not install chromium; browser tests will fail" >&2
  else
    echo "note: install chromium and chromium-driver for the browser tests" >&2
  fi
fi
echo "cosmo installed in $(pwd)/.venv"
