#!/usr/bin/python3
"""Golden physics vectors for engine/physics (docs/SPEC.md §5), made by numpy.

Computes every field the plain numpy/scipy way (np.histogram(bins="auto"),
scipy.stats.entropy(base=2), np.std) on seeded synthetic windows and writes
tests/golden/physics_golden.json, which engine/physics/golden_test.cc replays.

    /usr/bin/python3 tools/gen_golden.py          # needs numpy and scipy

Output schema: {"cases": [{"name", "capacity", "obs": [[price, volume,
trades], ...], "checks": [{"step", "expect": [mass, momentum, friction,
entropy, nash_dist, alpha], "regime", optional "alt": {...}}]}]}; "step" is
the index of the observation after whose Push the vector is computed.

numpy's np.log on AVX-512 machines is not glibc's log: about 1 result in 7
differs by one ulp. For the rare window where that ulp moves a log return
across a histogram edge, the vector computed with glibc's log (math.log) is
stored as "alt" and either is accepted; the script reports how many.
"""

import json
import math
import os
import sys

import numpy as np
import scipy.stats

REL_TOL = 1e-9
FIELDS = ("mass", "momentum", "friction", "entropy", "nash_dist", "alpha")


def numpy_log(x):
    return np.log(x)


def glibc_log(x):
    if np.ndim(x) == 0:
        return math.log(x)
    return np.array([math.log(v) for v in x], dtype=np.float64)


def physics_vector(prices, volume, trades, log):
    """docs/SPEC.md §5 on one window; prices oldest first."""
    n = len(prices)
    p = prices[-1]
    high, low = prices.max(), prices.min()
    clv = ((p - low) - (high - p)) / (high - low) if high - low > 1e-9 else 0.0
    mass = volume * clv
    momentum = mass * log(p / prices[-2]) if n >= 2 else 0.0
    friction = trades / volume if volume > 0 else 0.0

    r = log(prices[1:] / prices[:-1])
    entropy = 0.0
    if n > 5:
        counts, _ = np.histogram(r, bins="auto")
        entropy = scipy.stats.entropy(counts, base=2)

    nash_dist = 0.0
    if n > 10:
        counts, edges = np.histogram(prices, bins="auto")
        i = int(np.argmax(counts))
        mode = (edges[i] + edges[i + 1]) / 2
        sigma = np.std(prices)
        nash_dist = (p - mode) / sigma if sigma > 1e-9 else 0.0

    x = np.abs(r)
    x = x[x > 0]
    m = len(x)
    alpha, regime = 0.0, "WAIT"
    if m >= 20:
        x = np.sort(x)[::-1]
        k = int(np.floor(0.1 * m))
        h = np.mean(np.log(x[:k] / x[k]))
        alpha = 10.0 if h == 0 else min(1.0 / h, 10.0)
        regime = "Gaussian" if alpha > 2 else "Levy" if alpha > 1 else "Critical"
    values = [float(v) for v in (mass, momentum, friction, entropy, nash_dist, alpha)]
    return values, regime


def same(a, b):
    if a == 0 or b == 0:
        return a == b
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b))


def run_case(name, capacity, obs, check_every=1, check_last=0):
    """Replays obs through a window of `capacity`, recording checks."""
    obs = [[float(p), float(v), float(t)] for p, v, t in obs]
    checks = []
    alts = 0
    total = len(obs)
    for step in range(total):
        if step % check_every and step < total - check_last:
            continue
        window = obs[max(0, step + 1 - capacity):step + 1]
        prices = np.array([o[0] for o in window], dtype=np.float64)
        _, volume, trades = window[-1]
        expect, regime = physics_vector(prices, volume, trades, numpy_log)
        check = {"step": step, "expect": expect, "regime": regime}
        alt, alt_regime = physics_vector(prices, volume, trades, glibc_log)
        if alt_regime != regime or not all(map(same, expect, alt)):
            check["alt"] = {"expect": alt, "regime": alt_regime}
            alts += 1
        checks.append(check)
    compact = [[p, int(v) if v.is_integer() else v, int(t) if t.is_integer() else t]
               for p, v, t in obs]
    return {"name": name, "capacity": capacity, "obs": compact, "checks": checks}, alts


# --- synthetic observation sequences ---------------------------------------

def volumes(rng, count, zero_share=0.0):
    v = rng.integers(1, 5000, size=count).astype(float)
    v[rng.random(count) < zero_share] = 0.0
    t = rng.integers(0, 40, size=count).astype(float)
    return v, t


def walk(rng, count, start, increments, tick=None):
    """start * exp(cumsum(increments)); with `tick` (a power of ten), rounded
    to the tick's decimals as a feed would send them."""
    del rng, count  # kept in the signature for readability at call sites
    prices = start * np.exp(np.cumsum(increments))
    if tick is None:
        return prices
    decimals = max(0, -int(math.floor(math.log10(tick) + 0.5)))
    return np.array([max(round(float(p), decimals), tick) for p in prices])


def zipped(prices, v, t):
    return list(zip(prices, v, t))


