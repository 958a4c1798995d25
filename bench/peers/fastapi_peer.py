"""Reference peer: the FastAPI/uvicorn pattern with the hub's two hot endpoints.

Prints `listening on HOST:PORT`; `--listen 127.0.0.1:0` picks a free port (the socket is bound
here and handed to uvicorn so the port is known before serving).
"""
import argparse
import json
import re
import socket

import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect



def dumps(value):
    # compact like the hub and the Node peers: clients (and the generator) scan `"type":"..."`
    return json.dumps(value, separators=(",", ":"))


ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
TERMINAL = {"completed", "failed", "cancelled"}
HELLO = dumps({"type": "hello", "protocol": 1, "heartbeat_ms": 20000, "server": "bench-peer"})

app = FastAPI()
records: dict[str, dict] = {}
subscribers: dict[str, set[WebSocket]] = {}


def error(code, message, process_id=None, frame_id=None):
    frame = {"type": "error", "code": code, "message": message}
    if process_id:
        frame["process_id"] = process_id
    if isinstance(frame_id, str):
        frame["id"] = frame_id
    return dumps(frame)


def view(kind, process_id, rec):
    frame = {"type": kind, "process_id": process_id, "seq": rec["seq"], "state": rec["state"], "data": rec["data"]}
    if "result" in rec:
        frame["result"] = rec["result"]
    return dumps(frame)


@app.websocket("/ws/progress/{process_id}")
async def progress(ws: WebSocket, process_id: str):
    if not ID.match(process_id):
        await ws.close(code=1008)
        return
    await ws.accept()
    await ws.send_text(HELLO)
    rec = records.get(process_id)
    await ws.send_text(view("snapshot", process_id, rec) if rec else dumps({"type": "pending", "process_id": process_id}))
    subscribers.setdefault(process_id, set()).add(ws)
    try:
        while True:
            await ws.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        subscribers[process_id].discard(ws)


@app.websocket("/ws/publish")
async def publish(ws: WebSocket):
    await ws.accept()
    await ws.send_text(HELLO)
    try:
        while True:
            text = await ws.receive_text()
            try:
                msg = json.loads(text)
            except ValueError:
                await ws.send_text(error("bad_frame", "not JSON"))
                continue
            if not isinstance(msg, dict) or msg.get("type") != "publish":
                await ws.send_text(error("unknown_type", "only publish frames are accepted here"))
                continue
            pid = msg.get("process_id")
            if not isinstance(pid, str) or not ID.match(pid):
                await ws.send_text(error("invalid_process_id", "process_id must match [A-Za-z0-9._:-]{1,128}"))
                continue
            rec = records.setdefault(pid, {"seq": 0, "state": "pending", "data": {}})
            if rec["state"] in TERMINAL:
                await ws.send_text(error("process_finished", f"process {pid} has finished", pid, msg.get("id")))
                continue
            rec["seq"] += 1
            rec["state"] = msg["state"] if isinstance(msg.get("state"), str) else "running"
            if "data" in msg:
                rec["data"] = msg["data"]
            if "result" in msg:
                rec["result"] = msg["result"]
            frame = view("progress", pid, rec)
            for sub in list(subscribers.get(pid, ())):
                try:
                    await sub.send_text(frame)
                except Exception:  # a subscriber that went away must not stop the others
                    subscribers[pid].discard(sub)
            if isinstance(msg.get("id"), str):
                await ws.send_text(dumps({"type": "ack", "id": msg["id"], "process_id": pid, "seq": rec["seq"]}))
    except WebSocketDisconnect:
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", default="127.0.0.1:0")
    args = parser.parse_args()
    host, port = args.listen.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    sock.listen(4096)
    print(f"listening on {host}:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="warning", ws_max_size=64 * 1024, ws_ping_interval=None, backlog=4096)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
