"""What the library's tests share: a real progress-hub on a free port, plain HTTP helpers that do
not go through the library, and a TCP proxy that counts connections and can cut them."""

import json
import os
import pathlib
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

# The package under test is the source tree next to these tests.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

GUARD_S = 15  # hang guard for one request, not a speed goal


def hub_binary():
    binary = os.environ.get("PROGRESS_HUB_BIN")
    if not binary:
        raise RuntimeError("set PROGRESS_HUB_BIN to the progress-hub binary (or pass it to run.py)")
    return binary


def new_process_id():
    return f"auto_proc_{uuid.uuid4()}_{int(time.time())}"


class Hub:
    """progress-hub started on 127.0.0.1:0; ``url`` is its base URL."""

    def __init__(self, *extra_args):
        self.process = subprocess.Popen(
            [hub_binary(), "--listen", "127.0.0.1:0", "--log-level", "warn", *extra_args],
            stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"progress-hub did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=GUARD_S)
        self.process.stdout.close()

    def request(self, method, path, body=None, headers=None):
        """(status, JSON answer) of one request, errors included."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=GUARD_S) as reply:
                return reply.status, json.loads(reply.read() or b"{}")
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    def record(self, process_id, headers=None):
        status, body = self.request("GET", f"/api/processes/{process_id}", headers=headers)
        if status != 200:
            raise AssertionError(f"GET /api/processes/{process_id}: {status} {body}")
        return body

    def publish_requests(self):
        """HTTP requests the hub counted on POST /api/processes/{id}/progress, any status."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=GUARD_S) as reply:
            text = reply.read().decode()
        return sum(int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines()
                   if line.startswith('progress_http_requests_total{route="process_progress"'))

    def supports_idempotency_keys(self):
        """Whether the hub answers a reused Idempotency-Key with another body as invalid_update
        (issue 21); a hub without the feature applies both."""
        path = f"/api/processes/{new_process_id()}/progress"
        key = {"Idempotency-Key": str(uuid.uuid4()), "Content-Type": "application/json"}
        first, _ = self.request("POST", path, {"percent": 10}, key)
        second, answer = self.request("POST", path, {"percent": 20}, key)
        return first == 200 and second == 400 and answer.get("error", {}).get("code") == "invalid_update"


class Proxy:
    """A TCP proxy in front of the hub. ``plan`` says what to do with each accepted connection, in
    order (then ``pass``): ``pass`` forwards both ways; ``refuse`` closes it before forwarding
    anything; ``drop_reply`` forwards the request, then closes both sides instead of passing the
    hub's first reply bytes back, so the hub has acted on a request whose answer the client loses;
    ``unavailable`` answers the first request itself with the hub's 503, as a hub that is shutting
    down or a load balancer without a healthy upstream does, and closes."""

    def __init__(self, upstream_port, plan=()):
        self._upstream = ("127.0.0.1", upstream_port)
        self._plan = list(plan)
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._threads = []
        self._sockets = []
        self._closed = False
        self._start(self._accept_loop)

    def _start(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept_loop(self):
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            mode = self._plan[self.connections] if self.connections < len(self._plan) else "pass"
            self.connections += 1
            if mode == "refuse":
                client.close()
                continue
            if mode == "unavailable":
                self._start(self._answer_503, client)
                continue
            upstream = socket.create_connection(self._upstream, timeout=GUARD_S)
            self._sockets += [client, upstream]
            self._start(self._pump, client, upstream, False)
            self._start(self._pump, upstream, client, mode == "drop_reply")

    def _answer_503(self, client):
        body = b'{"error":{"code":"unavailable","message":"the hub is shutting down"}}'
        with client:
            client.settimeout(GUARD_S)
            client.recv(65536)
            client.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                           b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    def _pump(self, source, sink, drop):
        try:
            while True:
                chunk = source.recv(65536)
                if not chunk or drop:
                    break
                sink.sendall(chunk)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self._listener.close()
        for sock in self._sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        for thread in self._threads:
            thread.join(timeout=GUARD_S)
