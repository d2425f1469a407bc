"""Load a policy directory: all its ``*.yaml``/``*.yml`` files together, checked.

Guarantees:
* Only the files directly in the directory are read (not subdirectories, not
  hidden files), in name order. List sections (people, rotations, …, rules)
  concatenate in that order; ``priorities`` merge, a priority defined in two
  files being an error; ``throttle`` and ``default`` may appear in one file.
* Every problem is reported at once, each as ``file:line: path: message`` with
  the line of the offending value (but a file that cannot be parsed stops the
  checks across files, which would only report its ids as missing). Nothing
  is half-loaded: a directory with any error raises PolicyError, so a reload
  can keep the running policy.
* Warnings (legal but likely mistakes) come back with the policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode

from pager.policy.checks import Located, Parts, Reporter, check_all
from pager.policy.errors import (
    PRIORITY_PATTERN,
    PathPart,
    PolicyError,
    PolicyIssue,
    explain,
    format_path,
    shape_of,
    sort_issues,
)
from pager.policy.model import (
    Default,
    EscalationPolicy,
    Heartbeat,
    Person,
    Policy,
    PriorityDef,
    Rotation,
    Rule,
    Throttle,
)
from pager.policy.source import SourceFile, child, key_node, line_of, node_at, read_source

__all__ = ["LoadedPolicy", "PolicyError", "PolicyIssue", "check_directory", "load_policy"]

_LISTS: dict[str, type[BaseModel]] = {
    "people": Person,
    "rotations": Rotation,
    "escalation_policies": EscalationPolicy,
    "rules": Rule,
    "heartbeats": Heartbeat,
}
_SINGLES: dict[str, type[BaseModel]] = {"throttle": Throttle, "default": Default}
_ID_KEYS = {"people": "id", "rotations": "id", "escalation_policies": "id", "heartbeats": "name"}
_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    files: list[str]  # file names inside the directory, in load order
    warnings: list[PolicyIssue]


def load_policy(directory: Path) -> LoadedPolicy:
    """Load and check every policy file of ``directory``; raise PolicyError if invalid."""
    issues: list[PolicyIssue] = []
    names = _policy_files(directory, issues)
    parts, origins = Parts(), _Origins()
    unreadable = 0
    for name in names:
        source = read_source(directory / name, name, issues)
        if source is None or not _collect(source, parts, origins, issues):
            unreadable += 1
    if names and not unreadable:  # else what is missing may be in the unreadable file
        _check_whole(directory, parts, origins, issues)
    issues = sort_issues(issues)
    if any(issue.severity == "error" for issue in issues):
        raise PolicyError(issues)
    return LoadedPolicy(_merge(parts), names, issues)


def _check_whole(
    directory: Path, parts: Parts, origins: _Origins, issues: list[PolicyIssue]
) -> None:
    if "default" not in origins.claimed:
        message = "no default in any file: add e.g. default: {priority: P2, escalation: ID}"
        issues.append(PolicyIssue(str(directory), 0, message))
    check_all(parts, Reporter(issues))


def check_directory(directory: Path) -> tuple[list[PolicyIssue], int]:
    """What ``pager check`` reports: all issues, and exit status 0 (valid) or 1."""
    try:
        loaded = load_policy(directory)
    except PolicyError as err:
        return err.issues, 1
    return loaded.warnings, 0


def run_check(directory: Path, out: TextIO) -> int:
    """Print every issue as ``file:line: message`` and a summary; return the exit status."""
    issues, status = check_directory(directory)
    for issue in issues:
        print(issue, file=out)
    errors = sum(issue.severity == "error" for issue in issues)
    warnings = len(issues) - errors
    verdict = "invalid" if status else "valid"
    print(f"{directory}: {verdict} ({errors} error(s), {warnings} warning(s))", file=out)
    return status


def _policy_files(directory: Path, issues: list[PolicyIssue]) -> list[str]:
    if not directory.is_dir():
        issues.append(PolicyIssue(str(directory), 0, "not a directory"))
        return []
    names = sorted(
        path.name
        for path in directory.iterdir()
        if path.suffix in _SUFFIXES and path.is_file() and not path.name.startswith(".")
    )
    if not names:
        issues.append(PolicyIssue(str(directory), 0, "no policy files (*.yaml or *.yml) here"))
    return names


class _Origins:
    """Where each once-only piece (``default``, ``throttle``, ``priorities.P1``) was seen."""

    def __init__(self) -> None:
        self.claimed: dict[str, str] = {}

    def claim(self, what: str, file: str, node: Node, issues: list[PolicyIssue]) -> bool:
        if what in self.claimed:
            message = f"{what}: already defined at {self.claimed[what]}; define it in one file"
            issues.append(PolicyIssue(file, line_of(node), message))
            return False
        self.claimed[what] = f"{file}:{line_of(node)}"
        return True


def _collect(
    source: SourceFile, parts: Parts, origins: _Origins, issues: list[PolicyIssue]
) -> bool:
    """Validate one file's sections into ``parts``; False if it has no sections to read."""
    root, data = source.root, source.data
    if root is None:
        return True  # an empty file, or only comments
    if not isinstance(root, MappingNode) or not isinstance(data, dict):
        message = "expected a mapping of sections (people:, rotations:, rules:, …) at the top"
        issues.append(PolicyIssue(source.name, line_of(root), message))
        return False
    done: set[str] = set()
    for key, value in root.value:
        section = str(key.value) if isinstance(key, ScalarNode) else "?"
        if section not in done:
            done.add(section)
            _section(source, section, key, value, data.get(section), parts, origins, issues)
    return True


