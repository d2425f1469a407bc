"""pager.tls: contexts made inside `deferred()` get the same CA certificates as
any other, later, and `wait()` is when they have them."""

from __future__ import annotations

import ssl

from pager import tls


def _cas(context: ssl.SSLContext) -> int:
    return int(context.cert_store_stats()["x509_ca"])


def test_a_context_made_while_deferred_gets_its_certificates_in_the_background() -> None:
    usual = ssl.create_default_context()
    assert _cas(usual) > 0  # the machine has a CA bundle: the test means something
    with tls.deferred():
        late = ssl.create_default_context()
        bare = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        bare.set_default_verify_paths()
    assert (_cas(late), _cas(bare)) == (0, 0)  # not read at import
    assert "set_default_verify_paths" not in vars(ssl.SSLContext)  # ssl as it was
    tls.load_in_background()
    tls.wait()
    assert (_cas(late), _cas(bare)) == (_cas(usual), _cas(usual))
    assert _cas(ssl.create_default_context()) == _cas(usual)


def test_wait_returns_at_once_when_nothing_was_deferred() -> None:
    tls.load_in_background()  # nothing noted: no thread
    tls.wait()
