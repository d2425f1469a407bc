"""Sign-in by a trusted header from an authenticating proxy (oauth2-proxy style)."""

from __future__ import annotations

import pytest

from pager.settings import Settings, parse_networks
from pager.web.auth import trusted
from tests.web.console import Console

HEADER = "X-Forwarded-Email"


@pytest.fixture
async def proxied(start_console) -> Console:
    # The test client connects from 127.0.0.1: trusted here.
    console: Console = await start_console(
        auth_proxy_header=HEADER, auth_proxy_trusted="127.0.0.0/8"
    )
    return console


async def test_the_header_from_a_trusted_proxy_signs_in_by_email_or_id(proxied: Console):
    page = await proxied.page("/", headers={HEADER: "bob@example.com"})
    assert "Bob Roe" in page
    page = await proxied.page("/", headers={HEADER: "alice"})
    assert "Alice Doe" in page


async def test_an_unknown_person_is_told_how_to_fix_it(proxied: Console):
    page = await proxied.page("/", status=403, headers={HEADER: "zed@example.com"})
    assert "no person of pager&#39;s policy has that id or email" in page
    assert "Add `email: zed@example.com`" in page


async def test_console_actions_by_header_are_the_persons(proxied: Console):
    ident = await proxied.h.fire("alertname=Down", "severity=critical")
    page = await proxied.page("/", headers={HEADER: "bob@example.com"})
    token = page.split('name="csrf" value="')[1].split('"')[0]
    resp = await proxied.client.post(
        f"/incidents/{ident}/ack",
        data={"csrf": token, "back": "/"},
        headers={HEADER: "bob@example.com"},
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()
    assert (await proxied.h.incident(ident))["acked_by"] == "bob"


async def test_the_header_from_an_untrusted_address_is_ignored_and_counted(start_console):
    console = await start_console(auth_proxy_header=HEADER, auth_proxy_trusted="10.0.0.0/8")
    await console.page(
        "/", status=303, headers={HEADER: "alice@example.com"}
    )  # to the sign-in form
    metrics = await (await console.client.get("/metrics")).text()
    assert "pager_web_proxy_header_untrusted_total 1.0" in metrics
    await console.sign_in("alice")  # a web config user still can


def test_trusted_addresses():
    nets = parse_networks("10.0.0.0/8, 127.0.0.1, ::1")
    assert trusted("10.1.2.3", nets)
    assert trusted("127.0.0.1", nets)
    assert trusted("::1", nets)
    assert not trusted("127.0.0.2", nets)
    assert not trusted("192.168.1.1", nets)
    assert not trusted(None, nets)
    assert not trusted("not-an-address", nets)


def test_header_and_trusted_addresses_go_together():
    with pytest.raises(ValueError, match="set both PAGER_AUTH_PROXY_HEADER"):
        Settings(auth_proxy_header=HEADER)
    with pytest.raises(ValueError, match="is not an address or CIDR"):
        Settings(auth_proxy_header=HEADER, auth_proxy_trusted="10.0.0.0/33")