def _section(
    source: SourceFile,
    section: str,
    key: Node,
    node: Node,
    data: Any,
    parts: Parts,
    origins: _Origins,
    issues: list[PolicyIssue],
) -> None:
    if section not in Policy.model_fields:
        known = ", ".join(Policy.model_fields)
        message = f"unknown section {section!r} (expected one of: {known})"
        issues.append(PolicyIssue(source.name, line_of(key), message))
    elif section in _SINGLES:
        if origins.claim(section, source.name, key, issues) and data is not None:
            located = _validate(_SINGLES[section], data, source.name, (section,), node, issues)
            setattr(parts, section, located)
    elif data is None:
        return  # an empty section, e.g. while a file is being written
    elif section == "priorities":
        _priorities(source, node, data, parts, origins, issues)
    else:
        _list_section(source, section, node, data, parts, issues)


def _list_section(
    source: SourceFile,
    section: str,
    node: Node,
    data: Any,
    parts: Parts,
    issues: list[PolicyIssue],
) -> None:
    if not isinstance(data, list):
        message = f"{section}: expected a list (items starting with '- '), got {shape_of(data)}"
        issues.append(PolicyIssue(source.name, line_of(node), message))
        return
    found: list[Located[Any]] = getattr(parts, section)
    for index, item in enumerate(data):
        item_node = node_at(node, (index,))
        _declare(parts, source.name, (section, index), item_node, item, issues)
        located = _validate(_LISTS[section], item, source.name, (section, index), item_node, issues)
        if located is not None:
            found.append(located)


def _declare(
    parts: Parts,
    file: str,
    path: tuple[PathPart, ...],
    node: Node,
    item: Any,
    issues: list[PolicyIssue],
) -> None:
    """Record an item's id, even if the item is invalid, so references to it stay quiet."""
    section = str(path[0])
    key = _ID_KEYS.get(section)
    if key is None or not isinstance(item, dict) or not isinstance(item.get(key), str):
        return
    ident, line = item[key], line_of(node_at(node, (key,)))
    ids = parts.declared.setdefault(section, {})
    if ident in ids:
        first = ids[ident]
        message = (
            f"{format_path((*path, key))}: duplicate {key} {ident!r} (first defined at {first})"
        )
        issues.append(PolicyIssue(file, line, message))
    else:
        ids[ident] = f"{file}:{line}"


def _priorities(
    source: SourceFile,
    node: Node,
    data: Any,
    parts: Parts,
    origins: _Origins,
    issues: list[PolicyIssue],
) -> None:
    if not isinstance(data, dict):
        message = f"priorities: expected a mapping like P1: {{...}}, got {shape_of(data)}"
        issues.append(PolicyIssue(source.name, line_of(node), message))
        return
    for name, value in data.items():
        where = key_node(node, str(name)) or node
        if not isinstance(name, str) or not re.fullmatch(PRIORITY_PATTERN, name):
            message = (
                f"priorities: invalid priority name {name!r}: use P1, P2, … (16 characters at most)"
            )
            issues.append(PolicyIssue(source.name, line_of(where), message))
            continue
        if not origins.claim(f"priorities.{name}", source.name, where, issues):
            continue
        parts.declared.setdefault("priorities", {})[name] = origins.claimed[f"priorities.{name}"]
        value_node = child(node, name) or node
        path: tuple[PathPart, ...] = ("priorities", name)
        located = _validate(PriorityDef, value or {}, source.name, path, value_node, issues)
        if located is not None:
            parts.priorities[name] = located


def _validate(
    model: type[BaseModel],
    data: Any,
    file: str,
    path: tuple[PathPart, ...],
    node: Node,
    issues: list[PolicyIssue],
) -> Located[Any] | None:
    try:
        value = model.model_validate(data)
    except ValidationError as err:
        for problem in explain(err, model, data):
            target = node_at(node, problem.path)
            if problem.key is not None:
                target = key_node(target, problem.key) or target
            message = f"{format_path((*path, *problem.path))}: {problem.message}"
            issues.append(PolicyIssue(file, line_of(target), message))
        if not isinstance(data, dict):
            return None
        return Located(file, path, node, _lenient(model, data, err), partial=True)
    return Located(file, path, node, value)


def _lenient(model: type[BaseModel], data: dict[str, Any], err: ValidationError) -> Any:
    """The item without its broken fields, so its references can still be checked.

    Broken or missing fields take their default, or an empty value; the result
    is never used as policy (the load fails anyway), only read by the checks.
    """
    broken = {error["loc"][0] for error in err.errors() if error["loc"]}
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        try:
            if key in data and key not in broken and info.annotation is not None:
                values[name] = TypeAdapter(info.annotation).validate_python(data[key])
                continue
        except ValidationError:
            pass
        if not info.is_required():
            values[name] = info.get_default(call_default_factory=True)
        else:
            values[name] = () if get_origin(info.annotation) is tuple else None
    return model.model_construct(**values)


def _merge(parts: Parts) -> Policy:
    return Policy(
        people=tuple(item.value for item in parts.people),
        rotations=tuple(item.value for item in parts.rotations),
        escalation_policies=tuple(item.value for item in parts.escalation_policies),
        priorities={name: item.value for name, item in parts.priorities.items()},
        throttle=parts.throttle.value if parts.throttle is not None else Throttle(),
        rules=tuple(item.value for item in parts.rules),
        heartbeats=tuple(item.value for item in parts.heartbeats),
        default=parts.default.value if parts.default is not None else None,
    )
