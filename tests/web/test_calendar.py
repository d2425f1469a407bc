"""Calendar feeds: parsed with `icalendar`, they hold exactly the shifts that
`GET /api/v1/oncall` gives over the same range (the March clock change and an
override included); a new link makes the old URL 404."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from icalendar import Calendar

from pager.web.calendar import FEED_AHEAD, FEED_PAST
from tests.web.console import Console, csrf_of
from tests.web.part2 import PART2_POLICY

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)  # the feed runs from 6 March to 18 June
LINK = re.compile(r'href="(http://[^"]+/calendar/([^/"]+)/person\.ics)"')


async def calendar_link(c: Console) -> tuple[str, str]:
    page = await c.page("/my")
    await c.client.post(
        "/my/calendar", data={"csrf": csrf_of(page), "back": "/my"}, allow_redirects=False
    )
    found = LINK.search(await c.page("/my"))
    assert found, "the My on-call page shows no feed link after making one"
    return found[1], found[2]


async def api_walk(
    c: Console, rotation: str, start: datetime, end: datetime
) -> list[tuple[Any, ...]]:
    """(person, since, until) of every assignment from start to end, as the API says."""
    shifts, at = [], start
    while at < end:
        answer = await c.h.get(f"/api/v1/oncall?rotation={rotation}&at={quote(at.isoformat())}")
        [r] = answer["rotations"]
        since, until = (datetime.fromisoformat(r[k]) for k in ("since", "until"))
        shifts.append((r["person"], since, until))
        at = until
    return shifts


def events(body: bytes) -> list[tuple[Any, ...]]:
    cal = Calendar.from_ical(body)
    return [
        (
            str(e["X-PAGER-ROTATION"]),
            str(e["X-PAGER-PERSON"]) or None,
            e.decoded("DTSTART").astimezone(UTC),
            e.decoded("DTEND").astimezone(UTC),
        )
        for e in cal.walk("VEVENT")
    ]


async def feed(c: Console, path: str, status: int = 200) -> bytes:
    resp = await c.client.get(path)
    assert resp.status == status, await resp.text()
    return await resp.read()


async def test_the_feeds_hold_exactly_the_shifts_the_api_gives(start_console, clock):
    clock.set(NOW)
    c = await start_console(PART2_POLICY)
    await c.h.post(
        "/api/v1/overrides",
        {
            "rotation": "daily",
            "person": "bob",
            "replaces": "alice",
            "start": "2026-03-28T12:00",
            "end": "2026-03-29T12:00",
        },
        status=201,
    )
    await c.sign_in("alice")
    _, token = await calendar_link(c)
    start, end = NOW - FEED_PAST, NOW + FEED_AHEAD
    body = await feed(c, f"/calendar/{token}/rotation/daily.ics")
    got = [(p, s, u) for _, p, s, u in events(body)]
    assert got == await api_walk(c, "daily", start, end)
    lengths = {u - s for p, s, u in got}
    assert timedelta(hours=23) in lengths  # 28 March, 09:00 GMT to 29 March, 09:00 BST
    assert b"BEGIN:VTIMEZONE" in body
    assert b"TZID:Europe/London" in body
    assert b"DTSTART;TZID=Europe/London:20260330T090000" in body  # 09:00 in summer too
    assert b"X-WR-CALNAME:On call: daily" in body
    mine = sorted(
        (r, s, u) for r, p, s, u in events(await feed(c, f"/calendar/{token}/person.ics"))
    )
    expected = []
    for rotation in ("primary", "secondary", "daily"):
        walked = await api_walk(c, rotation, start, end)
        expected += [(rotation, s, u) for p, s, u in walked if p == "alice"]
    expected.sort()
    assert mine == expected
    assert len(mine) > 10


async def test_a_new_link_makes_the_old_url_404(start_console, clock):
    clock.set(NOW)
    c = await start_console(PART2_POLICY)
    await c.sign_in("alice")
    old_link, old = await calendar_link(c)
    await feed(c, f"/calendar/{old}/person.ics")
    new_link, new = await calendar_link(c)
    assert new != old
    assert new_link != old_link
    await feed(c, f"/calendar/{old}/person.ics", status=404)
    await feed(c, f"/calendar/{old}/rotation/daily.ics", status=404)
    await feed(c, f"/calendar/{new}/person.ics")
    await feed(c, "/calendar/not-a-token/person.ics", status=404)
    await feed(c, f"/calendar/{new}/rotation/nope.ics", status=404)


async def test_the_token_is_stored_only_as_its_hash(start_console, clock):
    from sqlalchemy import select

    from pager.store.calendars import digest
    from pager.store.models import CalendarToken

    clock.set(NOW)
    c = await start_console(PART2_POLICY)
    await c.sign_in("bob")
    _, token = await calendar_link(c)
    async with c.h.pager.db.read() as session:
        [row] = (await session.execute(select(CalendarToken))).scalars().all()
    assert (row.person_id, row.token_hash) == ("bob", digest(token))
    assert token not in row.token_hash
