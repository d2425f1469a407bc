"""bcrypt passwords for the console's web config users.

A check runs in a worker thread (bcrypt is slow on purpose; the event loop
must keep paging meanwhile). An unknown user is checked against a dummy hash
of the same cost, so the answer's timing does not tell who exists.
"""

from __future__ import annotations

import asyncio
import functools

import bcrypt

MAX_BYTES = 72  # bcrypt reads no further; bcrypt 5 refuses longer passwords
DEFAULT_COST = 12


class PasswordError(ValueError):
    """A password that cannot be used, said for a person."""


def hash_password(password: str, cost: int = DEFAULT_COST) -> str:
    raw = password.encode()
    if not raw:
        raise PasswordError("the password is empty")
    if len(raw) > MAX_BYTES:
        raise PasswordError(f"the password is longer than bcrypt's {MAX_BYTES} bytes")
    return bcrypt.hashpw(raw, bcrypt.gensalt(cost)).decode()


@functools.cache
def _dummy(cost: int) -> bytes:
    return bcrypt.hashpw(b"no such user", bcrypt.gensalt(cost))


def _cost(hashed: str) -> int:
    return int(hashed.split("$")[2])


def _check(hashed: str | None, password: str) -> bool:
    raw = password.encode()[: MAX_BYTES + 1]
    if hashed is None or len(raw) > MAX_BYTES or not raw:
        bcrypt.checkpw(b"x", _dummy(_cost(hashed) if hashed else DEFAULT_COST))
        return False
    return bcrypt.checkpw(raw, hashed.encode())


async def check_password(hashed: str | None, password: str) -> bool:
    """True when `password` matches `hashed`; False (after the same work) when there is none."""
    return await asyncio.to_thread(_check, hashed, password)
