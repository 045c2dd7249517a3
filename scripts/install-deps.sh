#!/usr/bin/env bash
# Installs lfc's build dependencies (Debian/Ubuntu packages) when they are missing.
# Idempotent and non-interactive. Usage: scripts/install-deps.sh [compiler|runtime]
#   compiler (default): everything, including LLVM/MLIR 19 for the policy compiler
#   runtime:            only what the runtime needs (no MLIR), e.g. on a GPU machine
set -euo pipefail
mode=${1:-compiler}
pkgs=(cmake ninja-build g++ make python3)
case "$mode" in
  compiler) pkgs+=(llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools libtomlplusplus-dev libgtest-dev) ;;
  runtime) pkgs+=(libtomlplusplus-dev libgtest-dev) ;;
  *) echo "install-deps.sh: unknown mode '$mode' (expected 'compiler' or 'runtime')" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps.sh: missing packages (${missing[*]}) and no apt-get to install them; install them by hand" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "lfc: installing missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null || echo "install-deps.sh: apt-get update failed; trying the install with the current package lists" >&2
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
