"""The app factory: wiring only. Nothing happens at import time.

`create_app(settings, clock=, notifier=, db=)` lets tests inject a FakeClock,
a fake notifier and a database; `run_engine=False` leaves ticking to the test;
`policy=` is the policy `pager serve`'s start-up checks read already.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING

from aiohttp import web

from pager import tls
from pager.api import health
from pager.clock import Clock, SystemClock
from pager.edge import CONSOLE_SESSION, Handler, errors_middleware, route_on_demand
from pager.engine.engine import Engine
from pager.engine.handoffs import HandoffNotices
from pager.engine.policy_runtime import PolicyRuntime, Prepared
from pager.failpoints import Failpoints
from pager.ingest import handlers as ingest
from pager.ingest import heartbeat
from pager.metrics import Metrics
from pager.notify.base import Notifier
from pager.notify.deferred import Deferred
from pager.notify.dryrun import DryRunNotifier
from pager.practice.reminders import daily_reminders
from pager.retrying import made_in_the_end
from pager.services import PAGER, Pager
from pager.settings import Settings, reveal
from pager.startup import StartupError, policy_failure, web_config_failure
from pager.store.db import Database
from pager.store.migrate import migrate
from pager.web import setup as console_setup
from pager.web.auth import api_session
from pager.web.setup import setup_console
from pager.web.state import ASSETS, CONSOLE
from pager.web.webconfig import UserFile, WebConfigError

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from pager.notify.twilio import TwilioNotifier

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    notifier: Notifier | None = None,
    db: Database | None = None,
    run_engine: bool = True,
    run_migrations: bool = False,
    policy: Prepared | None = None,
) -> web.Application:
    app = web.Application(middlewares=[errors_middleware], client_max_size=settings.max_body_bytes)
    _routes(app)
    setup_console(app, settings)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        users = _console_users(settings)
        async with _running(
            settings, clock or SystemClock(), notifier, db, run_engine, run_migrations, policy
        ) as pager:
            app[PAGER] = pager
            async with console_setup.running(pager, app[ASSETS], users) as console:
                app[CONSOLE] = console
                yield

    async def writer(app: web.Application) -> AsyncIterator[None]:
        yield
        await app[PAGER].writer.drain()  # every webhook taken is answered

    app.cleanup_ctx.extend((lifecycle, writer))
    app.on_shutdown.append(console_setup.close_streams)
    app[CONSOLE_SESSION] = api_session
    return app


def _console_users(settings: Settings) -> UserFile:
    """The web console's users, read before anything starts: a broken file stops pager."""
    users = UserFile(settings.web_config)
    try:
        users.load()
    except WebConfigError as exc:
        raise StartupError(web_config_failure(exc)) from None
    return users


# method, path, name of the handler in pager.api.handlers.HANDLERS (imported on
# the first API request) or pager.twilio_hooks.handlers.HANDLERS (the first
# Twilio request): what serving needs before it is ready is imported at start,
# the rest when first asked for (issue 18: start to ready ≤ 1 s).
API_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", "/api/v1/incidents", "list_incidents"),
    ("GET", "/api/v1/incidents/{id}", "get_incident"),
    ("POST", "/api/v1/incidents/{id}/ack", "acknowledge"),
    ("POST", "/api/v1/incidents/{id}/resolve", "resolve"),
    ("POST", "/api/v1/incidents/{id}/escalate", "escalate"),
    ("POST", "/api/v1/incidents/{id}/updates", "post_status_update"),
    ("GET", "/api/v1/incidents/{id}/review", "review"),
    ("POST", "/api/v1/incidents/{id}/review", "mark_reviewed"),
    ("GET", "/api/v1/incidents/{id}/actions", "actions_of_incident"),
    ("POST", "/api/v1/incidents/{id}/actions", "create_action"),
    ("GET", "/api/v1/actions", "list_actions"),
    ("PATCH", "/api/v1/actions/{id}", "update_action"),
    ("GET", "/api/v1/priorities", "priorities"),
    ("POST", "/api/v1/explain", "explain"),
    ("GET", "/api/v1/drills", "list_drills"),
    ("POST", "/api/v1/drills", "create_drill"),
    ("GET", "/api/v1/maintenance", "list_maintenance"),
    ("POST", "/api/v1/maintenance", "create_maintenance"),
    ("DELETE", "/api/v1/maintenance/{id}", "end_maintenance"),
    ("GET", "/api/v1/report", "report"),
    ("GET", "/api/v1/oncall", "oncall"),
    ("GET", "/api/v1/overrides", "list_overrides"),
    ("POST", "/api/v1/overrides", "create_override"),
    ("DELETE", "/api/v1/overrides/{id}", "delete_override"),
)
TWILIO_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", "/twilio/sms", "sms"),
    ("POST", "/twilio/voice", "voice"),
    ("POST", "/twilio/voice/gather", "gather"),
    ("POST", "/twilio/status", "status"),
)


