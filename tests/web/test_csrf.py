"""Every console form carries this session's CSRF token; the admin API wants it
in a header from a console session. Without it nothing changes."""

from __future__ import annotations

from tests.harness import API_TOKEN
from tests.web.console import Console


async def test_a_form_post_without_or_with_a_wrong_token_is_refused(console: Console):
    ident = await console.h.fire("alertname=Down", "severity=critical")
    await console.sign_in("alice")
    for data in ({}, {"csrf": "0" * 64}):
        resp = await console.post(f"/incidents/{ident}/ack", data, token=False, status=403)
        assert "Form refused" in await resp.text()
    assert (await console.h.incident(ident))["state"] == "triggered"
    metrics = await (await console.client.get("/metrics")).text()
    assert "pager_web_csrf_refused_total 2.0" in metrics


async def test_another_sessions_token_is_refused(console: Console, aiohttp_client):
    await console.sign_in("alice")
    other = Console(console.h)
    other.client = await aiohttp_client(console.h.client.server)  # a second browser
    await other.sign_in("bob")
    bobs = await other.page("/")
    token = bobs.split('name="csrf" value="')[1].split('"')[0]
    resp = await console.post("/sign-out", {"csrf": token}, token=False, status=403)
    assert "Form refused" in await resp.text()


async def test_the_admin_api_accepts_a_console_session_and_wants_its_token_to_change(
    console: Console,
):
    ident = await console.h.fire("alertname=Down", "severity=critical")
    await console.sign_in("alice")
    client = console.client
    listed = await client.get("/api/v1/incidents")  # no bearer token: the session
    assert listed.status == 200
    refused = await client.post(f"/api/v1/incidents/{ident}/ack")
    assert refused.status == 403
    assert "X-CSRF-Token" in (await refused.json())["error"]
    token = (await console.page("/")).split('name="csrf" value="')[1].split('"')[0]
    impostor = await client.post(
        f"/api/v1/incidents/{ident}/ack", json={"by": "bob"}, headers={"X-CSRF-Token": token}
    )
    assert impostor.status == 403  # a session acts as its own person only
    acked = await client.post(f"/api/v1/incidents/{ident}/ack", headers={"X-CSRF-Token": token})
    assert acked.status == 200, await acked.text()
    assert (await console.h.incident(ident))["acked_by"] == "alice"


async def test_the_admin_api_without_session_or_token_is_still_refused(console: Console):
    resp = await console.client.get("/api/v1/incidents")
    assert resp.status == 401
    resp = await console.client.get(
        "/api/v1/incidents", headers={"Authorization": f"Bearer {API_TOKEN}"}
    )
    assert resp.status == 200
