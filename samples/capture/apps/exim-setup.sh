# Exim 4 as Debian installs it, for vps.sh (sourced, inside the VPS's mount namespace, as root).
#   exim_setup EXIM_ROOT   EXIM_ROOT: exim4-base, exim4-config and exim4-daemon-light unpacked with dpkg -x
# /usr, /etc and /var are overlays here: the files go where the packages put them, and what their
# maintainer scripts would do is done by hand — the Debian-exim user, the spool and log folders,
# update-exim4.conf.conf (the debconf answers: an "internet site", split configuration, listening on 25
# and 587), then update-exim4.conf writes the configuration. Three changes an admin makes: the domains
# are routed with Debian's hubbed_hosts file, and a DNS failure counts as "no such name" so that the host
# names are found in /etc/hosts (there is no DNS here); SMTP AUTH PLAIN against /etc/exim4/passwd is
# enabled without TLS (Debian's own example authenticator and macro). Everything else is Debian's.
exim_setup() {
    local R=$1
    cp -a "$R/usr/." /usr/ && cp -a "$R/etc/." /etc/ && cp -a "$R/var/." /var/ || return 1
    useradd -r -U -d /var/spool/exim4 -M -s /usr/sbin/nologin Debian-exim || return 1
    install -d -o Debian-exim -g Debian-exim -m 750 /var/spool/exim4 /var/log/exim4
    install -d -o Debian-exim -g Debian-exim -m 755 /run/exim4
    cat > /etc/exim4/update-exim4.conf.conf <<'CONF'
dc_eximconfig_configtype='internet'
dc_other_hostnames='vps01.example.net'
dc_local_interfaces='<; [0.0.0.0]:25 ; [0.0.0.0]:587'
dc_readhost=''
dc_relay_domains=''
dc_minimaldns='false'
dc_relay_nets=''
dc_smarthost=''
CFILEMODE='644'
dc_use_split_config='true'
dc_hide_mailname=''
dc_mailname_in_oh='true'
dc_localdelivery='mail_spool'
CONF
    cat > /etc/exim4/hubbed_hosts <<'HUB'
example.com: mx1.example.com
example.net: mx.example.net
example.org: mail.example.org
shop.example.com: mx.shop.example.com
news.example.org: mx.news.example.org
dead.example.net: mx.dead.example.net
HUB
    echo 'AUTH_SERVER_ALLOW_NOTLS_PASSWORDS = true' > /etc/exim4/conf.d/main/000_localmacros
    echo 'dns_again_means_nonexist = *' > /etc/exim4/conf.d/main/04_exim4-config_nodns
    sed -i -e '/^# plain_server:/,/^#   .endif/s/^#//' /etc/exim4/conf.d/auth/30_exim4-config_examples
    # the office's login (the password stolen in the story); crypt(3) SHA-512 as Debian's example wants
    echo "office@example.org:$(openssl passwd -6 -salt mailguardsalt 'office-documentation-only-9e')" > /etc/exim4/passwd
    chown root:Debian-exim /etc/exim4/passwd && chmod 640 /etc/exim4/passwd
    echo vps01.example.net > /etc/mailname
    update-exim4.conf || return 1
    exim4 -bV >/dev/null || return 1
}
