#!/usr/bin/env bash
# Installs lfc's build dependencies (Debian/Ubuntu packages) when they are missing.
# Idempotent and non-interactive: each requirement is checked by what the build uses (a
# command, a header, a CMake config), so tools installed some other way count too.
# Usage: scripts/install-deps.sh [compiler|runtime]
#   compiler (default): everything, including LLVM/MLIR 19 for the policy compiler
#   runtime:            only what the runtime needs (no MLIR), e.g. on a GPU machine
# LFC_TOMLPP_INCLUDE_DIR (a directory holding toml++/toml.h) stands in for libtomlplusplus-dev.
set -euo pipefail
mode=${1:-compiler}
case "$mode" in
  compiler|runtime) ;;
  *) echo "install-deps.sh: unknown mode '$mode' (expected 'compiler' or 'runtime')" >&2; exit 2 ;;
esac

missing=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need_file() { # need_file PACKAGE FILE...: the package unless one of the files exists
  local pkg=$1; shift
  for f in "$@"; do [ -e "$f" ] && return 0; done
  missing+=("$pkg")
}

need_cmd cmake cmake
need_cmd ninja ninja-build
need_cmd g++ g++
need_cmd make make
need_cmd python3 python3
if [ -n "${LFC_TOMLPP_INCLUDE_DIR:-}" ]; then
  [ -f "$LFC_TOMLPP_INCLUDE_DIR/toml++/toml.h" ] || {
    echo "install-deps.sh: LFC_TOMLPP_INCLUDE_DIR=$LFC_TOMLPP_INCLUDE_DIR has no toml++/toml.h" >&2
    exit 1
  }
else
  need_file libtomlplusplus-dev /usr/include/toml++/toml.h
fi
need_file libgtest-dev /usr/include/gtest/gtest.h /usr/local/include/gtest/gtest.h
if [ "$mode" = compiler ]; then
  need_file llvm-19-dev /usr/lib/llvm-19/lib/cmake/llvm/LLVMConfig.cmake
  need_file libmlir-19-dev /usr/lib/llvm-19/lib/cmake/mlir/MLIRConfig.cmake
  need_file mlir-19-tools /usr/lib/llvm-19/bin/mlir-tblgen
  need_file llvm-19-tools /usr/lib/llvm-19/bin/FileCheck
fi

[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps.sh: missing ${missing[*]} and no apt-get to install them; install them by hand" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "lfc: installing missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null || echo "install-deps.sh: apt-get update failed; trying the install with the current package lists" >&2
$sudo apt-get install -y -q "${missing[@]}" >/dev/null || {
  echo "install-deps.sh: could not install ${missing[*]} (no network?); install them by hand" >&2
  exit 1
}
