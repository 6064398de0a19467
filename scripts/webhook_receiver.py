#!/usr/bin/env python3
"""A webhook receiver for the tests: verifies every message with the `standardwebhooks`
package (the Standard Webhooks reference library, from the test venv) and keeps what it got.

Usage: webhook_receiver.py --dir DIR --secret-file FILE [--host 127.0.0.1] [--port 0]
                           [--clock-file FILE]

- Listens on HOST:PORT (port 0: any free port) and prints one line `listening HOST PORT` on
  stdout once it accepts connections.
- Reads the endpoint's secret (`whsec_...`) from --secret-file at each request (the test writes
  it once Guidance has made the endpoint, whose address must name this receiver first).
- Verifies each POST with `standardwebhooks.Webhook(secret).verify(body, headers)`: the
  signature over `{webhook-id}.{webhook-timestamp}.{body}` and the timestamp's 5-minute
  tolerance. The tolerance is measured from the Unix time in --clock-file when that file exists
  (the tests' clock, which they move instead of sleeping), else from the real clock.
- Writes DIR/<n>.json per request: `webhook_id`, `timestamp`, `verified`, `error` and the parsed
  `payload` (when verified). Files appear atomically and before the answer, so a message the
  sender saw accepted is always on disk. Answers 204 when verified, 400 when not.
- SIGTERM or SIGINT stops it: the listening socket closes, so a sender's next attempt is refused.
"""

import argparse
import datetime as dt
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import standardwebhooks.webhooks as swh

LOCK = threading.Lock()


class TestClock(dt.datetime):
    """`datetime` whose now() is the tests' clock (the --clock-file), for the library's check."""

    clock_file = None

    @classmethod
    def now(cls, tz=None):
        path = cls.clock_file
        if path and os.path.exists(path):
            with open(path) as f:
                return dt.datetime.fromtimestamp(float(f.read().strip()), tz=tz)
        return dt.datetime.now(tz=tz)


def make_handler(directory, secret_file):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {k: v for k, v in self.headers.items()}
            record = {
                "webhook_id": self.headers.get("webhook-id"),
                "timestamp": self.headers.get("webhook-timestamp"),
                "verified": False,
                "error": None,
                "payload": None,
            }
            try:
                with open(secret_file) as f:
                    secret = f.read().strip()
                record["payload"] = swh.Webhook(secret).verify(body, headers)
                record["verified"] = True
            except Exception as e:  # noqa: BLE001 - every refusal is recorded, then answered 400
                record["error"] = f"{type(e).__name__}: {e}"
            with LOCK:
                n = len([f for f in os.listdir(directory) if f.endswith(".json")]) + 1
                path = os.path.join(directory, f"{n:06d}.json")
                with open(path + ".tmp", "w") as f:
                    json.dump(record, f)
                os.rename(path + ".tmp", path)
            self.send_response(204 if record["verified"] else 400)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, fmt, *args):
            sys.stderr.write("%s\n" % (fmt % args))

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--secret-file", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--clock-file")
    args = p.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    TestClock.clock_file = args.clock_file
    # The library reads `datetime.now` from its module: it now reads the tests' clock.
    swh.datetime = TestClock
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.dir, args.secret_file))
    host, port = server.server_address[:2]
    print(f"listening {host} {port}", flush=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
