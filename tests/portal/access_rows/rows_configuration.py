"""Configuration pages (SPEC §9): staff configure; a site administrator only his site;
system settings, sites and services are the administrator's; firmware images are the
administrator's and support's; stations download firmware without login."""

from __future__ import annotations

from typing import Any

from db.schema.models import Floor, Service, Station
from db.topology.nodes import create_station
from db.topology.services import ensure_default_services
from filestore.jpeg import demo_floor_plan
from tests.portal.access_rows import Case, expect, same

STAFF_GET = expect(302, 403, 200, 200, 200, 200)
SOLNA_GET = expect(302, 403, 200, 404, 200, 200)
SOLNA_POST_400 = expect(401, 403, 400, 404, 400, 400)
SOLNA_POST_409 = expect(401, 403, 409, 404, 409, 409)
ADMIN_POST = expect(401, 403, 403, 403, 403, 400)
#: building the topology: administrators, and a site administrator in his site
BUILD_400 = expect(401, 403, 403, 404, 400, 400)
BUILD_409 = expect(401, 403, 403, 404, 409, 409)
FIRMWARE_POST = expect(401, 403, 400, 403, 403, 400)


def _fresh_station(world: Any) -> dict[str, Any]:
    count = Station.select().count()
    return {"victim": create_station(f"VICTIM-{count}", site_id=world.solna)}


def _service(world: Any) -> dict[str, Any]:
    ensure_default_services()
    return {"service": Service.select().order_by(Service.id).first().id}


def _plan(world: Any) -> dict[str, Any]:
    Floor.update(plan_image=demo_floor_plan(cols=4, rows=4)).where(
        Floor.id == world.solna_floor
    ).execute()
    return {}


ST = "/configuration/stations/{solna_station}"

