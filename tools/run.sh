#!/usr/bin/env bash
# Runs the whole system on the simulated feed: installs missing Debian
# packages, builds, starts a private redis-server on a free loopback port
# (unless REDIS_URL is set), then the engine and the bridge. Ctrl-C stops
# everything it started. Extra arguments go to physics-engine.
#
#   tools/run.sh [--sentinel] [ENGINE FLAGS...]
#   tools/run.sh --hz 10 --symbols 500
#   tools/run.sh --sentinel     high availability to watch a failover: a master,
#                               2 replicas and 3 sentinels (redis-server only,
#                               down-after-milliseconds 1000), two engines with
#                               --leader-lease 2 (leader + standby) and the bridge
#                               on redis-sentinel://...#mymaster; prints the
#                               commands that kill the master and the leader
#   tools/run.sh --cluster      scale-out: a Redis Cluster of 3 masters + 3 replicas
#                               (redis-server only, cluster-node-timeout 2000), two
#                               engine shards (--shard 0/2 and 1/2) and the bridge on
#                               redis-cluster://...; prints the command that kills a
#                               master and how to read a symbol with redis-cli -c
#   tools/run.sh --help         this text
set -euo pipefail
cd "$(dirname "$0")/.."

mode=single
case "${1:-}" in
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  --sentinel | --cluster)
    mode=${1#--}
    shift
    if [[ -n "${REDIS_URL:-}" ]]; then
      echo "run: --$mode starts its own Redis set; unset REDIS_URL" >&2
      exit 2
    fi
    ;;
esac

bash tools/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
targets=(physics-engine physics-bridge)
[[ $mode != single ]] && targets+=(physics-status)  # its command line is printed
cmake --build build -j2 --target "${targets[@]}" >/dev/null

pids=()
# Stops what was started, newest first (the bridge and the engines before the
# Redis they flush to), each waited for. A second Ctrl-C (a terminal sends one
# to the whole process group) must not cut this short: ignored meanwhile.
cleanup() {
  trap '' INT TERM
  trap - EXIT
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  [[ -n "${run_dir:-}" ]] && rm -rf "$run_dir"
}
trap cleanup INT TERM EXIT

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

# A free loopback port P below 55536 whose cluster bus port P + 10000 is free too.
free_cluster_port() {
  python3 <<'PY'
import socket
while True:
    a = socket.socket()
    a.bind(("127.0.0.1", 0))
    port = a.getsockname()[1]
    if port >= 55536:
        continue
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", port + 10000))
    except OSError:
        continue
    print(port)
    break
PY
}

# Waits up to 5 s for redis-server (or a sentinel) on port $1 to answer PING.
wait_for_ping() {
  for _ in $(seq 100); do redis-cli -p "$1" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "run: nothing answers on 127.0.0.1:$1 (logs in $run_dir)" >&2
  return 1
}

# start_redis NAME [ARGS...]: a redis-server on a free loopback port, no
# persistence, its log in the run's directory; sets $port and $pid.
start_redis() {
  local name=$1
  shift
  port=${port_for_next_redis:-$(free_port 0)}
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$run_dir" \
    --logfile "$run_dir/$name.log" "$@" &
  pid=$!
  pids+=("$pid")
  wait_for_ping "$port"
}

# start_sentinel NAME MASTER_PORT: a sentinel on a free port, with its own
# config file in the run's directory (sentinels rewrite it); sets $port and $pid.
start_sentinel() {
  local conf="$run_dir/$1.conf"
  port=$(free_port 0)
  cat >"$conf" <<CONF
bind 127.0.0.1
dir $run_dir
logfile $run_dir/$1.log
sentinel monitor mymaster 127.0.0.1 $2 2
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 10000
CONF
  redis-server "$conf" --sentinel --port "$port" &
  pid=$!
  pids+=("$pid")
  wait_for_ping "$port"
}

# Waits up to 15 s until the sentinel on port $1 knows 2 replicas and the
# 2 other sentinels (before that, it could not lead a failover).
wait_for_sentinel_view() {
  for _ in $(seq 150); do
    if redis-cli -p "$1" SENTINEL MASTER mymaster 2>/dev/null |
      paste - - | awk '$1 == "num-slaves" && $2 == 2 { r++ } $1 == "num-other-sentinels" && $2 == 2 { s++ }
                      END { exit !(r && s) }'; then
      return 0
    fi
    sleep 0.1
  done
  echo "run: the sentinel on 127.0.0.1:$1 did not see 2 replicas and 2 sentinels in 15 s" >&2
  return 1
}

leader_key="${REDIS_NAMESPACE:+${REDIS_NAMESPACE%:}:}ops:leader:engine"

# Waits up to 10 s for an engine to take the lease on the master on port $1;
# prints the lease holder ({hostname}-{pid}).
wait_for_leader() {
  local id=""
  for _ in $(seq 100); do
    id=$(redis-cli -p "$1" GET "$leader_key" 2>/dev/null || true)
    [[ -n "$id" ]] && break
    sleep 0.1
  done
  echo "$id"
}

# start_engine ARGS...: physics-engine in the background; its pid joins
# $pids and $engine_pids.
start_engine() {
  build/bin/physics-engine "$@" &
  pids+=($!)
  engine_pids+=($!)
}

# start_bridge: physics-bridge on $BRIDGE_PORT (8080) or any free port; sets
# $http_port and $bridge_pid.
start_bridge() {
  http_port=$(free_port "${BRIDGE_PORT:-8080}")
  build/bin/physics-bridge --listen "127.0.0.1:$http_port" &
  pids+=($!)
  bridge_pid=$!
}

run_sentinel() {
  run_dir=$(mktemp -d)
  start_redis master
  local master_port=$port master_pid=$pid replica_ports=()
  for i in 1 2; do
    start_redis "replica$i" --replicaof 127.0.0.1 "$master_port"
    replica_ports+=("$port")
  done
  local sentinel_hosts=()
  for i in 1 2 3; do
    start_sentinel "sentinel$i" "$master_port"
    sentinel_hosts+=("127.0.0.1:$port")
  done
  for host in "${sentinel_hosts[@]}"; do wait_for_sentinel_view "${host##*:}"; done
  REDIS_URL="redis-sentinel://$(IFS=,; echo "${sentinel_hosts[*]}")/0#mymaster"
  export REDIS_URL

  local engine_pids=() bridge_pid
  start_engine --leader-lease 2 "$@"
  start_engine --leader-lease 2 "$@"
  start_bridge
  local leader
  leader=$(wait_for_leader "$master_port")
  local leader_pid=${leader##*-}

  cat <<MSG
run: Redis master 127.0.0.1:$master_port (pid $master_pid), replicas 127.0.0.1:${replica_ports[0]} and 127.0.0.1:${replica_ports[1]},
     sentinels ${sentinel_hosts[*]} (logs in $run_dir)
run: physics-engine pids ${engine_pids[*]} (leader: ${leader:-none yet}), physics-bridge pid $bridge_pid; Ctrl-C stops everything.
Dashboard:  http://127.0.0.1:$http_port/
State:      http://127.0.0.1:$http_port/api/state/SPY
REDIS_URL:  $REDIS_URL
Health:     build/bin/physics-status --redis-url '$REDIS_URL' --bridge-url http://127.0.0.1:$http_port
Fail over Redis (a replica is promoted about 2 s later):
  kill -9 $master_pid
Fail over the engine (the standby takes the lease within 2 s):
  kill -9 ${leader_pid:-<pid of the leader>}
MSG
}

run_cluster() {
  run_dir=$(mktemp -d)
  local nodes=() node_pids=()
  for i in 1 2 3 4 5 6; do
    port_for_next_redis=$(free_cluster_port)
    start_redis "node$i" --cluster-enabled yes --cluster-config-file "nodes$i.conf" \
      --cluster-node-timeout 2000
    nodes+=("127.0.0.1:$port")
    node_pids+=("$pid")
  done
  unset port_for_next_redis
  # The first three become masters, each of the others a replica of one.
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes \
    >"$run_dir/create.log" 2>&1 || {
    echo "run: redis-cli --cluster create failed (log: $run_dir/create.log)" >&2
    return 1
  }
  local first_port=${nodes[0]##*:}
  for _ in $(seq 150); do
    local ok=1
    for node in "${nodes[@]}"; do
      redis-cli -p "${node##*:}" CLUSTER INFO 2>/dev/null | grep -q '^cluster_state:ok' || ok=0
    done
    ((ok)) && break
    sleep 0.1
  done
  REDIS_URL="redis-cluster://$(IFS=,; echo "${nodes[*]:0:3}")"
  export REDIS_URL

  local engine_pids=() bridge_pid
  start_engine --shard 0/2 "$@"
  start_engine --shard 1/2 "$@"
  start_bridge
  local spy_slot
  spy_slot=$(redis-cli -p "$first_port" CLUSTER KEYSLOT physics:state:SPY)
  local spy_master
  spy_master=$(redis-cli -p "$first_port" CLUSTER NODES |
    awk -v s="$spy_slot" '$3 ~ /master/ { for (i = 9; i <= NF; i++) { n = split($i, r, "-");
      lo = r[1]; hi = (n > 1 ? r[2] : r[1]); if (s >= lo && s <= hi) { split($2, a, "@"); print a[1] } } }')
  local spy_pid=""
  for i in "${!nodes[@]}"; do
    [[ "${nodes[i]}" == "$spy_master" ]] && spy_pid=${node_pids[i]}
  done

  cat <<MSG
run: Redis Cluster ${nodes[*]} (3 masters + 3 replicas, logs in $run_dir)
run: physics-engine shards 0/2 and 1/2 (pids ${engine_pids[*]}), physics-bridge pid $bridge_pid; Ctrl-C stops everything.
Dashboard:  http://127.0.0.1:$http_port/
State:      redis-cli -c -p $first_port GET physics:state:SPY
REDIS_URL:  $REDIS_URL
Health:     build/bin/physics-status --redis-url '$REDIS_URL' --bridge-url http://127.0.0.1:$http_port
Fail over the master serving SPY ($spy_master; its replica is promoted about 3-4 s later):
  kill -9 ${spy_pid:-<pid of a master>}
MSG
}

run_single() {
  cli_args=()
  if [[ -z "${REDIS_URL:-}" ]]; then
    run_dir=$(mktemp -d)
    start_redis redis
    export REDIS_URL="redis://127.0.0.1:$port/0"
    cli_args=(-p "$port")
    echo "run: private redis-server on 127.0.0.1:$port (pid $pid)"
  else
    echo "run: using REDIS_URL from the environment"
  fi

  local engine_pids=() bridge_pid
  start_engine "$@"
  start_bridge

  cat <<MSG
run: physics-engine (pid ${engine_pids[0]}) and physics-bridge (pid $bridge_pid) running; Ctrl-C stops everything.
Dashboard:  http://127.0.0.1:$http_port/
WebSocket:  ws://127.0.0.1:$http_port/ws   State: http://127.0.0.1:$http_port/api/state/SPY
Watch Redis:
  redis-cli ${cli_args[*]} GET physics:state:SPY
  redis-cli ${cli_args[*]} HGETALL market:snapshot:SPY
  redis-cli ${cli_args[*]} SUBSCRIBE state_update
MSG
}

if [[ $mode == sentinel || $mode == cluster ]]; then
  "run_$mode" "$@"
  # Killing the master or an engine is part of the demonstration: wait for
  # Ctrl-C (or the bridge, the last one started, to exit).
  wait "${pids[-1]}"
else
  run_single "$@"
  wait -n "${pids[@]}"
fi
