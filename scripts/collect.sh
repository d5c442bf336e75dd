#!/usr/bin/env bash
# Gathers the final metrics of every run under the given folders into one Markdown table.
#   scripts/collect.sh runs/sweep1 [runs/sweep2 ...]
set -euo pipefail
CTMQ=${CTMQ:-build/ctmq}
dirs=()
for root in "$@"; do
  while IFS= read -r manifest; do dirs+=("$(dirname "$manifest")"); done \
    < <(find "$root" -name manifest.json | sort)
done
[ ${#dirs[@]} -gt 0 ] || { echo "collect.sh: no manifest.json under $*" >&2; exit 2; }
"$CTMQ" report --runs "${dirs[@]}"
