"""Immutable, content-addressed storage of every raw payload the connector sees.

Report files, API pages and ERP requests/responses are kept byte for byte under
``<data home>/raw/<kind>/<aa>/<sha256>`` so any stage can be replayed without calling Amazon
again, and an auditor can trace a journal line back to the bytes it came from. Writing the
same bytes twice is a no-op; existing files are never rewritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

# The kinds of payload kept (a folder each under raw/); ERP exchanges are "<target>-exchange".
SETTLEMENT_REPORT_KIND = "settlement-report"
FINANCES_PAGE_KIND = "finances-page"

_KIND = re.compile(r"^[a-z0-9_\-]+$")
_NAME = re.compile(r"^[0-9A-Za-z_.\-]+$")
_SHA = re.compile(r"^[0-9a-f]{64}$")


class RawRef(BaseModel):
    """Where a payload lives; stored beside every record derived from it."""

    kind: str
    sha256: str
    size: int
    path: str


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o444)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class RawArchive:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, kind: str, sha: str) -> Path:
        if not _KIND.match(kind) or not _SHA.match(sha):
            raise ValueError(f"bad archive key {kind}/{sha}")
        return self.root / kind / sha[:2] / sha

    def put(self, kind: str, data: bytes, *, meta: dict[str, object] | None = None) -> RawRef:
        sha = hashlib.sha256(data).hexdigest()
        path = self._path(kind, sha)
        if not path.exists():
            atomic_write(path, data)
        if meta is not None:
            meta_path = path.with_name(sha + ".meta.json")
            if not meta_path.exists():
                body = {"stored_at": datetime.now(UTC).isoformat(), **meta}
                atomic_write(meta_path, json.dumps(body, default=str, indent=1).encode())
        return RawRef(kind=kind, sha256=sha, size=len(data), path=str(path))

    def get(self, kind: str, sha: str) -> bytes:
        data = self._path(kind, sha).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha:
            raise ValueError(f"archived {kind}/{sha} is corrupt: content hash differs")
        return data

    def exists(self, kind: str, sha: str) -> bool:
        return self._path(kind, sha).exists()

    def name_for_settlement(self, ref: RawRef, settlement_id: str, name: str) -> Path:
        """A readable name for an archived file: ``by-settlement/<settlement>/<name>``, a hard
        link to the content-addressed bytes (no copy), so a person finds a settlement's raw
        report by its ID. The content file stays the one an audit checks against its hash."""
        if not re.match(r"^[0-9A-Za-z_\-]+$", settlement_id) or not _NAME.match(name):
            raise ValueError(f"bad archive name {settlement_id}/{name}")
        target = self.root / "by-settlement" / settlement_id / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".tmp-{name}")
            tmp.unlink(missing_ok=True)
            os.link(self._path(ref.kind, ref.sha256), tmp)
            os.replace(tmp, target)
        return target
