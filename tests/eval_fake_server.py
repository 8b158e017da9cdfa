"""A small OpenAI-compatible chat server that misbehaves on purpose (the only fake in the eval tests).

Not a test module. It stands in for a real server only where a real one cannot be made to fail
on cue: rate limits (429), server errors (500), slow answers (client timeouts), a server that
dies mid-run, and counting how often each request was asked. Answers are deterministic in the
request content: ``"The answer is <letter>"`` with the letter picked from a hash of the messages,
so two runs over the same items get the same answers. Every request is recorded (its body and
the Authorization header) for the tests to inspect.

Run as a script (``python tests/eval_fake_server.py PORT [DELAY_S]``) for subprocess tests; it
prints ``ready`` when it listens and writes per-key request counts to ``COUNTS_FILE`` if the
environment variable ``FAKE_SERVER_COUNTS`` names one.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def request_key(body: dict) -> str:
    return hashlib.sha256(json.dumps(body.get("messages"), sort_keys=True).encode()).hexdigest()[:16]


def answer_for(body: dict) -> str:
    return "The answer is " + "ABCD"[int(request_key(body), 16) % 4]


class FakeChatServer:
    """``faults``: a list of actions used one per request, in order, before normal answers:
    ``429`` / ``500`` (status codes), ``"slow"`` (sleep ``slow_s`` before answering), ``"die"``
    (close the connection without answering and stop the server)."""

    def __init__(self, *, delay_s: float = 0.0, faults: list | None = None, slow_s: float = 5.0, port: int = 0):
        self.delay_s, self.slow_s = delay_s, slow_s
        self.faults = list(faults or [])
        self.counts: Counter = Counter()
        self.bodies: list[dict] = []
        self.auth_headers: list[str] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> "FakeChatServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _next_fault(self):
        with self._lock:
            return self.faults.pop(0) if self.faults else None

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _json(self, status: int, obj: dict) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                    return
                server.statuses.append(status)

            def do_GET(self):
                if self.path.endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
                else:
                    self._json(200, {"status": "ok"})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                with server._lock:
                    server.bodies.append(body)
                    server.auth_headers.append(self.headers.get("authorization", ""))
                fault = server._next_fault()
                if fault == "die":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    threading.Thread(target=server.stop, daemon=True).start()
                    return
                if fault in (429, 500, 503):
                    self._json(fault, {"error": {"message": f"fault {fault}", "type": "fault", "code": fault}})
                    return
                time.sleep(server.slow_s if fault == "slow" else server.delay_s)
                with server._lock:
                    server.counts[request_key(body)] += 1
                    counts_file = os.environ.get("FAKE_SERVER_COUNTS")
                    if counts_file:
                        with open(counts_file, "w") as fh:
                            json.dump(dict(server.counts), fh)
                n = int(body.get("n", 1))
                choices = [{"index": i, "finish_reason": "stop", "message": {"role": "assistant", "content": answer_for(body)}} for i in range(n)]
                self._json(200, {"id": "x", "object": "chat.completion", "created": 0, "model": body.get("model"), "choices": choices,
                                 "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

        return Handler


if __name__ == "__main__":
    fake = FakeChatServer(port=int(sys.argv[1]), delay_s=float(sys.argv[2]) if len(sys.argv) > 2 else 0.0)
    print("ready", flush=True)
    fake.httpd.serve_forever()
