"""Problems found in policy files, each pointing at a file and line, in words.

``str(issue)`` is ``file:line: message`` (``file:line: warning: message`` for a
warning), the form editors and CI logs can jump to. Issues about the whole
directory (no files, no default) have line 0 and print as ``dir: message``.
:func:`explain` words pydantic's validation errors for people and says where
in the data each one is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

Severity = Literal["error", "warning"]
PathPart = str | int
PRIORITY_PATTERN = r"^P[0-9]{1,15}$"  # pager.policy.model.Priority: fits a 16-character column


@dataclass(frozen=True)
class PolicyIssue:
    file: str  # a file name inside the policy directory, or the directory itself
    line: int  # 1-based; 0 when the issue is about the directory as a whole
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        kind = "warning: " if self.severity == "warning" else ""
        return f"{where}: {kind}{self.message}"


class PolicyError(Exception):
    """The policy directory is invalid; ``issues`` holds every error (and warning) found."""

    def __init__(self, issues: Iterable[PolicyIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))

    @property
    def errors(self) -> list[PolicyIssue]:
        return [issue for issue in self.issues if issue.severity == "error"]


def format_path(path: Iterable[PathPart]) -> str:
    """``("rotations", 0, "shift")`` -> ``rotations[0].shift``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def sort_issues(issues: Iterable[PolicyIssue]) -> list[PolicyIssue]:
    """File issues by file and line (stable otherwise), then directory-wide ones."""
    return sorted(issues, key=lambda issue: (issue.line == 0, issue.file, issue.line))


@dataclass(frozen=True)
class Explained:
    """One validation error in words, at ``path`` (at its key ``key`` if set)."""

    path: tuple[PathPart, ...]
    message: str
    key: str | None = None


def explain(err: ValidationError, model: type[BaseModel], data: Any) -> list[Explained]:
    """Turn pydantic's errors for ``data`` into messages for people, one per problem.

    Pydantic reports a failed ``A | B`` union once per branch, under a tag in
    the location; only the branch that fits the input's shape is kept (a
    mapping was meant as the model, anything else as the other choice).
    """
    found: list[Explained] = []
    for error in err.errors(include_url=False):
        path, tag, tagged = _real_path(error["loc"], data, error["type"] == "missing")
        if tag is not None and tag[:1].isupper() != isinstance(tagged, dict):
            continue
        described = _describe(error, path, model)
        if described not in found:
            found.append(described)
    return [problem for problem in found if not _echo(problem, found)]


def _echo(problem: Explained, found: list[Explained]) -> bool:
    """A list "too short" only because its items failed: their errors say it all."""
    return problem.message.startswith("needs at least") and any(
        other.path[: len(problem.path)] == problem.path and other.path != problem.path
        for other in found
    )


def _real_path(
    loc: tuple[PathPart, ...], data: Any, missing: bool
) -> tuple[tuple[PathPart, ...], str | None, Any]:
    """Split pydantic's location into the path in the data and a union tag."""
    path: list[PathPart] = []
    tag, tagged, current = None, None, data
    for index, part in enumerate(loc):
        if _has(current, part):
            current = current[part]
        elif missing and index == len(loc) - 1:
            pass  # the missing key itself
        else:
            tag, tagged = str(part), current
            continue
        path.append(part)
    return tuple(path), tag, tagged


def _has(data: Any, part: PathPart) -> bool:
    if isinstance(data, dict):
        return part in data
    return isinstance(data, list) and isinstance(part, int) and part < len(data)


def _describe(error: ErrorDetails, path: tuple[PathPart, ...], model: type[BaseModel]) -> Explained:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx", {})
    if kind == "missing":
        return Explained(path[:-1], f"missing required key {path[-1]!r}")
    if kind == "extra_forbidden":
        keys = _keys_of(model, path[:-1])
        hint = f" (expected one of: {', '.join(keys)})" if keys else ""
        return Explained(path[:-1], f"unknown key {path[-1]!r}{hint}", key=str(path[-1]))
    return Explained(path, _message(kind, error["msg"], value, ctx))


def _message(kind: str, msg: str, value: Any, ctx: dict[str, Any]) -> str:
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "string_type":
        return f"expected text, got {shape_of(value)}: write it in quotes"
    if kind in ("literal_error", "enum"):  # a Literal or a StrEnum field (Channel)
        return f"expected {ctx['expected']}, got {shape_of(value)}"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == PRIORITY_PATTERN:
        return f"invalid priority {value!r}: use P1, P2, … (at most 16 characters)"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping (key: value), got {shape_of(value)}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {shape_of(value)}"
    if kind == "too_short":
        count = ctx["min_length"]
        return f"needs at least {count} item{'' if count == 1 else 's'}"
    if kind.startswith("datetime"):
        return f"invalid date and time {shape_of(value)}: use e.g. 2026-01-05T09:00"
    if kind.startswith(("int_", "bool_", "timedelta_")):
        return f"{msg[0].lower()}{msg[1:]}, got {shape_of(value)}"
    return f"{msg[0].lower()}{msg[1:]}"


def shape_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def _keys_of(model: type[BaseModel], path: tuple[PathPart, ...]) -> list[str]:
    """The keys allowed in the mapping at ``path`` below ``model``, for hints."""
    current: type[BaseModel] | None = model
    for part in path:
        if current is None:
            return []
        if isinstance(part, str):
            field = _field(current, part)
            current = _model_in(field.annotation) if field is not None else None
    if current is None:
        return []
    return [info.alias or name for name, info in current.model_fields.items()]


def _field(model: type[BaseModel], key: str) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        if found := _model_in(arg):
            return found
    return None
