#!/usr/bin/python3
"""summarize.py - turn run-bench.sh's RESULT lines into medians, a table,
ratios and TARGET MISSED lines.

    summarize.py RAW.txt [OUT.md]

Input lines look like "RESULT key=value ..." (see bench_disk.c, bench_net.c
and samsa_load.c).  Every number reported is the MEDIAN over repetitions.
Derived per row: client_cpu_s_per_gb (the load generator's own CPU) and
machine_idle_pct (idle share of all CPUs during the phase: near 0 means the
phase was CPU-bound, and then broker and load generator compete for it).
Targets: samsa/mock >= 1.0 for produce and consume throughput (MB/s) of each
record size.  Missing a target prints "TARGET MISSED ..." but is not an error:
the exit status is 1 only if the input has no samsa or mock results at all.
The Markdown table is also written to OUT.md when given.
"""
import os
import statistics
import sys


def parse(path):
    rows = []
    with open(path) as f:
        for line in f:
            if not line.startswith("RESULT "):
                continue
            kv = dict(tok.split("=", 1) for tok in line.split()[1:] if "=" in tok)
            derive(kv)
            rows.append(kv)
    return rows


def derive(kv):
    """Per-GB client CPU and the machine's idle share, from a load RESULT line."""
    try:
        gb = float(kv["bytes"]) / 1e9
        secs = float(kv["secs"])
    except (KeyError, ValueError):
        return
    if gb > 0 and float(kv.get("client_cpu_s", -1)) >= 0:
        kv["client_cpu_s_per_gb"] = str(float(kv["client_cpu_s"]) / gb)
    idle = float(kv.get("machine_idle_s", -1))
    if secs > 0 and idle >= 0:
        kv["machine_idle_pct"] = str(100.0 * idle / (secs * (os.cpu_count() or 1)))


def med(rows, key, **match):
    vals = [float(r[key]) for r in rows
            if all(r.get(k) == str(v) for k, v in match.items()) and key in r]
    vals = [v for v in vals if v >= 0]
    return statistics.median(vals) if vals else None


def fmt(v, digits=1):
    if v is None:
        return "n/a"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def ratio(a, b):
    return a / b if a is not None and b else None


def main():
    if len(sys.argv) < 2:
        print("usage: summarize.py RAW.txt [OUT.md]", file=sys.stderr)
        return 2
    rows = parse(sys.argv[1])
    reps = max([int(r.get("rep", 1)) for r in rows if "target" in r] or [0])
    disk = med(rows, "mbps", kind="disk")
    net = med(rows, "mbps", kind="loopback")
    lines = []
    out = lines.append
    out(f"Medians of {reps} repetitions (MB = 10^6 bytes of record values; "
        f"CPU = broker utime+stime per GB of values).")
    out("")
    out(f"| machine | MB/s |")
    out(f"|---|---:|")
    out(f"| disk: 1 GiB sequential 1 MiB writes + fdatasync | {fmt(disk)} |")
    out(f"| loopback TCP, one flow | {fmt(net)} |")
    out("")
    out("| measurement | samsa | mock | samsa/mock |")
    out("|---|---:|---:|---:|")
    misses = []
    have = {t: any(r.get("target") == t for r in rows) for t in ("samsa", "mock")}
    for phase in ("produce", "consume"):
        for size in ("100", "1024"):
            label = f"{phase} {'100 B' if size == '100' else '1 KiB'}"
            s_mb = med(rows, "mbps", target="samsa", phase=phase, size=size)
            m_mb = med(rows, "mbps", target="mock", phase=phase, size=size)
            s_ms = med(rows, "msgps", target="samsa", phase=phase, size=size)
            m_ms = med(rows, "msgps", target="mock", phase=phase, size=size)
            r = ratio(s_mb, m_mb)
            out(f"| {label} MB/s | {fmt(s_mb)} | {fmt(m_mb)} | {fmt(r, 2)} |")
            out(f"| {label} msgs/s | {fmt(s_ms)} | {fmt(m_ms)} | {fmt(ratio(s_ms, m_ms), 2)} |")
            if r is None:
                misses.append(f"TARGET MISSED: {label} samsa/mock throughput not measured")
            elif r < 1.0:
                misses.append(f"TARGET MISSED: {label} samsa/mock throughput {r:.2f} < 1.0 "
                              f"({fmt(s_mb)} vs {fmt(m_mb)} MB/s)")
    for phase in ("produce", "consume"):
        s_c = med(rows, "broker_cpu_s_per_gb", target="samsa", phase=phase, size="1024")
        m_c = med(rows, "broker_cpu_s_per_gb", target="mock", phase=phase, size="1024")
        out(f"| broker CPU s/GB, {phase} 1 KiB | {fmt(s_c, 2)} | {fmt(m_c, 2)} | {fmt(ratio(s_c, m_c), 2)} |")
    for phase in ("produce", "consume"):
        s_c = med(rows, "client_cpu_s_per_gb", target="samsa", phase=phase, size="1024")
        m_c = med(rows, "client_cpu_s_per_gb", target="mock", phase=phase, size="1024")
        out(f"| load generator CPU s/GB, {phase} 1 KiB | {fmt(s_c, 2)} | {fmt(m_c, 2)} | {fmt(ratio(s_c, m_c), 2)} |")
        s_i = med(rows, "machine_idle_pct", target="samsa", phase=phase, size="1024")
        m_i = med(rows, "machine_idle_pct", target="mock", phase=phase, size="1024")
        out(f"| machine idle %, {phase} 1 KiB | {fmt(s_i)} | {fmt(m_i)} | |")
    for phase in ("produce", "consume"):
        s_c = med(rows, "broker_cpu_s_per_gb", target="samsa", phase=phase, size="100")
        m_c = med(rows, "broker_cpu_s_per_gb", target="mock", phase=phase, size="100")
        out(f"| broker CPU s/GB, {phase} 100 B | {fmt(s_c, 2)} | {fmt(m_c, 2)} | {fmt(ratio(s_c, m_c), 2)} |")
    lat = [r for r in rows if r.get("phase") == "latency"]
    rate = lat[0].get("rate") if lat else "?"
    lsize = lat[0].get("size") if lat else "?"
    for q in ("p50_ms", "p99_ms"):
        s_l = med(rows, q, target="samsa", phase="latency")
        m_l = med(rows, q, target="mock", phase="latency")
        out(f"| produce latency {q[:3]} ms ({rate} msg/s x {lsize} B, linger 0, acks=1) "
            f"| {fmt(s_l, 2)} | {fmt(m_l, 2)} | {fmt(ratio(s_l, m_l), 2)} |")
    out("")
    out("| samsa vs the machine | ratio |")
    out("|---|---:|")
    for phase in ("produce", "consume"):
        s_mb = med(rows, "mbps", target="samsa", phase=phase, size="1024")
        out(f"| {phase} 1 KiB / disk | {fmt(ratio(s_mb, disk), 2)} |")
        out(f"| {phase} 1 KiB / loopback | {fmt(ratio(s_mb, net), 2)} |")
    errs = sum(int(r.get("errors", 0)) for r in rows)
    out("")
    out(f"errors reported by the load generator: {errs}")
    text = "\n".join(lines)
    print(text)
    for m in misses:
        print(m)
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write(text + "\n")
            for m in misses:
                f.write("\n" + m + "\n")
    if not have["samsa"] and not have["mock"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
