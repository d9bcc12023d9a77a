#!/usr/bin/env python3
"""Independent counter for the sample logs (no C#; plain regexes over bytes).

  expected.py DIR     writes DIR/expected.json and refreshes the figures table
                      between the markers in DIR/README.md

Definitions (applied to every line; for journal.json to every record's MESSAGE,
which may be a JSON string or an array of byte values):
  total_lines        number of lines in the file (journal.json: number of records)
  netfilter_lines    lines containing  IN=<no space> OUT=<no space><space>
                     (the kernel LOG printer's fixed start; the prefix may touch IN=)
  tcp_out            lines containing  "IPTABLES TCP-OUT <digits>:IN=<..> OUT=<..> "
  tcp_out_by_port    tcp_out split by the <digits> of the prefix (25, 465, 587; ports
                     without lines left out)
  tcp_out_by_uid     tcp_out split by the value of " UID=<n> GID=" (top level)
  tcp_out_without_uid tcp_out entries with no UID= field
  tcp_out_by_port_uid "<port>/<uid or none>" -> count
  tcp_out_distinct_dst / tcp_out_dst_list  distinct first DST= values of tcp_out
  tcp_out_incomplete tcp_out entries that do not end (after optional CR/space
                     trimming) in "URGP=<n>" or "URGP=<n> UID=<n> GID=<n>"
                     (i.e. cut by the logging daemon)
  repeated_lines     lines containing "message repeated "
  journal_blobs      lines containing "[<digits>B blob data]" (journalctl's stand-in
                     for a message that is not UTF-8)
  clock              the clock the lines' own stamps give: "wall-clock" (a date and
                     time: syslog, RFC 3339/5424, journalctl short/-iso/-full/-unix,
                     journal JSON __REALTIME_TIMESTAMP, dmesg -T/--time-format=iso),
                     "uptime" (only the kernel's seconds since boot: dmesg, dmesg -r,
                     /dev/kmsg, journalctl short-monotonic/short-delta), "none"
  tcp_out_peak_minute the most tcp_out lines within one minute of that clock (wall
                     minutes as the stamp writes them; uptime: seconds // 60);
                     null when the clock is "none"
"""
import collections
import json
import os
import re
import sys

NF = re.compile(rb"IN=[^ ]* OUT=[^ ]* ")
TCP_OUT = re.compile(rb"IPTABLES TCP-OUT (\d+):IN=[^ ]* OUT=[^ ]* ")
UID = re.compile(rb" UID=(\d+) GID=")
DST = re.compile(rb" DST=([0-9A-Fa-f.:]+)")
COMPLETE = re.compile(rb"URGP=\d+(?: UID=\d+ GID=\d+)?$")
BLOB = re.compile(rb"\[\d+B blob data\]")

# the line's own stamp -> (clock, minute key); the first pattern that matches the start of the line wins
WALL = [
    re.compile(rb"^<\d+>1 (\d{4}-\d\d-\d\dT\d\d:\d\d)"),                   # RFC 5424
    re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d)"),                           # RFC 3339, dmesg --time-format=iso
    re.compile(rb"^([A-Z][a-z]{2} [ \d]\d \d\d:\d\d)"),                         # RFC 3164, journalctl short
    re.compile(rb"^[A-Z][a-z]{2} (\d{4}-\d\d-\d\d \d\d:\d\d)"),                # journalctl short-full
    re.compile(rb"^\[[A-Z][a-z]{2} ([A-Z][a-z]{2} [ \d]\d \d\d:\d\d):\d\d (\d{4})\]"),  # dmesg -T
]
UNIX = re.compile(rb"^(\d{9,})\.\d+ ")                                        # journalctl short-unix
UPTIME = [
    re.compile(rb"^(?:<\d+>)?\[ *(\d+)\.\d+[ <\]]"),                              # dmesg, -r, short-monotonic, short-delta
]
KMSG = re.compile(rb"^\d+,\d+,(\d+),")                                        # /dev/kmsg (microseconds)


def stamp(line, realtime=None):
    if realtime is not None:
        return "wall-clock", int(realtime) // 60_000_000
    for r in WALL:
        m = r.match(line)
        if m:
            return "wall-clock", m.groups()
    m = UNIX.match(line)
    if m:
        return "wall-clock", int(m.group(1)) // 60
    for r in UPTIME:
        m = r.match(line)
        if m:
            return "uptime", int(m.group(1)) // 60
    m = KMSG.match(line)
    if m:
        return "uptime", int(m.group(1)) // 60_000_000
    return "none", None

