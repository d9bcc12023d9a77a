#!/usr/bin/env python3
"""Bounded memory on a flood of distinct keys: peak RSS, throughput, and the planted heavy hitters within their bounds.

    benchmarks/compare/bounded.py MGSCAN [--entries N] [--destinations N] [--sources N] [--uids N] [--heavy PCT] [--max-keys N]

`loggen flood` (benchmarks/MailGuard.LogGen, built in Release) writes the entries to a pipe — nothing is stored on disk —
straight into `MGSCAN --format json` on standard input, run under /usr/bin/time -v for its peak resident set. The three
planted heavy hitters (uid 4242, forwarded source 10.255.255.1, destination 198.51.100.77, each --heavy percent of the
entries) must be listed, and their true counts (from loggen) must lie in [count - error_bound, count]. The full-size run
of issue 14: --entries 100000000 --destinations 10000000 --sources 1000000.
"""
import json, os, re, subprocess, sys, time

args = sys.argv[1:]
if not args:
    sys.exit(__doc__)
mgscan = args.pop(0)
opts = {"--entries": "10000000", "--destinations": "1000000", "--sources": "100000", "--uids": "1000", "--heavy": "1"}
max_keys = None
while args:
    k, v = args.pop(0), args.pop(0)
    if k == "--max-keys":
        max_keys = v
    else:
        opts[k] = v

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
loggen = os.path.join(root, "benchmarks", "MailGuard.LogGen", "bin", "Release", "net10.0", "loggen.dll")
gen_cmd = ["dotnet", loggen, "flood", "--out", "-"] + [x for kv in opts.items() for x in kv]
scan_cmd = ["/usr/bin/time", "-v", mgscan, "--format", "json", "--top", "10"] + (["--max-keys", max_keys] if max_keys else [])
print("$", " ".join(gen_cmd), "|", " ".join(scan_cmd), flush=True)
t = time.perf_counter()
gen = subprocess.Popen(gen_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
scan = subprocess.run(scan_cmd, stdin=gen.stdout, capture_output=True)
gen.stdout.close()
planted = json.loads(gen.stderr.read().decode().strip().splitlines()[-1])
gen.wait()
wall = time.perf_counter() - t
if scan.returncode not in (0, 1):
    sys.exit(f"mgscan exit {scan.returncode}: {scan.stderr.decode()[-2000:]}")
timing = scan.stderr.decode()
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1))
elapsed = re.search(r"Elapsed \(wall clock\) time.*: (.+)", timing).group(1)
report = json.loads(scan.stdout)
entries = report["totals"]["entries"]
print(f"entries {entries:,} (loggen {planted['entries']:,}), bytes {report['totals']['bytes']:,}")
print(f"peak RSS {rss_kb / 1024:.1f} MiB, mgscan wall {elapsed}, pipeline {wall:.1f} s, {entries / wall:,.0f} entries/s, {report['totals']['bytes'] / wall / 1048576:.0f} MiB/s")
est = report.get("estimates")
print("estimates:", json.dumps(est) if est else "none (exact)")
# each non-planted entry draws a destination uniformly from the pool: the expected number of distinct ones
d, draws = planted["destinations"], planted["entries"] - planted["heavy"]["destination 198.51.100.77"]
expected = d * (1 - (1 - 1 / d) ** draws) + (1 if planted["heavy"]["destination 198.51.100.77"] else 0)
got = report["totals"]["distinct_destinations"]
rel = report["totals"].get("distinct_destinations_relative_error", 0)
print(f"distinct destinations {got:,}, expected {expected:,.0f}: off by {(got - expected) / expected:+.2%}" + (f" (standard error {rel:.2%})" if rel else ""))
ok = True
for name, table, key in (("uid 4242", "uids", 4242), ("source 10.255.255.1", "sources", "10.255.255.1"), ("destination 198.51.100.77", "destinations", "198.51.100.77")):
    true = planted["heavy"][name]
    rows = [r for r in report[table] if r["key"] == key]
    if not rows:
        print(f"  {name}: true {true:,}: NOT LISTED"); ok = False; continue
    r = rows[0]
    bound = r.get("error_bound", 0)
    within = r["count"] - bound <= true <= r["count"]
    ok &= within
    print(f"  {name}: true {true:,}, reported {r['count']:,} (error bound {bound:,}; off by {r['count'] - true:,}): {'within' if within else 'OUTSIDE'} the bound")
print("OK" if ok and rss_kb < 100 * 1000 else "FAILED", f"(peak RSS {'under' if rss_kb < 100 * 1000 else 'over'} 100 MB)")
sys.exit(0 if ok else 1)