def _routes(app: web.Application) -> None:
    r = app.router
    r.add_post("/api/v1/alerts/alertmanager", ingest.alertmanager)
    r.add_post("/api/v1/alerts", ingest.generic)
    r.add_post("/api/v1/heartbeats/{name}", heartbeat.ping)
    route_on_demand(r, API_ROUTES, _api)
    route_on_demand(r, TWILIO_ROUTES, _twilio_hooks)
    r.add_get("/healthz", health.healthz)
    r.add_get("/readyz", health.readyz)
    r.add_get("/metrics", health.metrics)
    r.add_post("/-/reload", health.reload)


def _api() -> Mapping[str, Handler]:
    from pager.api import handlers

    return handlers.HANDLERS


def _twilio_hooks() -> Mapping[str, Handler]:
    from pager.twilio_hooks import handlers

    return handlers.HANDLERS


@contextlib.asynccontextmanager
async def _running(
    settings: Settings,
    clock: Clock,
    notifier: Notifier | None,
    db: Database | None,
    run_engine: bool,
    run_migrations: bool,
    policy: Prepared | None,
) -> AsyncIterator[Pager]:
    own_db = db is None
    db = db or Database(
        settings.database_url,
        timeout=settings.db_timeout,
        sqlite_synchronous=settings.sqlite_synchronous,
    )
    try:
        if run_migrations:
            await migrate(db)
        pager = await _assemble(settings, clock, notifier, db, policy)
        try:
            async with _engine_running(pager, run_engine):
                yield pager
        finally:
            await pager.notifier.close()
    finally:
        if own_db:
            await db.close()


async def _assemble(
    settings: Settings,
    clock: Clock,
    notifier: Notifier | None,
    db: Database,
    policy: Prepared | None,
) -> Pager:
    policies = PolicyRuntime(settings.policies, db, clock)
    errors = await policies.reload(policy)
    if errors:
        raise StartupError(policy_failure(settings.policies, [str(e) for e in errors]))
    metrics = Metrics(tuple(policies.active.policy.priorities))
    metrics.policy_reload_ok.set(1)
    notifier = notifier or _notifier(settings)
    engine = Engine(
        db,
        clock,
        policies,
        notifier,
        metrics,
        interval=settings.tick_interval,
        send_timeout=settings.send_timeout,
        failpoints=Failpoints(settings.failpoints),
    )
    if isinstance(notifier, Deferred):
        notifier.start(after=engine.ticked)  # made once the daemon is ready
    return Pager(settings, clock, db, policies, metrics, notifier, engine)


def _notifier(settings: Settings) -> Notifier:
    if not settings.twilio_enabled:
        log.warning(
            "NO TWILIO CREDENTIALS: dry-run notifier, pages are only logged "
            "and recorded, nobody will be woken"
        )
        return DryRunNotifier()
    return Deferred(lambda: _twilio(settings))  # ready to take alerts before it is made


