"""Typed errors of the domain layer (the whole tree: ``mlc_assets/errors.py``).

Bad input must say where it is bad: the file, the line and the field, so that a controller
can open the file and see the problem without a developer.
"""

from __future__ import annotations

from mlc_assets.errors import MlcError

__all__ = ["MlcError", "SettlementFileError", "UnbalancedSettlementError"]


class SettlementFileError(MlcError):
    """A settlement report file that cannot be read as one; names file, line and column."""

    def __init__(
        self, message: str, *, file: str, line: int | None = None, column: str | None = None
    ) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.reason = message
        where = file
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {message}")


class UnbalancedSettlementError(SettlementFileError):
    """Detail lines do not sum to the settlement's total-amount (the deposit)."""
