"""ProgressTracker: one job's progress, published to a hub over HTTP."""

import enum
import logging
import threading
import time
import urllib.parse

from .connection import HubConnection
from .errors import ProgressHubError

log = logging.getLogger("progress_hub")

# The hub refuses a process error over 16 KiB serialized; an exception's text can be anything, and
# a refused fail() would leave the job running, so the context manager cuts it well below that.
MAX_ERROR_CHARS = 4000


def _merge(pending, body):
    """The publish that has the same effect as ``pending`` then ``body``: the hub keeps absent
    fields, so a later value replaces an earlier one and nothing else is lost."""
    if pending is None:
        return body
    merged = dict(pending)
    merged.update(body)
    return merged


def _error_value(error):
    if isinstance(error, BaseException):
        return (str(error) or type(error).__name__)[:MAX_ERROR_CHARS]
    return error


class ProgressTracker:
    """Reports one process's progress to a progress-hub.

    ``update()`` for each step, then exactly one of ``complete()``, ``fail()`` or ``cancel()``.
    Each call is one ``POST /api/processes/{id}/progress`` on a kept-alive connection and returns
    the hub's answer (``{"process_id", "seq"}``), or ``None`` when ``min_interval`` held it back.

    ``min_interval`` (seconds, 0 = off): an update of the current stage sooner than this after the
    previous publish is held and merged with the next one instead of being sent. Stage changes and
    terminal states always go out at once, after any held update, so the hub sees every stage in
    order. A held update is sent by the next call, ``flush()`` or ``close()``.

    ``lease_ms`` rides on every update: the hub fails the job as ``stalled`` when no update came
    within it (keep it above ``min_interval``). ``timeout`` bounds one request (seconds);
    ``retry_for`` bounds the retries of connection errors and 503 answers (seconds).

    As a context manager, the block raising fails the job with the exception's message (and the
    exception propagates); leaving it normally sends any held update. It does not complete the job:
    call ``complete()``. The methods may be called from several threads.
    """

    def __init__(self, process_id, hub_url, api_key=None, lease_ms=None, timeout=10.0, *,
                 min_interval=0.0, retry_for=30.0):
        self.process_id = process_id
        self.lease_ms = lease_ms
        self.min_interval = min_interval
        self._path = f"/api/processes/{urllib.parse.quote(process_id, safe='._:-~')}/progress"
        self._hub = HubConnection(hub_url, api_key=api_key, timeout=timeout, retry_for=retry_for)
        self._lock = threading.Lock()
        self._pending = None     # merged body held back by min_interval
        self._stage = None       # the stage of the latest update, sent or held
        self._last_sent = None   # time.monotonic() of the latest publish
        self._finished = False   # a terminal state was accepted

    def update(self, stage, percent=None, message=None, data=None):
        """Report ``stage`` (a ``ProgressStage`` or any string; ``None`` keeps the current one) with
        optional ``percent`` (0..100, never lower than before), ``message`` and ``data`` (a dict)."""
        if stage is not None:
            stage = str(stage.value if isinstance(stage, enum.Enum) else stage)
        body = {"stage": stage, "percent": percent, "message": message, "data": data}
        body = {k: v for k, v in body.items() if v is not None}
        if self.lease_ms is not None:
            body["lease_ms"] = self.lease_ms
        with self._lock:
            stage_change = stage is not None and stage != self._stage
            if stage is not None:
                self._stage = stage
            if stage_change:
                self._flush_locked()
            elif self._held_back():
                self._pending = _merge(self._pending, body)
                return None
            else:
                body, self._pending = _merge(self._pending, body), None
            return self._send_locked(body)

    def complete(self, result=None):
        """Finish the job as ``completed`` (percent becomes 100); ``result`` is any JSON value."""
        body = {"state": "completed"}
        if result is not None:
            body["result"] = result
        return self._finish(body)

    def fail(self, error):
        """Finish the job as ``failed``: ``error`` is a string, a dict such as ``{"code", "message"}``,
        or an exception (its message is sent)."""
        return self._finish({"state": "failed", "error": _error_value(error)})

    def cancel(self):
        """Finish the job as ``cancelled``."""
        return self._finish({"state": "cancelled"})

    def flush(self):
        """Send the update ``min_interval`` is holding back, if any."""
        with self._lock:
            return self._flush_locked()

    def close(self):
        """Send any held update and close the connection."""
        try:
            self.flush()
        finally:
            self._hub.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None:
            self.close()
            return False
        with self._lock:
            # The job failed: a held intermediate update is moot, and a refusal of it must not
            # keep the failure from being sent.
            self._pending = None
        try:
            if not self._finished:
                self.fail(exc)
        except (ProgressHubError, ValueError) as failure:
            # The block's exception is the one the caller must see; this one only gets logged.
            log.warning("could not mark %s failed: %s", self.process_id, failure)
        finally:
            self._hub.close()
        return False

    def _finish(self, body):
        with self._lock:
            self._flush_locked()
            reply = self._send_locked(body)
            self._finished = True
            return reply

    def _held_back(self):
        return (self.min_interval > 0 and self._last_sent is not None
                and time.monotonic() - self._last_sent < self.min_interval)

    def _flush_locked(self):
        body, self._pending = self._pending, None
        return None if body is None else self._send_locked(body)

    def _send_locked(self, body):
        reply = self._hub.post(self._path, body)
        self._last_sent = time.monotonic()
        return reply
