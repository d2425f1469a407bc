"""The Incidents page: filters, cursor pages, and acting on several at once."""

from __future__ import annotations

import re
from datetime import timedelta

from pager.web import incidents as page_module
from tests.web.console import Console

ROW = re.compile(r'<tr id="row-(\d+)">')


def rows(page: str) -> list[int]:
    return [int(n) for n in ROW.findall(page)]


async def test_filters_by_state_priority_text_and_day(console: Console):
    first = await console.h.fire("alertname=Disk", "severity=warning", summary="disk full on db-2")
    console.h.clock.advance(timedelta(days=1))
    second = await console.h.fire("alertname=Down", "severity=critical", summary="api down")
    await console.sign_in("alice")
    await console.post(f"/incidents/{second}/resolve")
    assert rows(await console.page("/incidents")) == [first]  # open, by default
    assert rows(await console.page("/incidents?state=all")) == [second, first]
    assert rows(await console.page("/incidents?state=all&priority=P1")) == [second]
    assert rows(await console.page("/incidents?state=all&q=DB-2")) == [first]
    assert rows(await console.page("/incidents?state=all&q=%25")) == []  # % is text, not a wildcard
    # The clock started Mon 5 Jan 09:00 UTC (09:00 in London, alice's zone).
    assert rows(await console.page("/incidents?state=all&from=2026-01-06")) == [second]
    assert rows(await console.page("/incidents?state=all&to=2026-01-05")) == [first]
    bad = await console.page("/incidents?state=lost&from=yesterday")
    assert "Unknown state &#39;lost&#39;: showing open incidents." in bad
    assert "&#39;yesterday&#39; is not a date like 2026-01-31: ignored." in bad


async def test_pages_of_incidents_follow_a_cursor(console: Console, monkeypatch):
    monkeypatch.setattr(page_module, "PAGE", 2)
    made = [await console.h.fire(f"alertname=A{n}", "severity=warning") for n in range(5)]
    await console.sign_in("alice")
    first = await console.page("/incidents?priority=P2")
    assert rows(first) == made[:-3:-1]
    older = re.search(r'href="([^"]+)" rel="next"', first)
    assert older
    link = older[1].replace("&amp;", "&")
    assert link == f"/incidents?state=open&priority=P2&before={made[3]}"
    second = await console.page(link)
    assert rows(second) == [made[2], made[1]]
    assert 'href="/incidents?state=open&amp;priority=P2"' in second  # back to the newest
    last = await console.page(f"/incidents?state=open&priority=P2&before={made[1]}")
    assert rows(last) == [made[0]]
    assert 'rel="next"' not in last


async def test_acknowledge_several_at_once_and_say_which_could_not_be(console: Console):
    a = await console.h.fire("alertname=A", "severity=critical")
    b = await console.h.fire("alertname=B", "severity=critical")
    c = await console.h.fire("alertname=C", "severity=critical")
    await console.sign_in("bob")
    await console.post(f"/incidents/{b}/ack")
    await console.post("/sign-out")
    await console.sign_in("alice")
    back = "/incidents?state=open"
    resp = await console.client.post(
        "/incidents/bulk",
        data=[
            ("csrf", _token(await console.page(back))),
            ("back", back),
            ("action", "ack"),
            ("id", str(a)),
            ("id", str(b)),
            ("id", str(c)),
        ],
        allow_redirects=False,
    )
    assert resp.status == 200
    page = await resp.text()
    assert f"Acknowledged #{a}, #{c}; the others are marked below." in page
    assert f"#{b} is already acknowledged by Bob Roe, 0 s ago." in page
    states = {i: (await console.h.incident(i))["acked_by"] for i in (a, b, c)}
    assert states == {a: "alice", b: "bob", c: "alice"}
    resolved = await console.client.post(
        "/incidents/bulk",
        data=[
            ("csrf", _token(page)),
            ("back", back),
            ("action", "resolve"),
            ("id", str(a)),
            ("id", str(b)),
        ],
        allow_redirects=False,
    )
    assert resolved.status == 303
    assert resolved.headers["Location"] == back
    assert rows(await console.page(back)) == [c]


async def test_bulk_without_a_choice_says_so(console: Console):
    await console.h.fire("alertname=A", "severity=critical")
    await console.sign_in("alice")
    resp = await console.post(
        "/incidents/bulk", {"back": "/incidents", "action": "ack"}, status=400
    )
    assert "Select incidents first." in await resp.text()


def _token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found[1]
