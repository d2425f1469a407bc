"""Served under PAGER_PUBLIC_URL's path: behind a reverse proxy on a sub-path
(which strips it, as it must for the Twilio webhooks too), every link, form,
static file, redirect and the live stream are under that path."""

from __future__ import annotations

import re

from tests.web.console import Console, csrf_of

URL_ATTRIBUTES = re.compile(r'\b(href|src|action|sse-connect|hx-get|hx-post)="([^"]*)"')


def local_urls(page: str) -> list[str]:
    return [
        url
        for _, url in URL_ATTRIBUTES.findall(page)
        if not url.startswith(("https://", "http://", "data:", "#"))
    ]


async def test_every_url_of_every_page_is_under_the_prefix(start_console):
    console: Console = await start_console(public_url="https://example.com/pager/")
    resp = await console.client.get("/", allow_redirects=False)
    assert resp.headers["Location"] == "/pager/sign-in"
    form = await console.page("/sign-in")
    data = {"csrf": csrf_of(form), "person": "alice", "password": "alice-password"}
    # The Secure cookie is not sent back over plain http: carry it as a browser would over https.
    anonymous = {c.key: c.value for c in console.client.session.cookie_jar}
    resp = await console.client.post(
        "/sign-in", data=data, allow_redirects=False, cookies=anonymous
    )
    assert resp.status == 303
    assert resp.headers["Location"] == "/pager/"
    cookie = resp.cookies["pager_session"]
    assert cookie["path"] == "/pager/"
    jar = {"pager_session": cookie.value}
    ident = await console.h.fire("alertname=Down", "severity=critical")
    seen = 0
    for path in (
        "/",
        "/incidents",
        f"/incidents/{ident}",
        f"/incidents/{ident}/review",
        "/incidents/99",
    ):
        page = await (await console.client.get(path, cookies=jar)).text()
        urls = local_urls(page)
        assert urls, path
        assert all(url.startswith("/pager/") for url in urls), (path, urls)
        seen += len(urls)
    assert seen > 30
    acked = await console.client.post(
        f"/incidents/{ident}/ack",
        data={"csrf": csrf_of(page), "back": f"/incidents/{ident}"},
        cookies=jar,
        allow_redirects=False,
    )
    assert acked.headers["Location"] == f"/pager/incidents/{ident}"
