"""Read a settlement report's ID without parsing the whole file.

The sensor must key a downloaded report by its settlement ID (Amazon's report listing does not
carry it), and a large report should not be parsed twice just to learn its name.
"""

from __future__ import annotations

from mlc_assets.domain.errors import SettlementFileError

_PEEK_BYTES = 64 * 1024


def peek_settlement_id(data: bytes, *, file_name: str) -> str:
    head = data[:_PEEK_BYTES].decode("latin-1")  # the ID and header names are ASCII
    lines = head.replace("\r\n", "\n").split("\n")
    if len(lines) < 2:
        raise SettlementFileError("no data rows", file=file_name, line=1)
    names = [c.strip().lower() for c in lines[0].split("\t")]
    if "settlement-id" not in names:
        raise SettlementFileError("no settlement-id column", file=file_name, line=1)
    idx = names.index("settlement-id")
    for no, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) > idx and cells[idx].strip():
            value = cells[idx].strip()
            if not value.isdigit():
                raise SettlementFileError(
                    f"settlement-id {value!r} is not a number",
                    file=file_name,
                    line=no,
                    column="settlement-id",
                )
            return value
    raise SettlementFileError("no row carries a settlement-id", file=file_name, line=2)
