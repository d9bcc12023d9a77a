#!/usr/bin/env bash
# Capture REAL application logs next to the kernel's LOG lines, with their ground truth (issue 15).
#
#   sudo bash samples/capture/apps.sh          (about 2 minutes, 4 with exim; KEEP_WORK=1 keeps the work folder)
#   sudo bash samples/capture/apps.sh exim     (the same web application and office with Exim instead of
#                                              Postfix, no proxies; EXIM_ROOT=/tmp/mg-exim/root by default:
#                                              Debian's exim4-base, exim4-config and exim4-daemon-light
#                                              unpacked there with dpkg -x, as they cannot be installed
#                                              beside postfix) -> samples/logs/apps-exim/
#
# What runs, all of it the real Debian programs (postfix, v2ray, shadowsocks-libev, php-cli, rsyslog,
# python3-aiosmtpd), in network namespaces made here and removed at the end:
#   * mg-avps ("vps01", 192.0.2.10): in a private mount + UTS namespace whose /etc and /var are
#     overlays (every change lands in the work folder and is thrown away), rsyslogd with Debian's own
#     /etc/rsyslog.conf (imklog -> kern.log, /dev/log -> mail.log), Postfix started as Debian starts
#     it, V2Ray (vmess inbound with two users, an open socks inbound; access log), two ss-server
#     (one port per user, -v), PHP's mail.log; the LOG rules `mgscan rules --front-end iptables
#     --action log-only` prints (IPv4 part: --syn, --log-uid, 10/s burst 50, then accept);
#   * mg-amx: the "remote MX" addresses (198.51.100.0/24, 203.0.113.0/24 on its loopback) and an
#     SMTP sink (apps/sink.py) that records, for each connection, the sender's port and the sample
#     tag of each message: the ground truth; 203.0.113.250 and .251 drop port 25 (dead MXs); the
#     VPS's resolver 192.0.2.1 answers every query "no such name" (apps/dns.py);
#   * mg-aclient: the office's mail client (203.0.113.79, SMTP submission to Postfix on 587), two
#     V2Ray clients (a v2ray in client mode, vmess users alice from 203.0.113.77 and bob from
#     203.0.113.78), an open-proxy user (203.0.113.81, plain SOCKS5), two ss-local (carol and dave,
#     from 203.0.113.80);
#   * the schedule is apps/drive.py (both sides start their actions at the same T0); the web
#     application (uid 1801 "webapp") runs a sendmail script and two PHP scripts through Postfix.
# Then apps/truth.py joins the sink's records to the kernel's lines by port and writes truth.json;
# it fails (and nothing is published) when any attempt is unexplained or any count disagrees.
#
# Nothing outside the namespaces is changed except net.netfilter.nf_log_all_netns (1 during the
# traffic, 0 after) and /proc/kmsg's read cursor (drained before the private rsyslogd starts).
# Only addresses of the documentation ranges are used; no packet leaves the namespaces.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
need_root
A=$HERE/apps
MTA=${1:-postfix}
EXIM_ROOT=${EXIM_ROOT:-/tmp/mg-exim/root}
case $MTA in
    postfix) DEST=$(cd "$HERE/.." && pwd)/logs/apps; PROXIES=(v2ray ss-server ss-local) ;;
    exim) DEST=$(cd "$HERE/.." && pwd)/logs/apps-exim; PROXIES=()
          [[ -x $EXIM_ROOT/usr/sbin/exim4 ]] || { echo "apps.sh: no Exim in EXIM_ROOT=$EXIM_ROOT (see samples/logs/apps-exim/README.md)" >&2; exit 1; } ;;
    *) echo "apps.sh: usage: apps.sh [postfix|exim]" >&2; exit 2 ;;
esac
PY=/usr/bin/python3
NS_VPS=mg-avps
NS_MX=mg-amx
NS_CLIENT=mg-aclient
export TZ=UTC LC_ALL=C

for cmd in ip iptables unshare nsenter setpriv rsyslogd postfix postconf "${PROXIES[@]}" php logger openssl "$PY"; do
    command -v "$cmd" >/dev/null || { echo "apps.sh: missing $cmd (apt-get install postfix v2ray shadowsocks-libev php-cli python3-aiosmtpd rsyslog)" >&2; exit 1; }
