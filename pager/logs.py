"""Logging: text on a terminal, JSON lines elsewhere, with stable keys.

Keys passed in `extra` (incident_id, notification_id, person, step, ...) become
JSON fields. Phone numbers are masked to their last 4 digits everywhere, and
secrets never reach a log line because nothing logs settings.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

_PHONE = re.compile(r"\+\d{4,}(\d{4})")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def mask(text: str) -> str:
    """`+15550100001` -> `+*******0001`."""
    return _PHONE.sub(lambda m: "+" + "*" * (len(m.group(0)) - 5) + m.group(1), text)


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return mask(json.dumps(data, default=str))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        line = super().format(record)
        return mask(f"{line} {extras}" if extras else line)


def setup_logging(fmt: str | None, level: int = logging.INFO) -> None:
    fmt = fmt or ("text" if sys.stderr.isatty() else "json")
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per tick otherwise
    # Alembic 1.20 logs a line per plugin it sets up, at every start: noise, and it
    # turns a one-line start-up failure into eight.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
