# The VPS of apps.sh: runs inside `ip netns exec mg-avps unshare --mount --uts --fork`.
#   bash vps.sh WORK HERE postfix            Postfix, V2Ray, two ss-server
#   bash vps.sh WORK HERE exim EXIM_ROOT     Exim (unpacked from Debian's packages in EXIM_ROOT)
# Overlays /etc and /var (and /usr for Exim; every change is written under WORK and dropped at the
# end), puts a private tmpfs on /dev and /run, sets the hostname, then runs the real programs as
# Debian starts them: rsyslogd with Debian's own /etc/rsyslog.conf, Postfix (configure-instance.sh +
# postfix start, the way postfix@-.service does) or Exim (exim4 -bd -q30m, as its init script), V2Ray,
# two ss-server instances. Waits for WORK/stop (bounded), stops them, copies the logs to WORK/out.
set -u
W=$1 H=$2 MTA=$3 EXIM_ROOT=${4:-}
export TZ=UTC LC_ALL=C PATH=/usr/sbin:/usr/bin:/sbin:/bin
log() { echo "vps.sh: $*" >&2; }
mount --make-rprivate /
hostname vps01
mkdir -p "$W/ov/etc-up" "$W/ov/etc-wk" "$W/ov/var-up" "$W/ov/var-wk"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$W/ov/etc-up,workdir=$W/ov/etc-wk" /etc || exit 1
mount -t overlay overlay -o "lowerdir=/var,upperdir=$W/ov/var-up,workdir=$W/ov/var-wk" /var || exit 1
if [ "$MTA" = exim ]; then
    mkdir -p "$W/ov/usr-up" "$W/ov/usr-wk"
    mount -t overlay overlay -o "lowerdir=/usr,upperdir=$W/ov/usr-up,workdir=$W/ov/usr-wk" /usr || exit 1
fi
mount -t tmpfs -o mode=755 tmpfs /run || exit 1
mount -t tmpfs -o mode=755 tmpfs /dev || exit 1
mknod -m 666 /dev/null c 1 3; mknod -m 666 /dev/zero c 1 5; mknod -m 666 /dev/full c 1 7
mknod -m 666 /dev/random c 1 8; mknod -m 666 /dev/urandom c 1 9; mknod -m 666 /dev/tty c 5 0
ln -s /proc/self/fd /dev/fd; ln -s /proc/self/fd/0 /dev/stdin; ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd/2 /dev/stderr
mkdir -m 1777 /dev/shm
echo $$ > "$W/pids/vps"

# --- accounts (in the overlay only) -----------------------------------------------------------
useradd -u 1801 -U -d /var/www -M -s /bin/sh -c 'web application' webapp
useradd -u 1802 -U -d /nonexistent -M -s /usr/sbin/nologin -r v2ray
useradd -u 1803 -U -d /nonexistent -M -s /usr/sbin/nologin -r shadowsocks
echo "vps01.example.net" > /etc/mailname
cat "$H/hosts" > /etc/hosts
# DNS only inside the namespaces: 192.0.2.1 (mg-amx) answers every query "no such name" (dns.py)
rm -f /etc/resolv.conf && echo "nameserver 192.0.2.1" > /etc/resolv.conf

# --- the web application: a cron script and two PHP scripts ------------------------------------
install -d -o webapp -g webapp /var/www /var/www/bin /var/www/html /var/www/html/wp-content/uploads/2026/12
install -m 755 -o webapp -g webapp "$H/www/nightly-report.sh" /var/www/bin/nightly-report.sh
install -m 644 -o webapp -g webapp "$H/www/contact.php" /var/www/html/contact.php
install -m 644 -o webapp -g webapp "$H/www/cache.php" /var/www/html/wp-content/uploads/2026/12/cache.php
install -d -o webapp -g webapp /var/log/php
install -m 644 "$H/php-mail.ini" /etc/php/8.2/cli/conf.d/99-mail.ini

