"""GET /api/v1/oncall, overrides, and `pager oncall` against the running daemon."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from click.testing import CliRunner

from pager.cli import main
from tests.harness import API_TOKEN, Harness
from tests.scenario.policies import BASE

# BASE: primary = [alice, carol], weekly from Mon 2026-01-05 00:00 UTC; the clock starts
# Mon 2026-01-05 09:00 UTC, so alice is on call until Mon 01-12 00:00, then carol.


async def test_oncall_now_and_next(make_harness):
    h = await make_harness(BASE)
    data = await h.get("/api/v1/oncall")
    primary = next(r for r in data["rotations"] if r["rotation"] == "primary")
    assert (primary["person"], primary["next_person"]) == ("alice", "carol")
    assert (primary["since"], primary["until"]) == (
        "2026-01-05T00:00:00+00:00",
        "2026-01-12T00:00:00+00:00",
    )
    nobody = next(r for r in data["rotations"] if r["rotation"] == "nobody")
    assert nobody["person"] is None
    platform = next(e for e in data["escalation_policies"] if e["escalation"] == "platform")
    assert [lv["people"] for lv in platform["levels"]] == [["alice"], ["bob"], ["erin"]]


async def test_oncall_at_a_later_time(make_harness):
    h = await make_harness(BASE)
    data = await h.get("/api/v1/oncall?at=2026-01-13T12:00:00Z&rotation=primary")
    assert [r["person"] for r in data["rotations"]] == ["carol"]


async def test_override_replaces_the_rotation_and_pages_the_override(make_harness):
    h = await make_harness(BASE)
    created = await h.post(
        "/api/v1/overrides",
        {
            "rotation": "primary",
            "person": "bob",
            "start": "2026-01-05T08:00:00Z",
            "end": "2026-01-05T20:00:00Z",
            "note": "alice at the dentist",
        },
        status=201,
    )
    data = await h.get("/api/v1/oncall?rotation=primary")
    assert data["rotations"][0]["person"] == "bob"
    assert data["rotations"][0]["scheduled"] == "alice"
    await h.fire("alertname=Down", "severity=critical")
    await h.settle()
    h.notifier.expect("bob", "sms", "Down")
    h.notifier.assert_no_more()
    await h.client.delete(
        f"/api/v1/overrides/{created['id']}", headers={"Authorization": f"Bearer {API_TOKEN}"}
    )
    data = await h.get("/api/v1/oncall?rotation=primary")
    assert data["rotations"][0]["person"] == "alice"


async def test_overlapping_override_is_409(make_harness):
    h = await make_harness(BASE)
    first = {
        "rotation": "primary",
        "person": "bob",
        "start": "2026-01-06T00:00:00Z",
        "end": "2026-01-07T00:00:00Z",
    }
    await h.post("/api/v1/overrides", first, status=201)
    clash = {
        **first,
        "person": "erin",
        "start": "2026-01-06T12:00:00Z",
        "end": "2026-01-08T00:00:00Z",
    }
    body = await h.post("/api/v1/overrides", clash, status=409)
    assert "overlaps an override of bob" in body["error"]
    later = {**first, "start": "2026-01-07T00:00:00Z", "end": "2026-01-08T00:00:00Z"}
    await h.post("/api/v1/overrides", later, status=201)  # touching is not overlapping
    listed = await h.get("/api/v1/overrides")
    assert [o["person"] for o in listed["overrides"]] == ["bob", "bob"]


async def test_override_bad_input(make_harness):
    h = await make_harness(BASE)
    base = {
        "rotation": "primary",
        "person": "bob",
        "start": "2026-01-06T00:00:00Z",
        "end": "2026-01-07T00:00:00Z",
    }
    cases = [
        ({**base, "rotation": "nope"}, 404, "no rotation 'nope'"),
        ({**base, "start": "tomorrow"}, 400, "start: 'tomorrow' is not an ISO-8601 time"),
        ({**base, "end": "2026-01-05T00:00:00Z"}, 400, "end must be after start"),
        ({**base, "person": "zed"}, 400, "person: 'zed' is not a person in the policy"),
        ({**base, "replaces": "bob"}, 400, "'bob' is not a member of primary"),
    ]
    for body, status, message in cases:
        answer = await h.post("/api/v1/overrides", body, status=status)
        assert message in answer["error"], (body, answer)
    assert (await h.get("/api/v1/overrides"))["overrides"] == []
    assert "is not an ISO-8601" in (await h.get("/api/v1/oncall?at=soon", status=400))["error"]
    await h.get("/api/v1/oncall?rotation=nope", status=404)
    resp = await h.client.delete(
        "/api/v1/overrides/999", headers={"Authorization": f"Bearer {API_TOKEN}"}
    )
    assert resp.status == 404


async def test_override_times_without_an_offset_are_read_in_the_rotation_zone(make_harness):
    london = BASE.replace("{id: primary, timezone: UTC", "{id: primary, timezone: Europe/London")
    h = await make_harness(london)
    cases = [
        ("2026-07-01T09:00", "2026-07-01T17:00", "2026-07-01T08:00:00+00:00"),  # BST
        ("2026-01-20T09:00", "2026-01-20T17:00", "2026-01-20T09:00:00+00:00"),  # GMT
        # 29 March 2026: 01:00-02:00 does not exist; 01:30 starts at 02:00 BST
        ("2026-03-29T01:30", "2026-03-29T03:00", "2026-03-29T01:00:00+00:00"),
        # 25 October 2026: 01:00-02:00 happens twice; 01:30 is the first (BST)
        ("2026-10-25T01:30", "2026-10-25T03:00", "2026-10-25T00:30:00+00:00"),
        ("2026-08-01T09:00+02:00", "2026-08-01T10:00Z", "2026-08-01T07:00:00+00:00"),
    ]
    for start, end, stored in cases:
        body = {"rotation": "primary", "person": "bob", "start": start, "end": end}
        created = await h.post("/api/v1/overrides", body, status=201)
        assert created["start"] == stored, (start, created)
    covered = await h.get("/api/v1/oncall?rotation=primary&at=2026-07-01T08:30:00Z")
    assert covered["rotations"][0]["person"] == "bob"
    still_alice = await h.get("/api/v1/oncall?rotation=primary&at=2026-07-01T07:59:00Z")
    assert still_alice["rotations"][0]["person"] != "bob"


async def cli(h: Harness, *args: str) -> tuple[int, str]:
    env = {"PAGER_URL": str(h.client.make_url("")).rstrip("/"), "PAGER_API_TOKEN": API_TOKEN}
    result = await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)
    return result.exit_code, result.output


async def test_cli_oncall_prints_a_table(make_harness):
    h = await make_harness(BASE)
    code, out = await cli(h, "oncall")
    assert code == 0, out
    line = next(x for x in out.splitlines() if x.startswith("primary"))
    assert line.split()[:3] == ["primary", "UTC", "alice"]
    assert "carol" in line
    assert any(x.split()[:3] == ["platform", "2", "rotation:secondary"] for x in out.splitlines())
    code, out = await cli(h, "oncall", "--at", "2026-01-13T12:00:00Z", "--rotation", "primary")
    assert code == 0
    assert "carol" in out.splitlines()[-1]


async def test_cli_oncall_labels_every_column_and_shows_local_time(make_harness):
    berlin = BASE.replace("{id: primary, timezone: UTC", "{id: primary, timezone: Europe/Berlin")
    h = await make_harness(berlin)
    await h.post(
        "/api/v1/overrides",
        {
            "rotation": "secondary",
            "person": "erin",
            "start": "2026-01-05T08:00:00Z",
            "end": "2026-01-05T20:00:00Z",
        },
        status=201,
    )
    code, out = await cli(h, "oncall")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "On call at 2026-01-05 09:00 UTC"
    header = next(x for x in lines if x.startswith("rotation"))
    assert header.split() == [
        "rotation",
        "zone",
        "on",
        "call",
        "since",
        "until",
        "next",
        "override",
    ]
    primary = next(x for x in lines if x.startswith("primary"))
    # Berlin's midnight handoff is 23:00 UTC the day before, in winter
    assert "2026-01-04 23:00 UTC (Mon 00:00 CET)" in primary
    assert "2026-01-11 23:00 UTC (Mon 00:00 CET)" in primary
    assert primary.rstrip().endswith(" -")
    secondary = next(x for x in lines if x.startswith("secondary"))
    assert secondary.split()[:3] == ["secondary", "UTC", "erin"]
    assert secondary.rstrip().endswith("instead of bob")


async def test_cli_reports_daemon_errors(make_harness):
    h = await make_harness(BASE)
    code, out = await cli(h, "oncall", "--rotation", "nope")
    assert code == 1
    assert "404: no rotation 'nope'" in out


async def test_past_times_are_answered_with_the_policy_running_then(make_harness, tmp_path):
    h = await make_harness(BASE)  # loaded Mon 09:00: secondary = [bob]
    h.clock.advance(timedelta(days=1))
    (tmp_path / "policies" / "policy.yaml").write_text(
        BASE.replace("members: [bob]", "members: [carol]")
    )
    await h.post("/-/reload")  # Tue 09:00: secondary = [carol]
    now = await h.get("/api/v1/oncall?rotation=secondary")
    past = await h.get("/api/v1/oncall?rotation=secondary&at=2026-01-05T12:00:00Z")
    assert now["rotations"][0]["person"] == "carol"
    assert past["rotations"][0]["person"] == "bob"
    assert past["policy_version"] < now["policy_version"]
