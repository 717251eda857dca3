"""The encrypted credentials file ``<data home>/credentials.enc``.

The whole JSON document is one Fernet token (AES-128-CBC + HMAC-SHA256 from ``cryptography``),
so neither field names nor values are readable on disk and any tampering fails
authentication. Writes are atomic (temp file in the same directory, fsync, ``os.replace``)
and the file is mode 0600, so a crash never leaves a half-written file and other users
cannot even read the ciphertext. A file lock serialises concurrent read-modify-write.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.fernet import InvalidToken
from filelock import FileLock
from pydantic import BaseModel, SecretStr, ValidationError

from mlc_assets.config import AmazonSettings, DeltekSettings, Settings, WorkdaySettings
from mlc_assets.secrets.keys import (
    CredentialsError,
    CredentialsKeyError,
    KeySet,
    KeySource,
    RotationOutcome,
    resolve_keys,
)

log = logging.getLogger(__name__)

FILE_NAME = "credentials.enc"
_MAGIC = b"MLC-CREDENTIALS/1 fernet\n"
_FORMAT = 1

SYSTEM_MODELS: dict[str, type[BaseModel]] = {
    "amazon": AmazonSettings,
    "workday": WorkdaySettings,
    "deltek": DeltekSettings,
}
# Only what identifies and authenticates an account; behaviour settings stay in env/.env.
SYSTEM_FIELDS: dict[str, tuple[str, ...]] = {
    "amazon": ("lwa_client_id", "lwa_client_secret", "refresh_token", "region", "marketplace_ids"),
    "workday": (
        "host",
        "tenant",
        "isu_username",
        "isu_password",
        "oauth_client_id",
        "oauth_client_secret",
        "oauth_refresh_token",
    ),
    "deltek": ("base_url", "database", "username", "password", "client_id", "client_secret"),
}
_LIST_FIELDS = {("amazon", "marketplace_ids")}

StoredCredentials = dict[str, dict[str, Any]]


class CredentialsDecryptError(CredentialsError):
    """The file does not open with the configured key(s)."""


class CredentialsFileError(CredentialsError):
    """The file is not a credentials file of ours, or is damaged."""


class CredentialsValueError(CredentialsError):
    """A system, field or value that the store refuses; names the field, never the secret."""


def credentials_path(data_home: Path) -> Path:
    return Path(data_home) / FILE_NAME


def is_secret(model: type[BaseModel], field: str) -> bool:
    """Secret-ness comes from the settings model (``SecretStr``), the single source of truth."""
    annotation = model.model_fields[field].annotation
    return annotation is SecretStr or SecretStr in typing.get_args(annotation)


def is_secret_field(system: str, field: str) -> bool:
    return is_secret(SYSTEM_MODELS[system], field)


def check_system(system: str) -> None:
    if system not in SYSTEM_FIELDS:
        raise CredentialsValueError(f"unknown system '{system}'; known: {', '.join(SYSTEM_FIELDS)}")


def check_field(system: str, field: str) -> None:
    check_system(system)
    if field not in SYSTEM_FIELDS[system]:
        raise CredentialsValueError(
            f"unknown field '{field}' for {system}; known: {', '.join(SYSTEM_FIELDS[system])}"
        )


def normalize_value(system: str, field: str, value: Any) -> Any:
    """Strings stay strings; ``marketplace_ids`` accepts ``A,B`` or a JSON list."""
    check_field(system, field)
    where = f"{system}.{field}"
    if (system, field) in _LIST_FIELDS:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise CredentialsValueError(f"{where}: not a JSON list ({exc.msg})") from None
            else:
                value = text.split(",")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise CredentialsValueError(f"{where}: expected a list of strings")
        items = [v.strip() for v in value if v.strip()]
        if not items:
            raise CredentialsValueError(f"{where}: empty list")
        return items
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str):
        raise CredentialsValueError(f"{where}: expected a string")
    if not value.strip():
        raise CredentialsValueError(
            f"{where}: empty value (to delete it: mlc credentials remove {system} {field})"
        )
    return value.strip()


def _validate_system(system: str, values: Mapping[str, Any]) -> None:
    """Refuse what the settings model would refuse later (e.g. region 'xx'), without echoing."""
    try:
        SYSTEM_MODELS[system].model_validate(dict(values))
    except ValidationError as exc:
        problems = "; ".join(
            f"{system}.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False)
        )
        raise CredentialsValueError(problems) from None


class CredentialsStore:
    """Read-modify-write access to one encrypted credentials file."""

    def __init__(self, path: Path, keys: KeySet) -> None:
        self.path = Path(path)
        self._keys = keys
        self._lock = FileLock(str(self.path) + ".lock", timeout=30)

    def __repr__(self) -> str:
        return f"CredentialsStore({str(self.path)!r}, key from {self._keys.source or '?'})"

    def exists(self) -> bool:
        return self.path.exists()

    # -- whole file ---------------------------------------------------------------------

    def read(self) -> StoredCredentials:
        """All stored systems and fields; empty when the file does not exist yet."""
        return self._read_with(self._keys)

    def _read_with(self, keys: KeySet) -> StoredCredentials:
        try:
            blob = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        if not blob.startswith(_MAGIC):
            raise CredentialsFileError(f"{self.path}: not an ml-connector credentials file")
        try:
            plain = keys.fernet().decrypt(blob[len(_MAGIC) :].strip())
        except InvalidToken:
            raise CredentialsDecryptError(
                f"cannot decrypt credentials: wrong key? ({self.path}; key from {keys.source}). "
                "If the key was rotated, use the new key; the file may also have been altered."
            ) from None
        try:
            doc = json.loads(plain)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise CredentialsFileError(f"{self.path}: decrypted content is not JSON") from None
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise CredentialsFileError(f"{self.path}: unsupported credentials format")
        systems = doc.get("systems")
        if not isinstance(systems, dict):
            raise CredentialsFileError(f"{self.path}: unsupported credentials format")
        if not all(isinstance(v, dict) for v in systems.values()):
            raise CredentialsFileError(f"{self.path}: damaged credentials document")
        return systems

    def write(self, systems: StoredCredentials) -> None:
        """Encrypt under the primary key only and replace the file atomically."""
        self._write_with(self._keys, systems)

    def _write_with(self, keys: KeySet, systems: StoredCredentials) -> None:
        doc = {"format": _FORMAT, "systems": {k: v for k, v in systems.items() if v}}
        token = keys.encrypting_only().fernet().encrypt(json.dumps(doc).encode("utf-8"))
        _atomic_write(self.path, _MAGIC + token + b"\n")

    # -- edits --------------------------------------------------------------------------

    def set_fields(self, system: str, values: Mapping[str, Any]) -> None:
        """Merge ``values`` into ``system``; validated as the settings model would."""
        normalized = {f: normalize_value(system, f, v) for f, v in values.items()}
        with self._lock:
            systems = self.read()
            merged = {**systems.get(system, {}), **normalized}
            _validate_system(system, merged)
            systems[system] = merged
            self.write(systems)

    def remove(self, system: str, field: str | None = None) -> bool:
        """Forget one field or a whole system; False if there was nothing to remove."""
        if field is None:
            check_system(system)
        else:
            check_field(system, field)
        with self._lock:
            systems = self.read()
            if system not in systems:
                return False
            if field is None:
                del systems[system]
            elif field in systems[system]:
                del systems[system][field]
            else:
                return False
            self.write(systems)
            return True

    def rotate(self, source: KeySource) -> RotationOutcome:
        """Re-encrypt under a new key; afterwards only the new key opens the file."""
        if not self.exists():
            raise CredentialsFileError(f"{self.path}: no credentials stored, nothing to rotate")

        def reencrypt(keys: KeySet) -> None:
            systems = self._read_with(keys)  # any key of the set opens it
            self._write_with(keys, systems)  # the primary alone encrypts it
            self._keys = keys.encrypting_only()

        with self._lock:
            return source.rotate(reencrypt)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600 from the start: no window with wider permissions.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def overlay_stored_credentials(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> Settings:
    """Fill credentials the environment did not set from the store; the environment wins.

    "Set by the environment" is pydantic's ``model_fields_set`` of each nested model, so a
    value from ``MLC_AMAZON__REFRESH_TOKEN`` (or ``.env``) is never replaced. A store that
    exists but has no key is skipped with a warning (the sandbox still works); a wrong key
    is an error, because silently running without the operator's credentials is worse.
    """
    path = credentials_path(settings.data_home)
    if not path.exists():
        return settings
    try:
        keys = resolve_keys(environ)
    except CredentialsKeyError as exc:
        log.warning("credentials store %s not loaded: %s", path, exc)
        return settings
    stored = CredentialsStore(path, keys).read()
    updates: dict[str, BaseModel] = {}
    for system, model in SYSTEM_MODELS.items():
        current: BaseModel = getattr(settings, system)
        fill = {
            field: value
            for field, value in stored.get(system, {}).items()
            if field in SYSTEM_FIELDS[system] and field not in current.model_fields_set
        }
        if fill:
            explicit = {field: getattr(current, field) for field in current.model_fields_set}
            updates[system] = model.model_validate({**explicit, **fill})
    return settings.model_copy(update=updates) if updates else settings
