"""mint_token and api_key against a hub run with --token-secret-file and --api-key-file."""

import base64
import json
import pathlib
import tempfile
import time
import unittest

from hub_harness import Hub, new_process_id
from progress_hub import ProgressHubError, ProgressTracker, mint_token

SECRET = "s3cret-for-tests"
API_KEY = "producer-key"
hub = None
secrets = None


def setUpModule():
    global hub
    global secrets
    secrets = tempfile.TemporaryDirectory()
    folder = pathlib.Path(secrets.name)
    # A trailing newline, as editors write it: the hub strips it, and so must a backend.
    (folder / "secret").write_text(SECRET + "\n")
    (folder / "key").write_text(API_KEY + "\n")
    hub = Hub("--token-secret-file", str(folder / "secret"), "--api-key-file", str(folder / "key"))


def tearDownModule():
    hub.stop()
    secrets.cleanup()


def read_with(process_id, token):
    return hub.request("GET", f"/api/processes/{process_id}", headers={"Authorization": f"Bearer {token}"})


class TokenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pid = new_process_id()
        ProgressTracker(cls.pid, hub.url, api_key=API_KEY).update("analysis", 50)

    def test_minted_token_reads_the_process(self):
        status, record = read_with(self.pid, mint_token(self.pid, SECRET, 60))
        self.assertEqual((status, record["percent"]), (200, 50))

    def test_token_claims(self):
        payload = mint_token(self.pid, SECRET.encode(), ttl=90, now=1_700_000_000).split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        self.assertEqual(claims, {"sub": self.pid, "iat": 1_700_000_000, "exp": 1_700_000_090})

    def test_wrong_secret_is_refused(self):
        status, body = read_with(self.pid, mint_token(self.pid, "not-the-secret", 60))
        self.assertEqual((status, body["error"]["code"]), (401, "unauthorized"))

    def test_token_for_another_process_is_refused(self):
        status, body = read_with(self.pid, mint_token(new_process_id(), SECRET, 60))
        self.assertEqual((status, body["error"]["code"]), (401, "unauthorized"))

    def test_expired_token_is_refused(self):
        status, body = read_with(self.pid, mint_token(self.pid, SECRET, 60, now=time.time() - 3600))
        self.assertEqual((status, body["error"]["code"]), (401, "unauthorized"))
        self.assertIn("expired", body["error"]["message"])

    def test_publish_without_the_api_key_is_unauthorized(self):
        with self.assertRaises(ProgressHubError) as refused:
            ProgressTracker(new_process_id(), hub.url).update("analysis", 1)
        self.assertEqual((refused.exception.code, refused.exception.status), ("unauthorized", 401))


if __name__ == "__main__":
    unittest.main()
