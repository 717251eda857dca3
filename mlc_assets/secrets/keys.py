"""Where the credentials key comes from, and how it is rotated without ever losing the file.

Two sources, in this order:

1. ``MLC_CREDENTIALS_KEY`` (URL-safe base64 of 32 random bytes, i.e. a Fernet key): works on
   every machine, including headless servers and CI. During a rotation the previous key(s)
   may be given in ``MLC_CREDENTIALS_OLD_KEYS`` (comma separated) and still decrypt.
2. The OS keyring (service ``ml-connector``) when it has a usable backend (macOS Keychain,
   Windows Credential Locker, Secret Service on a desktop Linux). Headless Linux usually has
   none; we detect that and say so instead of failing obscurely inside ``keyring``.

Rotation re-encrypts under a new key; the old key is accepted for reading while it runs
(``MultiFernet``) and no longer opens the file once it has completed. Keyring rotation stages
the new key under a separate entry first, so a crash at any point leaves a key that opens
the file and a re-run finishes the job.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.fernet import Fernet, MultiFernet
from pydantic import SecretStr

from mlc_assets.domain.errors import MlcError

KEY_ENV = "MLC_CREDENTIALS_KEY"
OLD_KEYS_ENV = "MLC_CREDENTIALS_OLD_KEYS"
KEYRING_SERVICE = "ml-connector"
KEYRING_KEY_NAME = "credentials-key"
# A rotation in progress: the file may already be encrypted under this key.
KEYRING_PENDING_NAME = "credentials-key-pending"

_KEY_FORMAT = (
    "expected 32 random bytes in URL-safe base64 (make one with `mlc credentials init-key`)"
)


class CredentialsError(MlcError):
    """Base of the credentials store's errors; messages never contain a secret."""


class CredentialsKeyError(CredentialsError):
    """No usable key: none configured, keyring unusable, or a malformed key."""


def generate_key() -> str:
    """A fresh random key (Fernet: 32 bytes from the OS CSPRNG, URL-safe base64)."""
    return Fernet.generate_key().decode("ascii")


def validate_key(key: str, *, where: str) -> SecretStr:
    """Check the key's shape early, so a typo says so instead of 'wrong key'."""
    try:
        Fernet(key.strip().encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError):
        # ``from None``: the cause's message could echo the key.
        raise CredentialsKeyError(
            f"{where} is not a valid credentials key: {_KEY_FORMAT}"
        ) from None
    return SecretStr(key.strip())


@dataclass(frozen=True)
class KeySet:
    """The key that encrypts, plus older keys still accepted for decryption."""

    primary: SecretStr
    previous: tuple[SecretStr, ...] = ()
    source: str = ""

    def fernet(self) -> MultiFernet:
        """Encrypts with ``primary``; decrypts with any key of the set."""
        keys = (self.primary, *self.previous)
        return MultiFernet([Fernet(k.get_secret_value().encode("ascii")) for k in keys])

    def encrypting_only(self) -> KeySet:
        """The same primary without the old keys: what the file must open with afterwards."""
        return KeySet(self.primary, (), self.source)


@dataclass(frozen=True)
class RotationOutcome:
    """What the operator must know after a rotation."""

    # A key generated here that exists nowhere else: print it once, to stdout.
    new_key: SecretStr | None
    note: str


Reencrypt = Callable[[KeySet], None]
"""Rewrites the store: decrypt with any key of the set, encrypt with its primary."""


class KeySource(Protocol):
    description: str

    def load(self) -> KeySet | None: ...

    def create(self) -> KeySet: ...

    def rotate(self, reencrypt: Reencrypt) -> RotationOutcome: ...


class EnvKeySource:
    """``MLC_CREDENTIALS_KEY`` (+ ``MLC_CREDENTIALS_OLD_KEYS`` while rotating)."""

    description = f"environment variable {KEY_ENV}"

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def load(self) -> KeySet | None:
        raw = self._environ.get(KEY_ENV, "").strip()
        if not raw:
            return None
        primary = validate_key(raw, where=KEY_ENV)
        previous = tuple(
            validate_key(part, where=f"{OLD_KEYS_ENV} (entry {i})")
            for i, part in enumerate(self._environ.get(OLD_KEYS_ENV, "").split(","), start=1)
            if part.strip()
        )
        return KeySet(primary, previous, self.description)

    def create(self) -> KeySet:
        raise CredentialsKeyError(no_key_message("environment variable is empty"))

    def rotate(self, reencrypt: Reencrypt) -> RotationOutcome:
        current = self.load()
        if current is None:
            raise CredentialsKeyError(no_key_message(f"{KEY_ENV} is empty"))
        if current.previous:
            # The operator already put the new key in MLC_CREDENTIALS_KEY.
            reencrypt(current)
            return RotationOutcome(
                None,
                f"credentials re-encrypted under {KEY_ENV}; "
                f"you can now unset {OLD_KEYS_ENV} (the old keys no longer open the file)",
            )
        new_key = SecretStr(generate_key())
        reencrypt(KeySet(new_key, (current.primary,), self.description))
        return RotationOutcome(
            new_key,
            f"credentials re-encrypted under a new key (printed on stdout): set {KEY_ENV} "
            "to it now; the old key no longer opens the file",
        )