done
"$PY" -c 'import aiosmtpd' 2>/dev/null || { echo "apps.sh: missing python3-aiosmtpd" >&2; exit 1; }
no_namespaces $NS_VPS $NS_MX $NS_CLIENT
if pgrep -x rsyslogd >/dev/null; then
    echo "apps.sh: an rsyslogd is running: it would share /proc/kmsg with ours" >&2
    exit 1
fi

foreign_ns() { # network namespaces that are not ours (another program's test run)
    ip netns list | awk '{print $1}' | grep -vxE "$NS_VPS|$NS_MX|$NS_CLIENT" || true
}
# net.netfilter.nf_log_all_netns is one switch for the whole machine: another program that sets it
# back to 0 while our traffic runs loses our lines, one that logs in its own namespaces meanwhile
# adds its lines to ours. Wait (bounded) until nobody else has namespaces and the switch is off.
quiet=0
for ((i = 0; i < ${QUIET_WAIT:-600} * 2; i++)); do
    if [[ -z $(foreign_ns) && $(cat /proc/sys/net/netfilter/nf_log_all_netns) == 0 ]]; then
        quiet=$((quiet + 1))
        [[ $quiet -ge 10 ]] && break
    else
        quiet=0
    fi
    sleep 0.5
done
[[ $quiet -ge 10 ]] || { echo "apps.sh: other network namespaces or nf_log_all_netns=1 for ${QUIET_WAIT:-600} s: not started" >&2; exit 75; }

