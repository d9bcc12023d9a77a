#!/usr/bin/env python3
"""Writes six incident logs (samples/logs/incident-*) with their ground truth (samples/logs/incidents.json)
and an /etc/passwd excerpt (samples/logs/passwd).

Run from anywhere: python3 samples/incidents/make_incidents.py
Python 3 standard library only. Deterministic: every scenario has its own random.Random(seed) and nothing
else (no clock, no hash(), no set order) influences the output, so two runs write identical bytes.

The figures in incidents.json are counted by this generator while it builds the packets (each connection
attempt is an object that knows its packets); nothing is parsed back. check_incidents.py re-derives them
from the text independently.

See samples/incidents/README.md for the stories, the modelling choices and the figures.
"""

import calendar
import ipaddress
import json
import os
import random
from datetime import datetime, timezone

YEAR = 2026
US = 1_000_000  # all times are integer microseconds since the Unix epoch (UTC)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LOGS = os.path.join(REPO, "samples", "logs")

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def at(h, m=0, s=0.0, day=23, month=11):
    """2026-<month>-<day> h:m:s UTC in microseconds."""
    return calendar.timegm((YEAR, month, day, h, m, 0)) * US + int(round(s * US))


def utc(us):
    return datetime.fromtimestamp(us // US, tz=timezone.utc)


# ---------------------------------------------------------------------------------------------------------
# Wrappers (what the logging daemon puts around the kernel text)
# ---------------------------------------------------------------------------------------------------------

def hdr_rfc3164(us):
    d = utc(us)
    return f"{MONTHS[d.month - 1]} {d.day:2d} {d:%H:%M:%S}"


def hdr_rfc3339(us):
    d = utc(us)
    return f"{d:%Y-%m-%dT%H:%M:%S}.{us % US:06d}+00:00"


def hdr_short_iso(us):
    d = utc(us)
    return f"{d:%Y-%m-%dT%H:%M:%S}+0000"


class Wrapper:
    def __init__(self, key, log_format, header, precision, kernel_stamp, daemons, description):
        self.key = key
        self.log_format = log_format      # MailGuard's LogFormat name
        self.header = header
        self.precision = precision        # "s" or "us": what the header keeps of the time
        self.kernel_stamp = kernel_stamp  # "[uptime] " before the kernel text (rsyslog imklog)
        self.daemons = daemons            # other programs' lines in the file
        self.description = description


DEBIAN11_SYSLOG = Wrapper(
    "debian11-syslog", "Rfc3164", hdr_rfc3164, "s", True, True,
    "rsyslog 8.2102 RSYSLOG_TraditionalFileFormat, /var/log/syslog of Debian 11 (imklog keeps the [uptime] stamp)")
DEBIAN12_SYSLOG = Wrapper(
    "debian12-syslog", "Rfc3339", hdr_rfc3339, "us", True, True,
    "rsyslog 8.2302 RSYSLOG_FileFormat (RFC 3339, microseconds, +00:00), /var/log/syslog of Debian 12 (imklog keeps the [uptime] stamp)")
RHEL9_MESSAGES = Wrapper(
    "rhel9-messages", "Rfc3164", hdr_rfc3164, "s", False, True,
    "rsyslog RSYSLOG_TraditionalFileFormat via imjournal, /var/log/messages of RHEL 9 (no [uptime] stamp; *.info;mail.none;authpriv.none;cron.none)")
JOURNAL_SHORT_ISO = Wrapper(
    "journalctl-k-short-iso", "Rfc3339", hdr_short_iso, "s", False, False,
    "journalctl -k -o short-iso, systemd 252 (offset +0000 without colon, no [uptime] stamp, kernel messages only)")
UBUNTU2204_SYSLOG = Wrapper(
    "ubuntu2204-syslog", "Rfc3164", hdr_rfc3164, "s", True, True,
    "rsyslog 8.2112 RSYSLOG_TraditionalFileFormat, /var/log/syslog of Ubuntu 22.04 (imklog keeps the [uptime] stamp)")


def iso(us, precision):
    d = utc(us)
    if precision == "us":
        return f"{d:%Y-%m-%dT%H:%M:%S}.{us % US:06d}+00:00"
    return f"{d:%Y-%m-%dT%H:%M:%S}+00:00"


def v6(addr):
    """IPv6 as the kernel prints it (%pI6: 8 groups of 4 lower-case hex digits)."""
    return ipaddress.IPv6Address(addr).exploded


# ---------------------------------------------------------------------------------------------------------
# TCP stacks: how a client picks ports, IP IDs and when it retransmits a dropped SYN
# ---------------------------------------------------------------------------------------------------------

class Stack:
    """One sender's TCP/IP stack.

    os_kind:
      linux-exp     Linux < 6.5: SYN retransmitted after 1, 2, 4, 8, 16, 32 s (tcp_syn_retries = 6)
      linux-linear  Linux >= 6.5: tcp_syn_linear_timeouts = 4 -> 1, 1, 1, 1, 1, 2, 4, 8, 16, 32 s
      windows       Windows 10/11: initial RTO 3 s, 2 retransmissions -> +3 s, +6 s (connect fails at 21 s)
      apple         macOS / iOS: 1, 1, 1, 1, 1, 2, 4, 8, 16, 32 s
    Ports: Linux connect() picks even ports in 32768-60999; for one (destination, port) the next connect
    continues 2..16 above the last one (net/ipv4/inet_hashtables.c __inet_hash_connect, table_perturb);
    Windows counts up in 49152-65535, Apple picks at random in 49152-65535.
    IP ID: Linux per socket random start, +1 per retransmission; Windows one counter per host; Apple random.
    """

    GAPS = {
        "linux-exp": (1, 2, 4, 8, 16, 32),
        "linux-linear": (1, 1, 1, 1, 1, 2, 4, 8, 16, 32),
        "windows": (3, 6),
        "apple": (1, 1, 1, 1, 1, 2, 4, 8, 16, 32),
    }

    def __init__(self, rng, os_kind, src4=None, src6=None, iface=None, hz=250):
        self.rng = rng
        self.os = os_kind
        self.src4 = src4
        self.src6 = v6(src6) if src6 else None
        self.iface = iface  # forwarded in from this interface (FORWARD chain), else locally generated
        self.hz = hz
        self.port_state = {}
        self.win_port = 49152 + rng.randrange(16384)
        self.win_ipid = rng.randrange(65536)

    # -- retransmission timing -------------------------------------------------------------------------
    def slack(self, gap_s):
        rng = self.rng
        if self.os.startswith("linux"):
            # timer wheel: the expiry is rounded up to the granularity of the level the timeout falls in
            jiffy = US // self.hz
            j = gap_s * self.hz
            gran = 1 if j < 63 else 8 if j < 504 else 64 if j < 4032 else 512 if j < 32256 else 4096  # LVL_START/LVL_GRAN
            return rng.randrange(gran * jiffy + 1) + rng.randrange(30, 400)
        if self.os == "windows":
            return rng.randrange(0, 15_600)
        return rng.randrange(200, 9_000)

    def syn_times(self, t0, timeout_s):
        """SYN send times for one connect() that the application abandons after timeout_s seconds."""
        times = [t0]
        t = t0
        for gap in self.GAPS[self.os]:
            t += gap * US + self.slack(gap)
            if t - t0 >= timeout_s * US:
                break
            times.append(t)
        return times

    # -- ports and IDs -------------------------------------------------------------------------------
    def source_port(self, dst, dport):
        rng = self.rng
        if self.os.startswith("linux"):
            key = (dst, dport)
            remaining = 60999 - 32768 + 1
            if key not in self.port_state:
                self.port_state[key] = rng.randrange(remaining) & ~1
            offset = self.port_state[key]
            self.port_state[key] = (offset + 2 + 2 * rng.randrange(8)) % remaining
            return 32768 + offset
        if self.os == "windows":
            self.win_port += 1 + (rng.randrange(1, 6) if rng.random() < 0.35 else 0)
            if self.win_port > 65535:
                self.win_port = 49152 + (self.win_port - 65536)
            return self.win_port
        return 49152 + rng.randrange(16384)

    def ip_ids(self, n):
        rng = self.rng
        if self.os.startswith("linux"):
            first = rng.randrange(65536)
            return [(first + i) % 65536 for i in range(n)]
        if self.os == "windows":
            out = []
            for _ in range(n):
                self.win_ipid = (self.win_ipid + rng.randint(1, 40)) % 65536
                out.append(self.win_ipid)
            return out
        return [rng.randrange(65536) for _ in range(n)]

    # -- the LOG line ------------------------------------------------------------------------------------
    def ipv4_shape(self):
        """(LEN, TTL as seen on the VPS, WINDOW) of this stack's SYN."""
        if self.iface is None:
            return 60, 64, 64240
        # forwarded from a WireGuard peer: MTU 1420 -> MSS 1380, TTL already decremented by the VPS
        if self.os == "windows":
            return 52, 127, 64860
        if self.os == "apple":
            return 64, 63, 65535
        return 60, 63, 64860

    def body(self, port, dst, spt, ipid, uid, gid):
        head = f"IPTABLES TCP-OUT {port}:"
        if self.iface:
            head += f"IN={self.iface} OUT=eth0 MAC= "
        else:
            head += "IN= OUT=eth0 "
        if ":" in dst:
            flow = self.rng.randrange(1, 1 << 20)  # auto flow label, re-hashed on every retransmission
            text = (f"{head}SRC={self.src6} DST={dst} LEN=80 TC=0 HOPLIMIT=64 FLOWLBL={flow} PROTO=TCP "
                    f"SPT={spt} DPT={port} WINDOW=64800 RES=0x00 SYN URGP=0 ")
        else:
            length, ttl, window = self.ipv4_shape()
            text = (f"{head}SRC={self.src4} DST={dst} LEN={length} TOS=0x00 PREC=0x00 TTL={ttl} ID={ipid} DF "
                    f"PROTO=TCP SPT={spt} DPT={port} WINDOW={window} RES=0x00 SYN URGP=0 ")
        if uid is not None:
            text += f"UID={uid} GID={gid} "
        return text


# ---------------------------------------------------------------------------------------------------------
# A scenario: the kernel and daemon lines of one file and the attempts behind them
# ---------------------------------------------------------------------------------------------------------

class Attempt:
    __slots__ = ("keys", "port", "dst", "src", "spt", "packets", "hidden", "suspicious")

    def __init__(self, keys, port, dst, src, spt, hidden):
        self.keys = keys          # ground-truth actors: [("uid", 33)] or [("src", "10.8.0.7"), ("interface", "wg0")]
        self.port = port
        self.dst = dst
        self.src = src
        self.spt = spt
        self.packets = []         # [kernel time, arrival time] per packet
        self.hidden = hidden      # the real sender when the log cannot tell (rules without --log-uid)
        self.suspicious = False   # part of the incident (its first packet is the burst start)


class Scenario:
    def __init__(self, name, wrapper, host, seed, boot, uid_logged=True, hz=250):
        self.name = name
        self.wrapper = wrapper
        self.host = host
        self.rng = random.Random(seed)
        self.boot = boot
        self.uid_logged = uid_logged
        self.hz = hz
        self.kernel = []   # (time, seq, text, packet-or-None)
        self.daemon = []   # (time, seq, "tag[pid]: message")
        self.attempts = []
        self.seq = 0
        self.cut_before = None

    # -- low level -------------------------------------------------------------------------------------
    def klog(self, t, text, packet=None):
        self.seq += 1
        self.kernel.append((t, self.seq, text, packet))

    def dlog(self, t, text):
        if self.wrapper.daemons:
            self.seq += 1
            self.daemon.append((t, self.seq, text))

    @staticmethod
    def off_minute_edge(t):
        """Keeps attempt starts 50 ms away from a minute boundary, so that the minute of an attempt is
        the same whether it is taken from the kernel time or from the (a few ms later) syslog time."""
        r = t % (60 * US)
        if r < 50_000:
            return t + 50_000
        if r > 60 * US - 50_000:
            return t + 100_000
        return t

    def connect(self, t0, stack, dst, port, timeout_s, uid=None, gid=None, suspicious=False):
        """One connect() whose SYNs are logged and dropped; returns the Attempt."""
        t0 = self.off_minute_edge(t0)
        times = stack.syn_times(t0, timeout_s)
        spt = stack.source_port(dst, port)
        ids = stack.ip_ids(len(times))
        src = stack.src6 if ":" in dst else stack.src4
        logged_uid = uid if (self.uid_logged and stack.iface is None) else None
        if stack.iface:
            keys = [("src", src), ("interface", stack.iface)]
        elif logged_uid is not None:
            keys = [("uid", uid)]
        else:
            keys = [("src", src)]
        hidden = None if logged_uid is not None or stack.iface else ("uid", uid)
        att = Attempt(keys, port, dst, src, spt, hidden)
        att.suspicious = suspicious
        for t, ipid in zip(times, ids):
            pkt = [t, None]
            att.packets.append(pkt)
            self.klog(t, stack.body(port, dst, spt, ipid, logged_uid, gid), pkt)
        self.attempts.append(att)
        return att

    # -- output ----------------------------------------------------------------------------------------
    def render(self):
        rng = self.rng
        w = self.wrapper
        events = []
        last = 0
        for t, seq, text, pkt in sorted(self.kernel, key=lambda e: (e[0], e[1])):
            # imklog / journald read the ring buffer a moment later, in kernel order
            arrival = max(last + rng.randint(4, 60), t + rng.randint(150, 3500))
            last = arrival
            if pkt is not None:
                pkt[1] = arrival
            if w.kernel_stamp:
                up = t - self.boot
                text = f"[{up // US:5d}.{up % US:06d}] {text}"
            events.append((arrival, seq, f"{self.host} kernel: {text}"))
        for t, seq, text in self.daemon:
            events.append((t + rng.randint(20, 400), seq, f"{self.host} {text}"))
        events.sort(key=lambda e: (e[0], e[1]))
        if self.cut_before is not None:
            # the file starts when logrotate HUPs rsyslog: earlier lines went to the rotated file
            assert all(pkt[1] >= self.cut_before for _, _, _, pkt in self.kernel if pkt is not None)
            events = [e for e in events if e[0] >= self.cut_before]
        lines = [f"{w.header(a)} {text}" for a, _, text in events]
        self.first_time = events[0][0]
        self.last_time = events[-1][0]
        return lines

    def write(self):
        lines = self.render()
        data = ("\n".join(lines) + "\n").encode("utf-8")
        with open(os.path.join(LOGS, self.name), "wb") as f:
            f.write(data)
        self.line_count = len(lines)
        self.byte_count = len(data)


# ---------------------------------------------------------------------------------------------------------
# Destinations
# ---------------------------------------------------------------------------------------------------------

# first octets of public-looking IPv4 space (no 0, 10, 100, 127, 169, 172, 192, 198, 203, >= 224)
PUBLIC_FIRST = [a for a in range(1, 224) if a not in (10, 100, 127, 169, 172, 192, 198, 203)]


class DestPool:
    """MX addresses for a spam run: a few big providers (documentation ranges, Zipf weights) that get many
    messages, and a long tail of other domains' MX (fresh pseudo-random public-looking IPv4, some IPv6
    in 2001:db8::/32)."""

    def __init__(self, rng, big, big_share, v6_share=0.0, tail_repeat=0.0):
        self.rng = rng
        self.big = big
        self.weights = [1.0 / (i + 1) for i in range(len(big))]
        self.big_share = big_share
        self.v6_share = v6_share
        self.tail_repeat = tail_repeat
        self.used = set(big)
        self.tail = []

    def fresh_v4(self):
        rng = self.rng
        while True:
            ip = f"{rng.choice(PUBLIC_FIRST)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            if ip not in self.used:
                self.used.add(ip)
                self.tail.append(ip)
                return ip

    def fresh_v6(self):
        rng = self.rng
        while True:
            ip = v6(f"2001:db8:{rng.randrange(1, 0xffff):x}:{rng.randrange(0, 16):x}::{rng.randrange(1, 0x1ff):x}")
            if ip not in self.used:
                self.used.add(ip)
                self.tail.append(ip)
                return ip

    def pick(self, allow_v6=True):
        rng = self.rng
        r = rng.random()
        if r < self.big_share:
            return rng.choices(self.big, weights=self.weights)[0]
        if self.tail and rng.random() < self.tail_repeat:
            choice = rng.choice(self.tail)
            if allow_v6 or ":" not in choice:
                return choice
        if allow_v6 and rng.random() < self.v6_share:
            return self.fresh_v6()
        return self.fresh_v4()


def poisson_times(rng, t0, t1, per_minute):
    """Start times of a Poisson process with the given rate between t0 and t1."""
    out = []
    if per_minute <= 0:
        return out
    t = t0
    mean = 60 * US / per_minute
    while True:
        t += int(rng.expovariate(1.0) * mean) + 1
        if t >= t1:
            return out
        out.append(t)


def pick_timeout(rng, table):
    """table: [(seconds, weight), ...]"""
    return rng.choices([s for s, _ in table], weights=[w for _, w in table])[0]


# ---------------------------------------------------------------------------------------------------------
# Postfix (the legitimate mail server) and its log lines
# ---------------------------------------------------------------------------------------------------------

def pf_delay(x):
    """Postfix's delay= format: two significant digits below 10 s, whole seconds above."""
    if x >= 10:
        return str(int(x))
    if x >= 1:
        return f"{x:.1f}".rstrip("0").rstrip(".")
    if x >= 0.01:
        return f"{x:.2f}".rstrip("0").rstrip(".")
    return "0"


class Postfix:
    def __init__(self, sc, stack, uid, gid, myhostname, pid_base, log=True):
        self.sc = sc
        self.stack = stack
        self.uid = uid
        self.gid = gid
        self.myhostname = myhostname
        self.rng = sc.rng
        self.pid = pid_base
        self.qmgr_pid = pid_base - 37
        self.pickup_pid = pid_base - 11
        self.log = log

    def next_pid(self):
        self.pid += self.rng.randint(1, 9)
        return self.pid

    def qid(self):
        return f"{self.rng.getrandbits(40):010X}"

    def d(self, t, text):
        if self.log:
            self.sc.dlog(t, text)

    def stuck_queue(self, messages, queue_runs_from, t_end, timeout_s=30):
        """A deferred queue that cannot get out (every SYN to port 25 dropped): each message is retried
        at the queue runs (every 300 s) once its backoff (300 s doubling to 4000 s) has expired; each
        delivery tries the domain's MX hosts one after the other, 30 s connect timeout each.

        messages: dicts with qid, sender, rcpt, size, mx [(name, ip)], next (first try), backoff, arrival.
        """
        rng = self.rng

        def deliver(m, t):
            self.d(t, f"postfix/qmgr[{self.qmgr_pid}]: {m['qid']}: from=<{m['sender']}>, size={m['size']}, nrcpt=1 (queue active)")
            pid = self.next_pid()
            t += rng.randint(3_000, 30_000)
            last_err = None
            for name, ip in m["mx"]:
                self.sc.connect(t, self.stack, ip, 25, timeout_s, self.uid, self.gid)
                t += timeout_s * US + rng.randint(500, 9_000)
                last_err = f"connect to {name}[{ip}]:25: Connection timed out"
                self.d(t, f"postfix/smtp[{pid}]: {last_err}")
            total = (t - m["arrival"]) / US
            conn = len(m["mx"]) * timeout_s + rng.uniform(0.01, 0.3)
            self.d(t + rng.randint(1_000, 6_000),
                   f"postfix/smtp[{pid}]: {m['qid']}: to=<{m['rcpt']}>, relay=none, delay={pf_delay(total)}, "
                   f"delays={pf_delay(total - conn)}/{pf_delay(rng.uniform(0.005, 0.05))}/{pf_delay(conn)}/0, "
                   f"dsn=4.4.1, status=deferred ({last_err})")
            m["backoff"] = min(4000, max(300, m["backoff"] * 2))
            m["next"] = t + m["backoff"] * US
            m["fresh"] = False

        run = queue_runs_from
        while run < t_end:
            # a new message goes to the active queue at once; deferred ones wait for a queue run
            for m in sorted((m for m in messages if m.get("fresh") and m["next"] < run), key=lambda m: m["next"]):
                deliver(m, m["next"])
            due = [m for m in messages if not m.get("fresh") and m["next"] <= run]
            for i, m in enumerate(due):
                deliver(m, run + rng.randint(2_000, 40_000) + i * rng.randint(5_000, 60_000))
            run += 300 * US + rng.randint(0, 900_000)

    def new_local_message(self, t, uid_from, user, rcpt, mx, size):
        """A message submitted with sendmail (pickup); returns the queue entry (first try right away)."""
        rng = self.rng
        qid = self.qid()
        self.d(t, f"postfix/pickup[{self.pickup_pid}]: {qid}: uid={uid_from} from=<{user}>")
        self.d(t + rng.randint(2_000, 20_000),
               f"postfix/cleanup[{self.next_pid()}]: {qid}: message-id=<{utc(t):%Y%m%d%H%M%S}.{qid}@{self.myhostname}>")
        return {"qid": qid, "sender": f"{user}@{self.myhostname}", "rcpt": rcpt, "size": size, "mx": mx,
                "next": t + rng.randint(30_000, 200_000), "backoff": 150, "arrival": t, "fresh": True}


# ---------------------------------------------------------------------------------------------------------
# Background: other netfilter lines and other kernel / daemon messages
# ---------------------------------------------------------------------------------------------------------

SCAN_PORTS_TCP = [22, 22, 22, 23, 80, 443, 445, 1433, 2222, 3306, 3389, 5432, 5900, 6379, 8080, 8443, 8888, 9200, 27017]
SCAN_PORTS_UDP = [53, 123, 161, 389, 1900, 5060, 11211]


def inbound_scans(sc, t0, t1, per_hour, prefix, my_ip, macs):
    """Blocked inbound probes logged by the host firewall (ufw or firewalld)."""
    rng = sc.rng
    for t in poisson_times(rng, t0, t1, per_hour / 60.0):
        src = f"{rng.choice(PUBLIC_FIRST)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        head = f"{prefix}IN=eth0 OUT= MAC={macs}:08:00 SRC={src} DST={my_ip} "
        kind = rng.random()
        if kind < 0.45:    # masscan-like
            text = (f"{head}LEN=40 TOS=0x00 PREC=0x00 TTL={rng.randint(236, 249)} ID={rng.randrange(65536)} PROTO=TCP "
                    f"SPT={rng.randint(1024, 65535)} DPT={rng.choice(SCAN_PORTS_TCP)} WINDOW=1024 RES=0x00 SYN URGP=0 ")
        elif kind < 0.65:  # zmap
            text = (f"{head}LEN=40 TOS=0x00 PREC=0x00 TTL={rng.randint(240, 250)} ID=54321 PROTO=TCP "
                    f"SPT={rng.randint(30000, 65535)} DPT={rng.choice(SCAN_PORTS_TCP)} WINDOW=65535 RES=0x00 SYN URGP=0 ")
        elif kind < 0.85:  # a Linux box (brute forcer)
            text = (f"{head}LEN=60 TOS=0x00 PREC=0x00 TTL={rng.randint(45, 56)} ID={rng.randrange(65536)} DF PROTO=TCP "
                    f"SPT={rng.randint(32768, 60999) & ~1} DPT={rng.choice(SCAN_PORTS_TCP)} WINDOW={rng.choice((29200, 64240, 65535))} RES=0x00 SYN URGP=0 ")
        else:              # UDP probe
            dpt = rng.choice(SCAN_PORTS_UDP)
            plen = {53: 29, 123: 48, 161: 43, 389: 52, 1900: 94, 5060: 425, 11211: 15}[dpt]
            text = (f"{head}LEN={plen + 28} TOS=0x00 PREC=0x00 TTL={rng.randint(45, 115)} ID={rng.randrange(65536)} PROTO=UDP "
                    f"SPT={rng.randint(1024, 65535)} DPT={dpt} LEN={plen + 8} ")
        sc.klog(t, text)


PERF_STEPS = [(2504, 2500, 79750), (3134, 3130, 63750), (3918, 3912, 51000), (4899, 4897, 40750),
              (6130, 6123, 32500), (7670, 7662, 26000), (9588, 9587, 20750)]


def kernel_chatter(sc, t0, t1, perf_from, perf_count, apparmor_per_day=0.0, hrtimer_at=None):
    """Ordinary kernel messages of a VM (not netfilter): perf lowering its sample rate now and then (each
    step lower than the last), the once-per-boot hrtimer warning, and on Ubuntu AppArmor denials."""
    rng = sc.rng
    times = sorted(t0 + rng.randrange(t1 - t0) for _ in range(perf_count))
    for k, t in enumerate(times):
        new, cur, rate = PERF_STEPS[perf_from + k]
        sc.klog(t, f"perf: interrupt took too long ({new} > {cur}), lowering kernel.perf_event_max_sample_rate to {rate}")
    if hrtimer_at is not None:
        sc.klog(hrtimer_at, f"hrtimer: interrupt took {rng.randint(1800, 9000)} ns")
    serial = rng.randint(200, 900)
    for t in poisson_times(rng, t0, t1, apparmor_per_day / 1440.0):
        pid = rng.randint(900, 9000)
        serial += rng.randint(1, 40)
        sc.klog(t, f"audit: type=1400 audit({t // US}.{(t % US) // 1000:03d}:{serial}): apparmor=\"DENIED\" "
                   f"operation=\"open\" class=\"file\" profile=\"snap.lxd.daemon\" name=\"/proc/{pid}/mounts\" "
                   f"pid={pid} comm=\"lxd\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0")


def systemd_unit(sc, t, unit, desc, sdver, duration_s):
    rng = sc.rng
    if sdver >= 250:
        sc.dlog(t, f"systemd[1]: Starting {unit} - {desc}...")
    else:
        sc.dlog(t, f"systemd[1]: Starting {desc}...")
    t2 = t + int(duration_s * US) + rng.randint(1_000, 300_000)
    sc.dlog(t2, f"systemd[1]: {unit}: {'Succeeded.' if sdver < 248 else 'Deactivated successfully.'}")
    if sdver >= 250:
        sc.dlog(t2 + rng.randint(1_000, 9_000), f"systemd[1]: Finished {unit} - {desc}.")
    else:
        sc.dlog(t2 + rng.randint(1_000, 9_000), f"systemd[1]: Finished {desc}.")


def debian_daemons(sc, t0, t1, sdver, php=False, sysstat_cron=False, sysstat_timer=False, cron_pid=20000,
                   rsyslog_version="8.2102.0", apt_at=None):
    """CRON, systemd timers and the daily log rotation of a Debian/Ubuntu box."""
    rng = sc.rng
    pid = [cron_pid]

    def cron(t, cmd):
        pid[0] += rng.randint(2, 60)
        sc.dlog(t + rng.randint(1_000, 90_000), f"CRON[{pid[0]}]: (root) CMD ({cmd})")

    day0 = t0 - t0 % (86400 * US)
    t = day0
    while t < t1:
        if t0 - US <= t < t1:
            # daily rotation at midnight: rsyslog is HUPed, the new file starts there
            tr = t + rng.randint(20_000, 300_000)
            hup = tr + rng.randint(200_000, 400_000)
            systemd_unit(sc, tr, "logrotate.service", "Rotate log files", sdver, (hup - tr) / US + rng.uniform(0.05, 0.3))
            sc.dlog(hup,
                    f"rsyslogd: [origin software=\"rsyslogd\" swVersion=\"{rsyslog_version}\" x-pid=\"{rng.randint(400, 700)}\" "
                    f"x-info=\"https://www.rsyslog.com\"] rsyslogd was HUPed")
            if sc.cut_before is None and t <= t0:
                sc.cut_before = hup
            systemd_unit(sc, t + rng.randint(30_000, 500_000), "man-db.service", "Daily man-db regeneration", sdver, rng.uniform(0.5, 3))
        t += 86400 * US
    m = t0 - t0 % (60 * US)
    while m < t1:
        minute = utc(m).minute
        hour = utc(m).hour
        if m >= t0:
            if minute == 17:
                cron(m, "   cd / && run-parts --report /etc/cron.hourly")
            if sysstat_cron and minute % 10 == 5:
                cron(m, "command -v debian-sa1 > /dev/null && debian-sa1 1 1")
            if sysstat_timer and minute % 10 == 0:
                systemd_unit(sc, m + rng.randint(100_000, 900_000), "sysstat-collect.service", "system activity accounting tool", sdver, 0.05)
            if php and minute in (9, 39):
                systemd_unit(sc, m + rng.randint(100_000, 900_000), "phpsessionclean.service", "Clean php session files", sdver, rng.uniform(0.05, 0.4))
            if hour == 6 and minute == 25:
                cron(m, "test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }")
        m += 60 * US
    if apt_at is not None and t0 <= apt_at < t1:
        systemd_unit(sc, apt_at, "apt-daily.service", "Daily apt download activities", sdver, rng.uniform(8, 40))


# ---------------------------------------------------------------------------------------------------------
# The scenarios
# ---------------------------------------------------------------------------------------------------------

VPS4 = "192.0.2.10"
VPS6 = "2001:db8:0:1::10"
VPS_MACS = "52:54:00:8c:1e:47:fe:54:00:8c:1e:47"

# MX hosts of the legitimate mail (documentation ranges)
LEGIT_MX = {
    "example.com": [("mx1.example.com", "198.51.100.7"), ("mx2.example.com", "198.51.100.8")],
    "example.net": [("mail.example.net", "203.0.113.17")],
    "example.org": [("mx-a.example.org", "198.51.100.23"), ("mx-b.example.org", "203.0.113.64")],
    "mail.example": [("mx.mail.example", "203.0.113.120")],
    "corp.example": [("smtp-in1.corp.example", "198.51.100.41"), ("smtp-in2.corp.example", "198.51.100.42")],
}

# big providers' MX for the spam runs: many messages each
BIG_MX = ["198.51.100.%d" % x for x in (26, 27, 28, 29, 133, 134, 135, 201, 202)] + \
         ["203.0.113.%d" % x for x in (5, 6, 33, 34, 35, 77, 78, 90, 91, 150, 151, 160, 161, 250)]


def scenario_webshell():
    sc = Scenario("incident-webshell.log", DEBIAN11_SYSLOG, "vps01", 101, boot=at(6, 41, 12.318204, day=2))
    rng = sc.rng
    t0, t1 = at(0, 0, 0.4), at(4, 0, 0)

    host = Stack(rng, "linux-exp", VPS4, VPS6)  # the VPS's kernel: one port allocator for all its processes
    # postfix: the queue is stuck since the DROP rules went in; a few deferred messages retried all night
    pf = Postfix(sc, host, 107, 114, "vps01.example.net", pid_base=30211)
    msgs = []
    for dom, rcpt, age_s, backoff in (("example.com", "ops@example.com", 5400, 1200), ("example.net", "billing@example.net", 2700, 600),
                                      ("example.org", "alerts@example.org", 900, 300), ("corp.example", "it@corp.example", 12000, 4000)):
        msgs.append({"qid": pf.qid(), "sender": "root@vps01.example.net", "rcpt": rcpt, "size": rng.randint(900, 4200),
                     "mx": LEGIT_MX[dom], "next": t0 + rng.randint(0, backoff) * US, "backoff": backoff,
                     "arrival": t0 - age_s * US})
    # cron mail of the night and a contact-form message of the shop site
    msgs.append(pf.new_local_message(at(0, 17, 3.2), 0, "root", "ops@example.com", LEGIT_MX["example.com"], 1876))
    msgs.append(pf.new_local_message(at(1, 2, 41.7), 33, "www-data", "info@mail.example", LEGIT_MX["mail.example"], 3310))
    msgs.append(pf.new_local_message(at(3, 17, 2.9), 0, "root", "ops@example.com", LEGIT_MX["example.com"], 1902))
    pf.stuck_queue(msgs, at(0, 2, 31.3), t1 - 70 * US)

    # root tests the submission port once (swaks, 30 s timeout)
    sc.connect(at(0, 41, 12.6), host, "198.51.100.25", 587, 30, 0, 0)

    # www-data: a PHP mailer dropped in the web root sends direct to MX, in waves, from 02:14:07
    spam = host
    pool = DestPool(rng, BIG_MX, big_share=0.06, v6_share=0.05, tail_repeat=0.02)
    timeouts = [(5, 0.62), (10, 0.28), (20, 0.10)]
    # ten waves (the attacker's HTTP requests to the mailer) spread over 02:14:07 - 03:43:40
    begin, end = at(2, 14, 7.05), at(3, 43, 40)
    waves = [rng.uniform(3.0, 5.0) for _ in range(10)]
    gaps = [rng.uniform(3.5, 6.5) for _ in range(9)]
    scale = (end - begin) / (sum(waves) + sum(gaps))
    t = begin
    for k, wave in enumerate(waves):
        stop = t + int(wave * scale)
        starts = poisson_times(rng, t, stop, rng.uniform(29, 55))
        if k == 0:
            starts = [t] + starts
            for _ in range(3):
                sc.dlog(t + rng.randint(200_000, 9_000_000),
                        "php-fpm7.4[611]: [WARNING] [pool www] server reached pm.max_children setting (5), consider raising it")
        if k == len(waves) - 1:
            starts.append(stop - rng.randint(1, 3) * US)
        for s in starts:
            sc.connect(s, spam, pool.pick(), 25, pick_timeout(rng, timeouts), 33, 33, suspicious=True)
        if k < len(gaps):
            t = stop + int(gaps[k] * scale)

    inbound_scans(sc, t0, t1, 26, "[UFW BLOCK] ", VPS4, VPS_MACS)
    kernel_chatter(sc, t0, t1, 3, 1)
    debian_daemons(sc, t0, t1, 247, php=True, sysstat_cron=True, apt_at=at(1, 52, 14.2))
    return sc, {
        "story": "A compromised web application: www-data (uid 33) starts sending spam straight to other domains' MX "
                 "(port 25, ~1,500 destinations) in waves from 02:14 for 90 minutes, while postfix's stuck queue retries "
                 "a handful of MX and root tests port 587 once.",
        "expected_class": "direct-to-mx",
        "uid_known": True,
        "suspect": {"kind": "uid", "key": 33, "ports": [25]},
        "kernel": "Debian 11, Linux 5.10 (SYN retransmissions after 1, 2, 4, 8 s)",
    }


def scenario_proxy():
    sc = Scenario("incident-proxy.log", DEBIAN12_SYSLOG, "vps01", 202, boot=at(9, 12, 44.508113, day=20))
    rng = sc.rng
    t0, t1 = at(12, 0, 0.2), at(15, 0, 0)
    vpn_hosts = rng.sample(range(2, 255), 40)
    clients = [f"10.8.0.{h}" for h in vpn_hosts]

    # legitimate VPN users whose mail clients try their provider's submission port (dropped too)
    providers = [("198.51.100.60", 587), ("198.51.100.60", 465), ("203.0.113.45", 587)]
    legit = clients[:4]
    for i, src in enumerate(legit):
        st = Stack(rng, "apple" if i % 2 == 0 else "windows", src, iface="wg0")
        dst, port = providers[i % len(providers)]
        n = rng.randint(2, 6)
        for s in sorted(rng.sample(range(int((t1 - t0) / US) - 400), n)):
            sc.connect(t0 + s * US + rng.randrange(US), st, dst, port, 60 if st.os == "apple" else 30)

    # spam through the VPN: 36 peers, a few heavy, most light, from 13:05
    pool = DestPool(rng, BIG_MX, big_share=0.13, v6_share=0.0, tail_repeat=0.03)
    spammers = clients[4:]
    total_rate = 21.0
    weights = [1.0 / (i + 1) ** 1.05 for i in range(len(spammers))]
    scale = total_rate / sum(weights)
    for i, src in enumerate(spammers):
        os_kind = "windows" if i % 5 in (1, 3) else ("linux-linear" if i % 2 == 0 else "linux-exp")
        st = Stack(rng, os_kind, src, iface="wg0")
        start = at(13, 5, 11.4) if i == 0 else at(13, 5, 30) + rng.randrange(25 * 60) * US + rng.randrange(US)
        stop = min(start + int(rng.uniform(45, 72) * 60 * US), at(14, 24, 0))
        starts = poisson_times(rng, start, stop, weights[i] * scale)
        if i == 0:
            starts = [start] + starts
        # connect timeouts that end the series after 2-4 retransmissions (Windows stops after 2 anyway)
        tmo = {"linux-exp": [(5, 0.5), (10, 0.35), (20, 0.15)], "linux-linear": [(3, 0.4), (4, 0.35), (5, 0.25)],
               "windows": [(5, 0.3), (10, 0.4), (30, 0.3)]}[os_kind]
        for s in starts:
            sc.connect(s, st, pool.pick(allow_v6=False), 25, pick_timeout(rng, tmo), suspicious=True)

    # the VPN server's own postfix (root's cron mail), stuck like everything else
    pf = Postfix(sc, Stack(rng, "linux-exp", VPS4, VPS6), 107, 114, "vps01.example.net", pid_base=41877)
    msgs = [{"qid": pf.qid(), "sender": "root@vps01.example.net", "rcpt": "noc@example.org", "size": 2231,
             "mx": LEGIT_MX["example.org"], "next": t0 + 140 * US, "backoff": 1200, "arrival": t0 - 3000 * US}]
    msgs.append(pf.new_local_message(at(13, 17, 2.4), 0, "root", "noc@example.org", LEGIT_MX["example.org"], 1504))
    msgs.append(pf.new_local_message(at(14, 17, 2.1), 0, "root", "noc@example.org", LEGIT_MX["example.org"], 1498))
    pf.stuck_queue(msgs, at(12, 3, 12.7), t1 - 70 * US)

    inbound_scans(sc, t0, t1, 30, "[UFW BLOCK] ", VPS4, "52:54:00:3a:9d:02:fe:54:00:3a:9d:02")
    kernel_chatter(sc, t0, t1, 2, 1)
    debian_daemons(sc, t0, t1, 252, sysstat_timer=True, cron_pid=88110, rsyslog_version="8.2302.0")
    return sc, {
        "story": "A WireGuard VPN service relays its clients' spam: from 13:05 about 36 peers in 10.8.0.0/24 send port 25 "
                 "SYNs to ~1,000 MX through the VPS (FORWARD, IN=wg0, no UID), besides 4 peers whose mail clients try "
                 "their provider's submission port and the server's own stuck postfix.",
        "expected_class": "proxy-relay",
        "uid_known": True,
        "suspect": {"kind": "interface", "key": "wg0", "ports": [25]},
        "kernel": "Debian 12, Linux 6.1 on the VPN server; peers: Linux < 6.5 (1, 2, 4 s), Linux >= 6.5 (1, 1, 1 s), Windows (3, 6 s), Apple (1, 1, 1 s)",
    }


def rhel_daemons(sc, t0, t1, php_pool="shop"):
    rng = sc.rng
    # sysstat timer every 10 min, dnf makecache about hourly, chrony, NetworkManager DHCP renewals
    m = t0 - t0 % (60 * US) + 60 * US
    while m < t1:
        if utc(m).minute % 10 == 0:
            systemd_unit(sc, m + rng.randint(100_000, 900_000), "sysstat-collect.service", "system activity accounting tool", 252, 0.04)
        m += 60 * US
    t = t0 + rng.randint(300, 2400) * US
    while t < t1:
        systemd_unit(sc, t, "dnf-makecache.service", "dnf makecache", 252, rng.uniform(0.8, 2.5))
        sc.dlog(t + rng.randint(400_000, 900_000), f"dnf[{rng.randint(20000, 60000)}]: Metadata cache refreshed recently.")
        t += rng.randint(3600, 4200) * US
    t = t0 + rng.randint(200, 1800) * US
    while t < t1:
        sc.dlog(t, f"NetworkManager[812]: <info>  [{t // US}.{(t % US) // 100:04d}] dhcp4 (eth0): state changed new lease, address=192.0.2.44")
        t += rng.randint(1700, 1900) * US
    for t in poisson_times(rng, t0, t1, 0.02):
        sc.dlog(t, f"chronyd[798]: Selected source {rng.choice(('192.0.2.123', '198.51.100.123', '203.0.113.123'))} (2.rhel.pool.ntp.org)")


def scenario_relay_abuse():
    sc = Scenario("incident-relay-abuse.log", RHEL9_MESSAGES, "mail01", 303, boot=at(3, 8, 51.0, day=17), hz=1000)
    rng = sc.rng
    t0, t1 = at(20, 0, 0.3), at(23, 0, 0)
    src = "192.0.2.44"
    relays = ["203.0.113.25", "203.0.113.26"]
    shop = Stack(rng, "linux-exp", src, hz=1000)

    # the shop's own order mails before the abuse (PHPMailer via the relay, 10 s timeout) - dropped as well
    for s in (at(20, 11, 47.2), at(20, 38, 5.9), at(21, 3, 22.4), at(21, 26, 51.3)):
        sc.connect(s, shop, relays[0], 587, 10, 1002, 1002)

    # stolen credentials: a mass-mailer in the shop's PHP-FPM pool, parallel workers looping over the relays
    start, stop = at(21, 40, 3.6), at(22, 20, 30)
    workers = 7
    timeouts = [(5, 0.74), (10, 0.21), (20, 0.05)]
    for w in range(workers):
        t = start + (0 if w == 0 else rng.randint(500_000, 240 * US))
        w_stop = stop - rng.randint(0, 120) * US
        uses_465 = w == 5
        while t < w_stop:
            dst = relays[rng.randrange(2)] if w % 3 else relays[(t // US) % 2]
            port = 465 if (uses_465 and rng.random() < 0.6) else 587
            tmo = pick_timeout(rng, timeouts)
            sc.connect(t, shop, dst, port, tmo, 1002, 1002, suspicious=True)
            t += tmo * US + rng.randint(20_000, 900_000)
            if rng.random() < 0.02:  # PHP max_execution_time hit, the attacker's cron restarts the worker
                t += rng.randint(20, 75) * US
    for k in range(6):
        sc.dlog(start + rng.randint(30, 2300) * US,
                f"php-fpm[1187]: [WARNING] [pool {'shop'}] server reached max_children setting (10), consider raising it")

    # postfix (uid 89 on RHEL): its own queue, retried; mail.none keeps its lines out of /var/log/messages
    pf = Postfix(sc, shop, 89, 89, "mail01.example.com", pid_base=61230, log=False)
    msgs = [{"qid": pf.qid(), "sender": "root@mail01.example.com", "rcpt": r, "size": 1200, "mx": LEGIT_MX[d],
             "next": t0 + rng.randint(0, 900) * US, "backoff": b, "arrival": t0 - 4000 * US}
            for d, r, b in (("example.net", "admin@example.net", 600), ("corp.example", "it@corp.example", 2400))]
    msgs.append(pf.new_local_message(at(22, 1, 1.7), 0, "root", "admin@example.net", LEGIT_MX["example.net"], 988))
    pf.stuck_queue(msgs, at(20, 4, 40.2), t1 - 70 * US)

    # firewalld (LogDenied=unicast) logs its own rejects; other RHEL daemons; the admin logs in at 22:31
    inbound_scans(sc, t0, t1, 22, "filter_IN_public_REJECT: ", src, "52:54:00:71:c4:0e:fe:54:00:71:c4:0e")
    rhel_daemons(sc, t0, t1)
    tl = at(22, 31, 9.8)
    sc.dlog(tl, "systemd-logind[793]: New session 27 of user admin.")
    sc.dlog(tl + 210_000, "systemd[1]: Started session-27.scope - Session 27 of User admin.")
    return sc, {
        "story": "Stolen SMTP credentials abused through a submission relay: from 21:40 for 40 minutes the PHP shop's user "
                 "(uid 1002) opens about 2,000 connections to just two relays (203.0.113.25/.26) on 587 and a few on 465; "
                 "postfix (uid 89) retries its own small queue on port 25.",
        "expected_class": "relay-abuse",
        "uid_known": True,
        "suspect": {"kind": "uid", "key": 1002, "ports": [587, 465]},
        "kernel": "RHEL 9, Linux 5.14, HZ=1000 (SYN retransmissions after 1, 2, 4, 8 s)",
    }


def scenario_retry():
    sc = Scenario("incident-retry.log", JOURNAL_SHORT_ISO, "vps01", 404, boot=at(18, 2, 7.77, day=21))
    rng = sc.rng
    t0, t1 = at(7, 40, 0.7), at(14, 20, 0)
    st = Stack(rng, "linux-exp", VPS4, VPS6)
    # backup.sh from the backup user's crontab (* * * * *): curl --connect-timeout 45 smtp://203.0.113.80
    m = at(8, 0, 0)
    while m < at(14, 0, 0):
        sc.connect(m + rng.randint(300_000, 1_900_000), st, "203.0.113.80", 25, 45, 1005, 1005, suspicious=True)
        m += 60 * US
    inbound_scans(sc, t0, t1, 24, "[UFW BLOCK] ", VPS4, VPS_MACS)
    kernel_chatter(sc, t0, t1, 4, 2)
    return sc, {
        "story": "A single retrying client: the backup user's cron job (uid 1005) tries to mail its report to one server "
                 "(203.0.113.80:25) every minute for 6 hours, each attempt a full SYN series (+1, +3, +7, +15, +31 s) "
                 "before curl's 45 s connect timeout; nothing else sends mail.",
        "expected_class": "retrying-client",
        "uid_known": True,
        "suspect": {"kind": "uid", "key": 1005, "ports": [25]},
        "kernel": "Debian 12, Linux 6.1 (SYN retransmissions after 1, 2, 4, 8, 16 s)",
    }


def scenario_clean():
    sc = Scenario("incident-clean.log", UBUNTU2204_SYSLOG, "vps01", 505, boot=at(23, 41, 10.204, day=22))
    rng = sc.rng
    t0, t1 = at(0, 0, 0.5), at(23, 59, 59)
    # Rules here: LOG only new connections (-m conntrack --ctstate NEW), then ACCEPT the postfix user,
    # then DROP: postfix's SYNs go through (one line each), anyone else's are dropped and retransmitted.
    pfst = Stack(rng, "linux-exp", VPS4, VPS6)  # the VPS's kernel
    pf = Postfix(sc, pfst, 107, 114, "vps01.example.net", pid_base=7103)
    domains = {
        "example.com": [("mx1.example.com", "198.51.100.7"), ("mx2.example.com", "198.51.100.8")],
        "example.net": [("mail.example.net", "203.0.113.17")],
        "example.org": [("mx-a.example.org", "198.51.100.23"), ("mx-b.example.org", "203.0.113.99")],
        "mail.example": [("mx.mail.example", "203.0.113.120")],
        "corp.example": [("smtp-in1.corp.example", "198.51.100.41"), ("smtp-in2.corp.example", "198.51.100.42")],
        "shop.example": [("mx.shop.example", "198.51.100.77")],
        "lists.example": [("mx.lists.example", "203.0.113.140")],
        "customer1.example": [("aspmx.customer1.example", "198.51.100.150"), ("alt1.customer1.example", "198.51.100.151")],
        "customer2.example": [("mx01.customer2.example", "203.0.113.201")],
        "customer3.example": [("mx.customer3.example", "203.0.113.211")],
        "customer4.example": [("in1.customer4.example", "198.51.100.180"), ("in2.customer4.example", "198.51.100.181")],
        "customer5.example": [("mail.customer5.example", "203.0.113.222")],
        "partner.example": [("mx1.partner.example", "198.51.100.190"), ("mx2.partner.example", "198.51.100.191")],
        "school.example": [("mx.school.example", "203.0.113.230")],
    }
    dead = "203.0.113.99"  # mx-b.example.org does not answer: postfix retries it, then uses mx-a
    names = list(domains)
    dweights = [9, 5, 6, 4, 3, 3, 2, 4, 2, 2, 2, 1, 2, 1]
    hour_w = [1, 1, 1, 1, 1, 1, 2, 4, 7, 9, 9, 8, 6, 8, 9, 9, 8, 6, 4, 3, 2, 2, 1, 1]
    n_msgs = 228
    hours = rng.choices(range(24), weights=hour_w, k=n_msgs)
    starts = sorted(at(h, 0, 0) + rng.randrange(3600 * US) for h in hours)
    smtp_pid = 9000
    for s in starts:
        if s >= t1 - 120 * US:
            continue
        dom = rng.choices(names, weights=dweights)[0]
        mxs = list(domains[dom])
        if len(mxs) == 2 and rng.random() < (0.5 if dom == "example.org" else 0.15):
            mxs.reverse()  # equal-preference MX or the first one busy: try the other first
        who = rng.random()
        if who < 0.55:
            uid_from, user = 33, "www-data"
        elif who < 0.8:
            uid_from, user = 1000, "admin"
        else:
            uid_from, user = 0, "root"
        rcpt = f"{rng.choice(('info', 'orders', 'support', 'anna', 'j.smith', 'noc', 'sales'))}@{dom}"
        m = pf.new_local_message(s, uid_from, user, rcpt, mxs, rng.randint(900, 48000))
        t = m["next"]
        pf.d(t, f"postfix/qmgr[{pf.qmgr_pid}]: {m['qid']}: from=<{m['sender']}>, size={m['size']}, nrcpt=1 (queue active)")
        smtp_pid += rng.randint(3, 40)
        t += rng.randint(3_000, 30_000)
        for name, ip in mxs:
            if ip == dead:
                sc.connect(t, pfst, ip, 25, 30, 107, 114)
                t += 30 * US + rng.randint(500, 9_000)
                pf.d(t, f"postfix/smtp[{smtp_pid}]: connect to {name}[{ip}]:25: Connection timed out")
                continue
            # accepted: only the first SYN is NEW and logged
            t = sc.off_minute_edge(t)
            spt = pfst.source_port(ip, 25)
            att = Attempt([("uid", 107)], 25, ip, pfst.src4, spt, None)
            pkt = [t, None]
            att.packets.append(pkt)
            sc.klog(t, pfst.body(25, ip, spt, pfst.ip_ids(1)[0], 107, 114), pkt)
            sc.attempts.append(att)
            conv = rng.uniform(0.3, 2.4)
            total = (t - m["arrival"]) / US + conv
            pf.d(t + int(conv * US),
                 f"postfix/smtp[{smtp_pid}]: {m['qid']}: to=<{rcpt}>, relay={name}[{ip}]:25, delay={pf_delay(total)}, "
                 f"delays={pf_delay((m['next'] - m['arrival']) / US)}/{pf_delay(rng.uniform(0.005, 0.03))}/"
                 f"{pf_delay(rng.uniform(0.05, 0.4) + (total - conv - (m['next'] - m['arrival']) / US))}/{pf_delay(conv * 0.6)}, "
                 f"dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as {rng.getrandbits(36):09X})")
            pf.d(t + int(conv * US) + rng.randint(300, 5_000), f"postfix/qmgr[{pf.qmgr_pid}]: {m['qid']}: removed")
            break

    # the admin checks the submission port of the mail provider twice (swaks 30 s; nc, Ctrl-C after ~10 s)
    adm = pfst  # same kernel
    sc.connect(at(10, 12, 44.1), adm, "198.51.100.60", 587, 30, 1000, 1000)
    sc.connect(at(10, 15, 3.8), adm, "198.51.100.60", 587, 10, 1000, 1000)

    inbound_scans(sc, t0, t1, 9, "[UFW BLOCK] ", VPS4, VPS_MACS)
    kernel_chatter(sc, t0, t1, 0, 3, apparmor_per_day=10, hrtimer_at=at(0, 12, 31.04))
    debian_daemons(sc, t0, t1, 249, php=True, cron_pid=1200, rsyslog_version="8.2112.0", apt_at=at(6, 38, 2.5))
    for h in (5, 17):
        systemd_unit(sc, at(h, rng.randint(0, 59), rng.uniform(0, 59)), "motd-news.service", "Message of the Day", 249, rng.uniform(0.3, 1.2))
    return sc, {
        "story": "Nothing suspicious: over 24 hours postfix (uid 107) delivers ~230 messages to 20 MX addresses at a normal "
                 "rate (its SYNs are accepted; one dead MX gives a few retransmission series) and the admin (uid 1000) "
                 "tests port 587 twice.",
        "expected_class": "nothing-suspicious",
        "uid_known": True,
        "suspect": None,
        "kernel": "Ubuntu 22.04, Linux 5.15 (SYN retransmissions after 1, 2, 4, 8 s)",
    }


def scenario_no_uid():
    sc = Scenario("incident-no-uid.log", UBUNTU2204_SYSLOG, "vps01", 606, boot=at(11, 30, 2.93, day=10), uid_logged=False)
    rng = sc.rng
    t0, t1 = at(2, 0, 0.6), at(7, 0, 0)
    # postfix's stuck queue (uid 107, not logged)
    host = Stack(rng, "linux-linear", VPS4, VPS6)
    pf = Postfix(sc, host, 107, 114, "vps01.example.net", pid_base=52170)
    msgs = [{"qid": pf.qid(), "sender": "root@vps01.example.net", "rcpt": "ops@example.com", "size": 2304,
             "mx": LEGIT_MX["example.com"], "next": t0 + 400 * US, "backoff": 2400, "arrival": t0 - 7200 * US},
            {"qid": pf.qid(), "sender": "www-data@vps01.example.net", "rcpt": "info@mail.example", "size": 5120,
             "mx": LEGIT_MX["mail.example"], "next": t0 + 1300 * US, "backoff": 1200, "arrival": t0 - 2000 * US}]
    pf.stuck_queue(msgs, at(2, 1, 55.0), t1 - 70 * US)

    # spam from the host itself (a PHP mailer run as www-data: the log cannot tell), 04:30 - 05:30
    spam = host
    pool = DestPool(rng, BIG_MX, big_share=0.10, v6_share=0.04, tail_repeat=0.02)
    start = at(4, 30, 12.2)
    timeouts = [(3, 0.45), (4, 0.35), (5, 0.20)]
    starts = [start] + poisson_times(rng, start, at(4, 34, 0), 6) + poisson_times(rng, at(4, 34, 0), at(5, 29, 30), 16.5)
    for s in starts:
        sc.connect(s, spam, pool.pick(), 25, pick_timeout(rng, timeouts), 33, 33, suspicious=True)

    inbound_scans(sc, t0, t1, 18, "[UFW BLOCK] ", VPS4, VPS_MACS)
    kernel_chatter(sc, t0, t1, 3, 1, apparmor_per_day=10)
    debian_daemons(sc, t0, t1, 249, php=True, cron_pid=31200, rsyslog_version="8.2112.0")
    for k in range(2):
        sc.dlog(start + rng.randint(1, 400) * US,
                "php-fpm8.1[702]: [WARNING] [pool www] server reached pm.max_children setting (5), consider raising it")
    return sc, {
        "story": "Direct-to-MX spam from the host itself (SRC 192.0.2.10 and its IPv6 address, OUT=eth0) from 04:30 for "
                 "an hour to ~800 destinations, but the LOG rules lack --log-uid: no UID=/GID= anywhere, so the log "
                 "cannot say which user (it was www-data's PHP; postfix's stuck queue shares the source address).",
        "expected_class": "direct-to-mx",
        "uid_known": False,
        "suspect": {"kind": "src", "key": VPS4, "ports": [25], "hidden_uid": 33},
        "kernel": "Ubuntu 22.04 with the HWE kernel 6.8 (tcp_syn_linear_timeouts = 4: SYN retransmissions after 1, 1, 1, 1 s)",
    }


# ---------------------------------------------------------------------------------------------------------
# Ground truth
# ---------------------------------------------------------------------------------------------------------

PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
proxy:x:13:13:proxy:/bin:/usr/sbin/nologin
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
postfix:x:89:89::/var/spool/postfix:/sbin/nologin
postfix:x:107:114::/var/spool/postfix:/usr/sbin/nologin
admin:x:1000:1000:Admin,,,:/home/admin:/bin/bash
shop:x:1002:1002:Web shop (PHP-FPM pool):/var/www/shop:/sbin/nologin
backup:x:1005:1005:Backup jobs,,,:/home/backup:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
"""

USER_NAMES = {}
for _line in PASSWD.splitlines():
    _f = _line.split(":")
    USER_NAMES.setdefault(int(_f[2]), _f[0])


def minute_of(us):
    return us - us % (60 * US)


def summarize(attempts, precision):
    """Figures of a set of attempts (times = the syslog/journal time of each line)."""
    packets = sum(len(a.packets) for a in attempts)
    per_port = {}
    for a in attempts:
        p = per_port.setdefault(str(a.port), {"packets": 0, "attempts": 0})
        p["packets"] += len(a.packets)
        p["attempts"] += 1
    arrivals = [pk[1] for a in attempts for pk in a.packets]
    per_min = {}
    for a in attempts:
        m = minute_of(a.packets[0][1])
        per_min[m] = per_min.get(m, 0) + 1
    peak = max(per_min.values())
    peak_minute = min(m for m, c in per_min.items() if c == peak)
    return {
        "packets": packets,
        "attempts": len(attempts),
        "per_port": {k: per_port[k] for k in sorted(per_port, key=int)},
        "destinations": len({a.dst for a in attempts}),
        "first": iso(min(arrivals), precision),
        "last": iso(max(arrivals), precision),
        "peak_attempts_per_minute": peak,
        "peak_minute": iso(peak_minute, "s"),
    }, per_min


def burst_minute(per_min):
    """First minute with >= 5 attempts and >= a quarter of the busiest minute (docs/verdict.md)."""
    if not per_min:
        return None
    peak = max(per_min.values())
    for m in sorted(per_min):
        if per_min[m] >= 5 and per_min[m] * 4 >= peak:
            return m
    return None


def ground_truth(sc, meta):
    prec = sc.wrapper.precision
    groups = {}
    for a in sc.attempts:
        for key in a.keys:
            groups.setdefault(key, []).append(a)
    actors = []
    per_min_of = {}
    for (kind, key), atts in groups.items():
        fig, per_min = summarize(atts, prec)
        per_min_of[(kind, key)] = per_min
        entry = {"kind": kind, "key": key}
        if kind == "uid":
            entry["name"] = USER_NAMES.get(key)
        if kind == "interface":
            entry["clients"] = len({a.src for a in atts})
        entry.update(fig)
        hidden = sorted({a.hidden[1] for a in atts if a.hidden})
        if hidden:
            # who really sent it (not in the log: rules without --log-uid)
            entry["hidden_uids"] = {
                str(u): {"packets": sum(len(a.packets) for a in atts if a.hidden and a.hidden[1] == u),
                         "attempts": sum(1 for a in atts if a.hidden and a.hidden[1] == u)} for u in hidden}
        actors.append(entry)
    kind_order = {"interface": 0, "uid": 1, "src": 2}
    actors.sort(key=lambda e: (-e["attempts"], kind_order[e["kind"]], str(e["key"])))

    all_fig, _ = summarize(sc.attempts, prec)
    suspect = meta["suspect"]
    burst_start = None
    burst_min = None
    if suspect:
        key = (suspect["kind"], suspect["key"])
        burst_start = iso(min(pk[1] for a in sc.attempts if a.suspicious for pk in a.packets), prec)
        bm = burst_minute(per_min_of[key])
        burst_min = iso(bm, "s") if bm is not None else None
    # no (SRC, SPT, DST, DPT) is used by two attempts of one file: Linux would allow it once the first
    # socket is gone, these files avoid it so that grouping lines by the 4-tuple gives exactly the attempts
    tuples = {(a.src, a.spt, a.dst, a.port) for a in sc.attempts}
    assert len(tuples) == len(sc.attempts), sc.name
    return {
        "format": sc.wrapper.log_format,
        "wrapper": sc.wrapper.description,
        "host": sc.host,
        "kernel": meta["kernel"],
        "story": meta["story"],
        "expected_class": meta["expected_class"],
        "uid_known": meta["uid_known"],
        "suspect": suspect,
        "lines": sc.line_count,
        "bytes": sc.byte_count,
        "entries": all_fig["packets"],
        "attempts": all_fig["attempts"],
        "per_port": all_fig["per_port"],
        "destinations": all_fig["destinations"],
        "first_line": iso(sc.first_time, prec),
        "last_line": iso(sc.last_time, prec),
        "burst_start": burst_start,
        "burst_minute": burst_min,
        "actors": actors,
    }


def main():
    os.makedirs(LOGS, exist_ok=True)
    truth = {}
    for build in (scenario_webshell, scenario_proxy, scenario_relay_abuse, scenario_retry, scenario_clean, scenario_no_uid):
        sc, meta = build()
        sc.write()
        truth[sc.name] = ground_truth(sc, meta)
        print(f"{sc.name:28s} {sc.line_count:6d} lines {sc.byte_count:9d} bytes {truth[sc.name]['entries']:6d} entries "
              f"{truth[sc.name]['attempts']:5d} attempts {truth[sc.name]['destinations']:5d} destinations")
    with open(os.path.join(LOGS, "incidents.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(truth, f, indent=2, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(LOGS, "passwd"), "w", encoding="utf-8", newline="\n") as f:
        f.write(PASSWD)


if __name__ == "__main__":
    main()
