#!/usr/bin/python3
"""The only DNS server apps.sh's namespaces can reach (192.0.2.1:53 in mg-amx): it answers every query
with "no such name" (NXDOMAIN), at once, so that the VPS's lookups fail the way a name without records
does instead of waiting for a timeout (Postfix's and Exim's reverse lookups of their clients, Exim's
host lookups before /etc/hosts). No answer is ever made up.

  dns.py ADDRESS SECONDS
"""
import socket
import sys
import time

addr, seconds = sys.argv[1], float(sys.argv[2])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((addr, 53))
end = time.monotonic() + seconds
while (left := end - time.monotonic()) > 0:
    sock.settimeout(left)
    try:
        query, peer = sock.recvfrom(512)
    except socket.timeout:
        break
    if len(query) < 12:
        continue
    # same ID and question; QR=1, opcode and RD copied, RA=1, RCODE=3; no answer records
    flags = 0x8000 | (query[2] & 0x79) << 8 | 0x80 | 3
    reply = query[:2] + flags.to_bytes(2, "big") + query[4:6] + b"\0\0\0\0\0\0" + query[12:]
    sock.sendto(reply, peer)
