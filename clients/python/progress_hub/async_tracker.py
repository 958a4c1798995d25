"""AsyncProgressTracker: ProgressTracker's methods as coroutines, for asyncio code (FastAPI)."""

import asyncio

from .tracker import ProgressTracker


class AsyncProgressTracker:
    """The same API as ``ProgressTracker``, awaited: ``await t.update(...)``, ``async with``.

    Each call runs the blocking tracker in a worker thread (``asyncio.to_thread``) rather than
    speaking HTTP over asyncio streams: the blocking tracker already owns the kept-alive
    connection, the retries with their idempotency key and the coalescing, and one code path for
    both keeps them identical; a thread hop is small next to a network round trip. The tracker's
    lock keeps concurrent calls from several tasks in order. A task cancelled while a call is in
    flight does not stop that call: the update may still reach the hub.
    """

    def __init__(self, process_id, hub_url, api_key=None, lease_ms=None, timeout=10.0, *,
                 min_interval=0.0, retry_for=30.0):
        self._tracker = ProgressTracker(process_id, hub_url, api_key=api_key, lease_ms=lease_ms,
                                        timeout=timeout, min_interval=min_interval, retry_for=retry_for)
        self.process_id = process_id

    async def update(self, stage, percent=None, message=None, data=None):
        return await asyncio.to_thread(self._tracker.update, stage, percent, message, data)

    async def complete(self, result=None):
        return await asyncio.to_thread(self._tracker.complete, result)

    async def fail(self, error):
        return await asyncio.to_thread(self._tracker.fail, error)

    async def cancel(self):
        return await asyncio.to_thread(self._tracker.cancel)

    async def flush(self):
        return await asyncio.to_thread(self._tracker.flush)

    async def close(self):
        return await asyncio.to_thread(self._tracker.close)

    async def __aenter__(self):
        return self

    async def __aexit__(self, exc_type, exc, tb):
        return await asyncio.to_thread(self._tracker.__exit__, exc_type, exc, tb)
