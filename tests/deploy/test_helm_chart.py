"""The Helm chart, linted and rendered by the real Helm library (helm-sdkpy).

helm-sdkpy bundles Helm v4 as a shared library. It has Lint but no
template/render action, so rendering goes through its Install action pointed
at a stand-in Kubernetes API on 127.0.0.1: the stand-in answers discovery,
says no resource exists yet, and on the release record Helm stores before
creating anything (a Secret holding the rendered manifest, hooks and notes)
keeps a copy and refuses it, which ends the install. What is asserted is
therefore exactly what `helm install` would send, schema validation included.

What this does not cover (see docs/deploy.md): the API server's own
validation, admission, scheduling, probes really passing, the hook Job
really migrating.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "pager"
RULES = ROOT / "deploy" / "prometheus" / "pager.rules.yml"
ERROR = 3  # Helm's lint severity for an error (1 info, 2 warning)
PG_URL = "postgresql+asyncpg://p:s@db/pager"
POSTGRES: dict[str, Any] = {"database": {"mode": "postgresql", "postgresql": {"url": PG_URL}}}

try:
    import helm_sdkpy
except ImportError as exc:  # fail, never skip: CI must run these
    raise RuntimeError(
        "helm-sdkpy is not installed: run .ci/install-deploy-tools.sh "
        "(pip install --ignore-requires-python helm-sdkpy)"
    ) from exc


# --- a stand-in Kubernetes API --------------------------------------------


def _resource(name: str, kind: str) -> dict[str, Any]:
    verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
    return {"name": name, "singularName": "", "namespaced": True, "kind": kind, "verbs": verbs}


_CORE = [
    _resource("configmaps", "ConfigMap"),
    _resource("secrets", "Secret"),
    _resource("services", "Service"),
    _resource("persistentvolumeclaims", "PersistentVolumeClaim"),
]
_GROUPS = {
    "apps/v1": [_resource("deployments", "Deployment")],
    "batch/v1": [_resource("jobs", "Job")],
    "policy/v1": [_resource("poddisruptionbudgets", "PodDisruptionBudget")],
    "monitoring.coreos.com/v1": [
        _resource("servicemonitors", "ServiceMonitor"),
        _resource("prometheusrules", "PrometheusRule"),
    ],
}


def _discovery(path: str) -> dict[str, Any] | None:
    if path == "/version":
        return {"major": "1", "minor": "31", "gitVersion": "v1.31.0"}
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
    if path == "/api/v1":
        return {"kind": "APIResourceList", "groupVersion": "v1", "resources": _CORE}
    if path == "/apis":
        groups = []
        for gv in _GROUPS:
            group, version = gv.split("/")
            ref = {"groupVersion": gv, "version": version}
            groups.append({"name": group, "versions": [ref], "preferredVersion": ref})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
    gv = path.removeprefix("/apis/")
    if gv in _GROUPS:
        return {"kind": "APIResourceList", "groupVersion": gv, "resources": _GROUPS[gv]}
    return None


def _status(code: int, reason: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "code": code,
    }


class _FakeKube(BaseHTTPRequestHandler):
    releases: ClassVar[dict[str, dict[str, Any]]] = {}

    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?")[0]
        found = _discovery(path)
        if found is not None:
            return self._send(200, found)
        if self.command == "GET" and path.endswith("/secrets"):  # release history
            return self._send(200, {"kind": "SecretList", "apiVersion": "v1", "items": []})
        if self.command == "GET":  # nothing exists yet; lookup() finds nothing
            return self._send(404, _status(404, "NotFound"))
        if self.command == "POST" and path.endswith("/secrets"):
            self._keep_release(body)
        return self._send(403, _status(403, "Forbidden"))

    def _keep_release(self, body: bytes) -> None:
        # The body is protobuf; the release is gzip+base64 text inside it.
        match = re.search(rb"H4sI[A-Za-z0-9+/=]+", body)
        if match:
            release = json.loads(gzip.decompress(base64.b64decode(match.group(0))))
            self.releases[release["name"]] = release

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeKube)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    path = tmp_path_factory.mktemp("kube") / "config"
    cluster = {"server": f"http://127.0.0.1:{server.server_address[1]}"}
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "fake", "cluster": cluster}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "u"}}],
                "current-context": "fake",
            }
        )
    )
    yield str(path)
    server.shutdown()
    thread.join()


RELEASE = "r"  # renders run one at a time; each pops its release


class Rendered:
    """The manifests (hooks included) and notes of one release."""

    def __init__(self, release: dict[str, Any]) -> None:
        docs = [release.get("manifest", "")] + [h["manifest"] for h in release.get("hooks", [])]
        self.objects = [o for d in docs for o in yaml.safe_load_all(d) if o]
        self.notes: str = release["info"].get("notes", "")

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str) -> dict[str, Any]:
        (found,) = self.all(kind)
        return found


def _install(
    kubeconfig: str, chart: Path, values: dict[str, Any], name: str, skip_schema: bool = False
) -> None:
    config = helm_sdkpy.Configuration(namespace="ops", kubeconfig=kubeconfig)
    install = helm_sdkpy.Install(config)
    asyncio.run(
        install.run(
            name, str(chart), values, wait=False, timeout=10, skip_schema_validation=skip_schema
        )
    )


def render(
    kubeconfig: str, values: dict[str, Any] | None = None, skip_schema: bool = False
) -> Rendered:
    with pytest.raises(helm_sdkpy.InstallError) as refused:  # the stand-in refuses the release
        _install(kubeconfig, CHART, values or {}, RELEASE, skip_schema)
    assert RELEASE in _FakeKube.releases, f"Helm rendered nothing: {refused.value}"
    return Rendered(_FakeKube.releases.pop(RELEASE))


def _env(deployment: dict[str, Any]) -> dict[str, Any]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def _container(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]["containers"][0]  # type: ignore[no-any-return]


def _lint(chart: Path) -> dict[str, Any]:
    config = helm_sdkpy.Configuration()
    return asyncio.run(helm_sdkpy.Lint(config).run(str(chart)))


def _errors(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in result["Messages"] if m["Severity"] >= ERROR]


def _copy_chart(tmp_path: Path) -> Path:
    return Path(shutil.copytree(CHART, tmp_path / "pager"))


# --- lint --------------------------------------------------------------------


def test_chart_lints_without_errors_or_warnings() -> None:
    result = _lint(CHART)
    assert result["Errors"] is None
    assert [m for m in result["Messages"] if m["Severity"] > 1] == []


def test_chart_lints_in_postgresql_mode_with_everything_on(tmp_path: Path) -> None:
    chart = _copy_chart(tmp_path)
    values = yaml.safe_load((chart / "values.yaml").read_text())
    values["database"]["mode"] = "postgresql"
    values["database"]["postgresql"]["url"] = PG_URL
    values["replicaCount"] = 3
    values["serviceMonitor"]["enabled"] = values["prometheusRule"]["enabled"] = True
    values["web"]["users"] = {"alice": "$2b$12$" + "a" * 53}
    values["web"]["proxyAuth"] = {"header": "X-Forwarded-Email", "trustedProxies": ["::1"]}
    (chart / "values.yaml").write_text(yaml.safe_dump(values))
    assert _lint(chart)["Errors"] is None


def test_lint_reports_a_broken_template(tmp_path: Path) -> None:
    chart = _copy_chart(tmp_path)
    service = chart / "templates" / "service.yaml"
    service.write_text(service.read_text() + "\n  broken: {{ .Values.nothing.here }}\n")
    result = _lint(chart)
    assert result["Errors"], "lint accepted a template that cannot render"
    assert [m["Path"] for m in _errors(result)] == ["templates/"]


def test_lint_reports_values_the_schema_refuses(tmp_path: Path) -> None:
    chart = _copy_chart(tmp_path)
    values = chart / "values.yaml"
    values.write_text(values.read_text().replace("replicaCount: 1", "replicaCount: 3"))
    assert _errors(_lint(chart))


# --- rendering ---------------------------------------------------------------


def test_sqlite_mode_is_one_pod_recreated_on_a_claim(kubeconfig: str) -> None:
    out = render(kubeconfig)
    deployment = out.one("Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    claim = out.one("PersistentVolumeClaim")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert _env(deployment)["PAGER_DATABASE_URL"] == "sqlite+aiosqlite:////var/lib/pager/pager.db"
    assert _container(deployment)["args"] == ["serve"]  # serve migrates the file itself
    assert out.all("Job") == []
    assert out.all("PodDisruptionBudget") == []


def test_postgresql_mode_scales_and_migrates_in_a_hook(kubeconfig: str) -> None:
    out = render(kubeconfig, {**POSTGRES, "replicaCount": 3})
    deployment = out.one("Deployment")
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert out.all("PersistentVolumeClaim") == []
    assert _container(deployment)["args"] == ["serve", "--no-migrate"]
    job = out.one("Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert _container(job)["args"] == ["migrate"]
    assert out.one("PodDisruptionBudget")["spec"]["minAvailable"] == 1


def test_migration_pod_is_not_behind_the_service(kubeconfig: str) -> None:
    out = render(kubeconfig, POSTGRES)
    selector = out.one("Service")["spec"]["selector"].items()
    job_labels = out.one("Job")["spec"]["template"]["metadata"]["labels"].items()
    pod_labels = out.one("Deployment")["spec"]["template"]["metadata"]["labels"].items()
    assert selector <= pod_labels
    assert not selector <= job_labels


def test_database_url_reaches_pods_and_hook_only_through_secrets(kubeconfig: str) -> None:
    out = render(kubeconfig, POSTGRES)
    url = base64.b64encode(PG_URL.encode()).decode()
    secrets = {s["metadata"]["name"]: s for s in out.all("Secret")}
    assert secrets["r-pager"]["data"]["database-url"] == url
    hook = secrets["r-pager-migrate"]["metadata"]["annotations"]
    assert int(hook["helm.sh/hook-weight"]) < int(
        out.one("Job")["metadata"]["annotations"]["helm.sh/hook-weight"]
    )
    assert "postgresql" not in json.dumps(out.one("Deployment"))


def test_replica_count_is_refused_by_helm_on_sqlite(kubeconfig: str) -> None:
    with pytest.raises(helm_sdkpy.InstallError, match="replicaCount"):
        _install(kubeconfig, CHART, {"replicaCount": 2}, RELEASE)


def test_sqlite_stays_one_pod_even_past_the_schema(kubeconfig: str) -> None:
    out = render(kubeconfig, {"replicaCount": 3}, skip_schema=True)  # --skip-schema-validation
    assert out.one("Deployment")["spec"]["replicas"] == 1
    assert out.all("PodDisruptionBudget") == []


def test_policy_change_changes_the_checksum(kubeconfig: str) -> None:
    def checksum(files: dict[str, str]) -> str:
        pod = render(kubeconfig, {"policies": {"files": files}}).one("Deployment")["spec"][
            "template"
        ]
        return pod["metadata"]["annotations"]["checksum/policies"]  # type: ignore[no-any-return]

    base = {"a.yaml": "people: []\n"}
    assert checksum(base) == checksum(dict(base))
    assert checksum(base) != checksum({"a.yaml": "people: []\nrules: []\n"})


def test_secret_change_changes_the_checksum_but_generated_tokens_do_not(kubeconfig: str) -> None:
    def checksum(values: dict[str, Any]) -> str:
        pod = render(kubeconfig, values).one("Deployment")["spec"]["template"]
        return pod["metadata"]["annotations"]["checksum/secret"]  # type: ignore[no-any-return]

    assert checksum({}) == checksum({})  # tokens are random each render
    assert checksum({}) != checksum({"auth": {"webhookToken": "w" * 16}})


def test_policies_become_the_mounted_config_map(kubeconfig: str) -> None:
    files = {"team.yaml": "people: []\n", "rules.yaml": "rules: []\n"}
    out = render(kubeconfig, {"policies": {"files": files}})
    config_map = out.one("ConfigMap")
    assert {k: v.strip() for k, v in config_map["data"].items()} == {
        k: v.strip() for k, v in files.items()
    }
    deployment = out.one("Deployment")
    assert _env(deployment)["PAGER_POLICIES"] == "/etc/pager/policies"
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["policies"]["configMap"]["name"] == config_map["metadata"]["name"]


def test_existing_config_map_replaces_the_charts(kubeconfig: str) -> None:
    out = render(kubeconfig, {"policies": {"existingConfigMap": "mine", "files": None}})
    assert out.all("ConfigMap") == []
    volumes = out.one("Deployment")["spec"]["template"]["spec"]["volumes"]
    assert {"name": "policies", "configMap": {"name": "mine"}} in volumes


def test_tokens_are_generated_or_taken_from_values(kubeconfig: str) -> None:
    generated = render(kubeconfig).one("Secret")["data"]
    assert len(base64.b64decode(generated["webhook-token"])) == 32
    given = render(kubeconfig, {"auth": {"apiToken": "a" * 20}}).one("Secret")["data"]
    assert base64.b64decode(given["api-token"]) == b"a" * 20


def test_existing_secrets_replace_the_charts(kubeconfig: str) -> None:
    values = {
        "auth": {"existingSecret": "tokens"},
        "twilio": {"enabled": True, "existingSecret": "twilio"},
        "publicUrl": "https://pager.example.com",
        "policies": {"existingConfigMap": "mine"},
    }
    out = render(kubeconfig, values)
    assert out.all("Secret") == []
    env = _env(out.one("Deployment"))
    assert env["PAGER_WEBHOOK_TOKEN"] == {
        "secretKeyRef": {"name": "tokens", "key": "webhook-token"}
    }
    assert env["TWILIO_AUTH_TOKEN"] == {"secretKeyRef": {"name": "twilio", "key": "auth-token"}}
    assert env["PAGER_PUBLIC_URL"] == "https://pager.example.com"


def test_pod_runs_locked_down_with_probes(kubeconfig: str) -> None:
    deployment = render(kubeconfig).one("Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = _container(deployment)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert _env(deployment)["PAGER_LISTEN"] == "0.0.0.0:8080"


@pytest.mark.parametrize("enabled", [False, True])
def test_monitoring_objects_only_when_toggled(kubeconfig: str, enabled: bool) -> None:
    toggles = {"serviceMonitor": {"enabled": enabled}, "prometheusRule": {"enabled": enabled}}
    out = render(kubeconfig, toggles)
    assert len(out.all("ServiceMonitor")) == len(out.all("PrometheusRule")) == int(enabled)


def test_prometheus_rule_carries_the_rules_file_verbatim(kubeconfig: str) -> None:
    out = render(
        kubeconfig, {"prometheusRule": {"enabled": True}, "serviceMonitor": {"enabled": True}}
    )
    assert out.one("PrometheusRule")["spec"] == yaml.safe_load(RULES.read_text())
    relabel = out.one("ServiceMonitor")["spec"]["endpoints"][0]["relabelings"]
    assert {"action": "replace", "targetLabel": "job", "replacement": "pager"} in relabel


def test_notes_show_an_authenticated_alertmanager_receiver(kubeconfig: str) -> None:
    notes = render(kubeconfig).notes
    assert "http://r-pager.ops.svc.cluster.local:8080/api/v1/alerts/alertmanager" in notes
    assert "authorization:" in notes
    assert "credentials_file:" in notes
    assert "DRY-RUN" in notes  # twilio is off by default


def test_demo_policy_is_a_valid_policy() -> None:
    from pager.policy.model import Policy

    Policy.model_validate(yaml.safe_load((CHART / "files" / "example-policy.yaml").read_text()))


def test_demo_policy_is_mounted_only_without_files(kubeconfig: str) -> None:
    demo = render(kubeconfig).one("ConfigMap")["data"]
    assert list(demo) == ["example.yaml"]
    assert "+15550100001" in demo["example.yaml"]
    assert "DEMO policy" in render(kubeconfig).notes
    mine = render(kubeconfig, {"policies": {"files": {"team.yaml": "people: []\n"}}})
    assert list(mine.one("ConfigMap")["data"]) == ["team.yaml"]
    assert "DEMO policy" not in mine.notes
