#!/usr/bin/env python3
"""Traffic generator used by capture.sh (runs inside a network namespace).

  tx.py connect TIMEOUT HOST:PORT...   TCP connect() to each target in turn; a
                                       dropped SYN is retransmitted by the kernel
                                       until TIMEOUT seconds have passed. If the
                                       connection succeeds, read the banner, send
                                       QUIT, read the reply, close.
  tx.py udp HOST:PORT...               send one small UDP datagram to each target
  tx.py listen SECONDS PORT...         accept TCP on 0.0.0.0 and [::] for the
                                       ports; answer with an SMTP banner; exit after
                                       SECONDS (bounded)
HOST may be IPv4 or IPv6 (IPv6 written as [addr]:port).
"""
import select
import socket
import sys
import time


def split(target):
    if target.startswith("["):
        host, _, port = target[1:].partition("]:")
        return socket.AF_INET6, host, int(port)
    host, _, port = target.rpartition(":")
    return socket.AF_INET, host, int(port)


def do_connect(timeout, targets):
    for t in targets:
        fam, host, port = split(t)
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect((host, port))
            s.recv(512)
            s.sendall(b"QUIT\r\n")
            s.recv(512)
        except OSError:
            pass
        finally:
            s.close()


def do_udp(targets):
    for t in targets:
        fam, host, port = split(t)
        s = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            s.sendto(b"mg-probe\n", (host, port))
        except OSError:
            pass
        finally:
            s.close()


def do_listen(seconds, ports):
    socks = []
    for port in ports:
        for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, port))
            s.listen(16)
            socks.append(s)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r, _, _ = select.select(socks, [], [], 0.5)
        for ls in r:
            c, _ = ls.accept()
            c.settimeout(2)
            try:
                c.sendall(b"220 mx.example.net ESMTP\r\n")
                c.recv(512)
                c.sendall(b"221 2.0.0 Bye\r\n")
            except OSError:
                pass
            finally:
                c.close()


def main():
    cmd = sys.argv[1]
    if cmd == "connect":
        do_connect(float(sys.argv[2]), sys.argv[3:])
    elif cmd == "udp":
        do_udp(sys.argv[2:])
    elif cmd == "listen":
        do_listen(float(sys.argv[2]), [int(p) for p in sys.argv[3:]])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
