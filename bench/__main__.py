"""`python -m bench [--quick] [--only NAME ...] [--markdown FILE]`: run the benchmarks.

`--only chaos` runs the fault suite's long form (not part of the default set:
it measures reliability, not speed); `--pager-src DIR` runs its daemons from
another tree.

Prints each figure as it is measured, then all tables as Markdown (also
written to --markdown FILE when given), ready for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import chaos, escalation, ingest, matching, page_latency, procs, resources, scaleout
from bench.config import Config
from bench.stats import Section

BENCHMARKS: dict[str, Callable[[Config, Path], Awaitable[Section]]] = {
    "ingest": ingest.run,
    "page_latency": page_latency.run,
    "escalation": escalation.run,
    "resources": resources.run,
    "scaleout": scaleout.run,
    "matching": matching.run,
    "chaos": chaos.run,
}
DEFAULT = ("ingest", "page_latency", "escalation", "resources", "scaleout", "matching")


def _machine() -> str:
    mem = subprocess.run(["free", "-m"], capture_output=True, text=True).stdout.splitlines()
    total = mem[1].split()[1] if len(mem) > 1 else "?"
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores ({platform.processor() or platform.machine()}), {total} MB RAM, "
        f"Python {platform.python_version()}, load average at start "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


async def _main(args: argparse.Namespace) -> str:
    cfg = Config(quick=args.quick, databases=tuple(args.databases), pager_src=args.pager_src)
    names = args.only or list(DEFAULT)
    for tree in {procs.ROOT, *([cfg.pager_src] if cfg.pager_src else [])}:
        procs.compile_pager(tree)  # the daemons start as an installed pager does
    started = time.perf_counter()
    head = [
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: `python -m bench {' '.join(sys.argv[1:])}`",
        f"Machine: {_machine()}",
        "pager's modules byte-compiled before the daemons start, as installed (pip, the image)",
        "",
    ]
    print("\n".join(head), flush=True)
    sections: list[str] = []
    for name in names:
        print(f"== {name}", flush=True)
        t0 = time.perf_counter()
        with procs.workdir() as work:
            section = await BENCHMARKS[name](cfg, work)
        section.note(f"took {time.perf_counter() - t0:.0f} s")
        sections.append(section.markdown())
    load = os.getloadavg()
    tail = (
        f"Total {time.perf_counter() - started:.0f} s; load average at the end "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}."
    )
    return "\n".join([*head, *sections, tail, ""])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a reduced run: a few minutes")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these")
    parser.add_argument(
        "--databases", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"]
    )
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    parser.add_argument(
        "--pager-src", type=Path, help="chaos: run `pager serve` from this source tree"
    )
    args = parser.parse_args()
    report = asyncio.run(_main(args))
    print("\n" + report)
    if args.markdown:
        args.markdown.write_text(report)


if __name__ == "__main__":
    main()
