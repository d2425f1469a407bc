"""The `--config FILE` settings source: a YAML mapping of the settings' names.

A pydantic-settings source (`YamlConfigSettingsSource`, so its keys are matched
to fields exactly as the other sources' are), stricter than the stock one: the
file must exist and be a mapping, and a key that is no setting is an error
naming the key and its line, so a misspelling cannot silently leave a token
unset. It remembers the line of every key, so a bad value is said as
`file:line: name: what is wrong`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings, YamlConfigSettingsSource
from yaml.nodes import MappingNode


class SettingsError(Exception):
    """A bad setting, said for a person."""


class YamlFileSource(YamlConfigSettingsSource):
    """The settings of one YAML file; keys are the settings' names, any case."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        self.names = tuple(settings_cls.model_fields)
        self.where: dict[str, str] = {}  # field name -> "file:line" of its key
        if not path.is_file():  # the stock source skips a missing file; a typo must not
            raise SettingsError(f"{path}: no such file")
        super().__init__(settings_cls, yaml_file=path)

    def _read_file(self, file_path: Path | Traversable) -> dict[str, Any]:
        path = Path(str(file_path))
        root, data = _parse(path)
        found: dict[str, Any] = {}
        unknown = []
        for key, _ in root.value:
            where = f"{path}:{key.start_mark.line + 1}"
            name = str(key.value).lower()
            if name in self.names:
                found[name], self.where[name] = data[key.value], where
            else:
                unknown.append(
                    f"{where}: unknown setting {key.value!r}{_did_you_mean(name, self.names)}"
                )
        if unknown:
            raise SettingsError("; ".join(unknown))
        return found

    def __repr__(self) -> str:
        return f"YamlFileSource(yaml_file={self.yaml_file_path!r})"


def _parse(path: Path) -> tuple[MappingNode, dict[Any, Any]]:
    """The file's root node (for the lines of its keys) and its values."""
    try:
        loader = yaml.SafeLoader(path.read_text(encoding="utf-8"))
        try:
            root = loader.get_single_node()
            data = loader.construct_document(root) if root is not None else {}
        finally:
            loader.dispose()
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SettingsError(f"{path}: {' '.join(str(exc).split())}") from None
    if not isinstance(root, MappingNode) or not isinstance(data, dict):
        raise SettingsError(f"{path}: must be a mapping of settings, like `listen: 127.0.0.1:8080`")
    return root, data


def _did_you_mean(name: str, names: Iterable[str]) -> str:
    known = list(names)
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(known)})"
