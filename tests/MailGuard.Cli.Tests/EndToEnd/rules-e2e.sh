#!/usr/bin/env bash
# End-to-end run of `mgscan rules` for RulesEndToEndTests (as root): the rules mgscan prints are loaded into network
# namespaces made here, uid 1001 makes real connections to port 25, the kernel's LOG lines are collected by a private
# systemd-journald (its own mount namespace, journal on tmpfs), and the live rules are checked with
# `mgscan rules --check`. The C# test then runs mgscan on the journal.
#
#   rules-e2e.sh frontends|services WORK MGSCAN_DLL TX_PY NET
#
# NET is a /24 prefix unique to the run (10.A.B): namespace N has source address NET.N, and the test keeps only the
# journal lines with its addresses. Everything made here is removed on every path (trap EXIT): namespaces, cgroups,
# daemons, net.netfilter.nf_log_all_netns (back to 0).
#   frontends: iptables commands (iptables-nft, NET.1), nft file (NET.2), ufw before.rules (NET.3, when ufw is
#              installed), firewalld direct rules (NET.4, when firewalld and dbus-daemon are), the README's rules
#              without --log-uid (NET.5, for --check only). Files: journal.json, check-*.txt / check-*.rc, loaded.txt
#   services:  mgscan rules --per-service a.service b.service as an iptables-restore fragment (NET.6) and as an nft file
#              (NET.7); in each, uid 1001 connects twice from system.slice/a.service, three times from b.service and once
#              from outside both.
set -uo pipefail
MODE=$1 W=$2 MG=$3 TX=$4 NET=$5
ID=$$
NSS=()
CGS=()
FW_PID=
J_PID=
MADE_SLICE=
CG=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)

log() { echo "rules-e2e: $*" >&2; }
mg() { dotnet "$MG" rules "$@"; }

