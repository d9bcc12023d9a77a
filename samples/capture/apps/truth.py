#!/usr/bin/python3
"""Ground truth of an apps.sh capture: which cause made each outgoing connection attempt.

  truth.py WORK OUT.json

The truth comes from what the capture itself did, not from the application logs:
  * sink.jsonl (the fake MXs): each accepted connection's peer port and the 'sample: TAG' line of
    every message it carried; a kernel attempt is the SYN series of one (SRC, SPT, DST, DPT), so
    the attempt whose SPT and DST equal a connection's peer port and local address carried exactly
    those messages;
  * the dead MXs (203.0.113.250/.251) accept nothing: their attempts are explained by the one planned
    action that was sent there (checked: exactly one);
  * the tags name the causes (drive.py's plan).
The application logs are then only checked and pointed at: for each message or session, the line of
each application log that records it (found with the cause's known client, user, queue ID or script;
an error when not exactly one line fits).

Fails (exit 1, nothing written) when a netfilter line is not ours, a kernel attempt is unexplained,
a sink connection has no kernel line, a planned tag is missing or seen twice, a UID is not the
program's, a SYN series has a gap (a line lost), or an application log line is missing.
"""
import datetime as dt
import importlib.util
import json
import os
import re
import statistics
import sys

WORK, OUT = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("drive", os.path.join(HERE, "drive.py"))
drive = importlib.util.module_from_spec(spec)
spec.loader.exec_module(drive)
VPS = "192.0.2.10"
ERRORS = []


def err(msg):
    ERRORS.append(msg)


def jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_lines(name):
    with open(os.path.join(WORK, "out", name), "rb") as f:
        return f.read().decode("utf-8", "replace").split("\n")[:-1]


def iso(t):
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


info = dict(line.split("=", 1) for line in read_lines("capture-info.txt"))
MTA = info.get("mta", "postfix")
PLAN = drive.plan(MTA)
CAUSES = PLAN["causes"]
YEAR = int(info["capture_date_utc"][:4])
# SYN retransmissions: the first net.ipv4.tcp_syn_linear_timeouts after 1 s each (Linux 6.5+), then doubling
LINEAR = int(info.get("tcp_syn_linear_timeouts", "0"))
passwd = {line.split(":")[0]: int(line.split(":")[2]) for line in read_lines("passwd")}
PROGRAM_UID = {program: passwd[user] for program, user in
               (("postfix", "postfix"), ("exim4", "Debian-exim"), ("v2ray", "v2ray"), ("shadowsocks-libev", "shadowsocks"))
               if user in passwd}
MX = {"198.51.100.7", "198.51.100.23", "198.51.100.41", "198.51.100.88", "198.51.100.133", "198.51.100.201",
      "203.0.113.5", "203.0.113.17", "203.0.113.64", "203.0.113.120", "203.0.113.250", "203.0.113.251"}

# ---------------------------------------------------------------------------------------------
# kernel lines (kern.log as published)
# ---------------------------------------------------------------------------------------------
KLINE = re.compile(r"^(\w{3}) +(\d+) (\d\d:\d\d:\d\d) vps01 kernel: \[ *(\d+\.\d+)\] (.*)$")
NF = re.compile(r"^(IPTABLES TCP-OUT (\d+):)IN=(\S*) OUT=(\S*) .*?SRC=(\S+) DST=(\S+) .*?PROTO=TCP SPT=(\d+) DPT=(\d+) "
                r".*?(SYN).*? UID=(\d+) GID=(\d+) $")
kern = read_lines("kern.log")
flows = {}
nf_lines = 0
for n, line in enumerate(kern, 1):
    m = KLINE.match(line)
    if not m:
        err(f"kern.log:{n}: not a kernel line: {line[:80]}")
        continue
    text = m.group(5)
    if " OUT=" not in text or "SRC=" not in text:
        continue  # other kernel messages
    nf_lines += 1
    f = NF.match(text)
    if not f or f.group(5) != VPS or f.group(6) not in MX or f.group(4) != "eth0":
        err(f"kern.log:{n}: a netfilter line that is not ours: {text[:100]}")
        continue
    stamp = dt.datetime.strptime(f"{YEAR} {m.group(1)} {int(m.group(2))} {m.group(3)}", "%Y %b %d %H:%M:%S")
    key = (f.group(5), int(f.group(7)), f.group(6), int(f.group(8)))
    flows.setdefault(key, []).append({"line": n, "uptime": float(m.group(4)), "stamp": stamp.replace(tzinfo=dt.timezone.utc),
                                      "uid": int(f.group(10)), "gid": int(f.group(11)), "prefix": f.group(1)})

