"""helm/pager/values.schema.json: the chart's defaults pass, contradictions fail.

Helm merges user values over values.yaml before validating, so each case
here is a change applied to the defaults, the way `--set`/`-f` would be.
test_helm_chart.py checks that Helm itself enforces the same schema.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator  # type: ignore[import-untyped]

CHART = Path(__file__).resolve().parents[2] / "helm" / "pager"
SCHEMA = json.loads((CHART / "values.schema.json").read_text())
DEFAULTS = yaml.safe_load((CHART / "values.yaml").read_text())
VALIDATOR = Draft7Validator(SCHEMA)
PG_URL = "postgresql+asyncpg://pager:pw@db:5432/pager"
TWILIO = {"accountSid": "AC" + "0" * 32, "authToken": "t0ken", "from": "+15550100000"}
POLICIES = {"files": {"team.yaml": "people: []\n"}}
BCRYPT_HASH = "$2b$12$" + "N9qo8uLOickgx2ZMRZoMye" + "IjZAgcfl7p92ldGxad68LJZdL17lhWy"
PROXY = {"header": "X-Forwarded-Email", "trustedProxies": ["10.0.0.5/32", "::1"]}


def merged(overrides: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing: maps merge key by key, a null deletes a key."""

    def merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
        for key, value in top.items():
            if value is None:
                base.pop(key, None)
            elif isinstance(value, dict) and isinstance(base.get(key), dict):
                merge(base[key], value)
            else:
                base[key] = value
        return base

    return merge(copy.deepcopy(DEFAULTS), overrides)


def errors(overrides: dict[str, Any]) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(merged(overrides))]


def test_schema_is_valid_draft7() -> None:
    Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"


def test_defaults_validate() -> None:
    assert errors({}) == []


GOOD = {
    "postgresql with a url and 3 replicas": {
        "replicaCount": 3,
        "database": {"mode": "postgresql", "postgresql": {"url": PG_URL}},
    },
    "postgresql with an existing secret": {
        "replicaCount": 2,
        "database": {"mode": "postgresql", "postgresql": {"existingSecret": "db"}},
    },
    "twilio with credentials": {
        "twilio": {"enabled": True, **TWILIO},
        "publicUrl": "https://pager.example.com",
        "policies": POLICIES,
    },
    "twilio with an existing secret": {
        "twilio": {"enabled": True, "existingSecret": "twilio"},
        "publicUrl": "https://pager.example.com",
        "policies": {"existingConfigMap": "team-policies"},
    },
    "tokens given": {"auth": {"webhookToken": "w" * 32, "apiToken": "a" * 16}},
    "monitoring on": {"serviceMonitor": {"enabled": True}, "prometheusRule": {"enabled": True}},
    "web users": {"web": {"users": {"alice": BCRYPT_HASH, "bob.ops": BCRYPT_HASH}}},
    "web users in a secret": {"web": {"existingSecret": "web", "existingSecretKey": "users.yml"}},
    "web session key given": {"web": {"users": {"alice": BCRYPT_HASH}, "sessionKey": "k" * 32}},
    "web proxy auth": {"web": {"proxyAuth": PROXY}},
}

