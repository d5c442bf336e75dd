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
#   scripts/results_fmnist.py OUT_DIR docs/results     # table, plot and copies of the run logs
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: reproduce_fmnist.sh OUT_DIR SEED...}; shift
CTMQ=${CTMQ:-build/ctmq}
threads=${CTMQ_THREADS:-2}
spec=data/specs/fmnist-resnet20-w1a1.json
budget=16
for seed in "$@"; do
  base="$out/seed$seed"
  run() {  # run NAME SUBCOMMAND --set ...: one variant, timed, into $base/NAME
    local name=$1 command=$2; shift 2
    local start=$SECONDS
    "$CTMQ" --threads "$threads" "$command" --config "$spec" --set seed="$seed" \
      --set output_dir="$base/$name" --set name="$name-seed$seed" "$@"
    echo "{\"variant\": \"$name\", \"seed\": $seed, \"wall_seconds\": $((SECONDS - start))}" \
      > "$base/$name/wall.json"
    "$CTMQ" report --run "$base/$name" > /dev/null
  }
  [ -f "$base/pretrain/wall.json" ] || run pretrain pretrain --set pretrain.epochs=4
  from=(--set pretrain.checkpoint="$base/pretrain/checkpoints/pretrain.pt" --set cycles.count=0)
  direct=("${from[@]}" --set steps.bits=[1] --set steps.epochs=$budget)
  steps=("${from[@]}" --set steps.bits=[4,3,2,1] --set steps.epochs=4)
  ctmq=("${from[@]}" --set steps.bits=[4,3,2,1] --set steps.epochs=1 --set cycles.count=2
        --set cycles.accurate_epochs=2)
  kd=(--set distill.teacher=accurate)
  for variant in ${VARIANTS:-direct steps ctmq direct-kd ctmq-kd scratch ctmq-warmup}; do
    [ -f "$base/$variant/wall.json" ] && continue
    case $variant in
      direct) run direct train "${direct[@]}" ;;
      steps) run steps train "${steps[@]}" ;;
      ctmq) run ctmq train "${ctmq[@]}" ;;
      direct-kd) run direct-kd train "${direct[@]}" "${kd[@]}" ;;
      ctmq-kd) run ctmq-kd train "${ctmq[@]}" "${kd[@]}" ;;
      scratch) run scratch train --set pretrain.epochs=0 --set steps.bits=[1] \
                 --set steps.epochs=$((budget + 4)) --set cycles.count=0 ;;
      ctmq-warmup) run ctmq-warmup train "${ctmq[@]}" --set cycles.accurate_warmup_epochs=1 ;;
      *) echo "unknown variant $variant" >&2; exit 2 ;;
    esac
  done
done
