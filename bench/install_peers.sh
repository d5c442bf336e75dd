#!/usr/bin/env bash
# Installs the Debian packages the Python peers of the benchmarks import (bench/train_pytorch.py:
# torch, torchvision, PIL, numpy; bench/imagefolder_pil.py: torch, torchvision, PIL), only those
# that are missing. The other bench scripts call it first, so that a fresh machine runs them.
set -euo pipefail
packages=(python3-torch python3-torchvision python3-pil python3-numpy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing the benchmark peers' packages: ${missing[*]}" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
fi
