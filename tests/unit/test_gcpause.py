"""pager.gcpause: the collector off while `pager serve` starts, back on once it
serves, with what the start made frozen; a start that ends without serving
leaves the collector as it found it. (That `pager serve` itself resumes it is
tests/observability/test_startup_imports.py.)"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from pager import gcpause
from pager.engine.policy_runtime import prepare

EXAMPLE = Path(__file__).resolve().parents[2] / "policies"


@pytest.fixture(autouse=True)
def _restored() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.unfreeze()
    yield
    gc.unfreeze()  # what a test froze goes back to the oldest generation
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_paused_until_resumed_then_collects_again_with_the_start_frozen() -> None:
    gc.enable()
    with gcpause.paused() as resume:
        assert not gc.isenabled()
        made_at_start = [object() for _ in range(10)]  # noqa: F841 - tracked objects
        assert gc.get_freeze_count() == 0
        resume()
        assert gc.isenabled()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        resume()  # a second call changes nothing
        assert gc.get_freeze_count() == frozen
    assert gc.isenabled()


def test_a_start_that_ends_without_serving_only_turns_the_collector_back_on() -> None:
    gc.enable()
    seen: list[bool] = []

    def failed_start() -> None:
        with gcpause.paused():
            seen.append(gc.isenabled())
            raise RuntimeError("the start failed")

    with pytest.raises(RuntimeError):
        failed_start()
    assert seen == [False]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with gcpause.paused() as resume:
        resume()
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_a_policy_read_at_the_start_holds_no_cycle_so_a_reload_frees_it() -> None:
    """What gcpause's freeze relies on: a frozen object is never collected, so
    the start's policy, once a reload drops it, must be freed by its reference
    counts alone."""
    gc.collect()
    with gcpause.paused() as resume:
        prepared = prepare(EXAMPLE)
        resume()
    del prepared  # a reload's replacement
    gc.unfreeze()  # whatever a cycle left unreachable is collectable again
    assert gc.collect() == 0
