#!/usr/bin/env bash
# Runs the benchmarks and writes bench/results/*.json.
#   tools/bench.sh           full run (figures for the README)
#   tools/bench.sh --quick   short run for CI
set -euo pipefail
cd "$(dirname "$0")/.."

min_time=1
[[ "${1:-}" == "--quick" ]] && min_time=0.1

bash tools/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 >/dev/null
mkdir -p bench/results

build/bin/physics_bench --benchmark_min_time="$min_time" \
  --benchmark_out=bench/results/physics.json --benchmark_out_format=json
