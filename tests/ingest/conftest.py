"""The Twilio scenario fixtures (FakeTwilio and the real app pointed at it), for
the inbound Twilio tests here."""

from tests.scenario.conftest import fake, make_twilio_harness  # noqa: F401
