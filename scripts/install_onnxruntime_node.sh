#!/usr/bin/env bash
# Installs onnxruntime-node (its npm package carries the CPU runtime library) into a folder of its
# own, once: later calls find it there and return at once. --ignore-scripts: nothing is run at
# install time (the package's install script would only fetch optional GPU libraries).
#   scripts/install_onnxruntime_node.sh <folder>   (the tests use <build>/onnxruntime-node)
set -euo pipefail
dir=${1:?usage: install_onnxruntime_node.sh <folder>}
version=${CTMQ_ONNXRUNTIME_NODE_VERSION:-1.30.0}
mkdir -p "$dir"
# Tests running side by side install once: the second waits for the first.
exec 9>"$dir/.lock"
flock 9
if [ -f "$dir/node_modules/onnxruntime-node/package.json" ]; then
  exit 0
fi
command -v node >/dev/null || { echo "node is not installed (Debian: nodejs)" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is not installed (Debian: npm)" >&2; exit 1; }
# A partial install must not look finished: install into a scratch folder, then move it.
tmp=$(mktemp -d "$dir/.install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
npm install --prefix "$tmp" --ignore-scripts --no-audit --no-fund --no-save \
  --fetch-timeout=60000 --fetch-retries=1 "onnxruntime-node@$version" >&2
rm -rf "$dir/node_modules"
mv "$tmp/node_modules" "$dir/node_modules"
