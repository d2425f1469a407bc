"""The chart's web console values (`web:`), rendered by the real Helm library
as test_helm_chart.py does: the users file mounted where PAGER_WEB_CONFIG
points, the session key shared by every replica, the proxy settings, the
checksum that rolls the pods, and nothing of it when `web` is left alone.

The last test plays the kubelet: it writes the rendered Secrets and ConfigMap
where the pod would see them, resolves the pod's env, and runs two real
`pager serve` processes on two databases with it. A password sign-in on one
is accepted by the other, because the chart gave both one session key.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import aiohttp
import helm_sdkpy
import pytest

from pager.settings import load_settings
from pager.web.passwords import hash_password
from pager.web.webconfig import parse_web_config
from tests.deploy import test_helm_chart
from tests.deploy.test_helm_chart import (
    CHART,
    RELEASE,
    Rendered,
    _container,
    _env,
    _install,
    render,
)
from tests.observability.daemon import Daemon

PASSWORD = "correct horse battery"
HASH = hash_password(PASSWORD, cost=4)  # cost 4: quick to check in tests
OTHER = hash_password("another password", cost=4)
PROXY = {"header": "X-Forwarded-Email", "trustedProxies": ["127.0.0.1/32", "fd00::/8"]}
WEB_ENV = ("PAGER_WEB_CONFIG", "PAGER_SESSION_KEY", "PAGER_AUTH_PROXY_HEADER")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
kubeconfig = test_helm_chart.kubeconfig  # the stand-in Kubernetes API (a fixture)


def _pod(out: Rendered) -> dict[str, Any]:
    return out.one("Deployment")["spec"]["template"]  # type: ignore[no-any-return]


def _secret(out: Rendered, name: str) -> dict[str, str]:
    (found,) = [s for s in out.all("Secret") if s["metadata"]["name"] == name]
    return {k: base64.b64decode(v).decode() for k, v in found["data"].items()}


def _volumes(out: Rendered) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in _pod(out)["spec"]["volumes"]}


def _mounts(out: Rendered) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in _container(out.one("Deployment"))["volumeMounts"]}


def test_nothing_of_the_console_without_web_values(kubeconfig: str) -> None:
    out = render(kubeconfig)
    env = _env(out.one("Deployment"))
    assert not [name for name in env if name in WEB_ENV or name.startswith("PAGER_AUTH_PROXY")]
    assert "web" not in _volumes(out)
    assert "web" not in _mounts(out)
    assert "checksum/web" not in _pod(out)["metadata"]["annotations"]
    assert [s["metadata"]["name"] for s in out.all("Secret")] == ["r-pager"]
    assert "session-key" not in _secret(out, "r-pager")
    assert "Nobody can sign in yet" in out.notes
    assert "pager web-user add" in out.notes


def test_users_become_the_web_config_file_pager_reads(kubeconfig: str, tmp_path: Path) -> None:
    users = {"alice": HASH, "bob.ops": OTHER}
    out = render(kubeconfig, {"web": {"users": users}})
    text = _secret(out, "r-pager-web")["web.yml"]
    (tmp_path / "web.yml").write_text(text)
    assert dict(parse_web_config(tmp_path / "web.yml")) == users  # pager's own loader

    volume, mount = _volumes(out)["web"], _mounts(out)["web"]
    assert volume["secret"]["secretName"] == "r-pager-web"
    assert volume["secret"]["items"] == [{"key": "web.yml", "path": "web.yml"}]
    assert volume["secret"]["defaultMode"] == 0o440
    assert mount["readOnly"] is True
    assert "subPath" not in mount  # so an edited Secret reaches the running pod
    assert _env(out.one("Deployment"))["PAGER_WEB_CONFIG"] == mount["mountPath"] + "/web.yml"
    assert "Users sign in with the passwords of web.users" in out.notes


def test_existing_secret_replaces_the_charts_users(kubeconfig: str) -> None:
    web = {"existingSecret": "team-web", "existingSecretKey": "console.yml"}
    out = render(kubeconfig, {"web": web})
    assert "r-pager-web" not in [s["metadata"]["name"] for s in out.all("Secret")]
    volume = _volumes(out)["web"]["secret"]
    assert volume["secretName"] == "team-web"
    assert volume["items"] == [{"key": "console.yml", "path": "web.yml"}]
    assert _env(out.one("Deployment"))["PAGER_WEB_CONFIG"] == "/etc/pager/web/web.yml"
    assert "session-key" in _secret(out, "r-pager")


def test_users_change_the_web_checksum_but_a_generated_key_does_not(kubeconfig: str) -> None:
    def checksum(web: dict[str, Any]) -> str:
        annotations = _pod(render(kubeconfig, {"web": web}))["metadata"]["annotations"]
        return annotations["checksum/web"]  # type: ignore[no-any-return]

    alice = {"users": {"alice": HASH}}
    assert checksum(alice) == checksum(alice)  # the session key is random on each render
    assert checksum(alice) != checksum({"users": {"alice": OTHER}})  # a new password
    assert checksum(alice) != checksum({"users": {"alice": HASH, "bob": OTHER}})
    assert checksum(alice) != checksum({**alice, "sessionKey": "k" * 32})
    assert checksum({"existingSecret": "a"}) != checksum({"existingSecret": "b"})


def test_session_key_is_generated_long_enough_or_taken_from_values(kubeconfig: str) -> None:
    out = render(kubeconfig, {"web": {"users": {"alice": HASH}}})
    generated = _secret(out, "r-pager")["session-key"]
    assert len(generated) >= 32
    assert _env(out.one("Deployment"))["PAGER_SESSION_KEY"] == {
        "secretKeyRef": {"name": "r-pager", "key": "session-key"}
    }
    given = render(kubeconfig, {"web": {"users": {"alice": HASH}, "sessionKey": "s" * 40}})
    assert _secret(given, "r-pager")["session-key"] == "s" * 40


def test_session_key_is_in_the_charts_secret_even_with_your_own_tokens(
    kubeconfig: str,
) -> None:
    out = render(kubeconfig, {"auth": {"existingSecret": "tokens"}, "web": {"users": {"a": HASH}}})
    assert list(_secret(out, "r-pager")) == ["session-key"]
    env = _env(out.one("Deployment"))
    assert env["PAGER_API_TOKEN"]["secretKeyRef"]["name"] == "tokens"
    assert env["PAGER_SESSION_KEY"]["secretKeyRef"]["name"] == "r-pager"


def test_proxy_auth_becomes_settings_pager_accepts(
    kubeconfig: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = render(kubeconfig, {"web": {"proxyAuth": PROXY}})
    env = _env(out.one("Deployment"))
    assert env["PAGER_AUTH_PROXY_HEADER"] == "X-Forwarded-Email"
    assert env["PAGER_AUTH_PROXY_TRUSTED"] == "127.0.0.1/32, fd00::/8"
    assert "PAGER_WEB_CONFIG" not in env  # no users file: sign-in is the proxy's
    assert "web" not in _volumes(out)
    assert "PAGER_SESSION_KEY" in env  # the console's CSRF cookie is signed too
    for name in ("PAGER_AUTH_PROXY_HEADER", "PAGER_AUTH_PROXY_TRUSTED"):
        monkeypatch.setenv(name, env[name])
    settings = load_settings()
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32", "fd00::/8"]
    assert "trusted only\n   from 127.0.0.1/32, fd00::/8" in out.notes


@pytest.mark.parametrize(
    ("web", "refused"),
    [
        ({"users": {"alice": "hunter2"}}, "alice"),  # a password, not its hash
        ({"users": {"alice": "$1$md5crypt$abcdefghijklmnopqrstuv"}}, "alice"),
        ({"proxyAuth": {"header": "X-Forwarded-Email"}}, "trustedProxies"),
        ({"users": {"alice": HASH}, "existingSecret": "mine"}, "web"),
    ],
    ids=["plain password", "not bcrypt", "header without proxies", "users and a secret"],
)
def test_helm_refuses_web_values_the_schema_refuses(
    kubeconfig: str, web: dict[str, Any], refused: str
) -> None:
    with pytest.raises(helm_sdkpy.InstallError, match=refused):
        _install(kubeconfig, CHART, {"web": web}, RELEASE)


# --- the rendered pod, run for real ------------------------------------------


def _kubelet(out: Rendered, root: Path) -> dict[str, str]:
    """The pod's environment, with its Secret and ConfigMap volumes written under
    `root` as the kubelet would mount them, and paths into them rewritten there."""
    data = {("Secret", s["metadata"]["name"]): s["data"] for s in out.all("Secret")}
    for config_map in out.all("ConfigMap"):
        plain = config_map["data"].items()
        encoded = {k: base64.b64encode(v.encode()).decode() for k, v in plain}
        data["ConfigMap", config_map["metadata"]["name"]] = encoded
    mounts = _mounts(out)
    moved: dict[str, Path] = {}
    for volume in _pod(out)["spec"]["volumes"]:
        source = volume.get("secret") or volume.get("configMap")
        if source is None:
            continue
        kind, name = (
            ("Secret", source["secretName"])
            if "secret" in volume
            else (
                "ConfigMap",
                source["name"],
            )
        )
        target = root / mounts[volume["name"]]["mountPath"].lstrip("/")
        target.mkdir(parents=True)
        items = source.get("items") or [{"key": k, "path": k} for k in data[kind, name]]
        for item in items:
            (target / item["path"]).write_bytes(base64.b64decode(data[kind, name][item["key"]]))
            (target / item["path"]).chmod(source.get("defaultMode", 0o644))
        moved[mounts[volume["name"]]["mountPath"]] = target
    env = {}
    for name, value in _env(out.one("Deployment")).items():
        if isinstance(value, dict):
            ref = value["secretKeyRef"]
            value = base64.b64decode(data["Secret", ref["name"]][ref["key"]]).decode()
        for mount_path, target in moved.items():
            if value.startswith(mount_path + "/") or value == mount_path:
                value = str(target) + value[len(mount_path) :]
        env[name] = value
    return env


async def _sign_in(url: str, password: str) -> aiohttp.ClientResponse:
    jar = aiohttp.CookieJar(unsafe=True)  # 127.0.0.1 is an address, not a domain
    async with aiohttp.ClientSession(cookie_jar=jar) as browser:
        async with browser.get(url + "/sign-in") as form:
            match = CSRF.search(await form.text())
            assert match, "no CSRF token on the sign-in form"
        fields = {"person": "alice", "password": password, "csrf": match.group(1), "next": "/"}
        async with browser.post(url + "/sign-in", data=fields, allow_redirects=False) as resp:
            await resp.read()
            return resp


@pytest.fixture
def pod_env(kubeconfig: str, tmp_path: Path) -> dict[str, str]:
    """The console's part of the pod's env (rendered here: Helm runs its own event loop)."""
    out = render(kubeconfig, {"web": {"users": {"alice": HASH}}})  # the demo policy's alice
    env = _kubelet(out, tmp_path / "pod")
    return {name: env[name] for name in ("PAGER_WEB_CONFIG", "PAGER_SESSION_KEY", "PAGER_POLICIES")}


async def test_a_sign_in_with_the_rendered_file_is_accepted_by_another_replica(
    pod_env: dict[str, str], tmp_path: Path
) -> None:
    replicas = []
    try:
        for name in ("one", "two"):  # two databases: no key can come from a shared one
            (tmp_path / name).mkdir()
            replicas.append(await Daemon.start(tmp_path / name, "", **pod_env))
        one, two = replicas
        assert (await _sign_in(one.url, "wrong password")).status == 401
        signed_in = await _sign_in(one.url, PASSWORD)
        assert signed_in.status == 303, await signed_in.text()
        cookie = signed_in.cookies["pager_session"].value
        async with (
            aiohttp.ClientSession() as other,
            other.get(
                two.url + "/", headers={"Cookie": f"pager_session={cookie}"}, allow_redirects=False
            ) as page,
        ):
            assert page.status == 200, page.headers.get("Location")
            assert "Alice Doe" in await page.text()
    finally:
        for replica in replicas:
            replica.stop()
