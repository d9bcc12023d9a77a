# mgscan rules (iptables and ip6tables commands, run as root): log new outgoing connections to mail ports 25, 465, 587, 2525 with the sender's UID, 10/second (burst 50) at most per rule, then drop them except those of postfix.
# Services logged under their own prefix (their cgroup system.slice/UNIT): v2ray.service as 'TCP-OUT 25 v2ray:', shadowsocks-libev.service as 'TCP-OUT 25 shadowsocks-li:'
# Read the log with: mgscan /var/log/kern.log (or journalctl -k | mgscan)
# Keep them across reboots: iptables-save > /etc/iptables/rules.v4; ip6tables-save > /etc/iptables/rules.v6 (Debian,
# iptables-persistent), or service iptables save; service ip6tables save (RHEL, iptables-services).
iptables -N MAILGUARD-OUT
iptables -N MAILGUARD-LOG
iptables -A MAILGUARD-LOG -p tcp --dport 25 -m cgroup --path system.slice/v2ray.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 25 v2ray:' --log-uid
iptables -A MAILGUARD-LOG -p tcp --dport 25 -m cgroup --path system.slice/v2ray.service -j RETURN
iptables -A MAILGUARD-LOG -p tcp --dport 25 -m cgroup --path system.slice/shadowsocks-libev.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 25 shadowsocks-li:' --log-uid
iptables -A MAILGUARD-LOG -p tcp --dport 25 -m cgroup --path system.slice/shadowsocks-libev.service -j RETURN
iptables -A MAILGUARD-LOG -p tcp --dport 25 -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'IPTABLES TCP-OUT 25:' --log-uid
iptables -A MAILGUARD-LOG -p tcp --dport 465 -m cgroup --path system.slice/v2ray.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 465 v2ray:' --log-uid
iptables -A MAILGUARD-LOG -p tcp --dport 465 -m cgroup --path system.slice/v2ray.service -j RETURN
iptables -A MAILGUARD-LOG -p tcp --dport 465 -m cgroup --path system.slice/shadowsocks-libev.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 465 shadowsocks-li:' --log-uid
iptables -A MAILGUARD-LOG -p tcp --dport 465 -m cgroup --path system.slice/shadowsocks-libev.service -j RETURN
iptables -A MAILGUARD-LOG -p tcp --dport 465 -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'IPTABLES TCP-OUT 465:' --log-uid
iptables -A MAILGUARD-LOG -p tcp --dport 587 -m cgroup --path system.slice/v2ray.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 587 v2ray:' --log-uid
iptables -A MAILGUARD-LOG -p tcp --dport 587 -m cgroup --path system.slice/v2ray.service -j RETURN
iptables -A MAILGUARD-LOG -p tcp --dport 587 -m cgroup --path system.slice/shadowsocks-libev.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 587 shadowsocks-li:' --log-uid
iptables -A MAILGUARD-LOG -p tcp --dport 587 -m cgroup --path system.slice/shadowsocks-libev.service -j RETURN
iptables -A MAILGUARD-LOG -p tcp --dport 587 -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'IPTABLES TCP-OUT 587:' --log-uid
iptables -A MAILGUARD-LOG -p tcp --dport 2525 -m cgroup --path system.slice/v2ray.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 2525 v2ray:' --log-uid
iptables -A MAILGUARD-LOG -p tcp --dport 2525 -m cgroup --path system.slice/v2ray.service -j RETURN
iptables -A MAILGUARD-LOG -p tcp --dport 2525 -m cgroup --path system.slice/shadowsocks-libev.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 2525 shadowsocks-li:' --log-uid
iptables -A MAILGUARD-LOG -p tcp --dport 2525 -m cgroup --path system.slice/shadowsocks-libev.service -j RETURN
iptables -A MAILGUARD-LOG -p tcp --dport 2525 -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'IPTABLES TCP-OUT 2525:' --log-uid
iptables -A MAILGUARD-OUT -p tcp --syn -j MAILGUARD-LOG
iptables -A MAILGUARD-OUT -m owner --uid-owner postfix -j ACCEPT
iptables -A MAILGUARD-OUT -j DROP
iptables -I OUTPUT 1 -p tcp -m multiport --dports 25,465,587,2525 -j MAILGUARD-OUT
ip6tables -N MAILGUARD-OUT
ip6tables -N MAILGUARD-LOG
ip6tables -A MAILGUARD-LOG -p tcp --dport 25 -m cgroup --path system.slice/v2ray.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 25 v2ray:' --log-uid
ip6tables -A MAILGUARD-LOG -p tcp --dport 25 -m cgroup --path system.slice/v2ray.service -j RETURN
ip6tables -A MAILGUARD-LOG -p tcp --dport 25 -m cgroup --path system.slice/shadowsocks-libev.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 25 shadowsocks-li:' --log-uid
ip6tables -A MAILGUARD-LOG -p tcp --dport 25 -m cgroup --path system.slice/shadowsocks-libev.service -j RETURN
ip6tables -A MAILGUARD-LOG -p tcp --dport 25 -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'IPTABLES TCP-OUT 25:' --log-uid
ip6tables -A MAILGUARD-LOG -p tcp --dport 465 -m cgroup --path system.slice/v2ray.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 465 v2ray:' --log-uid
ip6tables -A MAILGUARD-LOG -p tcp --dport 465 -m cgroup --path system.slice/v2ray.service -j RETURN
ip6tables -A MAILGUARD-LOG -p tcp --dport 465 -m cgroup --path system.slice/shadowsocks-libev.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 465 shadowsocks-li:' --log-uid
ip6tables -A MAILGUARD-LOG -p tcp --dport 465 -m cgroup --path system.slice/shadowsocks-libev.service -j RETURN
ip6tables -A MAILGUARD-LOG -p tcp --dport 465 -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'IPTABLES TCP-OUT 465:' --log-uid
ip6tables -A MAILGUARD-LOG -p tcp --dport 587 -m cgroup --path system.slice/v2ray.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 587 v2ray:' --log-uid
ip6tables -A MAILGUARD-LOG -p tcp --dport 587 -m cgroup --path system.slice/v2ray.service -j RETURN
ip6tables -A MAILGUARD-LOG -p tcp --dport 587 -m cgroup --path system.slice/shadowsocks-libev.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 587 shadowsocks-li:' --log-uid
ip6tables -A MAILGUARD-LOG -p tcp --dport 587 -m cgroup --path system.slice/shadowsocks-libev.service -j RETURN
ip6tables -A MAILGUARD-LOG -p tcp --dport 587 -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'IPTABLES TCP-OUT 587:' --log-uid
ip6tables -A MAILGUARD-LOG -p tcp --dport 2525 -m cgroup --path system.slice/v2ray.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 2525 v2ray:' --log-uid
ip6tables -A MAILGUARD-LOG -p tcp --dport 2525 -m cgroup --path system.slice/v2ray.service -j RETURN
ip6tables -A MAILGUARD-LOG -p tcp --dport 2525 -m cgroup --path system.slice/shadowsocks-libev.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 2525 shadowsocks-li:' --log-uid
ip6tables -A MAILGUARD-LOG -p tcp --dport 2525 -m cgroup --path system.slice/shadowsocks-libev.service -j RETURN
ip6tables -A MAILGUARD-LOG -p tcp --dport 2525 -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'IPTABLES TCP-OUT 2525:' --log-uid
ip6tables -A MAILGUARD-OUT -p tcp --syn -j MAILGUARD-LOG
ip6tables -A MAILGUARD-OUT -m owner --uid-owner postfix -j ACCEPT
ip6tables -A MAILGUARD-OUT -j DROP
ip6tables -I OUTPUT 1 -p tcp -m multiport --dports 25,465,587,2525 -j MAILGUARD-OUT
