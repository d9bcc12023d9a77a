#!/usr/bin/env bash
# Times the whole mgscan analysis against the standard tools on generated logs and checks mgscan's
# figures against the generator's. Prints a Markdown table (also written to OUT/compare.md).
#
#   benchmarks/compare/compare.sh [SIZE] [OUT]       SIZE: 1GiB (default), 256MiB, ...; OUT: /tmp/mailguard-compare
#
# Needs: the .NET SDK, hyperfine, ripgrep, mawk, python3 (installed with apt-get when missing and root).
# The generated logs (2 x SIZE) are deleted at the end. Output goes to a pipe (--output=pipe): GNU grep
# stops at the first match when its output is /dev/null, which would time nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
size=${1:-1GiB}
out=${2:-/tmp/mailguard-compare}
mkdir -p "$out"
trap 'rm -f "$out"/*.log "$out"/*.log.expected.json "$out"/ten.txt' EXIT

need=()
for tool in hyperfine rg mawk python3; do command -v "$tool" >/dev/null || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${need[@]}" | sed 's/^rg$/ripgrep/' | tr '\n' ' ')
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
  else echo "compare.sh: install $pkgs first"; exit 2; fi
fi

echo "== building loggen and the Native AOT mgscan" >&2
dotnet build benchmarks/MailGuard.LogGen -c Release -v q -nologo >/dev/null
dotnet publish src/MailGuard.Cli -c Release -r linux-x64 -p:PublishAot=true -o "$out/bin" -v q -nologo >/dev/null
mgscan="$out/bin/mgscan"
loggen="dotnet benchmarks/MailGuard.LogGen/bin/Release/net10.0/loggen.dll"

echo "== generating $size logs (traditional syslog, seed 1)" >&2
$loggen --out "$out/entries30.log" --size "$size" --entries 30 --destinations 100000 --seed 1
$loggen --out "$out/entries100.log" --size "$size" --entries 100 --other-prefix 0 --destinations 100000 --seed 1

echo "== checking mgscan against the generator" >&2
for f in entries30 entries100; do
  "$mgscan" "$out/$f.log" --format json --top 100000000 >"$out/$f.json" || [ $? -eq 1 ]
  python3 - "$out/$f.log.expected.json" "$out/$f.json" <<'PY'
import json, sys
exp, got = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
bad = [k for k in ("lines", "entries", "other_prefix", "distinct_destinations") if exp["totals"][k] != got["totals"][k]]
for arr in ("ports", "uids", "sources"):
    if {str(x["key"]): x["count"] for x in exp[arr]} != {str(x["key"]): x["count"] for x in got[arr]}: bad.append(arr)
if bad: sys.exit(f"{sys.argv[2]}: differs from the generator in {bad}")
print(f"{sys.argv[2]}: equals the generator ({got['totals']['entries']:,} entries, {got['totals']['distinct_destinations']:,} destinations)", file=sys.stderr)
PY
  # the parallel file scan must give what one stream gives (attempts across chunk boundaries included)
  "$mgscan" --format json --top 100000000 <"$out/$f.log" >"$out/$f.stdin.json" || [ $? -eq 1 ]
  python3 - "$out/$f.json" "$out/$f.stdin.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    d.pop("elapsed", None); d.pop("inputs", None)
if a != b: sys.exit(f"{sys.argv[1]}: the parallel scan differs from the sequential one")
print(f"{sys.argv[1]}: the parallel scan equals the sequential one ({a['verdict']['mail_attempts']:,} attempts)", file=sys.stderr)
PY
  /usr/bin/time -f "%M" -o "$out/$f.rss" "$mgscan" "$out/$f.log" --format json >/dev/null || true
done

echo "== timing (hyperfine, warm page cache)" >&2
for f in entries30 entries100; do
  # cat's output goes nowhere (it measures reading); the others' into a pipe, as a user's would
  hyperfine -N --output=null --warmup 1 --runs 5 --export-json "$out/$f.cat.json" -n cat "cat $out/$f.log" >/dev/null
  hyperfine -N --output=pipe --warmup 1 --runs 5 --export-json "$out/$f.hyperfine.json" \
    -n "rg -c" "rg -c 'IPTABLES TCP-OUT' $out/$f.log" \
    -n "grep -c" "env LC_ALL=C grep -c 'IPTABLES TCP-OUT' $out/$f.log" \
    -n "mawk (3 histograms)" "mawk -f benchmarks/compare/histograms.awk $out/$f.log" \
    -n "mgscan --format json" "$mgscan $out/$f.log --format json" >/dev/null
done
head -n 10 samples/logs/kern.log >"$out/ten.txt"
hyperfine -N --warmup 5 --runs 50 --export-json "$out/start.hyperfine.json" -n "mgscan, 10 lines" "$mgscan $out/ten.txt" >/dev/null

python3 - "$out" "$size" <<'PY' | tee "$out/compare.md"
import json, os, sys
out, size = sys.argv[1], sys.argv[2]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"{os.cpu_count()} cores ({cpu}), `benchmarks/compare/compare.sh {size}`, medians of 5 runs, warm page cache:\n")
print("| tool | 30 % entries | MB/s | 100 % entries | MB/s |")
print("|---|---:|---:|---:|---:|")
res = {f: {r["command"]: r for name in ("cat", "hyperfine") for r in json.load(open(f"{out}/{f}.{name}.json"))["results"]} for f in ("entries30", "entries100")}
sizes = {f: os.path.getsize(f"{out}/{f}.log") for f in res}
for name in res["entries30"]:
    cells = []
    for f in ("entries30", "entries100"):
        t = res[f][name]["median"]
        cells += [f"{t:.2f} s", f"{sizes[f] / t / 1e6:,.0f}"]
    print(f"| {name} | " + " | ".join(cells) + " |")
rss = {f: int(open(f"{out}/{f}.rss").read().split()[-1]) // 1024 for f in res}
start = json.load(open(f"{out}/start.hyperfine.json"))["results"][0]["median"] * 1000
print(f"\nmgscan peak memory: {rss['entries30']} MB (30 %), {rss['entries100']} MB (100 %); a 10-line input: {start:.1f} ms (Native AOT).")
PY
