#!/usr/bin/env bash
# gpu_check.sh — the whole GPU check in one command, for a lent H100/H200 machine: build with CUDA for sm_90, run the
# CUDA parity tests (each op against its double reference, and every tiny library scenario with --backend cuda
# against --backend cpu) and the CUDA kernel benchmarks (bench/ops_cuda_bench.cu), then W1-W3 through the engine's
# optimizers (CUDA backend) vs PyTorch eager on the GPU (bench/run_workloads.py; W1 and W2 at scale 1, W3 at 0.25),
# a short table printed last. Budget: under 5 minutes on 16 cores.
# Usage: bench/gpu_check.sh   (from the repository root; where the GPU machine lacks the build's Debian packages,
#        run bench/gpu_deps.sh first on a machine with a network: it fills build/gpu-deps/, which must travel along)
# Contract: raw results (every report in all.json, table.md, the logs) go to $OUT when set, else build/gpu-results;
# without a GPU or nvcc it says so and falls back to the CPU backend at small scale (GOODHART_BUILD_DIR picks the
# build folder, default build/gpu), so the script's path can be checked on any machine. PyTorch missing: the peer
# is reported unavailable and goodhart still runs. Exit status: non-zero when the build, the parity tests or the
# agreement of results fails.
set -uo pipefail

build=${GOODHART_BUILD_DIR:-build/gpu}
work=build/gpu-results
out=${OUT:-$work}
mkdir -p "$work" "$out"
exec > >(tee "$out/gpu_check.log") 2>&1
start=$SECONDS
status=0
step() { echo "== $* ($((SECONDS - start)) s)"; }

step "machine"
if command -v nvidia-smi >/dev/null && nvidia-smi -L && command -v nvcc >/dev/null; then
  device=cuda
  nvcc --version | tail -1
else
  device=cpu
  echo "no GPU or no nvcc here: CPU fallback (the CUDA figures stay unmeasured)"
fi
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' ||
  echo "PyTorch is not installed: the torch peer is unavailable"

step "dependencies"
cmake_extra=()
if [ ! -f /usr/include/eigen3/Eigen/Dense ] && ls build/gpu-deps/*.deb >/dev/null 2>&1; then
  deps=/tmp/goodhart-deps
  mkdir -p "$deps"
  for f in build/gpu-deps/*.deb; do dpkg -x "$f" "$deps"; done
  cmake_extra+=("-DCMAKE_PREFIX_PATH=$deps/usr")
  export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
  echo "unpacked build/gpu-deps into $deps"
fi

step "build ($build, $device)"
targets=(goodhart_tests goodhart_workloads)
if [ "$device" = cuda ]; then
  cmake_extra+=(-DGOODHART_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90)
  targets+=(goodhart_bench_cuda)
else
  cmake_extra+=(-DGOODHART_CUDA=OFF)
fi
if cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release "${cmake_extra[@]}" >"$work/configure.log" 2>&1 &&
  cmake --build "$build" -j "$(nproc)" --target "${targets[@]}" >"$work/build.log" 2>&1; then
  tail -2 "$work/build.log"
else
  tail -40 "$work/configure.log" "$work/build.log"
  echo "BUILD FAILED"
  exit 1
fi

step "parity tests"
if [ "$device" = cuda ]; then
  filter='*cuda*,*CUDA*'
else
  filter='*backend*,*tilt*'
fi
"$build/goodhart_tests" -tc="$filter" >"$out/parity.log" 2>&1 || { echo "PARITY TESTS FAILED"; status=1; }
tail -3 "$out/parity.log"

if [ "$device" = cuda ]; then
  step "CUDA kernels (device-resident, cudaEvent timing)"
  timeout 90 "$build/bench/goodhart_bench_cuda" --benchmark_min_time=0.2 --benchmark_out="$out/ops_cuda.json" \
    --benchmark_out_format=json 2>&1 | tail -25 || echo "goodhart_bench_cuda failed or is not built"
fi

step "workloads ($device)"
if [ "$device" = cuda ]; then
  timeout 200 python3 bench/run_workloads.py --device cuda --scales w1=1,w2=1,w3=0.25 --repeats 3 --build "$build" --out "$work"
else
  timeout 200 python3 bench/run_workloads.py --device cpu --scale 0.015625 --repeats 2 --build "$build" --out "$work"
fi
ran=$?
[ $ran -eq 0 ] || { echo "WORKLOADS FAILED (exit $ran)"; status=1; }
[ "$out" = "$work" ] || cp "$work/all.json" "$work/table.md" "$out/" 2>/dev/null

step "done"
echo "parity: $(tail -1 "$out/parity.log")"
cat "$work/table.md" 2>/dev/null
exit $status
