"""The one exception the library raises for anything the hub refused or could not be reached for."""


class ProgressHubError(Exception):
    """A publish the hub refused, or one that could not be delivered before the retry deadline.

    ``code`` is the hub's machine-readable code (``invalid_update``, ``process_finished``,
    ``unauthorized``, ``unavailable``...; docs/protocol.md, "Errors"), or ``unreachable`` when no
    answer came back at all. ``status`` is the HTTP status, ``None`` when there was no answer.
    ``message`` is the hub's plain-English text: show it, do not parse it.
    """

    def __init__(self, code, message, status=None):
        super().__init__(f"{code}: {message}" if status is None else f"{code} (HTTP {status}): {message}")
        self.code = code
        self.message = message
        self.status = status
