#!/usr/bin/env bash
# Expands a grid of --set overrides into one run directory each and runs them, locally one
# after another, or as a Slurm job array.
#
#   scripts/sweep.sh [--slurm] [--dry-run] --spec SPEC --out DIR \
#       --grid seed=1,2,3 --grid steps.bits='[4,3,2,1]';'[1]' --grid cycles.count=0,2 [-- ctmq flags]
#
# Values of one --grid are separated by ',' unless they contain brackets, in which case by ';'.
# Each run goes to DIR/<key>=<value>_..., with output_dir and name set accordingly. Runs that
# already finished are skipped by ctmq itself (it resumes), so a sweep can be rerun safely.
set -euo pipefail
slurm=0; dry=0; spec=""; out=""; grids=(); extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --slurm) slurm=1 ;;
    --dry-run) dry=1 ;;
    --spec) spec=$2; shift ;;
    --out) out=$2; shift ;;
    --grid) grids+=("$2"); shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "sweep.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$spec" ] && [ -n "$out" ] || { echo "sweep.sh: --spec and --out are required" >&2; exit 2; }
[ -f "$spec" ] || { echo "sweep.sh: spec $spec not found" >&2; exit 2; }
CTMQ=${CTMQ:-build/ctmq}

# Cartesian product of the grids: each line is "key=value key=value ...".
combos=("")
for grid in "${grids[@]}"; do
  key=${grid%%=*}; values=${grid#*=}
  if [[ "$values" == *"["* ]]; then IFS=';' read -ra list <<<"$values"; else IFS=',' read -ra list <<<"$values"; fi
  next=()
  for combo in "${combos[@]}"; do
    for value in "${list[@]}"; do next+=("${combo:+$combo }$key=$value"); done
  done
  combos=("${next[@]}")
done

mkdir -p "$out"
list_file="$out/sweep.txt"
: >"$list_file"
for combo in "${combos[@]}"; do
  tag=$(echo "$combo" | tr ' ' '_' | tr -d '[]' | tr ',' '-')
  [ -n "$tag" ] || tag=base
  sets=(--set "output_dir=$out/$tag" --set "name=$tag")
  for assignment in $combo; do sets+=(--set "$assignment"); done
  echo "${sets[*]}" >>"$list_file"
done
echo "sweep: ${#combos[@]} runs listed in $list_file"

if [ "$slurm" = 1 ]; then
  n=${#combos[@]}
  cmd=(sbatch --array=1-"$n" --wrap "line=\$(sed -n \${SLURM_ARRAY_TASK_ID}p $list_file); srun $CTMQ train --config $spec \$line ${extra[*]:-}")
  if [ "$dry" = 1 ]; then echo "${cmd[@]}"; else "${cmd[@]}"; fi
  exit 0
fi
while read -r line; do
  # shellcheck disable=SC2086
  if [ "$dry" = 1 ]; then echo "$CTMQ train --config $spec $line ${extra[*]:-}"; continue; fi
  # shellcheck disable=SC2086
  "$CTMQ" train --config "$spec" $line "${extra[@]}"
done <"$list_file"
