"""A response the sandbox drops on purpose (commit, then lose the answer), kept quiet in logs.

The client must see a reset or truncated answer and be unable to tell whether the call took
effect: headers promise a body, a fragment is sent, and the handler returns, so uvicorn closes
the connection. uvicorn then logs "ASGI callable returned without completing response" as an
error; for these deliberate drops (and only for them, one suppression per drop) that line is
filtered out, so a chaos run does not print what looks like a server crash.
"""

from __future__ import annotations

import logging
import threading

from starlette.responses import Response
from starlette.types import Receive, Scope, Send


class _IntendedDropFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._pending = 0
        self._lock = threading.Lock()

    def expect_one(self) -> None:
        with self._lock:
            self._pending += 1

    def filter(self, record: logging.LogRecord) -> bool:
        if "without completing response" not in record.getMessage():
            return True
        with self._lock:
            if self._pending > 0:
                self._pending -= 1
                return False
        return True


_DROP_FILTER = _IntendedDropFilter()
logging.getLogger("uvicorn.error").addFilter(_DROP_FILTER)


class DroppedResponse(Response):
    """Promise ``content_type`` with 4096 bytes, send ``fragment``, then drop the connection."""

    def __init__(self, content_type: str, fragment: bytes) -> None:
        super().__init__()
        self._content_type = content_type.encode()
        self._fragment = fragment

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", self._content_type), (b"content-length", b"4096")],
            }
        )
        _DROP_FILTER.expect_one()
        await send({"type": "http.response.body", "body": self._fragment, "more_body": True})
