"""Errors shared by all API clients.

Each client subclasses these so callers can decide on one question: is it worth retrying?
Messages never carry credentials, tokens or authorization headers.
"""

from __future__ import annotations


class ApiError(Exception):
    """An external API refused or failed a call."""

    transient: bool = False

    def __init__(self, message: str, *, status: int | None = None, api: str = "") -> None:
        self.status = status
        self.api = api
        super().__init__(message)


class TransientApiError(ApiError):
    """Worth retrying: throttling, 5xx, timeouts, connection resets."""

    transient = True


class PermanentApiError(ApiError):
    """Retrying the same request cannot help: validation, not found, bad input."""


class AuthenticationError(PermanentApiError):
    """Credentials were rejected."""


class AuthorizationError(PermanentApiError):
    """Credentials are valid but lack a permission."""