# the private rsyslogd (imklog, /proc/kmsg) wrote every line of ours that /dev/kmsg holds (no other
# reader of /proc/kmsg took some)
kmsg = {int(line.split(",")[2]) for line in read_lines("kmsg.txt") if f";IPTABLES TCP-OUT" in line and f" SRC={VPS} " in line}
ours = {round(x["uptime"] * 1e6) for fl in flows.values() for x in fl}
if kmsg != ours:
    err(f"/dev/kmsg has {len(kmsg - ours)} of our lines that kern.log lacks, kern.log {len(ours - kmsg)} that it lacks")

# ---------------------------------------------------------------------------------------------
# what the capture did
# ---------------------------------------------------------------------------------------------
sink = jsonl(os.path.join(WORK, "sink.jsonl"))
conns = {r["conn"]: {"peer": tuple(r["peer"]), "local": tuple(r["local"]), "time": r["time"], "messages": []}
         for r in sink if r["event"] == "connect"}
for r in sink:
    if r["event"] == "message":
        conns[r["conn"]]["messages"].append(r)
actions = jsonl(os.path.join(WORK, "local.jsonl")) + jsonl(os.path.join(WORK, "client.jsonl"))


def cause_of(tag):
    prefix = tag.rsplit("-", 1)[0]
    return {"shell": "webshell"}.get(prefix, prefix)


planned = {}  # tag -> {cause, dst or recipient}
for a in PLAN["local"]:
    if a["cause"] == "contact":
        planned[a["argv"][2]] = {"cause": "contact", "recipient": a["argv"][3]}
    else:
        for item in a["argv"][1:]:
            if ":" in item and "@" in item:
                tag, to = item.split(":", 1)
                planned[tag] = {"cause": a["cause"], "recipient": to}
for a in PLAN["client"]:
    if a["kind"] == "submit":
        for tag, to in a["messages"]:
            planned[tag] = {"cause": a["cause"], "recipient": to}
    else:
        planned[a["tag"]] = {"cause": a["cause"], "dst": a["dst"], "port": a["port"]}
for tag, p in planned.items():
    if cause_of(tag) != p["cause"]:
        err(f"tag {tag} does not name its cause {p['cause']}")

# recipient domain -> MX address (the capture's transport map and hosts file)
hosts = {}
for line in open(os.path.join(HERE, "hosts")):
    parts = line.split()
    for name in parts[1:]:
        hosts[name] = parts[0]
transport = {}
for line in open(os.path.join(HERE, "transport")):
    domain, _, nexthop = line.strip().partition("=")
    transport[domain] = hosts[nexthop.split("[", 1)[1].rstrip("]")]
for tag, p in planned.items():
    if "recipient" in p:
        p["dst"], p["port"] = transport[p["recipient"].split("@", 1)[1]], 25

when = {}  # tag -> action record (start/end/outcome)
for a in actions:
    for tag in a["tags"]:
        if tag in when:
            err(f"tag {tag} in two actions")
        when[tag] = a
for tag in planned:
    if tag not in when:
        err(f"tag {tag} was planned but not run")
for a in actions:
    dead = a.get("dst") in PLAN["dead"]
    ok = a["outcome"] in ("sent", "exit 0")
    if ok == dead:
        err(f"action {a['tags']} ended '{a['outcome']}'")

