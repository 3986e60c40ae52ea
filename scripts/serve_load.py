#!/usr/bin/env python3
"""A bounded load run against `lmlab serve` on loopback.

Starts the built lab as a server on a free port, sends CLIENTS threads x REQUESTS
short chat requests each (standard library HTTP, no retries), stops the server
with Ctrl-C, and prints what happened: every request must come back answered
(200) or refused (503 with Retry-After); anything else is counted as lost.

    python3 scripts/serve_load.py                      # 8 clients x 25 requests (BENCHMARKS.md)
    python3 scripts/serve_load.py --clients 4 --requests 3 --queue 2   # the suite's small run

Exit status 0 when no request was lost, the server exited cleanly and its peak
resident memory stayed under --max-rss-mib.
"""
import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

p = argparse.ArgumentParser()
p.add_argument("--bin", default=os.path.join(ROOT, ".build/release/lmlab"))
p.add_argument("--model", default="smollm2")
p.add_argument("--clients", type=int, default=8)
p.add_argument("--requests", type=int, default=25, help="requests per client")
p.add_argument("--max-tokens", type=int, default=16)
p.add_argument("--queue", type=int, default=8, help="serve --queue: requests held per model")
p.add_argument("--max-rss-mib", type=int, default=1024)
p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
args = p.parse_args()

env = dict(os.environ, LMLAB_HOME=os.environ.get("LMLAB_HOME", "/tmp/lmlab-load-home"))
server = subprocess.Popen([args.bin, "serve", args.model, "--port", "0", "--queue", str(args.queue)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, text=True)
port = None
banner = []
for line in server.stdout:
    banner.append(line)
    m = re.search(r"at http://[^ ]+:(\d+)/v1", line)
    if m:
        port = int(m.group(1))
        break
if port is None:
    sys.exit("lmlab serve did not start:\n" + "".join(banner))
log_lines = []
threading.Thread(target=lambda: log_lines.extend(server.stdout), daemon=True).start()

peak_rss = [0]
stop_sampling = threading.Event()


def sample_rss():
    while not stop_sampling.is_set():
        try:
            with open("/proc/%d/status" % server.pid) as f:
                for l in f:
                    if l.startswith("VmRSS:"):
                        peak_rss[0] = max(peak_rss[0], int(l.split()[1]) * 1024)
        except OSError:
            pass
        time.sleep(0.05)


threading.Thread(target=sample_rss, daemon=True).start()

results = []   # (status, seconds, completion_tokens, retry_after)
lock = threading.Lock()
prompts = ["Name a colour.", "What is 2+2?", "Say hello.", "Name a fruit.", "What is the capital of France?"]


def client(c):
    for r in range(args.requests):
        body = json.dumps({"model": args.model, "max_tokens": args.max_tokens, "temperature": 0,
                           "messages": [{"role": "user", "content": prompts[(c + r) % len(prompts)]}]}).encode()
        req = urllib.request.Request("http://127.0.0.1:%d/v1/chat/completions" % port, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        start = time.perf_counter()
        status, tokens, retry = None, 0, None
        try:
            with urllib.request.urlopen(req, timeout=300) as resp:
                status = resp.status
                tokens = json.loads(resp.read())["usage"]["completion_tokens"]
        except urllib.error.HTTPError as e:
            status = e.code
            retry = e.headers.get("Retry-After")
            e.read()
        except Exception as e:   # a connection that failed: lost
            status = "error: %s" % e
        with lock:
            results.append((status, time.perf_counter() - start, tokens, retry))
        if status == 503:
            time.sleep(float(retry or 1) * 0.1)   # back off a little, as a polite client would


threads = [threading.Thread(target=client, args=(c,)) for c in range(args.clients)]
t0 = time.perf_counter()
for t in threads:
    t.start()
for t in threads:
    t.join()
wall = time.perf_counter() - t0
stop_sampling.set()
server.send_signal(signal.SIGINT)
exit_status = server.wait(timeout=60)

answered = [r for r in results if r[0] == 200]
refused = [r for r in results if r[0] == 503]
lost = [r for r in results if r[0] not in (200, 503)]
refused_without_retry = [r for r in refused if r[3] is None]
latencies = sorted(r[1] for r in answered)


def pct(q):
    return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0


tokens = sum(r[2] for r in answered)
cpu = "?"
try:
    cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
except StopIteration:
    pass
figures = {
    "clients": args.clients, "requests_per_client": args.requests, "sent": len(results),
    "answered": len(answered), "refused_503": len(refused), "lost": len(lost),
    "wall_s": round(wall, 2), "answered_per_s": round(len(answered) / wall, 2),
    "p50_s": round(pct(0.5), 3), "p95_s": round(pct(0.95), 3),
    "completion_tokens": tokens, "tokens_per_s": round(tokens / wall, 1),
    "peak_rss_mib": round(peak_rss[0] / 2**20, 1), "server_exit": exit_status, "cpu": cpu, "cores": os.cpu_count(),
}
if args.json:
    print(json.dumps(figures))
else:
    for k, v in figures.items():
        print("%-20s %s" % (k, v))
    for r in lost[:5]:
        print("lost:", r[0])
ok = (len(results) == args.clients * args.requests and not lost and not refused_without_retry
      and exit_status == 0 and peak_rss[0] < args.max_rss_mib * 2**20)
sys.exit(0 if ok else 1)
