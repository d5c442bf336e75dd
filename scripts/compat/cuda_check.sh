#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU and a CUDA LibTorch, builds ctmq with CUDA (and
# NCCL when its header is found), runs the whole test suite there (the CPU tests must pass
# unchanged on a CUDA build), then trains, evaluates, resumes and runs two ranks on the GPU
# through the real binary. Prints one PASS/FAIL line per check and exits 1 if any failed.
#
# Usage: scripts/compat/cuda_check.sh [BUILD_DIR]        (default build-cuda)
# Environment:
#   CTMQ_TORCH_PREFIX  LibTorch's CMake prefix (default: the one of python3's torch package)
#   CTMQ_DEPS_PREFIX   an extra prefix with OpenCV, spdlog, CLI11, nlohmann_json, GTest, zlib
#                      (default: none, the system's)
#   CTMQ_DATASETS_DIR  Fashion-MNIST's folder (default /usr/share/datasets/fashion-mnist)
#   CTMQ_CHECK_OUT     where logs and the summary go (default BUILD_DIR/cuda-check)
#   CTMQ_CHECK_JOBS    parallel build and test jobs (default: all cores)
#   CTMQ_CHECK_DEADLINE  seconds after which the test suite (run last) is cut short (default 3600)
#   CTMQ_CXX           a C++ compiler other than the default one
# See docs/cluster.md for what a run of it on a GPU found.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(realpath -m "${1:-build-cuda}")
out=${CTMQ_CHECK_OUT:-$build/cuda-check}
jobs=${CTMQ_CHECK_JOBS:-$(nproc)}
data=${CTMQ_DATASETS_DIR:-/usr/share/datasets/fashion-mnist}
mkdir -p "$out"
failures=0
deadline=${CTMQ_CHECK_DEADLINE:-3600}
pass() { echo "PASS $1" | tee -a "$out/summary.txt"; }
fail() { echo "FAIL $1: $2" | tee -a "$out/summary.txt"; failures=$((failures + 1)); }
check() {  # check NAME COMMAND...: PASS when the command exits 0; its output goes to NAME.log
  local name=$1; shift
  if "$@" >"$out/$name.log" 2>&1; then pass "$name"; else fail "$name" "exit $? (see $name.log)"; fi
}
: >"$out/summary.txt"

# --- Build ----------------------------------------------------------------------------------
source "$src/scripts/compat/cuda_build.sh"
t0=$SECONDS
if cuda_build "$src" "$build" "$out" "$jobs"; then
  pass "build (CUDA, NCCL $nccl) in $((SECONDS - t0)) s"
else
  fail build "see configure.log / build.log"
  exit 1
fi
ctmq=$build/ctmq
# The interop tests load checkpoints with this machine's PyTorch, not only Debian's.
export CTMQ_PYTHON=${CTMQ_PYTHON:-$(command -v python3)}
"$ctmq" --version | tee -a "$out/summary.txt"

# --- Training, evaluation and resume on the GPU ---------------------------------------------
runs=$out/runs
rm -rf "$runs"
small=(--set data.root="$data" --set data.train_limit=2048 --set data.val_limit=1000
       --set pretrain.epochs=1 --set steps.bits=[2,1] --set cycles.count=1 --set cycles.ladder=full)
for amp in off bf16 fp16; do
  check "train-cuda-amp-$amp" "$ctmq" --device cuda train "${small[@]}" --set train.amp=$amp \
    --set output_dir="$runs/amp-$amp"
  if [ -f "$runs/amp-$amp/checkpoints/c1-w1a1.pt" ]; then
    grep -h '"top1"' "$runs/amp-$amp/metrics.jsonl" | tail -n 1 >>"$out/amp-$amp-last-epoch.txt"
  fi
done
# The same weights scored on the GPU and on the CPU: the same images, Top-1 within TF32
# round-off (cuDNN may use TF32 convolutions on Ampere and later: a pre-activation within ~1e-3
# of zero can flip a sign in a binary network, so allow 0.5% of 1,000 images).
for stage in pretrain c1-w1a1; do
  ckpt=$runs/amp-off/checkpoints/$stage.pt
  [ -f "$ckpt" ] || { fail "eval-$stage" "no checkpoint"; continue; }
  for dev in cuda cpu; do
    "$ctmq" --device $dev eval --checkpoint "$ckpt" --data "$data" --format fashion-mnist \
      --split val --limit 0 --json >"$out/eval-$stage-$dev.json" 2>"$out/eval-$stage-$dev.log"
  done
  if python3 - "$out/eval-$stage-cuda.json" "$out/eval-$stage-cpu.json" <<'PY'
import json, sys
g, c = (json.load(open(p)) for p in sys.argv[1:3])
print("cuda", g, "cpu", c)
assert g["images"] == c["images"] == 10000, "image counts"
assert abs(g["top1"] - c["top1"]) <= 0.5, "top1 differs by more than 0.5 points"
PY
  then pass "eval-$stage cuda vs cpu"; else fail "eval-$stage cuda vs cpu" "see eval-$stage-*.json"; fi
done
# Interrupted by SIGTERM in the middle of pretraining (the whole training set, two epochs), then
# resumed to the end. A resume on another device type than the state's is refused with a message.
long=(--set data.root="$data" --set data.train_limit=0 --set data.val_limit=1000
      --set pretrain.epochs=2 --set steps.bits=[1] --set cycles.count=0)
timeout --preserve-status -s TERM 9 "$ctmq" --device cuda train "${long[@]}" --set output_dir="$runs/resume" \
  >"$out/resume-first.log" 2>&1
