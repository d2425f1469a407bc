"""The outbox state machine's decisions (pure core/delivery.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pager.core import delivery
from pager.core.delivery import Unanswered, after_send, give_up_at, retry_delay, unanswered
from pager.core.outcome import Outcome

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=30)


def test_accepted_is_sent_unknown_is_looked_up_soon():
    assert after_send(Outcome.ACCEPTED, 1, "page", NOW, LATER).state == "sent"
    unknown = after_send(Outcome.UNKNOWN, 1, "page", NOW, LATER)
    assert (unknown.state, unknown.check_at) == ("unknown", NOW + delivery.LOOKUP_DELAY)
    assert not unknown.fall_back


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 10), (2, 20), (3, 40), (5, 160), (9, 300)])
def test_backoff_doubles_up_to_five_minutes(attempts, seconds):
    fate = after_send(Outcome.TEMPORARY, attempts, "page", NOW, LATER)
    assert (fate.state, fate.retry_at) == ("failed_temp", NOW + timedelta(seconds=seconds))


def test_temporary_failures_have_no_attempt_limit_before_the_timeout():
    assert after_send(Outcome.TEMPORARY, 50, "page", NOW, LATER).state == "failed_temp"


def test_the_last_try_is_at_the_timeout_then_the_channel_has_failed():
    close = NOW + timedelta(seconds=3)
    assert after_send(Outcome.TEMPORARY, 1, "page", NOW, close).retry_at == close
    fate = after_send(Outcome.TEMPORARY, 2, "page", close, close)
    assert (fate.state, fate.fall_back, fate.gave_up) == ("failed_perm", True, True)


def test_retry_after_wins_when_it_asks_for_longer():
    assert retry_delay(1, 45) == timedelta(seconds=45)
    assert retry_delay(4, 45) == timedelta(seconds=80)  # our backoff is longer already
    assert retry_delay(1, None) == timedelta(seconds=10)
    assert retry_delay(1, 10**9) == timedelta(hours=1)  # a silly header is capped


def test_permanent_falls_back_for_pages_and_bundles_only():
    assert after_send(Outcome.PERMANENT, 1, "page", NOW, LATER).fall_back
    assert after_send(Outcome.PERMANENT, 1, "bundle", NOW, LATER).fall_back
    assert not after_send(Outcome.PERMANENT, 1, "info", NOW, LATER).fall_back


def test_a_page_is_retried_until_its_level_times_out():
    created = NOW - timedelta(minutes=1)
    assert give_up_at("page", created, 2, 2, LATER, NOW) == LATER
    assert give_up_at("page", created, 1, 2, LATER, NOW) == NOW  # its level is over
    assert give_up_at("page", created, 2, 2, None, NOW) == NOW  # exhausted: no level to wait for
    assert give_up_at("info", created, 0, None, None, NOW) == created + delivery.RETRY_WINDOW


@pytest.mark.parametrize(
    ("kind", "priority", "is_resend", "then"),
    [
        ("page", "P1", False, Unanswered.RESEND),
        ("bundle", "P1", False, Unanswered.RESEND),
        ("page", "P1", True, Unanswered.ESCALATE),
        ("page", "P2", False, Unanswered.ESCALATE),
        ("bundle", "P2", False, Unanswered.GIVE_UP),
        ("info", "P1", False, Unanswered.GIVE_UP),
    ],
)
def test_what_an_unanswerable_unknown_send_leads_to(kind, priority, is_resend, then):
    assert unanswered(kind, priority, is_resend) is then


def test_a_found_sid_already_recorded_is_not_taken_again():
    assert delivery.pick_unclaimed(["SM1", "SM2"], {"SM1"}) == "SM2"
    assert delivery.pick_unclaimed(["SM1"], {"SM1"}) is None


def test_first_page_latency():
    received = NOW - timedelta(seconds=2)
    assert delivery.first_page_latency(received, earlier_sent=False, now=NOW) == 2.0
    assert delivery.first_page_latency(received, earlier_sent=True, now=NOW) is None
    assert delivery.first_page_latency(None, earlier_sent=False, now=NOW) is None
