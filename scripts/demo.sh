#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the main job: `ctmq train` on the
# embedded default spec (Fashion-MNIST from Debian's dataset-fashion-mnist), then the report.
# It takes no arguments: the report reads the demo spec's run directory, which arguments to
# `ctmq train` could move or replace; other runs are `build/ctmq train ...` and `ctmq report`.
set -euo pipefail
if [ "$#" -ne 0 ]; then
  echo "usage: scripts/demo.sh   (no arguments; for other runs use build/ctmq train --help)" >&2
  exit 2
fi
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
build_dir=${CTMQ_BUILD_DIR:-build}
"$build_dir/ctmq" train
"$build_dir/ctmq" report --run runs/fmnist-resnet20-w1a1-demo
