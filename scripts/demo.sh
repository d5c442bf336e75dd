#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the main job: `ctmq train` on the
# embedded default spec (Fashion-MNIST from Debian's dataset-fashion-mnist), then the report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
build_dir=${CTMQ_BUILD_DIR:-build}
"$build_dir/ctmq" train "$@"
"$build_dir/ctmq" report --run runs/fmnist-resnet20-w1a1-demo
