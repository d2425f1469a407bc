"""Policy files read as YAML node trees, so every value keeps its line number.

Guarantees:
* One parse gives both the nodes (for line numbers) and the Python data.
* Scalars resolve as YAML 1.2 does, not 1.1: only ``true``/``false`` are
  booleans, ``18:00`` stays a string (not the sexagesimal 1080), ``yes``/``no``
  and ISO dates stay strings and leading-zero numbers stay text. Pydantic then
  parses times and dates strictly.
* A key repeated in one mapping is reported (PyYAML would keep the last).
* A syntax error becomes a PolicyIssue on the line YAML points at, and so do
  what PyYAML would otherwise raise past us: a character YAML forbids (a raw
  NUL), nesting deeper than MAX_DEPTH (PyYAML composes recursively), aliases
  that expand past MAX_VALUES values, and a NUL or a lone surrogate written
  as an escape (``"\0"``, ``"\ud800"``), which no database column takes.
* Fast, and the same either way: libyaml's scanner and parser (C, when PyYAML
  has it) read a file about three times faster than PyYAML's own Python ones
  (0.28 -> 0.11 s CPU for a policy of 250 people, a fifth of a start of
  `pager serve`). Nodes are composed in Python here either way (so MAX_DEPTH
  holds). A file libyaml refuses is read
  again by PyYAML's parser, so every message about a broken file is PyYAML's;
  and libyaml is not used where the two read a text differently (found by
  fuzzing both, tests/unit/test_policy_fuzz.py): a text with a tab (PyYAML
  refuses one after a value, libyaml does not), a byte order mark, or without
  a final newline (an empty node at the very end gets another line). A
  scalar tagged "!" is resolved as PyYAML resolves it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from pager.policy.errors import PathPart, PolicyIssue, format_path

MAX_DEPTH = 64  # nesting levels; a policy needs about six
MAX_VALUES = 2_000_000  # nodes once aliases are expanded


class _Nesting(Composer):
    """Composing with a depth limit (PyYAML composes recursively), counting the nodes."""

    _depth = 0
    composed = 0  # nodes composed (an alias counts once, however big what it names)

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        self._depth += 1
        self.composed += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[attr-defined]  # the parser's
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class PolicyYamlLoader(_Nesting, yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars (see the module docstring)."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 - PyYAML's class registry


for _tag, _regex, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
    (
        "float",
        r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$|^[-+]?\.(?:inf|Inf|INF)$"
        r"|^\.(?:nan|NaN|NAN)$",
        "-+0123456789.",
    ),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("merge", r"^(?:<<)$", "<"),
):
    PolicyYamlLoader.add_implicit_resolver(
        f"tag:yaml.org,2002:{_tag}", re.compile(_regex), list(_first)
    )


try:
    from yaml._yaml import CParser  # as yaml.cyaml has it

    LIBYAML = True
except ImportError:  # PyYAML built without libyaml: its Python parser only
    LIBYAML = False


if LIBYAML:

    class _FastLoader(_Nesting, CParser, SafeConstructor, Resolver):
        """PolicyYamlLoader on libyaml's scanner and parser; composed and
        constructed by the same Python code, with the same scalars."""

        yaml_implicit_resolvers = PolicyYamlLoader.yaml_implicit_resolvers

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

        def compose_scalar_node(self, anchor: Any) -> ScalarNode:
            # A scalar tagged "!" (non-specific): PyYAML resolves it as plain, so
            # `! ''` is null there, libyaml's event says it is not.
            event = self.peek_event()
            if isinstance(event, ScalarEvent) and event.tag == "!":
                event.implicit = (True, False)
            return super().compose_scalar_node(anchor)


def _read_alike(text: str) -> bool:
    """libyaml reads this text as PyYAML does (see the module docstring)."""
    return LIBYAML and text.endswith("\n") and "\t" not in text and "\ufeff" not in text


def _compose(text: str) -> tuple[PolicyYamlLoader | _FastLoader, Node | None]:
    """The loader and the node tree of the text's one document; raises YAMLError."""
    if _read_alike(text):
        fast = _FastLoader(text)
        try:
            return fast, fast.get_single_node()
        except yaml.YAMLError:
            fast.dispose()  # and read it again below, for PyYAML's message
    loader = PolicyYamlLoader(text)
    try:
        return loader, loader.get_single_node()
    except BaseException:
        loader.dispose()
        raise


@dataclass(frozen=True)
class SourceFile:
    name: str
    root: Node | None  # None: the file holds no document
    data: Any


