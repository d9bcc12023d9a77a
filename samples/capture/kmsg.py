#!/usr/bin/env python3
"""Read the kernel log through /dev/kmsg (non-destructive, per-open cursor).

  kmsg.py last            -> print the sequence number of the newest record
  kmsg.py dump S0 S1      -> print records with S0 < seq <= S1 in raw /dev/kmsg
                             form "<prio>,<seq>,<usec>,<flags>;<text>" (dictionary
                             continuation lines are dropped); exit 3 if none
  kmsg.py drain-proc      -> consume all unread bytes of /proc/kmsg (so that a
                             syslog daemon started afterwards with imklog does not
                             re-log the whole boot backlog); bounded, non-blocking
"""
import errno
import os
import sys


def records():
    fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
    try:
        for _ in range(1_000_000):  # bounded
            try:
                buf = os.read(fd, 8192)
            except OSError as e:
                if e.errno == errno.EAGAIN:
                    return
                if e.errno == errno.EPIPE:  # record overwritten, continue
                    continue
                raise
            if not buf:
                return
            head, _, rest = buf.partition(b";")
            text = rest.split(b"\n", 1)[0]
            prio, seq, usec, flags = head.split(b",")[:4]
            yield int(prio), int(seq), int(usec), flags, head, text
    finally:
        os.close(fd)


def main():
    cmd = sys.argv[1]
    if cmd == "last":
        last = -1
        for r in records():
            last = r[1]
        print(last)
    elif cmd == "dump":
        s0, s1 = int(sys.argv[2]), int(sys.argv[3])
        out = sys.stdout.buffer
        n = 0
        for prio, seq, usec, flags, head, text in records():
            if s0 < seq <= s1:
                out.write(head + b";" + text + b"\n")
                n += 1
        sys.exit(0 if n else 3)
    elif cmd == "drain-proc":
        fd = os.open("/proc/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        total = 0
        try:
            for _ in range(100_000):
                try:
                    b = os.read(fd, 65536)
                except OSError as e:
                    if e.errno == errno.EAGAIN:
                        break
                    raise
                if not b:
                    break
                total += len(b)
        finally:
            os.close(fd)
        print(total)
    else:
        sys.exit("usage: kmsg.py last|dump S0 S1|drain-proc")


if __name__ == "__main__":
    main()
