#!/usr/bin/env bash
# The Fashion-MNIST study of docs/results.md, version 2: direct binarization, quantization steps
# and CTMQ, with and without distillation, on Fashion-MNIST with resnet20 (Bi-Real blocks,
# DoReFa weights, PACT activations, first and last layer in float). 5,000 training images are
# held out for validation (data.val_split in the spec); the 10,000 test images are scored once
# at the end of every stage. After a full-precision pretraining of 4 epochs shared by the
# variants of a seed, every variant spends the same 16 epochs:
#   direct:       pretrained -> W1A1 for 16 epochs
#   steps:        pretrained -> W4A4 -> W3A3 -> W2A2 -> W1A1, 4 epochs each
#   ctmq:         pretrained -> 4 -> 3 -> 2 -> 1 (1 epoch each), then 2 cycles of
#                 fp (2 epochs) -> 4 -> 3 -> 2 -> 1 (1 epoch each)
#   direct-kd, ctmq-kd: the same with distill.teacher = accurate (the pretrained network, then
#                 each cycle's accurate network), distill.* defaults otherwise
#   scratch:      W1A1 from random initialisation for 20 epochs (the pretraining's 4 too)
#   ctmq-warmup:  ctmq with a 1-epoch learning-rate warm-up in each accurate stage
# About 2.5 hours per seed on 2 cores. Interrupted runs resume when the script is run again.
#
#   scripts/reproduce_fmnist.sh OUT_DIR SEED [SEED ...]
#   VARIANTS="ctmq steps" scripts/reproduce_fmnist.sh OUT_DIR SEED...   # only these, in this order
#   scripts/results_fmnist_v2.py OUT_DIR docs/results  # table, plot and copies of the run logs
#
# Environment: CTMQ (the binary, default build/ctmq), CTMQ_THREADS (intra-op threads per run,
# default 2), CTMQ_DEVICE (cpu, cuda or auto; default auto), CTMQ_SET (extra spec overrides for
# every run, e.g. "data.root=/data/fmnist"), CTMQ_JOBS (runs at a time, default 1: with more,
# the pretrainings and `scratch` start first and each variant starts once its seed's
# pretraining is done; useful on a GPU, whose small-kernel launches leave it mostly idle).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: reproduce_fmnist.sh OUT_DIR SEED...}; shift
CTMQ=${CTMQ:-build/ctmq}
threads=${CTMQ_THREADS:-2}
device=${CTMQ_DEVICE:-auto}
jobs=${CTMQ_JOBS:-1}
extra=()
for kv in ${CTMQ_SET:-}; do extra+=(--set "$kv"); done
spec=data/specs/fmnist-resnet20-w1a1.json
budget=16

run() {  # run SEED NAME SUBCOMMAND --set ...: one variant, timed, into OUT_DIR/seedSEED/NAME
  local seed=$1 name=$2 command=$3; shift 3
  local dir="$out/seed$seed/$name" start=$SECONDS
  "$CTMQ" --threads "$threads" --device "$device" "$command" --config "$spec" \
    --set seed="$seed" --set output_dir="$dir" --set name="$name-seed$seed" "${extra[@]}" "$@"
  echo "{\"variant\": \"$name\", \"seed\": $seed, \"wall_seconds\": $((SECONDS - start))}" \
    > "$dir/wall.json"
  "$CTMQ" report --run "$dir" > /dev/null
}

variant() {  # variant SEED NAME: the runs of the study, all from the same spec
  local seed=$1 name=$2
  local from=(--set pretrain.checkpoint="$out/seed$seed/pretrain/checkpoints/pretrain.pt"
              --set cycles.count=0)
  local direct=("${from[@]}" --set steps.bits=[1] --set steps.epochs=$budget)
  local steps=("${from[@]}" --set steps.bits=[4,3,2,1] --set steps.epochs=4)
  local ctmq=("${from[@]}" --set steps.bits=[4,3,2,1] --set steps.epochs=1 --set cycles.count=2
              --set cycles.accurate_epochs=2)
  local kd=(--set distill.teacher=accurate)
  case $name in
    pretrain) run "$seed" pretrain pretrain --set pretrain.epochs=4 ;;
    direct) run "$seed" direct train "${direct[@]}" ;;
    steps) run "$seed" steps train "${steps[@]}" ;;
    ctmq) run "$seed" ctmq train "${ctmq[@]}" ;;
    direct-kd) run "$seed" direct-kd train "${direct[@]}" "${kd[@]}" ;;
    ctmq-kd) run "$seed" ctmq-kd train "${ctmq[@]}" "${kd[@]}" ;;
    scratch) run "$seed" scratch train --set pretrain.epochs=0 --set steps.bits=[1] \
               --set steps.epochs=$((budget + 4)) --set cycles.count=0 ;;
    ctmq-warmup) run "$seed" ctmq-warmup train "${ctmq[@]}" --set cycles.accurate_warmup_epochs=1 ;;
    *) echo "unknown variant $name" >&2; return 2 ;;
  esac
}

variants=(${VARIANTS:-direct steps ctmq direct-kd ctmq-kd scratch ctmq-warmup})
done_() { [ -f "$out/seed$1/$2/wall.json" ]; }

if [ "$jobs" -le 1 ]; then
  for seed in "$@"; do
    for name in pretrain "${variants[@]}"; do done_ "$seed" "$name" || variant "$seed" "$name"; done
  done
  exit 0
fi

# Parallel: a run starts when fewer than $jobs are going; one that needs its seed's pretraining
# waits for it. A failed run stops nothing else; the exit status says whether all finished.
start() {
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  variant "$@" &
}
queue=()
for seed in "$@"; do queue+=("$seed pretrain"); done
for seed in "$@"; do
  for name in "${variants[@]}"; do [ "$name" = scratch ] && queue+=("$seed scratch"); done
done
for seed in "$@"; do
  for name in "${variants[@]}"; do [ "$name" != scratch ] && queue+=("$seed $name"); done
done
for item in "${queue[@]}"; do
  read -r seed name <<<"$item"
  done_ "$seed" "$name" && continue
  if [ "$name" != pretrain ] && [ "$name" != scratch ]; then
    while ! done_ "$seed" pretrain; do
      [ -n "$(jobs -rp)" ] || { echo "seed $seed: no pretraining, skipping $name" >&2; continue 2; }
      wait -n || true
    done
  fi
  start "$seed" "$name"
done
wait || true
missing=0
for item in "${queue[@]}"; do
  read -r seed name <<<"$item"
  done_ "$seed" "$name" || { echo "unfinished: seed $seed $name" >&2; missing=$((missing + 1)); }
done
exit $((missing > 0))
