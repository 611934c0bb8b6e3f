#!/usr/bin/env bash
# install-deps.sh — installs what the build, the tests and the demo need, from Debian's packages and PyPI.
# Usage: scripts/install-deps.sh [--python]   (--python adds matplotlib for the demo's plot)
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

if [ "${1:-}" = "--python" ]; then
  python3 -c "import matplotlib" 2>/dev/null || python3 -m pip install -q matplotlib
fi
