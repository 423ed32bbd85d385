#!/usr/bin/env bash
# Fuzzes the parsers that read untrusted bytes with libFuzzer:
# builds tests/fuzz/ with clang, ASan and UBSan in build-fuzz/, then runs each
# target for SECONDS (default 60) from its seed corpus, tests/fuzz/corpus/<target>/.
#   tools/fuzz.sh                      every target, 60 s each (what CI runs)
#   tools/fuzz.sh 10 fuzz_csv_row      one target, 10 s
# The corpus grows in a scratch directory, never in the repo. Exits 1 when a
# target crashes or breaks an invariant, printing the reproducer's path;
#   build-fuzz/bin/<target> <file>     replays it.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "usage: tools/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2; }
shift || true
# Target -> -max_len: a little over the largest input its parser meets in use.
declare -A max_len=(
  [fuzz_tick_json]=1024        # a real tick is < 300 bytes
  [fuzz_csv_row]=2048          # a header and a few rows
  [fuzz_client_request]=4096   # a subscribe with a few hundred symbols
  [fuzz_ws_frame]=4096         # several frames, 16- and 64-bit lengths
  [fuzz_redis_url]=512
  [fuzz_redis_env]=1024
)
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(fuzz_tick_json fuzz_csv_row fuzz_client_request
                                      fuzz_ws_frame fuzz_redis_url fuzz_redis_env)
for t in "${targets[@]}"; do
  [[ -n "${max_len[$t]:-}" ]] || { echo "fuzz: unknown target '$t'; known: ${!max_len[*]}" >&2; exit 2; }
done

bash tools/setup.sh --fuzz
sanitize="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cmake -S . -B build-fuzz -G Ninja -DPHYSICS_FUZZ=ON \
  -DPHYSICS_BUILD_TESTS=OFF -DPHYSICS_BUILD_BENCHMARKS=OFF \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS="$sanitize -g -O1" -DCMAKE_CXX_FLAGS="$sanitize -g -O1" >/dev/null
cmake --build build-fuzz -j2 --target "${targets[@]}"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/physics-fuzz.XXXXXX")
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=()
summary=()
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t/corpus"
  cp tests/fuzz/corpus/"$t"/* "$scratch/$t/corpus/"
  dict=()
  [[ -f tests/fuzz/dict/$t.dict ]] && dict=(-dict="tests/fuzz/dict/$t.dict")
  echo "== $t: ${seconds} s, -max_len=${max_len[$t]}"
  status=0
  build-fuzz/bin/"$t" "$scratch/$t/corpus" "${dict[@]}" -max_total_time="$seconds" \
    -max_len="${max_len[$t]}" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$scratch/$t/" >"$scratch/$t/log" 2>&1 || status=$?
  grep -a -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::average_exec_per_sec)' \
    "$scratch/$t/log" || true
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$t/log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$scratch/$t/log")
  if [[ $status -ne 0 ]]; then
    # The sanitizer's or the invariant's report, then libFuzzer's artifact line.
    grep -a -E -A12 '^(INVARIANT BROKEN|==[0-9]+==ERROR|.*runtime error)' "$scratch/$t/log" | head -40 || true
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$scratch/$t/log" | head -1)
    echo "FAILED $t (exit $status): crash file ${crash:-none}; log $scratch/$t/log"
    failed+=("$t")
    summary+=("$(printf '%-22s %12s runs %10s exec/s  FAILED %s' "$t" "${runs:-?}" "${rate:-?}" "${crash:-}")")
  else
    summary+=("$(printf '%-22s %12s runs %10s exec/s  ok' "$t" "${runs:-?}" "${rate:-?}")")
  fi
done

echo
echo "== fuzz summary (${seconds} s per target)"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}; crash files and logs kept in $scratch"
  exit 1
fi
rm -rf "$scratch"
