# mgscan rules (firewalld, permanent direct rules): log new outgoing connections to mail ports 25, 465, 587, 2525 with the sender's UID, 10/second (burst 50) at most per rule, then drop them except those of postfix.
# Services logged under their own prefix (their cgroup system.slice/UNIT): v2ray.service as 'TCP-OUT 25 v2ray:', shadowsocks-libev.service as 'TCP-OUT 25 shadowsocks-li:'
# Read the log with: mgscan /var/log/kern.log (or journalctl -k | mgscan)
# firewalld's rich rules and policies cannot log the UID, so these are direct rules (iptables syntax; with
# the nftables backend firewalld loads them with iptables-nft). Run as root; they apply after the reload.
firewall-cmd --permanent --direct --add-chain ipv4 filter MAILGUARD-OUT
firewall-cmd --permanent --direct --add-chain ipv4 filter MAILGUARD-LOG
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 0 -p tcp --dport 25 -m cgroup --path system.slice/v2ray.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 25 v2ray:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 1 -p tcp --dport 25 -m cgroup --path system.slice/v2ray.service -j RETURN
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 2 -p tcp --dport 25 -m cgroup --path system.slice/shadowsocks-libev.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 25 shadowsocks-li:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 3 -p tcp --dport 25 -m cgroup --path system.slice/shadowsocks-libev.service -j RETURN
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 4 -p tcp --dport 25 -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'IPTABLES TCP-OUT 25:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 5 -p tcp --dport 465 -m cgroup --path system.slice/v2ray.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 465 v2ray:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 6 -p tcp --dport 465 -m cgroup --path system.slice/v2ray.service -j RETURN
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 7 -p tcp --dport 465 -m cgroup --path system.slice/shadowsocks-libev.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 465 shadowsocks-li:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 8 -p tcp --dport 465 -m cgroup --path system.slice/shadowsocks-libev.service -j RETURN
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 9 -p tcp --dport 465 -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'IPTABLES TCP-OUT 465:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 10 -p tcp --dport 587 -m cgroup --path system.slice/v2ray.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 587 v2ray:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 11 -p tcp --dport 587 -m cgroup --path system.slice/v2ray.service -j RETURN
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 12 -p tcp --dport 587 -m cgroup --path system.slice/shadowsocks-libev.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 587 shadowsocks-li:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 13 -p tcp --dport 587 -m cgroup --path system.slice/shadowsocks-libev.service -j RETURN
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 14 -p tcp --dport 587 -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'IPTABLES TCP-OUT 587:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 15 -p tcp --dport 2525 -m cgroup --path system.slice/v2ray.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 2525 v2ray:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 16 -p tcp --dport 2525 -m cgroup --path system.slice/v2ray.service -j RETURN
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 17 -p tcp --dport 2525 -m cgroup --path system.slice/shadowsocks-libev.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 2525 shadowsocks-li:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 18 -p tcp --dport 2525 -m cgroup --path system.slice/shadowsocks-libev.service -j RETURN
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-LOG 19 -p tcp --dport 2525 -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'IPTABLES TCP-OUT 2525:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-OUT 0 -p tcp --syn -j MAILGUARD-LOG
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-OUT 1 -m owner --uid-owner postfix -j ACCEPT
firewall-cmd --permanent --direct --add-rule ipv4 filter MAILGUARD-OUT 2 -j DROP
firewall-cmd --permanent --direct --add-rule ipv4 filter OUTPUT 0 -p tcp -m multiport --dports 25,465,587,2525 -j MAILGUARD-OUT
firewall-cmd --permanent --direct --add-chain ipv6 filter MAILGUARD-OUT
firewall-cmd --permanent --direct --add-chain ipv6 filter MAILGUARD-LOG
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 0 -p tcp --dport 25 -m cgroup --path system.slice/v2ray.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 25 v2ray:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 1 -p tcp --dport 25 -m cgroup --path system.slice/v2ray.service -j RETURN
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 2 -p tcp --dport 25 -m cgroup --path system.slice/shadowsocks-libev.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 25 shadowsocks-li:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 3 -p tcp --dport 25 -m cgroup --path system.slice/shadowsocks-libev.service -j RETURN
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 4 -p tcp --dport 25 -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'IPTABLES TCP-OUT 25:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 5 -p tcp --dport 465 -m cgroup --path system.slice/v2ray.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 465 v2ray:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 6 -p tcp --dport 465 -m cgroup --path system.slice/v2ray.service -j RETURN
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 7 -p tcp --dport 465 -m cgroup --path system.slice/shadowsocks-libev.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 465 shadowsocks-li:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 8 -p tcp --dport 465 -m cgroup --path system.slice/shadowsocks-libev.service -j RETURN
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 9 -p tcp --dport 465 -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'IPTABLES TCP-OUT 465:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 10 -p tcp --dport 587 -m cgroup --path system.slice/v2ray.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 587 v2ray:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 11 -p tcp --dport 587 -m cgroup --path system.slice/v2ray.service -j RETURN
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 12 -p tcp --dport 587 -m cgroup --path system.slice/shadowsocks-libev.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 587 shadowsocks-li:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 13 -p tcp --dport 587 -m cgroup --path system.slice/shadowsocks-libev.service -j RETURN
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 14 -p tcp --dport 587 -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'IPTABLES TCP-OUT 587:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 15 -p tcp --dport 2525 -m cgroup --path system.slice/v2ray.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 2525 v2ray:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 16 -p tcp --dport 2525 -m cgroup --path system.slice/v2ray.service -j RETURN
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 17 -p tcp --dport 2525 -m cgroup --path system.slice/shadowsocks-libev.service -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'TCP-OUT 2525 shadowsocks-li:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 18 -p tcp --dport 2525 -m cgroup --path system.slice/shadowsocks-libev.service -j RETURN
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-LOG 19 -p tcp --dport 2525 -m limit --limit 10/second --limit-burst 50 -j LOG --log-prefix 'IPTABLES TCP-OUT 2525:' --log-uid
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-OUT 0 -p tcp --syn -j MAILGUARD-LOG
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-OUT 1 -m owner --uid-owner postfix -j ACCEPT
firewall-cmd --permanent --direct --add-rule ipv6 filter MAILGUARD-OUT 2 -j DROP
firewall-cmd --permanent --direct --add-rule ipv6 filter OUTPUT 0 -p tcp -m multiport --dports 25,465,587,2525 -j MAILGUARD-OUT
firewall-cmd --reload
