"""``mlc credentials`` end to end through the real typer app, with a temp data home."""

from __future__ import annotations

import os
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from typer.testing import CliRunner

from mlc_assets.cli.main import app
from mlc_assets.secrets.keys import KEY_ENV, KEYRING_KEY_NAME, KEYRING_SERVICE, OLD_KEYS_ENV

LWA_SECRET = "amzn1.oa2-cs.v1.cafebabe-secret"
REFRESH = "Atzr|IwEBIrefresh-token-0042"
ISU_PASSWORD = "Wd!Pass<&>word"
OAUTH_SECRET = "wd-oauth-client-secret-77"
ALL_SECRETS = (LWA_SECRET, REFRESH, ISU_PASSWORD, OAUTH_SECRET)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.upper().startswith("MLC_"):
            monkeypatch.delenv(name)
    data_home = tmp_path / "home"
    monkeypatch.setenv("MLC_DATA_HOME", str(data_home))
    monkeypatch.chdir(tmp_path)  # no stray .env file
    return data_home


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def new_key(runner: CliRunner) -> str:
    result = runner.invoke(app, ["credentials", "init-key"])
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()  # the key alone on stdout, advice on stderr
    assert "keep this key safe" in result.stderr
    return line


@pytest.fixture
def key(home: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> str:
    value = new_key(runner)
    monkeypatch.setenv(KEY_ENV, value)
    return value


def invoke(runner: CliRunner, *args: str, input: str | None = None):
    return runner.invoke(app, ["credentials", *args], input=input)


def assert_no_secret(text: str) -> None:
    for secret in ALL_SECRETS:
        assert secret not in text


def test_set_list_remove_round_trip(
    home: Path, key: str, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Amazon: public fields as options, secrets through the hidden prompt.
    result = invoke(
        runner,
        "set",
        "amazon",
        "--lwa-client-id",
        "amzn1.application-oa2-client.abc",
        "--region",
        "eu",
        "--marketplace-ids",
        "A1PA6795UKMFR9,A1RKKUPIHCS9HS",
        input=f"{LWA_SECRET}\n{REFRESH}\n",
    )
    assert result.exit_code == 0, result.output
    assert "stored amazon: lwa_client_id, region, marketplace_ids, lwa_client_secret (secret)" in (
        result.stdout
    )
    assert_no_secret(result.output)  # hidden input is not echoed

    # Workday from the same environment variables Settings reads.
    monkeypatch.setenv("MLC_WORKDAY__HOST", "https://wd2-impl-services1.workday.com")
    monkeypatch.setenv("MLC_WORKDAY__TENANT", "acme_dpt1")
    monkeypatch.setenv("MLC_WORKDAY__ISU_USERNAME", "ISU_AMZ")
    monkeypatch.setenv("mlc_workday__isu_password", ISU_PASSWORD)  # case-insensitive
    result = invoke(runner, "set", "workday", "--from-env", "--oauth-client-secret", OAUTH_SECRET)
    assert result.exit_code == 0, result.output
    assert "isu_password (secret)" in result.stdout

    result = invoke(runner, "list")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert_no_secret(out)
    assert "key from environment variable MLC_CREDENTIALS_KEY" in out
    assert "lwa_client_id      amzn1.application-oa2-client.abc" in out
    assert "lwa_client_secret  ••••" in out
    assert "refresh_token      ••••" in out
    assert "marketplace_ids    A1PA6795UKMFR9,A1RKKUPIHCS9HS" in out
    assert "isu_password         ••••" in out
    assert "oauth_refresh_token  (not set)" in out
    assert "deltek" not in out

    # On disk: neither values nor field names.
    blob = (home / "credentials.enc").read_bytes()
    for text in (*ALL_SECRETS, "lwa_client_secret", "isu_password", "acme_dpt1", "ISU_AMZ"):
        assert text.encode() not in blob

    result = invoke(runner, "remove", "amazon", "refresh_token")
    assert result.exit_code == 0 and "removed amazon.refresh_token" in result.stdout
    assert "refresh_token      (not set)" in invoke(runner, "list", "amazon").stdout
    result = invoke(runner, "remove", "workday")
    assert result.exit_code == 0, result.output
    out = invoke(runner, "list").stdout
    assert "workday" not in out and "amazon" in out

    result = invoke(runner, "remove", "workday")
    assert result.exit_code == 1
    assert "nothing stored for workday" in result.stderr


def test_prompt_keeps_stored_secret_on_empty_input(key: str, runner: CliRunner) -> None:
    assert invoke(runner, "set", "deltek", "--username", "api", input="pw-1234\n\n").exit_code == 0
    result = invoke(runner, "set", "deltek", "--database", "ACME", input="\n\n")
    assert result.exit_code == 0, result.output
    assert "empty keeps the stored value" in result.output
    out = invoke(runner, "list", "deltek").stdout
    assert "password       ••••" in out
    assert "database       ACME" in out
    assert "pw-1234" not in out


def test_wrong_key_is_a_clean_error(
    key: str, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(runner, "set", "deltek", "--password", "pw-1234", "--no-prompt")
    monkeypatch.setenv(KEY_ENV, new_key(runner))
    for args in (("list",), ("remove", "deltek"), ("set", "deltek", "--database", "X")):
        result = invoke(runner, *args, input="\n\n")
        assert result.exit_code == 1, args
        assert "error: cannot decrypt credentials: wrong key?" in result.stderr
        assert "Traceback" not in result.output
        assert isinstance(result.exception, SystemExit)


def test_bad_value_is_a_clean_error(
    key: str, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A setting with fixed values is a choice on the command line: refused there, listing them.
    result = invoke(runner, "set", "amazon", "--region", "moon", "--no-prompt")
    assert result.exit_code == 2
    assert "'moon' is not one of 'na', 'eu', 'fe'" in result.output
    # The same value from the environment reaches the model's validation, as clean.
    monkeypatch.setenv("MLC_AMAZON__REGION", "moon")
    result = invoke(runner, "set", "amazon", "--from-env", "--no-prompt")
    assert result.exit_code == 1
    assert "error: amazon.region: Input should be 'na', 'eu' or 'fe'" in result.stderr
    monkeypatch.delenv("MLC_AMAZON__REGION")
    result = invoke(runner, "set", "amazon", "--no-prompt")
    assert result.exit_code == 1
    assert "nothing to store for amazon" in result.stderr


def test_no_key_on_headless_machine(home: Path, runner: CliRunner) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        result = invoke(runner, "set", "deltek", "--password", "pw-1234", "--no-prompt")
    finally:
        keyring.set_keyring(previous)
    assert result.exit_code == 1
    assert f"no credentials key: set {KEY_ENV}" in result.stderr
    assert "keyring is not usable here" in result.stderr
    assert not (home / "credentials.enc").exists()


def test_rotate_key_prints_new_key_once(
    key: str, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(runner, "set", "deltek", "--username", "api", "--password", "pw-1234", "--no-prompt")
    result = invoke(runner, "rotate-key")
    assert result.exit_code == 0, result.output
    (rotated,) = result.stdout.splitlines()
    assert rotated != key
    assert "old key no longer opens the file" in result.stderr

    assert invoke(runner, "list").exit_code == 1  # old key alone: refused
    monkeypatch.setenv(KEY_ENV, rotated)
    assert "username       api" in invoke(runner, "list").stdout


def test_rotate_key_with_operator_chosen_key(
    key: str, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke(runner, "set", "deltek", "--username", "api", "--no-prompt")
    chosen = new_key(runner)
    monkeypatch.setenv(KEY_ENV, chosen)
    monkeypatch.setenv(OLD_KEYS_ENV, key)
    assert "username       api" in invoke(runner, "list").stdout  # readable mid-rotation

    result = invoke(runner, "rotate-key")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""  # nothing new to print
    assert f"unset {OLD_KEYS_ENV}" in result.stderr

    monkeypatch.delenv(OLD_KEYS_ENV)
    assert "username       api" in invoke(runner, "list").stdout
    monkeypatch.setenv(KEY_ENV, key)
    assert "wrong key?" in invoke(runner, "list").stderr


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.entries[(service, username)]


def test_keyring_flow(home: Path, runner: CliRunner) -> None:
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        result = invoke(runner, "init-key", "--keyring")
        assert result.exit_code == 0, result.output
        stored = backend.entries[(KEYRING_SERVICE, KEYRING_KEY_NAME)]
        assert stored not in result.output  # the keyring's key is never printed
        assert invoke(runner, "init-key", "--keyring").exit_code == 1  # never overwritten

        invoke(runner, "set", "deltek", "--username", "api", "--no-prompt")
        listed = invoke(runner, "list").stdout
        assert "key from OS keyring (service 'ml-connector')" in listed

        result = invoke(runner, "rotate-key")
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        assert backend.entries[(KEYRING_SERVICE, KEYRING_KEY_NAME)] != stored
        assert "username       api" in invoke(runner, "list").stdout
    finally:
        keyring.set_keyring(previous)