WORK=$(mktemp -d /tmp/mg-apps.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/pids" "$WORK/out"

ours() { # is PID one of the processes this script started (its command line names WORK)?
    [[ $1 =~ ^[0-9]+$ ]] && [[ -r /proc/$1/cmdline ]] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -qF "$WORK"
}

nspids() { # the processes inside our network namespaces (only this script put any there)
    local ns
    for ns in $NS_CLIENT $NS_VPS $NS_MX; do
        ip netns pids "$ns" 2>/dev/null || true
    done
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    touch "$WORK/stop" "$WORK/traffic.done"
    if [[ -e $WORK/pids/vps ]] && [[ ! -e $WORK/vps.done ]]; then
        for _ in $(seq 100); do [[ -e $WORK/vps.done ]] && break; sleep 0.2; done
    fi
    sysctl -qw net.netfilter.nf_log_all_netns=0
    local p
    for p in $(nspids); do kill "$p" 2>/dev/null; done
    kill_pidfiles "$WORK/pids"
    sleep 1
    for p in $(nspids); do kill -9 "$p" 2>/dev/null; done
    for ns in $NS_CLIENT $NS_VPS $NS_MX; do ip netns del "$ns" 2>/dev/null; done
    drop_work "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --------------------------------------------------------------------------
# 1. network namespaces
# --------------------------------------------------------------------------
for ns in $NS_VPS $NS_MX $NS_CLIENT; do ip netns add "$ns"; done
ip -n $NS_VPS link add eth0 type veth peer name eth0 netns $NS_MX
ip -n $NS_VPS link add eth1 type veth peer name eth0 netns $NS_CLIENT
for ns in $NS_VPS $NS_MX $NS_CLIENT; do ip -n "$ns" link set dev lo up; done

ip -n $NS_VPS addr add 192.0.2.10/25 dev eth0
ip -n $NS_VPS addr add 192.0.2.129/25 dev eth1
ip -n $NS_VPS link set dev eth0 up
ip -n $NS_VPS link set dev eth1 up
ip -n $NS_VPS route add default via 192.0.2.1
CLIENTS=(203.0.113.77 203.0.113.78 203.0.113.79 203.0.113.80 203.0.113.81)
for a in "${CLIENTS[@]}"; do ip -n $NS_VPS route add "$a/32" via 192.0.2.130; done

ip -n $NS_MX addr add 192.0.2.1/25 dev eth0
ip -n $NS_MX link set dev eth0 up
MX=(198.51.100.7 198.51.100.23 198.51.100.41 198.51.100.88 198.51.100.133 198.51.100.201
    203.0.113.5 203.0.113.17 203.0.113.64 203.0.113.120 203.0.113.250 203.0.113.251)
for a in "${MX[@]}"; do ip -n $NS_MX addr add "$a/32" dev lo; done
# dead MXs: SYNs are dropped, so the sender retransmits until it gives up
ip netns exec $NS_MX iptables -A INPUT -p tcp -d 203.0.113.250,203.0.113.251 --dport 25 -j DROP

ip -n $NS_CLIENT addr add 192.0.2.130/25 dev eth0
for a in "${CLIENTS[@]}"; do ip -n $NS_CLIENT addr add "$a/32" dev lo; done
ip -n $NS_CLIENT link set dev eth0 up
ip -n $NS_CLIENT route add default via 192.0.2.129 src 203.0.113.80

# --------------------------------------------------------------------------
# 2. the LOG rules, as `mgscan rules --front-end iptables --action log-only` prints them (IPv4)
# --------------------------------------------------------------------------
vps() { ip netns exec $NS_VPS "$@"; }
vps iptables -N MAILGUARD-OUT
vps iptables -N MAILGUARD-LOG
for port in 25 465 587 2525; do
    vps iptables -A MAILGUARD-LOG -p tcp --dport $port -m limit --limit 10/second --limit-burst 50 \
        -j LOG --log-prefix "IPTABLES TCP-OUT $port:" --log-uid
done
vps iptables -A MAILGUARD-OUT -p tcp --syn -j MAILGUARD-LOG
vps iptables -I OUTPUT 1 -p tcp -m multiport --dports 25,465,587,2525 -j MAILGUARD-OUT

# --------------------------------------------------------------------------
# 3. the remote MXs, the VPS, the clients' programs
# --------------------------------------------------------------------------
timeout 360 ip netns exec $NS_MX "$PY" "$A/sink.py" "$WORK/sink.jsonl" 300 </dev/null >"$WORK/sink.stderr" 2>&1 &
echo $! > "$WORK/pids/sink"
timeout 360 ip netns exec $NS_MX "$PY" "$A/dns.py" 192.0.2.1 300 </dev/null >"$WORK/dns.stderr" 2>&1 &
echo $! > "$WORK/pids/dns"

ip netns exec $NS_VPS unshare --mount --uts --fork --kill-child bash "$A/vps.sh" "$WORK" "$A" "$MTA" "$EXIM_ROOT" \
    </dev/null >"$WORK/vps.log" 2>&1 &
echo $! > "$WORK/pids/vps-unshare"
wait_for 60 -e "$WORK/vps.ready" || { cat "$WORK/vps.log" >&2; exit 1; }
VPSPID=$(cat "$WORK/pids/vps")
invps() { nsenter -t "$VPSPID" -m -u -n "$@"; }

if [[ $MTA == postfix ]]; then
    timeout 300 ip netns exec $NS_CLIENT v2ray -config "$A/v2ray-client.json" </dev/null >"$WORK/v2ray-client.log" 2>&1 &
    echo $! > "$WORK/pids/v2ray-client"
    for u in carol:8388:10803 dave:8389:10804; do
        IFS=: read -r name sport lport <<<"$u"
        pw=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["password"])' "$A/ss-$name.json")
        timeout 300 ip netns exec $NS_CLIENT ss-local -s 192.0.2.10 -p "$sport" -b 127.0.0.1 -l "$lport" -k "$pw" \
            -m chacha20-ietf-poly1305 -t 60 </dev/null >"$WORK/ss-local-$name.log" 2>&1 &
        echo $! > "$WORK/pids/ss-local-$name"
    done
fi
sleep 2
grep -q '"event": "listening"' "$WORK/sink.jsonl" || { echo "apps.sh: the sink is not listening" >&2; cat "$WORK/sink.stderr" >&2; exit 1; }

# --------------------------------------------------------------------------
# 4. the traffic: both sides on one schedule from T0
# --------------------------------------------------------------------------
S0=$("$PY" "$HERE/kmsg.py" last)
sysctl -qw net.netfilter.nf_log_all_netns=1
( # watch the shared switch while our traffic runs, the namespace list until our rsyslogd stops (bounded)
    for ((i = 0; i < 3000; i++)); do
        [[ -e $WORK/vps.done ]] && break
        v=$(cat /proc/sys/net/netfilter/nf_log_all_netns)
        [[ $v == 1 || -e $WORK/traffic.done ]] || echo "$(date -u +%T.%N) nf_log_all_netns=$v" >> "$WORK/disturbed"
        f=$(foreign_ns)
        [[ -z $f ]] || echo "$(date -u +%T.%N) other namespaces: $(echo $f)" >> "$WORK/disturbed"
        sleep 0.1
    done
) &
T0=$(( $(date +%s) + 2 ))
timeout 150 nsenter -t "$VPSPID" -m -u -n "$PY" "$A/drive.py" local "$MTA" "$T0" "$WORK/local.jsonl" \
    </dev/null >"$WORK/drive-local.log" 2>&1 &
LOCAL=$!
timeout 150 ip netns exec $NS_CLIENT "$PY" "$A/drive.py" client "$MTA" "$T0" "$WORK/client.jsonl" \
    </dev/null >"$WORK/drive-client.log" 2>&1 &
CLIENT=$!
wait $LOCAL || { echo "apps.sh: local driver failed" >&2; cat "$WORK/drive-local.log" >&2; exit 1; }
wait $CLIENT || { echo "apps.sh: client driver failed" >&2; cat "$WORK/drive-client.log" >&2; exit 1; }

# the MTA gives up on the dead MX: Postfix after smtp_connect_timeout (30 s), Exim when the kernel gives
# up the connection (about 130 s, 11 SYNs: Exim opens with TCP Fast Open, and then its connect_timeout
# does not apply); wait for that deferral (bounded)
if [[ $MTA == postfix ]]; then
    MAILLOG=/proc/$VPSPID/root/var/log/mail.log DEFERRAL='status=deferred' WAIT=600
else
    MAILLOG=/proc/$VPSPID/root/var/log/exim4/mainlog DEFERRAL=' == hal@dead.example.net ' WAIT=2000
fi
for _ in $(seq $WAIT); do
    grep -qF "$DEFERRAL" "$MAILLOG" 2>/dev/null && break
    sleep 0.1
done
sleep 3
touch "$WORK/traffic.done"
sleep 0.3
sysctl -qw net.netfilter.nf_log_all_netns=0
S1=$("$PY" "$HERE/kmsg.py" last)
"$PY" "$HERE/kmsg.py" dump "$S0" "$S1" > "$WORK/out/kmsg.txt" || true
invps postqueue -p > "$WORK/out/postqueue-end.txt" 2>&1 || true

# --------------------------------------------------------------------------
# 5. stop, build and check the ground truth, publish
# --------------------------------------------------------------------------
touch "$WORK/stop"
wait_for 40 -e "$WORK/vps.done"
if [[ -s $WORK/disturbed ]]; then
    echo "apps.sh: another program touched the shared netfilter log switch or made namespaces during the capture; run again:" >&2
    sort -u -k2 "$WORK/disturbed" | head -5 >&2
    exit 75
fi
for f in sink dns v2ray-client ss-local-carol ss-local-dave; do
    [[ -e $WORK/pids/$f ]] || continue
    p=$(cat "$WORK/pids/$f"); ours "$p" && kill "$p" 2>/dev/null || true
done
if [[ $MTA == postfix ]]; then USERS='root|postfix|webapp|v2ray|shadowsocks'; else USERS='root|Debian-exim|webapp'; fi
grep -E "^($USERS):" "$WORK/ov/etc-up/passwd" > "$WORK/out/passwd"
{
    echo "capture_date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "kernel=$(uname -r)"
    echo "iptables=$(iptables --version)"
    echo "mta=$MTA"
    if [[ $MTA == postfix ]]; then PKGS=(postfix v2ray shadowsocks-libev); else PKGS=(); fi
    for p in "${PKGS[@]}" php8.2-cli rsyslog python3-aiosmtpd; do
        echo "$p=$(dpkg-query -W -f '${Version}' "$p")"
    done
    if [[ $MTA == exim ]]; then
        echo "exim4=$(zcat "$EXIM_ROOT/usr/share/doc/exim4-base/changelog.Debian.gz" | head -1 | sed 's/^exim4 (\([^)]*\)).*/\1/')"
    fi
    echo "tcp_syn_linear_timeouts=$(ip netns exec $NS_VPS cat /proc/sys/net/ipv4/tcp_syn_linear_timeouts 2>/dev/null || echo 0)"
    echo "t0=$T0"
    echo "kmsg_seq_range=$S0..$S1"
} > "$WORK/out/capture-info.txt"
"$PY" "$A/truth.py" "$WORK" "$WORK/out/truth.json"

mkdir -p "$DEST"
if [[ $MTA == postfix ]]; then
    PUBLISH=(kern.log mail.log mail-rfc3339.log v2ray-access.log v2ray-error.log shadowsocks-ss-server.log:shadowsocks.log
             php-mail.log passwd capture-info.txt truth.json)
else
    PUBLISH=(kern.log exim4-mainlog php-mail.log passwd capture-info.txt truth.json)
fi
for f in "${PUBLISH[@]}"; do
    install -m 644 "$WORK/out/${f%%:*}" "$DEST/${f##*:}"
done
echo "apps.sh: wrote $DEST"
