#!/usr/bin/env bash
# The inference side-by-side: LibTorch float, the XNOR engine and onnxruntime on the
# same networks, batch 1 and 16, one thread and two:
#  - Bi-Real resnet18 at 224x224, W1A1 with random weights and trained-looking BatchNorm
#    statistics (`ctmq bench infer --random`), kept once as .ctmqx and .onnx
#    (`bench infer --save-random`) so that every runtime runs the very same network;
#  - a trained W1A1 resnet20 (Fashion-MNIST, 28x28): its native export and its ONNX export
#    (`ctmq export --format native|onnx` of the same checkpoint).
# Raw JSON lines go to stdout and to docs/performance/infer-compare-<commit>-<time>.jsonl
# (bench/raw_output.sh: first line the binary, machine and time), then a summary table.
# Before each run a line records the load average and the exact command.
#   bench/infer_compare.sh BUILD_DIR RESNET20.ctmqx RESNET20.onnx
# Environment: CTMQ_BENCH_SECONDS (timed seconds per engine and row, default 3),
# CTMQ_ONNXRUNTIME_NODE_DIR (onnxruntime-node; default BUILD_DIR/onnxruntime-node, installed
# there by scripts/install_onnxruntime_node.sh when missing), CTMQ_COMPARE_WORK (where the
# resnet18 files are kept; default BUILD_DIR/infer-compare).
set -euo pipefail
usage="usage: bench/infer_compare.sh BUILD_DIR RESNET20.ctmqx RESNET20.onnx"
# The exports may be given relative to the caller's directory; BUILD_DIR, as in
# bench/infer_bench.sh, relative to the repository root.
R20_NATIVE=$(realpath "${2:?$usage}")
R20_ONNX=$(realpath "${3:?$usage}")
cd "$(dirname "$0")/.."
BUILD=${1:?$usage}
SECONDS_PER_ENGINE=${CTMQ_BENCH_SECONDS:-3}
ORT_DIR=${CTMQ_ONNXRUNTIME_NODE_DIR:-$BUILD/onnxruntime-node}
WORK=${CTMQ_COMPARE_WORK:-$BUILD/infer-compare}
for f in "$BUILD/ctmq" "$R20_NATIVE" "$R20_ONNX"; do
  [ -e "$f" ] || { echo "missing: $f" >&2; exit 1; }
done
command -v node >/dev/null || { echo "node is not installed (Debian: nodejs)" >&2; exit 1; }
if [ ! -f "$ORT_DIR/node_modules/onnxruntime-node/package.json" ]; then
  scripts/install_onnxruntime_node.sh "$ORT_DIR"
fi
ORT_VERSION=$(node -p "require('$(realpath "$ORT_DIR")/node_modules/onnxruntime-node/package.json').version")

. bench/raw_output.sh
raw=$(raw_output infer-compare "$BUILD")
json_line() { node -e 'let s = ""; process.stdin.on("data", (d) => s += d).on("end", () =>
  console.log(JSON.stringify(JSON.parse(s))))'; }
{
  printf '{"command": %s, "git_head": "%s", "git_status": %s, "onnxruntime_node": "%s"}\n' \
    "$(printf '%s ' "$0" "$@" | node -p 'JSON.stringify(require("fs").readFileSync(0, "utf8").trim())')" \
    "$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    "$(git status --porcelain 2>/dev/null | node -p 'JSON.stringify(require("fs").readFileSync(0, "utf8"))')" \
    "$ORT_VERSION"
  printf '{"cpu": "%s", "flags": "%s", "nproc": %s}\n' \
    "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)" \
    "$(sed -n 's/^flags\s*: //p' /proc/cpuinfo | head -1)" "$(nproc)"
} | tee -a "$raw"

# resnet18: one random network, kept in both formats (only made when missing).
mkdir -p "$WORK"
R18=$WORK/resnet18-bireal-w1a1-random
if [ ! -f "$R18.ctmqx" ] || [ ! -f "$R18.onnx" ]; then
  "$BUILD/ctmq" --log-level warn bench infer --random resnet18 --block bireal \
    --save-random "$R18" --engine xnor --seconds 0 >/dev/null
fi

# One row: the load average and the command, then the command's JSON on one line.
run() {
  local network=$1 peer=$2
  shift 2
  printf '{"row": {"network": "%s", "peer": "%s"}, "load_average": "%s", "command": "%s"}\n' \
    "$network" "$peer" "$(cut -d' ' -f1-3 /proc/loadavg)" "$*"
  # A failed run leaves its error in the row instead of ending the whole comparison.
  local out
  if out=$("$@" 2>"$WORK/stderr"); then
    printf '%s' "$out" | json_line
  else
    tail -3 "$WORK/stderr" | node -p \
      'JSON.stringify({error: require("fs").readFileSync(0, "utf8").trim()})'
  fi
}
{
  for threads in 1 2; do
    for batch in 1 16; do
      for network in resnet18 resnet20; do
        if [ "$network" = resnet18 ]; then
          native=$R18.ctmqx onnx=$R18.onnx size=224
        else
          native=$R20_NATIVE onnx=$R20_ONNX size=28
        fi
        # LibTorch float and the XNOR engine back to back in one process.
        run "$network" ctmq "$BUILD/ctmq" --log-level warn bench infer --exported "$native" \
          --batch "$batch" --threads "$threads" --seconds "$SECONDS_PER_ENGINE"
        run "$network" onnxruntime node bench/onnxruntime_infer.js --model "$onnx" \
          --batch "$batch" --threads "$threads" --size "$size" --seconds "$SECONDS_PER_ENGINE" \
          --ort-dir "$ORT_DIR"
      done
    done
  done
} | tee -a "$raw"

# The summary: images/s of each runtime and the engine's ratios, per row.
node - "$raw" <<'EOF'
const lines = require('fs').readFileSync(process.argv[2], 'utf8').trim().split('\n')
                  .map((l) => JSON.parse(l));
const rows = new Map();
let row = null;
for (const l of lines) {
  if (l.row) { row = l.row; continue; }
  if (!row) continue;
  if (l.error) { row = null; continue; }
  if (row.peer === 'ctmq') {
    const key = `${row.network} b${l.batch} t${l.threads}`;
    const r = rows.get(key) || {};
    for (const e of l.engines) r[e.engine] = e.images_per_second;
    rows.set(key, r);
  } else {
    const key = `${row.network} b${l.batch} t${l.threads}`;
    const r = rows.get(key) || {};
    r.onnxruntime = l.images_per_s;
    rows.set(key, r);
  }
  row = null;
}
const f = (x) => (x === undefined ? '-' : x.toFixed(1));
const ratio = (a, b) => (a === undefined || b === undefined ? '-' : (a / b).toFixed(2) + 'x');
console.log('| row | float images/s | xnor images/s | onnxruntime images/s | xnor / float | xnor / onnxruntime |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [key, r] of rows) {
  console.log(`| ${key} | ${f(r.float)} | ${f(r.xnor)} | ${f(r.onnxruntime)} | ` +
              `${ratio(r.xnor, r.float)} | ${ratio(r.xnor, r.onnxruntime)} |`);
}
EOF
echo "raw output: $raw" >&2
