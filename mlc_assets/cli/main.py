"""The ``mlc`` command. Each sub-command lives in its own module and registers itself."""

from __future__ import annotations

import typer

from mlc_assets.cli import (
    bench_cmd,
    credentials_cmd,
    demo,
    dev_cmd,
    mapping_cmd,
    preview,
    replay_cmd,
    sandbox_cmd,
)

app = typer.Typer(
    name="mlc",
    help="ml-connector: Amazon settlements to Workday and Deltek.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
    # Plain click help: flags without a metavar, real type names, choices listed, no
    # markup, and wrapped (not cut) at any terminal width.
    rich_markup_mode=None,
)

for module in (
    preview,
    sandbox_cmd,
    mapping_cmd,
    demo,
    dev_cmd,
    replay_cmd,
    credentials_cmd,
    bench_cmd,
):
    module.register(app)

if __name__ == "__main__":
    app()
