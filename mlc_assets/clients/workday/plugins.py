"""What wraps every Workday call: the audit recorder zeep runs on each envelope, and the
decorator that turns a response not understood into a typed error naming the operation."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from lxml import etree
from zeep.plugins import Plugin

from mlc_assets.clients.workday.faults import (
    WorkdayError,
    WorkdayPermanentError,
)

log = logging.getLogger(__name__)


SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


class SoapExchangeRecorder(Plugin):
    """Keeps each request/response envelope as bytes for the audit archive.

    zeep runs plugins before WS-Security is applied, so recorded requests never contain the
    password; a bearer token travels in an HTTP header, which is not recorded.
    """

    def __init__(self) -> None:
        self._items: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._local = threading.local()

    def egress(self, envelope, http_headers, operation, binding_options):  # type: ignore[no-untyped-def]
        self._add(f"{operation.name}:request", envelope)
        return envelope, http_headers

    def ingress(self, envelope, http_headers, operation):  # type: ignore[no-untyped-def]
        self._add(f"{operation.name}:response", envelope)
        body = envelope.find(f"{{{SOAP_ENV}}}Body")
        elements = [] if body is None else [c for c in body if isinstance(c.tag, str)]
        self._local.body = elements[0] if elements else None
        return envelope, http_headers

    def has_body(self) -> bool:
        return getattr(self._local, "body", None) is not None

    def take_body(self) -> etree._Element | None:
        """The first Body element of this thread's latest response (then forgotten)."""
        body = getattr(self._local, "body", None)
        self._local.body = None
        return body

    def _add(self, label: str, envelope: etree._Element) -> None:
        data = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
        with self._lock:
            self._items.append((label, data))

    def drain(self) -> list[tuple[str, bytes]]:
        with self._lock:
            items, self._items = self._items, []
        return items


_F = TypeVar("_F", bound=Callable[..., Any])


def reads_response(operation: str) -> Callable[[_F], _F]:
    """Response bodies are read by name (``responses.py``); a value that is not what the
    element promises (a non-decimal amount, an impossible date, a page count that is no page
    count) becomes a WorkdayPermanentError naming the operation, not a bare ValueError."""

    def wrap(fn: _F) -> _F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except WorkdayError:
                raise
            except (
                ValueError,
                TypeError,
                ArithmeticError,
                AttributeError,
                IndexError,
                KeyError,
            ) as exc:
                raise WorkdayPermanentError(
                    f"response not understood ({type(exc).__name__}: {str(exc)[:300]})",
                    operation=operation,
                ) from exc

        return inner  # type: ignore[return-value]

    return wrap
