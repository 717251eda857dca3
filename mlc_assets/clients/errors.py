"""The API errors every client raises (the tree is drawn in ``mlc_assets/errors.py``).

Each client subclasses these so callers can decide on one question: is it worth retrying?
Messages never carry credentials, tokens or authorization headers.
"""

from __future__ import annotations

from mlc_assets.errors import (
    ApiError,
    AuthenticationError,
    AuthorizationError,
    PermanentApiError,
    TransientApiError,
)

__all__ = [
    "ApiError",
    "AuthenticationError",
    "AuthorizationError",
    "PermanentApiError",
    "TransientApiError",
]