# ---------------------------------------------------------------------------------------------
# the join of truth: kernel attempt <-> sink connection (SPT, DST) or the one action sent to a dead MX
# ---------------------------------------------------------------------------------------------
attempts = []
matched_conns = set()
offsets = []
for key, lines in sorted(flows.items(), key=lambda kv: kv[1][0]["uptime"]):
    src, spt, dst, dpt = key
    first = lines[0]
    if any(x["uid"] != first["uid"] for x in lines):
        err(f"flow {key}: UID changes")
    gaps = [round(b["uptime"] - a["uptime"], 3) for a, b in zip(lines, lines[1:])]
    for i, g in enumerate(gaps):
        due = 1 if i <= LINEAR else 2 ** (i - LINEAR)  # the kernel's SYN retransmission timer (observed: linear + 1 gaps of 1 s)
        if abs(g - due) > 0.4 + 0.05 * due:  # the timer's slack grows with the backoff (32.77 s seen for 32)
            err(f"flow {key}: retransmission gap {g} s where {due} s is due (a line lost?)")
    conn = [c for c, v in conns.items() if v["peer"] == (src, spt) and v["local"] == (dst, dpt)]
    if len(conn) > 1:
        err(f"flow {key}: {len(conn)} sink connections")
    at = {"src": src, "spt": spt, "dst": dst, "dpt": dpt, "uid": first["uid"], "gid": first["gid"],
          "prefix": first["prefix"], "lines": len(lines), "kern_log_lines": [x["line"] for x in lines],
          "uptime": first["uptime"], "last_uptime": lines[-1]["uptime"], "stamp": first["stamp"]}
    if conn:
        c = conns[conn[0]]
        matched_conns.add(conn[0])
        offsets.append(c["time"] - first["uptime"])
        at["connected"] = True
        at["tags"] = [t for m in c["messages"] for t in m["samples"]]
        at["sink"] = [{"tag": t, "queue_id": m["queue_id"], "received": m["time"], "x_php": m["x_php"]}
                      for m in c["messages"] for t in m["samples"]]
        if not at["tags"]:
            err(f"flow {key}: connection without a message")
    else:
        at["connected"] = False
        cands = [t for t, p in planned.items() if p["dst"] == dst and p["port"] == dpt and dst in PLAN["dead"]]
        if len(cands) != 1:
            err(f"flow {key}: unexplained (no sink connection; {len(cands)} planned actions to a dead MX there)")
        at["tags"] = cands
        at["sink"] = []
    attempts.append(at)
for c, v in conns.items():
    if v["peer"][0] == VPS and c not in matched_conns:
        err(f"sink connection {c} from {v['peer']} to {v['local']} has no kernel line")
seen = [t for a in attempts for t in a["tags"]]
for tag in planned:
    if seen.count(tag) != 1:
        err(f"tag {tag} is in {seen.count(tag)} attempts")

# kernel uptime -> Unix time: the SYN leaves just before the sink sees the connection (same machine)
OFFSET = statistics.median(offsets) if offsets else 0.0
if offsets and max(offsets) - min(offsets) > 0.5:
    err(f"uptime offsets spread {max(offsets) - min(offsets):.3f} s")

for at in attempts:
    if not at["connected"] and len(at["tags"]) == 1:
        a = when[at["tags"][0]]
        t = at["uptime"] + OFFSET
        if not a["start"] - 0.5 <= t <= a["end"] + 2:
            err(f"attempt {at['spt']}->{at['dst']}: first SYN at {iso(t)}, outside its action {iso(a['start'])}..{iso(a['end'])}")

# ---------------------------------------------------------------------------------------------
# the application logs' lines for each message/session (checked, one line each)
# ---------------------------------------------------------------------------------------------
def read_if(name):
    return read_lines(name) if os.path.exists(os.path.join(WORK, "out", name)) else []


mail = read_if("mail.log")
mainlog = read_if("exim4-mainlog")
access = read_if("v2ray-access.log")
ss = read_if("shadowsocks-ss-server.log")
php = read_lines("php-mail.log")
SYSLOG = re.compile(r"^(\w{3}) +(\d+) (\d\d:\d\d:\d\d) vps01 ([^:\[]+)(?:\[(\d+)\])?: (.*)$")


def syslog_time(m):
    return dt.datetime.strptime(f"{YEAR} {m.group(1)} {int(m.group(2))} {m.group(3)}", "%Y %b %d %H:%M:%S").replace(
        tzinfo=dt.timezone.utc).timestamp()


qid_lines = {}
for n, line in enumerate(mail, 1):
    m = SYSLOG.match(line)
    if not m:
        continue
    q = re.match(r"([0-9A-F]{8,}): (.*)$", m.group(6))
    if q:
        qid_lines.setdefault(q.group(1), []).append((n, m.group(4), q.group(2), syslog_time(m)))


exim_lines = {}  # Exim message ID -> [(line number, flag, rest)]
for n, line in enumerate(mainlog, 1):
    m = re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (\w{6}-\w{6}-\w{2}) (<=|=>|->|==|\*\*|Completed)(.*)$", line)
    if m:
        exim_lines.setdefault(m.group(1), []).append((n, m.group(2), m.group(3)))


def one(found, what):
    if len(found) != 1:
        err(f"{what}: {len(found)} log lines fit")
        return None
    return found[0]


def in_window(t, a, slack=1.0):
    return a["start"] - slack <= t <= a["end"] + slack


