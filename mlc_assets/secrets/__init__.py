"""Credentials at rest (an encrypted store) and secrets in flight (redaction of logs and payloads).

The connector needs long-lived secrets (LWA refresh tokens, an ISU password, Deltek client
secrets). Environment variables are fine for CI and containers; on an operator's machine
they end up in shell history and ``.env`` files, so ``mlc credentials`` keeps them in one
authenticated-encrypted file instead, and :mod:`.redact` keeps them out of logs and archives.
"""

from __future__ import annotations

from mlc_assets.secrets.keys import (
    KEY_ENV,
    OLD_KEYS_ENV,
    CredentialsError,
    CredentialsKeyError,
    KeySet,
    generate_key,
    resolve_keys,
)
from mlc_assets.secrets.redact import RedactingFilter, Redactor, install_log_redaction
from mlc_assets.secrets.store import (
    SYSTEM_FIELDS,
    CredentialsDecryptError,
    CredentialsFileError,
    CredentialsStore,
    credentials_path,
    is_secret_field,
    overlay_stored_credentials,
)

__all__ = [
    "KEY_ENV",
    "OLD_KEYS_ENV",
    "SYSTEM_FIELDS",
    "CredentialsDecryptError",
    "CredentialsError",
    "CredentialsFileError",
    "CredentialsKeyError",
    "CredentialsStore",
    "KeySet",
    "RedactingFilter",
    "Redactor",
    "credentials_path",
    "generate_key",
    "install_log_redaction",
    "is_secret_field",
    "overlay_stored_credentials",
    "resolve_keys",
]
