"""How big a run is: the full record run, or `--quick` (a few minutes in all)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Config:
    quick: bool = False
    databases: tuple[str, ...] = ("sqlite", "postgres")
    pager_src: Path | None = None  # run the daemons from this tree (chaos: the code before a fix)

    def pick(self, full: float, quick: float) -> float:
        return quick if self.quick else full

    def count(self, full: int, quick: int) -> int:
        return quick if self.quick else full
