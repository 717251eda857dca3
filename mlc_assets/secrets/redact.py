"""Keep secrets out of logs and archived payloads.

Two complementary nets, because neither alone is enough:

* **known values** — every ``SecretStr`` in the settings (and anything added later, such as
  a freshly minted access token), also in the encodings a payload would carry it in
  (JSON-escaped, URL-encoded, XML-escaped). This catches a password wherever it lands.
* **patterns** — credentials we never saw as values: ``Bearer`` tokens, LWA ``Atza|``/``Atzr|``
  tokens, ``access_token=`` in form bodies, ``"password": "..."`` in JSON, the WS-Security
  ``<wsse:Password>`` element of a Workday SOAP envelope, ``Authorization:`` headers.

Replacements keep the label (``Bearer ***``, ``"password": "***"``) so a redacted payload
still shows *what* was there. Paging tokens (``NextToken``) are deliberately not patterns:
archived pages must stay replayable.
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus
from xml.sax.saxutils import escape as xml_escape

from pydantic import BaseModel, SecretStr

REDACTED = "***"

# Key names whose values are credentials (case-insensitive; any prefix such as ``isu_``).
_KEYS = (
    r"(?:access_token|refresh_token|id_token|client_secret|client_assertion|password|passwd"
    r"|api_key|authorization|x-amz-access-token)"
)
_XML_ELEMENTS = (
    r"(?:Password|ClientSecret|client_secret|RefreshToken|refresh_token|AccessToken|access_token)"
)


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: str
    replacement: str  # ``\g<name>`` references; "***" is added by the rule text itself
    flags: int = 0


# Order matters a little: specific shapes first, the catch-all header line last.
RULES: tuple[_Rule, ...] = (
    _Rule(
        "wsse_password",
        r"(?P<open><(?:[\w.-]+:)?" + _XML_ELEMENTS + r"(?:\s[^>]*)?(?<!/)>)"
        r"(?P<val>[^<]*)"
        r"(?P<close></(?:[\w.-]+:)?" + _XML_ELEMENTS + r"\s*>)",
        r"\g<open>***\g<close>",
        re.IGNORECASE,
    ),
    _Rule(
        "quoted_key",  # JSON and Python reprs: "password": "x", 'client_secret': 'x'
        r"(?P<key>(?P<q>[\"'])[\w.-]*?" + _KEYS + r"(?P=q)\s*:\s*)"
        r"(?P<vq>[\"'])(?P<val>(?:\\.|(?!(?P=vq))[^\\])*)(?P=vq)",
        r"\g<key>\g<vq>***\g<vq>",
        re.IGNORECASE,
    ),
    _Rule(
        "form_key",  # form bodies and query strings: access_token=x&...
        r"(?P<key>" + _KEYS + r"=)(?P<val>[^&\s\"'<>]+)",
        r"\g<key>***",
        re.IGNORECASE,
    ),
    _Rule(
        "bearer",
        r"(?P<key>\bBearer\s+)(?P<val>[A-Za-z0-9\-._~+/|%]+=*)",
        r"\g<key>***",
        re.IGNORECASE,
    ),
    _Rule(
        "lwa_token",  # Login with Amazon access (Atza|) and refresh (Atzr|) tokens
        r"(?P<key>\bAtz[ar](?:\||%7C))(?P<val>[A-Za-z0-9\-._~+/|%=]+)",
        r"\g<key>***",
    ),
    _Rule(
        "auth_header",  # raw HTTP header lines
        r"(?P<key>\b(?:Proxy-)?Authorization\s*:\s*|\bx-amz-access-token\s*:\s*)"
        r"(?P<val>[^\r\n]+)",
        r"\g<key>***",
        re.IGNORECASE,
    ),
)


def _variants(value: str) -> set[str]:
    """How one secret can appear in a payload: raw, JSON-escaped, URL- and XML-encoded."""
    return {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value, safe=""),
        quote_plus(value, safe=""),
        xml_escape(value),  # XML text nodes: only & < > escaped
        xml_escape(value, {'"': "&quot;", "'": "&apos;"}),  # XML attributes
        html.escape(value, quote=True),  # &#x27; for the apostrophe
    }


def secret_values(obj: Any) -> list[str]:
    """Every ``SecretStr`` value inside a (nested) pydantic model, list or dict."""
    found: list[str] = []
    if isinstance(obj, SecretStr):
        found.append(obj.get_secret_value())
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            found.extend(secret_values(getattr(obj, name)))
    elif isinstance(obj, dict):
        for item in obj.values():
            found.extend(secret_values(item))
    elif isinstance(obj, list | tuple | set | frozenset):
        for item in obj:
            found.extend(secret_values(item))
    return found


class Redactor:
    """Replaces known secret values and credential-shaped text with ``***``.

    Values shorter than ``min_length`` are ignored: redacting every ``a`` would destroy the
    text while protecting nothing (patterns still cover such a value in a credential slot).
    """

    def __init__(self, values: Iterable[str | SecretStr] = (), *, min_length: int = 4) -> None:
        self._min_length = min_length
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._rules_text = [(re.compile(r.pattern, r.flags), r.replacement) for r in RULES]
        self._rules_bytes = [
            (re.compile(r.pattern.encode("ascii"), r.flags), r.replacement.encode("ascii"))
            for r in RULES
        ]
        self._values_text: re.Pattern[str] | None = None
        self._values_bytes: re.Pattern[bytes] | None = None
        self.add(*values)

    def __repr__(self) -> str:
        return f"Redactor({len(self._values)} known values)"

    @classmethod
    def from_settings(cls, settings: BaseModel, *, min_length: int = 4) -> Redactor:
        return cls(secret_values(settings), min_length=min_length)

    def add(self, *values: str | SecretStr | None) -> None:
        """Learn more secrets (e.g. an access token minted at run time)."""
        with self._lock:
            known = len(self._values)
            for value in values:
                if isinstance(value, SecretStr):
                    value = value.get_secret_value()
                if value and len(value) >= self._min_length:
                    self._values |= {v for v in _variants(value) if v}
            if len(self._values) == known:
                return  # nothing new: resources call this on every run, keep it cheap
            # Longest first, so a secret containing another one is replaced whole.
            ordered = sorted(self._values, key=len, reverse=True)
            if ordered:
                self._values_text = re.compile("|".join(re.escape(v) for v in ordered))
                self._values_bytes = re.compile(
                    b"|".join(re.escape(v.encode("utf-8")) for v in ordered)
                )

    def redact_text(self, text: str) -> str:
        values = self._values_text
        if values is not None:
            text = values.sub(REDACTED, text)
        for pattern, replacement in self._rules_text:
            text = pattern.sub(replacement, text)
        return text

    def redact_bytes(self, data: bytes) -> bytes:
        """For archived payloads: works on the bytes, so no decoding guess can go wrong."""
        values = self._values_bytes
        if values is not None:
            data = values.sub(REDACTED.encode("ascii"), data)
        for pattern, replacement in self._rules_bytes:
            data = pattern.sub(replacement, data)
        return data

    def redact_record(self, record: logging.LogRecord) -> None:
        """Format the message with its args, redact it, and drop the raw args and exception."""
        if getattr(record, "_mlc_redacted", False):
            return
        try:
            message = record.getMessage()
        except Exception:  # mismatched %-args: keep everything visible but redacted
            message = f"{record.msg} (log args: {record.args!r})"
        record.msg = self.redact_text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact_text(record.exc_text)
            # Handlers that render exc_info themselves would bypass the redaction.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self.redact_text(record.stack_info)
        record._mlc_redacted = True


class RedactingFilter(logging.Filter):
    """A ``logging.Filter`` that rewrites each record's message (and args) redacted."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        self.redactor.redact_record(record)
        return True


