#!/usr/bin/env bash
# Capture REAL lines in the two wrappers of issue 12 that mgscan read as nothing:
#
#   sudo bash samples/capture/wrappers.sh
#
#   journal-short-delta.txt   journalctl -k -o short-delta, as journalctl prints it: the first line
#                             "[ 4411.207301                ] fw01 kernel: …", every later one
#                             "[ 4411.210392 <    0.003091 >] fw01 kernel: …"
#   central-traditional.log   a central rsyslog server's file: rsyslog A on the firewall forwards
#                             every journal record over TCP (127.0.0.1) as RFC 5424
#                             (RSYSLOG_SyslogProtocol23Format); rsyslog B receives it with imtcp and
#                             writes RSYSLOG_TraditionalFileFormat: "Dec  7 03:31:11 fw01 kernel IPTABLES …"
#                             (the tag without a colon: see samples/logs/README.md)
#
# What it does (about 90 seconds):
#   * starts a private systemd-journald (journal on tmpfs) and the two rsyslogd in a throw-away
#     mount/UTS/network namespace (hostname "fw01"; its own loopback carries the TCP forwarding);
#   * creates the network namespace mg-wvps (a veth eth0, documentation addresses only) with LOG rules
#     (--log-uid) and DROP for ports 25, 465, 587, and a LOG rule of another prefix for port 22;
#     sets net.netfilter.nf_log_all_netns=1 for the traffic only;
#   * traffic, as given UIDs via setpriv (each attempt: a SYN and one retransmission, 1.5 s):
#       uid 106 ("postfix")  2 attempts to 198.51.100.7:25
#       uid 1001 (spammer)   60 different servers on port 25, in two waves about a minute apart
#       uid 33 (www-data)    2 attempts to 198.51.100.25:587
#       uid 0                1 attempt to 203.0.113.9:22 (prefix "SSH-OUT: ", not selected by default)
#     and two non-kernel records (logger, tags sshd[1888] and CRON[2101]) that rsyslog A forwards too;
#   * writes the files, tears everything down (trap EXIT) and copies them to samples/logs/.
#
# Requirements (Debian 12): iptables rsyslog python3 util-linux systemd (journald binary only).
# Nothing outside the namespaces is changed except the sysctl above (always reset to 0).
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    echo "wrappers.sh: must run as root" >&2
    exit 1
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEST=$(cd "$HERE/../logs" && pwd)
NS=mg-wvps
PY=/usr/bin/python3
PORT=10514
export TZ=UTC LC_ALL=C

for cmd in ip iptables rsyslogd unshare nsenter setpriv journalctl logger "$PY"; do
    command -v "$cmd" >/dev/null || { echo "wrappers.sh: missing $cmd" >&2; exit 1; }
done
[[ -x /lib/systemd/systemd-journald ]] || { echo "wrappers.sh: missing systemd-journald" >&2; exit 1; }
if ip netns list | grep -qw "$NS"; then
    echo "wrappers.sh: namespace $NS already exists (previous run?); delete it first" >&2
    exit 1
fi

WORK=$(mktemp -d /tmp/mg-wrappers.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/out" "$WORK/rsA" "$WORK/rsB"
cp "$HERE/tx.py" "$WORK/"
chmod 644 "$WORK/tx.py"
UNSHARE_PID=

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    sysctl -qw net.netfilter.nf_log_all_netns=0
    ip netns del "$NS" 2>/dev/null
    touch "$WORK/stop"
    if [[ -n $UNSHARE_PID ]]; then
        for _ in $(seq 1 150); do [[ -e $WORK/done ]] && break; sleep 0.1; done
        kill "$UNSHARE_PID" 2>/dev/null # --kill-child: the daemons inside go with it
        wait "$UNSHARE_PID" 2>/dev/null
    fi
    if [[ ${KEEP_WORK:-0} == 1 ]]; then
        echo "wrappers.sh: work dir kept: $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# rsyslog A, on the firewall: every journal record forwarded as RFC 5424 over TCP (a copy of what it
# sends is kept in the work directory)
cat > "$WORK/rsyslog-a.conf" <<EOF
global(workDirectory="$WORK/rsA")
module(load="imjournal" StateFile="imjournal.state" IgnorePreviousMessages="on")
*.* action(type="omfwd" target="127.0.0.1" port="$PORT" protocol="tcp" template="RSYSLOG_SyslogProtocol23Format")
*.* action(type="omfile" file="$WORK/out/sent-rfc5424.log" template="RSYSLOG_SyslogProtocol23Format")
EOF

# rsyslog B, the central server: what arrives over TCP, in the traditional file format
cat > "$WORK/rsyslog-b.conf" <<EOF
global(workDirectory="$WORK/rsB")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="$PORT")
*.* action(type="omfile" file="$WORK/out/central-traditional.log" template="RSYSLOG_TraditionalFileFormat")
EOF

