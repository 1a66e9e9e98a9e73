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
record size.  The replicated cluster (cluster_bench.sh: targets cluster-rf3-all,
cluster-rf3-all-fsync, cluster-rf3-1, cluster-rf1 and mock-1copy) gets its own table, from runs without
errors only: RF=3 acks=all >= 0.4x the mock's single-copy throughput, e2e p99
at the fixed rate <= the mock's, RF=3 acks=all cluster CPU per GB <= 2.5x RF=1's.  Missing a target prints "TARGET MISSED ..." but is not an error:
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


def med_ok(rows, key, **match):
    """med() over the runs that reported no errors."""
    return med([r for r in rows if r.get("errors", "0") == "0"], key, **match)


def cluster_table(rows, out, misses):
    """The replicated 3-node cluster next to the mock's single copy (cluster_bench.sh)."""
    reps = max([int(r.get("rep", 1)) for r in rows if r.get("target", "").startswith("cluster-")] or [0])
    e2e = [r for r in rows if r.get("phase") == "e2e"]
    rate = e2e[0].get("mbps", "?") if e2e else "?"
    wait = e2e[0].get("fetch_wait_ms", "?") if e2e else "?"
    conf = ([r for r in rows if r.get("kind") == "cluster-config"] or [{}])[-1]
    out("")
    out(f"Replicated cluster: 3 combined nodes on loopback, min.insync.replicas={conf.get('min_isr', '?')}, "
        f"{conf.get('partitions', '?')} partitions, 1 KiB records "
        f"(medians of {reps} repetitions; runs with errors are left out; cluster CPU = the three nodes' "
        f"utime+stime per GB of values).")
    out("")
    out("| measurement | samsa cluster | mock (1 copy) | ratio | target |")
    out("|---|---:|---:|---:|---|")
    m_mb = med_ok(rows, "mbps", target="mock-1copy", phase="produce", size="1024")
    for label, target, goal in (("RF=3 acks=all", "cluster-rf3-all", 0.4),
                                ("RF=3 acks=all, samsa.acks.all.fsync", "cluster-rf3-all-fsync", None),
                                ("RF=3 acks=1", "cluster-rf3-1", None),
                                ("RF=1 acks=1 (3 nodes)", "cluster-rf1", None)):
        s_mb = med_ok(rows, "mbps", target=target, phase="produce", size="1024")
        r = ratio(s_mb, m_mb)
        out(f"| produce {label} MB/s | {fmt(s_mb)} | {fmt(m_mb)} | {fmt(r, 2)} | "
            f"{'>= %.1f' % goal if goal else ''} |")
        if goal and (r is None or r < goal):
            misses.append(f"TARGET MISSED: produce {label} / mock single copy {fmt(r, 2)} < {goal} "
                          f"({fmt(s_mb)} vs {fmt(m_mb)} MB/s)" if r is not None else
                          f"TARGET MISSED: produce {label} throughput not measured (errors: see "
                          f"samsa_load.cluster.log)")
    for q in ("p50_ms", "p99_ms", "p999_ms"):
        s_l = med_ok(rows, q, target="cluster-rf3-all", phase="e2e")
        m_l = med_ok(rows, q, target="mock-1copy", phase="e2e")
        r = ratio(s_l, m_l)
        name = {"p50_ms": "p50", "p99_ms": "p99", "p999_ms": "p99.9"}[q]
        out(f"| e2e latency {name} ms at {rate} MB/s, RF=3 acks=all (fetch.wait.max.ms={wait}) "
            f"| {fmt(s_l, 2)} | {fmt(m_l, 2)} | {fmt(r, 2)} | {'<= 1.0' if q == 'p99_ms' else ''} |")
        if q == "p99_ms" and (r is None or r > 1.0):
            misses.append(f"TARGET MISSED: e2e p99 at {rate} MB/s cluster/mock {fmt(r, 2)} > 1.0 "
                          f"({fmt(s_l, 2)} vs {fmt(m_l, 2)} ms)" if r is not None else
                          "TARGET MISSED: e2e latency at RF=3 acks=all not measured (errors: see "
                          "samsa_load.cluster.log)")
    c3 = med_ok(rows, "broker_cpu_s_per_gb", target="cluster-rf3-all", phase="produce", size="1024")
    c3a1 = med_ok(rows, "broker_cpu_s_per_gb", target="cluster-rf3-1", phase="produce", size="1024")
    c1 = med_ok(rows, "broker_cpu_s_per_gb", target="cluster-rf1", phase="produce", size="1024")
    cm = med_ok(rows, "broker_cpu_s_per_gb", target="mock-1copy", phase="produce", size="1024")
    out(f"| cluster CPU s/GB, RF=3 acks=all / acks=1 / RF=1 | {fmt(c3, 2)} / {fmt(c3a1, 2)} / {fmt(c1, 2)} "
        f"| {fmt(cm, 2)} | | |")
    r = ratio(c3, c1)
    out(f"| replication overhead: RF=3 acks=all / RF=1 cluster CPU per GB | {fmt(r, 2)} | | | <= 2.5 |")
    cp = med(rows, "cpu_s_per_gb", kind="replica-copy")
    if cp is not None and c1 is not None:
        fl = c1 + 2 * cp
        out(f"| machine floor for RF=3: RF=1 + 2 x one replica copy (bench_copy {fmt(cp, 2)} s/GB: sendfile "
            f"over loopback into a fresh page-cache file, no CRC or protocol) | {fmt(fl, 2)} s/GB = "
            f"{fmt(ratio(fl, c1), 2)} x RF=1 | | | |")
    if r is None or r > 2.5:
        misses.append(f"TARGET MISSED: replication CPU overhead {fmt(r, 2)} > 2.5x RF=1 "
                      f"({fmt(c3, 2)} vs {fmt(c1, 2)} s/GB)" if r is not None else
                      "TARGET MISSED: replication CPU overhead not measured")


def cluster_only(rows):
    """cluster_bench.sh run alone: only the replicated cluster's table."""
    lines, misses = [], []
    cluster_table(rows, lines.append, misses)
    print("\n".join(lines + misses))
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            f.write("\n".join(lines + [""] + misses) + "\n")
    return 0


def main():
    if len(sys.argv) < 2:
        print("usage: summarize.py RAW.txt [OUT.md]", file=sys.stderr)
        return 2
    rows = parse(sys.argv[1])
    if not any(r.get("target") in ("samsa", "mock") for r in rows) and \
            any(r.get("target", "").startswith("cluster-") for r in rows):
        return cluster_only(rows)
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
    has_cluster = any(r.get("target", "").startswith("cluster-") for r in rows)
    if has_cluster:
        cluster_table(rows, out, misses)
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
    if not have["samsa"] and not have["mock"] and not has_cluster:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
