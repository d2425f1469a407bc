"""The fault suite, reduced form (the long form: `python -m bench --only chaos`).

`pager serve` runs as real processes on SQLite and PostgreSQL, FakeTwilio as a
real HTTP server. The daemon is killed (SIGKILL) at each point of a send:
right after the claim, after the request's start was committed, while the
request is in flight, after Twilio accepted, and with the result written but
not committed; Twilio resets connections, hangs, answers 5xx and 429. Then a
clean daemon takes over, and every page the policy required must have been
taken by Twilio exactly once: the provider could always be asked here, so no
duplicate is excused.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pager.store.db import Database
from tests.chaos.policy import PEOPLE, phone
from tests.chaos.rig import Rig, Tally
from tests.fakes.fake_twilio import ANY
from tests.polling import eventually

POINTS = ("after_claim", "before_send", "after_accept", "before_commit")


def clean(tally: Tally) -> bool:
    return (tally.lost, tally.doubled, tally.unsettled, tally.unknown) == (0, 0, 0, 0)


async def test_a_kill_at_any_point_of_a_send_loses_and_doubles_nothing(
    db: Database, tmp_path: Path
) -> None:
    async with Rig(tmp_path, db.url) as rig:
        firing = []
        for point in POINTS:  # each daemon dies at its first send, at that point
            daemon = await rig.start(failpoints=point)
            firing.append(asyncio.create_task(rig.fire(2)))
            firing.append(asyncio.create_task(rig.fire(1, critical=True)))
            await rig.died(daemon)
        # mid-send: Twilio takes the next message and does not answer; kill -9 meanwhile
        rig.fake.hang(ANY, 30, created=True, times=1)
        daemon = await rig.start()
        await asyncio.gather(*firing)
        firing = [asyncio.create_task(rig.fire(1))]
        await eventually(lambda: rig.fake.in_flight > 0, within=30, what="a request in flight")
        rig.kill(daemon)
        rig.fake.heal()

        await rig.start()
        await asyncio.gather(*firing)
        tally = await rig.settle(within=90)

    assert tally.due == 3 * len(POINTS) + 1
    assert tally.kills == len(POINTS) + 1
    assert clean(tally), tally


async def test_resets_hangs_5xx_and_429_lose_and_double_nothing(
    db: Database, tmp_path: Path
) -> None:
    async with Rig(tmp_path, db.url) as rig:
        rig.fake.latency = 0.1
        for person in range(PEOPLE):  # each person's first request meets one fault
            number = phone(person)
            match person % 6:
                case 0:
                    rig.fake.reset(number, created=True)  # Twilio took it, the answer is lost
                case 1:
                    rig.fake.reset(number, created=False)
                case 2:
                    rig.fake.hang(number, 3, created=True)  # past the 1 s send timeout
                case 3:
                    rig.fake.hang(number, 3, created=False)
                case 4:
                    rig.fake.fail_times(number, 2, status=503)
                case 5:
                    rig.fake.too_many(number, 1, retry_after=2)
        await rig.start()
        await rig.fire(3 * PEOPLE)
        tally = await rig.settle(within=90)

    assert tally.due == 3 * PEOPLE
    assert clean(tally), tally
