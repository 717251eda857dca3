"""Fixtures for the credentials store: a temp data home, a fresh key, a clean environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from mlc_assets.secrets.keys import KEY_ENV, OLD_KEYS_ENV, generate_key


class MemoryKeyring(KeyringBackend):
    """A keyring backend living in memory: the test stand-in for macOS Keychain & co.

    Uses the ``keyring`` package's documented backend interface, so the connector's code
    talks to it exactly as it would to a real OS keyring.
    """

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise PasswordDeleteError(username)
        del self.entries[(service, username)]


def clean_credentials_env(monkeypatch: pytest.MonkeyPatch, data_home: Path) -> None:
    """No MLC_* leftovers from the developer's shell; the data home under tmp."""
    for name in list(os.environ):
        if name.upper().startswith("MLC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MLC_DATA_HOME", str(data_home))
    monkeypatch.chdir(data_home.parent)  # no stray .env file is read


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "mlc-home"
    clean_credentials_env(monkeypatch, home)
    return home


@pytest.fixture
def key(data_home: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh key in MLC_CREDENTIALS_KEY."""
    value = generate_key()
    monkeypatch.setenv(KEY_ENV, value)
    monkeypatch.delenv(OLD_KEYS_ENV, raising=False)
    return value


@pytest.fixture
def memory_keyring(data_home: Path) -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
