"""`GET /api/v1/report[?since=30d]`: on-call health over a period (pager.insights).

`since` is a duration back from now (`30d`, `2w`; default 30d, at most 366d)
or an ISO-8601 instant with an offset; the period ends now. Durations in the
answer are seconds; shares are fractions of the period (0.12 = 12 %).
"""

from __future__ import annotations

from aiohttp import web

from pager.edge import ApiError, admin, json_response
from pager.inputs import Name, Query, parse
from pager.insights import BadPeriod, as_json, report, since_of


class ReportQuery(Query):
    since: Name | None = None


async def get_report(request: web.Request) -> web.Response:
    pager = admin(request)
    query = parse(ReportQuery, request.query)
    now = pager.clock.now()
    try:
        since = since_of(query.since, now)
    except BadPeriod as exc:
        raise ApiError(400, str(exc)) from None
    return json_response(as_json(await report(pager, since, now)))
