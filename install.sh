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
echo "cosmo installed in $(pwd)/.venv"
