"""aiohttp's default client TLS contexts, made at import without the CA
certificates and given them in a worker thread (issue 18: start to ready ≤ 1 s).

aiohttp.connector makes its two default contexts (verified and not) when it
is first imported, and each reads the system's CA bundle
(`set_default_verify_paths`, about 50 ms each here: a tenth of `pager
serve`'s start). `serve` imports aiohttp inside `deferred()`, which notes the
contexts instead; `load_in_background()` then reads the certificates into
those same contexts in a thread, beside the start (OpenSSL's read releases
the GIL, so it takes the other core, not the loop's). The daemon's one user of
them, Twilio's client, is made only after `wait()` (pager.app), so no request
is made with a context that lacks them. Outside `deferred()` nothing changes:
every other command, and a test that imports aiohttp itself, gets them at
import as before.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_waiting: list[ssl.SSLContext] = []
_loaded = threading.Event()
_loaded.set()
_failure: list[BaseException] = []


@contextmanager
def deferred() -> Iterator[None]:
    """Contexts made meanwhile get their default CA certificates later, from
    `load_in_background()`. Used around one import, before any thread runs."""
    own = "set_default_verify_paths" in vars(ssl.SSLContext)
    real = ssl.SSLContext.set_default_verify_paths

    def later(context: ssl.SSLContext) -> None:
        _waiting.append(context)

    ssl.SSLContext.set_default_verify_paths = later  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        if own:
            ssl.SSLContext.set_default_verify_paths = real  # type: ignore[method-assign]
        else:
            del ssl.SSLContext.set_default_verify_paths


def load_in_background() -> None:
    """Read the certificates of the contexts `deferred()` noted, in a thread."""
    if not _waiting:
        return
    _loaded.clear()
    threading.Thread(target=_load, name="pager-tls-certificates", daemon=True).start()


def _load() -> None:
    try:
        while _waiting:
            _waiting.pop().set_default_verify_paths()
    except BaseException as exc:  # said by wait(), to whoever needs the contexts
        _failure.append(exc)
    finally:
        _loaded.set()


def wait() -> None:
    """Until every noted context has its certificates (at once when none is
    waiting); raises what reading them raised."""
    _loaded.wait()
    if _failure:
        raise _failure[0]
