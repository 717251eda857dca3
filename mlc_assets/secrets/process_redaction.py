"""One redactor for the whole process, installed when the Dagster code location loads.

Every process that runs connector code (the code server, each run worker, `mlc demo`) imports
the definitions, so that import is where log redaction goes in: from then on every log record
of the process, Dagster's included, passes through the redactor. Secrets met only at run time
(the sandbox's demo credentials, an ERP password read from the encrypted store by a resource)
are added to the same redactor as they are met.
"""

from __future__ import annotations

import threading

from pydantic import BaseModel, SecretStr

from mlc_assets.secrets.redact import (
    Redactor,
    install_log_redaction,
    secret_values,
    uninstall_log_redaction,
)

_lock = threading.Lock()
_redactor: Redactor | None = None


def redact_this_process(settings: BaseModel) -> Redactor:
    """Redact every log record of this process, knowing every secret in ``settings``."""
    global _redactor
    with _lock:
        if _redactor is None:
            _redactor = Redactor.from_settings(settings)
            install_log_redaction(_redactor)
        else:
            _redactor.add(*secret_values(settings))
        return _redactor


def learn_secrets(*values: str | SecretStr | None) -> None:
    """Teach the process's redactor secrets it could not know at start-up (no-op before it)."""
    redactor = _redactor
    if redactor is not None:
        redactor.add(*values)


def stop_redacting_this_process() -> None:
    """Undo :func:`redact_this_process` (tests)."""
    global _redactor
    with _lock:
        if _redactor is not None:
            uninstall_log_redaction()
            _redactor = None
