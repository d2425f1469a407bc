"""The stand-ins the benchmarks run as separate processes (127.0.0.1 only).

`python -m bench.servers baseline --port P [--relay URL]`
    A bare aiohttp app with pager's webhook route: it parses the JSON body and
    answers 200 without storing anything. With `--relay`, an alert labelled
    `bench_probe` is forwarded at once (after the answer) to a Twilio-shaped
    URL: the least any pager could do between a webhook and a page.
`python -m bench.servers recorder --port P`
    A fake Twilio REST API that answers like Twilio (201 + a resource) and
    records each request's arrival time (wall clock, comparable across
    processes), `To`, `Body` and the notification id in its StatusCallback.
    `GET /records` returns them, `GET /count` how many; `POST /reset` forgets them.

Both stop by themselves after `--max-seconds` (default 1800) in case the
benchmark that started them dies.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import ClientSession, web

TWILIO_PATH = "/2010-04-01/Accounts/{sid}/{what}.json"


def baseline_app(relay: str | None) -> web.Application:
    app = web.Application()
    probes = itertools.count(1)
    tasks: set[asyncio.Task[None]] = set()
    session: list[ClientSession] = []

    async def hook(request: web.Request) -> web.Response:
        payload = json.loads(await request.read())
        alerts = payload["alerts"]
        ids: list[int] = []
        if relay and any("bench_probe" in a["labels"] for a in alerts):
            ids.append(next(probes))
            task = asyncio.create_task(_relay(session[0], relay, ids[0]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        return web.json_response({"status": "ok", "alerts": len(alerts), "incidents": ids})

    async def ready(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ready"})

    async def client(_app: web.Application) -> Any:
        session.append(ClientSession())
        yield
        await session[0].close()

    app.router.add_post("/api/v1/alerts/alertmanager", hook)
    app.router.add_get("/readyz", ready)
    app.cleanup_ctx.append(client)
    return app


async def _relay(session: ClientSession, url: str, probe: int) -> None:
    form = {"To": "+15550199999", "From": "+15005550006", "Body": f"[P1] #{probe} probe"}
    async with session.post(url, data=form) as resp:
        await resp.read()


def recorder_app() -> web.Application:
    app = web.Application()
    records: list[dict[str, Any]] = []
    sids = itertools.count(1)

    async def create(request: web.Request) -> web.Response:
        arrived = time.time()
        form = await request.post()
        callback = str(form.get("StatusCallback", ""))
        n = parse_qs(urlsplit(callback).query).get("n", [""])[0]
        kind = "voice" if request.match_info["what"] == "Calls" else "sms"
        records.append(
            {
                "t": arrived,
                "kind": kind,
                "to": str(form.get("To", "")),
                "body": str(form.get("Body", "")),
                "n": int(n) if n.isdigit() else None,
            }
        )
        sid = ("SM" if kind == "sms" else "CA") + f"{next(sids):032x}"
        return web.json_response(_resource(sid, request.match_info["sid"]), status=201)

    async def dump(_request: web.Request) -> web.Response:
        return web.json_response(records)

    async def count(_request: web.Request) -> web.Response:
        return web.json_response(len(records))

    async def reset(_request: web.Request) -> web.Response:
        records.clear()
        return web.json_response({"status": "ok"})

    app.router.add_post(TWILIO_PATH, create)
    app.router.add_post("/relay", create_relay(records))
    app.router.add_get("/records", dump)
    app.router.add_get("/count", count)
    app.router.add_post("/reset", reset)
    return app


def create_relay(records: list[dict[str, Any]]) -> Any:
    """The baseline's relay target: recorded like an SMS."""

    async def relay(request: web.Request) -> web.Response:
        arrived = time.time()
        form = await request.post()
        records.append(
            {
                "t": arrived,
                "kind": "sms",
                "to": str(form.get("To", "")),
                "body": str(form.get("Body", "")),
                "n": None,
            }
        )
        return web.json_response({"sid": "SMrelay"}, status=201)

    return relay


def _resource(sid: str, account: str) -> dict[str, Any]:
    return {
        "sid": sid,
        "account_sid": account,
        "api_version": "2010-04-01",
        "status": "queued",
        "direction": "outbound-api",
        "price": None,
        "price_unit": "USD",
        "error_code": None,
        "error_message": None,
        "num_segments": "1",
        "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
    }


async def _serve(app: web.Application, port: int, max_seconds: float) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await asyncio.sleep(max_seconds)  # a safety net: the benchmark stops us first
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    parser.add_argument("which", choices=("baseline", "recorder"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--relay")
    parser.add_argument("--max-seconds", type=float, default=1800)
    args = parser.parse_args()
    app = baseline_app(args.relay) if args.which == "baseline" else recorder_app()
    asyncio.run(_serve(app, args.port, args.max_seconds))


if __name__ == "__main__":
    main()
