#!/usr/bin/env bash
# Installs the Debian packages ctmq needs, only those that are missing (fast when all are there).
set -euo pipefail
packages=(build-essential cmake ninja-build libtorch-dev libopencv-dev libjpeg-dev libcli11-dev
          libspdlog-dev nlohmann-json3-dev libgtest-dev libgloo-dev zlib1g-dev dataset-fashion-mnist
          python3-torch slurmctld slurmd slurm-client munge)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
