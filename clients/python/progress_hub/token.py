"""Subscription tokens: the HS256 JWT a backend hands to its page (docs/protocol.md, "Access")."""

import base64
import hashlib
import hmac
import json
import time


def _b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def mint_token(process_id, secret, ttl=3600, now=None):
    """Return a token that lets its holder subscribe to ``process_id`` for ``ttl`` seconds.

    ``secret`` is the hub's token secret (``--token-secret-file`` / ``PROGRESS_TOKEN_SECRET``), as
    ``str`` or ``bytes``; the hub strips trailing whitespace from the file, so a secret read from
    the same file should be stripped too. Claims: ``sub`` (the process id), ``iat`` and ``exp``
    (Unix seconds). ``now`` is for tests.
    """
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not secret:
        raise ValueError("the token secret is empty")
    if ttl <= 0:
        raise ValueError(f"ttl must be positive, got {ttl}")
    issued = int(time.time() if now is None else now)
    header = {"alg": "HS256", "typ": "JWT"}
    payload = {"sub": process_id, "iat": issued, "exp": issued + int(ttl)}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode("utf-8")) for part in (header, payload))
    signature = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"
