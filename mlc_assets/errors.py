"""The connector's one error tree: every error it raises on purpose derives from ``MlcError``.

    MlcError
    ├── ConfigurationError          settings or credentials missing or contradictory
    ├── SettlementFileError         a report file that cannot be read (file, line, column)
    │   └── UnbalancedSettlementError
    ├── MappingError                a GL mapping file that cannot be used (domain.mapping)
    ├── ApiError                    an external API refused or failed a call (clients)
    │   ├── TransientApiError       worth retrying: 429, 5xx, timeouts, resets
    │   │   └── OutcomeUnknownError a write that may have landed: look it up first
    │   └── PermanentApiError       retrying cannot help: validation, not found, bad input
    │       ├── AuthenticationError credentials rejected
    │       └── AuthorizationError  credentials valid, permission missing
    └── PostingError                a document could not be posted (services.exactly_once)
        ├── PostedDocumentChangedError
        └── VerificationError

Each layer defines its own subclasses next to the code that raises them; this module holds
the root and the classes more than one layer catches. A caller decides on one question —
stop now, or is it worth retrying (``TransientApiError``)? Messages name the place (file,
line, field, reference) and never carry a credential.
"""

from __future__ import annotations


class MlcError(Exception):
    """Base of every error the connector raises on purpose."""


class ConfigurationError(MlcError):
    """Settings or credentials are missing or contradictory; the message says what to set."""


class ApiError(MlcError):
    """An external API refused or failed a call."""

    transient: bool = False

    def __init__(self, message: str, *, status: int | None = None, api: str = "") -> None:
        self.status = status
        self.api = api
        super().__init__(message)


class TransientApiError(ApiError):
    """Worth retrying: throttling, 5xx, timeouts, connection resets."""

    transient = True


class OutcomeUnknownError(TransientApiError):
    """A write failed after it was sent (reset, timeout, bare 500): the ERP may have committed
    it. Only the exactly-once poster decides what happens next: it looks the document up."""


class PermanentApiError(ApiError):
    """Retrying the same request cannot help: validation, not found, bad input."""


class AuthenticationError(PermanentApiError):
    """Credentials were rejected."""


class AuthorizationError(PermanentApiError):
    """Credentials are valid but lack a permission."""
