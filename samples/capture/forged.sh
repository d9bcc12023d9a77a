#!/usr/bin/env bash
# Capture a REAL journal in which an unprivileged user forges kernel LOG lines.
#
#   sudo bash samples/capture/forged.sh
#
# What it does (about 15 seconds):
#   * starts a private systemd-journald (journal on tmpfs) and an rsyslogd configured like RHEL
#     (imjournal -> messages, traditional format) in a throw-away mount/UTS namespace (hostname "vps01");
#   * creates the network namespace mg-fvps (a veth eth0, documentation addresses only) with the LOG
#     rule for port 25 (--log-uid) and DROP; sets net.netfilter.nf_log_all_netns=1 for the traffic only;
#   * uid 1001 (the spammer) makes 3 real connection attempts to port 25: the kernel logs them;
#   * uid 1001 then writes FORGED_COUNT records with `logger -t kernel` that imitate LOG lines of
#     uid 107 (postfix) — the framing attack of issue 11;
#   * writes journalctl -o json / -o short (SYSLOG_IDENTIFIER=kernel: the real and the forged records)
#     and rsyslog's file, tears everything down (trap EXIT) and copies the files to samples/logs/:
#       journal-forged.json, journal-forged.txt, messages-forged, messages-kernel-only (rsyslog filtered
#       on the journal's _TRANSPORT, as docs/verdict.md recommends: the real lines only)
#
# Requirements (Debian 12): iptables rsyslog python3 util-linux systemd (journald binary only).
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    echo "forged.sh: must run as root" >&2
    exit 1
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEST=$(cd "$HERE/../logs" && pwd)
NS=mg-fvps
FORGED_COUNT=${FORGED_COUNT:-300}
export TZ=UTC LC_ALL=C

for cmd in ip iptables rsyslogd unshare nsenter setpriv journalctl logger /usr/bin/python3; do
    command -v "$cmd" >/dev/null || { echo "forged.sh: missing $cmd" >&2; exit 1; }
done
[[ -x /lib/systemd/systemd-journald ]] || { echo "forged.sh: missing systemd-journald" >&2; exit 1; }
if ip netns list | grep -qw "$NS"; then
    echo "forged.sh: namespace $NS already exists (previous run?); delete it first" >&2
    exit 1
fi

