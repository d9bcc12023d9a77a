#!/usr/bin/env bash
# Capture REAL netfilter LOG lines into samples/logs/.
#
#   sudo bash samples/capture/capture.sh
#
# What it does (about 40 seconds):
#   * starts private log daemons in throw-away mount/UTS namespaces (hostname "vps01"):
#       systemd-journald (journal on tmpfs), rsyslogd "debian" (imklog + imuxsock on a
#       private socket), rsyslogd "rhel" (imjournal), syslog-ng (/dev/kmsg, optional) and
#       busybox syslogd (fed by the "debian" rsyslogd over a unix socket, see README.md);
#   * creates network namespaces mg-vps / mg-mx / mg-client joined by veth pairs
#     (documentation addresses only: 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
#     2001:db8::/32), installs LOG rules inside mg-vps and sends a bounded amount of
#     traffic between the namespaces as several UIDs;
#   * sets net.netfilter.nf_log_all_netns=1 only for the duration of the traffic;
#   * records dmesg / journalctl / syslog files, tears everything down (trap EXIT),
#     copies the files to samples/logs/ and recomputes expected.json + README figures.
#
# Requirements (Debian 12): iptables nftables rsyslog busybox python3 util-linux
# systemd (journald binary only; systemd need not be PID 1). syslog-ng is optional:
# set SYSLOGNG_ROOT to an unpacked syslog-ng-core .deb (see README.md), else
# syslog-ng.log is left untouched.
#
# Nothing outside the namespaces is changed except the sysctl above (restored to 0)
# and /proc/kmsg's read cursor (drained before the imklog rsyslogd starts).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
need_root
DEST=$(cd "$HERE/../logs" 2>/dev/null && pwd || { mkdir -p "$HERE/../logs" && cd "$HERE/../logs" && pwd; })
PY=/usr/bin/python3
HOSTNAME_LOG=vps01
NS_VPS=mg-vps
NS_MX=mg-mx
NS_CLIENT=mg-client
SYSLOGNG_ROOT=${SYSLOGNG_ROOT:-/tmp/mg-sng/root}
export TZ=UTC LC_ALL=C

for cmd in ip iptables ip6tables nft rsyslogd busybox unshare nsenter setpriv dmesg journalctl logger "$PY"; do
    command -v "$cmd" >/dev/null || { echo "capture.sh: missing $cmd" >&2; exit 1; }
done
[[ -x /lib/systemd/systemd-journald ]] || { echo "capture.sh: missing systemd-journald" >&2; exit 1; }
no_namespaces $NS_VPS $NS_MX $NS_CLIENT

