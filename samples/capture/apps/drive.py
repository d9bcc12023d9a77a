#!/usr/bin/python3
"""The traffic of apps.sh, on one schedule for both sides (every action bounded in time).

  drive.py plan MTA             print the schedule and the causes as JSON (truth.py imports plan())
  drive.py local MTA T0 OUT     in the VPS (mount namespace of vps.sh, as root): the web application's
                                submissions, run as uid 1801 with setpriv
  drive.py client MTA T0 OUT    in mg-aclient: the office's SMTP submission and (with Postfix) the
                                proxy clients
MTA is postfix or exim: with Exim the office logs in (SMTP AUTH PLAIN, its password stolen in the
story) and there are no proxies.

T0 is a Unix time shared by both sides; each action starts at T0 + at. OUT gets one JSON line per
action (start/end in Unix seconds with microseconds, the tags it carried, the outcome).
Every message carries its tag as a body line 'sample: TAG'; the fake MX (sink.py) reads it there. No
log shows the body.
"""
import json
import smtplib
import socket
import struct
import subprocess
import sys
import threading
import time

WEBSHELL = "/var/www/html/wp-content/uploads/2026/12/cache.php"


def mta_causes(program, local, office):
    """The web application's three ways into the MTA (as uid 1801) and the office's: how PROGRAM logs them."""
    user = {"submitter_uid": 1801, "submitter": "webapp"}
    return {
        "report": {"program": program, "via": f"sendmail ({local})", **user, "command": "/var/www/bin/nightly-report.sh"},
        "contact": {"program": program, "via": f"php mail() -> sendmail ({local})", **user, "script": "/var/www/html/contact.php"},
        "webshell": {"program": program, "via": f"php mail() -> sendmail ({local})", **user, "script": WEBSHELL},
        "office": {"program": program, "via": office[0], "client": "203.0.113.79", "sasl_username": office[1]},
    }


CAUSES = mta_causes("postfix", "postfix/pickup",
                    ("smtp submission port 587 (postfix/submission/smtpd), relay by mynetworks, no SASL", None))
VMESS = "vmess inbound 'vmess-in' (port 10086)"
# proxy users: name -> (program, inbound, client address, user)
PROXY_USERS = {
    "alice": ("v2ray", VMESS, "203.0.113.77", "alice@example.com"),
    "bob": ("v2ray", VMESS, "203.0.113.78", "bob@example.org"),
    "mallory": ("v2ray", "socks inbound 'socks-in' (port 1080, no auth: an open proxy)", "203.0.113.81", None),
    "carol": ("shadowsocks-libev", "ss-server port 8388 (user carol)", "203.0.113.80", "carol (port 8388)"),
    "dave": ("shadowsocks-libev", "ss-server port 8389 (user dave)", "203.0.113.80", "dave (port 8389)"),
}
CAUSES.update({name: {"program": p, "via": via, "client": client, "user": user}
               for name, (p, via, client, user) in PROXY_USERS.items()})

EHLO = {"alice": "DESKTOP-7F3K2QH", "bob": "bob-laptop", "mallory": "ylmf-pc", "carol": "mail.example.com",
        "dave": "localhost"}
PROXY = {"alice": ("127.0.0.1", 10801, None), "bob": ("127.0.0.1", 10802, None),
         "mallory": ("192.0.2.10", 1080, "203.0.113.81"),
         "carol": ("127.0.0.1", 10803, None), "dave": ("127.0.0.1", 10804, None)}
DEAD = {"203.0.113.250", "203.0.113.251"}


EXIM_CAUSES = mta_causes("exim4", "exim4, U=webapp",
                         ("smtp submission port 587, SMTP AUTH PLAIN (A=plain_server:...)", "office@example.org"))
OFFICE_LOGIN = ("office@example.org", "office-documentation-only-9e")


