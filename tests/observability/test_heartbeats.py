"""Heartbeats (dead man's switches): pings keep them quiet, silence pages.

FakeClock scenarios on both databases, the pure decision as properties, and
the real Alertmanager re-sending an always-firing Watchdog.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pager.core.heartbeat import Decision, HeartbeatDef, decide, declared, rule_heartbeat_name
from pager.policy.model import Policy, Rule
from tests.e2e.alertmanager import Alertmanager
from tests.harness import WEBHOOK_TOKEN, Harness
from tests.observability.policies import HEARTBEATS
from tests.polling import eventually

AM = "/api/v1/alerts/alertmanager"
ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def watchdog(status: str = "firing") -> dict[str, Any]:
    labels = {"alertname": "Watchdog", "severity": "none"}
    alert = {
        "status": status,
        "labels": labels,
        "annotations": {"summary": "the pipeline is alive"},
        "startsAt": "2026-01-05T09:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": "a1b2c3d4e5f60718",
    }
    return {
        "version": "4",
        "status": status,
        "receiver": "pager",
        "groupKey": '{}:{alertname="Watchdog"}',
        "alerts": [alert],
    }


async def incidents(h: Harness, heartbeat: str = "Watchdog") -> list[dict[str, Any]]:
    """Incidents, newest first, but those of other heartbeats (silent all along)."""
    found = (await h.get("/api/v1/incidents"))["incidents"]
    others = {f"Heartbeat {n} missing" for n in ("Watchdog", "backup")} - {
        f"Heartbeat {heartbeat} missing"
    }
    return [i for i in found if i["title"] not in others]


def last_seen(h: Harness, name: str) -> float | None:
    return h.pager.metrics.registry.get_sample_value(
        "pager_heartbeat_last_seen_timestamp_seconds", {"name": name}
    )


def escalated(what: str) -> list[tuple[str, str, str]]:
    """The pages of a P1 nobody acknowledges, through the platform policy's three
    levels twice (repeat: 1): alice by SMS and then voice, bob, erin."""
    once = [("alice", "sms", what), ("alice", "voice", what), ("bob", "sms", what)]
    return [*once, ("erin", "sms", what)] * 2


def opened(h: Harness, priority: str) -> float:
    value = h.pager.metrics.registry.get_sample_value(
        "pager_incidents_opened_total", {"priority": priority}
    )
    return value or 0.0


# --- FakeClock scenarios ------------------------------------------------------


async def test_watchdog_pings_keep_it_quiet_and_open_no_incident(make_harness):
    h = await make_harness(HEARTBEATS)
    for _ in range(6):  # 24 minutes, a ping every 4
        answer = await h.post(AM, watchdog(), token=WEBHOOK_TOKEN)
        assert answer["incidents"] == []
        await h.fast_forward(minutes=4)
    assert await incidents(h) == []
    assert last_seen(h, "Watchdog") == (T0 + timedelta(minutes=20)).timestamp()
    h.notifier.assert_no_more()


async def test_silence_opens_one_incident_and_the_next_ping_resolves_it(make_harness):
    h = await make_harness(HEARTBEATS)
    await h.post(AM, watchdog(), token=WEBHOOK_TOKEN)
    await h.fast_forward(timedelta(minutes=5) - timedelta(seconds=1))
    assert await incidents(h) == []

    await h.fast_forward(seconds=1)  # exactly expect_every after the last ping
    [incident] = await incidents(h)
    assert incident["title"] == "Heartbeat Watchdog missing"
    assert incident["priority"] == "P1"
    assert incident["source"] == "heartbeat"
    h.notifier.expect("alice", "sms", "Heartbeat Watchdog missing")
    assert "heartbeat_missing" in await h.events(incident["id"])
    assert opened(h, "P1") == 1

    await h.fast_forward(hours=2)  # still silent: the same incident, no second one
    assert [i["id"] for i in await incidents(h)] == [incident["id"]]
    h.notifier.expect_each(*escalated("Watchdog missing")[1:])  # its sms was expected above
    # and the never-pinged backup heartbeat (every 1h, P2, SMS only) was missed at 1h
    h.notifier.expect_each(*[(p, "sms", "backup missing") for p in ("alice", "bob", "erin")] * 2)

    answer = await h.post(AM, watchdog(), token=WEBHOOK_TOKEN)
    assert answer["incidents_resolved"] == [incident["id"]]
    detail = await h.incident(incident["id"])
    assert detail["state"] == "resolved"
    kinds = [e["kind"] for e in detail["timeline"]]
    assert kinds.index("heartbeat_back") < kinds.index("resolved")
    assert opened(h, "P1") == 1


async def test_a_second_silence_opens_a_new_incident(make_harness):
    h = await make_harness(HEARTBEATS)
    await h.fast_forward(minutes=5)  # never pinged: counts from the start
    [first] = await incidents(h)
    await h.post(AM, watchdog(), token=WEBHOOK_TOKEN)
    await h.fast_forward(minutes=5)
    found = await incidents(h)
    assert len(found) == 2
    assert found[0]["id"] != first["id"]
    assert found[0]["state"] == "triggered"
    h.notifier.expect("alice", "sms", f"#{first['id']} Heartbeat Watchdog missing")
    h.notifier.expect("alice", "sms", f"#{first['id']} RESOLVED")  # the ping resolved it
    h.notifier.expect("alice", "sms", f"#{found[0]['id']} Heartbeat Watchdog missing")


async def test_never_pinged_counts_from_the_start(make_harness):
    h = await make_harness(HEARTBEATS)
    await h.fast_forward(timedelta(minutes=5) - timedelta(seconds=1))
    assert await incidents(h) == []
    assert last_seen(h, "Watchdog") == 0  # the series exists before the first ping
    await h.fast_forward(seconds=1)
    assert [i["title"] for i in await incidents(h)] == ["Heartbeat Watchdog missing"]
    h.notifier.expect("alice", "sms", "Heartbeat Watchdog missing")


async def test_wait_for_first_ping_is_silent_until_the_first_ping(make_harness):
    # both kinds: the Watchdog rule, and the `heartbeats:` entry "backup"
    policy = re.sub(
        r"(expect_every: .*escalation: platform)}", r"\1, wait_for_first_ping: true}", HEARTBEATS
    )
    h = await make_harness(policy)
    await h.fast_forward(hours=6)  # never pinged: not watched, nobody paged
    assert await incidents(h) == []
    h.notifier.assert_no_more()
    await h.post(AM, watchdog(), token=WEBHOOK_TOKEN)  # from now on, it counts
    await h.fast_forward(timedelta(minutes=5) - timedelta(seconds=1))
    assert await incidents(h) == []
    await h.fast_forward(seconds=1)
    assert [i["title"] for i in await incidents(h)] == ["Heartbeat Watchdog missing"]
    h.notifier.expect("alice", "sms", "Heartbeat Watchdog missing")


async def test_the_example_policy_pages_nobody_on_a_new_install(make_harness):
    example = "\n".join(p.read_text() for p in sorted((ROOT / "policies").glob("*.yaml")))
    h = await make_harness(example)
    await h.fast_forward(hours=1)  # `make run` left alone for an hour
    assert (await h.get("/api/v1/incidents"))["incidents"] == []
    h.notifier.assert_no_more()


async def test_resolving_by_hand_does_not_reopen_during_the_same_silence(make_harness):
    h = await make_harness(HEARTBEATS)
    await h.fast_forward(minutes=5)
    [incident] = await incidents(h)
    await h.post(f"/api/v1/incidents/{incident['id']}/resolve", {"by": "alice"})
    await h.fast_forward(hours=1)
    assert len(await incidents(h)) == 1
    answer = await h.post(AM, watchdog(), token=WEBHOOK_TOKEN)
    assert answer["incidents_resolved"] == []  # nothing left to resolve
    h.notifier.expect("alice", "sms", "Heartbeat Watchdog missing")  # once: not reopened
    # the never-pinged backup heartbeat (every 1h, P2) missed at 1h, escalated at 1h05
    h.notifier.expect_each(("alice", "sms", "backup missing"), ("bob", "sms", "backup missing"))


async def test_a_resolved_watchdog_is_not_a_ping(make_harness):
    h = await make_harness(HEARTBEATS)
    answer = await h.post(AM, watchdog("resolved"), token=WEBHOOK_TOKEN)
    assert answer["incidents"] == []
    assert last_seen(h, "Watchdog") == 0
    await h.fast_forward(minutes=5)
    assert [i["title"] for i in await incidents(h)] == ["Heartbeat Watchdog missing"]
    h.notifier.expect("alice", "sms", "Heartbeat Watchdog missing")


async def test_http_heartbeat_endpoint(make_harness):
    h = await make_harness(HEARTBEATS)
    await h.fast_forward(minutes=30)
    answer = await h.post("/api/v1/heartbeats/backup", token=WEBHOOK_TOKEN)
    assert answer["heartbeat"] == "backup"
    assert last_seen(h, "backup") == (T0 + timedelta(minutes=30)).timestamp()
    assert (
        h.pager.metrics.registry.get_sample_value(
            "pager_alerts_received_total", {"source": "heartbeat", "status": "firing"}
        )
        == 1
    )

    await h.fast_forward(timedelta(hours=1) - timedelta(seconds=1))
    assert await incidents(h, "backup") == []
    await h.fast_forward(seconds=1)
    [incident] = await incidents(h, "backup")
    assert incident["priority"] == "P2"

    answer = await h.post("/api/v1/heartbeats/backup", token=WEBHOOK_TOKEN)
    assert answer["incidents_resolved"] == [incident["id"]]
    assert (await h.incident(incident["id"]))["state"] == "resolved"
    h.notifier.expect("alice", "sms", f"#{incident['id']} Heartbeat backup missing")
    # the Watchdog rule's heartbeat, never pinged, missed at 5m and escalated meanwhile
    h.notifier.expect_each(*escalated("Watchdog missing"))


async def test_http_heartbeat_errors(make_harness):
    h = await make_harness(HEARTBEATS)
    missing = await h.post("/api/v1/heartbeats/nightly", token=WEBHOOK_TOKEN, status=404)
    assert "nightly" in missing["error"]
    await h.post("/api/v1/heartbeats/backup", token="wrong", status=401)
    await h.post("/api/v1/heartbeats/backup", token=WEBHOOK_TOKEN)
    await h.post("/api/v1/heartbeats/Watchdog", token=WEBHOOK_TOKEN)  # rule heartbeats too
    assert last_seen(h, "backup") == T0.timestamp()


async def test_ping_survives_a_restart(make_harness):
    h = await make_harness(HEARTBEATS)
    await h.post("/api/v1/heartbeats/backup", token=WEBHOOK_TOKEN)
    await h.settle()
    h2 = await make_harness(HEARTBEATS)  # a second process on the same database
    await h2.settle()
    assert last_seen(h2, "backup") == T0.timestamp()


# --- the pure decision ----------------------------------------------------------

BEAT = HeartbeatDef("w", timedelta(minutes=5), "P1", "platform")


def test_rule_heartbeat_names() -> None:
    rule = Rule.model_validate({"matchers": ['alertname="Watchdog"', 'env="prod"']})
    assert rule_heartbeat_name(3, rule) == "Watchdog"
    regex = Rule.model_validate({"matchers": ['alertname=~"Watch.*"']})
    assert rule_heartbeat_name(3, regex) == "rule-3"


def test_declared_first_declaration_wins() -> None:
    policy = Policy.model_validate(
        {
            "rules": [
                {
                    "matchers": ['alertname="backup"'],
                    "heartbeat": {"expect_every": "1m", "priority": "P1", "escalation": "x"},
                }
            ],
            "heartbeats": [
                {"name": "backup", "expect_every": "1h", "priority": "P2", "escalation": "x"}
            ],
        }
    )
    [beat] = declared(policy)
    assert (beat.name, beat.expect_every, beat.rule_index) == ("backup", timedelta(hours=1), None)


@given(
    seen=st.one_of(st.none(), st.integers(0, 3600)),
    now=st.integers(0, 7200),
    raised=st.booleans(),
)
def test_missing_exactly_when_overdue_and_not_raised(seen: int | None, now: int, raised: bool):
    since = T0
    last = None if seen is None else T0 + timedelta(seconds=seen)
    at = T0 + timedelta(seconds=now)
    decision = decide([BEAT], {"w": last}, {"w": 7} if raised else {}, {"w": since}, at)
    due = (last or since) + BEAT.expect_every
    assert bool(decision.missing) == (not raised and at >= due)
    if decision.next_due is not None:
        assert decision.next_due == due > at
    else:
        assert raised or at >= due


def test_a_beat_waiting_for_its_first_ping_is_never_missing_before_it() -> None:
    waiting = HeartbeatDef("w", timedelta(minutes=5), "P1", "platform", wait_for_first_ping=True)
    later = T0 + timedelta(days=3)
    assert decide([waiting], {"w": None}, {}, {"w": T0}, later) == Decision((), None)
    pinged = decide([waiting], {"w": T0}, {}, {"w": T0}, later)
    assert [m.beat.name for m in pinged.missing] == ["w"]


def test_next_due_is_the_earliest_upcoming() -> None:
    slow = HeartbeatDef("s", timedelta(hours=1), "P2", "platform")
    decision = decide([BEAT, slow], {"w": T0, "s": T0}, {}, {}, T0 + timedelta(minutes=1))
    assert decision.missing == ()
    assert decision.next_due == T0 + timedelta(minutes=5)


# --- the real Alertmanager -------------------------------------------------------


@pytest.mark.alertmanager
@pytest.mark.parametrize("db_kind", ["sqlite"])  # about Alertmanager, not the database
async def test_real_alertmanager_watchdog_keeps_it_quiet(make_harness):
    """Alertmanager re-sends the always-firing Watchdog every repeat_interval;
    between its pings the FakeClock moves 4 minutes (expect_every is 5m)."""
    h = await make_harness(HEARTBEATS)
    url = str(h.client.make_url(AM))
    am = await Alertmanager.start(
        url,
        WEBHOOK_TOKEN,
        "--group-wait",
        "0s",
        "--group-interval",
        "1s",
        "--repeat-interval",
        "1s",
    )
    try:
        await am.fire("alertname=Watchdog", "severity=none", summary="pipeline alive")
        for _ in range(2):  # pings at 0m and 4m, the clock then at 8m
            before = received(h)
            await eventually(functools.partial(_more, h, before))
            await h.fast_forward(minutes=4)
        assert await incidents(h) == []
        seen = last_seen(h, "Watchdog")
        assert seen is not None
        assert seen >= (T0 + timedelta(minutes=4)).timestamp()
    finally:
        await am.stop()
    await h.fast_forward(minutes=5)  # Alertmanager gone: the silence pages
    assert [i["title"] for i in await incidents(h)] == ["Heartbeat Watchdog missing"]
    h.notifier.expect_each(*escalated("Watchdog missing")[:2])  # sms, then voice 1m later


def received(h: Harness) -> float:
    value = h.pager.metrics.registry.get_sample_value(
        "pager_alerts_received_total", {"source": "alertmanager", "status": "firing"}
    )
    return value or 0.0


async def _more(h: Harness, before: float) -> bool:
    return received(h) > before
