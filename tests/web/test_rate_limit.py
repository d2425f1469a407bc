"""Sign-in attempts are limited per address and per person, and counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pager.web.ratelimit import RateLimit
from pager.web.state import ADDRESS_LIMIT, PERSON_LIMIT
from tests.web.console import Console, write_web_config

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_a_sliding_window():
    limit = RateLimit(3, timedelta(minutes=10))
    for minute in range(3):
        assert limit.wait("a", T0 + timedelta(minutes=minute)) is None
        limit.hit("a", T0 + timedelta(minutes=minute))
    assert limit.wait("a", T0 + timedelta(minutes=3)) == timedelta(minutes=7)
    assert limit.wait("b", T0 + timedelta(minutes=3)) is None  # keys are apart
    assert limit.wait("a", T0 + timedelta(minutes=10)) is None  # the first hit left the window


def test_memory_is_bounded():
    limit = RateLimit(1, timedelta(minutes=10), max_keys=100)
    for n in range(1000):
        limit.hit(f"k{n}", T0)
    assert limit.wait("k999", T0) is not None
    assert limit.wait("k0", T0) is None  # the oldest went first
    assert len(limit._hits) == 100


async def test_failed_attempts_on_one_person_are_limited(console: Console):
    limit, window = PERSON_LIMIT
    for _ in range(limit):
        await console.sign_in("alice", "wrong", status=401)
    refused = await console.sign_in("alice", "alice-password", status=429)
    assert "Too many sign-in attempts. Try again in 10 min." in await refused.text()
    assert refused.headers["Retry-After"] == str(int(window.total_seconds()))
    await console.sign_in("bob")  # another person is not locked out by alice's
    await console.post("/sign-out")
    console.h.clock.advance(window)
    await console.sign_in("alice")
    metrics = await (await console.client.get("/metrics")).text()
    assert 'pager_web_sign_ins_total{outcome="rate_limited"} 1.0' in metrics
    assert f'pager_web_sign_ins_total{{outcome="wrong_password"}} {float(limit)}' in metrics
    assert 'pager_web_sign_ins_total{outcome="ok"} 2.0' in metrics


async def test_attempts_from_one_address_are_limited(start_console, tmp_path):
    limit, _ = ADDRESS_LIMIT
    many = {f"user{n}": "pw" for n in range(limit)}  # one wrong guess each: no person limit
    console = await start_console(web_config=write_web_config(tmp_path / "many.yml", many))
    for n in range(limit):
        await console.sign_in(f"user{n}", "wrong", status=401)
    await console.sign_in("user0", "pw", status=429)


async def test_the_metrics_exist_at_zero_before_anyone_signs_in(console: Console):
    metrics = await (await console.client.get("/metrics")).text()
    for outcome in ("ok", "wrong_password", "unknown_user", "not_in_policy", "rate_limited"):
        assert f'pager_web_sign_ins_total{{outcome="{outcome}"}} 0.0' in metrics
    assert "pager_web_proxy_header_untrusted_total 0.0" in metrics
    assert "pager_web_csrf_refused_total 0.0" in metrics
