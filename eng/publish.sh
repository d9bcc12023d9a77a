#!/usr/bin/env bash
# Builds mgscan as self-contained Native AOT binaries that need nothing on the server: fully static (glibc
# linked in, static-pie), so they start whatever C library the system has, or none.
#
#   eng/publish.sh [linux-x64] [linux-arm64]      (default: both)
#
# Writes artifacts/mgscan-RID (stripped) and artifacts/mgscan-RID.dbg (its debug symbols), then checks each:
# statically linked (file), no GLIBC_ symbol version to resolve (objdump -T), no shared library or loader it needs
# (readelf), its size, and a run on the bundled incident (linux-arm64 under qemu-aarch64-static when it is installed;
# as root also in an empty root folder, where no C library exists at all). Exits non-zero when a build or a check fails.
#
# Needs the .NET 10 SDK, clang and lld, and for the checks binutils and file (Debian: apt-get install clang lld
# binutils file); linux-arm64 also the arm64 C library and binutils (apt-get install gcc-aarch64-linux-gnu;
# qemu-user-static to run it here). The build lives in artifacts/build, apart from the usual bin/obj, so its settings
# never mix with a development build's.
#
# Why static glibc: Native AOT for musl (-r linux-musl-x64) is the usual way to a static binary, but the package feed
# this project builds from does not serve the two packages it needs (restore: NU1101 for
# runtime.linux-musl-x64.Microsoft.DotNet.ILCompiler and Microsoft.NETCore.App.Runtime.NativeAOT.linux-musl-x64); a
# binary linked dynamically against this build machine's glibc (Debian 12: 2.36) needs GLIBC_2.34 and does not start
# on Debian 11, Ubuntu 20.04 or RHEL 8.
# mgscan uses no part of glibc that loads modules at run time (NSS, iconv, DNS): it reads user names from the
# passwd file itself, so the linker's warnings about getpwnam and dlopen in a static binary do not apply to it.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

rids=("$@")
[ ${#rids[@]} -gt 0 ] || rids=(linux-x64 linux-arm64)

missing=()
command -v clang >/dev/null || missing+=(clang)
command -v ld.lld >/dev/null || missing+=(lld)
{ command -v objdump >/dev/null && command -v readelf >/dev/null; } || missing+=(binutils)
command -v file >/dev/null || missing+=(file)
for rid in "${rids[@]}"; do
  case "$rid" in
    linux-x64) ;;
    linux-arm64)
      { [ -f /usr/aarch64-linux-gnu/lib/libc.a ] && command -v aarch64-linux-gnu-objcopy >/dev/null; } || missing+=(gcc-aarch64-linux-gnu) ;;
    *) echo "eng/publish.sh: $rid: not a target of this script (linux-x64, linux-arm64)" >&2; exit 2 ;;
  esac
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "eng/publish.sh: missing ${missing[*]}: apt-get install ${missing[*]}" >&2
  exit 2
fi

mkdir -p artifacts/build
sample=samples/logs/incident-webshell.log
status=0
for rid in "${rids[@]}"; do
  echo "== mgscan-$rid"
  props=(-p:PublishAot=true -p:StaticExecutable=true -p:CppCompilerAndLinker=clang -p:LinkerFlavor=lld)
  [ "$rid" = linux-arm64 ] && props+=(-p:ObjCopyName=aarch64-linux-gnu-objcopy)
  out="artifacts/build/publish-$rid"
  rm -rf "$out"
  start=$SECONDS
  # The linker's warnings about glibc functions in a static binary are expected (see above): not shown.
  if ! dotnet publish src/MailGuard.Cli -c Release -r "$rid" "${props[@]}" --artifacts-path artifacts/build -o "$out" \
         -nologo -clp:NoSummary >"artifacts/build/publish-$rid.log" 2>&1; then
    grep -vE 'statically linked applications requires|: in function ' "artifacts/build/publish-$rid.log" | tail -n 30
    echo "mgscan-$rid: the build failed (artifacts/build/publish-$rid.log)"; status=1; continue
  fi
  bin="artifacts/mgscan-$rid"
  cp "$out/mgscan" "$bin"
  [ -f "$out/mgscan.dbg" ] && cp "$out/mgscan.dbg" "$bin.dbg"
  echo "built in $((SECONDS - start)) s: $bin, $(stat -c %s "$bin" | numfmt --grouping) bytes ($(numfmt --to=iec --suffix=B "$(stat -c %s "$bin")"))"

  kind=$(file -b "$bin")
  echo "file: $kind"
  case "$kind" in
    *"static-pie linked"*|*"statically linked"*) ;;
    *) echo "mgscan-$rid: not statically linked"; status=1 ;;
  esac
  # A static-pie binary keeps a dynamic section to relocate itself: objdump -T lists what it exports itself (section
  # bounds such as __start___managedcode, the runtime's DotNetRuntimeDebugHeader) and on x64 an unversioned, undefined
  # __tls_get_addr that no relocation refers to (readelf -r: relative ones only); no symbol with a GLIBC_ version,
  # no NEEDED library and no program interpreter (readelf): nothing for the system's C library to provide.
  if ! dynsyms=$(objdump -T "$bin" 2>&1); then
    echo "objdump -T: $dynsyms"; status=1
  fi
  versions=$(grep -oE 'GLIBC_[0-9.]+' <<<"$dynsyms" | sort -uV | tr '\n' ' ' || true)
  needed=$(readelf -d "$bin" | grep -oE 'Shared library: \[[^]]*\]' | tr '\n' ' ' || true)
  interp=$(readelf -l "$bin" | grep -oE 'program interpreter: [^]]*' || true)
  if [ -n "$versions" ] || [ -n "$needed" ] || [ -n "$interp" ]; then
    echo "objdump -T: needs ${versions:-no GLIBC_ version}; readelf: ${needed:-no NEEDED library}, ${interp:-no interpreter}"; status=1
  else
    echo "objdump -T: $(grep -cE '^[0-9a-f]{16} ' <<<"$dynsyms") dynamic symbol(s), no GLIBC_ version; readelf: no NEEDED library, no program interpreter: no glibc floor"
  fi

  run=("$bin")
  if [ "$rid" = linux-arm64 ]; then
    if command -v qemu-aarch64-static >/dev/null; then run=(qemu-aarch64-static "$bin"); else
      echo "not run: qemu-aarch64-static is not installed"; continue; fi
  fi
  if "${run[@]}" "$sample" --passwd samples/logs/passwd | head -n 1 | tee "artifacts/build/run-$rid.txt" \
      && grep -q '^VERDICT: Direct-to-MX spam from uid 33 (www-data)' "artifacts/build/run-$rid.txt"; then
    echo "ran on $sample: ok"
  else
    echo "mgscan-$rid: wrong or no verdict on $sample"; status=1
  fi
  if [ "$rid" = linux-x64 ] && [ "$(id -u)" -eq 0 ] && command -v chroot >/dev/null; then
    # An empty root: no /lib, no libc, no loader. Only a binary that needs none of them starts there.
    root=$(mktemp -d)
    cp "$bin" "$root/mgscan"; cp "$sample" "$root/log"; gzip -c "$sample" >"$root/log.gz"
    if chroot "$root" /mgscan /log.gz | head -n 1 | grep -q '^VERDICT: Direct-to-MX spam from uid 33'; then
      echo "ran in an empty root (no C library at all) on a .gz: ok"
    else
      echo "mgscan-$rid: did not run in an empty root"; status=1
    fi
    rm -rf "$root"
  fi
done
exit "$status"
