"""Twilio webhook authentication: the X-Twilio-Signature check.

Twilio signs the URL it was configured with (our PAGER_PUBLIC_URL plus the path
and query string exactly as sent) and the POSTed form fields. Behind a proxy
the Host we see is not that URL, so the URL is rebuilt from `public_url` and
`request.raw_path`: the raw, still percent-encoded path with its query string
(the decoded `request.path` would sign different bytes).
"""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDict
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)


def signed_url(public_url: str, raw_path: str) -> str:
    """The URL Twilio signed for a request that reached us at `raw_path`."""
    return public_url.rstrip("/") + raw_path


async def verify_twilio_request(
    request: web.Request, auth_token: str, public_url: str
) -> dict[str, str] | None:
    """The request's form fields when Twilio signed it; None when unsigned or forged."""
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature or not auth_token:
        return None
    form = await request.post()
    fields: MultiDict[str] = MultiDict((k, v) for k, v in form.items() if isinstance(v, str))
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    validator = RequestValidator(auth_token)
    if not validator.validate(
        signed_url(public_url, request.raw_path), fields, signature, algorithm
    ):
        return None
    return {key: fields[key] for key in fields}
