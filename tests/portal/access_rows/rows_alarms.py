"""Alarms: staff only; a site administrator's node must be in his site."""

from __future__ import annotations

from typing import Any

from tests.portal.access_rows import Case, expect

STAFF_PAGE = expect(302, 403, 200, 200, 200, 200)
#: a Solna alarm: Kista's site administrator must not find it
SOLNA_ALARM_POST = expect(401, 403, 400, 404, 400, 400)


def _solna_fuse(world: Any) -> dict[str, Any]:
    from db.system.alarms import raise_alarm

    change = raise_alarm("Fuse", "SOLNA-1", station_id=world.solna_station, site_id=world.solna)
    return {"alarm": change.alarm_id}


ROWS = {
    ("GET", "/alarms/"): [
        Case("/alarms/", STAFF_PAGE),
        Case("/alarms/?node=station:{kista_station}", expect(302, 403, 200, 200, 404, 200)),
    ],
    ("GET", "/alarms/history"): [Case("/alarms/history", STAFF_PAGE)],
    ("GET", "/alarms/events"): [Case("/alarms/events", STAFF_PAGE)],
    ("GET", "/alarms/<view>/export.<fmt>"): [
        Case("/alarms/active/export.xlsx", STAFF_PAGE),
        Case("/alarms/events/export.csv", STAFF_PAGE),
        Case("/alarms/nothing/export.csv", expect(302, 403, 404, 404, 404, 404)),
    ],
    ("POST", "/alarms/<int:alarm_id>/acknowledge"): [
        Case(
            "/alarms/{alarm}/acknowledge",
            SOLNA_ALARM_POST,
            body={"comment": "x" * 501},
            setup=_solna_fuse,
        ),
    ],
    ("POST", "/alarms/<int:alarm_id>/clear"): [
        Case(
            "/alarms/{alarm}/clear",
            expect(401, 403, 409, 404, 409, 409),
            setup=_solna_fuse,
            note="a fuse clears itself: refused, nothing changes",
        ),
    ],
    ("GET", "/api/v1/alarms"): [
        Case("/api/v1/alarms", expect(401, 403, 200, 200, 200, 200)),
        Case("/api/v1/alarms?node=site:{solna}", expect(401, 403, 200, 404, 200, 200)),
        Case("/api/v1/alarms?state=maybe", expect(401, 403, 400, 400, 400, 400)),
    ],
    ("POST", "/api/v1/alarms/<int:alarm_id>/acknowledge"): [
        Case(
            "/api/v1/alarms/{alarm}/acknowledge",
            expect(401, 403, 400, 404, 400, 400),
            body={"comment": "x" * 501},
            setup=_solna_fuse,
        ),
    ],
    ("POST", "/api/v1/alarms/<int:alarm_id>/clear"): [
        Case(
            "/api/v1/alarms/{alarm}/clear",
            expect(401, 403, 409, 404, 409, 409),
            body={},
            setup=_solna_fuse,
        ),
    ],
    ("GET", "/api/v1/events"): [Case("/api/v1/events", expect(401, 403, 200, 200, 200, 200))],
    ("GET", "/api/v1/news"): [Case("/api/v1/news", expect(401, 200, 200, 200, 200, 200))],
}