# --- the MTA ---------------------------------------------------------------------------------------
if [ "$MTA" = postfix ]; then
    postconf -e \
        'myhostname = vps01.example.net' \
        'mydestination = $myhostname, localhost' \
        'inet_interfaces = all' \
        'inet_protocols = ipv4' \
        'mynetworks = 127.0.0.0/8 203.0.113.79/32' \
        'smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated reject_unauth_destination' \
        'smtp_dns_support_level = disabled' \
        'smtp_host_lookup = native' \
        "transport_maps = inline:{ $(tr '\n' ',' < "$H/transport" | sed 's/,$//') }" \
        'default_transport = smtp' \
        'relay_transport = relay' || exit 1
    # submission (587) for the office network, without SASL (the relay is by mynetworks)
    postconf -M 'submission/inet=submission inet n - y - - smtpd'
    postconf -P 'submission/inet/syslog_name=postfix/submission' \
        'submission/inet/smtpd_tls_security_level=may' \
        'submission/inet/smtpd_relay_restrictions=permit_mynetworks,reject'
    newaliases
    /usr/lib/postfix/configure-instance.sh - || log "configure-instance.sh failed"

else
    . "$H/exim-setup.sh"
    exim_setup "$EXIM_ROOT" || { log "exim setup failed"; exit 1; }
fi

# --- rsyslog: Debian's /etc/rsyslog.conf as installed (imuxsock /dev/log, imklog) ----------------
# Debian 11's rsyslog.conf had the first line (Debian 12 writes RFC 3339 stamps by default); the second
# writes the same mail lines with RFC 3339 stamps as well
cat > /etc/rsyslog.d/00-traditional.conf <<'RS'
$ActionFileDefaultTemplate RSYSLOG_TraditionalFileFormat
mail.* -/var/log/mail-rfc3339.log;RSYSLOG_FileFormat
RS
python3 "$H/../kmsg.py" drain-proc > "$W/drained.bytes"
rsyslogd -n -f /etc/rsyslog.conf -i /run/rsyslogd.pid </dev/null >"$W/rsyslog.stderr" 2>&1 &
echo $! > "$W/pids/rsyslog"
for i in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
[ -S /dev/log ] || { log "no /dev/log"; exit 1; }

if [ "$MTA" = postfix ]; then
    postfix start >"$W/postfix.stderr" 2>&1 || { log "postfix start failed"; cat "$W/postfix.stderr" >&2; }
else
    exim4 -bdf -q30m </dev/null >"$W/exim.stderr" 2>&1 &
    echo $! > "$W/pids/exim"
fi

# --- the proxies (with Postfix only) -----------------------------------------------------------------
if [ "$MTA" = postfix ]; then
    # --- V2Ray ----------------------------------------------------------------------------------------
    install -d -o v2ray -g v2ray /var/log/v2ray
    install -m 644 "$H/v2ray-server.json" /etc/v2ray/config.json
    setpriv --reuid=v2ray --regid=v2ray --init-groups env V2RAY_LOCATION_ASSET=/etc/v2ray \
        /usr/bin/v2ray -config /etc/v2ray/config.json </dev/null >"$W/v2ray.stdout" 2>&1 &
    echo $! > "$W/pids/v2ray"

    # --- shadowsocks-libev: one ss-server per user (port), as shadowsocks-libev-server@NAME does -----
    install -d -o shadowsocks -g shadowsocks /var/log/shadowsocks
    for u in carol dave; do
        install -m 644 "$H/ss-$u.json" "/etc/shadowsocks-libev/$u.json"
        setpriv --reuid=shadowsocks --regid=shadowsocks --init-groups \
            /usr/bin/ss-server -c "/etc/shadowsocks-libev/$u.json" -v </dev/null >>/var/log/shadowsocks/ss-server.log 2>&1 &
        echo $! > "$W/pids/ss-$u"
    done
fi

sleep 1
touch "$W/vps.ready"
i=0
while [ ! -e "$W/stop" ] && [ $i -lt 4000 ]; do sleep 0.1; i=$((i + 1)); done

# --- stop, copy the logs out ------------------------------------------------------------------
[ "$MTA" = postfix ] && postfix stop >>"$W/postfix.stderr" 2>&1
for n in v2ray ss-carol ss-dave exim; do [ -e "$W/pids/$n" ] && kill "$(cat "$W/pids/$n")" 2>/dev/null; done
sleep 2
kill "$(cat "$W/pids/rsyslog")" 2>/dev/null
sleep 1
mkdir -p "$W/out"
for f in kern.log mail.log mail-rfc3339.log syslog v2ray/access.log v2ray/error.log shadowsocks/ss-server.log php/mail.log \
    exim4/mainlog exim4/rejectlog exim4/paniclog; do
    [ -e "/var/log/$f" ] && cp "/var/log/$f" "$W/out/$(echo "$f" | tr / -)"
done
if [ "$MTA" = postfix ]; then postqueue -p; else exim4 -bp; fi > "$W/out/queue.txt" 2>&1
touch "$W/vps.done"