first=$?
if [ $first -eq 143 ] && "$ctmq" --device cuda train "${long[@]}" --set output_dir="$runs/resume" \
     --resume >"$out/resume-second.log" 2>&1 && grep -q "resuming at epoch" "$out/resume-second.log"; then
  pass "resume-cuda: stopped (143), resumed ($(grep -o 'resuming at epoch [0-9]*, step [0-9]*' "$out/resume-second.log" | head -n 1))"
else
  fail resume-cuda "first part exit $first (143 expected); see resume-first.log, resume-second.log"
fi
timeout --preserve-status -s TERM 8 "$ctmq" --device cpu train "${long[@]}" --set output_dir="$runs/cpu-state" \
  >"$out/cpu-state-first.log" 2>&1
first=$?
"$ctmq" --device cuda train "${long[@]}" --set output_dir="$runs/cpu-state" --resume \
  >"$out/cpu-state-on-cuda.log" 2>&1
second=$?
if [ $first -eq 143 ] && [ $second -eq 1 ] && grep -q "resume with --device cpu" "$out/cpu-state-on-cuda.log"; then
  pass "a CPU resume state on CUDA is refused: $(grep -o 'cannot continue.*' "$out/cpu-state-on-cuda.log")"
else
  fail cpu-state-on-cuda "exits $first (143 expected) then $second (1 expected); see cpu-state-*.log"
fi
# Distillation from the accurate model, with a held-out validation split and bf16 autocast:
# the teacher's forward runs in the same step on the GPU; every stage scores the test split.
check train-cuda-distill "$ctmq" --device cuda train "${small[@]}" --set data.val_split=500 \
  --set distill.teacher=accurate --set train.amp=bf16 --set output_dir="$runs/distill"
if [ "$(grep -c '"test_top1"' "$runs/distill/metrics.jsonl" 2>/dev/null)" = 6 ] &&
   grep -q "learns from teacher c1-fp" "$out/train-cuda-distill.log"; then
  pass "distill: 6 stages scored on test, students taught by pretrain and c1-fp"
else
  fail distill "expected 6 test scores and a c1-fp teacher; see train-cuda-distill.log"
fi
# Python's torch.load with its defaults (weights_only=True from 2.6 on) reads a GPU-trained
# checkpoint.
cat >"$out/torch_load.py" <<'PY'
import sys, torch
state = torch.load(sys.argv[1])  # the defaults: weights_only=True from PyTorch 2.6 on
print(torch.__version__, type(state).__name__, list(state))
assert state["format"] and any(torch.is_tensor(v) for v in state["state"].values())
PY
check torch-load-default python3 "$out/torch_load.py" "$runs/amp-off/checkpoints/c1-w1a1.pt"
check bench-train-cuda "$ctmq" --device cuda bench train "${small[@]}" --steps 50 --bits 1
cp "$out/bench-train-cuda.log" "$out/bench-train-cuda.json" 2>/dev/null

# --- Two ranks on one GPU --------------------------------------------------------------------
two_ranks() {  # two_ranks NAME BACKEND LIMIT_S EXTRA...: torchrun-style ranks 0 and 1 on cuda:0
  local name=$1 backend=$2 limit=$3; shift 3
  local port=$((20000 + RANDOM % 20000)) pids=() rank
  for rank in 0 1; do
    RANK=$rank WORLD_SIZE=2 LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      timeout "$limit" "$ctmq" --device cuda "$@" --dist-backend "$backend" \
      >"$out/$name-rank$rank.log" 2>&1 &
    pids+=($!)
  done
  local codes=()
  for p in "${pids[@]}"; do wait "$p"; codes+=($?); done
  echo "${codes[*]}"
}
codes=$(two_ranks gloo-train gloo 300 train "${small[@]}" --set model.sync_bn=true \
          --set output_dir="$runs/gloo-two-ranks")
if [ "$codes" = "0 0" ]; then pass "two ranks, gloo, cuda:0, sync BN"; else fail "two ranks gloo" "exit codes $codes"; fi
codes=$(two_ranks gloo-allreduce gloo 120 bench allreduce --params 4000000 --iters 20)
if [ "$codes" = "0 0" ]; then pass "bench allreduce, gloo, two ranks"; else fail "bench allreduce gloo" "exit codes $codes"; fi
if [ $nccl = ON ]; then
  # NCCL refuses two ranks on one GPU: the check is that both fail with an error, not a hang.
  codes=$(two_ranks nccl-same-gpu nccl 60 bench allreduce --params 1000000 --iters 5)
  echo "NCCL, two ranks on one GPU: exit codes $codes" | tee -a "$out/summary.txt"
  grep -h "error" "$out"/nccl-same-gpu-rank*.log | head -n 4 | tee -a "$out/summary.txt"
fi

# --- The test suite (CPU tests on a CUDA build) ---------------------------------------------
t0=$SECONDS
left=$((deadline - SECONDS))
if [ "$left" -lt 60 ]; then fail ctest "not run: $left s left of CTMQ_CHECK_DEADLINE"
elif (cd "$build" && timeout "$left" ctest --output-on-failure --parallel "$jobs" --timeout 600 -E '^slurm|Slurm' >"$out/ctest.log" 2>&1); then
  pass "ctest in $((SECONDS - t0)) s: $(grep -E 'tests passed' "$out/ctest.log")"
else
  fail ctest "$(grep -E 'tests passed|tests failed' "$out/ctest.log")"
  grep -E '\*\*\*Failed|\(Failed\)|Timeout' "$out/ctest.log" | head -n 20
fi

echo "$failures check(s) failed" | tee -a "$out/summary.txt"
[ "$failures" -eq 0 ]
