#!/usr/bin/env bash
# Set up cosmo in ./.venv on a fresh machine: torch first, then cosmo with its development
# tools, then the system packages the browser tests use. Idempotent; each step prints its time.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}

step_start=0
step() { step_start=$(date +%s); printf '[install] %s ...\n' "$1"; }
done_step() { printf '[install] %s: %d s\n' "$1" "$(( $(date +%s) - step_start ))"; }

step "venv"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
done_step "venv"

step "torch"
python -c "import torch" 2>/dev/null || pip install --quiet "torch==$TORCH_VERSION"
done_step "torch"

step "project"
# setuptools notes that an editable install of a remapped package dir (the root *is* `cosmo`)
# imports through a finder; it is informational, and the only thing pip would print here
PYTHONWARNINGS="ignore:Editable installation" pip install --quiet -e ".[dev]"
done_step "project"

# Ray (the distributed engine: `cosmo pipeline run --engine ray`, `train-session --workers N`)
step "ray extra"
PYTHONWARNINGS="ignore:Editable installation" pip install --quiet -e ".[dev,ray]"
done_step "ray extra"

# Browser tests drive Debian's chromium (browser downloads do not work offline); the compose
# test validates docker-compose.yml with Debian's docker-compose client (no Docker engine needed).
step "system packages"
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v chromedriver >/dev/null 2>&1 || missing="$missing chromium-driver"
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 \
  || missing="$missing docker-compose"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null) \
      || echo "warning: could not install$missing; the browser and compose tests will fail" >&2
  else
    echo "note: install$missing for the browser and compose tests" >&2
  fi
fi
done_step "system packages"
echo "cosmo installed in $(pwd)/.venv"
