"""Signing in with a web config user: the session cookie, its expiry, its end."""

from __future__ import annotations

from datetime import timedelta

from itsdangerous import URLSafeSerializer

from tests.web.console import Console, write_web_config


async def test_not_signed_in_is_sent_to_the_form_and_back(console: Console):
    resp = await console.client.get("/incidents?state=all", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == "/sign-in?next=%2Fincidents%3Fstate%3Dall"
    form = await console.page("/sign-in?next=/incidents%3Fstate%3Dall")
    assert 'name="next" value="/incidents?state=all"' in form


async def test_sign_in_sets_a_signed_httponly_lax_cookie_with_an_expiry(console: Console):
    resp = await console.sign_in("alice")
    assert resp.headers["Location"] == "/"
    cookie = resp.cookies["pager_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"
    assert cookie["max-age"] == str(7 * 24 * 3600)
    assert not cookie["secure"]  # PAGER_PUBLIC_URL is plain http here
    page = await console.page("/")
    assert "Alice Doe" in page


async def test_the_cookie_is_secure_when_the_public_url_is_https(start_console):
    console = await start_console(public_url="https://pager.example.com")
    resp = await console.client.get("/sign-in")
    assert resp.cookies["pager_session"]["secure"] is True  # so plain http never carries it


async def test_a_wrong_password_or_unknown_person_is_refused_alike(console: Console):
    for person, password in (("alice", "nope"), ("mallory", "alice-password")):
        resp = await console.sign_in(person, password, status=401)
        text = await resp.text()
        assert "Wrong person id or password." in text
        assert "pager_session" not in resp.cookies or "p" not in resp.cookies["pager_session"]
    await console.page("/", status=303)
    metrics = await console.client.get("/metrics")
    body = await metrics.text()
    assert 'pager_web_sign_ins_total{outcome="wrong_password"} 1.0' in body
    assert 'pager_web_sign_ins_total{outcome="unknown_user"} 1.0' in body


async def test_the_session_expires_on_the_injected_clock(start_console):
    console = await start_console(session_max_age=3600)
    await console.sign_in("alice")
    await console.page("/")
    console.h.clock.advance(timedelta(minutes=59))
    await console.page("/")
    console.h.clock.advance(timedelta(minutes=2))
    resp = await console.client.get("/", allow_redirects=False)
    assert resp.status == 303
    form = await console.page("/sign-in")
    assert "Your session has expired. Sign in again." in form


async def test_a_forged_or_altered_cookie_signs_in_nobody(console: Console):
    await console.sign_in("alice")
    jar = console.client.session.cookie_jar
    value = next(c.value for c in jar if c.key == "pager_session")
    later = (console.h.clock.now() + timedelta(days=1)).isoformat()
    claims = {"n": "x", "p": "bob", "e": later, "s": ""}
    forged = URLSafeSerializer("not the key" * 4, salt="pager.session").dumps(claims)
    body, _, signature = value.rpartition(".")
    altered = f"{body}.{signature[:5]}{'A' if signature[5] != 'A' else 'B'}{signature[6:]}"
    for cookie in (forged, altered):
        jar.clear()
        jar.update_cookies({"pager_session": cookie})
        await console.page("/", status=303)
    jar.clear()
    jar.update_cookies({"pager_session": value})
    await console.page("/")  # the original still works: the refusals were the changes'


async def test_a_new_password_signs_out_older_sessions(console: Console, web_config):
    await console.sign_in("alice")
    await console.page("/")
    write_web_config(web_config, {"alice": "a-new-password", "bob": "bob-password"})
    await console.page("/", status=303)
    form = await console.page("/sign-in")
    assert "Your sign-in was withdrawn" in form
    await console.sign_in("alice", "a-new-password")
    await console.page("/")


async def test_a_web_user_who_is_no_person_of_the_policy_cannot_sign_in(start_console, tmp_path):
    path = write_web_config(tmp_path / "other.yml", {"zed": "zed-password"})
    console = await start_console(web_config=path)
    resp = await console.sign_in("zed", "zed-password", status=403)
    assert "not a person of the policy" in await resp.text()


async def test_sign_out_ends_the_session(console: Console):
    await console.sign_in("alice")
    resp = await console.post("/sign-out")
    assert resp.headers["Location"] == "/sign-in"
    await console.page("/", status=303)


async def test_without_users_the_form_says_how_to_add_one(start_console, tmp_path):
    console = await start_console(web_config=tmp_path / "absent.yml")
    form = await console.page("/sign-in")
    assert "No console users are set up yet" in form
    assert f"pager web-user add alice --file {tmp_path / 'absent.yml'}" in form
