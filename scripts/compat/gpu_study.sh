#!/usr/bin/env bash
# The Fashion-MNIST study (scripts/reproduce_fmnist.sh) on one NVIDIA GPU. Builds ctmq with CUDA
# if BUILD_DIR has none, starts CUDA MPS when it works (the study's small networks leave a GPU
# mostly idle between kernel launches, so many runs share it; MPS lets their kernels overlap),
# runs every run of the given seeds at once, one CPU thread each, and sends the runs SIGTERM at a
# deadline: they save their resume state, and running this again goes on from there. Then packs
# the runs' records (spec, manifest, metrics, logs, reports; no checkpoints) into
# PACK_DIR/run-records.tar.gz.
#
# Usage: scripts/compat/gpu_study.sh BUILD_DIR RUNS_DIR PACK_DIR SEED...
# Exit status: 0 when every run finished, 1 when some did not, 3 when the build failed.
# Environment: CTMQ_STUDY_DEADLINE (seconds from the start, default 3000), CTMQ_JOBS (runs at a
# time, default 24), CTMQ_DATASETS_DIR (Fashion-MNIST), and cuda_build.sh's variables.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(realpath -m "$1") runs=$(realpath -m "$2") pack=$(realpath -m "$3"); shift 3
deadline=${CTMQ_STUDY_DEADLINE:-3000}
data=${CTMQ_DATASETS_DIR:-/usr/share/datasets/fashion-mnist}
mkdir -p "$pack" "$runs"
log() { echo "[$(date -u +%H:%M:%S) +$SECONDS s] $*" | tee -a "$pack/gpu-study.txt"; }
source "$src/scripts/compat/cuda_build.sh"
ctmq=$build/ctmq
if [ ! -x "$ctmq" ]; then
  cuda_build "$src" "$build" "$pack" "$(nproc)" ctmq || { log "build failed"; exit 3; }
  log "built ctmq"
fi
log "$("$ctmq" --version | tr '\n' ' ')"

# MPS, kept only if a short training benchmark runs under it.
bench=("$ctmq" --device cuda bench train --config "$src/data/specs/fmnist-resnet20-w1a1.json"
       --set data.root="$data" --bits 1 --steps 50)
if command -v nvidia-cuda-mps-control >/dev/null; then
  export CUDA_MPS_PIPE_DIRECTORY=/tmp/ctmq-mps-pipe CUDA_MPS_LOG_DIRECTORY=/tmp/ctmq-mps-log
  mkdir -p "$CUDA_MPS_PIPE_DIRECTORY" "$CUDA_MPS_LOG_DIRECTORY"
  nvidia-cuda-mps-control -d 2>/dev/null  # fails harmlessly when a daemon already runs
  if timeout 60 "${bench[@]}" >"$pack/bench-train-mps.json" 2>&1; then
    log "MPS on: $(grep images_per_second "$pack/bench-train-mps.json")"
  else
    log "MPS off: the benchmark failed under it ($(tail -n 1 "$pack/bench-train-mps.json"))"
    echo quit | nvidia-cuda-mps-control
    unset CUDA_MPS_PIPE_DIRECTORY CUDA_MPS_LOG_DIRECTORY
  fi
else
  log "MPS off: no nvidia-cuda-mps-control"
fi

nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 10 \
  >"$pack/gpu-utilization.csv" 2>&1 &
sampler=$!
( sleep $((deadline > SECONDS ? deadline - SECONDS : 1)); pkill -TERM -x ctmq ) &
stopper=$!
log "study: seeds $*, deadline at +$deadline s"
CTMQ=$ctmq CTMQ_DEVICE=cuda CTMQ_THREADS=1 CTMQ_JOBS=${CTMQ_JOBS:-24} CTMQ_SET="data.root=$data" \
  "$src/scripts/reproduce_fmnist.sh" "$runs" "$@" >"$pack/study.log" 2>&1
status=$?
kill "$stopper" "$sampler" 2>/dev/null
log "study exit $status; finished runs: $(find "$runs" -name wall.json | wc -l)"
[ -n "${CUDA_MPS_PIPE_DIRECTORY:-}" ] && echo quit | nvidia-cuda-mps-control

(cd "$runs" && find . -path '*/checkpoints' -prune -o -path '*/resume' -prune -o \
   -type f ! -name run.lock -print | sort | tar czf "$pack/run-records.tar.gz" -T -)
log "packed $(tar tzf "$pack/run-records.tar.gz" | wc -l) files"
exit $status
