#!/usr/bin/env bash
# Configures and builds ctmq against Debian trixie's CUDA LibTorch 2.6 (libtorch-cuda-dev,
# contrib) with NCCL (-DCTMQ_WITH_NCCL=ON), CUDA 12.4 and Gloo-CUDA, in a cached trixie root,
# to the linked binary and test programs. Nothing runs: the machine needs no GPU, and has none.
# Needs root and Debian's archive; the root is $CTMQ_COMPAT_DIR/trixie-cuda (default
# /var/cache/ctmq-compat), the build /build/ctmq-cuda in it. See docs/cluster.md.
#
# Usage: scripts/compat/libtorch2-cuda.sh [--setup-only | --configure-only]
#
# cuDNN: libtorch-cuda-2.6 depends on nvidia-cudnn, an installer package that downloads cuDNN
# from NVIDIA while it installs, which fails offline. Two local stand-ins replace it:
#  - an empty package named nvidia-cudnn (version 9.0.0.312~cuda12+ctmq.stub1, the archive's
#    pinned away) that satisfies the dependency, so apt installs everything else normally;
#  - a stub libcudnn.so.9 (SONAME libcudnn.so.9, version node libcudnn.so.9) defining exactly
#    the cudnn* functions that libtorch_cuda.so imports, each trapping if ever called. It lives in /opt/ctmq-cudnn-stub,
#    outside the library path, and is given to the linker with -rpath-link only: every other
#    symbol of every library is still resolved strictly (no --allow-shlib-undefined).
set -euo pipefail
source "$(dirname "$0")/common.sh"

root=$compat_dir/trixie-cuda
packages=(build-essential cmake ninja-build libtorch-cuda-dev nvidia-cuda-toolkit libnccl-dev
          libgloo-cuda-dev libopencv-dev libjpeg-dev libcli11-dev libspdlog-dev
          nlohmann-json3-dev libgtest-dev zlib1g-dev libonnx-dev)

t0=$SECONDS
compat_root "$root" main,contrib,non-free  # the base root, before the stand-in package
stub_version=9.0.0.312~cuda12+ctmq.stub1  # libtorch-cuda-2.6 needs nvidia-cudnn >= 9.0.0.312~
if [ "$(chroot "$root" dpkg-query -W -f='${Version}' nvidia-cudnn 2>/dev/null)" != "$stub_version" ]; then
  printf 'Package: nvidia-cudnn\nPin: origin *\nPin-Priority: -1\n' \
    >"$root/etc/apt/preferences.d/ctmq-cudnn-stub"
  stub_deb=$root/tmp/nvidia-cudnn-stub
  rm -rf "$stub_deb"; mkdir -p "$stub_deb/DEBIAN"
  cat >"$stub_deb/DEBIAN/control" <<CONTROL
Package: nvidia-cudnn
Version: $stub_version
Architecture: amd64
Maintainer: ctmq compat check <nobody@localhost>
Description: stand-in for the cuDNN installer (ctmq link check only, no cuDNN inside)
CONTROL
  chroot "$root" dpkg-deb --build /tmp/nvidia-cudnn-stub /tmp/nvidia-cudnn-stub.deb >/dev/null
  chroot "$root" dpkg -i /tmp/nvidia-cudnn-stub.deb >/dev/null
fi
compat_root "$root" main,contrib,non-free "${packages[@]}"
t1=$SECONDS
if [ "${1:-}" = --setup-only ]; then echo "root ready in $((t1 - t0)) s: $root"; exit 0; fi

compat_run "$root" "
  stub=/opt/ctmq-cudnn-stub
  if [ ! -f \$stub/libcudnn.so.9 ]; then
    mkdir -p \$stub
    nm -D --undefined-only /usr/lib/x86_64-linux-gnu/libtorch_cuda.so |
      awk '\$2 ~ /^cudnn/ { sub(/@.*/, \"\", \$2); print \$2 }' | sort -u |
      awk '{ printf \"void %s(void) { __builtin_trap(); }\\n\", \$1 }' >\$stub/cudnn_stub.c
    # libtorch_cuda.so imports them versioned (cudnnCreate@libcudnn.so.9): one version node.
    echo 'libcudnn.so.9 { global: cudnn*; local: *; };' >\$stub/cudnn_stub.map
    gcc -shared -fPIC -Wl,-soname,libcudnn.so.9 -Wl,--version-script=\$stub/cudnn_stub.map \
      -o \$stub/libcudnn.so.9 \$stub/cudnn_stub.c
    echo \"cudnn stub: \$(wc -l <\$stub/cudnn_stub.c) functions\"
  fi
  cmake -S /src -B /build/ctmq-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DCTMQ_WITH_NCCL=ON \
    -DCMAKE_EXE_LINKER_FLAGS=-Wl,-rpath-link,\$stub -DCMAKE_SHARED_LINKER_FLAGS=-Wl,-rpath-link,\$stub
  [ \"${1:-}\" = --configure-only ] && exit 0
  cmake --build /build/ctmq-cuda --parallel $compat_jobs
  ls -l /build/ctmq-cuda/ctmq /build/ctmq-cuda/tests/test_*
  ldd /build/ctmq-cuda/ctmq | grep -E 'torch_cuda|nccl|cudnn|cudart' || true
"
t2=$SECONDS
echo "libtorch2-cuda: root ready in $((t1 - t0)) s, configure and build in $((t2 - t1)) s"