WORK=$(mktemp -d /tmp/mg-capture.XXXXXX)
chmod 755 "$WORK"
OUT=$WORK/out
mkdir -p "$OUT" "$WORK/pids" "$WORK/rsA" "$WORK/rsB"
cp "$HERE/tx.py" "$HERE/kmsg.py" "$WORK/"
chmod 644 "$WORK"/*.py

SNG=0
if [[ -x $SYSLOGNG_ROOT/usr/sbin/syslog-ng ]]; then SNG=1; fi

ours() { # is PID still one of the processes this script started?
    [[ $1 =~ ^[0-9]+$ ]] && [[ -r /proc/$1/cmdline ]] &&
        tr '\0' ' ' < "/proc/$1/cmdline" | grep -qE "$WORK|systemd-journald|busybox syslogd"
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    touch "$WORK/stop"
    # stop every process we started, by pid
    kill_pidfiles "$WORK/pids"
    sleep 1
    kill_pidfiles "$WORK/pids" KILL
    for ns in $NS_CLIENT $NS_VPS $NS_MX; do
        ip netns del "$ns" 2>/dev/null
    done
    sysctl -qw net.netfilter.nf_log_all_netns=0
    drop_work "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --------------------------------------------------------------------------
# 1. busybox syslogd in its own mount+UTS namespace (private tmpfs /dev for /dev/log)
# --------------------------------------------------------------------------
unshare --mount --uts --fork --kill-child sh -c '
    mount --make-rprivate /
    mount -t tmpfs -o mode=755 tmpfs /dev
    mknod -m 666 /dev/null c 1 3
    hostname "$1"
    echo $$ > "$2/pids/busybox"
    exec busybox syslogd -n -O "$3/busybox.log"
' sh "$HOSTNAME_LOG" "$WORK" "$OUT" </dev/null >"$WORK/busybox.stderr" 2>&1 &
echo $! > "$WORK/pids/busybox-unshare"
wait_for 10 -s "$WORK/pids/busybox"
BBPID=$(cat "$WORK/pids/busybox")
wait_for 10 -S "/proc/$BBPID/root/dev/log"

# --------------------------------------------------------------------------
# 2. journald + rsyslog(debian) + rsyslog(rhel) + syslog-ng in one mount+UTS namespace
# --------------------------------------------------------------------------
cat > "$WORK/rsyslog-debian.conf" <<EOF
# Debian-12-like rsyslog: kernel via imklog (/proc/kmsg), local messages via imuxsock
global(workDirectory="$WORK/rsA")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="$WORK/rsA.sock")
module(load="imklog")
\$RepeatedMsgReduction on
\$ModLoad omuxsock
# what busybox klogd would send with syslog(3): <PRI>Mmm dd hh:mm:ss TAG: MSG
\$template BusyboxRelay,"<%PRI%>%TIMESTAMP% %syslogtag%%msg:::sp-if-no-1st-sp%%msg%"
\$OMUxSockSocket /proc/$BBPID/root/dev/log
kern.* action(type="omfile" file="$OUT/kern.log" template="RSYSLOG_TraditionalFileFormat")
kern.* action(type="omfile" file="$OUT/kern-rfc3339.log" template="RSYSLOG_FileFormat")
*.*    action(type="omfile" file="$OUT/syslog-rfc5424.log" template="RSYSLOG_SyslogProtocol23Format")
:msg,contains,"IPTABLES TCP-OUT" action(type="omfile" file="$OUT/iptables-split.log" template="RSYSLOG_FileFormat")
kern.* :omuxsock:;BusyboxRelay
EOF

cat > "$WORK/rsyslog-rhel.conf" <<EOF
# RHEL-8/9-like rsyslog: everything (kernel included) from the journal via imjournal
global(workDirectory="$WORK/rsB")
module(load="imjournal" StateFile="imjournal.state" IgnorePreviousMessages="on")
module(load="builtin:omfile" Template="RSYSLOG_TraditionalFileFormat")
*.info;mail.none;authpriv.none;cron.none  $OUT/messages
EOF

cat > "$WORK/syslog-ng.conf" <<EOF
@version: 3.38
# Linux system() source equivalent for the kernel (/dev/kmsg) + a private unix socket
options { chain_hostnames(no); use_dns(no); stats_freq(0); flush_lines(0); };
source s_src {
    file("/dev/kmsg" program-override("kernel") flags(kernel) format("linux-kmsg") keep-timestamp(no));
    unix-dgram("$WORK/sng.sock");
    internal();
};
destination d_file { file("$OUT/syslog-ng.log"); };
log { source(s_src); destination(d_file); };
EOF

cat > "$WORK/logns.sh" <<'EOF'
# runs inside: unshare --mount --uts --fork
set -u
W=$1 OUT=$2 HN=$3 SNG=$4 SNGR=$5 PY=$6
mount --make-rprivate /
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=2755 tmpfs /var/log/journal
hostname "$HN"
echo $$ > "$W/pids/logns"
/lib/systemd/systemd-journald </dev/null >"$W/journald.stderr" 2>&1 &
echo $! > "$W/pids/journald"
sleep 2
# cursor of the newest *kernel* entry: journalctl 252 --after-cursor skips one extra
# entry when the cursor entry itself does not match the -k filter
journalctl -k -o export -n 1 --no-pager | sed -n 's/^__CURSOR=//p' > "$W/journal.cursor"
if [ "$SNG" = 1 ]; then
    LD_LIBRARY_PATH=$SNGR/usr/lib/syslog-ng "$SNGR/usr/sbin/syslog-ng" -F \
        --module-path="$SNGR/usr/lib/syslog-ng/3.38" -f "$W/syslog-ng.conf" \
        -R "$W/sng.persist" -p "$W/sng.pid" -c "$W/sng.ctl" </dev/null >"$W/syslog-ng.stderr" 2>&1 &
    echo $! > "$W/pids/syslog-ng"
fi
"$PY" "$W/kmsg.py" drain-proc > "$W/drained.bytes"
rsyslogd -n -f "$W/rsyslog-debian.conf" -i "$W/rsA.pid" </dev/null >"$W/rsA.stderr" 2>&1 &
echo $! > "$W/pids/rsyslog-debian"
rsyslogd -n -f "$W/rsyslog-rhel.conf" -i "$W/rsB.pid" </dev/null >"$W/rsB.stderr" 2>&1 &
echo $! > "$W/pids/rsyslog-rhel"
sleep 2
touch "$W/logns.ready"
i=0
while [ ! -e "$W/stop" ] && [ $i -lt 1800 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1
for n in rsyslog-debian rsyslog-rhel syslog-ng; do
    [ -e "$W/pids/$n" ] && kill "$(cat "$W/pids/$n")" 2>/dev/null
done
sleep 1
C=$(cat "$W/journal.cursor")
for fmt in short short-iso short-iso-precise short-precise short-full short-monotonic short-unix cat json; do
    case $fmt in json) f=journal.json ;; *) f=journal-$fmt.txt ;; esac
    journalctl -k --after-cursor="$C" -o "$fmt" --no-pager > "$OUT/$f" 2>>"$W/journalctl.stderr"
done
kill "$(cat "$W/pids/journald")" 2>/dev/null
sleep 0.5
touch "$W/logns.done"
EOF

unshare --mount --uts --fork --kill-child bash "$WORK/logns.sh" \
    "$WORK" "$OUT" "$HOSTNAME_LOG" "$SNG" "$SYSLOGNG_ROOT" "$PY" </dev/null >"$WORK/logns.log" 2>&1 &
echo $! > "$WORK/pids/logns-unshare"
wait_for 30 -e "$WORK/logns.ready"
LNSPID=$(cat "$WORK/pids/logns")
JSOCK=/proc/$LNSPID/root/run/systemd/journal/dev-log
wait_for 10 -S "$JSOCK"

# logger(1) lines that stand for other daemons on the box; each goes to every daemon
say() { # say PRIO TAG MESSAGE
    logger -u "$WORK/rsA.sock" -p "$1" -t "$2" -- "$3"
    logger -u "/proc/$BBPID/root/dev/log" -p "$1" -t "$2" -- "$3"
    logger -u "$JSOCK" -p "$1" -t "$2" -- "$3"
    if [[ $SNG == 1 ]]; then logger -u "$WORK/sng.sock" -p "$1" -t "$2" -- "$3"; fi
}

S0=$("$PY" "$WORK/kmsg.py" last)

# --------------------------------------------------------------------------
# 3. network namespaces
# --------------------------------------------------------------------------
sysctl -qw net.netfilter.nf_log_all_netns=1

say cron.info 'CRON[2101]' '(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)'
say auth.info 'sshd[1888]' 'Accepted publickey for admin from 192.0.2.200 port 52114 ssh2: ED25519 SHA256:Qm9ndXNLZXlGb3JEb2N1bWVudGF0aW9uT25seTAx'

for ns in $NS_VPS $NS_MX $NS_CLIENT; do ip netns add "$ns"; done
nsx() { ip netns exec "$@"; }

# mg-vps eth0 <-> mg-mx eth0 ("the internet"); mg-vps docker0 bridge <-> mg-client eth0
ip -n $NS_VPS link add eth0 address 02:00:00:00:01:0a type veth peer name eth0 address 02:00:00:00:01:01 netns $NS_MX
ip -n $NS_VPS link add docker0 address 02:42:7a:3e:11:05 type bridge
ip -n $NS_VPS link add veth3f2a1c0 address 02:00:00:00:02:0b type veth peer name eth0 address 02:42:c0:00:02:82 netns $NS_CLIENT
ip -n $NS_VPS link set dev veth3f2a1c0 master docker0
for ns in $NS_VPS $NS_MX $NS_CLIENT; do
    ip -n "$ns" link set dev lo up
    nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done

ip -n $NS_VPS addr add 192.0.2.10/25 dev eth0
ip -n $NS_VPS addr add 2001:db8:0:1::10/64 dev eth0 nodad
ip -n $NS_VPS addr add 192.0.2.129/25 dev docker0
ip -n $NS_VPS link set dev eth0 up
ip -n $NS_VPS link set dev docker0 up
ip -n $NS_VPS link set dev veth3f2a1c0 up
ip -n $NS_VPS route add default via 192.0.2.1
ip -n $NS_VPS -6 route add default via 2001:db8:0:1::1
nsx $NS_VPS sysctl -qw net.ipv4.ip_forward=1

ip -n $NS_MX addr add 192.0.2.1/25 dev eth0
ip -n $NS_MX addr add 2001:db8:0:1::1/64 dev eth0 nodad
ip -n $NS_MX link set dev eth0 up
MX4=(198.51.100.7 198.51.100.23 198.51.100.25 198.51.100.41 198.51.100.88 198.51.100.133 198.51.100.201
     203.0.113.5 203.0.113.17 203.0.113.64 203.0.113.120 203.0.113.250)
MX6=(2001:db8:25::10 2001:db8:25::20 2001:db8:25::30)
for a in "${MX4[@]}"; do ip -n $NS_MX addr add "$a/32" dev lo; done
for a in "${MX6[@]}"; do ip -n $NS_MX addr add "$a/128" dev lo nodad; done
ip -n $NS_MX route add 192.0.2.128/25 via 192.0.2.10

ip -n $NS_CLIENT addr add 192.0.2.130/25 dev eth0
ip -n $NS_CLIENT link set dev eth0 up
ip -n $NS_CLIENT route add default via 192.0.2.129

# --------------------------------------------------------------------------
# 4. rules (inside mg-vps only)
# --------------------------------------------------------------------------
vps() { nsx $NS_VPS "$@"; }
for port in 25 465 587; do
    for ipt in iptables ip6tables; do
        vps $ipt -A OUTPUT -p tcp --dport $port -j LOG --log-prefix "IPTABLES TCP-OUT $port:" --log-uid
        # the MTA (uid 106, "postfix") may open SMTP connections; packets of an
        # accepted connection sent after close() have no owner, hence ESTABLISHED;
        # everybody else is dropped
        vps $ipt -A OUTPUT -p tcp --dport $port -m owner --uid-owner 106 -j ACCEPT
        vps $ipt -A OUTPUT -p tcp --dport $port -m conntrack --ctstate ESTABLISHED -j ACCEPT
        vps $ipt -A OUTPUT -p tcp --dport $port -j DROP
    done
    # containers behind docker0 (FORWARD): same prefix, no UID possible
    vps iptables -A FORWARD -p tcp --dport $port -j LOG --log-prefix "IPTABLES TCP-OUT $port:"
    vps iptables -A FORWARD -p tcp --dport $port -j DROP
done
# unrelated logging that also ends up in the same files
vps iptables -A INPUT -p udp -m multiport --dports 161,1900 -j LOG --log-prefix "[UFW BLOCK] "
vps iptables -A INPUT -p udp -m multiport --dports 161,1900 -j DROP
vps iptables -A INPUT -p icmp --icmp-type echo-request -j LOG --log-prefix "[UFW BLOCK] "
vps iptables -A INPUT -p icmp --icmp-type echo-request -j DROP
vps ip6tables -A INPUT -p udp --dport 1900 -j LOG --log-prefix "[UFW BLOCK] "
vps ip6tables -A INPUT -p udp --dport 1900 -j DROP
# a Latin-1 (not UTF-8) prefix: "DROP-réseau: " with é = 0xE9
vps iptables -A INPUT -p udp --dport 5060 -j LOG --log-prefix $'DROP-r\xe9seau: '
vps iptables -A INPUT -p udp --dport 5060 -j DROP
vps nft -f - <<'EOF'
table inet mg_extra {
    chain input {
        type filter hook input priority filter - 10; policy accept;
        tcp dport 22 log prefix "nft-drop: " flags all drop
    }
}
EOF

# --------------------------------------------------------------------------
# 5. traffic (every command bounded by timeout)
# --------------------------------------------------------------------------
as() { # as UID CMD... (in mg-vps)
    local u=$1; shift
    timeout 15 ip netns exec $NS_VPS setpriv --reuid="$u" --regid="$u" --clear-groups "$@"
}
TX="$PY $WORK/tx.py"

# fake remote MX servers accept SMTP on 25/465/587 for the whole run
timeout 40 ip netns exec $NS_MX $TX listen 35 25 465 587 </dev/null >/dev/null 2>&1 &
echo $! > "$WORK/pids/mx-listener"
sleep 0.5

# legit: the MTA (uid 106) delivers to two MX hosts (connections succeed)
as 106 $TX connect 2 198.51.100.7:25
as 106 $TX connect 2 '[2001:db8:25::20]:25'
say mail.info 'postfix/smtp[2345]' '3F2A81C0042: to=<alice@example.net>, relay=mx.example.net[198.51.100.7]:25, delay=0.21, delays=0.01/0.01/0.1/0.09, dsn=2.0.0, status=sent (250 2.0.0 Ok)'

# noise from outside: UFW-style blocks, nft drop, Latin-1 prefix
timeout 5 ip netns exec $NS_MX $TX udp 192.0.2.10:161 192.0.2.10:1900 '[2001:db8:0:1::10]:1900' 192.0.2.10:5060
timeout 5 ip netns exec $NS_MX busybox ping -c 2 -i 0.3 -W 1 192.0.2.10 >/dev/null 2>&1 || true

# www-data (uid 33): a web form sending through a submission relay, dropped
jobs_=()
as 33 $TX connect 1.5 198.51.100.25:587 198.51.100.25:587 & jobs_+=($!)
as 33 $TX connect 1.5 198.51.100.25:465 '[2001:db8:25::30]:587' & jobs_+=($!)
timeout 5 ip netns exec $NS_MX $TX connect 1.5 192.0.2.10:22 & jobs_+=($!)
wait "${jobs_[@]}" || true

say user.warning 'php-fpm[1311]' '[pool www] server reached pm.max_children setting (5), consider raising it'
say user.warning 'php-fpm[1311]' '[pool www] server reached pm.max_children setting (5), consider raising it'
say user.warning 'php-fpm[1311]' '[pool www] server reached pm.max_children setting (5), consider raising it'

# the spammer: uid 1001 hammers port 25 of many MX hosts (parallel, bounded)
jobs_=()
as 1001 $TX connect 1.5 198.51.100.23:25 198.51.100.41:25 198.51.100.88:25 & jobs_+=($!)
as 1001 $TX connect 1.5 198.51.100.133:25 198.51.100.201:25 203.0.113.5:25 & jobs_+=($!)
as 1001 $TX connect 3.5 203.0.113.17:25 203.0.113.64:25 & jobs_+=($!)
as 1001 $TX connect 0.5 203.0.113.120:25 203.0.113.250:25 198.51.100.7:25 198.51.100.25:25 & jobs_+=($!)
as 1001 $TX connect 1.5 '[2001:db8:25::10]:25' '[2001:db8:25::20]:25' & jobs_+=($!)
as 1001 $TX connect 1.5 203.0.113.17:587 198.51.100.41:465 & jobs_+=($!)
# root tries a submission port once; a container behind docker0 tries port 25 (FORWARD)
as 0 $TX connect 0.5 203.0.113.64:587 & jobs_+=($!)
timeout 10 ip netns exec $NS_CLIENT $TX connect 1.5 198.51.100.88:25 203.0.113.250:25 & jobs_+=($!)
wait "${jobs_[@]}" || true

say mail.warning 'postfix/smtp[2346]' 'connect to mx2.example.org[203.0.113.17]:25: Connection timed out'
sleep 2

# --------------------------------------------------------------------------
# 6. teardown of the network part, then stop the log daemons
# --------------------------------------------------------------------------
kill "$(cat "$WORK/pids/mx-listener")" 2>/dev/null || true
for ns in $NS_CLIENT $NS_VPS $NS_MX; do ip netns del "$ns"; done
sleep 1
sysctl -qw net.netfilter.nf_log_all_netns=0
S1=$("$PY" "$WORK/kmsg.py" last)

touch "$WORK/stop"
wait_for 40 -e "$WORK/logns.done"
kill "$BBPID" 2>/dev/null || true
wait "$(cat "$WORK/pids/logns-unshare")" 2>/dev/null || true

# --------------------------------------------------------------------------
# 7. kernel ring buffer: raw /dev/kmsg records and dmesg renderings of the same records
# --------------------------------------------------------------------------
"$PY" "$WORK/kmsg.py" dump "$S0" "$S1" > "$OUT/kmsg.txt"
first_usec=$(head -1 "$OUT/kmsg.txt" | cut -d, -f3)
last_usec=$(tail -1 "$OUT/kmsg.txt" | cut -d, -f3)
ok=0
for attempt in 1 2 3; do
    dmesg -r > "$WORK/d-r" ; dmesg > "$WORK/d" ; dmesg -T > "$WORK/d-T"
    dmesg --time-format=iso > "$WORK/d-iso"
    n=$(wc -l < "$WORK/d-r")
    if [[ $(wc -l < "$WORK/d") == "$n" && $(wc -l < "$WORK/d-T") == "$n" && $(wc -l < "$WORK/d-iso") == "$n" ]]; then
        ok=1; break
    fi
done
[[ $ok == 1 ]] || { echo "capture.sh: dmesg outputs differ in length" >&2; exit 1; }
# line numbers of records inside [first_usec, last_usec], taken from dmesg -r
LC_ALL=C awk -v lo="$first_usec" -v hi="$last_usec" '
    match($0, /^<[0-9]+>\[ *[0-9]+\.[0-9]+\]/) {
        s = substr($0, RSTART, RLENGTH); sub(/^<[0-9]+>\[ */, "", s); sub(/\]$/, "", s)
        split(s, p, "."); u = p[1] * 1000000 + p[2]
        if (u >= lo && u <= hi) print NR
    }' "$WORK/d-r" > "$WORK/lines"
