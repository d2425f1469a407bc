"""Who is on call (`GET /api/v1/oncall`) and temporary overrides (`/api/v1/overrides`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from pager.edge import ApiError, admin, json_response
from pager.inputs import (
    Body,
    Instant,
    Name,
    PersonRef,
    Query,
    Text,
    WallClock,
    body,
    ident,
    in_zone,
    parse,
)
from pager.oncall import oncall_at
from pager.overrides import NewOverride, OverrideClash, add_override, remove_override
from pager.policy.model import Policy, RotationOverride
from pager.store import overrides as store
from pager.store.models import Override


class OncallQuery(Query):
    at: Instant | None = None
    rotation: Name | None = None


class OverridesQuery(Query):
    rotation: Name | None = None
    all: str | None = None


class OverrideIn(Body):
    rotation: Name
    person: PersonRef
    replaces: Name | None = None
    start: WallClock  # without an offset: in the rotation's zone
    end: WallClock
    note: Text = ""
    by: PersonRef | None = None


class RemoveIn(Body):
    by: PersonRef | None = None


async def oncall(request: web.Request) -> web.Response:
    pager = admin(request)
    query = parse(OncallQuery, request.query)
    at = query.at or pager.clock.now()
    found = await oncall_at(pager, at)
    rotation = query.rotation
    if rotation is not None and rotation not in {r.rotation for r in found.rotations}:
        raise ApiError(404, f"no rotation {rotation!r}")
    rotations = [
        {**asdict(r), "override": r.override.model_dump(mode="json") if r.override else None}
        for r in found.rotations
        if rotation is None or r.rotation == rotation
    ]
    return json_response(
        {
            "at": at,
            "policy_version": found.policy_version,
            "rotations": rotations,
            "escalation_policies": [asdict(e) for e in found.escalations],
        }
    )


def _view(row: Override) -> dict[str, Any]:
    return {
        "id": row.id,
        "rotation": row.rotation_id,
        "person": row.person_id,
        "replaces": row.replaces,
        "start": row.start,
        "end": row.end,
        "note": row.note,
        "created_at": row.created_at,
        "created_by": row.created_by,
    }


async def list_overrides(request: web.Request) -> web.Response:
    pager = admin(request)
    query = parse(OverridesQuery, request.query)
    since = None if query.all else pager.clock.now()
    async with pager.db.read() as session:
        rows = await store.list_overrides(session, since, query.rotation)
    return json_response({"overrides": [_view(r) for r in rows]})


async def create_override(request: web.Request) -> web.Response:
    pager = admin(request)
    policy = pager.policies.active.policy
    given = await body(request, OverrideIn, policy)
    new, rotation = _validated(given, policy)
    try:
        row = await add_override(pager, NewOverride(rotation, new, given.note, given.by))
    except OverrideClash as exc:
        clash = exc.clash
        raise ApiError(
            409,
            f"overlaps an override of {clash.person} for {rotation} from "
            f"{clash.start.isoformat()} to {clash.end.isoformat()}",
        ) from None
    view = _view(row)
    return json_response(view, status=201)


def _validated(given: OverrideIn, policy: Policy) -> tuple[RotationOverride, str]:
    """What the body's fields mean together (each was checked on its own already)."""
    rotation, replaces = given.rotation, given.replaces
    if rotation not in {r.id for r in policy.rotations}:
        raise ApiError(404, f"no rotation {rotation!r}")
    if replaces is not None and replaces not in policy.rotation(rotation).members:
        raise ApiError(400, f"replaces: {replaces!r} is not a member of {rotation}")
    zone = ZoneInfo(policy.rotation(rotation).timezone)  # times without an offset are read there
    start, end = in_zone(given.start, zone), in_zone(given.end, zone)
    if end <= start:
        raise ApiError(400, "end must be after start")
    override = RotationOverride(person=given.person, start=start, end=end, replaces=replaces)
    return override, rotation


async def delete_override(request: web.Request) -> web.Response:
    pager = admin(request)
    override_id = ident(request.match_info["id"], "override id")
    by = (await body(request, RemoveIn, pager.policies.active.policy)).by
    if await remove_override(pager, override_id, by) is None:
        raise ApiError(404, f"no override {override_id}")
    return json_response({"status": "deleted", "id": override_id})
