"""Console sessions: a signed cookie, the CSRF token bound to it, and one-shot notes.

Guarantees:
* The cookie is signed (itsdangerous, HMAC-SHA256) with a key every replica
  shares; a cookie altered by anyone without the key is ignored.
* Expiry is checked against the injected clock, not only by the browser's
  Max-Age, so a copied cookie stops working on time.
* A session carries a fingerprint of its person's password hash: a new
  password (`pager web-user add` again) signs out every older session.
* Every visitor's cookie carries a random nonce; the CSRF token of a form is
  an HMAC of it, so a page of another site cannot know it. Signing in makes a
  new nonce (no session fixation).
* The cookie is HttpOnly, SameSite=Lax, Secure when PAGER_PUBLIC_URL is https,
  and scoped to the console's path.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from itsdangerous import BadSignature, URLSafeSerializer

COOKIE = "pager_session"
NOTE_COOKIE = "pager_note"
FEED_COOKIE = "pager_calendar"


@dataclass(frozen=True)
class Session:
    nonce: str
    person: str | None = None  # None: not signed in
    expires: datetime | None = None
    stamp: str = ""  # fingerprint of the person's password hash when they signed in

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires


def stamp_of(hashed: str) -> str:
    return hashlib.sha256(hashed.encode()).hexdigest()[:16]


class Sessions:
    def __init__(self, key: str, max_age: int, *, secure: bool, path: str) -> None:
        self._cookies = URLSafeSerializer(key, salt="pager.session")
        self._notes = URLSafeSerializer(key, salt="pager.note")
        self._feeds = URLSafeSerializer(key, salt="pager.calendar")
        self._csrf_key = hmac.new(key.encode(), b"pager.csrf", hashlib.sha256).digest()
        self.max_age, self.secure, self.path = max_age, secure, path

    def anonymous(self) -> Session:
        return Session(nonce=secrets.token_urlsafe(18))

    def signed_in(self, person: str, hashed: str, now: datetime) -> Session:
        expires = now + timedelta(seconds=self.max_age)
        return Session(secrets.token_urlsafe(18), person, expires, stamp_of(hashed))

    def read(self, request: web.Request) -> Session | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._cookies.loads(raw)
            expires = data.get("e")
            return Session(
                nonce=str(data["n"]),
                person=data.get("p"),
                expires=datetime.fromisoformat(expires) if expires else None,
                stamp=str(data.get("s", "")),
            )
        except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
            return None

    def write(self, response: web.StreamResponse, session: Session) -> None:
        data: dict[str, Any] = {"n": session.nonce}
        if session.person is not None and session.expires is not None:
            data.update(p=session.person, e=session.expires.isoformat(), s=session.stamp)
        max_age = self.max_age if session.person is not None else None
        self._set(response, COOKIE, self._cookies.dumps(data), max_age)

    def csrf_token(self, session: Session) -> str:
        return hmac.new(self._csrf_key, session.nonce.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: Session | None, token: str | None) -> bool:
        if session is None or not token:
            return False
        return hmac.compare_digest(self.csrf_token(session), token)

    def note(self, response: web.StreamResponse, text: str) -> None:
        """A one-line note for the next page (what was just done), kept a minute."""
        self._set(response, NOTE_COOKIE, self._notes.dumps(text), 60)

    def read_note(self, request: web.Request) -> str | None:
        raw = request.cookies.get(NOTE_COOKIE)
        if not raw:
            return None
        try:
            return str(self._notes.loads(raw))
        except BadSignature:
            return None

    def keep_feed_token(self, response: web.StreamResponse, person: str, token: str) -> None:
        """The calendar token just made, kept in this browser so its pages can show
        the feed links again (the database holds only its hash)."""
        self._set(response, FEED_COOKIE, self._feeds.dumps([person, token]), self.max_age)

    def feed_token(self, request: web.Request, person: str) -> str | None:
        raw = request.cookies.get(FEED_COOKIE)
        if not raw:
            return None
        try:
            owner, token = self._feeds.loads(raw)
        except (BadSignature, ValueError, TypeError):
            return None
        return str(token) if owner == person else None

    def clear_note(self, response: web.StreamResponse) -> None:
        response.del_cookie(NOTE_COOKIE, path=self.path)

    def _set(
        self, response: web.StreamResponse, name: str, value: str, max_age: int | None
    ) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=self.path,
            httponly=True,
            samesite="Lax",
            secure=self.secure,
        )