ROWS = {
    ("GET", "/configuration/"): [
        Case("/configuration/", STAFF_GET),
        Case("/configuration/?node=station:{solna_station}", SOLNA_GET),
    ],
    ("GET", "/configuration/<tab>"): [
        Case("/configuration/topology", STAFF_GET),
        Case("/configuration/control?node=station:{solna_station}", SOLNA_GET),
        Case("/configuration/positions?node=floor:{solna_floor}", SOLNA_GET),
        Case("/configuration/general?node=outlet:{solna_outlet}", SOLNA_GET),
        Case(
            "/configuration/services",
            expect(302, 403, 200, 403, 403, 200),
            note="a system-only tab: a site administrator has it at no level",
        ),
    ],
    ("POST", "/configuration/system/general"): [
        Case("/configuration/system/general", ADMIN_POST, body={"ocpp16.url": "http://x"})
    ],
    ("GET", "/configuration/system/backups/<int:run_id>/download"): [
        Case(
            "/configuration/system/backups/999/download",
            expect(302, 403, 403, 403, 403, 404),
            note="a backup holds every password hash: administrators only",
        )
    ],
    ("POST", "/configuration/system/backups"): [
        Case(
            "/configuration/system/backups",
            expect(401, 403, 403, 403, 403, 302),
            note="no backup folder in the test app: back to the tab with a message",
        )
    ],
    ("POST", "/configuration/topology/sites"): [
        Case("/configuration/topology/sites", ADMIN_POST, body={"name": ""})
    ],
    ("POST", "/configuration/topology/sites/<int:site_id>/remove"): [
        Case(
            "/configuration/topology/sites/{solna}/remove",
            expect(401, 403, 403, 403, 403, 409),
            note="a site with floors and stations is refused with the reason",
        )
    ],
    ("POST", "/configuration/topology/floors"): [
        Case("/configuration/topology/floors", BUILD_400, body={"site_id": "{solna}"})
    ],
    ("POST", "/configuration/topology/floors/<int:floor_id>/remove"): [
        Case("/configuration/topology/floors/{solna_floor}/remove", BUILD_409)
    ],
    ("POST", "/configuration/topology/stations"): [
        Case(
            "/configuration/topology/stations",
            BUILD_400,
            body={"parent": "site:{solna}", "charge_box_id": "bad id"},
        )
    ],
    ("POST", "/configuration/topology/stations/<int:station_id>/move"): [
        Case(
            "/configuration/topology/stations/{solna_station}/move",
            BUILD_400,
            body={"target": "nowhere"},
        )
    ],
    ("POST", "/configuration/topology/stations/<int:station_id>/remove"): [
        Case(
            "/configuration/topology/stations/{victim}/remove",
            expect(401, 403, 403, 404, 302, 302),
            setup=_fresh_station,
        )
    ],
    ("POST", "/configuration/services/<int:service_id>"): [
        Case(
            "/configuration/services/{service}",
            expect(401, 403, 403, 403, 403, 302),
            body={"enabled": "0"},
            setup=_service,
        )
    ],
    ("POST", "/configuration/files/firmware"): [
        Case("/configuration/files/firmware", FIRMWARE_POST, body={"version": "1"})
    ],
    ("POST", "/configuration/files/firmware/<int:image_id>/delete"): [
        Case("/configuration/files/firmware/999/delete", expect(401, 403, 404, 403, 403, 404))
    ],
    ("POST", "/configuration/sites/<int:site_id>/general"): [
        Case("/configuration/sites/{solna}/general", SOLNA_POST_400, body={"name": ""})
    ],
    ("POST", "/configuration/sites/<int:site_id>/address"): [
        Case("/configuration/sites/{solna}/address", SOLNA_POST_400, body={"latitude": "99"})
    ],
    ("POST", "/configuration/floors/<int:floor_id>/general"): [
        Case("/configuration/floors/{solna_floor}/general", SOLNA_POST_400, body={"name": ""})
    ],
    ("GET", "/configuration/floors/<int:floor_id>/plan.jpg"): [
        Case("/configuration/floors/{solna_floor}/plan.jpg", SOLNA_GET, setup=_plan)
    ],
    ("POST", "/configuration/floors/<int:floor_id>/positions"): [
        Case(
            "/configuration/floors/{solna_floor}/positions",
            SOLNA_POST_400,
            body={"not": "json"},
        )
    ],
    ("POST", "/configuration/outlets/<int:outlet_id>/general"): [
        Case(
            "/configuration/outlets/{solna_outlet}/general",
            SOLNA_POST_400,
            body={"connector_type": "Nope"},
        )
    ],
    ("POST", "/configuration/stations/<int:station_id>/general"): [
        Case(ST + "/general", SOLNA_POST_400, body={"charge_box_id": "bad id"})
    ],
    ("POST", "/configuration/stations/<int:station_id>/password"): [
        Case(ST + "/password", SOLNA_POST_400, body={"password": "short"})
    ],
    ("POST", "/configuration/stations/<int:station_id>/address"): [
        Case(ST + "/address", SOLNA_POST_400, body={"longitude": "500"})
    ],
    ("POST", "/configuration/stations/<int:station_id>/control/<action>"): [
        Case(ST + "/control/reset", SOLNA_POST_409, body={"type": "Soft"}, note="offline"),
        Case(
            ST + "/control/update-firmware",
            expect(401, 403, 404, 404, 403, 404),
            body={"imageId": "1"},
            note="firmware: administrators and support only; no image 1 (said before offline)",
        ),
    ],
    ("POST", "/configuration/stations/<int:station_id>/security-profile"): [
        Case(
            ST + "/security-profile",
            expect(401, 403, 403, 404, 403, 400),
            body={"securityProfile": "9"},
            note="lowering a security profile: administrators only",
        )
    ],
    ("GET", "/configuration/stations/<int:station_id>/certificates"): [
        Case(
            ST + "/certificates",
            expect(302, 403, 200, 404, 403, 200),
            note="certificates are managed by administrators and support (as the actions)",
        )
    ],
    ("GET", "/configuration/stations/<int:station_id>/diagnostics"): [
        Case(ST + "/diagnostics", SOLNA_GET)
    ],
    ("GET", "/configuration/diagnostics/<int:file_id>"): [
        Case("/configuration/diagnostics/999", expect(302, 403, 404, 404, 404, 404))
    ],
    ("POST", "/configuration/stations/<int:station_id>/ocpp"): [
        Case(ST + "/ocpp", SOLNA_POST_409, body={"key": "HeartbeatInterval", "value": "60"})
    ],
    ("POST", "/configuration/stations/<int:station_id>/ocpp/reload"): [
        Case(ST + "/ocpp/reload", SOLNA_POST_409)
    ],
    ("GET", "/files/firmware/<name>"): [Case("/files/firmware/none.bin", same(404, 404))],
}
