"""JSON API of configuration and schedules: same rules as the pages; other sites are 404."""

from __future__ import annotations

from typing import Any

from db.schema.models import Floor, Outlet
from db.system.schedules import save_schedule
from filestore.jpeg import demo_floor_plan
from tests.portal.access_rows import Case, expect

SOLNA_READ = expect(401, 403, 200, 404, 200, 200)
SOLNA_400 = expect(401, 403, 400, 404, 400, 400)
SOLNA_409 = expect(401, 403, 409, 404, 409, 409)
STAFF_READ = expect(401, 403, 200, 200, 200, 200)
OPERATOR_READ = expect(401, 403, 200, 403, 403, 200)
ADMIN_400 = expect(401, 403, 403, 403, 403, 400)
FIRMWARE = expect(401, 403, 400, 403, 403, 400)
PERIODS = [{"weekday": 0, "start": "08:00", "end": "12:00", "limit": 3680}]
V = "/api/v1"


def _uuid(world: Any) -> dict[str, Any]:
    return {"uuid": Outlet.get_by_id(world.solna_outlet).uuid}


def _plan(world: Any) -> dict[str, Any]:
    Floor.update(plan_image=demo_floor_plan(cols=4, rows=4)).where(
        Floor.id == world.solna_floor
    ).execute()
    return {}


def _schedule(world: Any) -> dict[str, Any]:
    return {"sched": save_schedule(name="Cap", periods=PERIODS, station_id=world.solna_station)}


ROWS = {
    ("GET", f"{V}/settings"): [Case(f"{V}/settings", OPERATOR_READ)],
    ("PUT", f"{V}/settings"): [Case(f"{V}/settings", ADMIN_400, body={"ocpp16.url": "http://x"})],
    ("GET", f"{V}/services"): [Case(f"{V}/services", OPERATOR_READ)],
    ("PUT", f"{V}/services/<int:service_id>"): [
        Case(f"{V}/services/1", ADMIN_400, body={"enabled": "yes"})
    ],
    ("GET", f"{V}/firmware"): [Case(f"{V}/firmware", OPERATOR_READ)],
    ("POST", f"{V}/firmware"): [Case(f"{V}/firmware", FIRMWARE, body={})],
    ("DELETE", f"{V}/firmware/<int:image_id>"): [
        Case(f"{V}/firmware/999", expect(401, 403, 404, 403, 403, 404))
    ],
    ("GET", f"{V}/stations/<cbid>/diagnostics"): [
        Case(f"{V}/stations/SOLNA-1/diagnostics", SOLNA_READ)
    ],
    ("GET", f"{V}/diagnostics/<int:file_id>"): [
        Case(f"{V}/diagnostics/999", expect(401, 403, 404, 404, 404, 404))
    ],
    ("GET", f"{V}/floors/<int:floor_id>/plan"): [
        Case(f"{V}/floors/{{solna_floor}}/plan", SOLNA_READ, setup=_plan)
    ],
    ("PUT", f"{V}/floors/<int:floor_id>/plan"): [
        Case(f"{V}/floors/{{solna_floor}}/plan", SOLNA_400, body={}, note="not a JPEG")
    ],
    ("PUT", f"{V}/floors/<int:floor_id>/positions"): [
        Case(f"{V}/floors/{{solna_floor}}/positions", SOLNA_400, body={"positions": "x"})
    ],
    ("GET", f"{V}/outlets/<uuid>/external-ids"): [
        Case(f"{V}/outlets/{{uuid}}/external-ids", SOLNA_READ, setup=_uuid)
    ],
    ("PUT", f"{V}/outlets/<uuid>/external-ids"): [
        Case(f"{V}/outlets/{{uuid}}/external-ids", SOLNA_400, body={"x": "1"}, setup=_uuid)
    ],
    ("POST", f"{V}/stations/<cbid>/control/<action>"): [
        Case(f"{V}/stations/SOLNA-1/control/reset", SOLNA_409, body={"type": "Soft"}),
        Case(
            f"{V}/stations/SOLNA-1/control/update-firmware",
            expect(401, 403, 404, 404, 403, 404),
            body={"imageId": 1},
        ),
    ],
    ("PUT", f"{V}/stations/<cbid>/address"): [
        Case(f"{V}/stations/SOLNA-1/address", SOLNA_400, body={"latitude": "95"})
    ],
    ("GET", f"{V}/stations/<cbid>/configuration"): [
        Case(f"{V}/stations/SOLNA-1/configuration", SOLNA_READ)
    ],
    ("PUT", f"{V}/stations/<cbid>/configuration/<key>"): [
        Case(
            f"{V}/stations/SOLNA-1/configuration/HeartbeatInterval", SOLNA_409, body={"value": "60"}
        )
    ],
    ("POST", f"{V}/stations/<cbid>/configuration/reload"): [
        Case(f"{V}/stations/SOLNA-1/configuration/reload", SOLNA_409)
    ],
    ("GET", f"{V}/stations/<cbid>/local-list"): [
        Case(f"{V}/stations/SOLNA-1/local-list", SOLNA_READ)
    ],
    ("GET", f"{V}/schedules"): [Case(f"{V}/schedules", STAFF_READ)],
    ("POST", f"{V}/schedules"): [
        Case(f"{V}/schedules", SOLNA_400, body={"stationId": "{solna_station}", "name": ""})
    ],
    ("GET", f"{V}/schedules/<int:schedule_id>"): [
        Case(f"{V}/schedules/{{sched}}", SOLNA_READ, setup=_schedule)
    ],
    ("PUT", f"{V}/schedules/<int:schedule_id>"): [
        Case(f"{V}/schedules/{{sched}}", SOLNA_400, body={"name": ""}, setup=_schedule)
    ],
    ("DELETE", f"{V}/schedules/<int:schedule_id>"): [
        Case(f"{V}/schedules/{{sched}}", SOLNA_READ, setup=_schedule)
    ],
    ("POST", f"{V}/schedules/<int:schedule_id>/push"): [
        Case(f"{V}/schedules/{{sched}}/push", SOLNA_READ, setup=_schedule)
    ],
    ("GET", f"{V}/stations/<cbid>/composite-schedule"): [
        Case(f"{V}/stations/SOLNA-1/composite-schedule", SOLNA_409)
    ],
}
