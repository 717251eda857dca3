"""Property tests: any mapping text loads, or fails with MappingError naming file (and line).

Seeds are the shipped default mapping and random YAML; damage is applied to the text (lines
dropped, duplicated, re-indented with tabs, characters inserted) and to the parsed data (values
replaced by other types, unknown keys, bad globs), plus hostile inputs: alias bombs, deep
nesting, non-UTF-8 bytes, empty files, a list instead of a map. Only MappingError may escape.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mlc_assets.domain.mapping import (
    DEFAULT_MAPPING_PATH,
    GlMapping,
    MappingError,
    load_mapping,
    parse_mapping,
)

DEFAULT_TEXT = DEFAULT_MAPPING_PATH.read_text(encoding="utf-8")
DEFAULT_DATA = yaml.safe_load(DEFAULT_TEXT)
SOURCE = "fuzz.yaml"


def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append(f"rules: *a{levels}")
    return "\n".join(lines) + "\n"


HOSTILE = [
    "",
    "   \n",
    "- rules\n- accounts\n",
    "rules: [\n",
    "rules: &x [*x]\n",
    "\t rules: []\n",
    "rules: []\nrules: []\naccounts: {}\n",
    "!!python/object/apply:os.system ['true']\n",
    "rules: 2026-02-30\n",
    "rules: !!binary 'not base64!'\n",
    "---\nrules: []\n---\nrules: []\n",
    "[" * 5000 + "]" * 5000,
    "rules:\n" + "  - " * 2000 + "x\n",
    billion_laughs(),
    "\x00rules: []",
    "rules: []\naccounts: {clearing: {workday: {ledger_account: 1}}}\n",
]

MUTATION_CHARS = "\t\n :-[]{}&*!|>'\"#%@`,?\x00\u00a0ß"


def assert_clean(text: str, source: str = SOURCE) -> None:
    start = time.perf_counter()
    try:
        mapping = parse_mapping(text, source=source)
    except MappingError as exc:
        message = str(exc)
        assert message.startswith(source), message
        for line in message.splitlines():  # every problem names the file
            assert line.startswith(source) or line.startswith(" ") or not line.strip(), line
    else:
        assert isinstance(mapping, GlMapping)
        assert mapping.rules is not None
    assert time.perf_counter() - start < 5, "hostile input must be refused quickly"


@st.composite
def text_damage(draw: st.DrawFn) -> str:
    lines = DEFAULT_TEXT.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["drop", "dup", "tab", "insert", "truncate", "dedent"]))
        if kind == "drop":
            del lines[i]
        elif kind == "dup":
            lines.insert(i, lines[i])
        elif kind == "tab":
            lines[i] = "\t" + lines[i].lstrip(" ")
        elif kind == "dedent":
            lines[i] = lines[i][2:]
        elif kind == "truncate":
            lines = lines[:i]
        else:
            line = lines[i]
            j = draw(st.integers(0, len(line)))
            lines[i] = line[:j] + draw(st.text(alphabet=MUTATION_CHARS, max_size=3)) + line[j:]
        if not lines:
            break
    return "\n".join(lines) + "\n"


junk = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=10)
    | st.sampled_from(["*", "", " ", "?", "[", "**", "x-*"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def data_damage(draw: st.DrawFn) -> str:
    data = copy.deepcopy(DEFAULT_DATA)  # a private copy (sharing kept: dumps with anchors)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(data)))
        if not path:
            data = draw(junk)
            continue
        parent: Any = data
        for part in path[:-1]:
            parent = parent[part]
        kind = draw(st.sampled_from(["replace", "drop", "unknown_key", "glob"]))
        if kind == "replace":
            parent[path[-1]] = draw(junk)
        elif kind == "drop":
            del parent[path[-1]]
        elif kind == "unknown_key" and isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(st.text(min_size=1, max_size=8))] = draw(junk)
        else:
            parent[path[-1]] = draw(st.sampled_from(["*", "", "[", "***", ["*", ""], [], "?*?"]))
        if not isinstance(data, dict | list):
            break
    return yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)


def test_default_mapping_loads() -> None:
    assert load_mapping().rules


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_damage())
def test_damaged_default_text_loads_or_raises_mapping_error(text: str) -> None:
    assert_clean(text)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data_damage())
def test_damaged_default_data_loads_or_raises_mapping_error(text: str) -> None:
    assert_clean(text)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=MUTATION_CHARS + "abcrules0123", max_size=200))
@example("rules: 2026-02-30\n")  # ValueError from PyYAML's timestamp constructor
@example("rules: []\nrules: []\n")  # duplicate key: YAML keeps the last, silently
@example("[" * 5000 + "]" * 5000)  # RecursionError in the composer
@example(billion_laughs())  # alias bomb: pydantic walked 9^10 entries
def test_random_yaml_loads_or_raises_mapping_error(text: str) -> None:
    assert_clean(text)


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_inputs_raise_mapping_error_quickly(text: str) -> None:
    with pytest.raises(MappingError) as info:
        assert_clean(text)
        parse_mapping(text, source=SOURCE)
    assert str(info.value).startswith(SOURCE)


def test_errors_name_the_line() -> None:
    text = DEFAULT_TEXT + "rules: []\n"
    with pytest.raises(
        MappingError, match=rf"{SOURCE}: line \d+: duplicate key 'rules' \(first at line \d+\)"
    ):
        parse_mapping(text, source=SOURCE)
    with pytest.raises(MappingError, match=rf"{SOURCE}: line 2: invalid value"):
        parse_mapping("x: 1\nrules: 2026-02-30\n", source=SOURCE)
    with pytest.raises(MappingError, match=r"alias bomb"):
        parse_mapping(billion_laughs(), source=SOURCE)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=120), st.integers(0, 200))
@example(b"rules: []\n\xff\xfe", 0)  # was UnicodeDecodeError from read_text
def test_files_with_any_bytes_raise_mapping_error_naming_the_file(
    tmp_path: Path, data: bytes, cut: int
) -> None:
    path = tmp_path / "mapping.yaml"
    raw = DEFAULT_TEXT.encode()[: cut * 40] + data
    path.write_bytes(raw)
    try:
        load_mapping(path)
    except MappingError as exc:
        assert str(exc).startswith(str(path)), str(exc)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            line = raw.count(b"\n", 0, bad.start) + 1
            assert f"line {line}:" in str(exc)


def test_unreadable_file_is_a_mapping_error(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="cannot read mapping"):
        load_mapping(tmp_path / "missing.yaml")
    with pytest.raises(MappingError, match="cannot read mapping"):
        load_mapping(tmp_path)  # a directory
