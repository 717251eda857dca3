"""Where the official API models and schemas the contract tests read live: in the repository.

They are vendored under ``docs/reference/`` with their licence and provenance
(``docs/reference/PROVENANCE.md``), so a clone runs every contract test and none can skip.
"""

from __future__ import annotations

from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "reference"
AMAZON = REFERENCE / "amazon"
WORKDAY = REFERENCE / "workday"
DELTEK = REFERENCE / "deltek"
