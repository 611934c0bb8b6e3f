#!/usr/bin/env bash
# install-deps.sh — installs what the build, the tests, the demo's plot and the Python package need: Debian's
# packages (compilers, C++ libraries) and PyPI's (the package's build and run-time needs, pytest, hypothesis,
# nbclient, build for the sdist and wheel check, dask's distributed for the executor test).
# Usage: scripts/install-deps.sh   (installs only what is missing)
set -euo pipefail

debian=(cmake g++ make libeigen3-dev libyaml-cpp-dev librandom123-dev libcli11-dev nlohmann-json3-dev
        doctest-dev libboost-dev liblbfgspp-dev libomp-dev libbenchmark-dev clang libclang-rt-14-dev)
missing=()
for p in "${debian[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# PyPI: module name -> package name
python_needs=(numpy:numpy pandas:pandas matplotlib:matplotlib nanobind:nanobind scikit_build_core:scikit-build-core
              pytest:pytest hypothesis:hypothesis nbclient:nbclient nbformat:nbformat ipykernel:ipykernel
              build:build "distributed:dask[distributed]")
missing=()
for need in "${python_needs[@]}"; do
  # from / so that a folder of the working directory (build/) is not taken for a module
  (cd / && python3 -c "import ${need%%:*}") 2>/dev/null || missing+=("${need#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing from PyPI: ${missing[*]}"
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install -q "${missing[@]}"
fi
