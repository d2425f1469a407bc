"""The layers of pager: every import arrow points down this list.

A unit is a package of pager (`pager/store/`) or a top-level module
(`pager/settings.py`). A unit may import only units of a lower layer: never
one above it, never a sibling of its own layer (the HTTP edges do not call
each other; `labels` and the foundation import nothing of pager). Every
`import` and `from ... import` of every file counts, wherever it is written
(inside a function, under `TYPE_CHECKING`): a late import is still an arrow.
A module that is in no layer fails too, so a new one gets its place here.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "pager"

# Bottom first. Each tuple is a layer of units that do not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    # leaves: import nothing of pager
    (
        *("labels", "clock", "logs", "failpoints", "serving", "settings_file", "tls"),
        *("retrying", "gcpause"),
    ),
    ("settings",),  # the environment and the YAML config (settings_file), read once
    ("policy",),  # YAML -> validated models, checks; pure
    ("core",),  # the pure domain: no await, no now()
    ("metrics",),  # counters, their label values named by core's vocabulary
    ("store",),  # all SQL
    ("migrations",),  # alembic's environment (pager/migrations links to alembic/)
    ("notify",),  # transports: report, never retry
    ("engine",),  # the imperative shell: policy runtime, webhook writer, steps
    ("services",),  # the Pager the handlers share
    # what the edges do, one concern each
    ("actions", "oncall", "overrides", "insights", "practice"),
    ("edge",),  # HTTP plumbing every edge shares: errors, tokens, body limits
    ("inputs",),  # validated request bodies and queries
    ("ingest", "twilio_hooks", "api", "web"),  # the HTTP edges
    ("startup",),  # preflight checks before serving
    ("app",),  # create_app: wiring only
    ("commands",),  # the CLI's subcommands and their HTTP client
    ("cli",),
    ("__main__",),
)
RANK = {unit: n for n, layer in enumerate(LAYERS) for unit in layer}


@dataclass(frozen=True)
class Arrow:
    source: str  # file:line
    importer: str  # unit
    imported: str  # unit


def test_every_arrow_points_down() -> None:
    wrong = [
        f"{a.source}: {a.importer} imports {a.imported}"
        + (" (a sibling of its layer)" if RANK[a.importer] == RANK[a.imported] else " (above it)")
        for a in arrows()
        if a.importer in RANK and a.imported in RANK and RANK[a.imported] >= RANK[a.importer]
    ]
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_every_unit_has_a_layer() -> None:
    found = {unit_of(module_of(path)) for path in python_files()} - {""}
    assert not found - RANK.keys(), f"units in no layer: {sorted(found - RANK.keys())}"
    assert not RANK.keys() - found, f"layers name missing units: {sorted(RANK.keys() - found)}"


def test_no_cycle_between_units() -> None:
    graph: dict[str, set[str]] = {}
    for a in arrows():
        graph.setdefault(a.importer, set()).add(a.imported)
    cycles = [c for c in strongly_connected(graph) if len(c) > 1]
    assert not cycles, f"import cycles between units: {cycles}"


def test_the_check_sees_function_level_and_relative_imports() -> None:
    """The walker itself: a late import and a relative one are arrows too."""
    tree = ast.parse("def f():\n    from pager.app import create_app\nfrom ..store import db\n")
    targets = [t for _, t in imported_modules(tree, "pager.engine.x", is_package=False)]
    assert sorted(targets) == ["pager.app", "pager.store"]


# --- the walker -------------------------------------------------------------


def python_files() -> Iterator[Path]:
    for folder, _, files in os.walk(PACKAGE, followlinks=True):  # migrations is a link
        if "__pycache__" in folder:
            continue
        for name in files:
            if name.endswith(".py"):
                yield Path(folder) / name


def module_of(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["pager", *parts])


def unit_of(module: str) -> str:
    """`pager.store.db` -> `store`; the package `pager` itself -> ''."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def arrows() -> Iterator[Arrow]:
    for path in python_files():
        module = module_of(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = path.relative_to(PACKAGE.parent)
        for line, target in imported_modules(tree, module, path.name == "__init__.py"):
            if not target.startswith("pager."):
                continue  # the standard library and third parties
            importer, imported = unit_of(module), unit_of(target)
            if importer and imported and importer != imported:
                yield Arrow(f"{where}:{line}", importer, imported)


def imported_modules(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, module) for each module of pager an import names."""
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            if target == "pager":  # `from pager import oncall`: the module named
                for alias in node.names:
                    yield node.lineno, f"pager.{alias.name}"
            else:
                yield node.lineno, target


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of units that reach each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                item = stack.pop()
                group.append(item)
                if item == node:
                    break
            groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups
