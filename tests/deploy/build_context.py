"""What the Dockerfile's build stage sees, assembled without Docker: the build
context (the work tree filtered by .dockerignore, symlinks kept as symlinks,
as BuildKit sends them), then the stage's COPY instructions into /src. A wheel
built from that directory is the image's, not the work tree's (which has a
stale build/ and every file .dockerignore leaves out)."""

from __future__ import annotations

import fnmatch
import io
import shutil
from pathlib import Path, PurePosixPath

from dockerfile_parse import DockerfileParser  # type: ignore[import-untyped]

SKIP = {".git", ".venv", "node_modules"}  # never walked: large, and excluded anyway


def _patterns(dockerignore: str) -> list[tuple[bool, str]]:
    """(excluded?, pattern) in file order; the last that matches a path wins."""
    found = []
    for raw in dockerignore.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            found.append((not negated, line.lstrip("!").strip("/")))
    return found


def _matches(pattern: str, path: PurePosixPath) -> bool:
    """Docker's rule: a pattern matching a path or any of its parents matches it."""
    candidates = [PurePosixPath(*path.parts[:n]) for n in range(1, len(path.parts) + 1)]
    for candidate in candidates:
        text = candidate.as_posix()
        if pattern.startswith("**/"):
            rest = pattern[3:]
            tails = [
                PurePosixPath(*candidate.parts[i:]).as_posix() for i in range(len(candidate.parts))
            ]
            if any(fnmatch.fnmatchcase(tail, rest) for tail in tails):
                return True
        elif fnmatch.fnmatchcase(text, pattern) and text.count("/") == pattern.count("/"):
            return True
    return False


def excluded(patterns: list[tuple[bool, str]], path: PurePosixPath) -> bool:
    verdict = False
    for exclude, pattern in patterns:
        if _matches(pattern, path):
            verdict = exclude
    return verdict


def context(root: Path, dest: Path) -> Path:
    """The build context: every file of `root` that .dockerignore lets through."""
    patterns = _patterns((root / ".dockerignore").read_text())
    for path in sorted(_walk(root)):
        relative = PurePosixPath(path.relative_to(root).as_posix())
        if excluded(patterns, relative):
            continue
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            target.symlink_to(path.readlink())
        else:
            shutil.copy2(path, target)
    return dest


def _walk(root: Path) -> list[Path]:
    found = []
    for path in root.iterdir():
        if path.name in SKIP:
            continue
        if path.is_dir() and not path.is_symlink():
            found.extend(_walk(path))
        else:
            found.append(path)
    return found


def build_stage(root: Path, dest: Path) -> Path:
    """/src of the first stage: its COPY instructions applied to the context."""
    ctx = context(root, dest / "context")
    src = dest / "src"
    src.mkdir()
    parser = DockerfileParser(fileobj=io.BytesIO((root / "Dockerfile").read_bytes()))
    stages = 0
    for ins in parser.structure:
        stages += ins["instruction"] == "FROM"
        if stages != 1 or ins["instruction"] != "COPY" or "--from" in ins["value"]:
            continue
        *sources, target = ins["value"].split()
        for pattern in sources:
            for found in sorted(ctx.glob(pattern)):
                into = src / target if not target.endswith("/") else src / target / found.name
                if found.is_dir() and not found.is_symlink():
                    shutil.copytree(found, into, symlinks=True)
                else:
                    shutil.copy2(found, into, follow_symlinks=False)
    return src
