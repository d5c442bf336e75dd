# Sourced by the GPU scripts (cuda_check.sh, gpu_study.sh): finds LibTorch, the extra
# dependency prefix and NCCL, exports what the built binary needs at run time, and defines
#   cuda_build SRC BUILD_DIR LOG_DIR JOBS [TARGET...]
# which configures and builds (all targets, or the named ones) and writes LOG_DIR/machine.txt,
# configure.log and build.log. Environment: CTMQ_TORCH_PREFIX, CTMQ_DEPS_PREFIX,
# CTMQ_DATASETS_DIR, CTMQ_GLOO_INCLUDE_DIR (see cuda_check.sh), CTMQ_CXX (a C++ compiler other
# than the default one).
torch_prefix=${CTMQ_TORCH_PREFIX:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}
prefixes=$torch_prefix
cxx_flags=""
if [ -n "${CTMQ_DEPS_PREFIX:-}" ]; then
  prefixes="$CTMQ_DEPS_PREFIX;$torch_prefix"
  # The prefix's fmt must win over any fmt headers LibTorch ships: spdlog was built against it.
  cxx_flags="-I$CTMQ_DEPS_PREFIX/include"
  export LD_LIBRARY_PATH=$CTMQ_DEPS_PREFIX/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
nccl=OFF
nccl_args=()
# NCCL's header: the system's, or the one of the nvidia-nccl wheel beside python3's torch.
nccl_header=$(find /usr/include /usr/local/cuda/include \
  "$(python3 -c 'import nvidia, os; print(list(nvidia.__path__)[0])' 2>/dev/null || echo /nonexistent)" \
  -name nccl.h 2>/dev/null | head -n 1)
if [ -n "$nccl_header" ]; then
  nccl=ON
  nccl_args=(-DCTMQ_NCCL_INCLUDE_DIR="$(dirname "$nccl_header")")
  export NCCL_ROOT=${NCCL_ROOT:-$(dirname "$(dirname "$nccl_header")")}
fi
configure_args=(-DCTMQ_WITH_NCCL=$nccl "${nccl_args[@]}")
if [ -n "${CTMQ_GLOO_INCLUDE_DIR:-}" ]; then
  configure_args+=(-DCTMQ_GLOO_INCLUDE_DIR="$CTMQ_GLOO_INCLUDE_DIR")
fi
if [ -n "${CTMQ_CXX:-}" ]; then configure_args+=(-DCMAKE_CXX_COMPILER="$CTMQ_CXX"); fi
# Only this GPU's architecture: ctmq has no kernels of its own, and detection is slow.
arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1)
[ -n "$arch" ] && export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-$arch}

cuda_build() {
  local src=$1 build=$2 log=$3 jobs=$4; shift 4
  local targets=()
  for target in "$@"; do targets+=(--target "$target"); done
  {
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), "nccl", torch.cuda.nccl.version())'
  } >"$log/machine.txt" 2>&1
  cat "$log/machine.txt"
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefixes" -DCMAKE_CXX_FLAGS="$cxx_flags" \
    -DCTMQ_DATASETS_DIR="${CTMQ_DATASETS_DIR:-/usr/share/datasets/fashion-mnist}" \
    "${configure_args[@]}" >"$log/configure.log" 2>&1 &&
    cmake --build "$build" --parallel "$jobs" "${targets[@]}" >"$log/build.log" 2>&1 || {
    tail -n 30 "$log/configure.log" "$log/build.log"
    return 1
  }
}
