"""`pager report`: its figures against incidents seeded at known times, whose
MTTA, MTTR, pages and out-of-hours counts are worked out by hand below.

The policy is part 2's console policy: alice (London) has primary in even
weeks from 5 January, carol (UTC) in odd ones; bob (London) is level 2 after
5 minutes; everyone's working hours are the default, Mon-Fri 09:00-17:00 in
their own zone (London is on GMT until 29 March, so London = UTC here).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.api.test_oncall import cli
from tests.web.part2 import PART2_POLICY

NOW = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)  # --since 30d: from 23 Feb 12:00
FYIS = ("OPENED", "ACKNOWLEDGED", "RESOLVED")  # what the P1 stakeholder hears


def at(day: int, hour: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


async def seed(h) -> dict[str, int]:
    """Four incidents in the period and one before it."""
    ids = {}
    h.clock.set(at(20, 10, month=2))  # E: before the period, not counted
    ids["E"] = await h.fire("alertname=Early", "severity=critical")
    await h.settle()
    await h.post(f"/api/v1/incidents/{ids['E']}/resolve", {"by": "alice"})
    await h.settle()
    h.notifier.expect_each(
        ("alice", "sms", "#1 Early"), ("frank", "sms", "#1 OPENED"), ("frank", "sms", "#1 RESOLVED")
    )
    for name, start, ack, fixed in (
        ("A", at(2, 10), 4, 30),  # Mon 10:00, alice's week: SMS + call in hours
        ("B", at(7, 3), 10, 70),  # Sat 03:00: SMS + call to alice, SMS to bob at 03:05
        ("D", at(18, 22), 2, 20),  # Wed 22:00: SMS + call to alice, out of hours
    ):
        h.clock.set(start)
        ids[name] = await h.fire(f"alertname={name}", "severity=critical")
        await h.fast_forward(timedelta(minutes=ack))
        await h.post(f"/api/v1/incidents/{ids[name]}/ack", {"by": "alice"})
        await h.fast_forward(timedelta(minutes=fixed - ack))
        await h.post(f"/api/v1/incidents/{ids[name]}/resolve", {"by": "alice"})
        await h.settle()
        n = f"#{ids[name]}"  # the stakeholder frank hears of each step, alice resolved it
        h.notifier.expect_each(("alice", "sms", f"{n} {name}"), ("alice", "voice", name))
        h.notifier.expect_each(*[("frank", "sms", f"{n} {s}") for s in FYIS])
        if name == "B":
            h.notifier.expect("bob", "sms", f"{n} B")
    h.clock.set(at(10, 14))  # C: Tue 14:00, carol's week; a P2 nobody acknowledged
    ids["C"] = await h.fire("alertname=C", "severity=warning")
    await h.fast_forward(timedelta(minutes=6))  # bob paged at 14:05 (level 2)
    await h.fire("alertname=C", "severity=warning", status="resolved")
    await h.settle()
    h.notifier.expect_each(("carol", "sms", f"#{ids['C']} C"), ("bob", "sms", f"#{ids['C']} C"))
    h.clock.set(NOW)
    return ids


async def test_report_figures_match_the_hand_computed_ones(make_harness):
    h = await make_harness(PART2_POLICY)
    ids = await seed(h)
    code, out = await cli(h, "report", "--since", "30d", "--json")
    assert code == 0, out
    r = json.loads(out)
    assert r["incidents"] == 4
    assert r["in_maintenance"] == 0
    p1, p2 = r["priorities"]
    assert (p1["priority"], p1["incidents"]) == ("P1", 3)
    # MTTA 4, 10 and 2 minutes: median 4 min; p90 by nearest rank, the 3rd of 3: 10 min.
    assert p1["mtta"] == {"count": 3, "median_seconds": 240.0, "p90_seconds": 600.0}
    # MTTR 30, 70 and 20 minutes.
    assert p1["mttr"] == {"count": 3, "median_seconds": 1800.0, "p90_seconds": 4200.0}
    assert p2 == {
        "priority": "P2",
        "incidents": 1,
        "mtta": {"count": 0, "median_seconds": None, "p90_seconds": None},
        "mttr": {"count": 1, "median_seconds": 360.0, "p90_seconds": 360.0},
    }
    assert [(w["start"], w["incidents"]) for w in r["weeks"]] == [
        ("2026-02-23", 0),
        ("2026-03-02", 2),
        ("2026-03-09", 1),
        ("2026-03-16", 1),
        ("2026-03-23", 0),
    ]
    people = {p["person"]: p for p in r["people"]}
    # alice: A's SMS and call (in hours), B's and D's (out): 6 pages, 4 out of hours.
    assert (people["alice"]["pages"], people["alice"]["out_of_hours"]) == (6, 4)
    # bob: B's SMS on a Saturday (out), C's on a Tuesday at 14:05 (in).
    assert (people["bob"]["pages"], people["bob"]["out_of_hours"]) == (2, 1)
    assert (people["carol"]["pages"], people["carol"]["out_of_hours"]) == (1, 0)
    # alice held A 26 min, B 60 min, D 18 min: 104 min of the 30 days.
    assert people["alice"]["incident_seconds"] == 104 * 60
    assert abs(people["alice"]["incident_share"] - 104 / (30 * 24 * 60)) < 1e-12
    assert people["bob"]["incident_seconds"] == 0
    assert [(n["id"], n["lasted_seconds"]) for n in r["noise"]] == [(ids["C"], 360.0)]
    assert [(x["rule"], x["incidents"], x["noise"], x["pages"]) for x in r["rules"]] == [
        ('rules[0]: severity="critical"', 3, 0, 7),
        ("default", 1, 1, 2),
    ]


async def test_report_as_text_and_its_refusals(make_harness):
    h = await make_harness(PART2_POLICY)
    await seed(h)
    code, out = await cli(h, "report")
    assert code == 0, out
    assert "4 incidents" in out
    assert any(line.split()[:4] == ["P1", "3", "4m00s", "10m00s"] for line in out.splitlines())
    assert "alice" in out
    assert "Noise candidates (resolved before anyone acknowledged): 1" in out
    code, out = await cli(h, "report", "--since", "400d")
    assert code == 1
    assert "not between 1s and 366d" in out
    code, out = await cli(h, "report", "--since", "yesterday")
    assert code == 1
    assert "neither a duration like 30d nor an ISO time" in out
    await h.get("/api/v1/report?since=2026-03-01T00:00:00", status=400)  # no offset
    found = await h.get("/api/v1/report?since=2026-03-10T00:00:00Z")
    assert found["incidents"] == 2  # C and D