# The log daemons, in their own mount+UTS+network namespace; the journal is written out when "stop" appears.
cat > "$WORK/logns.sh" <<'EOF'
set -u
W=$1
mount --make-rprivate /
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=2755 tmpfs /var/log/journal
hostname fw01
ip link set dev lo up
/lib/systemd/systemd-journald </dev/null >"$W/journald.stderr" 2>&1 &
J=$!
sleep 2
# the newest kernel record: only what follows is written out (journalctl 252 --after-cursor skips one
# more record when the cursor's own record does not match -k, so the cursor is a kernel record's)
journalctl -k -o export -n 1 --no-pager | sed -n 's/^__CURSOR=//p' > "$W/cursor"
rsyslogd -n -f "$W/rsyslog-b.conf" -i "$W/rsB.pid" </dev/null >"$W/rsB.stderr" 2>&1 &
B=$!
sleep 1
rsyslogd -n -f "$W/rsyslog-a.conf" -i "$W/rsA.pid" </dev/null >"$W/rsA.stderr" 2>&1 &
A=$!
sleep 2
echo $$ > "$W/logns.pid"
i=0
while [ ! -e "$W/stop" ] && [ $i -lt 1500 ]; do sleep 0.1; i=$((i + 1)); done
sleep 2
kill $A 2>/dev/null
sleep 1
kill $B 2>/dev/null
sleep 0.5
C=$(cat "$W/cursor")
journalctl -k --after-cursor="$C" -o short-delta --no-pager > "$W/out/journal-short-delta.txt"
journalctl -k --after-cursor="$C" -o short-monotonic --no-pager > "$W/out/check-short-monotonic.txt"
journalctl -k --after-cursor="$C" -o short-iso-precise --no-pager > "$W/out/check-short-iso-precise.txt"
kill $J 2>/dev/null
sleep 0.5
touch "$W/done"
EOF

unshare --mount --uts --net --fork --kill-child bash "$WORK/logns.sh" "$WORK" </dev/null >"$WORK/logns.log" 2>&1 &
UNSHARE_PID=$!
for _ in $(seq 1 100); do [[ -s $WORK/logns.pid ]] && break; sleep 0.1; done
[[ -s $WORK/logns.pid ]] || { echo "wrappers.sh: the log daemons did not start" >&2; exit 1; }
LNS=$(cat "$WORK/logns.pid")

ip netns add "$NS"
ip -n "$NS" link set dev lo up
ip -n "$NS" link add eth0 type veth peer name peer0
ip -n "$NS" link set dev peer0 up
ip -n "$NS" addr add 192.0.2.10/24 dev eth0
ip -n "$NS" link set dev eth0 up
ip -n "$NS" route add default via 192.0.2.1
for port in 25 465 587; do
    ip netns exec "$NS" iptables -A OUTPUT -p tcp --dport $port -j LOG --log-prefix "IPTABLES TCP-OUT $port:" --log-uid
    ip netns exec "$NS" iptables -A OUTPUT -p tcp --dport $port -j DROP
done
ip netns exec "$NS" iptables -A OUTPUT -p tcp --dport 22 -j LOG --log-prefix "SSH-OUT: " --log-uid
ip netns exec "$NS" iptables -A OUTPUT -p tcp --dport 22 -j DROP

as() { # as UID TIMEOUT TARGET... (in mg-wvps; a dropped SYN is sent again after 1 s)
    local u=$1; shift
    timeout 20 ip netns exec "$NS" setpriv --reuid="$u" --regid="$u" --clear-groups "$PY" "$WORK/tx.py" connect "$@"
}
say() { # say PRIO TAG MESSAGE: a non-kernel record, to the journal
    nsenter -t "$LNS" -m logger -u /run/systemd/journal/dev-log -p "$1" -t "$2" -- "$3"
}
wave() { # wave FIRST: uid 1001 tries 30 servers, 6 at a time
    local first=$1 j k jobs_=()
    for j in 0 1 2 3 4 5; do
        local targets=()
        for k in 0 1 2 3 4; do
            local n=$(( first + j * 5 + k ))
            if (( n <= 30 )); then targets+=("198.51.100.$(( n + 100 )):25"); else targets+=("203.0.113.$(( n + 70 )):25"); fi
        done
        as 1001 1.5 "${targets[@]}" & jobs_+=($!)
    done
    wait "${jobs_[@]}" || true
}

sysctl -qw net.netfilter.nf_log_all_netns=1
say auth.info 'sshd[1888]' 'Accepted publickey for admin from 192.0.2.200 port 52114 ssh2: ED25519 SHA256:Qm9ndXNLZXlGb3JEb2N1bWVudGF0aW9uT25seTAx'
as 106 1.5 198.51.100.7:25 198.51.100.7:25
wave 1
as 33 1.5 198.51.100.25:587 198.51.100.25:587 & p33=$!
as 0 1.5 203.0.113.9:22 & p0=$!
wait "$p33" "$p0" || true
say cron.info 'CRON[2101]' '(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)'
sleep 50
wave 31
sleep 2
sysctl -qw net.netfilter.nf_log_all_netns=0

touch "$WORK/stop"
for _ in $(seq 1 150); do [[ -e $WORK/done ]] && break; sleep 0.1; done
[[ -e $WORK/done ]] || { echo "wrappers.sh: the journal was not written out" >&2; exit 1; }
for f in journal-short-delta.txt central-traditional.log; do
    [[ -s $WORK/out/$f ]] || { echo "wrappers.sh: $f is empty or missing" >&2; exit 1; }
    install -m 644 "$WORK/out/$f" "$DEST/$f"
done
echo "wrappers.sh: wrote journal-short-delta.txt, central-traditional.log to $DEST"
