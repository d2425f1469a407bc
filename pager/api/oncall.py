"""Who is on call (`GET /api/v1/oncall`) and temporary overrides (`/api/v1/overrides`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aiohttp import web

from pager.api.params import instant, number, text, wall_clock
from pager.core.rotation import find_overlap
from pager.http import ApiError, admin, json_response, read_json
from pager.oncall import oncall_at
from pager.policy.model import Policy, RotationOverride
from pager.store import overrides as store
from pager.store.models import Override


async def oncall(request: web.Request) -> web.Response:
    pager = admin(request)
    at = instant(request.query["at"], "at") if "at" in request.query else pager.clock.now()
    found = await oncall_at(pager, at)
    rotation = request.query.get("rotation")
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
    rotation = request.query.get("rotation")
    since = None if request.query.get("all") else pager.clock.now()
    async with pager.db.read() as session:
        rows = await store.list_overrides(session, since, rotation)
    return json_response({"overrides": [_view(r) for r in rows]})


async def create_override(request: web.Request) -> web.Response:
    pager = admin(request)
    body = await read_json(request)
    policy = pager.policies.active.policy
    new, rotation = _validated(body, policy)
    async with pager.db.write() as session:
        existing = await store.list_overrides(session, new.start, rotation)
        spec = policy.rotation(rotation)
        known = [*spec.overrides, *(store.as_policy(row) for row in existing)]
        clash = find_overlap(known, new, spec.timezone)
        if clash is not None:
            raise ApiError(
                409,
                f"overlaps an override of {clash.person} for {rotation} from "
                f"{clash.start.isoformat()} to {clash.end.isoformat()}",
            )
        row = Override(
            rotation_id=rotation,
            person_id=new.person,
            replaces=new.replaces,
            start=new.start,
            end=new.end,
            note=str(body.get("note") or ""),
            created_at=pager.clock.now(),
            created_by=body.get("by"),
        )
        session.add(row)
        await session.flush()
        view = _view(row)
    pager.engine.wake()
    return json_response(view, status=201)


def _validated(body: dict[str, Any], policy: Policy) -> tuple[RotationOverride, str]:
    rotation = text(body, "rotation") or ""
    if rotation not in {r.id for r in policy.rotations}:
        raise ApiError(404, f"no rotation {rotation!r}")
    person = text(body, "person") or ""
    people = {p.id for p in policy.people}
    if person not in people:
        raise ApiError(400, f"person {person!r} is not in the policy")
    replaces = text(body, "replaces", required=False)
    if replaces is not None and replaces not in policy.rotation(rotation).members:
        raise ApiError(400, f"replaces: {replaces!r} is not a member of {rotation}")
    zone = policy.rotation(rotation).timezone  # times without an offset are read there
    start, end = (
        wall_clock(body.get("start"), "start", zone),
        wall_clock(body.get("end"), "end", zone),
    )
    if end <= start:
        raise ApiError(400, "end must be after start")
    return RotationOverride(person=person, start=start, end=end, replaces=replaces), rotation


async def delete_override(request: web.Request) -> web.Response:
    pager = admin(request)
    override_id = number(request.match_info["id"], "override id")
    async with pager.db.write() as session:
        if not await store.delete_override(session, override_id):
            raise ApiError(404, f"no override {override_id}")
    pager.engine.wake()
    return json_response({"status": "deleted", "id": override_id})
