#!/usr/bin/env python3
"""Two hub nodes on one Redis: subscribers on node B, the publisher on node A, so every event
crosses Redis (Lua compare-and-set + PUBLISH) before B fans it out. Beside it the same scenario on
one embedded node and on one Redis node (publisher and subscribers on the same node), so the cost
of the Redis hop is visible. Prints one JSON line per setup and a table.

Exits 1 when a run lost or duplicated an event or ended in an error.
"""
import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 20
RUN_TIMEOUT_S = 240


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(binary, folder):
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", folder,
                             "--appendonly", "yes", "--save", "", "--loglevel", "warning"],
                            stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


def start_hub(hub, extra):
    proc = subprocess.Popen([hub, "--listen", "127.0.0.1:0", "--log-level", "error"] + extra,
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit(f"unexpected first line from progress-hub: {line!r}")
    port = int(line.strip().rsplit(":", 1)[1])
    if extra:  # wait for the Redis connection: 404 (not 503) for an unknown id
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b"GET /api/processes/probe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if b" 404 " in s.recv(100):
                    break
            time.sleep(0.05)
    return proc, port


def loadgen(args, sub_port, pub_port):
    cmd = [args.loadgen, "--port", str(sub_port), "--publish-port", str(pub_port), "--scenario", args.scenario]
    cmd += ["--duration", str(args.duration)] + args.extra
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
    return json.loads(lines[-1]) if lines else {"error": f"no output; stderr: {out.stderr.strip()[:300]}"}


def stop(procs):
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def main():
    build = ROOT / "build" / "native-release"
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hub", default=str(build / "native" / "server" / "progress-hub"))
    ap.add_argument("--loadgen", default=str(build / "bench" / "progress-loadgen"))
    ap.add_argument("--redis-server", default="redis-server")
    ap.add_argument("--scenario", default="fanout-max")
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("extra", nargs="*", help="more progress-loadgen flags, after --")
    args = ap.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        redis, redis_port = start_redis(args.redis_server, folder)
        url = f"redis://127.0.0.1:{redis_port}/0"
        try:
            setups = [("one node, embedded", []), ("one node, redis", ["--redis", url]),
                      ("two nodes, redis (publish A, subscribe B)", None)]
            for label, extra in setups:
                if extra is None:
                    a, a_port = start_hub(args.hub, ["--redis", url])
                    b, b_port = start_hub(args.hub, ["--redis", url])
                    procs, ports = [a, b], (b_port, a_port)
                else:
                    node, port = start_hub(args.hub, extra)
                    procs, ports = [node], (port, port)
                try:
                    row = loadgen(args, *ports)
                finally:
                    stop(procs)
                row["setup"] = label
                print(json.dumps(row), flush=True)
                rows.append(row)
        finally:
            stop([redis])

    failed = False
    print(f"\n{'setup':45} {'delivered/s':>12} {'p50 us':>8} {'p99 us':>8} {'dup':>4} {'lost':>5}")
    for row in rows:
        lat = row.get("latency_us", {})
        problem = row.get("error") or row.get("duplicates", 0) or row.get("undelivered", 0)
        failed = failed or bool(problem)
        print(f"{row['setup']:45} {row.get('delivered_per_s', 0):>12,.0f} {lat.get('p50', 0):>8} "
              f"{lat.get('p99', 0):>8} {row.get('duplicates', 0):>4} {row.get('undelivered', 0):>5}"
              + (f"  ERROR {row.get('error')}" if row.get("error") else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
