"""The vendored files: served under their content hash, cached for good, and
exactly the files VENDOR.md lists."""

from __future__ import annotations

import hashlib
import re

from pager.web.assets import STATIC, Assets
from tests.web.console import Console

VENDORED = ("htmx.min.js", "htmx-ext-sse.min.js", "pico.min.css")


def test_vendor_md_lists_each_vendored_file_with_its_sha256():
    listed = dict(
        re.findall(
            r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", (STATIC / "VENDOR.md").read_text(), re.M
        )
    )
    assert set(listed) == set(VENDORED)
    for name, digest in listed.items():
        assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == digest, name
    for licence in ("LICENSE.htmx.org.txt", "LICENSE.htmx-ext-sse.txt", "LICENSE.pico.txt"):
        assert (STATIC / licence).stat().st_size > 100


def test_htmx_is_the_2_x_line_its_sse_extension_was_made_for():
    head = (STATIC / "htmx.min.js").read_text()[:20000]
    assert 'version:"2.0.11"' in head


async def test_assets_are_served_under_their_hash_with_long_cache(console: Console):
    assets = Assets()
    page = await console.page("/sign-in")
    for name in (*VENDORED, "console.css", "console.js"):
        url = assets.url_path(name)
        digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()
        assert url.endswith(name.rsplit(".", 1)[1])
        assert digest[:10] in url
        assert f'"{url}"' in page
        resp = await console.client.get(url)
        assert resp.status == 200
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert await resp.read() == (STATIC / name).read_bytes()
        again = await console.client.get(url, headers={"If-None-Match": resp.headers["ETag"]})
        assert again.status == 304


async def test_unhashed_or_unknown_names_are_not_served(console: Console):
    for path in (
        "/static/htmx.min.js",
        "/static/VENDOR.md",
        "/static/LICENSE.pico.txt",
        "/static/htmx.min.0000000000.js",
    ):
        assert (await console.client.get(path)).status == 404, path
