"""Console forms that change the schedule: an override made (cover a block, a
range, take or give a shift) or removed.

Both go through pager.overrides, as the API does, with the signed-in person
recorded as their author. A refused one (an overlap: 409; a form that does not
make sense: 400) shows the page it came from again, with the reason beside the
form and what was typed kept; success is 303 back there with a note.
"""

from __future__ import annotations

from aiohttp import web

from pager.overrides import NewOverride, OverrideClash, add_override, remove_override
from pager.policy.model import Policy, RotationOverride
from pager.services import pager_of
from pager.web.acting import redirect
from pager.web.auth import ConsoleError, Identity, Viewer
from pager.web.fmt import local
from pager.web.forms import Refused, moment
from pager.web.guard import Form, form, local_path
from pager.web.my import render_my
from pager.web.schedule import render_schedule
from pager.web.views import name_of


def read(data: Form, policy: Policy) -> NewOverride:
    rotation = data.get("rotation", "")
    if rotation not in {r.id for r in policy.rotations}:
        raise ConsoleError(404, f"There is no rotation {rotation!r}.", "No such rotation")
    spec = policy.rotation(rotation)
    person = data.get("person", "")
    if policy.person_by_id(person) is None:
        raise Refused("Choose who covers.")
    replaces = data.get("replaces") or None
    if replaces is not None and replaces not in spec.members:
        raise Refused(f"{replaces} is not a member of {rotation}.")
    zone = data.get("zone") or spec.timezone
    start, end = moment(data.get("start"), zone, "start"), moment(data.get("end"), zone, "end")
    if end <= start:
        raise Refused("The end must be after the start.")
    if person == replaces:
        raise Refused(f"{name_of(policy, person)} cannot cover for themselves.")
    note = (data.get("note") or "").strip()[:500]
    return NewOverride(
        rotation, RotationOverride(person=person, start=start, end=end, replaces=replaces), note
    )


def clash_text(policy: Policy, exc: OverrideClash, zone: str) -> str:
    c = exc.clash
    whose = f"{name_of(policy, c.replaces)}'s turns" if c.replaces else "the whole rotation"
    return (
        f"Refused: it overlaps {name_of(policy, c.person)}'s override of {whose} in "
        f"{exc.rotation}, {local(c.start, zone)} to {local(c.end, zone)}. "
        "Remove that override first, or choose a time that does not overlap it."
    )


@form
async def add(
    request: web.Request, identity: Identity, viewer: Viewer, data: Form
) -> web.StreamResponse:
    pager = pager_of(request)
    policy = pager.policies.active.policy
    back = local_path(data.get("back")) or "/my"
    try:
        new = read(data, policy)
        made = await add_override(
            pager, NewOverride(new.rotation, new.override, new.note, viewer.person.id)
        )
    except Refused as exc:
        return await show_again(request, identity, viewer, back, data, str(exc), 400)
    except OverrideClash as exc:
        text = clash_text(policy, exc, viewer.person.timezone)
        return await show_again(request, identity, viewer, back, data, text, 409)
    instead = f" for {name_of(policy, made.replaces)}" if made.replaces else ""
    zone = viewer.person.timezone
    note = (
        f"Override made: {name_of(policy, made.person_id)} covers{instead} in {made.rotation_id}, "
        f"{local(made.start, zone)} to {local(made.end, zone)}."
    )
    return redirect(request, back, note)


@form
async def remove(
    request: web.Request, identity: Identity, viewer: Viewer, data: Form
) -> web.StreamResponse:
    raw = request.match_info["id"]
    back = local_path(data.get("back")) or "/my"
    gone = await remove_override(
        pager_of(request), int(raw) if raw.isdigit() else 0, viewer.person.id
    )
    if gone is None:
        raise ConsoleError(
            404, f"There is no override {raw} (removed already?).", "No such override"
        )
    policy = pager_of(request).policies.active.policy
    who = name_of(policy, gone.person_id)
    return redirect(request, back, f"Override removed: {who} no longer covers {gone.rotation_id}.")


async def show_again(
    request: web.Request,
    identity: Identity,
    viewer: Viewer,
    back: str,
    data: Form,
    error: str,
    status: int,
) -> web.Response:
    problem = {k: data.get(k, "") for k in ("person", "replaces", "start", "end", "note", "form")}
    problem["error"] = error
    if back.startswith("/schedule/"):
        response = await render_schedule(request, identity, viewer, back, problem, status)
    else:
        response = await render_my(request, identity, viewer, problem, status)
    response.headers["HX-Push-Url"] = pager_of(request).settings.url_prefix + back
    return response