pick() { LC_ALL=C awk 'NR == FNR { want[$1] = 1; next } FNR in want' "$WORK/lines" "$1"; }
pick "$WORK/d-r" > "$OUT/dmesg-r.txt"
pick "$WORK/d" > "$OUT/dmesg.txt"
pick "$WORK/d-T" > "$OUT/dmesg-T.txt"
pick "$WORK/d-iso" > "$OUT/dmesg-iso.txt"

# --------------------------------------------------------------------------
# 8. publish
# --------------------------------------------------------------------------
FILES=(kern.log kern-rfc3339.log syslog-rfc5424.log iptables-split.log messages busybox.log
       dmesg.txt dmesg-r.txt dmesg-T.txt dmesg-iso.txt kmsg.txt
       journal-short.txt journal-short-iso.txt journal-short-iso-precise.txt journal-short-precise.txt
       journal-short-full.txt journal-short-monotonic.txt journal-short-unix.txt journal-cat.txt journal.json)
if [[ $SNG == 1 ]]; then FILES+=(syslog-ng.log); fi
for f in "${FILES[@]}"; do
    [[ -s $OUT/$f ]] || { echo "capture.sh: $f is empty or missing" >&2; exit 1; }
done
for f in "${FILES[@]}"; do install -m 644 "$OUT/$f" "$DEST/$f"; done
{
    echo "capture_date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "kernel=$(uname -r)"
    echo "iptables=$(iptables --version)"
    echo "nftables=$(nft --version)"
    echo "rsyslog=$(rsyslogd -v | head -1)"
    echo "journalctl=$(journalctl --version | head -1)"
    echo "dmesg=$(dmesg --version)"
    echo "busybox=$(busybox | head -1)"
    if [[ $SNG == 1 ]]; then
        echo "syslog-ng=$(LD_LIBRARY_PATH=$SYSLOGNG_ROOT/usr/lib/syslog-ng "$SYSLOGNG_ROOT/usr/sbin/syslog-ng" --version | head -1)"
    fi
    echo "kmsg_seq_range=$S0..$S1"
} > "$DEST/capture-info.txt"
"$PY" "$HERE/expected.py" "$DEST"
echo "capture.sh: wrote ${#FILES[@]} files to $DEST"
