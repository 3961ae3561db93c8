"""Schedule pages (SPEC §10): staff; a site administrator only his site's schedules."""

from __future__ import annotations

from typing import Any

from db.system.schedules import save_schedule
from tests.portal.access_rows import Case, expect

STAFF_GET = expect(302, 403, 200, 200, 200, 200)
SOLNA_GET = expect(302, 403, 200, 404, 200, 200)
PERIODS = [{"weekday": 0, "start": "08:00", "end": "12:00", "limit": 3680}]


def _schedule(world: Any) -> dict[str, Any]:
    return {"sched": save_schedule(name="Cap", periods=PERIODS, station_id=world.solna_station)}


ROWS = {
    ("GET", "/schedule/"): [
        Case("/schedule/", STAFF_GET),
        Case("/schedule/?node=station:{solna_station}", SOLNA_GET),
    ],
    ("POST", "/schedule/"): [
        Case("/schedule/", expect(401, 403, 400, 400, 400, 400), body={"name": "x"})
    ],
    ("POST", "/schedule/<int:schedule_id>"): [
        Case("/schedule/{sched}", expect(401, 403, 400, 404, 400, 400), setup=_schedule)
    ],
    ("POST", "/schedule/<int:schedule_id>/delete"): [
        Case("/schedule/{sched}/delete", expect(401, 403, 302, 404, 302, 302), setup=_schedule)
    ],
    ("POST", "/schedule/<int:schedule_id>/push"): [
        Case(
            "/schedule/{sched}/push",
            expect(401, 403, 200, 404, 200, 200),
            setup=_schedule,
            note="offline stations are listed as offline, nothing sent",
        )
    ],
    ("GET", "/schedule/composite"): [
        Case(
            "/schedule/composite?node=station:{solna_station}",
            expect(302, 403, 409, 404, 409, 409),
            note="the station is offline",
        )
    ],
}
