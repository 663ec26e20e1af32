#!/usr/bin/env bash
# Installs every Debian 12 package Fides needs to build, test and run.
# Idempotent: packages already present are skipped by apt. Must run as root (or via sudo).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # style check (.clang-format, enforced by scripts/check-format.sh)
  clang-format-14
  # crypto and storage
  libsecp256k1-dev libbotan-2-dev libsqlcipher-dev sqlcipher
  # the validator daemon's memory allocator (doc/adr/0022)
  libjemalloc-dev
  # RPC
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc grpc-proto
  # utility libraries
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libabsl-dev
  # Qt 6.4: Core, Widgets, Quick, Test, QML tooling and runtime modules
  qt6-base-dev qt6-base-dev-tools qt6-declarative-dev qt6-declarative-dev-tools
  qml6-module-qtquick qml6-module-qtquick-controls qml6-module-qtquick-layouts
  qml6-module-qtquick-window qml6-module-qtqml-workerscript qml6-module-qttest
  qml6-module-qtquick-templates libgl-dev
  # headless GUI tests and the run command's display check
  xvfb xauth
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "setup: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
