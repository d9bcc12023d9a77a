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
  tcp_out_by_port    tcp_out split by the <digits> of the prefix
  tcp_out_by_uid     tcp_out split by the value of " UID=<n> GID=" (top level)
  tcp_out_without_uid tcp_out entries with no UID= field
  tcp_out_by_port_uid "<port>/<uid or none>" -> count
  tcp_out_distinct_dst / tcp_out_dst_list  distinct first DST= values of tcp_out
  tcp_out_incomplete tcp_out entries that do not end (after optional CR/space
                     trimming) in "URGP=<n>" or "URGP=<n> UID=<n> GID=<n>"
                     (i.e. cut by the logging daemon)
  repeated_lines     lines containing "message repeated "
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

FILES = [
    "kern.log", "kern-rfc3339.log", "syslog-rfc5424.log", "iptables-split.log", "messages",
    "busybox.log", "syslog-ng.log", "dmesg.txt", "dmesg-r.txt", "dmesg-T.txt", "dmesg-iso.txt",
    "kmsg.txt", "journal-short.txt", "journal-short-iso.txt", "journal-short-iso-precise.txt",
    "journal-short-precise.txt", "journal-short-full.txt", "journal-short-monotonic.txt",
    "journal-short-unix.txt", "journal-cat.txt", "journal.json",
]


def lines_of(path):
    data = open(path, "rb").read()
    if path.endswith(".json"):
        out = []
        for raw in data.splitlines():
            rec = json.loads(raw)
            m = rec.get("MESSAGE", "")
            out.append(bytes(m) if isinstance(m, list) else m.encode("utf-8"))
        return out
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def figures(path):
    lines = lines_of(path)
    by_port = collections.Counter()
    by_uid = collections.Counter()
    by_port_uid = collections.Counter()
    dsts = set()
    nf = tcp = no_uid = incomplete = rep = 0
    for ln in lines:
        if b"message repeated " in ln:
            rep += 1
        if NF.search(ln):
            nf += 1
        m = TCP_OUT.search(ln)
        if not m:
            continue
        tcp += 1
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
    return {
        "total_lines": len(lines),
        "netfilter_lines": nf,
        "tcp_out": tcp,
        "tcp_out_by_port": {p: by_port.get(p, 0) for p in ("25", "465", "587")},
        "tcp_out_by_uid": dict(sorted(by_uid.items(), key=lambda kv: int(kv[0]))),
        "tcp_out_without_uid": no_uid,
        "tcp_out_by_port_uid": dict(sorted(by_port_uid.items())),
        "tcp_out_distinct_dst": len(dsts),
        "tcp_out_dst_list": sorted(dsts),
        "tcp_out_incomplete": incomplete,
        "repeated_lines": rep,
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
    rows = ["| file | lines | LOG lines | TCP-OUT | :25 | :465 | :587 | by UID | no UID | distinct DST | cut | repeated |",
            "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for f, r in result.items():
        uids = ", ".join(f"{k}:{v}" for k, v in r["tcp_out_by_uid"].items())
        bp = r["tcp_out_by_port"]
        rows.append(f"| `{f}` | {r['total_lines']} | {r['netfilter_lines']} | {r['tcp_out']} | {bp['25']} | "
                    f"{bp['465']} | {bp['587']} | {uids} | {r['tcp_out_without_uid']} | "
                    f"{r['tcp_out_distinct_dst']} | {r['tcp_out_incomplete']} | {r['repeated_lines']} |")
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
