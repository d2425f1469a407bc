"""The forms Twilio posts, checked: signed first, then each field we use typed.

A form that cannot be read at all (not UTF-8, a Content-Encoding that does not
decode) is a 400 before the signature check, since there is nothing to check
it over. A signed form whose fields we use are not what Twilio sends (a NUL,
an over-long value, `ErrorCode=²`, `?n=` past the notification ids) is a 400
naming the field. Either way nothing has been read from or written to the
database yet.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from aiohttp import web
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from pager.edge import ApiError
from pager.inputs import INT_MAX, ident, no_nul, parse
from pager.services import Pager, pager_of
from pager.twilio_hooks.signature import UnreadableForm, verify_twilio_request

F = TypeVar("F", bound="TwilioForm")
SID_MAX = 64  # Notification.provider_id


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


# Twilio's ids are 34 ASCII letters and digits (SM..., CA...).
Sid = Annotated[str, StringConstraints(min_length=1, max_length=SID_MAX, pattern="^[A-Za-z0-9]+$")]
Word = Annotated[str, StringConstraints(max_length=32, pattern="^[A-Za-z0-9_#*+ -]*$")]
Phone = Annotated[str, StringConstraints(max_length=64), AfterValidator(no_nul)]
SmsBody = Annotated[str, StringConstraints(max_length=1600), AfterValidator(no_nul)]
ErrorCode = Annotated[
    Annotated[int, Field(ge=0, le=INT_MAX)] | None, BeforeValidator(_blank_is_none)
]


class TwilioForm(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class SmsForm(TwilioForm):
    """An inbound SMS."""

    message_sid: Sid = Field(alias="MessageSid")
    from_: Phone = Field("", alias="From")
    body: SmsBody = Field("", alias="Body")


class CallForm(TwilioForm):
    """A page call asking for its TwiML, or posting the key pressed."""

    call_sid: Sid = Field(alias="CallSid")
    answered_by: Word = Field("human", alias="AnsweredBy")
    digits: Word = Field("", alias="Digits")


class StatusForm(TwilioForm):
    """A delivery status callback of a message or a call."""

    message_sid: Sid | None = Field(None, alias="MessageSid")
    call_sid: Sid | None = Field(None, alias="CallSid")
    message_status: Word | None = Field(None, alias="MessageStatus")
    call_status: Word | None = Field(None, alias="CallStatus")
    error_code: ErrorCode = Field(None, alias="ErrorCode")

    @model_validator(mode="after")
    def _names_its_message(self) -> StatusForm:
        if self.sid is None:
            raise ValueError("MessageSid or CallSid is required")
        return self

    @property
    def sid(self) -> str | None:
        return self.message_sid or self.call_sid

    @property
    def status(self) -> str:
        return self.message_status or self.call_status or ""


async def signed(request: web.Request, model: type[F]) -> tuple[Pager, F]:
    """The app's Pager and the request's form, once Twilio's signature checks out."""
    pager = pager_of(request)
    token = pager.settings.twilio_auth_token
    try:
        fields = await verify_twilio_request(
            request, token.get_secret_value() if token else "", pager.settings.effective_public_url
        )
    except UnreadableForm as exc:
        raise ApiError(400, str(exc), "malformed") from None
    if fields is None:
        raise ApiError(403, "missing or invalid Twilio signature", "bad_signature")
    return pager, parse(model, fields)


def notification_id(request: web.Request) -> int:
    """The notification a call or callback is about: our `?n=` in the URL Twilio was given."""
    raw = request.query.get("n")
    if raw is None:
        raise ApiError(400, "query parameter n (the notification id) is required", "malformed")
    return ident(raw, "query parameter n (the notification id)")
