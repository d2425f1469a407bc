"""TwiML documents the daemon answers Twilio webhooks with.

Built with the twilio library's builders, so text is always XML-escaped.
A page call reads the script inside a one-digit <Gather> twice; with no key
pressed it says goodbye and hangs up (the unanswered page is then handled by
the call's status and the escalation, not by looping forever on the line).
"""

from __future__ import annotations

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from pager.core import page_text

GATHER_SECONDS = 8  # how long a person has to press a key after the script


def voice_page(script: str, gather_action_url: str, repeats: int = 2) -> str:
    """Reads `script` and posts the key pressed (Digits) to `gather_action_url`."""
    response = VoiceResponse()
    for _ in range(max(repeats, 1)):
        gather = response.gather(
            input="dtmf",
            num_digits=1,
            action=gather_action_url,
            method="POST",
            timeout=GATHER_SECONDS,
        )
        gather.say(script)
    response.say(page_text.NO_KEY_PRESSED)
    response.hangup()
    return str(response)


def voice_machine(script: str) -> str:
    """For an answering machine: leave the message and hang up (it cannot acknowledge)."""
    response = VoiceResponse()
    response.say(script)
    response.hangup()
    return str(response)


def voice_ack_result(text: str) -> str:
    """Tells the person what their key press did, then hangs up."""
    response = VoiceResponse()
    response.say(text)
    response.hangup()
    return str(response)


def hang_up() -> str:
    """Ends a call at once, saying nothing."""
    response = VoiceResponse()
    response.hangup()
    return str(response)


def sms_reply(text: str) -> str:
    """Answers an inbound SMS with one message back to the sender."""
    response = MessagingResponse()
    response.message(text)
    return str(response)


def empty_sms() -> str:
    """Answers an inbound SMS with nothing (Twilio sends no reply)."""
    return str(MessagingResponse())
