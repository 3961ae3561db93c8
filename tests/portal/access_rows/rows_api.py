"""The JSON API: same role rules; other sites' things are 404; anonymous is 401."""

from __future__ import annotations

from typing import Any

from db.schema.models import Floor, IdTag, Outlet, Site, Station
from tests.portal.access_rows import Case, expect, same

STAFF_READ = expect(401, 403, 200, 200, 200, 200)
SOLNA_READ = expect(401, 403, 200, 404, 200, 200)
ADMIN_WRITE = expect(401, 403, 403, 403, 403, 400)
#: support configures stations; site admins only their own site's
CONFIGURE = expect(401, 403, 400, 404, 400, 400)
#: topology: administrators and the site's administrator
BUILD = expect(401, 403, 403, 404, 400, 400)


def _api_token(world: Any) -> dict[str, Any]:
    from db.accounts.api_tokens import create_token

    return {"api_token": create_token("rig", "support", None, None)[0]}


def _station(world: Any) -> dict[str, Any]:
    n = Station.select().count()
    station = Station.create(charge_box_id=f"TMP-{n}", site=world.solna)
    outlet = Outlet.create(station=station, connector_id=1)
    return {"tmp_cbid": station.charge_box_id, "tmp_uuid": outlet.uuid}


def _floor(world: Any) -> dict[str, Any]:
    n = Floor.select().count()
    return {"tmp_floor": Floor.create(site=world.solna, name=f"Level {n}").id}


def _site(world: Any) -> dict[str, Any]:
    n = Site.select().count()
    return {"tmp_site": Site.create(name=f"Empty {n}").id}


def _tag(world: Any) -> dict[str, Any]:
    n = IdTag.select().count()
    return {"tmp_tag": IdTag.create(id_tag=f"9{n:05d}").id_tag}


def _user(world: Any) -> dict[str, Any]:
    from tests.portal.access_rows.rows_provisioning import _victim

    return _victim(world)


