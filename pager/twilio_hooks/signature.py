"""Twilio webhook authentication: the X-Twilio-Signature check.

Twilio signs the URL it was configured with (our PAGER_PUBLIC_URL plus the path
and query string exactly as sent) and the POSTed form fields. Behind a proxy
the Host we see is not that URL, so the URL is rebuilt from `public_url` and
`request.raw_path`: the raw, still percent-encoded path with its query string
(the decoded `request.path` would sign different bytes).

A request whose URL carries `bodySHA256` (Twilio's JSON webhooks) is signed
over the URL alone, and the body is bound to it by that hash: the raw body
must hash to it, or the request is refused (the twilio library's validator
checks it when given the raw body, which is what it gets here).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, parse_qsl, urlsplit

from aiohttp import web
from multidict import MultiDict
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

BODY_HASH = "bodySHA256"


class UnreadableForm(ValueError):
    """The body is no form at all: there is nothing to check a signature over."""


def signed_url(public_url: str, raw_path: str) -> str:
    """The URL Twilio signed for a request that reached us at `raw_path`."""
    return public_url.rstrip("/") + raw_path


async def verify_twilio_request(
    request: web.Request, auth_token: str, public_url: str
) -> dict[str, str] | None:
    """The request's fields when Twilio signed it; None when unsigned or forged."""
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature or not auth_token:
        return None
    url = signed_url(public_url, request.raw_path)
    algorithm = get_signature_algorithm(request.headers.get(SIGNATURE_SETTINGS_HEADER))
    validator = RequestValidator(auth_token)
    if BODY_HASH in parse_qs(urlsplit(url).query):
        return await _verify_body(request, validator, url, signature, algorithm)
    try:
        form = await request.post()
    except UnicodeDecodeError:
        raise UnreadableForm("body is not a URL-encoded UTF-8 form") from None
    fields: MultiDict[str] = MultiDict((k, v) for k, v in form.items() if isinstance(v, str))
    if not validator.validate(url, fields, signature, algorithm):
        return None
    return {key: fields[key] for key in fields}


async def _verify_body(
    request: web.Request, validator: RequestValidator, url: str, signature: str, algorithm: str
) -> dict[str, str] | None:
    """A body bound to the signed URL by its SHA-256: the fields it holds, once checked."""
    try:
        body = (await request.read()).decode("utf-8")
    except UnicodeDecodeError:
        return None  # Twilio hashes UTF-8 text; these bytes cannot be what it signed
    if not validator.validate(url, body, signature, algorithm):
        return None
    if request.content_type != "application/json":
        return dict(parse_qsl(body, keep_blank_values=True))
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
