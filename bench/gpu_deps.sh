#!/usr/bin/env bash
# gpu_deps.sh — run HERE (a machine with apt and a network) before bench/gpu_check.sh goes to a GPU machine that has
# CUDA, CMake, a compiler and PyTorch but no network and none of the build's Debian packages: downloads those
# packages (headers, yaml-cpp; about 11 MB of .deb files) into build/gpu-deps/, which travels with the check and
# which gpu_check.sh unpacks there (never into /).
# Contract: run from the repository root; idempotent (keeps .deb files already there); needs apt-get download.
set -euo pipefail

packages=(libeigen3-dev libyaml-cpp-dev libyaml-cpp0.7 librandom123-dev libcli11-dev nlohmann-json3-dev doctest-dev
          libboost1.74-dev liblbfgspp-dev libbenchmark-dev libbenchmark1debian)
mkdir -p build/gpu-deps
cd build/gpu-deps
for p in "${packages[@]}"; do
  ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download "$p"
done
du -sh .
