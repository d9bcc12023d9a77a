#!/usr/bin/python3
"""The remote mail servers of apps.sh: an SMTP sink (aiosmtpd) on 0.0.0.0:25 in mg-amx, whose loopback
holds every "MX" address. It accepts every message and writes one JSON line per event to OUT:
connect (peer address and port = the kernel's SRC/SPT, local address = DST), message (HELO name,
envelope, the 'sample: TAG' lines of the body, the Postfix queue ID from the Received header Postfix
added (Postfix or Exim), X-PHP-Originating-Script) and close. This is the ground truth of who made each connection.

  sink.py OUT SECONDS
"""
import asyncio
import email
import itertools
import json
import re
import sys
import time

from aiosmtpd.smtp import SMTP

OUT = open(sys.argv[1], "a", buffering=1)
SECONDS = float(sys.argv[2])
IDS = itertools.count(1)
# the queue ID in the Received header the VPS's MTA added: Postfix "by vps01.example.net (Postfix, from userid
# 1801) id 3F2A81C0042", Exim "by vps01.example.net with local (Exim 4.96) (envelope-from <…>) id 1xaXyS-000551-0z"
QID = re.compile(r"by vps01\.example\.net (?:\(Postfix[^)]*\)(?:\s+with \S+)?|with \S+ \(Exim [^)]*\)(?:\s+\(envelope-from <[^>]*>\))?)"
                 r"\s+id ([0-9A-Za-z-]+)")


def emit(**rec):
    rec["time"] = round(time.time(), 6)
    OUT.write(json.dumps(rec, sort_keys=True) + "\n")


class RecordingSMTP(SMTP):
    def connection_made(self, transport):
        self.conn_id = next(IDS)
        self.peer_addr = list(transport.get_extra_info("peername")[:2])
        self.local_addr = list(transport.get_extra_info("sockname")[:2])
        emit(event="connect", conn=self.conn_id, peer=self.peer_addr, local=self.local_addr)
        super().connection_made(transport)

    def connection_lost(self, error):
        emit(event="close", conn=self.conn_id, peer=self.peer_addr, local=self.local_addr)
        super().connection_lost(error)


class Handler:
    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content)
        text = msg.get_payload(decode=True) or b""
        samples = re.findall(rb"^sample: (\S+)", text, re.M)
        qids = [m.group(1) for r in msg.get_all("Received", []) for m in [QID.search(" ".join(str(r).split()))] if m]
        emit(event="message", conn=server.conn_id, peer=server.peer_addr, local=server.local_addr,
             helo=session.host_name, mail_from=envelope.mail_from, rcpt_tos=envelope.rcpt_tos,
             samples=[s.decode() for s in samples], queue_id=qids[0] if qids else None,
             x_php=msg.get("X-PHP-Originating-Script"), subject=msg.get("Subject"))
        return "250 2.0.0 Ok: queued"


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: RecordingSMTP(Handler(), hostname="mx.example", ident="ESMTP"),
                                      "0.0.0.0", 25)
    emit(event="listening")
    await asyncio.sleep(SECONDS)
    server.close()


asyncio.run(main())
