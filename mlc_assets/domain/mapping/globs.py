"""Glob patterns of mapping rules: no catastrophic backtracking, ranked by specificity."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# --------------------------------------------------------------------------------------
# Glob patterns


Pattern = str | list[str]


class _Glob:
    """A compiled any-of glob with its specificity measures."""

    def __init__(self, raw: Pattern) -> None:
        alts = [raw] if isinstance(raw, str) else list(raw)
        self.alternatives = tuple(a.strip() for a in alts)
        self.literal = all("*" not in a and "?" not in a for a in self.alternatives)
        self.literal_len = min(len(a.replace("*", "").replace("?", "")) for a in self.alternatives)
        self.is_star = all(set(a) <= {"*"} for a in self.alternatives)
        self._re = re.compile(
            "|".join(f"(?:{_glob_to_regex(a)})" for a in self.alternatives), re.IGNORECASE
        )

    def matches(self, value: str | None) -> bool:
        return self._re.fullmatch((value or "").strip()) is not None


def _glob_to_regex(glob: str) -> str:
    """Regex for a glob that cannot backtrack catastrophically.

    ``.*`` per star makes ``*a*a*a*b`` exponential on a long run of ``a``. Instead every
    segment between two stars is matched atomically at its leftmost place (``(?>.*?seg)``):
    for a glob, if any placement of the segments matches, the leftmost one does too, since
    an earlier segment placed further left only leaves more room for the later ones."""

    def segment(text: str) -> str:
        return "".join("." if ch == "?" else re.escape(ch) for ch in text)

    head, *rest = glob.split("*")
    if not rest:
        return segment(head)
    *middle, tail = rest
    inner = "".join(f"(?>.*?{segment(m)})" for m in middle if m)
    return f"{segment(head)}{inner}.*{segment(tail)}"


def _check_pattern(value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("must not be empty (use '*' for any)")
    elif isinstance(value, list):
        if not value:
            raise ValueError("an empty list matches nothing")
        for v in value:
            if not isinstance(v, str) or not v.strip():
                raise ValueError("every alternative must be a non-empty string")
    return value


def _specificity(globs: Iterable[_Glob]) -> tuple[int, int]:
    gs = list(globs)
    return (sum(g.literal for g in gs), sum(g.literal_len for g in gs))
