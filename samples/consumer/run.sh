#!/usr/bin/env bash
# Builds this sample as a package user would and checks that it prints what mgscan prints:
#   1. packs MailGuard.Parsing with a fixed version into the folder feed artifacts/feed;
#   2. removes that version from a private NuGet packages folder (artifacts/consumer/packages), so the package just
#      packed is the one restored, never a stale copy, and checks the restored .nupkg is byte for byte the packed one;
#   3. builds samples/consumer (PackageReference to MailGuard.Parsing from the feed, see nuget.config) and runs it;
#   4. runs mgscan --format csv on the same log and compares: the consumer's output must equal mgscan's CSV without
#      its prefix rows (the four tables destination, port, uid, source; the same header, rows, columns and order).
#
#   samples/consumer/run.sh [LOG]        (default samples/logs/incident-webshell.log)
#
# MAILGUARD_VERSION sets the version (default 0.1.0-local); MGSCAN names an mgscan to compare with (default: the one
# built from src/MailGuard.Cli). Prints the diff, and exits 1 when there is one.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

version=${MAILGUARD_VERSION:-0.1.0-local}
log=${1:-samples/logs/incident-webshell.log}
work=artifacts/consumer
mkdir -p "$work" artifacts/feed
export NUGET_PACKAGES="$PWD/$work/packages"

echo "== pack MailGuard.Parsing $version into artifacts/feed"
rm -f "artifacts/feed/MailGuard.Parsing.$version.nupkg" "artifacts/feed/MailGuard.Parsing.$version.snupkg"
dotnet pack src/MailGuard.Parsing -c Release -o artifacts/feed -p:Version="$version" -nologo -v:q -clp:NoSummary

echo "== build samples/consumer from the package"
rm -rf "$NUGET_PACKAGES/mailguard.parsing/$version" samples/consumer/bin samples/consumer/obj
dotnet build samples/consumer -c Release -p:MailGuardVersion="$version" -nologo -v:q -clp:NoSummary
restored="$NUGET_PACKAGES/mailguard.parsing/$version/mailguard.parsing.$version.nupkg"
if ! cmp -s "$restored" "artifacts/feed/MailGuard.Parsing.$version.nupkg"; then
  echo "the consumer was not built from the package just packed ($restored)"; exit 1
fi

echo "== run the consumer and mgscan --format csv on $log"
dotnet samples/consumer/bin/Release/net10.0/MailGuard.Consumer.dll "$log" >"$work/consumer.csv"
if [ -n "${MGSCAN:-}" ]; then
  mgscan=("$MGSCAN")
else
  dotnet build src/MailGuard.Cli -c Release -p:Version="$version" -nologo -v:q -clp:NoSummary
  mgscan=(dotnet src/MailGuard.Cli/bin/Release/net10.0/mgscan.dll)
fi
rc=0
"${mgscan[@]}" "$log" --format csv >"$work/mgscan.csv" || rc=$?
[ "$rc" -le 1 ] || { echo "mgscan failed (exit $rc)"; exit 1; }
grep -v '^prefix,' "$work/mgscan.csv" >"$work/mgscan-tables.csv" || true

rows=$(grep -c '^port,' "$work/consumer.csv" || true)
if [ "$rows" -eq 0 ]; then
  echo "the consumer printed no port row: nothing to compare"; exit 1
fi
if diff -u "$work/mgscan-tables.csv" "$work/consumer.csv"; then
  echo "same tables: $(($(wc -l <"$work/consumer.csv") - 1)) rows (destination, port, uid, source) equal mgscan --format csv"
else
  echo "the consumer's tables differ from mgscan's (- mgscan, + consumer)"; exit 1
fi
