"""Capture the raw HTTP exchanges of an ERP client for the audit archive, secrets removed.

Every request and response body an ERP saw is kept (content-addressed) next to the posting
record, so an auditor can see exactly what was sent. Token exchanges are not kept at all, and
everything else goes through the redactor before it is stored.
"""

from __future__ import annotations

import threading

import httpx

from mlc_assets.secrets.redact import Redactor


class HttpExchangeRecorder:
    """httpx event hooks that collect (label, redacted bytes) per request/response."""

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._lock = threading.Lock()
        self._items: list[tuple[str, bytes]] = []

    def hooks(self) -> dict[str, list]:
        return {"response": [self._on_response]}

    def _on_response(self, response: httpx.Response) -> None:
        request = response.request
        path = request.url.path
        label = f"{request.method} {path} -> {response.status_code}"
        if path.rstrip("/").endswith("/token") or "oauth2" in path:
            return  # credentials in the body both ways: never archived
        response.read()
        body = (
            f"{request.method} {request.url.copy_with(query=None)}\n"
            f"content-type: {request.headers.get('content-type', '')}\n\n"
        ).encode() + (request.content or b"")
        reply = (
            f"HTTP {response.status_code}\ncontent-type: "
            f"{response.headers.get('content-type', '')}\n\n"
        ).encode() + response.content
        with self._lock:
            self._items.append((f"request {label}", self.redactor.redact_bytes(body)))
            self._items.append((f"response {label}", self.redactor.redact_bytes(reply)))

    def add(self, label: str, data: bytes) -> None:
        with self._lock:
            self._items.append((label, self.redactor.redact_bytes(data)))

    def drain(self) -> list[tuple[str, bytes]]:
        with self._lock:
            items, self._items = self._items, []
        return items
