"""A webhook receiver for storemon's alerts that checks each event's signature (docs/alerts.md).
Run: STOREMON_NOTIFY_SECRET=... python docs/receiver.py 9000"""

import hashlib
import hmac
import http.server
import json
import os
import sys
import time

SECRET = os.environ["STOREMON_NOTIFY_SECRET"].encode()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            fields = dict(p.split("=", 1) for p in self.headers["Storemon-Signature"].split(","))
            mac = hmac.new(SECRET, fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
            fresh = abs(time.time() - int(fields["t"])) < 300  # an old signature: a replay
            ok = fresh and hmac.compare_digest(mac.encode(), fields["v1"].encode())
        except (AttributeError, KeyError, ValueError):  # no signature, or not t=...,v1=...
            ok = False
        self.send_response(204 if ok else 400)
        self.end_headers()
        if ok:  # de-duplicate by event id: delivery is at least once
            print(self.headers["Storemon-Event-Id"], json.loads(body)["kind"], flush=True)


http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Receiver).serve_forever()
