"""One kept-alive HTTP connection to a hub, with retries that never apply a publish twice."""

import http.client
import json
import random
import time
import urllib.parse
import uuid

from .errors import ProgressHubError

# Backoff between attempts: full jitter over min(cap, first * 2^attempt), as the browser client
# does for reconnects (docs/protocol.md, "Client session"), so many producers that lost one hub
# at once do not come back in lockstep.
FIRST_RETRY_S = 0.05
MAX_RETRY_S = 2.0


def _error_from(status, reply):
    error = reply.get("error") if isinstance(reply, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return ProgressHubError(error["code"], str(error.get("message", "")), status)
    return ProgressHubError(f"http_{status}", f"the hub answered HTTP {status} without a JSON error", status)


class HubConnection:
    """POSTs JSON bodies to one hub over a single ``http.client`` connection, reopened when the hub
    or a proxy dropped it. Not thread-safe: ``ProgressTracker`` serialises its calls."""

    def __init__(self, hub_url, api_key=None, timeout=10.0, retry_for=30.0):
        parts = urllib.parse.urlsplit(hub_url)
        scheme = {"http": "http", "ws": "http", "https": "https", "wss": "https"}.get(parts.scheme)
        if scheme is None or not parts.hostname:
            raise ValueError(f"hub_url must look like http://host:port, got {hub_url!r}")
        self.url = hub_url
        self._factory = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")  # a hub mounted under a path by a reverse proxy
        self._api_key = api_key
        self._timeout = timeout
        self._retry_for = retry_for
        self._conn = None

    def close(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def post(self, path, body):
        """POST ``body`` as JSON and return the hub's JSON answer; raise ``ProgressHubError`` on a
        refusal, or when the hub stayed unreachable or unavailable (503) past the retry deadline.

        Every attempt of one call carries the same ``Idempotency-Key``: when an answer is lost after
        the hub applied the publish, the retry gets that first answer back instead of a second
        event (on hubs that support the header; older ones ignore it).
        """
        # allow_nan=False: NaN and Infinity are not JSON; refuse them here with a clear message
        # rather than send a body the hub can only call malformed.
        try:
            payload = json.dumps(body, allow_nan=False, separators=(",", ":")).encode("utf-8")
        except ValueError as exc:
            raise ValueError(f"numbers in a publish must be finite: {exc}") from None
        headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        deadline = time.monotonic() + self._retry_for
        attempt = 0
        while True:
            try:
                status, reply = self._exchange(self._prefix + path, payload, headers)
            except (OSError, http.client.HTTPException) as exc:
                # Covers refused connections, timeouts, and a kept-alive socket the peer closed
                # while we were idle (RemoteDisconnected): all are safe to resend under the key.
                self.close()
                failure = ProgressHubError("unreachable", f"no answer from the hub at {self.url}: {exc}")
            else:
                if 200 <= status < 300:
                    return reply
                if status != 503:
                    raise _error_from(status, reply)
                failure = _error_from(status, reply)
            delay = random.uniform(0, min(MAX_RETRY_S, FIRST_RETRY_S * 2 ** attempt))
            attempt += 1
            if time.monotonic() + delay >= deadline:
                raise failure
            time.sleep(delay)

    def _exchange(self, target, payload, headers):
        if self._conn is None:
            self._conn = self._factory(self._host, self._port, timeout=self._timeout)
        self._conn.request("POST", target, body=payload, headers=headers)
        response = self._conn.getresponse()
        raw = response.read()  # read to the end, or the connection cannot carry the next request
        if response.will_close:
            self.close()
        try:
            reply = json.loads(raw) if raw else {}
        except ValueError:
            reply = {}
        return response.status, reply