class _RedactingRecordFactory:
    """Redacts at record creation: covers every logger, even ones made after installation.

    Logger-level filters do not see records propagated from child loggers, and Dagster
    makes a fresh ``DagsterLogManager`` logger per run; the record factory sees them all.
    """

    def __init__(self, base: Any, log_filter: RedactingFilter) -> None:
        self.base = base
        self.log_filter = log_filter

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.base(*args, **kwargs)
        self.log_filter.filter(record)
        return record


DAGSTER_LOGGERS = ("dagster",)


def install_log_redaction(
    redactor: Redactor, logger_names: Iterable[str] = DAGSTER_LOGGERS
) -> RedactingFilter:
    """Redact every log record of this process; idempotent (re-installing swaps redactors).

    Installs the filter on the root logger, on the named loggers (Dagster's by default) and
    on their current handlers, and wraps the log record factory for everything else.
    """
    log_filter = RedactingFilter(redactor)
    for logger in (logging.getLogger(), *(logging.getLogger(n) for n in logger_names)):
        for target in (logger, *logger.handlers):
            for old in [f for f in target.filters if isinstance(f, RedactingFilter)]:
                target.removeFilter(old)
            target.addFilter(log_filter)
    factory = logging.getLogRecordFactory()
    if isinstance(factory, _RedactingRecordFactory):
        factory.log_filter = log_filter
    else:
        logging.setLogRecordFactory(_RedactingRecordFactory(factory, log_filter))
    return log_filter


def uninstall_log_redaction(logger_names: Iterable[str] = DAGSTER_LOGGERS) -> None:
    """Undo :func:`install_log_redaction` (tests, or re-configuration)."""
    for logger in (logging.getLogger(), *(logging.getLogger(n) for n in logger_names)):
        for target in (logger, *logger.handlers):
            for old in [f for f in target.filters if isinstance(f, RedactingFilter)]:
                target.removeFilter(old)
    factory = logging.getLogRecordFactory()
    if isinstance(factory, _RedactingRecordFactory):
        logging.setLogRecordFactory(factory.base)