def plan(mta="postfix"):
    local = [
        {"at": 0.0, "cause": "report", "argv": ["/var/www/bin/nightly-report.sh", "report-1:admin@example.org",
                                                  "report-2:ops@example.com", "report-3:billing@example.net"]},
        {"at": 4.0, "cause": "contact", "argv": ["php", "/var/www/html/contact.php", "contact-1", "sales@example.com"]},
        {"at": 8.0, "cause": "contact", "argv": ["php", "/var/www/html/contact.php", "contact-2", "info@shop.example.com"]},
        {"at": 20.0, "cause": "webshell", "argv": ["php", "/var/www/html/wp-content/uploads/2026/12/cache.php"] + [
            f"shell-{i + 1}:{to}" for i, to in enumerate([
                "anna@example.net", "ben@example.net", "chris@example.org", "dora@example.org",
                "emil@shop.example.com", "fay@news.example.org", "gus@example.com", "hal@dead.example.net"])]},
    ]
    client = [
        {"at": 2.0, "cause": "office", "kind": "submit", "messages": [["office-1", "partner@example.com"],
                                                                      ["office-2", "orders@news.example.org"]]},
        {"at": 10.0, "cause": "office", "kind": "submit", "messages": [["office-3", "team@example.org"],
                                                                       ["office-4", "buyer@shop.example.com"]]},
    ]
    ring = ["198.51.100.88", "198.51.100.133", "198.51.100.201", "203.0.113.64", "203.0.113.120", "198.51.100.7"]
    for i in range(12):
        client.append({"at": 15.0 + i, "cause": "alice", "kind": "proxy", "dst": ring[i % 6], "tag": f"alice-{i + 1}"})
    for i, (at, dst) in enumerate([(15.0, "198.51.100.88"), (18.5, "198.51.100.7"), (21.5, "198.51.100.133"),
                                   (24.0, "203.0.113.250")]):
        client.append({"at": at, "cause": "bob", "kind": "proxy", "dst": dst, "tag": f"bob-{i + 1}"})
    for i, at in enumerate([16.2, 18.2, 20.2]):
        client.append({"at": at, "cause": "mallory", "kind": "proxy", "dst": "203.0.113.64", "tag": f"mallory-{i + 1}"})
    cring = ["198.51.100.201", "203.0.113.120", "198.51.100.23"]
    for i in range(6):
        client.append({"at": 15.5 + 1.5 * i, "cause": "carol", "kind": "proxy", "dst": cring[i % 3], "tag": f"carol-{i + 1}"})
    for i, at in enumerate([20.0, 23.0]):
        client.append({"at": at, "cause": "dave", "kind": "proxy", "dst": "198.51.100.41", "tag": f"dave-{i + 1}"})
    for a in client:
        if a["kind"] == "proxy":
            a["port"] = 25
            a["timeout"] = 8.0 if a["dst"] in DEAD else 15.0
    if mta == "exim":
        client = [dict(a, auth=list(OFFICE_LOGIN)) for a in client if a["kind"] == "submit"]
        return {"mta": mta, "causes": EXIM_CAUSES, "local": local, "client": client, "dead": sorted(DEAD)}
    return {"mta": mta, "causes": CAUSES, "local": local, "client": client, "dead": sorted(DEAD)}


def body(tag, to, sender, subject):
    return (f"From: {sender}\r\nTo: <{to}>\r\nSubject: {subject}\r\n\r\n"
            f"Hello,\r\nthis is a message of the MailGuard sample capture.\r\nsample: {tag}\r\n")


def socks5(sock, host, port):
    sock.sendall(b"\x05\x01\x00")
    if sock.recv(2) != b"\x05\x00":
        raise OSError("socks: no acceptable method")
    sock.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(host) + struct.pack(">H", port))
    rep = b""
    while len(rep) < 10:
        chunk = sock.recv(10 - len(rep))
        if not chunk:
            raise OSError("socks: closed")
        rep += chunk
    if rep[1] != 0:
        raise OSError(f"socks: reply {rep[1]}")