def build_cases():
    cases = []

    rng = np.random.default_rng(1)
    n = 25
    v, t = volumes(rng, n)
    prices = walk(rng, n, 100.0, rng.normal(0, 0.01, n), tick=0.01)
    cases.append(("warmup_small_windows", 30, zipped(prices, v, t), 1, 0))

    rng = np.random.default_rng(2)
    v, t = volumes(rng, 6)
    cases.append(("capacity_one", 1, zipped(walk(rng, 6, 50.0, rng.normal(0, 0.02, 6)), v, t), 1, 0))
    v, t = volumes(rng, 8)
    cases.append(("capacity_two", 2, zipped(walk(rng, 8, 50.0, rng.normal(0, 0.02, 8)), v, t), 1, 0))

    rng = np.random.default_rng(3)
    v, t = volumes(rng, 60, zero_share=0.3)
    cases.append(("flat_prices", 40, zipped(np.full(60, 100.0), v, t), 1, 0))

    rng = np.random.default_rng(4)
    prices = np.full(30, 100.0)
    prices[20] = 101.0
    v, t = volumes(rng, 30)
    cases.append(("flat_then_one_step", 25, zipped(prices, v, t), 1, 0))

    rng = np.random.default_rng(5)
    jumps = np.where(rng.random(150) < 0.1, rng.choice([-1.0, 1.0], 150), 0.0)
    prices = np.round(100.0 + 0.01 * np.cumsum(jumps), 2)
    v, t = volumes(rng, 150)
    cases.append(("mostly_zero_returns_iqr_zero", 60, zipped(prices, v, t), 1, 0))

    rng = np.random.default_rng(6)
    v, t = volumes(rng, 100, zero_share=0.3)
    prices = walk(rng, 100, 20.0, rng.normal(0, 0.005, 100))
    cases.append(("zero_volume", 50, zipped(prices, v, t), 1, 0))

    rng = np.random.default_rng(7)
    n = 600
    v, t = volumes(rng, n)
    prices = walk(rng, n, 300.0, np.clip(rng.standard_t(1.5, n) * 0.002, -0.5, 0.5))
    cases.append(("student_t_dof_1_5", 200, zipped(prices, v, t), 3, 3))

    rng = np.random.default_rng(8)
    n = 700
    v, t = volumes(rng, n)
    prices = walk(rng, n, 45.0, rng.standard_t(3, n) * 0.003, tick=0.01)
    cases.append(("student_t_dof_3_ticked", 300, zipped(prices, v, t), 5, 3))

    rng = np.random.default_rng(9)
    n = 500
    v, t = volumes(rng, n)
    prices = walk(rng, n, 10.0, np.clip(rng.standard_cauchy(n) * 0.001, -1.0, 1.0))
    cases.append(("cauchy", 150, zipped(prices, v, t), 2, 3))

    rng = np.random.default_rng(10)
    n = 2000
    v, t = volumes(rng, n, zero_share=0.05)
    prices = walk(rng, n, 75.0, rng.normal(0, 0.002, n), tick=0.01)
    cases.append(("wrapped_40_times", 50, zipped(prices, v, t), 7, 5))

    rng = np.random.default_rng(11)
    n = 1600
    v, t = volumes(rng, n)
    jumps = np.where(rng.random(n) < 0.02, rng.normal(0, 0.01, n), 0.0)
    prices = walk(rng, n, 450.0, rng.normal(0, 0.0005, n) + jumps, tick=0.01)
    cases.append(("realistic_w1000", 1000, zipped(prices, v, t), 20, 5))

    rng = np.random.default_rng(12)
    n = 1200
    v, t = volumes(rng, n)
    prices = walk(rng, n, 450.0, rng.standard_t(4, n) * 0.0004)
    cases.append(("realistic_w1000_full_precision", 1000, zipped(prices, v, t), 40, 3))

    rng = np.random.default_rng(13)
    steps = rng.choice([-1.0, 0.0, 1.0], 300)
    prices = np.clip(100.0 + np.cumsum(steps), 90.0, 110.0)
    v, t = volumes(rng, 300)
    cases.append(("integer_prices", 80, zipped(prices, v, t), 2, 3))

    rng = np.random.default_rng(14)
    prices = rng.choice(np.arange(1.0, 3.01, 0.25), 200)  # dyadic: exact edges
    v, t = volumes(rng, 200)
    cases.append(("dyadic_prices_on_edges", 64, zipped(prices, v, t), 1, 0))

    rng = np.random.default_rng(15)
    n = 80
    prices = 100.0 + rng.normal(0, 1e-5, n)
    prices[rng.random(n) < 0.05] = 110.0
    v, t = volumes(rng, n)
    cases.append(("huge_nbins_tiny_iqr", 40, zipped(prices, v, t), 2, 3))

    rng = np.random.default_rng(16)
    n = 60
    v, t = volumes(rng, n)
    prices = walk(rng, n, 33.3, rng.normal(0, 0.01, n))
    cases.append(("thresholds_n6_n11_m20", 25, zipped(prices, v, t), 1, 0))

    rng = np.random.default_rng(17)
    n = 50
    v, t = volumes(rng, n)
    prices = 1.0 + rng.integers(0, 5, n) * 1e-10
    cases.append(("range_below_1e9", 30, zipped(prices, v, t), 1, 0))

    rng = np.random.default_rng(18)
    n = 300
    v, t = volumes(rng, n)
    prices = walk(rng, n, 0.0005, rng.normal(0, 0.01, n), tick=1e-6)
    cases.append(("penny_prices", 100, zipped(prices, v, t), 2, 3))
    return cases


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.join(root, "tests", "golden", "physics_golden.json")
    results = []
    regimes = {}
    for name, capacity, obs, every, last in build_cases():
        case, alts = run_case(name, capacity, obs, every, last)
        results.append(case)
        for c in case["checks"]:
            regimes[c["regime"]] = regimes.get(c["regime"], 0) + 1
        print(f"{name}: W={capacity} obs={len(obs)} checks={len(case['checks'])}"
              f" log-sensitive={alts}", file=sys.stderr)
    with open(out, "w") as f:
        json.dump({"generator": "tools/gen_golden.py", "numpy": np.__version__,
                   "scipy": scipy.__version__, "cases": results}, f,
                  separators=(",", ":"))
        f.write("\n")
    print(f"wrote {out} ({os.path.getsize(out)} bytes); regimes {regimes}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
