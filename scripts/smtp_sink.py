#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) that keeps every message it accepts, for the delivery tests.

Usage: smtp_sink.py --dir DIR [--host 127.0.0.1] [--port 0] [--auth USER:PASS] [--stall]
                    [--tls starttls|implicit --cert CERT.pem --key KEY.pem] [--no-pipelining]

- Listens on HOST:PORT (port 0: any free port) and prints one line `listening HOST PORT` on
  stdout once it accepts connections, so that the caller knows when and where to connect.
- Writes each accepted message, byte for byte as received, to DIR/<n>.eml, and its envelope
  (mail_from, rcpt_tos, the login used, the TLS version or null) to DIR/<n>.json; <n> counts on from the files already
  in DIR, so a restarted sink keeps the arrival order. Files appear atomically (rename), and
  before the server answers 250, so a message the client saw accepted is always on disk.
- --auth USER:PASS requires that login (AUTH PLAIN/LOGIN). Without --tls it is allowed in plain
  text (tests only); with --tls starttls it is only offered after STARTTLS.
- --tls starttls offers STARTTLS and refuses every mail command before it (a relay on port 587);
  --tls implicit speaks TLS from the first byte (port 465). Both serve --cert/--key (PEM).
- --stall accepts the DATA but never answers it (a server that hangs mid-send).
- It offers PIPELINING (RFC 2920), as most servers do: aiosmtpd reads each command from its
  buffered stream, so commands sent together are answered in order. --no-pipelining leaves it
  out of the EHLO answer, so that a client must send one command at a time.
- SIGTERM or SIGINT stops it cleanly: no new connections, open ones closed, exit 0. Between two
  event-loop steps no message is half-handled, so nothing is acknowledged without being kept.
"""

import argparse
import asyncio
import warnings
import json
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult


class Sink:
    """aiosmtpd handler: one file pair per message."""

    def __init__(self, directory, stall, pipelining):
        self.directory = directory
        self.stall = stall
        self.pipelining = pipelining
        os.makedirs(directory, exist_ok=True)
        existing = [f for f in os.listdir(directory) if f.endswith(".eml")]
        self.count = max((int(f.split(".")[0]) for f in existing), default=0)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            # Before the last line ("250 HELP"), which alone has a space after its code.
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_DATA(self, server, session, envelope):
        if self.stall:
            await asyncio.Event().wait()  # never set: the client waits until it gives up
        self.count += 1
        base = os.path.join(self.directory, f"{self.count:06d}")
        auth = getattr(session, "auth_data", None)
        login = auth.login.decode() if getattr(auth, "login", None) else None
        # After STARTTLS the session's transport is the TLS one, as it is from the start with
        # implicit TLS: either way it knows the TLS version that carried this message.
        tls_object = server.transport.get_extra_info("ssl_object") if server.transport else None
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": login,
            "tls": tls_object.version() if tls_object is not None else None,
        }
        # No await from here to the return: the 250 goes out in this same event-loop step.
        for suffix, data in ((".json", json.dumps(meta).encode()), (".eml", envelope.original_content)):
            tmp = base + suffix + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.rename(tmp, base + suffix)
        return "250 OK kept"


def authenticator_for(expected_user, expected_pass):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            auth_data is not None
            and getattr(auth_data, "login", None) == expected_user.encode()
            and getattr(auth_data, "password", None) == expected_pass.encode()
        )
        # handled=False: aiosmtpd itself answers a refusal with 535 (its default, handled=True,
        # would leave the client waiting for an answer that never comes).
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return authenticate


async def main(args):
    # Plain-text AUTH is what --auth is for; aiosmtpd's warnings about it are expected here.
    warnings.simplefilter("ignore")
    handler = Sink(args.dir, args.stall, not args.no_pipelining)
    options = {"enable_SMTPUTF8": True, "hostname": "sink.test"}
    context = None
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    if args.tls == "starttls":
        options.update(tls_context=context, require_starttls=True)
    if args.auth:
        user, _, password = args.auth.partition(":")
        options.update(
            authenticator=authenticator_for(user, password),
            auth_required=True,
            # aiosmtpd only knows about STARTTLS; with implicit TLS every byte is encrypted
            # already, and without --tls plain-text AUTH is what the tests ask for.
            auth_require_tls=args.tls == "starttls",
        )
    loop = asyncio.get_running_loop()
    sessions = []

    def factory():
        protocol = SMTP(handler, **options)
        sessions.append(protocol)
        return protocol

    server = await loop.create_server(
        factory,
        host=args.host,
        port=args.port,
        ssl=context if args.tls == "implicit" else None,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"listening {args.host} {port}", flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    for protocol in sessions:
        if protocol.transport is not None:
            protocol.transport.close()
    await asyncio.sleep(0)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--auth")
    parser.add_argument("--stall", action="store_true")
    parser.add_argument("--no-pipelining", action="store_true")
    parser.add_argument("--tls", choices=["starttls", "implicit"])
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parsed = parser.parse_args()
    if bool(parsed.tls) != bool(parsed.cert and parsed.key):
        parser.error("--tls needs --cert and --key, and they need --tls")
    sys.exit(asyncio.run(main(parsed)))
