"""Reading a mapping file: unsafe YAML refused, every error named by file, line and key."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml
from pydantic import (
    ValidationError,
)

from mlc_assets.domain.mapping.keys import DEFAULT_MAPPING_PATH, MappingError
from mlc_assets.domain.mapping.model import GlMapping

# --------------------------------------------------------------------------------------
# Loading


# An alias bomb ("billion laughs") composes to a few nodes but expands to billions; pydantic
# would walk every one. No real mapping comes near this many nodes once aliases are expanded.
_MAX_EXPANDED_NODES = 200_000


_MAX_NESTING = 64


class _Loader(yaml.SafeLoader):
    """Safe loader that refuses absurd nesting before Python's recursion limit does (the
    composer recurses per level; a RecursionError is slow and says nothing about where)."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > _MAX_NESTING:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"nested deeper than {_MAX_NESTING} levels",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1


def _walk(root: yaml.Node) -> Iterable[yaml.Node]:
    """Every distinct node once (aliases share node objects), without recursion."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.extend((k, v))


def _expanded_size(root: yaml.Node) -> int:
    """Node count with aliases expanded, memoised per node so the count itself stays cheap."""
    size: dict[int, int] = {}
    order = list(_walk(root))
    for node in reversed(order):  # children are walked after parents: sum them first
        if isinstance(node, yaml.SequenceNode):
            children: list[yaml.Node] = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = []
        size[id(node)] = 1 + sum(size.get(id(c), 1) for c in children)
    return size[id(root)]


def _check_structure(root: yaml.Node, source: str) -> None:
    """Refuse what YAML accepts but a mapping must not: duplicate keys (YAML silently keeps
    the last one, so an entry would vanish) and alias bombs."""
    for node in _walk(root):
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, _ in node.value:
                if not isinstance(k, yaml.ScalarNode) or k.value == "<<":
                    continue
                line = k.start_mark.line + 1
                if k.value in seen:
                    raise MappingError(
                        f"{source}: line {line}: duplicate key {k.value!r} "
                        f"(first at line {seen[k.value]})"
                    )
                seen[k.value] = line
    if _expanded_size(root) > _MAX_EXPANDED_NODES:
        raise MappingError(
            f"{source}: aliases expand to more than {_MAX_EXPANDED_NODES} entries "
            "(an alias bomb?); refused"
        )


def _bad_scalar_line(root: yaml.Node | None) -> int | None:
    """Line of the first scalar the safe constructor cannot build (e.g. ``2026-02-30``)."""
    if root is None:
        return None
    constructor = yaml.constructor.SafeConstructor()
    for node in _walk(root):
        if isinstance(node, yaml.ScalarNode):
            try:
                constructor.construct_object(node, deep=True)
            except Exception:  # looking for the culprit of an error already raised
                return node.start_mark.line + 1
    return None


def _yaml_problem(exc: yaml.YAMLError, source: str, text: str) -> str:
    """One line: file, line and column of the problem, then what YAML objects to."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    at = f": line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow
        at = f": line {text.count(chr(10), 0, exc.position) + 1}"
    parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    what = "; ".join(str(p) for p in parts if p) or str(exc).splitlines()[0]
    return f"{source}{at}: not valid YAML: {' '.join(what.split())}"


def parse_mapping(text: str, *, source: str = "mapping.yaml") -> GlMapping:
    """Validate mapping YAML; errors name ``source``, the entry path and its line."""
    node: yaml.Node | None = None
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # the reader already refuses control characters
        # One parse: the node tree gives lines for messages, the data is constructed from it.
        node = loader.get_single_node()
        data = None
        if node is not None:
            _check_structure(node, source)
            data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise MappingError(_yaml_problem(exc, source, text)) from exc
    except RecursionError as exc:
        raise MappingError(f"{source}: nested too deeply to be a mapping") from exc
    except (ValueError, TypeError, OverflowError) as exc:
        # The safe constructor raises plain Python errors for scalars that look typed but
        # are not (a timestamp such as 2026-02-30); find the line to name it.
        line = _bad_scalar_line(node)
        at = f": line {line}" if line else ""
        raise MappingError(f"{source}{at}: invalid value: {exc}") from exc
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise MappingError(f"{source}: the mapping must be a YAML mapping with a 'rules' key")
    try:
        return GlMapping.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = [p for p in err["loc"] if not _is_pydantic_tag(p)]
            path = _format_loc(loc)
            line = _line_of(node, loc)
            at = f" (line {line})" if line else ""
            lines.append(f"{source}: {path}{at}: {_clean_msg(err['msg'])}")
        raise MappingError("\n".join(lines)) from None


def load_mapping(path: str | Path | None = None) -> GlMapping:
    """Read and validate a mapping file (the shipped default when ``path`` is None)."""
    p = Path(path) if path is not None else DEFAULT_MAPPING_PATH
    source = p.name if path is None else str(p)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise MappingError(f"{p}: cannot read mapping: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise MappingError(
            f"{source}: line {line}: not UTF-8 (byte {raw[exc.start]:#04x} at offset {exc.start})"
        ) from exc
    return parse_mapping(text, source=source)


def _is_pydantic_tag(part: object) -> bool:
    # Union branches show up in loc as 'str' / 'list[str]'; they are not YAML keys.
    return isinstance(part, str) and part in {"str", "list[str]", "function-after[_check()]"}


def _format_loc(loc: Sequence[object]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # A key from the file is shown as written unless it holds a character that
            # would break the message (a newline or other control character): then quoted.
            name = str(part)
            out += ("." if out else "") + (name if name.isprintable() else repr(name))
    return out or "(top level)"


def _clean_msg(msg: str) -> str:
    return msg.removeprefix("Value error, ")


def _line_of(node: yaml.Node | None, loc: Sequence[object]) -> int | None:
    """1-based line of the deepest YAML node on ``loc`` (cheap: walks the composed tree)."""
    line = None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if getattr(k, "value", None) == str(part) or (
                    part == "event_family" and getattr(k, "value", None) == "event_list"
                ):
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line
