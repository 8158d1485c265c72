#!/usr/bin/env bash
# install-deps.sh: installs everything Kiln's build and tests need on Debian 12.
# Safe to run twice: it only installs what is missing.
set -euo pipefail
packages=(cmake ninja-build g++ python3 python3-pip ccache libgtest-dev
          llvm-22-dev libmlir-22-dev mlir-22-tools clang-22 lld-22 llvm-22-tools
          rocm-device-libs spirv-tools libze-dev libamdhip64-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ -f "$(dirname "$0")/requirements.txt" ]; then
  python3 -m pip install -q -r "$(dirname "$0")/requirements.txt" 2>/dev/null ||
    python3 -m pip install -q --break-system-packages -r "$(dirname "$0")/requirements.txt"
fi
