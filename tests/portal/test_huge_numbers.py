"""Numbers too big for the database in URLs and query strings are answered 404 or 400,
never 500 (issue 11 point 13: a session, floor or node id of 2**64 used to crash)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
import trio
from werkzeug.routing import IntegerConverter

from db import Store
from db.accounts.api_tokens import create_token
from tests.portal.conftest import World, login, post

HUGE = (str(2**63), str(2**64), "9" * 40)
#: Query parameters the portal and the API read as whole numbers.
INT_QUERY = (
    "page",
    "limit",
    "offset",
    "siteId",
    "floorId",
    "userId",
    "connectorId",
    "duration",
    "id",
    "outlet",
    "id_min",
    "id_max",
    "outlet_min",
    "outlet_max",
    "energy_min",
    "meter_max",
)
#: Answers that never end (server-sent events).
STREAMS = ("/events/stations",)
_PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _cursor(payload: list[Any]) -> str:
    """A forged page cursor (the API's ``next``) carrying ``payload``."""
    raw = json.dumps(payload).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _get_rules(app: Any, with_int: bool) -> list[str]:
    rules = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        ints = [conv for conv in rule._converters.values() if isinstance(conv, IntegerConverter)]
        if bool(ints) == with_int:
            rules.append(rule.rule)
    return sorted(rules)


def _fill(rule: str, number: str) -> str:
    def one(match: re.Match[str]) -> str:
        return number if match.group(1) == "int" else "SOLNA-1"

    return _PARAM.sub(one, rule)


async def test_every_page_with_a_number_in_its_path_answers_404_for_a_huge_one(
    app: Any, client: Any, world: World
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash shows as the 500 a user sees
    await login(client, "admin@example.com")
    rules = _get_rules(app, with_int=True)
    assert len(rules) > 10  # the sweep really covers the portal
    answers: dict[str, int] = {}
    for rule in rules:
        for number in HUGE:
            url = _fill(rule, number)
            answers[url] = (await client.get(url)).status_code
    wrong = sorted(f"{url} {status}" for url, status in answers.items() if status != 404)
    assert wrong == [], "\n".join(wrong)


async def test_every_page_answers_a_huge_query_number_with_400_or_404(
    app: Any, client: Any, world: World
) -> None:
    number = str(2**64)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    await login(client, "admin@example.com")
    answers: dict[str, int] = {}
    for rule in _get_rules(app, with_int=False):
        if "<" in rule or rule in STREAMS:
            continue
        for name in INT_QUERY:
            url = f"{rule}?{name}={number}"
            with trio.fail_after(10):
                answers[url] = (await client.get(url)).status_code
        for kind in ("site", "floor", "station", "outlet"):
            url = f"{rule}?node={kind}:{number}"
            with trio.fail_after(10):
                answers[url] = (await client.get(url)).status_code
    crashed = sorted(url for url, status in answers.items() if status >= 500)
    assert crashed == [], "\n".join(crashed)


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"/api/v1/sessions/{2**64}", 404),
        (f"/api/v1/floors/{2**64}", 404),
        (f"/api/v1/users/{2**64}", 404),
        (f"/api/v1/users?offset={2**64}", 400),
        (f"/api/v1/users?limit={2**64}", 400),
        (f"/api/v1/stations?siteId={2**64}", 400),
        (f"/dashboard/?node=site:{2**64}", 404),
        (f"/provisioning/?page={2**64}", 404),
        (f"/alarms/history?page={2**64}", 404),
        (f"/api/v1/sessions?outlet={2**64}", 400),
        (f"/api/v1/sessions?after={_cursor(['v', 2**64, 1])}&sort=energy", 400),
        (f"/api/v1/sessions?after={_cursor(['v', 1, 2**64])}&sort=energy", 400),
    ],
)
async def test_the_named_crashes_get_a_clear_answer(
    app: Any, client: Any, world: World, url: str, status: int
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    await login(client, "admin@example.com")
    answer = await client.get(url)
    assert answer.status_code == status


async def test_the_statistics_page_names_a_filter_number_that_is_too_big(
    client: Any, world: World
) -> None:
    await login(client, "admin@example.com")
    page = await client.get(f"/statistics/?id_min={2**64}")
    assert page.status_code == 200  # the page stays usable, the filter is dropped
    html = await page.get_data(as_text=True)
    assert 'data-testid="filter-error">id_min: ' in html


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/configuration/topology/stations", {"charge_box_id": "NEW-1", "parent": f"site:{2**64}"}),
        ("/configuration/topology/floors", {"name": "P2", "site_id": str(2**64)}),
        ("/configuration/topology/stations/{station}/move", {"target": f"floor:{2**64}"}),
    ],
)
async def test_a_form_naming_a_huge_site_or_floor_is_refused_clearly(
    app: Any, client: Any, world: World, path: str, form: dict[str, str]
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    await login(client, "admin@example.com")
    answer = await post(client, path.format(station=world.solna_station), form)
    assert answer.status_code in (400, 404)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/api/v1/stations", {"chargeBoxId": "NEW-9", "siteId": 2**64}, "siteId"),
        ("post", "/api/v1/stations", {"chargeBoxId": "NEW-9", "floorId": -(2**64)}, "floorId"),
        (
            "post",
            "/api/v1/users",
            {"email": "x@example.com", "role": "site-admin", "siteId": 2**64},
            "siteId",
        ),
        ("post", "/api/v1/id-tags", {"idTag": "777", "userId": 2**64}, "userId"),
        ("post", "/api/v1/floors", {"name": "F", "siteId": 2**64}, "siteId"),
        ("post", "/api/v1/tokens", {"name": "t", "role": "site-admin", "siteId": 2**64}, "siteId"),
        (
            "post",
            "/api/v1/stations/SOLNA-1/control/reset",
            {"connectorId": [1, 2**64]},
            "connectorId[1]",
        ),
    ],
)
async def test_a_huge_number_in_a_json_body_is_refused_naming_the_field(
    app: Any, store: Store, world: World, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    _, secret = await store.write(lambda: create_token("rig", "admin", None, None))
    answer = await getattr(app.test_client(), method)(
        path, json=body, headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code == 400
    assert (await answer.get_json())["field"] == field


async def test_a_floor_position_for_a_huge_station_id_is_not_found(
    app: Any, store: Store, world: World
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    _, secret = await store.write(lambda: create_token("rig", "admin", None, None))
    answer = await app.test_client().put(
        f"/api/v1/floors/{world.solna_floor}/positions",
        json={"positions": {str(2**64): [0.5, 0.5]}},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert answer.status_code == 404
