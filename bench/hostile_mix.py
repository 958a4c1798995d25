#!/usr/bin/env python3
"""The security audit's attacks, all at once from many connections, against a running hub.

For --seconds (default 60) every attacker loops over its attack while a legitimate producer
publishes one event every 50 ms and a legitimate subscriber follows it. The hub's RSS is sampled
all along. At the end the script checks what "alive" means for the hub:

- the subscriber received every event, in order, and the final state;
- the hub's open descriptors came back to their baseline once the attackers stopped;
- a fresh subscriber is served;
- the peak RSS stayed below the bound the limits give:
      baseline + connections x (header limit + read chunk) + history budget
               + records x record limit + upload chunks
  (records: the fat producer's pool of ids, the upload quota, the legit pair)

Prints one line per attack (attempts, answers seen) and the figures; exits non-zero when any
check failed. Loopback only; every loop is bounded by the deadline.

usage: bench/hostile_mix.py --hub build/native-release/native/server/progress-hub [--seconds 60]
"""
import argparse
import asyncio
import base64
import collections
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid

READ_CHUNK = 64 * 1024          # request_parser.hpp kReadChunkBytes
HEADER_LIMIT = 16 * 1024        # --max-header-bytes default
UPLOAD_CHUNK = 64 * 1024        # an upload is written as it arrives, one read at a time
# What one record can hold beyond its history: message 2 KiB, data 4 KiB, result and error 16 KiB
# each (docs/protocol.md limits), stage and bookkeeping. Records are bounded in number, not bytes:
# the bound counts every record the mix can create (its producer pool, the upload quota, the legit
# pair).
RECORD_BYTES = 40 * 1024
FAT_POOL = 64                   # process ids the fat producer writes to
MAX_UPLOADS = 500               # --max-uploads for the run: upload records held at once
API_KEY = "hostile-mix-" + uuid.uuid4().hex
TOKEN_SECRET = "mix-secret-" + uuid.uuid4().hex


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token_for(process_id, header='{"alg":"HS256","typ":"JWT"}'):
    payload = json.dumps({"sub": process_id, "exp": int(time.time()) + 600})
    signing_input = b64url(header.encode()) + "." + b64url(payload.encode())
    signature = hmac.new(TOKEN_SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


def nested_alg_token():
    """A JWT whose header nests `alg` thousands of levels deep (the refusal message once recursed)."""
    depth = 5000
    return token_for("victim", '{"alg":' + "[" * depth + "]" * depth + "}")


class Hub:
    def __init__(self, binary, workdir, extra):
        key_file = os.path.join(workdir, "key")
        secret_file = os.path.join(workdir, "secret")
        for path, text in ((key_file, API_KEY), (secret_file, TOKEN_SECRET)):
            with open(path, "w") as f:
                f.write(text)
        data_dir = os.path.join(workdir, "data")
        args = [binary, "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--log-level", "error",
                "--api-key-file", key_file, "--token-secret-file", secret_file, "--open-uploads", "true",
                "--max-uploads", str(MAX_UPLOADS)] + extra
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            raise SystemExit(f"hub did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def exchange(port, data, read_limit=1 << 20, wait=5.0, trickle=None):
    """Sends `data` (then `trickle` chunks until the hub closes), returns what the hub answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        if trickle:
            for chunk in trickle:
                if reader.at_eof():
                    break
                writer.write(chunk)
                await writer.drain()
        return await asyncio.wait_for(reader.read(read_limit), wait)
    except (ConnectionError, asyncio.TimeoutError):
        return b""
    finally:
        writer.close()


def status_of(reply):
    parts = reply.split(b" ", 2)
    return parts[1].decode(errors="replace") if len(parts) > 1 else "none"


def chunked(path, body):
    return (f"POST {path} HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n").encode() + body


ATTACKS = {
    # Any path, no key needed: the body is read before anything is routed.
    "huge-trailer": lambda port: exchange(port, chunked("/healthz", b"1\r\na\r\n0\r\nX-Big: " +
                                                        b"v" * 65534 + b"\r\n\r\n")),
    "endless-chunk-line": lambda port: exchange(port, chunked("/healthz", b""),
                                                trickle=[b"f" * 65536] * 32),
    "unauthorised-upload": lambda port: exchange(
        port, b"POST /api/processes HTTP/1.1\r\nHost: h\r\nContent-Length: 33554432\r\n\r\n",
        trickle=[b"x" * 65536] * 8),
    "smuggling-gzip": lambda port: exchange(
        port, b"POST /api/processes HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"
              b"GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"),
    "long-request-line": lambda port: exchange(port, b"GET /" + b"p" * 20000 + b" HTTP/1.1\r\n\r\n"),
    "big-header": lambda port: exchange(port, b"GET /healthz HTTP/1.1\r\nX-Pad: " + b"h" * 70000 + b"\r\n\r\n"),
    "nested-jwt-alg": lambda port: exchange(
        port, f"GET /sse/progress/victim?token={nested_alg_token()} HTTP/1.1\r\nHost: h\r\n\r\n".encode()),
    "dotfiles": lambda port: exchange(port, b"GET /.env HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"),
    "upload-flood": lambda port: exchange(
        port, b"POST /api/uploads HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
              b"Connection: close\r\n\r\nhello world"),
    "close-no-status": lambda port: ws_close_without_status(port),
    "fat-producer": lambda port: fat_publish(port),
}


async def ws_close_without_status(port):
    key = base64.b64encode(os.urandom(16)).decode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET /ws/progress/mix-close HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                     f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        writer.write(bytes([0x88, 0x80]) + os.urandom(4))  # masked close, empty payload
        await writer.drain()
        await asyncio.wait_for(reader.read(), 5)  # the hub answers and closes
        return head
    except (ConnectionError, asyncio.TimeoutError, asyncio.IncompleteReadError):
        return b""
    finally:
        writer.close()


async def fat_publish(port):
    """A producer with a valid key sending the largest events the limits allow, to many processes."""
    body = json.dumps({"state": "running", "stage": "s" * 128, "message": "m" * 2048,
                       "data": {"blob": "d" * 4000}}).encode()
    pid = f"fat-{uuid.uuid4().int % FAT_POOL}"
    request = (f"POST /api/processes/{pid}/progress HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer {API_KEY}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    return await exchange(port, request * 32, read_limit=1 << 16, wait=5)


async def attacker(name, port, deadline, tally):
    while time.monotonic() < deadline:
        try:
            reply = await ATTACKS[name](port)
        except (ConnectionError, OSError):
            reply = b""
        tally[name][status_of(reply)] += 1


async def publish(port, pid, frame):
    body = json.dumps(frame).encode()
    reply = await exchange(port, (f"POST /api/processes/{pid}/progress HTTP/1.1\r\nHost: h\r\n"
                                  f"Authorization: Bearer {API_KEY}\r\nContent-Type: application/json\r\n"
                                  f"Connection: close\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body)
    return status_of(reply)


def masked(opcode, payload):
    """A client frame (FIN, masked) of up to 125 bytes."""
    mask = os.urandom(4)
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def masked_text(payload):
    return masked(0x1, payload)


async def legit_pair(port, deadline, result):
    """One producer and one subscriber (raw WebSocket): every event must arrive, in order."""
    pid = f"legit-{uuid.uuid4().hex[:8]}"
    key = base64.b64encode(os.urandom(16)).decode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /ws/progress/{pid}?token={token_for(pid)} HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                 f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    await reader.readuntil(b"\r\n\r\n")
    received = []

    async def read_frames():
        while True:
            head = await reader.readexactly(2)
            length = head[1] & 0x7F
            if length == 126:
                length = int.from_bytes(await reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await reader.readexactly(8), "big")
            payload = await reader.readexactly(length)
            if head[0] & 0x0F == 0x9:  # control ping: answer it like a browser would
                writer.write(masked(0xA, payload))
                continue
            if head[0] & 0x0F != 0x1:
                continue
            frame = json.loads(payload)
            if frame.get("type") == "ping":  # a client of the JSON heartbeat answers it
                writer.write(masked_text(json.dumps({"type": "pong", "ts": frame.get("ts", 0)}).encode()))
            if frame.get("type") in ("snapshot", "progress"):  # the first publish reaches it as a snapshot
                received.append(frame)
                if frame.get("state") == "completed":
                    return

    reading = asyncio.create_task(read_frames())
    sent = 0
    while time.monotonic() < deadline:
        sent += 1
        status = await publish(port, pid, {"state": "running", "stage": "work", "percent": min(99, sent / 20),
                                           "message": f"event {sent}"})
        if status != "200":
            result["publish_failures"] += 1
        await asyncio.sleep(0.05)
    await publish(port, pid, {"state": "completed"})
    sent += 1
    try:
        await asyncio.wait_for(reading, 15)
    except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError):
        pass
    writer.close()
    seqs = [f["seq"] for f in received]
    result["sent"] = sent
    result["received"] = len(received)
    result["in_order"] = seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    result["completed"] = bool(received) and received[-1].get("state") == "completed"


async def sample_rss(pid, deadline, samples):
    while time.monotonic() < deadline:
        samples.append(rss_bytes(pid))
        await asyncio.sleep(0.25)


async def fresh_subscriber_served(port):
    pid = f"fresh-{uuid.uuid4().hex[:8]}"
    key = base64.b64encode(os.urandom(16)).decode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /ws/progress/{pid}?token={token_for(pid)} HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                 f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    first = await asyncio.wait_for(reader.readexactly(2), 5)  # hello
    writer.close()
    return head.startswith(b"HTTP/1.1 101") and first[0] == 0x81


async def run(args, hub):
    baseline_rss = rss_bytes(hub.proc.pid)
    baseline_fds = open_fds(hub.proc.pid)
    deadline = time.monotonic() + args.seconds
    tally = collections.defaultdict(collections.Counter)
    legit = collections.Counter()
    samples = []
    tasks = [asyncio.create_task(legit_pair(hub.port, deadline, legit)),
             asyncio.create_task(sample_rss(hub.proc.pid, deadline + 5, samples))]
    for name in ATTACKS:
        for _ in range(args.connections_per_attack):
            tasks.append(asyncio.create_task(attacker(name, hub.port, deadline, tally)))
    await asyncio.gather(*tasks)

    fds_deadline = time.monotonic() + 15
    while open_fds(hub.proc.pid) > baseline_fds and time.monotonic() < fds_deadline:
        await asyncio.sleep(0.1)
    fds_after = open_fds(hub.proc.pid)
    fresh = await fresh_subscriber_served(hub.port)
    connections = args.connections_per_attack * len(ATTACKS) + 2
    records = FAT_POOL + MAX_UPLOADS + 2
    bound = (baseline_rss + connections * (HEADER_LIMIT + READ_CHUNK) + args.history_budget +
             records * RECORD_BYTES + args.connections_per_attack * UPLOAD_CHUNK)
    peak = max(samples) if samples else 0
    return tally, legit, baseline_rss, peak, bound, baseline_fds, fds_after, fresh, connections


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hub", required=True)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections-per-attack", type=int, default=8)
    parser.add_argument("--history-budget", type=int, default=32 * 1024 * 1024,
                        help="passed as --history-budget-bytes when the hub has the flag (bytes)")
    args = parser.parse_args()
    help_text = subprocess.run([args.hub, "--help"], capture_output=True, text=True).stdout
    extra = []
    if "--history-budget-bytes" in help_text:
        extra = ["--history-budget-bytes", str(args.history_budget)]
    else:
        args.history_budget = 256 * 1024 * 1024  # unbounded before the flag: only the count bound
    with tempfile.TemporaryDirectory() as workdir:
        hub = Hub(args.hub, workdir, extra)
        try:
            (tally, legit, baseline, peak, bound, fds_before, fds_after, fresh,
             connections) = asyncio.run(run(args, hub))
            alive = hub.proc.poll() is None
        finally:
            hub.stop()
    print(f"hostile mix: {args.seconds:.0f} s, {connections} connections, hub {args.hub}")
    for name in ATTACKS:
        answers = ", ".join(f"{status}: {count}" for status, count in sorted(tally[name].items()))
        print(f"  {name:20} {sum(tally[name].values()):6} attempts  ({answers})")
    print(f"  legit subscriber: {legit['received']} of {legit['sent']} events, in order: {legit['in_order']}, "
          f"completed: {legit['completed']}, refused publishes: {legit['publish_failures']}")
    print(f"  RSS: baseline {baseline / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB, "
          f"bound {bound / 2**20:.1f} MiB")
    print(f"  descriptors: {fds_before} before, {fds_after} after; fresh subscriber served: {fresh}; "
          f"process alive: {alive}")
    failures = []
    if not alive:
        failures.append("the hub died")
    if legit["received"] != legit["sent"] or not legit["in_order"] or not legit["completed"]:
        failures.append("the legitimate subscriber missed events")
    if legit["publish_failures"]:
        failures.append("legitimate publishes were refused")
    if peak > bound:
        failures.append("RSS passed its bound")
    if fds_after > fds_before:
        failures.append("descriptors leaked")
    if not fresh:
        failures.append("a fresh subscriber was not served")
    print("hostile mix: " + ("PASSED" if not failures else "FAILED: " + "; ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
