#!/usr/bin/env bash
# README command 2: install what is missing, build, and run every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
build_dir=${CTMQ_BUILD_DIR:-build}
cd "$build_dir"
ctest --output-on-failure --parallel "$(nproc)" --timeout 900
