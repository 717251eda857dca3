"""Key sources (env, OS keyring) and rotation: readable with the new key, not the old alone."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from pydantic import SecretStr

from mlc_assets.secrets.keys import (
    KEY_ENV,
    KEYRING_KEY_NAME,
    KEYRING_PENDING_NAME,
    KEYRING_SERVICE,
    OLD_KEYS_ENV,
    CredentialsKeyError,
    EnvKeySource,
    KeyringKeySource,
    KeySet,
    generate_key,
    key_source,
    resolve_keys,
    usable_keyring,
)
from mlc_assets.secrets.store import (
    CredentialsDecryptError,
    CredentialsStore,
    credentials_path,
)

from .conftest import MemoryKeyring

VALUES = {"database": "ACME", "username": "api", "password": "p4ss-word-77"}


def only(key: str) -> KeySet:
    return KeySet(SecretStr(key), (), "test")


def test_env_key_is_used() -> None:
    key = generate_key()
    keys = resolve_keys({KEY_ENV: key})
    assert keys.primary.get_secret_value() == key
    assert keys.previous == ()
    assert keys.source == f"environment variable {KEY_ENV}"


def test_malformed_env_key_is_named_not_echoed() -> None:
    bad = "not-a-key-but-maybe-a-password"
    with pytest.raises(CredentialsKeyError, match=f"{KEY_ENV} is not a valid credentials key") as e:
        resolve_keys({KEY_ENV: bad})
    assert bad not in str(e.value)
    assert e.value.__cause__ is None


def test_headless_keyring_is_detected_with_clear_advice() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # what keyring picks on a headless Linux box
    try:
        backend, reason = usable_keyring()
        assert backend is None
        assert "no keyring backend" in reason
        with pytest.raises(CredentialsKeyError, match=f"set {KEY_ENV}") as e:
            resolve_keys({})
        assert "mlc credentials init-key" in str(e.value)
    finally:
        keyring.set_keyring(previous)


def test_old_keys_without_current_key_is_refused() -> None:
    with pytest.raises(CredentialsKeyError, match=f"{OLD_KEYS_ENV} is set but {KEY_ENV} is not"):
        key_source({OLD_KEYS_ENV: generate_key()})


def test_keyring_creates_and_reuses_a_key(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(CredentialsKeyError, match="no credentials key in the OS keyring"):
        resolve_keys({})
    created = resolve_keys({}, create=True)
    assert memory_keyring.entries[(KEYRING_SERVICE, KEYRING_KEY_NAME)] == (
        created.primary.get_secret_value()
    )
    assert resolve_keys({}).primary == created.primary
    # The environment variable takes precedence over the keyring.
    env_key = generate_key()
    assert resolve_keys({KEY_ENV: env_key}).primary.get_secret_value() == env_key


def test_env_rotation_generating_a_new_key(tmp_path: Path) -> None:
    old = generate_key()
    store = CredentialsStore(credentials_path(tmp_path), only(old))
    store.set_fields("deltek", VALUES)

    outcome = store.rotate(EnvKeySource({KEY_ENV: old}))

    assert outcome.new_key is not None
    new = outcome.new_key.get_secret_value()
    assert new != old
    assert CredentialsStore(store.path, only(new)).read()["deltek"] == VALUES
    with pytest.raises(CredentialsDecryptError):
        CredentialsStore(store.path, only(old)).read()


def test_env_rotation_with_old_keys_accepted_meanwhile(tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    store = CredentialsStore(credentials_path(tmp_path), only(old))
    store.set_fields("deltek", VALUES)
    during = {KEY_ENV: new, OLD_KEYS_ENV: f"{generate_key()}, {old}"}

    # While rotating, the old key still opens the file through the key set.
    assert CredentialsStore(store.path, resolve_keys(during)).read()["deltek"] == VALUES

    outcome = CredentialsStore(store.path, resolve_keys(during)).rotate(EnvKeySource(during))

    assert outcome.new_key is None
    assert OLD_KEYS_ENV in outcome.note
    assert CredentialsStore(store.path, only(new)).read()["deltek"] == VALUES
    with pytest.raises(CredentialsDecryptError):
        CredentialsStore(store.path, only(old)).read()


def test_keyring_rotation(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    keys = resolve_keys({}, create=True)
    old = keys.primary.get_secret_value()
    store = CredentialsStore(credentials_path(tmp_path), keys)
    store.set_fields("deltek", VALUES)

    outcome = store.rotate(KeyringKeySource(keyring.get_keyring()))

    assert outcome.new_key is None  # kept in the keyring, never printed
    new = memory_keyring.entries[(KEYRING_SERVICE, KEYRING_KEY_NAME)]
    assert new != old
    assert (KEYRING_SERVICE, KEYRING_PENDING_NAME) not in memory_keyring.entries
    assert CredentialsStore(store.path, resolve_keys({})).read()["deltek"] == VALUES
    with pytest.raises(CredentialsDecryptError):
        CredentialsStore(store.path, only(old)).read()


class CrashAfterWrite(MemoryKeyring):
    """Simulates a crash between re-encrypting the file and promoting the new key."""

    crash = True

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.crash and username == KEYRING_KEY_NAME and (service, username) in self.entries:
            raise RuntimeError("power cut")
        super().set_password(service, username, password)


def test_interrupted_keyring_rotation_loses_nothing(tmp_path: Path) -> None:
    backend = CrashAfterWrite()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        store = CredentialsStore(credentials_path(tmp_path), resolve_keys({}, create=True))
        store.set_fields("deltek", VALUES)
        with pytest.raises(CredentialsKeyError, match="cannot write the OS keyring"):
            store.rotate(KeyringKeySource(backend))
        # File already under the pending key: the keyring's key set still opens it.
        assert CredentialsStore(store.path, resolve_keys({})).read()["deltek"] == VALUES
        pending = backend.entries[(KEYRING_SERVICE, KEYRING_PENDING_NAME)]

        backend.crash = False
        store = CredentialsStore(store.path, resolve_keys({}))
        store.rotate(KeyringKeySource(backend))  # finishes with the pending key

        assert backend.entries[(KEYRING_SERVICE, KEYRING_KEY_NAME)] == pending
        assert (KEYRING_SERVICE, KEYRING_PENDING_NAME) not in backend.entries
        assert CredentialsStore(store.path, only(pending)).read()["deltek"] == VALUES
    finally:
        keyring.set_keyring(previous)
