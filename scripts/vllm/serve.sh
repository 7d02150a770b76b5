#!/usr/bin/env bash
# Serve a model with vLLM as an OpenAI-compatible server on 127.0.0.1, in the background.
#
#   bash scripts/vllm/serve.sh            # start; waits until /health answers, prints the URL
#   bash scripts/vllm/serve.sh stop       # stop the server this script started
#
# Defaults serve the packaged Gemma 3 270M (converted once into the project cache by the
# project's .venv) on CPU with settings known to work there. Environment:
#   COSMO_VLLM_MODEL          model folder or Hugging Face name (default: the converted Gemma)
#   COSMO_VLLM_SERVED_NAME    name clients send as "model" (default: gemma3-270m)
#   COSMO_VLLM_HOST, _PORT    bind address (default 127.0.0.1, 8000)
#   COSMO_VLLM_DTYPE          default bfloat16
#   COSMO_VLLM_MAX_MODEL_LEN  default 512
#   COSMO_VLLM_ENFORCE_EAGER  1 (default) adds --enforce-eager; 0 lets GPUs use CUDA graphs
#   COSMO_VLLM_EXTRA_ARGS     more server flags, e.g. "--tensor-parallel-size 2" on GPUs
#   COSMO_VLLM_STATE_DIR      where the pid and log files go (default .cosmo/vllm)
#   COSMO_VLLM_VENV           the vLLM venv (default .venv-vllm; build it with setup.sh)
#   COSMO_VLLM_READY_TIMEOUT  seconds to wait for /health (default 600)
#   VLLM_CPU_KVCACHE_SPACE    vLLM's own: GiB of KV cache on CPU (default here 1)
# (Our variables carry a COSMO_ prefix: vLLM reads VLLM_* itself, VLLM_PORT included.)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="${COSMO_VLLM_VENV:-$ROOT/.venv-vllm}"
STATE="${COSMO_VLLM_STATE_DIR:-$ROOT/.cosmo/vllm}"
HOST="${COSMO_VLLM_HOST:-127.0.0.1}"
PORT="${COSMO_VLLM_PORT:-8000}"
PIDFILE="$STATE/server-$PORT.pid"
LOG="$STATE/server-$PORT.log"

if [ "${1:-start}" = "stop" ]; then
  if [ -f "$PIDFILE" ]; then
    pid=$(cat "$PIDFILE")
    # The server runs in a process group of its own (setsid): stop the group, then wait.
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
    echo "stopped vLLM server on port $PORT (pid $pid)"
  else
    echo "no vLLM server started by this script on port $PORT"
  fi
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "error: no vLLM venv at $VENV; run: bash scripts/vllm/setup.sh" >&2
  exit 2
fi
MODEL="${COSMO_VLLM_MODEL:-}"
if [ -z "$MODEL" ]; then
  MAIN_PY="${COSMO_PYTHON:-$ROOT/.venv/bin/python}"
  MODEL=$(HF_HUB_OFFLINE=1 "$MAIN_PY" -c \
    "from cosmo.models import gemma_model_dir; print(gemma_model_dir())") || {
    echo "error: could not find or convert the packaged Gemma with $MAIN_PY; set COSMO_VLLM_MODEL" >&2
    exit 2
  }
fi
mkdir -p "$STATE"
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "error: a vLLM server from this script already runs on port $PORT (pid $(cat "$PIDFILE"))" >&2
  exit 1
fi

export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
export VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1
export VLLM_CPU_KVCACHE_SPACE="${VLLM_CPU_KVCACHE_SPACE:-1}"
EAGER=""
[ "${COSMO_VLLM_ENFORCE_EAGER:-1}" = 1 ] && EAGER="--enforce-eager"
# shellcheck disable=SC2086
# `vllm serve` needs the distribution to be called "vllm" (vllm-cpu's is not), so start the
# same server through its module entry point.
setsid "$VENV/bin/python" -W ignore::DeprecationWarning -m vllm.entrypoints.openai.api_server \
  --model "$MODEL" \
  --host "$HOST" --port "$PORT" \
  --served-model-name "${COSMO_VLLM_SERVED_NAME:-gemma3-270m}" \
  --dtype "${COSMO_VLLM_DTYPE:-bfloat16}" \
  --max-model-len "${COSMO_VLLM_MAX_MODEL_LEN:-512}" \
  $EAGER ${COSMO_VLLM_EXTRA_ARGS:-} >"$LOG" 2>&1 < /dev/null &
pid=$!
echo "$pid" >"$PIDFILE"

deadline=$(( $(date +%s) + ${COSMO_VLLM_READY_TIMEOUT:-600} ))
until "$VENV/bin/python" -c \
  "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
  "http://$HOST:$PORT/health" >/dev/null 2>&1; do
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$PIDFILE"
    echo "error: the vLLM server exited before it was ready; last lines of $LOG:" >&2
    tail -n 30 "$LOG" >&2
    exit 1
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "error: the vLLM server was not ready within ${COSMO_VLLM_READY_TIMEOUT:-600} s; see $LOG" >&2
    bash "$0" stop >/dev/null
    exit 1
  fi
  sleep 2
done
echo "vLLM server ready at http://$HOST:$PORT/v1 (model ${COSMO_VLLM_SERVED_NAME:-gemma3-270m}, pid $pid, log $LOG)"
