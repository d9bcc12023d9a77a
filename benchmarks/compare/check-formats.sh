#!/usr/bin/env bash
# Correctness at scale: for every wrapper format loggen writes, generate SIZE of log and check that
# mgscan's figures (lines, entries, other prefixes, distinct destinations, per port / UID / source
# counts, first and last time) equal the generator's. Prints one line per format; exit 1 on a difference.
#
#   benchmarks/compare/check-formats.sh [SIZE] [OUT]      SIZE: 128MiB (default); OUT: /tmp/mailguard-formats
set -euo pipefail
cd "$(dirname "$0")/../.."
size=${1:-128MiB}
out=${2:-/tmp/mailguard-formats}
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
dotnet build benchmarks/MailGuard.LogGen -c Release -v q -nologo >/dev/null
dotnet build src/MailGuard.Cli -c Release -v q -nologo >/dev/null
status=0
for fmt in traditional rfc3339 rfc5424 syslog-ng busybox journal-short journal-short-iso journal-short-precise journal-short-iso-precise journal-json dmesg kmsg; do
  dotnet benchmarks/MailGuard.LogGen/bin/Release/net10.0/loggen.dll --out "$out/$fmt.log" --size "$size" --format "$fmt" --seed 7 2>/dev/null
  TZ=UTC dotnet src/MailGuard.Cli/bin/Release/net10.0/mgscan.dll "$out/$fmt.log" --format json --top 100000000 >"$out/$fmt.json" || [ $? -eq 1 ]
  python3 - "$fmt" "$out/$fmt.log.expected.json" "$out/$fmt.json" <<'PY' || status=1
import json, sys
fmt, exp, got = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
e, g = exp["totals"], got["totals"]
bad = [k for k in ("lines", "entries", "other_prefix", "distinct_destinations", "bytes") if e[k] != g[k]]
for k in ("first", "last"):
    if g[k] is not None and e[k][:19] != g[k][:19]: bad.append(k)
for arr in ("ports", "uids", "sources"):
    if {str(x["key"]): (x["count"], x["distinct_destinations"]) for x in exp[arr]} != {str(x["key"]): (x["count"], x["distinct_destinations"]) for x in got[arr]}: bad.append(arr)
print(f"{fmt:26} {g['lines']:>10,} lines {g['entries']:>10,} entries  " + ("equal to the generator" if not bad else f"DIFFERENT: {bad}"))
sys.exit(1 if bad else 0)
PY
  rm -f "$out/$fmt.log" "$out/$fmt.log.expected.json"
done
exit $status