async def _twilio(settings: Settings) -> Notifier:
    # Twilio's library is imported in a worker thread: the loop serves meanwhile.
    twilio_notifier = await asyncio.to_thread(_twilio_notifier)
    return await twilio_notifier.create(
        account_sid=settings.twilio_account_sid or "",
        auth_token=reveal(settings.twilio_auth_token),
        from_number=settings.twilio_from or "",
        public_url=settings.effective_public_url,
        api_url=settings.twilio_api_url,
        timeout=settings.send_timeout,
    )


def _twilio_notifier() -> type[TwilioNotifier]:
    tls.wait()  # aiohttp's CA certificates, read in the background since the start
    from pager.notify.twilio import TwilioNotifier

    return TwilioNotifier


@contextlib.asynccontextmanager
async def _engine_running(pager: Pager, run_engine: bool) -> AsyncIterator[None]:
    if not run_engine:
        yield
        return
    task = asyncio.create_task(pager.engine.run_forever(), name="pager-engine")
    jobs = asyncio.create_task(_run_jobs(pager), name="pager-jobs")
    _on_sighup(pager)
    try:
        yield
    finally:
        jobs.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await jobs
        await pager.engine.stop(task)


async def _run_jobs(pager: Pager) -> None:
    """The scheduler of `schedule_jobs`, until cancelled. It starts once the
    engine has ticked (the daemon is ready), APScheduler imported in a worker
    thread: the jobs run daily and every minute, so a moment later moves none."""
    await pager.engine.ticked.wait()
    scheduler = await start_scheduler(pager)
    try:
        await asyncio.Event().wait()  # until cancelled
    finally:
        scheduler.shutdown(wait=False)


async def start_scheduler(
    pager: Pager,
    scheduler_class: Callable[[], type[AsyncIOScheduler]] | None = None,
    retry_after: float = 1.0,
) -> AsyncIOScheduler:
    """The started scheduler, made again until it starts (pager.retrying)."""

    async def make() -> AsyncIOScheduler:
        scheduler = (await asyncio.to_thread(scheduler_class or _scheduler_class))()
        schedule_jobs(scheduler, pager)
        scheduler.start()
        return scheduler

    return await made_in_the_end(
        make, "the scheduled jobs", "no reminders, no handoff notices meanwhile", retry_after
    )


def _scheduler_class() -> type[AsyncIOScheduler]:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    return AsyncIOScheduler  # type: ignore[no-any-return]  # APScheduler has no types


def schedule_jobs(scheduler: AsyncIOScheduler, pager: Pager) -> None:
    """The cron-like jobs: the daily reminders (09:00 UTC) and the handoff notices
    (every minute), each run claimed once per cluster (pager.engine.jobs), so
    every replica may fire them. No periodic engine tick: the engine's runner
    wakes by itself at its next due instant, at most a tick interval apart
    (Engine.run_forever). The jobs are coroutines, so they run on the loop: a
    plain function would run in a worker thread (setting the engine's
    asyncio.Event from there is not safe)."""
    scheduler.add_job(
        daily_reminders,
        "cron",
        hour=9,
        minute=0,
        timezone="UTC",
        args=[pager],
        id="daily-reminders",
        misfire_grace_time=3600,
        coalesce=True,
    )
    notices = HandoffNotices(pager.db, pager.clock, pager.policies, pager.engine.wake)
    scheduler.add_job(
        notices.run, "interval", seconds=60, id="handoff-notices", coalesce=True, max_instances=1
    )


def _on_sighup(pager: Pager) -> None:
    pending: set[asyncio.Task[None]] = set()

    async def reload_logged() -> None:
        try:
            errors = await health.reload_policies(pager)
        except Exception:
            log.exception("SIGHUP reload failed; the running policy is kept")
            return
        log.info("SIGHUP reload: %s", "; ".join(errors) if errors else "ok")

    def reload() -> None:
        task = asyncio.ensure_future(reload_logged())
        pending.add(task)  # keep a reference until it is done
        task.add_done_callback(pending.discard)

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload)
