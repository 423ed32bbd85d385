#!/usr/bin/env bash
# Runs the whole system on the simulated feed: installs missing Debian
# packages, builds, starts a private redis-server on a free loopback port
# (unless REDIS_URL is set), then the engine and the bridge. Ctrl-C stops
# everything it started. Extra arguments go to physics-engine, e.g.
#   tools/run.sh --hz 10 --symbols 500
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target physics-engine physics-bridge >/dev/null

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n "${run_dir:-}" ]] && rm -rf "$run_dir"
}
trap cleanup INT TERM EXIT

cli_args=()
if [[ -z "${REDIS_URL:-}" ]]; then
  free_port() {  # $1 if it is free on loopback, else any free port
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
PY
}

port=$(free_port 0)
  run_dir=$(mktemp -d)
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$run_dir" \
    --logfile "$run_dir/redis.log" &
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
  export REDIS_URL="redis://127.0.0.1:$port/0"
  cli_args=(-p "$port")
  echo "run: private redis-server on 127.0.0.1:$port (pid ${pids[-1]})"
else
  echo "run: using REDIS_URL from the environment"
fi

build/bin/physics-engine "$@" &
pids+=($!)
engine_pid=${pids[-1]}

http_port=$(free_port "${BRIDGE_PORT:-8080}")
build/bin/physics-bridge --listen "127.0.0.1:$http_port" &
pids+=($!)

cat <<MSG
run: physics-engine (pid $engine_pid) and physics-bridge (pid ${pids[-1]}) running; Ctrl-C stops everything.
Dashboard:  http://127.0.0.1:$http_port/
WebSocket:  ws://127.0.0.1:$http_port/ws   State: http://127.0.0.1:$http_port/api/state/SPY
Watch Redis:
  redis-cli ${cli_args[*]} GET physics:state:SPY
  redis-cli ${cli_args[*]} HGETALL market:snapshot:SPY
  redis-cli ${cli_args[*]} SUBSCRIBE state_update
MSG
wait -n "${pids[@]}"
