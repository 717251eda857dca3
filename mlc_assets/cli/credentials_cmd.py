"""``mlc credentials``: keep Amazon, Workday and Deltek credentials in the encrypted store.

Secrets are prompted with hidden input (or read from the ``MLC_<SYSTEM>__<FIELD>``
environment variables with ``--from-env``) rather than typed on the command line, where
they would land in shell history and ``ps``. Nothing here ever prints a stored secret; the
only key ever printed is a freshly generated one, once, on stdout.
"""

from __future__ import annotations

import enum
import inspect
import os
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from mlc_assets.config import Settings
from mlc_assets.secrets.keys import (
    KEY_ENV,
    KEYRING_KEY_NAME,
    KEYRING_SERVICE,
    CredentialsError,
    KeyringKeySource,
    generate_key,
    key_source,
    resolve_keys,
    usable_keyring,
)
from mlc_assets.secrets.store import (
    SYSTEM_FIELDS,
    SYSTEM_MODELS,
    CredentialsStore,
    credentials_path,
    is_secret_field,
)

MASK = "••••"

credentials_app = typer.Typer(
    name="credentials",
    help=(
        "Encrypted credentials store (<data home>/credentials.enc). Key: "
        f"{KEY_ENV} or the OS keyring. Environment variables override stored values."
    ),
    no_args_is_help=True,
)
set_app = typer.Typer(
    help="Store credentials for one system; secrets not given are prompted (hidden).",
    no_args_is_help=True,
)
credentials_app.add_typer(set_app, name="set")


@contextmanager
def _cli_errors() -> Iterator[None]:
    """A store problem is the operator's to fix: one clear line, no stack trace."""
    try:
        yield
    except CredentialsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except ValidationError as exc:  # a setting in the environment (or .env) is invalid
        for err in exc.errors():
            where = ".".join(str(part) for part in err["loc"])
            typer.echo(f"error: {where}: {err['msg']} (from the environment)", err=True)
        raise typer.Exit(1) from None


def _store_path() -> Path:
    with _cli_errors():
        return credentials_path(Settings().data_home)


def _env_values(system: str) -> dict[str, str]:
    """``MLC_AMAZON__REFRESH_TOKEN`` etc., the names ``Settings`` reads (case-insensitive)."""
    by_upper = {name.upper(): value for name, value in os.environ.items()}
    found = {}
    for field in SYSTEM_FIELDS[system]:
        value = by_upper.get(f"MLC_{system}__{field}".upper())
        if value:
            found[field] = value
    return found


def _set(system: str, given: dict[str, Any], *, from_env: bool, prompt: bool) -> None:
    path = _store_path()
    with _cli_errors():
        # Open (and decrypt) first: a missing or wrong key must fail before any typing.
        store = CredentialsStore(path, resolve_keys(create=not path.exists()))
        current = store.read().get(system, {})
        values = {field: value for field, value in given.items() if value is not None}
        if from_env:
            for field, value in _env_values(system).items():
                values.setdefault(field, value)
        elif prompt:
            for field in SYSTEM_FIELDS[system]:
                if field in values or not is_secret_field(system, field):
                    continue
                hint = "empty keeps the stored value" if field in current else "empty skips"
                entered = typer.prompt(
                    f"{system} {field} (hidden; {hint})",
                    default="",
                    hide_input=True,
                    show_default=False,
                )
                if entered:
                    values[field] = entered
        if not values:
            typer.echo(f"error: nothing to store for {system}", err=True)
            raise typer.Exit(1)
        store.set_fields(system, values)
    names = ", ".join(f + (" (secret)" if is_secret_field(system, f) else "") for f in values)
    typer.echo(f"stored {system}: {names}")


def _choices(system: str, field: str) -> list[str]:
    """The values a setting allows (a ``Literal`` in its model), listed in the help."""
    annotation = SYSTEM_MODELS[system].model_fields[field].annotation
    for arg in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(arg) is typing.Literal:
            return [str(v) for v in typing.get_args(arg)]
    return []


def _make_set_command(system: str) -> Any:
    """One ``set <system>`` command whose options are exactly that system's fields."""

    def command(**kwargs: Any) -> None:
        kwargs = {k: v.value if isinstance(v, enum.Enum) else v for k, v in kwargs.items()}
        from_env = kwargs.pop("from_env")
        prompt = kwargs.pop("prompt")
        _set(system, kwargs, from_env=from_env, prompt=prompt)

    params = []
    for field in SYSTEM_FIELDS[system]:
        secret = is_secret_field(system, field)
        help_text = (
            "SECRET: prefer the hidden prompt or --from-env (command lines end up in history)"
            if secret
            else "comma-separated list"
            if field == "marketplace_ids"
            else ""
        )
        choices = _choices(system, field)
        option = typer.Option(f"--{field.replace('_', '-')}", help=help_text, show_default=False)
        # A setting with fixed values takes them as a choice (the help lists them).
        kind: Any = enum.Enum(field, {c: c for c in choices}) if choices else str
        params.append(
            inspect.Parameter(
                field,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[kind | None, option],
            )
        )
    params.append(
        inspect.Parameter(
            "from_env",
            inspect.Parameter.KEYWORD_ONLY,
            default=False,
            annotation=Annotated[
                bool,
                typer.Option(
                    "--from-env",
                    help=f"read fields from MLC_{system.upper()}__<FIELD> environment variables",
                ),
            ],
        )
    )
    params.append(
        inspect.Parameter(
            "prompt",
            inspect.Parameter.KEYWORD_ONLY,
            default=True,
            annotation=Annotated[
                bool, typer.Option("--prompt/--no-prompt", help="prompt for missing secrets")
            ],
        )
    )
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__doc__ = f"Store {system} credentials: {', '.join(SYSTEM_FIELDS[system])}."
    command.__name__ = f"set_{system}"
    return command