ROWS = {
    ("GET", "/api/v1/openapi.json"): [Case("/api/v1/openapi.json", same(200, 200))],
    ("GET", "/api/v1/me"): [Case("/api/v1/me", same(401, 200))],
    # sites
    ("GET", "/api/v1/sites"): [Case("/api/v1/sites", STAFF_READ)],
    ("POST", "/api/v1/sites"): [Case("/api/v1/sites", ADMIN_WRITE, body={"name": ""})],
    ("GET", "/api/v1/sites/<int:site_id>"): [
        Case("/api/v1/sites/{solna}", SOLNA_READ),
        Case("/api/v1/sites/{kista}", expect(401, 403, 200, 200, 404, 200)),
    ],
    ("PATCH", "/api/v1/sites/<int:site_id>"): [
        Case("/api/v1/sites/{solna}", BUILD, body={"name": ""})
    ],
    ("DELETE", "/api/v1/sites/<int:site_id>"): [
        Case("/api/v1/sites/{tmp_site}", expect(401, 403, 403, 403, 403, 204), setup=_site)
    ],
    # floors
    ("GET", "/api/v1/floors"): [Case("/api/v1/floors", STAFF_READ)],
    ("POST", "/api/v1/floors"): [
        Case("/api/v1/floors", BUILD, body={"siteId": "{solna}", "name": ""})
    ],
    ("GET", "/api/v1/floors/<int:floor_id>"): [Case("/api/v1/floors/{solna_floor}", SOLNA_READ)],
    ("PATCH", "/api/v1/floors/<int:floor_id>"): [
        Case("/api/v1/floors/{solna_floor}", BUILD, body={"name": ""})
    ],
    ("DELETE", "/api/v1/floors/<int:floor_id>"): [
        Case("/api/v1/floors/{tmp_floor}", expect(401, 403, 403, 404, 204, 204), setup=_floor)
    ],
    # stations
    ("GET", "/api/v1/stations"): [Case("/api/v1/stations", STAFF_READ)],
    ("POST", "/api/v1/stations"): [
        Case("/api/v1/stations", BUILD, body={"siteId": "{solna}", "chargeBoxId": "bad id!"})
    ],
    ("GET", "/api/v1/stations/<cbid>"): [
        Case("/api/v1/stations/SOLNA-1", SOLNA_READ),
        Case("/api/v1/stations/NOPE", expect(401, 403, 404, 404, 404, 404)),
    ],
    ("PATCH", "/api/v1/stations/<cbid>"): [
        Case("/api/v1/stations/SOLNA-1", CONFIGURE, body={"chargeBoxId": "bad id!"})
    ],
    ("DELETE", "/api/v1/stations/<cbid>"): [
        Case("/api/v1/stations/{tmp_cbid}", expect(401, 403, 403, 404, 204, 204), setup=_station)
    ],
    ("PUT", "/api/v1/stations/<cbid>/password"): [
        Case("/api/v1/stations/SOLNA-1/password", CONFIGURE, body={"password": "short"})
    ],
    ("POST", "/api/v1/stations/<cbid>/outlets"): [
        Case("/api/v1/stations/SOLNA-1/outlets", BUILD, body={"connectorId": 9})
    ],
    ("GET", "/api/v1/stations/<cbid>/certificate-requests"): [
        Case("/api/v1/stations/SOLNA-1/certificate-requests", SOLNA_READ)
    ],
    ("GET", "/api/v1/stations/<cbid>/security"): [
        Case("/api/v1/stations/SOLNA-1/security", SOLNA_READ)
    ],
    ("PUT", "/api/v1/stations/<cbid>/security"): [
        Case(
            "/api/v1/stations/SOLNA-1/security",
            ADMIN_WRITE,
            body={"securityProfile": 9},
            note="lowering a security profile: administrators only",
        )
    ],
    ("POST", "/api/v1/stations/<cbid>/commands/<action>"): [
        Case(
            "/api/v1/stations/SOLNA-1/commands/reset",
            expect(401, 403, 409, 404, 409, 409),
            body={"type": "Soft"},
            note="the station is offline: 409",
        ),
        Case(
            "/api/v1/stations/SOLNA-1/commands/launch-rocket",
            expect(401, 403, 404, 404, 404, 404),
            body={},
        ),
    ],
    # outlets
    ("GET", "/api/v1/outlets"): [Case("/api/v1/outlets", STAFF_READ)],
    ("GET", "/api/v1/outlets/<uuid>"): [Case("/api/v1/outlets/{solna_outlet_uuid}", SOLNA_READ)],
    ("PATCH", "/api/v1/outlets/<uuid>"): [
        Case("/api/v1/outlets/{solna_outlet_uuid}", CONFIGURE, body={"mode": "BAD"})
    ],
    ("DELETE", "/api/v1/outlets/<uuid>"): [
        Case("/api/v1/outlets/{tmp_uuid}", expect(401, 403, 403, 404, 204, 204), setup=_station)
    ],
    ("POST", "/api/v1/outlets/<uuid>/start"): [
        Case("/api/v1/outlets/{solna_outlet_uuid}/start", CONFIGURE, body={})
    ],
    ("POST", "/api/v1/outlets/<uuid>/stop"): [
        Case(
            "/api/v1/outlets/{solna_outlet_uuid}/stop",
            expect(401, 403, 409, 404, 409, 409),
            body={},
            note="nothing runs there: 409",
        )
    ],
    # API tokens: administrators only
    ("GET", "/api/v1/tokens"): [Case("/api/v1/tokens", expect(401, 403, 403, 403, 403, 200))],
    ("POST", "/api/v1/tokens"): [Case("/api/v1/tokens", ADMIN_WRITE, body={"name": ""})],
    ("DELETE", "/api/v1/tokens/<int:token_id>"): [
        Case("/api/v1/tokens/{api_token}", expect(401, 403, 403, 403, 403, 204), setup=_api_token),
        Case("/api/v1/tokens/999", expect(401, 403, 403, 403, 403, 404)),
    ],
    # users and id tags
    ("GET", "/api/v1/users"): [Case("/api/v1/users", expect(401, 403, 403, 200, 200, 200))],
    ("POST", "/api/v1/users"): [Case("/api/v1/users", ADMIN_WRITE, body={"role": "ev-user"})],
    ("GET", "/api/v1/users/<int:user_id>"): [
        Case("/api/v1/users/{ev_user_id}", expect(401, 403, 403, 404, 200, 200)),
        Case("/api/v1/users/{other_admin_id}", expect(401, 403, 403, 200, 404, 200)),
    ],
    ("PATCH", "/api/v1/users/<int:user_id>"): [
        Case("/api/v1/users/{ev_user_id}", ADMIN_WRITE, body={"email": "bad"})
    ],
    ("DELETE", "/api/v1/users/<int:user_id>"): [
        Case("/api/v1/users/{victim}", expect(401, 403, 403, 403, 403, 204), setup=_user)
    ],
    ("GET", "/api/v1/id-tags"): [Case("/api/v1/id-tags", expect(401, 403, 403, 200, 200, 200))],
    ("POST", "/api/v1/id-tags"): [Case("/api/v1/id-tags", ADMIN_WRITE, body={"idTag": ""})],
    ("GET", "/api/v1/id-tags/<id_tag>"): [
        Case("/api/v1/id-tags/1001", expect(401, 403, 403, 404, 200, 200))
    ],
    ("PATCH", "/api/v1/id-tags/<id_tag>"): [
        Case("/api/v1/id-tags/1001", ADMIN_WRITE, body={"status": "Bogus"})
    ],
    ("PUT", "/api/v1/id-tags/<id_tag>"): [
        Case("/api/v1/id-tags/1001", ADMIN_WRITE, body={"status": "Bogus"})
    ],
    ("DELETE", "/api/v1/id-tags/<id_tag>"): [
        Case("/api/v1/id-tags/{tmp_tag}", expect(401, 403, 403, 403, 403, 204), setup=_tag)
    ],
    # sessions: EV users see their own
    ("GET", "/api/v1/sessions"): [Case("/api/v1/sessions", same(401, 200))],
    ("GET", "/api/v1/sessions/<int:session_id>"): [
        Case("/api/v1/sessions/{ev_session}", expect(401, 200, 200, 404, 200, 200)),
        Case("/api/v1/sessions/{kista_session}", expect(401, 404, 200, 200, 404, 200)),
    ],
}