BAD = {
    "two replicas on sqlite": {"replicaCount": 2},
    "postgresql without url or secret": {"database": {"mode": "postgresql"}},
    "postgresql with a sync driver": {
        "database": {"mode": "postgresql", "postgresql": {"url": "postgresql://db/pager"}},
    },
    "twilio without credentials or secret": {
        "twilio": {"enabled": True},
        "publicUrl": "https://pager.example.com",
        "policies": POLICIES,
    },
    "twilio missing the auth token": {
        "twilio": {"enabled": True, **TWILIO, "authToken": ""},
        "publicUrl": "https://pager.example.com",
        "policies": POLICIES,
    },
    "twilio without a public url": {"twilio": {"enabled": True, **TWILIO}, "policies": POLICIES},
    "twilio paging the demo policy": {
        "twilio": {"enabled": True, **TWILIO},
        "publicUrl": "https://pager.example.com",
    },
    "a short token": {"auth": {"webhookToken": "short"}},
    "unknown mode": {"database": {"mode": "mysql"}},
    "a misspelt key": {"replicas": 2},
    "zero replicas": {"replicaCount": 0},
    "image tag latest": {"image": {"tag": "latest"}},
    "a policy file that is not yaml": {"policies": {"files": {"team.json": "{}"}}},
    "running as root allowed": {"podSecurityContext": {"runAsNonRoot": False}},
    "no podSecurityContext guard": {"podSecurityContext": {"runAsNonRoot": None}},
    "web user with a password, not a hash": {"web": {"users": {"alice": "hunter2"}}},
    "web user with a truncated hash": {"web": {"users": {"alice": BCRYPT_HASH[:-1]}}},
    "web user with an md5-crypt hash": {"web": {"users": {"alice": "$1$salt$" + "a" * 22}}},
    "web user id that is no person id": {"web": {"users": {"-alice": BCRYPT_HASH}}},
    "web users and a secret": {"web": {"users": {"alice": BCRYPT_HASH}, "existingSecret": "w"}},
    "web session key too short": {"web": {"sessionKey": "k" * 31}},
    "web proxy header without proxies": {"web": {"proxyAuth": {"header": "X-Forwarded-Email"}}},
    "web proxies without a header": {"web": {"proxyAuth": {"trustedProxies": ["10.0.0.5/32"]}}},
    "web proxies as one string": {"web": {"proxyAuth": {**PROXY, "trustedProxies": "10.0.0.5"}}},
    "web proxies joined by a comma": {
        "web": {"proxyAuth": {**PROXY, "trustedProxies": ["10.0.0.5/32,10.0.0.6/32"]}}
    },
    "web proxy header with a space": {"web": {"proxyAuth": {**PROXY, "header": "X Email"}}},
    "web misspelt key": {"web": {"user": {"alice": BCRYPT_HASH}}},
    "from not E.164": {
        "twilio": {"enabled": True, **TWILIO, "from": "5550100"},
        "publicUrl": "https://pager.example.com",
        "policies": POLICIES,
    },
}


@pytest.mark.parametrize("overrides", GOOD.values(), ids=GOOD.keys())
def test_good_values_validate(overrides: dict[str, Any]) -> None:
    assert errors(overrides) == []


@pytest.mark.parametrize("overrides", BAD.values(), ids=BAD.keys())
def test_bad_values_are_rejected(overrides: dict[str, Any]) -> None:
    assert errors(overrides)


def test_sqlite_replica_error_names_the_limit() -> None:
    assert any("greater than the maximum of 1" in e for e in errors({"replicaCount": 2}))


def test_the_bcrypt_pattern_is_the_one_pager_loads() -> None:
    """The schema refuses exactly what pager's web config loader would refuse at start."""
    from pager.web.passwords import hash_password
    from pager.web.webconfig import BCRYPT

    pattern = SCHEMA["properties"]["web"]["properties"]["users"]["additionalProperties"]
    samples = [hash_password("pw", cost=4), BCRYPT_HASH, BCRYPT_HASH[:-1], "$2x$12$" + "a" * 53]
    samples += ["$2a$12$" + "a" * 53, "$2y$04$" + "/" * 53, "hunter2", BCRYPT_HASH + "\n"]
    for sample in samples:
        by_schema = not list(Draft7Validator(pattern).iter_errors(sample))
        assert by_schema == bool(BCRYPT.fullmatch(sample)), sample


def test_web_is_off_by_default() -> None:
    web = DEFAULTS["web"]
    assert web["users"] == {}
    assert web["existingSecret"] == ""
    assert web["proxyAuth"] == {"header": "", "trustedProxies": []}
