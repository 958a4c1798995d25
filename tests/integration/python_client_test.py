#!/usr/bin/python3
"""progress-hub against a client nobody here wrote: Debian's python3-websockets.

Usage: python_client_test.py PATH/TO/progress-hub
Checks the legacy frontend's flow (connect to /ws/progress/auto_proc_<uuid>_<ts> before the job
exists, receive JSON frames through completion) and the /ws/test ping/pong.
"""
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import websockets

GUARD_S = 15  # hang guard per receive, not a speed goal


def post(port, path, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=GUARD_S) as reply:
        return json.loads(reply.read())


async def legacy_flow(port):
    process_id = f"auto_proc_{uuid.uuid4()}_{int(time.time())}"
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/progress/{process_id}") as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), GUARD_S))
        assert hello["type"] == "hello", hello
        pending = json.loads(await asyncio.wait_for(ws.recv(), GUARD_S))
        assert pending == {"type": "pending", "process_id": process_id}, pending
        post(port, f"/api/processes/{process_id}/progress", {"stage": "upload_received", "percent": 10})
        post(port, f"/api/processes/{process_id}/progress", {"stage": "text_extraction", "percent": 60})
        post(port, f"/api/processes/{process_id}/progress", {"state": "completed", "result": {"pages": 3}})
        frames = []
        while not frames or frames[-1].get("state") != "completed":
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), GUARD_S)))
        assert [f["type"] for f in frames] == ["snapshot", "progress", "progress"], frames
        assert [f["seq"] for f in frames] == [1, 2, 3], frames
        assert frames[1]["stage"] == "text_extraction" and frames[1]["percent"] == 60, frames
        assert frames[-1]["result"] == {"pages": 3}, frames


async def echo(port):
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws/test") as ws:
        await ws.send("ping")
        assert await asyncio.wait_for(ws.recv(), GUARD_S) == "pong"


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as data_dir:
        server = subprocess.Popen([binary, "--listen", "127.0.0.1:0", "--data-dir", data_dir, "--log-level", "warn"],
                                  stdout=subprocess.PIPE, text=True)
        try:
            line = server.stdout.readline().strip()
            assert line.startswith("listening on "), line
            port = int(line.rsplit(":", 1)[1])
            asyncio.run(legacy_flow(port))
            asyncio.run(echo(port))
        finally:
            server.terminate()
            code = server.wait(timeout=GUARD_S)
        assert code == 0, f"progress-hub exited {code} on SIGTERM"
    print("python client: ok")


if __name__ == "__main__":
    main()
