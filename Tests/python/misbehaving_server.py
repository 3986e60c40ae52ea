#!/usr/bin/env python3
"""An OpenAI-compatible server that misbehaves on purpose, one way per model id, for the
lab's client failure tests (Tests/LMLabTests/APIModelTests.swift). Loopback only, on a free
port it prints as "listening on PORT"; it stops when its standard input closes.

  garbage     streams a line that is not JSON
  drop        streams one piece, then closes the connection (no finish_reason, no [DONE])
  slow        waits 3 s before answering (the test's --timeout is 1 s)
  busy        429 with OpenAI's error body
  broken      500 with OpenAI's error body
  nologprobs  a good answer ("9") that never carries logprobs, whatever was asked
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODELS = ["garbage", "drop", "slow", "busy", "broken", "nologprobs"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.endswith("/v1/models"):
            self.send_json(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in MODELS]})
        else:
            self.send_json(404, {"error": {"message": "no route", "type": "invalid_request_error"}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        request = json.loads(self.rfile.read(length) or b"{}")
        model = request.get("model")
        if model == "busy":
            return self.send_json(429, {"error": {"message": "slow down", "type": "rate_limit_error"}})
        if model == "broken":
            return self.send_json(500, {"error": {"message": "it broke", "type": "server_error"}})
        if model == "slow":
            time.sleep(3)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

        def event(payload):
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.wfile.write(b"data: " + data + b"\n\n")
            self.wfile.flush()

        def chunk(text, finish=None, usage=None):
            out = {"id": "cmpl-test", "object": "text_completion", "created": 0, "model": model,
                   "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish}]}
            if usage:
                out["usage"] = usage
            return out

        if model == "garbage":
            event(b"this is not json")
            event(b"[DONE]")
            return
        event(chunk("9"))
        if model == "drop":
            return
        event(chunk("", "stop", {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}))
        event(b"[DONE]")


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a client that timed out and left: nothing to report


def main():
    server = QuietServer(("127.0.0.1", 0), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