def evidence(tag, at):
    p, a, cause = planned[tag], when[tag], CAUSES[planned[tag]["cause"]]
    ev = {}
    if cause["program"] == "postfix":
        qid = next((s["queue_id"] for s in at["sink"] if s["tag"] == tag), None)
        if qid is None:  # the deferred message: its queue ID from its recipient in mail.log
            qid = one([q for q, ls in qid_lines.items() if any(f"to=<{p['recipient']}>" in x[2] for x in ls)],
                      f"{tag}: queue ID of <{p['recipient']}>")
        ls = qid_lines.get(qid, [])
        ev["queue_id"] = qid
        if "submitter_uid" in cause:
            ev["mail_log_pickup"] = one([n for n, prog, text, _ in ls if prog == "postfix/pickup"
                                         and text.startswith(f"uid={cause['submitter_uid']} ")], f"{tag}: pickup line")
        else:
            ev["mail_log_smtpd"] = one([n for n, prog, text, _ in ls if prog.endswith("/smtpd")
                                        and text == f"client=unknown[{cause['client']}]"], f"{tag}: smtpd client= line")
        ev["mail_log_delivery"] = one([n for n, prog, text, _ in ls if prog == "postfix/smtp" and f"to=<{p['recipient']}>" in text
                                       and f"[{at['dst']}]" in text], f"{tag}: smtp delivery line")
        if "script" in cause:
            fits = [n for n, line in enumerate(php, 1) if f"mail() on [{cause['script']}:" in line
                    and f"To: {p['recipient']} " in line]
            ev["php_mail_log"] = one(fits, f"{tag}: php mail.log line")
    elif cause["program"] == "exim4":
        qid = next((s["queue_id"] for s in at["sink"] if s["tag"] == tag), None)
        if qid is None:  # the deferred message: its ID from its recipient in the mainlog
            qid = one([q for q, ls in exim_lines.items() if any(f == "==" and x.startswith(f" {p['recipient']} ") for _, f, x in ls)],
                      f"{tag}: message ID of <{p['recipient']}>")
        ls = exim_lines.get(qid, [])
        ev["queue_id"] = qid
        who = f" U={cause['submitter']} P=local " if "submitter_uid" in cause else f" A=plain_server:{cause['sasl_username']} "
        ev["exim_mainlog_arrival"] = one([n for n, f, x in ls if f == "<=" and who in x], f"{tag}: <= line with{who}")
        ev["exim_mainlog_delivery"] = one([n for n, f, x in ls if f in ("=>", "==") and x.startswith(f" {p['recipient']} ")
                                           and f"[{at['dst']}]" in x], f"{tag}: => or == line")
        if "script" in cause:
            fits = [n for n, line in enumerate(php, 1) if f"mail() on [{cause['script']}:" in line
                    and f"To: {p['recipient']} " in line]
            ev["php_mail_log"] = one(fits, f"{tag}: php mail.log line")
    elif cause["program"] == "v2ray":
        client = cause["client"]
        user = cause["user"]
        fits = []
        for n, line in enumerate(access, 1):
            m = re.match(r"^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) (?:tcp:)?([\d.]+):\d+ accepted tcp:([\d.]+):(\d+) \[\S+\]"
                         r"(?: email: (\S+))?$", line)
            if m and m.group(2) == client and m.group(3) == p["dst"] and int(m.group(4)) == p["port"] \
                    and m.group(5) == user and in_window(dt.datetime.strptime(m.group(1), "%Y/%m/%d %H:%M:%S").replace(
                        tzinfo=dt.timezone.utc).timestamp(), a):
                fits.append(n)
        ev["v2ray_access_log"] = one(fits, f"{tag}: v2ray access line")
    else:
        port = re.search(r"port (\d+)", cause["via"]).group(1)
        fits = []
        for n, line in enumerate(ss, 1):
            m = re.match(r"^ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) INFO: \[(\d+)\] connect to ([\d.]+):(\d+)$", line)
            if m and m.group(2) == port and m.group(3) == p["dst"] and int(m.group(4)) == p["port"] and in_window(
                    dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.timezone.utc).timestamp(), a):
                fits.append(n)
        ev["shadowsocks_log"] = one(fits, f"{tag}: ss-server connect line")
    return ev


