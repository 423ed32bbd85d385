#!/usr/bin/env python3
"""Merges bench/results/*.json into latest.json and prints the Markdown tables.

Usage: tools/bench_report.py bench/results > bench/results/latest.md
"""
import json
import os
import platform
import subprocess
import sys


def load(directory, name):
    path = os.path.join(directory, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def gbench_rows(data, names):
    rows = []
    for b in data.get("benchmarks", []):
        if b.get("run_type", "iteration") != "iteration":
            continue
        if any(b["name"].startswith(n) for n in names):
            unit = b.get("time_unit", "ns")
            rows.append(f"| `{b['name']}` | {b['cpu_time']:.1f} {unit} |")
    return rows


def print_table(title, header, rule, rows):
    """Prints a titled Markdown table: `title`, the header and rule lines, one line per row."""
    print(title + "\n")
    print(header)
    print(rule)
    for row in rows:
        print(row)
    print()


def main():
    directory = sys.argv[1]
    results = {name[:-5]: load(directory, name) for name in sorted(os.listdir(directory))
               if name.endswith(".json") and name != "latest.json"}
    results["machine"] = machine()
    with open(os.path.join(directory, "latest.json"), "w") as f:
        json.dump(results, f, indent=1)

    print(f"Machine: {results['machine']}\n")
    gaps = results.get("cpu_gaps")
    if gaps:
        names = list(gaps["threads"][0]["gaps"].keys())
        print_table(
            f"**Scheduling noise** (cpu_gaps: one thread per CPU spins for {gaps['seconds']:.0f} s before the "
            "runs and counts the gaps in which it did not run; a gap inside a tick's burst stalls that burst)",
            "| thread | " + " | ".join(f"gaps {n} ms" for n in names) + " | worst ms | lost ms |",
            "|---|" + "---:|" * (len(names) + 2),
            [f"| {i} | " + " | ".join(str(t["gaps"][n]) for n in names) +
             f" | {t['worst_ms']:.2f} | {t['lost_ms']:.1f} |" for i, t in enumerate(gaps["threads"])])
    lat = results.get("latency_table")
    if lat:
        print_table(
            f"**Latency** (ms, one connection, N = {lat['n']} per operation; floor = redis-benchmark -c 1 in the same run)",
            "| operation | documented P99 | ours P50 | ours P95 | ours P99 | max | floor P99 | ours/floor P99 |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            [f"| {r['op']} | {r['documented_p99_ms']:.1f} | {r['p50_ms']:.3f} | {r['p95_ms']:.3f} | "
             f"{r['p99_ms']:.3f} | {r['max_ms']:.3f} | {r['floor_p99_ms']:.3f} | "
             f"{r['p99_ms'] / r['floor_p99_ms']:.2f} |" for r in lat["rows"]])
    tick = results.get("tick_pipeline")
    if tick:
        print_table(
            f"**Tick pipeline** (fold + compute + one pipeline round trip with every reply, window {tick['window']})",
            "| symbols | P50 ms | P99 ms | max ms | updates/s | redis-cli --pipe updates/s | ratio |",
            "|---:|---:|---:|---:|---:|---:|---:|",
            [f"| {r['symbols']} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} | "
             f"{r['updates_per_sec']:.0f} | {r['pipe_updates_per_sec']:.0f} | {r['ratio']:.2f} |" for r in tick["rows"]])
    e2e = results.get("e2e")
    if e2e:
        print("**End to end** (engine sim → Redis → bridge → WebSocket clients; event timestamp → receipt at the client)\n")
        print("Floor rows: the same bursts written by plain threads straight to the clients' loopback sockets "
              "(no Redis, engine or bridge), read by the same client: what this machine and the client alone "
              "cost. There the bridge columns are the sender threads'. event→bridge and bridge→socket are "
              "the means of the bridge's own /metrics histograms over the run.\n")
        print("Burst P99: each tick's burst (its messages to every client) has its own P99; their median "
              "and the worst. The run's P99 is set by its slowest bursts.\n")
        print("| symbols × Hz | clients | delivered/s | P50 ms | P99 ms | max ms | burst P99 median / worst ms | "
              "lost | bridge CPU µs/msg | client CPU µs/msg | bridge RSS MB | event→bridge ms | bridge→socket ms | note |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in e2e["rows"]:
            def ms(key):
                v = r.get(key, -1)
                return f"{v:.2f}" if v >= 0 else "—"
            rss = f"{r.get('bridge_rss_mb', 0):.1f}" if not r.get("floor") else "—"
            print(f"| {r['symbols']} × {r['hz']} | {r['clients']} | {r['delivered_per_sec']:.0f} | "
                  f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} | "
                  f"{ms('burst_p99_median_ms')} / {ms('burst_p99_worst_ms')} | {r['lost']} | "
                  f"{r['bridge_cpu_us_per_msg']:.2f} | {r['client_cpu_us_per_msg']:.2f} | "
                  f"{rss} | {ms('redis_to_bridge_ms')} | {ms('bridge_to_socket_ms')} | {r.get('note', '')} |")
        print()
    cluster = results.get("cluster_bench")
    if cluster:
        print_table(
            f"**Redis Cluster** (physics-engine, {cluster['symbols']} symbols at {cluster['hz']:g} Hz for "
            f"{cluster['seconds']:g} s, on {cluster['masters']} masters without replicas vs one standalone "
            "server, alternated; targets: balance within ±10 %, 0 bus publishes, CPU per update ≤ 1.10×, "
            "tick P99 ≤ 1.5×)",
            "| run | worst master's calls vs mean % | bus publish_sent | Redis CPU µs/update standalone | "
            "cluster (sum) | worst master | tick P99 ms standalone | cluster |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            [f"| {i + 1} | ±{r['worst_balance_pct']:.1f} | {r['publish_sent']} | "
             f"{r['standalone_cpu_us_per_update']:.2f} | {r['cluster_cpu_us_per_update']:.2f} | "
             f"{r['worst_master_cpu_us_per_update']:.2f} | {r['standalone_tick_p99_ms']:.2f} | "
             f"{r['cluster_tick_p99_ms']:.2f} |" for i, r in enumerate(cluster["runs_detail"])])
    micro = []
    for name in ("physics_bench", "engine_bench"):
        data = results.get(name)
        if data:
            micro += gbench_rows(data, ["BM_"])
    if micro:
        print("**Micro benchmarks** (CPU time per iteration)\n")
        print("| benchmark | CPU |")
        print("|---|---:|")
        print("\n".join(micro))


if __name__ == "__main__":
    main()