class ProxySMTP(smtplib.SMTP):
    def __init__(self, proxy, **kw):
        self._proxy = proxy
        super().__init__(**kw)

    def _get_socket(self, host, port, timeout):
        phost, pport, src = self._proxy
        s = socket.create_connection((phost, pport), timeout, (src, 0) if src else None)
        socks5(s, host, port)
        return s


def run_client(a):
    rec = {"cause": a["cause"], "kind": a["kind"], "tags": []}
    try:
        if a["kind"] == "submit":
            with smtplib.SMTP("192.0.2.10", 587, local_hostname="office-pc.example.org", timeout=20,
                              source_address=("203.0.113.79", 0)) as s:
                s.ehlo()
                if a.get("auth"):
                    s.login(*a["auth"])
                for tag, to in a["messages"]:
                    s.sendmail("orders@example.org", [to], body(tag, to, "orders@example.org", "Order confirmation"))
                    rec["tags"].append(tag)
        else:
            rec["dst"], rec["port"] = a["dst"], a["port"]
            rec["tags"].append(a["tag"])
            with ProxySMTP(PROXY[a["cause"]], local_hostname=EHLO[a["cause"]], timeout=a["timeout"]) as s:
                s.connect(a["dst"], a["port"])
                to = "info@example.net"
                s.sendmail("promo@example.com", [to], body(a["tag"], to, "promo@example.com", "You have won"))
        rec["outcome"] = "sent"
    except (OSError, smtplib.SMTPException) as e:
        rec["outcome"] = f"error: {type(e).__name__}: {e}"
    return rec


def run_local(a):
    rec = {"cause": a["cause"], "kind": "local", "argv": a["argv"],
           "tags": [x.split(":", 1)[0] for x in a["argv"][1:] if ":" in x and "@" in x]}
    if a["cause"] == "contact":
        rec["tags"] = [a["argv"][2]]
    env = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/var/www", "USER=webapp", "LOGNAME=webapp", "TZ=UTC"]
    try:
        p = subprocess.run(["setpriv", "--reuid=webapp", "--regid=webapp", "--init-groups"] + env + a["argv"],
                           cwd="/var/www", capture_output=True, timeout=60, text=True)
        rec["outcome"] = f"exit {p.returncode}" + (f": {p.stderr.strip()}" if p.stderr.strip() else "")
        rec["submitted"] = {w[1]: float(w[2]) for w in (line.split() for line in p.stdout.splitlines())
                            if len(w) == 3 and w[0] == "submit"}
    except subprocess.TimeoutExpired:
        rec["outcome"] = "timeout"
    return rec


def schedule(actions, fn, t0, out):
    lock = threading.Lock()
    recs = []

    def one(a):
        delay = t0 + a["at"] - time.time()
        if delay > 0:
            time.sleep(delay)
        start = time.time()
        rec = fn(a)
        rec.update({"at": a["at"], "start": round(start, 6), "end": round(time.time(), 6)})
        with lock:
            recs.append(rec)

    threads = [threading.Thread(target=one, args=(a,), daemon=True) for a in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    with open(out, "w") as f:
        for r in sorted(recs, key=lambda r: (r["start"], r["cause"])):
            f.write(json.dumps(r, sort_keys=True) + "\n")
    return 0 if len(recs) == len(actions) else 1


def main():
    cmd, mta = sys.argv[1], sys.argv[2]
    p = plan(mta)
    if cmd == "plan":
        json.dump(p, sys.stdout, indent=1, sort_keys=True)
        return 0
    t0, out = float(sys.argv[3]), sys.argv[4]
    if cmd == "local":
        return schedule(p["local"], run_local, t0, out)
    if cmd == "client":
        return schedule(p["client"], run_client, t0, out)
    sys.exit("usage: drive.py plan MTA | local MTA T0 OUT | client MTA T0 OUT")


if __name__ == "__main__":
    sys.exit(main())
