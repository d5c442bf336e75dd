#!/usr/bin/env bash
# Installs the Debian packages ctmq needs, only those that are missing (fast when all are there).
set -euo pipefail
packages=(build-essential cmake ninja-build libtorch-dev libopencv-dev libjpeg-dev libcli11-dev
          libspdlog-dev nlohmann-json3-dev libgtest-dev libgloo-dev zlib1g-dev dataset-fashion-mnist
          python3-torch slurmctld slurmd slurm-client munge libonnx-dev nodejs)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm (for the onnxruntime-node tests) comes with some nodejs builds (NodeSource's) and is
# Debian's own package otherwise; installing Debian's npm next to NodeSource's nodejs conflicts.
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
