#!/usr/bin/env bash
# Builds ctmq against Debian trixie's LibTorch 2.6 (CPU) in a cached trixie root and runs the
# whole ctest suite there, Python interop included (python3-torch 2.6). A pre-merge check:
# see docs/cluster.md. Needs root and Debian's archive; the root is kept in
# $CTMQ_COMPAT_DIR/trixie-cpu (default /var/cache/ctmq-compat), the build in /build/ctmq in it.
# Usage: scripts/compat/libtorch2.sh [--setup-only | ctest arguments, e.g. -R Checkpoint]
set -euo pipefail
source "$(dirname "$0")/common.sh"

root=$compat_dir/trixie-cpu
packages=(build-essential cmake ninja-build libtorch-dev libopencv-dev libjpeg-dev libcli11-dev
          libspdlog-dev nlohmann-json3-dev libgtest-dev libgloo-dev zlib1g-dev
          dataset-fashion-mnist python3-torch git libonnx-dev nodejs npm)

t0=$SECONDS
compat_root "$root" main "${packages[@]}"
t1=$SECONDS
if [ "${1:-}" = --setup-only ]; then echo "root ready in $((t1 - t0)) s: $root"; exit 0; fi
ctest_args=$(printf '%q ' "$@")
compat_run "$root" "
  cmake -S /src -B /build/ctmq -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build /build/ctmq --parallel $compat_jobs
  cd /build/ctmq
  ctest --output-on-failure --parallel $compat_jobs --timeout 900 $ctest_args
"
t2=$SECONDS
echo "libtorch2: root ready in $((t1 - t0)) s, build and tests in $((t2 - t1)) s"
