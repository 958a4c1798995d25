#!/usr/bin/python3
"""The seed's upload backend on progress-hub: FastAPI stores the file and answers the process id at
once; a background task runs the stages and publishes them through the progress_hub library; the
browser follows the job on the hub (``/ws/progress/{id}``), not on this app.

    /usr/bin/python3 examples/fastapi-upload/app.py --port 8001

Environment (the hub's own names, so one env file serves both):
  PROGRESS_HUB_URL          the hub, default http://127.0.0.1:8000
  PROGRESS_API_KEY(_FILE)   the hub's producer key, when it has one
  PROGRESS_TOKEN_SECRET(_FILE)  the hub's token secret: GET /token/{id} mints subscription tokens
  UPLOAD_DIR                where uploads are stored, default ./uploads
  STAGE_DELAY_S             a pause per stage so a person can watch the bar, default 0.5
  ALLOWED_ORIGINS           comma-separated origins of the frontend, for CORS
"""

import argparse
import asyncio
import hashlib
import logging
import os
import pathlib
import re
import socket
import sys
import time
import uuid

from fastapi import BackgroundTasks, FastAPI, File, HTTPException, UploadFile
from fastapi.middleware.cors import CORSMiddleware

try:
    from progress_hub import AsyncProgressTracker, ProgressStage, mint_token
except ImportError:  # run from the source tree without installing the library
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "clients" / "python"))
    from progress_hub import AsyncProgressTracker, ProgressStage, mint_token

CHUNK = 1 << 16
TOKEN_TTL_S = 3600


def setting(name, default=None):
    """NAME from the environment, or the content of the file NAME_FILE names (stripped of trailing
    whitespace, as the hub reads its secret files)."""
    if os.environ.get(name):
        return os.environ[name]
    path = os.environ.get(name + "_FILE")
    return pathlib.Path(path).read_text().rstrip() if path else default


HUB_URL = setting("PROGRESS_HUB_URL", "http://127.0.0.1:8000")
API_KEY = setting("PROGRESS_API_KEY")
TOKEN_SECRET = setting("PROGRESS_TOKEN_SECRET")
UPLOAD_DIR = pathlib.Path(setting("UPLOAD_DIR", "uploads"))
STAGE_DELAY_S = float(setting("STAGE_DELAY_S", "0.5"))

log = logging.getLogger("fastapi-upload")
app = FastAPI(title="fastapi-upload on progress-hub")
if setting("ALLOWED_ORIGINS"):
    app.add_middleware(CORSMiddleware, allow_origins=setting("ALLOWED_ORIGINS").split(","),
                       allow_methods=["GET", "POST"], allow_headers=["Content-Type"])

# Ids this app created: it mints tokens for its own jobs only. A real app checks that the caller
# owns the job (session, user id) before handing out a token.
issued_ids = set()


def store(upload, dest):
    with dest.open("wb") as out:
        while chunk := upload.file.read(CHUNK):
            out.write(chunk)
    return dest.stat().st_size


@app.post("/upload")
async def upload(background: BackgroundTasks, file: UploadFile = File(...)):
    # The seed's id format, so its frontend and logs keep working.
    process_id = f"auto_proc_{uuid.uuid4()}_{int(time.time())}"
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    dest = UPLOAD_DIR / process_id
    size = await asyncio.to_thread(store, file, dest)
    issued_ids.add(process_id)
    background.add_task(analyse, process_id, dest, file.filename or "upload", size)
    return {"process_id": process_id}


@app.get("/token/{process_id}")
async def token(process_id: str):
    if process_id not in issued_ids:
        raise HTTPException(404, f"no upload here has the id {process_id}")
    if not TOKEN_SECRET:
        return {"token": None}  # the hub has no secret: subscriptions need no token
    return {"token": mint_token(process_id, TOKEN_SECRET, TOKEN_TTL_S)}


async def analyse(process_id, path, filename, size):
    """The seed's stages. Raising anywhere fails the job on the hub with the exception's text."""
    try:
        await run_stages(process_id, path, filename, size)
    except Exception as exc:  # already reported to the hub; a traceback here would only be noise
        log.warning("job %s failed: %s", process_id, exc)
    finally:
        path.unlink(missing_ok=True)


async def run_stages(process_id, path, filename, size):
    # lease_ms: if this process dies mid-job the hub marks the job failed (stalled) instead of
    # leaving a spinner; min_interval: the per-chunk updates cost a request at most every 100 ms.
    async with AsyncProgressTracker(process_id, HUB_URL, api_key=API_KEY, lease_ms=60_000,
                                    min_interval=0.1) as tracker:
        await tracker.update(ProgressStage.UPLOAD_RECEIVED, 0, f"received {filename} ({size} bytes)",
                             {"bytes_total": size})
        await asyncio.sleep(STAGE_DELAY_S)

        await tracker.update(ProgressStage.CHECKSUM, 5, "computing SHA-256")
        digest = hashlib.sha256()
        done = 0
        with path.open("rb") as source:
            while chunk := await asyncio.to_thread(source.read, CHUNK):
                digest.update(chunk)
                done += len(chunk)
                await tracker.update(ProgressStage.CHECKSUM, 5 + 25 * done / max(size, 1), "hashing",
                                     {"bytes_done": done, "bytes_total": size})
        await asyncio.sleep(STAGE_DELAY_S)

        await tracker.update(ProgressStage.TEXT_EXTRACTION, 30, "extracting text")
        # The work itself runs in threads too: this coroutine shares the event loop with every
        # request the app serves.
        raw = await asyncio.to_thread(path.read_bytes)
        text = await asyncio.to_thread(raw.decode, "utf-8", "replace")
        if raw and text.count("\ufffd") > len(text) // 10:
            raise ValueError(f"no readable text in {filename} (binary file?)")
        await asyncio.sleep(STAGE_DELAY_S)

        await tracker.update(ProgressStage.ANALYSIS, 60, "counting lines and words")
        words = await asyncio.to_thread(re.findall, r"\w+", text.lower())
        if not words:
            raise ValueError(f"{filename} holds no words")
        await asyncio.sleep(STAGE_DELAY_S)

        await tracker.complete({"bytes": size, "sha256": digest.hexdigest(), "lines": text.count("\n"),
                                "words": len(words), "unique_words": len(set(words))})


def main():
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001, help="0 picks a free port")
    args = parser.parse_args()
    # Bound here rather than by uvicorn so that port 0 works and the real port can be printed
    # (uvicorn would print :0), the line the hub prints too, which the tests read.
    sock = socket.create_server((args.host, args.port))
    print(f"listening on {args.host}:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
