"""A fault spec naming a fault no sandbox injects is refused, naming it (a typo must not run a
"chaos" test that injects nothing)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mlc_assets.cli.main import app
from mlc_assets.sandbox.faults import FaultPlan, check_fault_names
from mlc_assets.sandbox.stack import SandboxStack


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("commit_drop:1", "the spapi sandbox injects"),  # an ERP fault without its prefix
        ("deltek.503:1", "deltek.html502"),  # Deltek has no 503; its gateway page is html502
        ("workday.html502:1", "workday.commit_drop"),
        ("sap.reset:1", "unknown sandbox 'sap'"),
        ("429:0.1,workday.comit_drop:2", "'workday.comit_drop'"),
    ],
)
def test_unknown_fault_is_refused_with_what_exists(spec: str, says: str) -> None:
    with pytest.raises(ValueError, match="unknown") as info:
        check_fault_names(FaultPlan.parse(spec))
    assert says in str(info.value)
    with pytest.raises(ValueError, match="unknown"):
        SandboxStack(seed=1, settlements=1, faults=spec)


def test_every_documented_fault_is_accepted() -> None:
    spec = (
        "429:0.1,500:1,503:1,reset:2,slow:1,expire_token:1,dup_listing:1,expire_url:1,"
        "truncate_gzip:1,v0_gone:1,workday.429:1,workday.500:1,workday.503:1,workday.reset:1,"
        "workday.slow:1,workday.commit_drop:2,deltek.429:1,deltek.500:1,deltek.html502:1,"
        "deltek.reset:1,deltek.slow:1,deltek.commit_drop:2,deltek.expire_token:1"
    )
    check_fault_names(FaultPlan.parse(spec))


def test_demo_refuses_an_unknown_chaos_fault_before_starting() -> None:
    result = CliRunner().invoke(app, ["demo", "--chaos", "commit_drop:1"])
    assert result.exit_code == 2
    assert "unknown fault 'commit_drop'" in result.output
