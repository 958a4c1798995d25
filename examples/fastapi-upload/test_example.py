#!/usr/bin/python3
"""The example end to end: upload through it, follow the job with progress-watch to completed.

Usage: test_example.py PATH/TO/progress-hub PATH/TO/progress-watch   (Debian's /usr/bin/python3,
which has python3-fastapi, python3-uvicorn and python3-multipart)
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid

HERE = pathlib.Path(__file__).resolve().parent
GUARD_S = 30  # hang guard, not a speed goal
BINARIES = {}
SECRET = "example-test-secret"


def start(command, env=None):
    """A server that prints `listening on HOST:PORT` first; returns (process, base URL)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.kill()
        raise AssertionError(f"{command[0]} did not start: {line!r}")
    return process, "http://" + line.split(" ")[-1]


def stop(process):
    process.terminate()
    process.wait(timeout=GUARD_S)
    process.stdout.close()


def upload(app_url, name, content):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{app_url}/upload", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=GUARD_S) as reply:
        return json.loads(reply.read())


def get(url, headers=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=GUARD_S) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


class ExampleTest(unittest.TestCase):
    def run_pair(self, hub_args=(), app_env=None):
        """Hub and example side by side, as docs/migrating-from-fastapi.md starts them."""
        self.folder = tempfile.TemporaryDirectory()
        self.addCleanup(self.folder.cleanup)
        hub, hub_url = start([BINARIES["hub"], "--listen", "127.0.0.1:0", "--log-level", "warn", *hub_args])
        self.addCleanup(stop, hub)
        env = dict(os.environ, PROGRESS_HUB_URL=hub_url, UPLOAD_DIR=self.folder.name, STAGE_DELAY_S="0",
                   **(app_env or {}))
        app, app_url = start([sys.executable, str(HERE / "app.py"), "--port", "0"], env)
        self.addCleanup(stop, app)
        return hub_url, app_url

    def test_upload_followed_by_progress_watch_to_completed(self):
        hub_url, app_url = self.run_pair()
        answer = upload(app_url, "words.txt", b"the quick brown fox\njumps over the lazy dog\n" * 200)
        process_id = answer["process_id"]
        self.assertRegex(process_id, r"^auto_proc_[0-9a-f-]{36}_[0-9]+$")
        watch = subprocess.run([BINARIES["watch"], hub_url, process_id, "--json"], capture_output=True,
                               text=True, timeout=GUARD_S)
        self.assertEqual(watch.returncode, 0, watch.stdout + watch.stderr)
        final = json.loads(watch.stdout.strip().splitlines()[-1])
        self.assertEqual((final["state"], final["percent"]), ("completed", 100))
        self.assertEqual((final["result"]["words"], final["result"]["unique_words"]), (1800, 8))
        self.assertEqual([s["name"] for s in final["stages"]],
                         ["upload_received", "checksum", "text_extraction", "analysis"])
        self.assertEqual(get(f"{app_url}/token/{process_id}"), (200, {"token": None}))

    def test_binary_upload_fails_the_job_with_the_reason(self):
        hub_url, app_url = self.run_pair()
        process_id = upload(app_url, "image.bin", bytes(range(256)) * 64)["process_id"]
        watch = subprocess.run([BINARIES["watch"], hub_url, process_id, "--json"], capture_output=True,
                               text=True, timeout=GUARD_S)
        self.assertEqual(watch.returncode, 1, watch.stdout + watch.stderr)
        final = json.loads(watch.stdout.strip().splitlines()[-1])
        self.assertEqual(final["state"], "failed")
        self.assertIn("no readable text in image.bin", json.dumps(final["error"]))

    def test_token_route_mints_what_the_hub_accepts(self):
        secret_file = pathlib.Path(tempfile.mkdtemp()) / "secret"
        self.addCleanup(secret_file.parent.rmdir)
        self.addCleanup(secret_file.unlink)
        secret_file.write_text(SECRET + "\n")
        hub_url, app_url = self.run_pair(["--token-secret-file", str(secret_file)],
                                         {"PROGRESS_TOKEN_SECRET_FILE": str(secret_file)})
        process_id = upload(app_url, "a.txt", b"hello world\n")["process_id"]
        status, minted = get(f"{app_url}/token/{process_id}")
        self.assertEqual(status, 200)
        status, _ = get(f"{hub_url}/api/processes/{process_id}")
        self.assertEqual(status, 401)
        # The upload answered before its job published anything: wait for the record to exist.
        # A subscriber with the token gets `pending` meanwhile; GET answers 404.
        for _ in range(GUARD_S * 20):
            status, record = get(f"{hub_url}/api/processes/{process_id}",
                                 {"Authorization": f"Bearer {minted['token']}"})
            if status == 200 and record["state"] == "completed":
                break
            self.assertIn(status, (200, 404), record)
            time.sleep(0.05)
        self.assertEqual((status, record["state"]), (200, "completed"))
        self.assertEqual(get(f"{app_url}/token/auto_proc_not_ours_1")[0], 404)


if __name__ == "__main__":
    BINARIES["hub"], BINARIES["watch"] = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1], verbosity=2)