cleanup() {
    sysctl -qw net.netfilter.nf_log_all_netns=0
    touch "$W/fw-done" "$W/journal-stop"
    if [[ -n $FW_PID ]]; then
        for _ in $(seq 1 50); do kill -0 "$FW_PID" 2>/dev/null || break; sleep 0.1; done
        kill "$FW_PID" 2>/dev/null; wait "$FW_PID" 2>/dev/null
    fi
    if [[ -n $J_PID ]]; then
        for _ in $(seq 1 50); do [[ -e $W/journal-done ]] && break; sleep 0.1; done
        kill "$J_PID" 2>/dev/null; wait "$J_PID" 2>/dev/null
    fi
    for ns in "${NSS[@]}"; do ip netns del "$ns" 2>/dev/null; done
    for cg in "${CGS[@]}"; do rmdir "$cg" 2>/dev/null; done
    [[ -n $MADE_SLICE ]] && rmdir "$CG/system.slice" 2>/dev/null
    true
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# A private journald: reads /dev/kmsg like the system's, writes to tmpfs; on journal-stop the kernel's records go to journal.json.
cat > "$W/journal.sh" <<'EOF'
W=$1
mount --make-rprivate /
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /var/log/journal && mount -t tmpfs -o mode=2755 tmpfs /var/log/journal
/lib/systemd/systemd-journald </dev/null >"$W/journald.log" 2>&1 &
J=$!
for _ in $(seq 1 100); do journalctl -k -n 1 -q --no-pager 2>/dev/null | grep -q . && break; sleep 0.05; done
touch "$W/journal-ready"
for _ in $(seq 1 1200); do [ -e "$W/journal-stop" ] && break; sleep 0.05; done
# journald reads /dev/kmsg on its own time (seconds behind on a busy machine): wait until the LOG lines stop coming
last=-1
for _ in $(seq 1 50); do
    n=$(journalctl -k -o cat --no-pager 2>/dev/null | grep -c 'TCP-OUT')
    [ "$n" -gt 0 ] && [ "$n" -eq "$last" ] && break
    last=$n
    sleep 0.2
done
journalctl -k -o json --no-pager > "$W/journal.json"
kill $J; wait $J
touch "$W/journal-done"
EOF
unshare --mount --fork bash "$W/journal.sh" "$W" </dev/null >"$W/journal-ns.log" 2>&1 &
J_PID=$!

netns() { # netns NAME N: a namespace with a veth eth0 at NET.N/24 and a default route (the SYNs go nowhere)
    ip netns add "$1" || exit 1
    NSS+=("$1")
    ip -n "$1" link set lo up
    ip -n "$1" link add eth0 type veth peer name peer0
    ip -n "$1" link set peer0 up
    ip -n "$1" addr add "$NET.$2/24" dev eth0
    ip -n "$1" link set eth0 up
    ip -n "$1" route add default via "$NET.254"
}

connect() { # connect NS HOST...: uid 1001 connects to HOST:25 (a dropped SYN; the attempt gives up after 0.3 s)
    local ns=$1; shift
    timeout 10 ip netns exec "$ns" setpriv --reuid=1001 --regid=1001 --clear-groups /usr/bin/python3 "$TX" connect 0.3 "${@/%/:25}"
}

for _ in $(seq 1 100); do [[ -e $W/journal-ready ]] && break; sleep 0.05; done
[[ -e $W/journal-ready ]] || { log "journald did not start: $(cat "$W/journald.log" "$W/journal-ns.log")"; exit 1; }

if [[ $MODE == frontends ]]; then
    # iptables-nft, from the copy-paste commands
    netns "mge-ipt-$ID" 1
    mg --front-end iptables > "$W/iptables.sh" && ip netns exec "mge-ipt-$ID" bash -e "$W/iptables.sh" || { log "iptables rules did not load"; exit 1; }
    echo "iptables" >> "$W/loaded.txt"
    # nft
    netns "mge-nft-$ID" 2
    mg --front-end nft > "$W/mailguard.nft" && ip netns exec "mge-nft-$ID" nft -f "$W/mailguard.nft" || { log "nft rules did not load"; exit 1; }
    echo "nft" >> "$W/loaded.txt"
    # ufw: its own copy of /etc/ufw, /lib/ufw and /etc/default in a mount namespace; the lines go after '# End required lines'
    if command -v ufw >/dev/null; then
        netns "mge-ufw-$ID" 3
        mg --front-end ufw > "$W/ufw.rules"
        cat > "$W/ufw.sh" <<'EOF'
set -e
W=$1 NS=$2
mount --make-rprivate /
for d in /etc/ufw /lib/ufw /etc/default; do
    mkdir -p "$W/root$d"; cp -a "$d/." "$W/root$d/"; mount --bind "$W/root$d" "$d"
done
# the block under "# ----- FILE -----" goes into FILE
awk -v d="$W" '/^# ----- \/etc\/ufw\/before6?\.rules -----$/ { f = d "/" substr($3, 10) } f { print > f }' "$W/ufw.rules"
for f in before.rules before6.rules; do
    sed -i "/^# End required lines/r $W/$f" "/etc/ufw/$f"
done
ip netns exec "$NS" ufw --force enable
EOF
        if unshare --mount --fork bash "$W/ufw.sh" "$W" "mge-ufw-$ID" >"$W/ufw.log" 2>&1; then
            echo "ufw" >> "$W/loaded.txt"
        else
            log "ufw did not load the rules: $(cat "$W/ufw.log")"; exit 1
        fi
    fi
    # firewalld: a private system bus and firewalld (nftables backend) serving the namespace, while the traffic runs
    if command -v firewalld >/dev/null && command -v firewall-cmd >/dev/null && command -v dbus-daemon >/dev/null; then
        netns "mge-fwd-$ID" 4
        mg --front-end firewalld > "$W/firewalld.sh"
        cat > "$W/fwd.sh" <<'EOF'
W=$1 NS=$2
mount --make-rprivate /
mkdir -p /run/dbus /run/firewalld
for d in /run/dbus /run/firewalld /var/log /etc/firewalld; do mount -t tmpfs tmpfs "$d"; done
printf 'DefaultZone=public\nFirewallBackend=nftables\nCleanupOnExit=yes\nIndividualCalls=no\nLogDenied=off\n' > /etc/firewalld/firewalld.conf
dbus-daemon --system --nofork --nopidfile >"$W/dbus.log" 2>&1 &
D=$!
for _ in $(seq 1 100); do [ -S /run/dbus/system_bus_socket ] && break; sleep 0.05; done
ip netns exec "$NS" firewalld --nofork --nopid >"$W/firewalld.log" 2>&1 &
F=$!
for _ in $(seq 1 450); do firewall-cmd --state >/dev/null 2>&1 && break; sleep 0.1; done
if bash -e "$W/firewalld.sh" >"$W/firewall-cmd.log" 2>&1; then touch "$W/fw-ready"; else touch "$W/fw-failed"; fi
for _ in $(seq 1 600); do [ -e "$W/fw-done" ] && break; sleep 0.05; done
kill $F; wait $F; kill $D; wait $D
EOF
        unshare --mount --fork bash "$W/fwd.sh" "$W" "mge-fwd-$ID" </dev/null >"$W/fwd-ns.log" 2>&1 &
        FW_PID=$!
        for _ in $(seq 1 1800); do [[ -e $W/fw-ready || -e $W/fw-failed ]] && break; sleep 0.05; done # past the 45 s firewalld may take to start on a loaded machine
        [[ -e $W/fw-ready ]] || { log "firewalld did not load the rules: $(cat "$W/firewall-cmd.log" "$W/firewalld.log" 2>/dev/null | tail -5)"; exit 1; }
        echo "firewalld" >> "$W/loaded.txt"
    fi
    # the README's rules, without --log-uid and without a limit: for --check only
    netns "mge-bad-$ID" 5
    ip netns exec "mge-bad-$ID" iptables -A OUTPUT -p tcp --dport 25 -j LOG --log-prefix "IPTABLES TCP-OUT 25:"
    ip netns exec "mge-bad-$ID" iptables -A OUTPUT -p tcp --dport 25 -j DROP

    sysctl -qw net.netfilter.nf_log_all_netns=1
    connect "mge-ipt-$ID" 198.51.100.11 198.51.100.12
    connect "mge-nft-$ID" 198.51.100.21 198.51.100.22
    [[ -e $W/root/etc/ufw ]] && connect "mge-ufw-$ID" 198.51.100.31 198.51.100.32
    [[ -e $W/fw-ready ]] && connect "mge-fwd-$ID" 198.51.100.41 198.51.100.42
    sysctl -qw net.netfilter.nf_log_all_netns=0

    for ns in ipt nft bad; do
        ip netns exec "mge-$ns-$ID" dotnet "$MG" rules --check > "$W/check-$ns.txt" 2>&1
        echo $? > "$W/check-$ns.rc"
    done
    touch "$W/fw-done"
else
    if [[ ! -d $CG/system.slice ]]; then mkdir "$CG/system.slice" && MADE_SLICE=1; fi
    for s in a b; do
        if [[ ! -d $CG/system.slice/$s.service ]]; then mkdir "$CG/system.slice/$s.service" && CGS+=("$CG/system.slice/$s.service"); fi
    done
    netns "mge-si-$ID" 6
    mg --front-end iptables-restore --per-service a.service b.service > "$W/services.rules"
    ip netns exec "mge-si-$ID" iptables-restore -n < "$W/services.rules" && ip netns exec "mge-si-$ID" ip6tables-restore -n < "$W/services.rules" || { log "iptables-restore failed"; exit 1; }
    netns "mge-sn-$ID" 7
    mg --front-end nft --per-service a.service b.service > "$W/services.nft"
    # nft names a cgroup by its path under /sys/fs/cgroup, which `ip netns exec` remounts: cgroup v2 goes back there first
    ip netns exec "mge-sn-$ID" sh -c "mount -t cgroup2 cgroup2 /sys/fs/cgroup && nft -f '$W/services.nft'" || { log "nft -f failed"; exit 1; }

    in_service() { # in_service UNIT NS HOST...: connect from the unit's cgroup (a socket belongs to its creator's cgroup)
        local unit=$1 ns=$2; shift 2
        bash -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$CG/system.slice/$unit" \
            timeout 10 ip netns exec "$ns" setpriv --reuid=1001 --regid=1001 --clear-groups /usr/bin/python3 "$TX" connect 0.3 "${@/%/:25}"
    }
    sysctl -qw net.netfilter.nf_log_all_netns=1
    for ns in si sn; do
        in_service a.service "mge-$ns-$ID" 198.51.100.61 198.51.100.62
        in_service b.service "mge-$ns-$ID" 198.51.100.71 198.51.100.72 198.51.100.73
        connect "mge-$ns-$ID" 198.51.100.81
    done
    sysctl -qw net.netfilter.nf_log_all_netns=0
fi

touch "$W/journal-stop"
for _ in $(seq 1 200); do [[ -e $W/journal-done ]] && break; sleep 0.1; done
[[ -s $W/journal.json ]] || { log "the journal was not written out"; exit 1; }
exit 0
