#!/usr/bin/env bash
# Prepares .deps/ for a GPU machine that has no network and no toml++: downloads Debian's
# toml++ packages here and unpacks their headers under .deps/root (git-ignored). Carry .deps
# to the GPU machine and configure with -DLFC_TOMLPP_INCLUDE_DIR=$PWD/.deps/root/usr/include
# (bench/gpu_session.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .deps/root/usr/include/toml++/toml.h ]; then
  echo "lfc: .deps/ already holds the toml++ headers"
  exit 0
fi
mkdir -p .deps
(cd .deps && apt-get download libtomlplusplus-dev >/dev/null 2>&1) || {
  echo "fetch-gpu-deps.sh: 'apt-get download libtomlplusplus-dev' failed (no Debian/Ubuntu package lists or network?)" >&2
  exit 1
}
for deb in .deps/*.deb; do dpkg -x "$deb" .deps/root; done
test -f .deps/root/usr/include/toml++/toml.h
echo "lfc: toml++ headers in .deps/root/usr/include"