out_attempts = []
for at in attempts:
    programs = {CAUSES[planned[t]["cause"]]["program"] for t in at["tags"]}
    if len(programs) != 1:
        err(f"attempt {at['spt']}->{at['dst']}: programs {programs}")
        continue
    program = programs.pop()
    if at["uid"] != PROGRAM_UID[program]:
        err(f"attempt {at['spt']}->{at['dst']}: UID {at['uid']}, but {program} runs as {PROGRAM_UID[program]}")
    msgs = []
    for tag in at["tags"]:
        a = when[tag]
        s = next((s for s in at["sink"] if s["tag"] == tag), None)
        msgs.append({
            "tag": tag,
            "cause": planned[tag]["cause"],
            **({"recipient": planned[tag]["recipient"]} if "recipient" in planned[tag] else {}),
            "action_start": iso(a["start"]),
            **({"submitted": iso(a["submitted"][tag])} if tag in a.get("submitted", {}) else {}),
            "action_end": iso(a["end"]),
            "delivered": iso(s["received"]) if s else None,
            "evidence": evidence(tag, at),
        })
    causes = sorted({m["cause"] for m in msgs})
    out_attempts.append({
        "time": iso(at["uptime"] + OFFSET),
        "kern_log_time": at["stamp"].strftime("%b %e %H:%M:%S"),
        "uptime": at["uptime"],
        "uid": at["uid"],
        "program": program,
        "src": at["src"], "spt": at["spt"], "dst": at["dst"], "dpt": at["dpt"],
        "lines": at["lines"],
        "kern_log_lines": at["kern_log_lines"],
        "connected": at["connected"],
        "causes": causes,
        "messages": msgs,
        "window": {"from": min(m.get("submitted", m["action_start"]) for m in msgs),
                   "to": max([m["delivered"] or iso(at["last_uptime"] + OFFSET) for m in msgs]
                             + [m["action_end"] for m in msgs if CAUSES[m["cause"]]["program"] != "postfix"])},
    })

# what a join on program, destination and time alone would face: other attempts of the same UID to the
# same destination and port within 1 s
for x in out_attempts:
    same = [y for y in out_attempts if y is not x and y["uid"] == x["uid"] and y["dst"] == x["dst"] and y["dpt"] == x["dpt"]
            and abs(y["uptime"] - x["uptime"]) <= 1.0]
    x["same_uid_dst_within_1s"] = len(same)
    x["ambiguous_by_time"] = any(set(y["causes"]) != set(x["causes"]) for y in same)


def summary(group):
    return {"attempts": len(group), "lines": sum(a["lines"] for a in group),
            "connected": sum(a["connected"] for a in group),
            "destinations": sorted({a["dst"] for a in group}, key=lambda s: tuple(int(p) for p in s.split(".")))}


by_uid = {}
for a in out_attempts:
    by_uid.setdefault(str(a["uid"]), []).append(a)
by_cause = {}
for a in out_attempts:
    for c in a["causes"]:
        by_cause.setdefault(c, []).append(a)
totals = {
    "attempts": len(out_attempts),
    "lines": sum(a["lines"] for a in out_attempts),
    "messages": sum(len(a["messages"]) for a in out_attempts),
    "destinations": len({a["dst"] for a in out_attempts}),
    "netfilter_lines_in_kern_log": nf_lines,
    "ambiguous_by_time": sum(a["ambiguous_by_time"] for a in out_attempts),
    "by_uid": {u: {**summary(g), "program": g[0]["program"]} for u, g in sorted(by_uid.items())},
    "by_cause": {c: {**summary(g), "messages": sum(1 for a in g for m in a["messages"] if m["cause"] == c),
                     "uid": g[0]["uid"]} for c, g in sorted(by_cause.items())},
}
if nf_lines != totals["lines"]:
    err(f"{nf_lines} netfilter lines, {totals['lines']} in attempts")

if ERRORS:
    for e in ERRORS:
        print("truth.py:", e, file=sys.stderr)
    sys.exit(1)

doc = {
    "schema": "mailguard.apps-truth/1",
    "about": "Ground truth of samples/logs/apps (samples/capture/apps.sh): each outgoing connection attempt to a "
             "mail port in kern.log, the cause that made it, and the application-log lines that record it. Made "
             "from the capture's own records (the fake MX saw each connection's source port and each message's "
             "sample tag), not from the application logs; see README.md.",
    "capture": {k: info[k] for k in sorted(info)},
    "host": {"name": "vps01", "address": VPS, "uids": {u: passwd[u] for u in ("postfix", "Debian-exim", "webapp", "v2ray", "shadowsocks")
                                                      if u in passwd}},
    "causes": CAUSES,
    "dead_mx": PLAN["dead"],
    "uptime_to_unix_offset": round(OFFSET, 6),
    "totals": totals,
    "attempts": out_attempts,
}
with open(OUT, "w") as f:
    json.dump(doc, f, indent=1, sort_keys=False)
    f.write("\n")
print(f"truth.py: {totals['attempts']} attempts ({totals['lines']} lines), {totals['messages']} messages, "
      f"{len(by_cause)} causes, {totals['ambiguous_by_time']} ambiguous by time")
