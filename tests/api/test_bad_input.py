"""Bad input to the admin API is a 400 that names the field and changes nothing,
on SQLite and PostgreSQL alike (issue 12: ids past the integer columns,
instants that overflow, `by` that is no string, too long or no person, NUL
characters PostgreSQL cannot store; each was a 500 on one database or both)."""

from __future__ import annotations

import json

import pytest

from tests.harness import API_TOKEN, Harness
from tests.scenario.policies import BASE
from tests.snapshot import snapshot

HUGE = "9223372036854775808"  # 2**63: past every integer column
OVERRIDE = {
    "rotation": "primary",
    "person": "bob",
    "start": "2026-01-06T00:00:00Z",
    "end": "2026-01-07T00:00:00Z",
}
WINDOW = {"matchers": ['service="api"'], "end": "2026-01-06T00:00:00Z"}
ITEM = {"title": "add an alert", "owner": "alice", "due": "2026-02-01T00:00:00Z"}


async def send(h: Harness, method: str, path: str, body: object = None) -> tuple[int, str]:
    data = body if isinstance(body, bytes) else None if body is None else json.dumps(body)
    resp = await h.client.request(
        method, path, data=data, headers={"Authorization": f"Bearer {API_TOKEN}"}
    )
    answer = await resp.json()
    return resp.status, answer.get("error", "")


CASES = [
    # ids in the path
    ("POST", f"/api/v1/incidents/{HUGE}/ack", None, f"incident id '{HUGE}' is out of range"),
    ("GET", "/api/v1/incidents/99999999999999999999", None, "is out of range"),
    ("POST", "/api/v1/incidents/%C2%B2/resolve", None, "incident id '²' is not a number"),
    ("DELETE", f"/api/v1/overrides/{HUGE}", None, "override id"),
    ("PATCH", f"/api/v1/actions/{HUGE}", {"state": "done"}, "action item id"),
    # instants
    ("POST", "/api/v1/overrides", {**OVERRIDE, "start": "0001-01-01T00:00:00+14:00"}, "start:"),
    ("POST", "/api/v1/maintenance", {**WINDOW, "end": "9999-12-31T23:59:59-14:00"}, "end:"),
    ("GET", "/api/v1/oncall?at=0001-01-01T00:00:00%2B14:00", None, "at:"),
    ("POST", "/api/v1/incidents/1/actions", {**ITEM, "due": 20260201}, "due:"),
    # by: a string, short enough, a person
    ("POST", "/api/v1/incidents/1/ack", {"by": 5}, "by: Input should be a valid string"),
    ("POST", "/api/v1/incidents/1/ack", {"by": ["alice"]}, "by: Input should be a valid string"),
    ("POST", "/api/v1/incidents/1/escalate", {"by": "a" * 129}, "by: String should have at most"),
    ("POST", "/api/v1/incidents/1/resolve", {"by": "zed"}, "by: 'zed' is not a person"),
    ("POST", "/api/v1/maintenance", {**WINDOW, "by": {"id": "alice"}}, "by:"),
    ("POST", "/api/v1/overrides", {**OVERRIDE, "by": 7}, "by:"),
    ("POST", "/api/v1/incidents/1/updates", {"text": "ok", "by": "zed"}, "by: 'zed'"),
    ("POST", "/api/v1/incidents/1/review", {"by": "nobody"}, "by: 'nobody'"),
    # NUL characters, which PostgreSQL cannot store
    ("POST", "/api/v1/maintenance", {**WINDOW, "reason": "a\x00b"}, "reason: must not contain"),
    ("POST", "/api/v1/overrides", {**OVERRIDE, "note": "\x00"}, "note: must not contain a NUL"),
    ("POST", "/api/v1/incidents/1/updates", {"text": "rolled\x00back"}, "text: must not contain"),
    ("POST", "/api/v1/incidents/1/actions", {**ITEM, "title": "x\x00"}, "title: must not"),
    ("POST", "/api/v1/maintenance", {**WINDOW, "matchers": ['a="\x00"']}, "matchers.0:"),
    ("GET", "/api/v1/actions?owner=%00", None, "owner: must not contain a NUL"),
    ("GET", "/api/v1/overrides?rotation=%00", None, "rotation: must not contain a NUL"),
    # bodies
    ("POST", "/api/v1/incidents/1/ack", {"by": "alice", "colour": "red"}, "colour: Extra inputs"),
    ("POST", "/api/v1/incidents/1/ack", b"[" * 100_000, "body is not valid JSON"),
    ("POST", "/api/v1/incidents/1/ack", b"\xff\xfe", "body is not valid JSON"),
    ("POST", "/api/v1/drills", {"by": "a\x00"}, "by: must not contain a NUL"),
    ("POST", "/api/v1/explain", {"labels": {"a": 1}}, "labels.a: Input should be a valid string"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "message"), CASES, ids=[f"{c[0]} {c[1]} {c[3]}" for c in CASES]
)
async def test_bad_admin_input_is_400_and_changes_nothing(
    make_harness, method, path, body, message
):
    h = await make_harness(BASE)
    incident = await h.fire("alertname=Down", "severity=critical")
    await h.settle()
    assert incident == 1
    h.notifier.expect("alice", "sms", "Down")
    before = await snapshot(h.pager.db)

    status, error = await send(h, method, path, body)

    assert (status, message in error) == (400, True), error
    assert await snapshot(h.pager.db) == before
    h.notifier.assert_no_more()  # and paged nobody


async def test_by_names_a_person_and_is_recorded(make_harness):
    h = await make_harness(BASE)
    incident = await h.fire("alertname=Down", "severity=critical")
    await h.post(f"/api/v1/incidents/{incident}/ack", {"by": " bob "})
    detail = await h.incident(incident)
    assert (detail["state"], detail["acked_by"]) == ("acknowledged", "bob")
    await h.post(f"/api/v1/incidents/{incident}/resolve", {})  # by stays optional
    assert (await h.incident(incident))["state"] == "resolved"