class KeyringKeySource:
    """The OS keyring, through the ``keyring`` package's backend object."""

    description = f"OS keyring (service '{KEYRING_SERVICE}')"

    def __init__(self, backend: Any) -> None:
        self._backend = backend

    def _get(self, name: str) -> str | None:
        try:
            return self._backend.get_password(KEYRING_SERVICE, name)
        except Exception as exc:  # keyring backends raise many kinds (D-Bus, locked, ...)
            raise CredentialsKeyError(_keyring_failure("read", exc)) from None

    def _set(self, name: str, value: str) -> None:
        try:
            self._backend.set_password(KEYRING_SERVICE, name, value)
        except Exception as exc:
            raise CredentialsKeyError(_keyring_failure("write", exc)) from None

    def _delete(self, name: str) -> None:
        try:
            self._backend.delete_password(KEYRING_SERVICE, name)
        except Exception as exc:
            raise CredentialsKeyError(_keyring_failure("delete from", exc)) from None

    def load(self) -> KeySet | None:
        primary = self._get(KEYRING_KEY_NAME)
        pending = self._get(KEYRING_PENDING_NAME)
        if primary is None and pending is None:
            return None
        where = f"the {self.description} entry"
        keys = [validate_key(k, where=where) for k in (primary, pending) if k is not None]
        return KeySet(keys[0], tuple(keys[1:]), self.description)

    def create(self) -> KeySet:
        key = generate_key()
        self._set(KEYRING_KEY_NAME, key)
        return KeySet(SecretStr(key), (), self.description)

    def rotate(self, reencrypt: Reencrypt) -> RotationOutcome:
        current = self._get(KEYRING_KEY_NAME)
        if current is None:
            raise CredentialsKeyError(f"no credentials key in the {self.description}")
        pending = self._get(KEYRING_PENDING_NAME)
        if pending is None:  # else: finish the interrupted rotation with its key
            pending = generate_key()
            self._set(KEYRING_PENDING_NAME, pending)
        new = validate_key(pending, where=f"the {self.description} pending entry")
        reencrypt(KeySet(new, (validate_key(current, where=self.description),), self.description))
        self._set(KEYRING_KEY_NAME, new.get_secret_value())
        self._delete(KEYRING_PENDING_NAME)
        return RotationOutcome(
            None, f"credentials re-encrypted; new key kept in the {self.description}"
        )


def _keyring_failure(action: str, exc: Exception) -> str:
    return (
        f"cannot {action} the OS keyring ({type(exc).__name__}); "
        f"set {KEY_ENV} instead (make a key with `mlc credentials init-key`)"
    )


def no_key_message(reason: str) -> str:
    return (
        f"no credentials key: set {KEY_ENV} to a key made with `mlc credentials init-key` "
        f"(e.g. `export {KEY_ENV}=$(mlc credentials init-key)`) and keep it somewhere safe; "
        f"the OS keyring is not usable here: {reason}"
    )


def usable_keyring() -> tuple[Any | None, str]:
    """The keyring backend if it can hold secrets here, else ``None`` and why not.

    On headless Linux ``keyring`` falls back to its ``fail`` backend, which only raises on
    use; detecting it up front lets us point at ``MLC_CREDENTIALS_KEY`` instead.
    """
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None, "the 'keyring' package is not installed"
    try:
        backend = keyring.get_keyring()
    except Exception as exc:
        return None, f"keyring failed to load a backend ({type(exc).__name__})"
    if isinstance(backend, fail.Keyring):
        return None, "no keyring backend is available (typical of a headless Linux machine)"
    name = type(backend).__module__
    if name.startswith("keyring.backends.null") or getattr(backend, "priority", 1) < 0:
        return None, f"the keyring backend {name} stores nothing"
    chained = getattr(backend, "backends", None)
    if chained is not None and not chained:
        return None, "no keyring backend is available (typical of a headless Linux machine)"
    return backend, ""


def key_source(environ: Mapping[str, str] | None = None) -> KeySource:
    """``MLC_CREDENTIALS_KEY`` when set, else the OS keyring when usable, else a clear error."""
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV, "").strip():
        return EnvKeySource(env)
    if env.get(OLD_KEYS_ENV, "").strip():
        raise CredentialsKeyError(
            f"{OLD_KEYS_ENV} is set but {KEY_ENV} is not: during a rotation set {KEY_ENV} "
            "to the new key and keep the old one(s) in " + OLD_KEYS_ENV
        )
    backend, reason = usable_keyring()
    if backend is None:
        raise CredentialsKeyError(no_key_message(reason))
    return KeyringKeySource(backend)


def resolve_keys(environ: Mapping[str, str] | None = None, *, create: bool = False) -> KeySet:
    """The keys to open the store with; ``create`` makes a first key in the keyring."""
    source = key_source(environ)
    keys = source.load()
    if keys is not None:
        return keys
    if create:
        return source.create()
    raise CredentialsKeyError(
        f"no credentials key in the {source.description}; set {KEY_ENV} "
        "(make one with `mlc credentials init-key`)"
    )