for _system in SYSTEM_FIELDS:
    set_app.command(_system)(_make_set_command(_system))


@credentials_app.command("list")
def list_cmd(
    system: Annotated[str | None, typer.Argument(help="only this system")] = None,
) -> None:
    """Show stored systems and fields; secret values are shown as ••••, never in clear."""
    path = _store_path()
    with _cli_errors():
        if system is not None and system not in SYSTEM_FIELDS:
            typer.echo(
                f"error: unknown system '{system}'; known: {', '.join(SYSTEM_FIELDS)}", err=True
            )
            raise typer.Exit(2)
        if not path.exists():
            typer.echo(f"no credentials stored ({path})")
            return
        keys = resolve_keys()
        stored = CredentialsStore(path, keys).read()
    typer.echo(f"credentials in {path} (key from {keys.source})")
    for name in [system] if system else list(SYSTEM_FIELDS):
        fields = stored.get(name, {})
        if not fields and system is None:
            continue
        typer.echo(name)
        width = max(len(f) for f in SYSTEM_FIELDS[name])
        for field in SYSTEM_FIELDS[name]:
            if field not in fields:
                shown = "(not set)"
            elif is_secret_field(name, field):
                shown = MASK
            elif isinstance(fields[field], list):
                shown = ",".join(fields[field])
            else:
                shown = str(fields[field])
            typer.echo(f"  {field:<{width}}  {shown}")
    if not any(stored.values()):
        typer.echo("(empty)")


@credentials_app.command("remove")
def remove_cmd(
    system: Annotated[str, typer.Argument(help="amazon, workday or deltek")],
    field: Annotated[
        str | None, typer.Argument(help="one field; omit to remove the system")
    ] = None,
) -> None:
    """Forget one field, or everything stored for a system."""
    path = _store_path()
    with _cli_errors():
        if not path.exists():
            typer.echo(f"error: no credentials stored ({path})", err=True)
            raise typer.Exit(1)
        removed = CredentialsStore(path, resolve_keys()).remove(system, field)
    what = f"{system}.{field}" if field else system
    if not removed:
        typer.echo(f"error: nothing stored for {what}", err=True)
        raise typer.Exit(1)
    typer.echo(f"removed {what}")


@credentials_app.command("rotate-key")
def rotate_key_cmd() -> None:
    """Re-encrypt the store under a new key; afterwards the old key no longer opens it.

    With MLC_CREDENTIALS_KEY: either first set MLC_CREDENTIALS_OLD_KEYS=<old key> and
    MLC_CREDENTIALS_KEY=<new key> (from init-key), or let this command generate the new key
    and print it once on stdout. With the OS keyring the new key is kept there.
    """
    path = _store_path()
    with _cli_errors():
        source = key_source()
        keys = source.load()
        if keys is None:
            keys = resolve_keys()  # raises the "no key" explanation
        outcome = CredentialsStore(path, keys).rotate(source)
    if outcome.new_key is not None:
        typer.echo(outcome.new_key.get_secret_value())
    typer.echo(outcome.note, err=True)


@credentials_app.command("init-key")
def init_key_cmd(
    keyring: Annotated[
        bool,
        typer.Option("--keyring", help="store the new key in the OS keyring instead of printing"),
    ] = False,
) -> None:
    """Make a new credentials key and print it once, on stdout only.

    Use it as ``export MLC_CREDENTIALS_KEY=$(mlc credentials init-key)`` and keep a copy in
    a password manager: without the key the stored credentials cannot be recovered.
    """
    path = _store_path()
    if path.exists():
        typer.echo(
            f"note: {path} exists and is encrypted under its current key; a new key will not "
            "open it (use `mlc credentials rotate-key` to change the key of that file)",
            err=True,
        )
    if not keyring:
        typer.echo(generate_key())
        typer.echo("keep this key safe: without it the stored credentials are lost", err=True)
        return
    backend, reason = usable_keyring()
    if backend is None:
        typer.echo(f"error: the OS keyring is not usable here: {reason}; set {KEY_ENV}", err=True)
        raise typer.Exit(1)
    source = KeyringKeySource(backend)
    with _cli_errors():
        if source.load() is not None:
            typer.echo(
                f"error: the keyring already holds a key ({KEYRING_SERVICE}/{KEYRING_KEY_NAME}); "
                "use `mlc credentials rotate-key` to replace it",
                err=True,
            )
            raise typer.Exit(1)
        source.create()
    typer.echo(f"stored a new credentials key in the {source.description}")


def register(app: typer.Typer) -> None:
    """Add ``mlc credentials`` to the ``mlc`` app."""
    app.add_typer(credentials_app, name="credentials")
