#!/usr/bin/env python3
"""Checks samples/logs/incidents.json against the incident logs, re-deriving every figure from the text
with plain regular expressions over bytes (no code shared with make_incidents.py).

    python3 samples/incidents/check_incidents.py [incidents.json]   # exit status 0 when everything matches

Attempts are re-derived by grouping the lines by (SRC, SPT, DST, DPT), a new attempt when the same flow
comes back more than 120 s after its previous packet (MailGuard's RetryWindow); the number of distinct
4-tuples is checked too (the generator never reuses one, so both must equal the ground truth).
"""

import calendar
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LOGS = os.path.join(os.path.dirname(HERE), "logs")
YEAR = 2026
US = 1_000_000
WINDOW = 120 * US

MON = {m: i + 1 for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}
RFC3164 = re.compile(rb"^([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\S+) (.*)$")
RFC3339 = re.compile(rb"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(\+00:00|\+0000|Z) (\S+) (.*)$")
TCP_OUT = re.compile(rb"IPTABLES TCP-OUT (\d+):IN=(\S*) OUT=(\S*) ")
FIELD = {k: re.compile(rb" " + k.encode() + rb"=(\S+)") for k in ("SRC", "DST", "SPT", "DPT")}
UIDGID = re.compile(rb" UID=(\d+) GID=(\d+) $")


def parse_time(line):
    """(microseconds, has_fraction, rest of line) from the syslog / journal header."""
    m = RFC3164.match(line)
    if m:
        mon, day, hh, mm, ss = m.group(1).decode(), int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5))
        return calendar.timegm((YEAR, MON[mon], day, hh, mm, ss)) * US, False, m.group(7)
    m = RFC3339.match(line)
    if m:
        y, mo, d, hh, mm, ss = (int(m.group(i)) for i in range(1, 7))
        frac = m.group(7)
        us = int(frac.decode().ljust(6, "0")) if frac else 0
        return calendar.timegm((y, mo, d, hh, mm, ss)) * US + us, frac is not None, m.group(10)
    raise ValueError(f"no header: {line[:80]!r}")


def from_iso(text):
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{6}))?\+00:00$", text)
    y, mo, d, hh, mm, ss = (int(m.group(i)) for i in range(1, 7))
    return calendar.timegm((y, mo, d, hh, mm, ss)) * US + (int(m.group(7)) if m.group(7) else 0)


