#!/usr/bin/env python3
"""Build a central log server's file from several hosts' captures: samples/logs/central-mixed.log.

    python3 samples/capture/central.py                 # writes samples/logs/central-mixed.log
    python3 samples/capture/central.py --split DIR     # also DIR/HOST/kern.log per host, as rsyslog's
                                                       # $template RemoteLogs,"/var/log/remote/%HOSTNAME%/kern.log"
    python3 samples/capture/central.py --count         # count the written file's figures per host and UID, on
                                                       # its own (not with mgscan): what the tests pin
    python3 samples/capture/central.py --real          # samples/logs/central-real.log from the real captures below

Each source is one machine's log (samples/logs/incident-*.log, all on a host named vps01; written in real formats by
samples/incidents/make_incidents.py, with ground truth in samples/logs/incidents.json). Only the host field is rewritten (vps01 -> the new name), and for one host the form of the header: a central rsyslog that
received RFC 5424 and writes a traditional template prints the tag without its colon ("db-02 kernel [ 123.4] IN=…",
"db-02 postfix/qmgr[7066] A753…"). Nothing else in a line changes. The lines of all hosts are then merged in time
order (stable: equal times keep the sources' order), as the central server writes them as they arrive.

    web-17  incident-webshell.log  RFC 3164 traditional   uid 33 sends direct-to-MX spam
    vpn-03  incident-proxy.log     RFC 3339               clients behind wg0 relay spam
    db-02   incident-clean.log     RFC 3164, tag without colon   postfix only: nothing suspicious
"""
import argparse
import datetime as dt
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.path.join(HERE, "..", "logs")
SOURCES = [  # file, new host name, header form
    ("incident-webshell.log", "web-17", "traditional"),
    ("incident-proxy.log", "vpn-03", "rfc3339"),
    ("incident-clean.log", "db-02", "no-colon"),
]
# The real captures (rsyslog's files of real kernels, samples/logs/README.md and apps*/README.md), three machines:
#   mx-01   apps/kern.log        RFC 3164 traditional          postfix 102, v2ray 1802, shadowsocks 1803 (issue 15's capture)
#   mx-02   apps-exim/kern.log   RFC 3164, tag without colon   Debian-exim 999
#   web-03  kern-rfc3339.log     RFC 3339                      uid 33 and others (the first capture)
REAL = [
    ("apps/kern.log", "mx-01", "traditional"),
    ("apps-exim/kern.log", "mx-02", "no-colon"),
    ("kern-rfc3339.log", "web-03", "rfc3339"),
]
YEAR = 2026  # the captures' year (their traditional stamps have none); all stamps are UTC
TAG = re.compile(rb"^[A-Za-z0-9_./-]+(\[[0-9]+\])?:$")


def rewrite(line: bytes, host: str, form: str):
    """The line with its host (and for 'no-colon' its tag's colon) rewritten, and its time in UTC for the merge."""
    if form == "rfc3339":
        stamp, old, rest = line.split(b" ", 2)
        when = dt.datetime.fromisoformat(stamp.decode())
        head = stamp
    else:
        head, tail = line[:15], line[16:]
        old, rest = tail.split(b" ", 1)
        when = dt.datetime.strptime(f"{YEAR} {head.decode()}", "%Y %b %d %H:%M:%S").replace(tzinfo=dt.timezone.utc)
    if old != b"vps01":
        sys.exit(f"unexpected host {old!r} in {line[:80]!r}")
    if form == "no-colon":
        tag, _, msg = rest.partition(b" ")
        if TAG.match(tag):
            rest = tag[:-1] + b" " + msg
    return when, head + b" " + host.encode() + b" " + rest


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out")
    ap.add_argument("--real", action="store_true", help="from the real captures (REAL) into central-real.log")
    ap.add_argument("--split", metavar="DIR", help="also write DIR/HOST/kern.log for each host")
    ap.add_argument("--count", action="store_true", help="only count the figures of --out per host and UID")
    args = ap.parse_args()
    sources = REAL if args.real else SOURCES
    args.out = args.out or os.path.join(LOGS, "central-real.log" if args.real else "central-mixed.log")
    if args.count:
        count(args.out)
        return
    lines = []
    for index, (name, host, form) in enumerate(sources):
        with open(os.path.join(LOGS, name), "rb") as f:
            for number, raw in enumerate(f.read().split(b"\n")[:-1]):
                when, text = rewrite(raw, host, form)
                lines.append((when, index, number, host, text))
    lines.sort(key=lambda t: (t[0], t[1], t[2]))
    with open(args.out, "wb") as f:
        f.write(b"".join(t[4] + b"\n" for t in lines))
    if args.split:
        for _, host, _ in sources:
            os.makedirs(os.path.join(args.split, host), exist_ok=True)
            with open(os.path.join(args.split, host, "kern.log"), "wb") as f:
                f.write(b"".join(t[4] + b"\n" for t in lines if t[3] == host))
    print(f"{args.out}: {len(lines)} lines from {len(sources)} hosts")


def count(path):
    """Per host and per UID: entries (IPTABLES TCP-OUT lines), attempts (a packet of a flow — host, SRC, DST, SPT, DPT —
    not seen in the 2 minutes before: a retransmitted SYN counts once) and distinct destinations (DST=)."""
    figures, seen = {}, {}
    with open(path, "rb") as f:
        for raw in f:
            m = re.match(rb"^(\d{4}-\S+) (\S+) ", raw)
            if m:
                when, host = dt.datetime.fromisoformat(m.group(1).decode()), m.group(2).decode()
            else:
                when, _ = rewrite(raw[:16] + b"vps01 x", "", "traditional")
                host = raw[16:].split(b" ", 1)[0].decode()
            if not re.search(rb"IPTABLES TCP-OUT [0-9]+:IN=", raw):
                continue
            fields = dict(re.findall(rb"(\w+)=(\S*)", raw.split(b"TCP-OUT", 1)[1]))
            flow = (host, fields[b"SRC"], fields[b"DST"], fields[b"SPT"], fields[b"DPT"])
            new = flow not in seen or (when - seen[flow]).total_seconds() > 120
            seen[flow] = when
            for key in (host, f"{host} uid {fields.get(b'UID', b'-').decode()}"):
                c = figures.setdefault(key, [0, 0, set()])
                c[0] += 1
                c[1] += new
                c[2].add(fields[b"DST"])
    for key, (entries, attempts, destinations) in figures.items():
        print(f"{key:20} entries {entries:6} attempts {attempts:6} destinations {len(destinations):6}")


if __name__ == "__main__":
    main()
