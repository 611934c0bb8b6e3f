#!/usr/bin/env bash
# sanitize-tests.sh — builds the whole project with ASan + UBSan (the "asan" preset: -fsanitize=address,undefined
# -fno-omit-frame-pointer -O1 -g, into build/asan) and runs every test there; any sanitizer finding fails the run.
# Usage: scripts/sanitize-tests.sh [ctest args...]      (CXX=clang++ scripts/sanitize-tests.sh to build with clang;
#        the default is the system c++, g++ on Debian; JOBS=N sets the build's parallelism, default nproc)
# Exit status: 0 when the build and every test pass with no finding, non-zero otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs="${JOBS:-$(nproc)}"
start=$(date +%s)

# a compiler change needs a fresh cache
if [ -n "${CXX:-}" ] && [ -f build/asan/CMakeCache.txt ] &&
   ! grep -q "^CMAKE_CXX_COMPILER:[A-Z]*=.*$(basename "$CXX")\$" build/asan/CMakeCache.txt; then
  rm -rf build/asan
fi

cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs" --target goodhart goodhart_tests  # what ctest runs (no benchmark)
built=$(date +%s)

# the tests' child processes (the CLI tests run build/asan/goodhart) inherit these
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

status=0
ctest --test-dir build/asan --output-on-failure "$@" || status=$?
end=$(date +%s)
echo "sanitize-tests: build $((built - start)) s, tests $((end - built)) s, exit $status"
exit $status
