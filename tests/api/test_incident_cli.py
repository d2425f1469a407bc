"""`pager incidents`, `ack`, `resolve`, `escalate` and `update` against the running app."""

from __future__ import annotations

import json

from click.testing import CliRunner

from pager.cli import main
from tests.api.test_oncall import cli
from tests.scenario.policies import BASE

CRITICAL = ("alertname=ApiDown", "severity=critical", "service=api")


async def test_incidents_lists_newest_first_with_filters(make_harness):
    h = await make_harness(BASE)
    first = await h.fire(*CRITICAL)
    second = await h.fire("alertname=DiskFull", "severity=warning")
    code, out = await cli(h, "incidents")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].split() == ["id", "priority", "state", "opened", "(UTC)", "by", "title"]
    assert [line.split()[0] for line in lines[2:]] == [f"#{second}", f"#{first}"]
    code, out = await cli(h, "incidents", "--priority", "P1", "--json")
    assert code == 0, out
    assert [i["id"] for i in json.loads(out)["incidents"]] == [first]
    code, out = await cli(h, "incidents", "--state", "resolved")
    assert (code, out.strip()) == (0, "no incidents")


async def test_incidents_follows_pages_up_to_the_limit(make_harness):
    h = await make_harness(BASE)
    ids = [await h.fire(f"alertname=A{n}") for n in range(3)]
    code, out = await cli(h, "incidents", "--limit", "2", "--json")
    assert code == 0, out
    assert [i["id"] for i in json.loads(out)["incidents"]] == ids[:0:-1]


async def test_ack_escalate_update_resolve_by_the_cli(make_harness):
    h = await make_harness(BASE)
    incident = await h.fire(*CRITICAL)
    await h.settle()
    h.notifier.expect("alice", "sms", f"#{incident}")
    code, out = await cli(h, "ack", str(incident), "--by", "alice")
    assert (code, out.strip()) == (0, f"#{incident} acknowledged by alice")
    code, out = await cli(h, "update", str(incident), "rolled back", "--json")
    assert code == 0, out
    assert json.loads(out) == {"id": incident, "status": "posted"}
    code, out = await cli(h, "escalate", str(incident), "--by", "alice")
    assert (code, out.strip()) == (0, f"#{incident} escalated by alice")
    await h.settle()
    h.notifier.expect("bob", "sms", f"#{incident}")  # level 2, at once
    code, out = await cli(h, "resolve", str(incident), "--by", "bob", "--json")
    assert json.loads(out) == {"id": incident, "status": "resolved"}
    detail = await h.incident(incident)
    assert (detail["state"], detail["resolved_by"]) == ("resolved", "bob")
    for kind in ("acknowledged", "status_update", "escalate_requested", "resolved"):
        assert await h.via(incident, kind) == ["cli"], kind
    await h.settle()
    h.notifier.expect("alice", "sms", "RESOLVED")  # notify_on_resolve
    h.notifier.assert_no_more()


async def test_cli_errors_are_one_line_and_exit_1(make_harness):
    h = await make_harness(BASE)
    incident = await h.fire(*CRITICAL)
    await cli(h, "resolve", str(incident))
    code, out = await cli(h, "ack", str(incident))
    assert code == 1
    assert (
        out.strip()
        == f"Error: 409: incident {incident} cannot be acknowledged in its current state"
    )
    code, out = await cli(h, "ack", "999")
    assert (code, out.strip()) == (1, "Error: 404: no incident 999")


def test_shell_completion_completes_the_commands():
    script = CliRunner().invoke(main, [], prog_name="pager", env={"_PAGER_COMPLETE": "bash_source"})
    assert script.exit_code == 0
    assert "_pager_completion()" in script.output
    env = {"_PAGER_COMPLETE": "bash_complete", "COMP_WORDS": "pager a", "COMP_CWORD": "1"}
    words = CliRunner().invoke(main, [], prog_name="pager", env=env)
    assert words.output.split() == ["plain,ack", "plain,actions"]