WORK=$(mktemp -d /tmp/mg-forged.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/out" "$WORK/rs"
cp "$HERE/tx.py" "$WORK/"
UNSHARE_PID=

cleanup() {
    sysctl -qw net.netfilter.nf_log_all_netns=0 || true
    ip netns del "$NS" 2>/dev/null || true
    touch "$WORK/stop"
    if [[ -n $UNSHARE_PID ]]; then
        for _ in $(seq 1 100); do [[ -e $WORK/done ]] && break; sleep 0.1; done
        kill "$UNSHARE_PID" 2>/dev/null || true
        wait "$UNSHARE_PID" 2>/dev/null || true
    fi
    [[ ${KEEP_WORK:-0} == 1 ]] || rm -rf "$WORK"
}
trap cleanup EXIT

cat > "$WORK/rsyslog.conf" <<EOF
# RHEL-8/9-like rsyslog: everything from the journal via imjournal, traditional file format
global(workDirectory="$WORK/rs")
module(load="imjournal" StateFile="imjournal.state" IgnorePreviousMessages="on")
module(load="builtin:omfile" Template="RSYSLOG_TraditionalFileFormat")
kern.*;user.*  $WORK/out/messages-forged
# the filter docs/verdict.md recommends: only records the journal says the kernel wrote
if \$!_TRANSPORT == "kernel" then action(type="omfile" file="$WORK/out/messages-kernel-only" template="RSYSLOG_TraditionalFileFormat")
EOF

# The log daemons, in their own mount+UTS namespace; the journal is written out when "stop" appears.
cat > "$WORK/logns.sh" <<'EOF'
set -u
W=$1
mount --make-rprivate /
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=2755 tmpfs /var/log/journal
hostname vps01
/lib/systemd/systemd-journald </dev/null >"$W/journald.stderr" 2>&1 &
J=$!
sleep 2
# the newest record that the filter below selects: only what follows is written out
journalctl SYSLOG_IDENTIFIER=kernel -o export -n 1 --no-pager | sed -n 's/^__CURSOR=//p' > "$W/cursor"
rsyslogd -n -f "$W/rsyslog.conf" -i "$W/rs.pid" </dev/null >"$W/rs.stderr" 2>&1 &
R=$!
sleep 2
echo $$ > "$W/logns.pid"
i=0
while [ ! -e "$W/stop" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
kill $R 2>/dev/null
C=$(cat "$W/cursor")
journalctl SYSLOG_IDENTIFIER=kernel --after-cursor="$C" -o json --no-pager > "$W/out/journal-forged.json"
journalctl SYSLOG_IDENTIFIER=kernel --after-cursor="$C" -o short --no-pager > "$W/out/journal-forged.txt"
kill $J 2>/dev/null
sleep 0.5
touch "$W/done"
EOF

unshare --mount --uts --fork --kill-child bash "$WORK/logns.sh" "$WORK" </dev/null >"$WORK/logns.log" 2>&1 &
UNSHARE_PID=$!
for _ in $(seq 1 100); do [[ -s $WORK/logns.pid ]] && break; sleep 0.1; done
LNS=$(cat "$WORK/logns.pid")

ip netns add "$NS"
ip -n "$NS" link set dev lo up
ip -n "$NS" link add eth0 type veth peer name peer0
ip -n "$NS" link set dev peer0 up
ip -n "$NS" addr add 192.0.2.10/24 dev eth0
ip -n "$NS" link set dev eth0 up
ip -n "$NS" route add default via 192.0.2.1
ip netns exec "$NS" iptables -A OUTPUT -p tcp --dport 25 -j LOG --log-prefix "IPTABLES TCP-OUT 25:" --log-uid
ip netns exec "$NS" iptables -A OUTPUT -p tcp --dport 25 -j DROP

sysctl -qw net.netfilter.nf_log_all_netns=1
# the real traffic: uid 1001 tries three mail servers (a SYN and one retransmission each)
timeout 10 ip netns exec "$NS" setpriv --reuid=1001 --regid=1001 --clear-groups \
    /usr/bin/python3 "$WORK/tx.py" connect 1.5 198.51.100.23:25 198.51.100.41:25 203.0.113.17:25
sysctl -qw net.netfilter.nf_log_all_netns=0

# the forgery: the same uid writes records that claim to be the kernel's, blaming uid 107 (postfix)
nsenter -t "$LNS" -m setpriv --reuid=1001 --regid=1001 --clear-groups bash -c '
    for i in $(seq 1 "$1"); do
        logger -u /run/systemd/journal/dev-log -p kern.warning -t kernel -- \
            "IPTABLES TCP-OUT 25:IN= OUT=eth0 SRC=192.0.2.10 DST=203.0.$(( 100 + i % 100 )).$(( i % 250 + 1 )) LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=$(( 1000 + i )) DF PROTO=TCP SPT=$(( 40000 + i )) DPT=25 WINDOW=64240 RES=0x00 SYN URGP=0 UID=107 GID=113 "
    done' sh "$FORGED_COUNT"
sleep 1

touch "$WORK/stop"
for _ in $(seq 1 100); do [[ -e $WORK/done ]] && break; sleep 0.1; done
[[ -e $WORK/done ]] || { echo "forged.sh: the journal was not written out" >&2; exit 1; }
for f in journal-forged.json journal-forged.txt messages-forged messages-kernel-only; do
    [[ -s $WORK/out/$f ]] || { echo "forged.sh: $f is empty or missing" >&2; exit 1; }
    install -m 644 "$WORK/out/$f" "$DEST/$f"
done
echo "forged.sh: wrote journal-forged.json, journal-forged.txt, messages-forged, messages-kernel-only to $DEST"