def iso(us, frac):
    from datetime import datetime, timezone
    d = datetime.fromtimestamp(us // US, tz=timezone.utc)
    if frac:
        return f"{d:%Y-%m-%dT%H:%M:%S}.{us % US:06d}+00:00"
    return f"{d:%Y-%m-%dT%H:%M:%S}+00:00"


class Acc:
    def __init__(self):
        self.packets = 0
        self.per_port = {}
        self.dsts = set()
        self.times = []
        self.attempt_starts = []
        self.clients = set()


def analyse(path):
    with open(path, "rb") as f:
        raw = f.read()
    assert raw.endswith(b"\n"), "file does not end with a newline"
    lines = raw.split(b"\n")[:-1]
    frac_seen = False
    entries = []
    problems = []
    for n, line in enumerate(lines, 1):
        t, frac, rest = parse_time(line)
        frac_seen = frac_seen or frac
        m = TCP_OUT.search(rest)
        if not m:
            continue
        f = {k: r.search(rest) for k, r in FIELD.items()}
        if any(v is None for v in f.values()):
            problems.append(f"line {n}: TCP-OUT without SRC/DST/SPT/DPT")
            continue
        port = int(m.group(1))
        if port != int(f["DPT"].group(1)):
            problems.append(f"line {n}: prefix port {port} != DPT")
        if not rest.endswith(b" URGP=0 ") and not UIDGID.search(rest):
            problems.append(f"line {n}: does not end like a kernel LOG line")
        if b" SYN URGP=0 " not in rest:
            problems.append(f"line {n}: not a SYN")
        u = UIDGID.search(rest)
        entries.append({
            "t": t, "port": port, "in": m.group(2).decode(), "src": f["SRC"].group(1).decode(),
            "dst": f["DST"].group(1).decode(), "spt": int(f["SPT"].group(1)),
            "uid": int(u.group(1)) if u else None,
        })
    return lines, entries, frac_seen, problems


def figures(entries, frac):
    actors = {}
    flows_last = {}
    tuples = set()
    total = Acc()
    for e in entries:
        keys = [("uid", e["uid"])] if e["uid"] is not None else [("src", e["src"])]
        if e["in"]:
            keys.append(("interface", e["in"]))
        flow = (e["src"], e["spt"], e["dst"], e["port"])
        tuples.add(flow)
        last = flows_last.get(flow)
        new = last is None or e["t"] - last > WINDOW
        flows_last[flow] = e["t"]
        for acc, key in [(total, None)] + [(actors.setdefault(k, Acc()), k) for k in keys]:
            acc.packets += 1
            p = acc.per_port.setdefault(str(e["port"]), {"packets": 0, "attempts": 0})
            p["packets"] += 1
            if new:
                p["attempts"] += 1
                acc.attempt_starts.append(e["t"])
            acc.dsts.add(e["dst"])
            acc.times.append(e["t"])
            if key and key[0] == "interface":
                acc.clients.add(e["src"])
    return total, actors, len(tuples)


def summary(acc, frac):
    per_min = {}
    for t in acc.attempt_starts:
        m = t - t % (60 * US)
        per_min[m] = per_min.get(m, 0) + 1
    peak = max(per_min.values())
    return {
        "packets": acc.packets,
        "attempts": len(acc.attempt_starts),
        "per_port": {k: acc.per_port[k] for k in sorted(acc.per_port, key=int)},
        "destinations": len(acc.dsts),
        "first": iso(min(acc.times), frac),
        "last": iso(max(acc.times), frac),
        "peak_attempts_per_minute": peak,
        "peak_minute": iso(min(m for m, c in per_min.items() if c == peak), False),
    }, per_min


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(LOGS, "incidents.json")
    with open(path, encoding="utf-8") as f:
        truth = json.load(f)
    failures = 0
    rows = []
    for name, gt in truth.items():
        errs = []
        lines, entries, frac, problems = analyse(os.path.join(LOGS, name))
        errs += problems
        total, actors, n_tuples = figures(entries, frac)

        def cmp(what, got, want):
            if got != want:
                errs.append(f"{what}: text {got!r} != json {want!r}")

        cmp("lines", len(lines), gt["lines"])
        cmp("bytes", os.path.getsize(os.path.join(LOGS, name)), gt["bytes"])
        cmp("entries", len(entries), gt["entries"])
        tot, _ = summary(total, frac)
        cmp("attempts", tot["attempts"], gt["attempts"])
        cmp("distinct 4-tuples", n_tuples, gt["attempts"])
        cmp("per_port", tot["per_port"], gt["per_port"])
        cmp("destinations", tot["destinations"], gt["destinations"])
        cmp("first_line", iso(parse_time(lines[0])[0], frac), gt["first_line"])
        cmp("last_line", iso(parse_time(lines[-1])[0], frac), gt["last_line"])
        want_keys = {(a["kind"], a["key"]) for a in gt["actors"]}
        cmp("actor set", sorted(map(str, actors)), sorted(map(str, want_keys)))
        per_min_of = {}
        for a in gt["actors"]:
            key = (a["kind"], a["key"])
            if key not in actors:
                continue
            got, per_min = summary(actors[key], frac)
            per_min_of[key] = per_min
            for k, v in got.items():
                cmp(f"{key} {k}", v, a[k])
            if a["kind"] == "interface":
                cmp(f"{key} clients", len(actors[key].clients), a["clients"])
            if "hidden_uids" in a:
                cmp(f"{key} hidden packets", sum(h["packets"] for h in a["hidden_uids"].values()), a["packets"])
                cmp(f"{key} hidden attempts", sum(h["attempts"] for h in a["hidden_uids"].values()), a["attempts"])
        sus = gt["suspect"]
        if sus is None:
            cmp("burst_start", None, gt["burst_start"])
        else:
            key = (sus["kind"], sus["key"])
            # the burst start is the time of a TCP-OUT line, and no earlier minute had 5 or more attempts
            bs = gt["burst_start"]
            if bs not in {iso(e["t"], frac) for e in entries}:
                errs.append(f"burst_start {bs} is not the time of a TCP-OUT line")
            _, all_min = summary(total, frac)
            bs_minute = from_iso(bs) - from_iso(bs) % (60 * US)
            busy_before = [iso(m, False) for m, c in sorted(all_min.items()) if c >= 5 and m < bs_minute]
            if busy_before:
                errs.append(f"burst_start {bs}: busy minutes before it: {busy_before[:3]}")
            peak = max(per_min_of[key].values())
            bm = next((m for m in sorted(per_min_of[key]) if per_min_of[key][m] >= 5 and per_min_of[key][m] * 4 >= peak), None)
            cmp("burst_minute", iso(bm, False) if bm is not None else None, gt["burst_minute"])
        top = gt["actors"][0]
        rows.append((name, gt["expected_class"], f"{top['kind']} {top['key']}", top["packets"], top["attempts"],
                     top["destinations"], gt["burst_start"] or "-", len(lines), os.path.getsize(os.path.join(LOGS, name))))
        status = "OK" if not errs else f"{len(errs)} MISMATCHES"
        print(f"{name}: {status} ({len(lines)} lines, {len(entries)} entries, {tot['attempts']} attempts, "
              f"{n_tuples} distinct 4-tuples, {len(actors)} actors)")
        for e in errs[:20]:
            print("   ", e)
        failures += bool(errs)
    print()
    print("| file | class | top actor | packets | attempts | destinations | burst start | lines | bytes |")
    print("|---|---|---|---:|---:|---:|---|---:|---:|")
    for r in rows:
        print("| `%s` | %s | %s | %d | %d | %d | %s | %d | %d |" % r)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