FILES = [
    "kern.log", "kern-rfc3339.log", "syslog-rfc5424.log", "iptables-split.log", "messages",
    "busybox.log", "syslog-ng.log", "dmesg.txt", "dmesg-r.txt", "dmesg-T.txt", "dmesg-iso.txt",
    "kmsg.txt", "journal-short.txt", "journal-short-iso.txt", "journal-short-iso-precise.txt",
    "journal-short-precise.txt", "journal-short-full.txt", "journal-short-monotonic.txt",
    "journal-short-unix.txt", "journal-cat.txt", "journal.json",
    "journal-short-delta.txt", "central-traditional.log",
]


def lines_of(path):
    """(text, stamp) per line; for journal JSON the MESSAGE and the record's wall-clock time."""
    data = open(path, "rb").read()
    if path.endswith(".json"):
        out = []
        for raw in data.splitlines():
            rec = json.loads(raw)
            m = rec.get("MESSAGE", "")
            out.append((bytes(m) if isinstance(m, list) else m.encode("utf-8"), stamp(b"", rec.get("__REALTIME_TIMESTAMP"))))
        return out
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [(ln, stamp(ln)) for ln in lines]


def figures(path):
    lines = lines_of(path)
    by_port = collections.Counter()
    by_uid = collections.Counter()
    by_port_uid = collections.Counter()
    dsts = set()
    per_minute = {"wall-clock": collections.Counter(), "uptime": collections.Counter()}
    nf = tcp = no_uid = incomplete = rep = blobs = 0
    for ln, (clock, minute) in lines:
        if b"message repeated " in ln:
            rep += 1
        if BLOB.search(ln):
            blobs += 1
        if NF.search(ln):
            nf += 1
        m = TCP_OUT.search(ln)
        if not m:
            continue
        tcp += 1
        if clock != "none":
            per_minute[clock][minute] += 1
        port = m.group(1).decode()
        by_port[port] += 1
        u = UID.search(ln)
        uid = u.group(1).decode() if u else None
        if uid is None:
            no_uid += 1
        else:
            by_uid[uid] += 1
        by_port_uid[f"{port}/{uid if uid is not None else 'none'}"] += 1
        d = DST.search(ln)
        if d:
            dsts.add(d.group(1).decode())
        if not COMPLETE.search(ln.rstrip(b"\r").rstrip(b" ")):
            incomplete += 1
    clock_of = "wall-clock" if per_minute["wall-clock"] else "uptime" if per_minute["uptime"] else "none"
    return {
        "total_lines": len(lines),
        "netfilter_lines": nf,
        "tcp_out": tcp,
        "tcp_out_by_port": {p: by_port[p] for p in ("25", "465", "587") if by_port.get(p)},
        "tcp_out_by_uid": dict(sorted(by_uid.items(), key=lambda kv: int(kv[0]))),
        "tcp_out_without_uid": no_uid,
        "tcp_out_by_port_uid": dict(sorted(by_port_uid.items())),
        "tcp_out_distinct_dst": len(dsts),
        "tcp_out_dst_list": sorted(dsts),
        "tcp_out_incomplete": incomplete,
        "repeated_lines": rep,
        "journal_blobs": blobs,
        "clock": clock_of,
        "tcp_out_peak_minute": max(per_minute[clock_of].values()) if clock_of != "none" else None,
    }


def main():
    d = sys.argv[1]
    result = {}
    for f in FILES:
        p = os.path.join(d, f)
        if os.path.exists(p):
            result[f] = figures(p)
    with open(os.path.join(d, "expected.json"), "w") as fh:
        json.dump(result, fh, indent=2, sort_keys=False)
        fh.write("\n")
    rows = ["| file | lines | LOG lines | TCP-OUT | :25 | :465 | :587 | by UID | no UID | distinct DST | cut | repeated | clock | peak/min |",
            "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---:|"]
    for f, r in result.items():
        uids = ", ".join(f"{k}:{v}" for k, v in r["tcp_out_by_uid"].items())
        bp = r["tcp_out_by_port"]
        rows.append(f"| `{f}` | {r['total_lines']} | {r['netfilter_lines']} | {r['tcp_out']} | {bp.get('25', 0)} | "
                    f"{bp.get('465', 0)} | {bp.get('587', 0)} | {uids} | {r['tcp_out_without_uid']} | "
                    f"{r['tcp_out_distinct_dst']} | {r['tcp_out_incomplete']} | {r['repeated_lines']} | "
                    f"{r['clock']} | {r['tcp_out_peak_minute'] if r['tcp_out_peak_minute'] is not None else '-'} |")
    readme = os.path.join(d, "README.md")
    if os.path.exists(readme):
        text = open(readme, encoding="utf-8").read()
        b, e = "<!-- figures:begin -->", "<!-- figures:end -->"
        if b in text and e in text:
            head, rest = text.split(b, 1)
            _, tail = rest.split(e, 1)
            text = head + b + "\n" + "\n".join(rows) + "\n" + e + tail
            open(readme, "w", encoding="utf-8").write(text)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
