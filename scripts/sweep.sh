#!/usr/bin/env bash
# Expands a grid of --set overrides into one run directory each and runs them, locally one
# after another, or as a Slurm job array.
#
#   scripts/sweep.sh [--slurm] [--dry-run] --spec SPEC --out DIR --grid KEY=VALUES... [-- FLAGS]
#
# For example, from the repository root (--dry-run prints the 12 ctmq commands instead):
#
#   scripts/sweep.sh --dry-run --spec data/specs/fmnist-default.json --out runs/sweep \
#       --grid seed=1,2,3 --grid 'steps.bits=[4,3,2,1];[1]' --grid cycles.count=0,2 -- --threads 2
#
# Values of one --grid are separated by ',' unless they contain brackets, in which case by ';'
# (quote such a --grid, as above: an unquoted ';' ends the command). FLAGS after `--` go to every
# `ctmq train`. Each run goes to DIR/<key>=<value>_..., with output_dir and name set accordingly.
# Runs that already finished are skipped by ctmq itself (it resumes), so a sweep can be rerun
# safely. Every value reaches ctmq exactly as given: nothing is split at spaces or expanded as a
# file pattern ('*', '?').
#
# DIR/sweep.txt lists the runs, one line each, the ctmq arguments of a line separated by tabs;
# Slurm array task i runs line i (DIR/sweep_task.sh reads it).
set -euo pipefail
set -f  # no pathname expansion anywhere: a value such as name=w*a1 stays as it is
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
tab=$'\t'

# Cartesian product of the grids: each combo is "key=value<TAB>key=value...".
combos=("")
for grid in ${grids[@]+"${grids[@]}"}; do
  case "$grid" in
    *"$tab"*) echo "sweep.sh: --grid $grid: a value cannot hold a tab" >&2; exit 2 ;;
    *=*) ;;
    *) echo "sweep.sh: --grid $grid: expected key=value,value..." >&2; exit 2 ;;
  esac
  key=${grid%%=*}; values=${grid#*=}
  if [[ "$values" == *"["* ]]; then IFS=';' read -ra list <<<"$values"; else IFS=',' read -ra list <<<"$values"; fi
  next=()
  for combo in "${combos[@]}"; do
    for value in "${list[@]}"; do next+=("${combo:+$combo$tab}$key=$value"); done
  done
  combos=("${next[@]}")
done

mkdir -p "$out"
list_file="$out/sweep.txt"
: >"$list_file"
for combo in "${combos[@]}"; do
  # The directory name: assignments joined by '_', brackets dropped, ',' and '/' as '-'.
  tag=$(printf '%s' "$combo" | tr '\t' '_' | tr -d '[]' | sed 's|[,/]|-|g')
  [ -n "$tag" ] || tag=base
  args=(--set "output_dir=$out/$tag" --set "name=$tag")
  if [ -n "$combo" ]; then
    IFS=$tab read -ra assignments <<<"$combo"
    for assignment in "${assignments[@]}"; do args+=(--set "$assignment"); done
  fi
  (IFS=$tab; printf '%s\n' "${args[*]}") >>"$list_file"
done
echo "sweep: ${#combos[@]} runs listed in $list_file"

# The command of one line of sweep.txt, quoted so that it runs as printed.
quoted_command() {
  local -a args
  IFS=$tab read -ra args <<<"$1"
  printf '%q ' "$CTMQ" train --config "$spec" "${args[@]}" ${extra[@]+"${extra[@]}"}
  echo
}

if [ "$slurm" = 1 ]; then
  task="$out/sweep_task.sh"
  # shellcheck disable=SC2016  # the task script expands these when it runs, not now
  {
    echo '#!/usr/bin/env bash'
    echo '# One Slurm array task of scripts/sweep.sh: runs line $SLURM_ARRAY_TASK_ID of sweep.txt.'
    echo 'set -euo pipefail'
    echo 'set -f'
    printf 'IFS=$'"'"'\\t'"'"' read -ra args < <(sed -n "${SLURM_ARRAY_TASK_ID}p" %q)\n' "$list_file"
    printf 'exec srun %q train --config %q "${args[@]}"' "$CTMQ" "$spec"
    for flag in ${extra[@]+"${extra[@]}"}; do printf ' %q' "$flag"; done
    echo
  } >"$task"
  chmod +x "$task"
  cmd=(sbatch --array=1-"${#combos[@]}" "$task")
  if [ "$dry" = 1 ]; then
    printf '%q ' "${cmd[@]}"; echo
    while IFS= read -r line; do quoted_command "$line"; done <"$list_file"
  else
    "${cmd[@]}"
  fi
  exit 0
fi
while IFS= read -r line; do
  if [ "$dry" = 1 ]; then quoted_command "$line"; continue; fi
  IFS=$tab read -ra args <<<"$line"
  "$CTMQ" train --config "$spec" "${args[@]}" ${extra[@]+"${extra[@]}"} </dev/null
done <"$list_file"
