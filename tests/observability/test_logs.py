"""Logs: JSON lines when not a tty, stable keys on notification lines, phone
numbers masked to the last 4 digits, and no token ever written."""

from __future__ import annotations

import json
import logging
from typing import Any

from pager.logs import JsonFormatter, TextFormatter, mask, setup_logging
from tests.fakes.fake_twilio import DEFAULT_SID, DEFAULT_TOKEN, FakeTwilio
from tests.harness import WEBHOOK_TOKEN
from tests.observability.daemon import Daemon
from tests.polling import eventually
from tests.scenario.policies import BASE

STABLE_KEYS = {"incident_id", "notification_id", "person", "step"}
PHONES = ("+15550100001", "+15550100002", "+15550109999")


def record(msg: str, **extra: Any) -> logging.LogRecord:
    rec = logging.makeLogRecord({"name": "pager.test", "levelname": "INFO", "msg": msg})
    rec.__dict__.update(extra)
    return rec


def test_json_line_has_the_extra_keys_and_masks_phones() -> None:
    line = JsonFormatter().format(
        record("paging +15550100001", incident_id=4, notification_id=9, person="alice", step=2)
    )
    data = json.loads(line)
    assert data["msg"] == "paging +*******0001"
    assert {k: data[k] for k in STABLE_KEYS} == {
        "incident_id": 4,
        "notification_id": 9,
        "person": "alice",
        "step": 2,
    }
    assert {"ts", "level", "logger"} <= data.keys()


def test_text_lines_are_masked_too() -> None:
    line = TextFormatter("%(message)s").format(record("to +447700900123", phone="+447700900123"))
    assert "+447700900123" not in line
    assert line.count("0123") == 2


def test_mask_keeps_only_the_last_four_digits() -> None:
    assert mask("+15550100001 and +15550100002") == "+*******0001 and +*******0002"
    assert mask("incident 12345") == "incident 12345"  # not a phone number


def test_setup_logging_writes_masked_json_when_not_a_tty(capsys) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        setup_logging(None)  # the format follows stderr, which is not a tty here
        logging.getLogger("pager.test").warning(
            "paging %s", "+15550100001", extra={"incident_id": 3, "person": "alice"}
        )
    finally:
        root.handlers[:], root.level = handlers, level
    [line] = capsys.readouterr().err.splitlines()
    data = json.loads(line)
    assert data["msg"] == "paging +*******0001"
    assert (data["incident_id"], data["person"]) == (3, "alice")


async def test_notification_lines_carry_the_stable_keys(make_harness, caplog):
    h = await make_harness(BASE)
    with caplog.at_level(logging.INFO, logger="pager.engine.sender"):
        await h.fire("alertname=Down", "severity=critical")
        await h.settle()
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records]
    sent = [line for line in lines if line["msg"] == "notification sent"]
    assert sent
    assert all(line.keys() >= STABLE_KEYS for line in sent)
    assert sent[0]["person"] == "alice"
    h.notifier.expect("alice", "sms", "#1 Down")


async def test_a_daemon_with_tokens_logs_json_and_no_secrets(tmp_path):
    fake = await FakeTwilio().start()
    secrets = {
        "PAGER_WEBHOOK_TOKEN": "hook-" + "s3cr3t-w3bh00k-t0k3n",
        "PAGER_API_TOKEN": "api-" + "s3cr3t-4p1-t0k3n",
        "TWILIO_AUTH_TOKEN": DEFAULT_TOKEN,
    }
    daemon = await Daemon.start(
        tmp_path,
        BASE,
        TWILIO_ACCOUNT_SID=DEFAULT_SID,
        PAGER_TWILIO_FROM=PHONES[2],
        PAGER_TWILIO_API_URL=fake.url,
        **secrets,
    )
    try:
        alert = {"summary": "disk full", "labels": {"severity": "critical", "job": "db"}}
        token = secrets["PAGER_WEBHOOK_TOKEN"]
        assert (await daemon.request("POST", "/api/v1/alerts", alert, token=token))[0] == 200
        assert (await daemon.request("POST", "/api/v1/alerts", alert, token=WEBHOOK_TOKEN))[
            0
        ] == 401
        await eventually(lambda: "notification sent" in daemon.output())
    finally:
        output = daemon.stop()
        await fake.close()
    assert fake.requests, "the daemon never reached FakeTwilio"
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    sent = [line for line in lines if line["msg"] == "notification sent"]
    assert all(line.keys() >= STABLE_KEYS for line in sent)
    for secret in (*secrets.values(), WEBHOOK_TOKEN):
        assert secret not in output
    for phone in PHONES:
        assert phone not in output
