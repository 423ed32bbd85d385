#!/usr/bin/env bash
# Runs the benchmarks on this machine and writes bench/results/latest.json and
# bench/results/latest.md (the tables the README shows).
#   tools/bench.sh           full run (figures for the README)
#   tools/bench.sh --quick   short run for CI, written to bench/results/quick/
#                            (never over the committed latest.md); fails when a
#                            measured P99 exceeds the documented table's P99
set -euo pipefail
cd "$(dirname "$0")/.."

quick=false
[[ "${1:-}" == "--quick" ]] && quick=true

bash tools/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 >/dev/null
out=bench/results
$quick && out=bench/results/quick
mkdir -p "$out"

if $quick; then
  gbench_time=0.05; latency_args=(--quick --check); pipeline_args=(--quick)
else
  gbench_time=1; latency_args=(); pipeline_args=()
fi

# First, on the still idle machine: how much it takes CPUs away (context for the figures).
build/bin/cpu_gaps --seconds "$($quick && echo 2 || echo 10)" --json "$out/cpu_gaps.json" >/dev/null
for suite in physics_bench engine_bench; do
  build/bin/$suite --benchmark_min_time=$gbench_time \
    --benchmark_out="$out/$suite.json" --benchmark_out_format=json
done
build/bin/latency_table "${latency_args[@]}" --json "$out/latency_table.json"
build/bin/tick_pipeline "${pipeline_args[@]}" --json "$out/tick_pipeline.json"
if [[ -x build/bin/e2e_bench ]]; then
  e2e_args=(); $quick && e2e_args=(--quick)
  build/bin/e2e_bench "${e2e_args[@]}" --json "$out/e2e.json"
fi
# A Sentinel failover under load and a standby engine's takeover (stream
# feed): slow (three failovers each), so full runs only.
if ! $quick && [[ -x build/bin/failover_bench ]]; then
  build/bin/failover_bench --json "$out/failover.json"
  build/bin/failover_bench --scenario standby --json "$out/failover_standby.json"
fi
# The engine on 3 cluster masters vs one server (docs/SPEC.md §9): about a
# minute, full runs only.
if ! $quick && [[ -x build/bin/cluster_bench ]]; then
  build/bin/cluster_bench --json "$out/cluster_bench.json"
fi

python3 tools/bench_report.py "$out" > "$out/latest.md"
echo
cat "$out/latest.md"
