"""GET /api/v1/incidents: newest first, a page at a time, filtered by state,
priority and creation time."""

from __future__ import annotations

from datetime import timedelta

from tests.harness import Harness
from tests.scenario.policies import BASE


async def seven_incidents(h: Harness) -> list[int]:
    """#1..#7, a minute apart from 09:00; the even ones P1 (critical), the odd ones P2."""
    ids = []
    for n in range(1, 8):
        severity = "critical" if n % 2 == 0 else "warning"
        ids.append(await h.fire(f"alertname=A{n}", f"severity={severity}"))
        h.clock.advance(timedelta(minutes=1))
    return ids


async def test_pages_follow_the_next_link_to_the_end(make_harness):
    h = await make_harness(BASE)
    ids = await seven_incidents(h)
    seen, pages, link = [], 0, "/api/v1/incidents?limit=3"
    while link is not None:
        page = await h.get(link)
        assert len(page["incidents"]) <= 3
        seen += [i["id"] for i in page["incidents"]]
        link, pages = page["next"], pages + 1
    assert seen == sorted(ids, reverse=True)  # each once, newest first
    assert pages == 3
    last = await h.get("/api/v1/incidents?limit=7")
    assert last["next"] is None  # exactly full: no empty page to follow


async def test_the_default_page_is_100_and_says_there_is_more(make_harness):
    h = await make_harness(BASE)
    for n in range(101):
        await h.fire(f"alertname=Storm{n}")
    first = await h.get("/api/v1/incidents")
    assert len(first["incidents"]) == 100
    rest = await h.get(first["next"])
    assert [i["id"] for i in rest["incidents"]] == [1]
    assert rest["next"] is None


async def test_filters_by_priority_and_time_and_keep_them_in_the_next_link(make_harness):
    h = await make_harness(BASE)
    await seven_incidents(h)
    p1 = await h.get("/api/v1/incidents?priority=P1&limit=2")
    assert [i["id"] for i in p1["incidents"]] == [6, 4]
    assert "priority=P1" in p1["next"]
    assert [i["id"] for i in (await h.get(p1["next"]))["incidents"]] == [2]
    both = await h.get("/api/v1/incidents?priority=P1,P2&priority=P9")
    assert len(both["incidents"]) == 7
    window = "since=2026-01-05T09:02:00Z&until=2026-01-05T09:05:00Z"
    timed = await h.get(f"/api/v1/incidents?{window}")
    assert [i["id"] for i in timed["incidents"]] == [5, 4, 3]  # [since, until)
    await h.post("/api/v1/incidents/5/ack")
    acked = await h.get(f"/api/v1/incidents?{window}&state=acknowledged")
    assert [i["id"] for i in acked["incidents"]] == [5]


async def test_bad_list_parameters_are_400_naming_the_parameter(make_harness):
    h = await make_harness(BASE)
    for query, message in [
        ("limit=0", "limit: Input should be greater than or equal to 1"),
        ("limit=501", "limit: Input should be less than or equal to 500"),
        ("limit=ten", "limit: 'ten' is not a number"),
        ("before=x", "before: 'x' is not a number"),
        ("before=99999999999999999999", "before: Input should be less than or equal to"),
        ("priority=%00", "priority.0: must not contain a NUL"),
        ("since=yesterday", "since: 'yesterday' is not an ISO-8601 time"),
        ("until=2026-01-05T09:00:00", "until: '2026-01-05T09:00:00' needs an offset"),
        ("state=done", "state: Input should be 'open', 'triggered', 'acknowledged' or"),
    ]:
        answer = await h.get(f"/api/v1/incidents?{query}", status=400)
        assert message in answer["error"], (query, answer)
