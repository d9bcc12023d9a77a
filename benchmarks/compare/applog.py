#!/usr/bin/env python3
"""Writes a Postfix mail.log that matches a generated kernel log (benchmarks/MailGuard.LogGen), for the join's benchmark.

    applog.py KERN_LOG MAIL_LOG

Every new connection attempt of the kernel log (a SYN line whose SRC, SPT, DST and DPT were not seen in the
last 120 s: a retransmission adds no line) gets what Postfix writes for one message sent over one connection,
in the same second: `pickup` (uid= the kernel line's UID), `smtp` (to=<…>, relay=mx[DST]:DPT, delays),
`qmgr … removed`. So the join has one line to find per attempt, among all the others of the same second.
Prints the counts on stderr. Deterministic: the same kernel log gives the same bytes.
"""
import re
import sys

LINE = re.compile(rb'^(\w{3} [ \d]\d \d\d:\d\d:\d\d) (\S+) kernel: .*?IPTABLES TCP-OUT \d+:.*? SRC=(\S+) DST=(\S+) .*?SPT=(\d+) DPT=(\d+) ')
UID = re.compile(rb' UID=(\d+)')
WINDOW = 120


def seconds(stamp):
    # "Nov 23 00:00:00": the day and time suffice to order within a month
    day = int(stamp[4:6])
    h, m, s = (int(x) for x in stamp[7:15].split(b':'))
    return ((day * 24 + h) * 60 + m) * 60 + s


def main():
    kern, out = sys.argv[1], sys.argv[2]
    seen = {}
    attempts = lines = 0
    qid = 0
    with open(kern, 'rb') as f, open(out, 'wb', buffering=1 << 20) as w:
        for raw in f:
            lines += 1
            if b'IPTABLES TCP-OUT' not in raw or b' SYN ' not in raw or b' ACK ' in raw:
                continue
            m = LINE.match(raw)
            if not m:
                continue
            stamp, host, src, dst, spt, dpt = m.groups()
            u = UID.search(raw, m.end())
            t = seconds(stamp)
            key = (src, spt, dst, dpt)
            last = seen.get(key)
            seen[key] = t
            if last is not None and t - last <= WINDOW:
                continue
            attempts += 1
            qid += 1
            q = b'%010X' % qid
            u = u.group(1) if u else b'0'
            w.write(b'%s %s postfix/pickup[811]: %s: uid=%s from=<u%s>\n' % (stamp, host, q, u, u))
            w.write(b'%s %s postfix/smtp[812]: %s: to=<rcpt%d@example.org>, relay=mx.example.org[%s]:%s, delay=0.05, delays=0.01/0/0.02/0.02, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n'
                    % (stamp, host, q, qid, dst, dpt))
            w.write(b'%s %s postfix/qmgr[810]: %s: removed\n' % (stamp, host, q))
            if len(seen) > 4_000_000:
                seen = {k: v for k, v in seen.items() if t - v <= WINDOW}
    print(f'{lines} kernel lines, {attempts} attempts: {3 * attempts} mail.log lines', file=sys.stderr)


if __name__ == '__main__':
    main()