def read_source(path: Path, name: str, issues: list[PolicyIssue]) -> SourceFile | None:
    """Parse one file; on failure add an issue and return None."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        issues.append(PolicyIssue(name, 0, f"cannot read the file: {err}"))
        return None
    try:
        loader, root = _compose(text)
    except yaml.MarkedYAMLError as err:
        issues.append(_syntax_issue(name, err))
        return None
    except yaml.YAMLError as err:  # ReaderError: a character YAML does not allow
        issues.append(_reader_issue(name, text, err))
        return None
    try:
        may_share = "*" in text or loader.composed > MAX_VALUES  # an alias: nodes shared
        if root is not None and not _check_nodes(name, root, issues, measure=may_share):
            return None
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as err:
        issues.append(_syntax_issue(name, err))
        return None
    except yaml.YAMLError as err:
        issues.append(_reader_issue(name, text, err))
        return None
    finally:
        loader.dispose()
    return SourceFile(name, root, data)


def _reader_issue(name: str, text: str, err: yaml.YAMLError) -> PolicyIssue:
    position = getattr(err, "position", 0)
    line = text.count("\n", 0, position) + 1 if isinstance(position, int) else 1
    character = getattr(err, "character", None)
    what = f"character U+{character:04X}" if isinstance(character, int) else "a character"
    return PolicyIssue(name, line, f"invalid YAML: {what} is not allowed in YAML text")


def _check_nodes(name: str, root: Node, issues: list[PolicyIssue], measure: bool = True) -> bool:
    """Size, depth, keys and scalars; False if the file is too big to read on (reported).

    `measure=False` when the text has no alias (no "*" at all) and at most
    MAX_VALUES nodes were composed: then no node is shared, so the size is at
    most that count and the depth at most the composer's, which stopped at
    MAX_DEPTH; the walk of _measure (a quarter of a policy's read) could not
    find either over its limit."""
    size, depth = _measure(root) if measure else (0, 0)
    if size > MAX_VALUES or depth > MAX_DEPTH:
        message = (
            f"aliases expand to {size} values, more than {MAX_VALUES}: write it out"
            if size > MAX_VALUES
            else f"aliases nest the data more than {MAX_DEPTH} levels deep"
        )
        issues.append(PolicyIssue(name, line_of(root), message))
        return False
    _check_duplicate_keys(name, root, (), issues, set())
    return True


def _measure(root: Node) -> tuple[int, int]:
    """How many nodes, and how deep, once aliases are copied out: one pass, no recursion.

    Aliases share nodes, so sizes are memoised (a billion laughs costs nothing
    to measure); a cycle is counted once where it closes.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        kids = [n for key, _, child in _children(node) for n in (key, child) if n is not None]
        if children_done:
            size[id(node)] = 1 + sum(size.get(id(kid), 1) for kid in kids)
            depth[id(node)] = 1 + max((depth.get(id(kid), 1) for kid in kids), default=0)
        elif id(node) not in depth:
            depth[id(node)] = 1  # in progress: a cycle back to it counts once
            stack.append((node, True))
            stack.extend((kid, False) for kid in kids if id(kid) not in depth)
    return size[id(root)], depth[id(root)]


def _syntax_issue(name: str, err: yaml.MarkedYAMLError) -> PolicyIssue:
    mark = err.problem_mark or err.context_mark
    message = f"invalid YAML: {err.problem or err.context}"
    if err.problem and err.context and err.context_mark is not None:
        message += f" ({err.context} that starts at line {err.context_mark.line + 1})"
    return PolicyIssue(name, mark.line + 1 if mark else 1, message)


def _check_duplicate_keys(
    name: str, node: Node, path: tuple[PathPart, ...], issues: list[PolicyIssue], seen: set[int]
) -> None:
    if id(node) in seen:  # aliases share nodes and may even form cycles
        return
    seen.add(id(node))
    if isinstance(node, ScalarNode):
        _check_scalar(name, node, path, issues)
    first_line: dict[PathPart, int] = {}
    for key, part, value in _children(node):
        if key is not None and part in first_line:
            where = format_path(path) or "top level"
            message = f"{where}: duplicate key {part!r} (first at line {first_line[part]})"
            issues.append(PolicyIssue(name, line_of(key), message))
        elif key is not None:
            first_line[part] = line_of(key)
        _check_duplicate_keys(name, value, (*path, part), issues, seen)


def _check_scalar(
    name: str, node: ScalarNode, path: tuple[PathPart, ...], issues: list[PolicyIssue]
) -> None:
    value = str(node.value)
    where = format_path(path) or "value"
    if "\x00" in value:
        issues.append(PolicyIssue(name, line_of(node), f"{where}: holds a NUL character (\\0)"))
    elif any(0xD800 <= ord(char) <= 0xDFFF for char in value):
        message = f"{where}: holds a lone surrogate (\\uD800–\\uDFFF), which is not Unicode text"
        issues.append(PolicyIssue(name, line_of(node), message))


def _children(node: Node) -> Iterator[tuple[Node | None, PathPart, Node]]:
    """(key node or None, path part, value node) for each child of a collection."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value != "<<":
                yield key, key.value, value
    elif isinstance(node, SequenceNode):
        for index, item in enumerate(node.value):
            yield None, index, item


def line_of(node: Node) -> int:
    return int(node.start_mark.line) + 1


def key_node(node: Node, name: str) -> Node | None:
    """The key node ``name`` of a mapping node, for errors about the key itself."""
    if isinstance(node, MappingNode):
        for key, _ in node.value:
            if isinstance(key, ScalarNode) and key.value == name:
                return key
    return None


def child(node: Node, part: PathPart) -> Node | None:
    if isinstance(node, MappingNode):
        for key, value in reversed(node.value):  # the last of repeated keys wins
            if isinstance(key, ScalarNode) and key.value == str(part):
                return value  # type: ignore[no-any-return]
    if isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
        return node.value[part]  # type: ignore[no-any-return]
    return None


def node_at(node: Node, path: tuple[PathPart, ...]) -> Node:
    """The node at ``path`` below ``node``, or the deepest one that exists."""
    for part in path:
        found = child(node, part)
        if found is None:
            break
        node = found
    return node
