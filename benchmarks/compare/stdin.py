#!/usr/bin/env python3
"""Standard input vs a named file, a rotated set vs one file, and a merge of different logs, for two mgscan binaries, in alternation.

    benchmarks/compare/stdin.py BEFORE AFTER LOG [LOG...] [--rounds N] [--parts 8] [--cases file,stdin,rotated,merge]

For every LOG: `mgscan LOG`, `cat LOG | mgscan`, `mgscan LOG.d/kern.log LOG.d/kern.log.1 ...` (the same lines cut
into PARTS files, newest first as logrotate names them) and `mgscan LOG.merge.d/a.log LOG.merge.d/b.log` (its lines dealt
alternately to two files: two different logs of the same hours, merged in time order line by line), each with BEFORE and
AFTER, one run of each per round in turn, so that the shared machine's noise falls on all of them alike. Prints the median
wall time of each and checks that every run of a log printed the same report (byte for byte: the text report and
--format json). --cases picks some of them (default: all).
"""
import hashlib, os, resource, statistics, subprocess, sys, time

args = [a for a in sys.argv[1:]]
rounds, parts = 3, 8
chosen = ["file", "stdin", "rotated", "merge"]
if "--cases" in args:
    i = args.index("--cases"); chosen = args[i + 1].split(","); del args[i:i + 2]
if "--rounds" in args:
    i = args.index("--rounds"); rounds = int(args[i + 1]); del args[i:i + 2]
if "--parts" in args:
    i = args.index("--parts"); parts = int(args[i + 1]); del args[i:i + 2]
before, after, logs = args[0], args[1], args[2:]

def split(log):
    d = log + ".d"
    if os.path.isdir(d):
        return sorted(os.path.join(d, f) for f in os.listdir(d))
    os.makedirs(d)
    size = os.path.getsize(log)
    names = ["kern.log"] + [f"kern.log.{i}" for i in range(1, parts)]
    with open(log, "rb") as f:
        for k in range(parts):
            end = size * (k + 1) // parts
            chunk = f.read(end - f.tell())
            if k < parts - 1:
                chunk += f.readline()  # cut at a line end
            # the oldest lines go to the highest number
            with open(os.path.join(d, names[parts - 1 - k]), "wb") as out:
                out.write(chunk)
    mtime = os.path.getmtime(log)
    for n in names:
        os.utime(os.path.join(d, n), (mtime, mtime))
    return [os.path.join(d, n) for n in names]

def interleave(log):
    d = log + ".merge.d"
    names = [os.path.join(d, "a.log"), os.path.join(d, "b.log")]
    if os.path.isdir(d):
        return names
    os.makedirs(d)
    with open(log, "rb") as f, open(names[0], "wb") as a, open(names[1], "wb") as b:
        outs = (a, b)
        for n, line in enumerate(f):
            outs[n & 1].write(line)
    mtime = os.path.getmtime(log)
    for n in names:
        os.utime(n, (mtime, mtime))
    return names

def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime

def run(cmd, stdin_path=None):
    c = cpu()
    t = time.perf_counter()
    if stdin_path:
        cat = subprocess.Popen(["cat", stdin_path], stdout=subprocess.PIPE)
        p = subprocess.run(cmd, stdin=cat.stdout, capture_output=True)
        cat.stdout.close(); cat.wait()
    else:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True)
    dt = time.perf_counter() - t
    cpus.setdefault(" ".join(cmd) + f" < {stdin_path}", []).append(cpu() - c)  # user + system time of the run (and of cat)
    if p.returncode not in (0, 1):
        sys.exit(f"{cmd}: exit {p.returncode}: {p.stderr.decode()[:500]}")
    return dt, hashlib.sha256(p.stdout).hexdigest()[:16]

cpus = {}

for log in logs:
    rotated = split(log) if "rotated" in chosen else []
    merged = interleave(log) if "merge" in chosen else []
    cases = []
    for name, binary in (("before", before), ("after", after)):
        if "file" in chosen:
            cases.append((f"{name}  mgscan FILE", [binary, log], None))
        if "stdin" in chosen:
            cases.append((f"{name}  cat FILE | mgscan", [binary], log))
        if "rotated" in chosen:
            cases.append((f"{name}  mgscan {parts} rotated files", [binary, *rotated], None))
        if "merge" in chosen:
            cases.append((f"{name}  mgscan 2 interleaved logs", [binary, *merged], None))
    times = {c[0]: [] for c in cases}
    digests = {}
    for r in range(rounds):
        for label, cmd, stdin in cases:
            dt, digest = run(cmd, stdin)
            times[label].append(dt)
            digests.setdefault(digest, []).append(label)
    # the JSON report, once each, after
    json_digests = {}
    for label, cmd, stdin in cases:
        _, digest = run(cmd + ["--format", "json"], stdin)
        json_digests.setdefault(digest, []).append(label)
    print(f"\n{os.path.basename(log)} ({os.path.getsize(log) / 2**30:.2f} GiB), {rounds} rounds, median wall time:")
    base = statistics.median(times["after  mgscan FILE"]) if "file" in chosen else None
    for label, *_ in cases:
        m = statistics.median(times[label])
        ratio = f"({m / base:4.2f}x after's named file)" if base else ""
        cmd = next(" ".join(c[1]) + f" < {c[2]}" for c in cases if c[0] == label)
        cpu_time = statistics.median(cpus[cmd][:rounds])
        print(f"  {label:34} {m:7.2f} s  {ratio}  cpu {cpu_time:6.2f} s   runs: {' '.join(f'{x:.2f}' for x in times[label])}")
    for label, *_ in cases:
        if label.startswith("before"):
            b, a = statistics.median(times[label]), statistics.median(times["after" + label[6:]])
            print(f"  {label[8:]:32} before/after {b / a:4.2f}x")
    for kind, d in (("text", digests), ("json", json_digests)):
        if len(d) == 1:
            print(f"  {kind} reports: all identical")
        else:
            print(f"  {kind} reports DIFFER:")
            for digest, labels in d.items():
                print(f"    {digest}: {sorted(set(labels))}")
